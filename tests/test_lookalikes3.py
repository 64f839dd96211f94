"""Identity on the third held-out set (`tests.fixtures.lookalikes3`, `lookalikes3_true`): look-alike
families of formulaic official posts and statements with their true copies, saved through a
real `Store` into a SQLite file. The whole set is held out: the store's rules were not written
from it, and a failure here is recorded (xfail, strict) for the lead to decide on, not fixed
from these pages."""

from __future__ import annotations

import difflib
from itertools import combinations

import pytest

from store import Store
from tests.fixtures.lookalikes3 import FAMILIES
from tests.fixtures.lookalikes3_measure import Outcome, evaluate
from tests.fixtures.lookalikes3_true import TRUE_COPIES, VARIANT_KINDS
from tests.fixtures.lookalikes_scenario import Score, evaluate_unofficial

# Statements whose second official host prints the corrected text before any aggregator does.
SPELLING_FIX_SPLIT = (
    "a copy whose text differs from the stored official text only by a corrected misspelling is "
    "kept apart when it is on a second official host (and later copies of the corrected text "
    "follow it there), unless an aggregator copy of the corrected text was attached first. "
    "This follows the identity rule for official copies (two official hosts merge on identical "
    "text, an attribution or a republished-from signal, never on near-similarity alone, so that "
    "formulaic posts of two embassies stay apart); kept as a known cost of that rule"
)
SPLIT_BY_OFFICIAL_FIX = {"h3-true-ceasefire", "h3-true-fellowship-call", "h3-true-passport-scam"}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory) -> Outcome:
    path = tmp_path_factory.mktemp("lookalikes3") / "dispatches.db"
    db = Store(path)
    try:
        out = evaluate(db)
    finally:
        db.close()
    assert path.stat().st_size > 0
    return out


def test_the_set_is_held_out_and_large_enough():
    assert len(FAMILIES) >= 12 and len(TRUE_COPIES) >= 6
    names = [f.name for f in FAMILIES] + [t.name for t in TRUE_COPIES]
    assert len(set(names)) == len(names)
    assert {f.part for f in FAMILIES} | {t.part for t in TRUE_COPIES} == {"test"}
    assert {f.language for f in FAMILIES} >= {"en", "es", "fr"}
    assert all(3 <= len(f.members) <= 6 for f in FAMILIES)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_members_are_look_alikes_differing_in_few_words(family):
    for a, b in combinations(family.members, 2):
        assert a.text != b.text and a.url != b.url
        ratio = difflib.SequenceMatcher(None, a.text.split(), b.text.split(), autojunk=False).ratio()
        assert ratio >= 0.8, (a.slug, b.slug, ratio)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_look_alikes_stay_apart_and_each_gathers_its_copies_edit_and_moves(outcome, family):
    assert outcome.failures.get(family.name, []) == []


def test_no_look_alike_pair_merged_and_every_family_copy_attached(outcome):
    assert outcome.pairs >= 40 and outcome.pairs_merged == 0
    assert outcome.copies_wrong == 0 and outcome.copies_attached == outcome.copies
    assert outcome.edits_ok == outcome.edits == len(FAMILIES)
    assert outcome.moves_ok == outcome.moves == 2 * len(FAMILIES)


@pytest.mark.parametrize("statement", TRUE_COPIES, ids=lambda t: t.name)
def test_a_true_copy_statement_stays_apart_from_its_official_look_alike(outcome, statement):
    assert not any("look-alike" in what for what in outcome.failures.get(statement.name, []))


def _cases():
    for t in TRUE_COPIES:
        for kind in VARIANT_KINDS:
            marks = []
            if t.name in SPLIT_BY_OFFICIAL_FIX and kind in ("typo_fixed", "typo_fixed_wire"):
                marks = [pytest.mark.xfail(strict=True, reason=SPELLING_FIX_SPLIT)]
            yield pytest.param(t.name, kind, id=f"{t.name}-{kind}", marks=marks)


@pytest.mark.parametrize(("name", "kind"), _cases())
def test_every_true_copy_joins_its_statement(outcome, name, kind):
    assert (name, kind) not in outcome.true_missed
    assert outcome.true_copies[kind] == len(TRUE_COPIES)


def test_merging_is_precise_over_the_whole_set(outcome):
    # recall falls short only by the spelling-fix split above; precision must be exact
    assert outcome.precision == 1.0
    assert outcome.recall > 0.9


@pytest.fixture(scope="module")
def aggregator_only(tmp_path_factory) -> Score:
    db = Store(tmp_path_factory.mktemp("lookalikes3") / "aggregators.db")
    try:
        return evaluate_unofficial(db, FAMILIES)["test"]
    finally:
        db.close()


def test_look_alikes_known_only_from_aggregators_stay_apart_and_gather_their_excerpts(aggregator_only):
    s = aggregator_only
    assert s.pairs >= 40 and s.pairs_merged == 0
    assert s.copies_wrong == 0 and s.copies_attached == s.copies
