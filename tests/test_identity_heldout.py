"""Identity on held-out look-alike families (`tests.fixtures.lookalikes`): formulaic statements
of kinds the identity rules were not written from, saved with their true copies, edits and
moves through a real `Store` into a SQLite file. The dev half is where rules may be developed;
the test half is only measured, here and in `bench/dedup.py`."""

from __future__ import annotations

import difflib
from itertools import combinations

import pytest

from store import Store
from tests.fixtures.lookalikes import FAMILIES, PARTS, part_of
from tests.fixtures.lookalikes_scenario import Score, evaluate, evaluate_unofficial


@pytest.fixture(scope="module")
def scores(tmp_path_factory) -> dict[str, Score]:
    path = tmp_path_factory.mktemp("lookalikes") / "dispatches.db"
    db = Store(path)
    try:
        out = evaluate(db)
    finally:
        db.close()
    assert path.stat().st_size > 0
    return out


def test_the_set_has_a_dozen_families_of_three_to_six_statements_split_by_name():
    assert len(FAMILIES) >= 12 and len({f.name for f in FAMILIES}) == len(FAMILIES)
    assert all(3 <= len(f.members) <= 6 for f in FAMILIES)
    assert {f.part for f in FAMILIES} == set(PARTS)
    # the split is a fixed hash of the name, not a choice
    assert part_of("solar-training-grants") == "dev" and part_of("holiday-closure-notices") == "test"


@pytest.mark.parametrize("kind", ["dateline-", "signed-", "partner-list-"])
def test_datelines_signatures_and_growing_lists_are_in_both_parts(kind):
    # members that differ only in a dateline city, a signature, or one more name in a list
    assert {f.part for f in FAMILIES if f.name.startswith(kind)} == set(PARTS)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_members_are_look_alikes_differing_in_few_words(family):
    for a, b in combinations(family.members, 2):
        assert a.text != b.text and a.url != b.url
        ratio = difflib.SequenceMatcher(None, a.text.split(), b.text.split(), autojunk=False).ratio()
        assert ratio >= 0.8, (a.slug, b.slug, ratio)


@pytest.mark.parametrize("part", PARTS)
def test_no_two_look_alikes_share_an_article(scores, part):
    s = scores[part]
    assert s.pairs >= 20
    assert s.pairs_merged == 0, s.notes


@pytest.mark.parametrize("part", PARTS)
def test_every_true_copy_joins_its_own_statement(scores, part):
    s = scores[part]
    assert s.copies_wrong == 0, s.notes
    assert s.copies_attached == s.copies, s.notes


@pytest.mark.parametrize("part", PARTS)
def test_an_edit_is_the_newest_version_and_the_articles_text(scores, part):
    s = scores[part]
    assert s.edits == s.families and s.edits_ok == s.edits, s.notes


@pytest.mark.parametrize("part", PARTS)
def test_a_moved_statement_follows_its_new_url(scores, part):
    s = scores[part]
    assert s.moves == 2 * s.families and s.moves_ok == s.moves, s.notes


def test_only_the_dev_part_says_what_went_wrong(scores):
    assert scores["test"].notes == []


@pytest.fixture(scope="module")
def aggregator_only(tmp_path_factory) -> dict[str, Score]:
    db = Store(tmp_path_factory.mktemp("lookalikes") / "aggregators.db")
    try:
        return evaluate_unofficial(db)
    finally:
        db.close()


@pytest.mark.parametrize("part", PARTS)
def test_look_alikes_known_only_from_aggregators_stay_apart_and_gather_their_excerpts(aggregator_only, part):
    s = aggregator_only[part]
    assert s.pairs >= 20 and s.pairs_merged == 0, s.notes
    assert s.copies_wrong == 0 and s.copies_attached == s.copies, s.notes
