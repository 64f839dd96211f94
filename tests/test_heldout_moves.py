"""Held-out moves and edits of official statements: scenarios the store's identity rules were not
written from (a 308, chains of moves, a move to another official host, title-only and one-word
edits, a REST post whose permalink changed while the old URL 404s, a move and edits in one run,
a statement moved back to its first URL).

What a user relies on after any of them: the URL the statement lives at now is the article's
`canonical_url`, its title and text are the article's (the newest official version), and each
URL it left stays a copy of the same article, marked gone and moved. Pages go through a real
`Store` on a SQLite file, gone pages through the one junction (`crawlers.junction.process`), with
`RawPage.meta` as the spiders fill it (`redirect_status`: the list of redirect codes of the
fetch; `guid`: the post id the feed or REST API gave). Texts are written for these tests.
"""

from __future__ import annotations

from datetime import date

import pytest

from cleaners.model import RawPage
from crawlers.junction import process
from store import Store
from store.testing import all_rows, one, page

DAY = date(2025, 4, 3)
FIRST = "https://www.state.gov/statement-on-the-orvane-river-accord/"
SECOND = "https://www.state.gov/orvane-river-accord-signed/"
THIRD = "https://www.state.gov/releases/2025/04/orvane-river-accord/"
TITLE = "Statement on the Orvane River Accord"
ACCORD = (
    "The United States welcomes the signing today of the Orvane River Accord by the governments of "
    "Tessaly and Brunmark, which ends a dispute over water rights that has lasted more than a decade.\n\n"
    "Under the accord the two countries will share the river's flow according to a seasonal schedule, "
    "set up a joint commission to monitor water levels and pollution, and settle future disagreements "
    "through binding arbitration rather than at the border.\n\n"
    "We thank the mediators from the regional development bank for their patient and even-handed work, "
    "and we congratulate the negotiators of both countries on their courage and flexibility.\n\n"
    "The United States stands ready to support the joint commission with technical advice on flood "
    "forecasting and water quality."
)
GUID = "https://www.state.gov/?p=771204"


@pytest.fixture
def db(tmp_path):
    s = Store(tmp_path / "dispatches.db")
    yield s
    s.close()


def at(day: int) -> str:
    return f"2025-04-{day:02d}T09:00:00Z"


def edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def copy(db: Store, url: str) -> dict:
    return one(db, "SELECT * FROM copies WHERE url = ?", (url,))


def assert_lives_at(db: Store, article_id: int, url: str, title: str, text: str) -> None:
    """The article is represented by `url`, and shows `title` and `text`."""
    art = one(db, "SELECT canonical_url, title, text FROM articles WHERE id = ?", (article_id,))
    assert art == {"canonical_url": url, "title": title, "text": text}
    assert copy(db, url)["article_id"] == article_id and copy(db, url)["gone"] == 0


def assert_left(db: Store, article_id: int, url: str, to: str | set[str]) -> None:
    """`url` stays a copy of the article, marked gone and moved (to one of `to`)."""
    old = copy(db, url)
    assert old["article_id"] == article_id
    assert old["gone"] == 1
    assert old["moved_to"] in ({to} if isinstance(to, str) else to)


def articles(db: Store) -> int:
    return int(one(db, "SELECT count(*) AS n FROM articles")["n"])


def gone(url: str, status: int = 404) -> RawPage:
    return RawPage(
        url=url,
        final_url=url,
        status=status,
        headers={},
        body=b"",
        fetched_at=at(20),
        spider="state_gov",
        meta={},
    )


# ---------------------------------------------------------------- moves


def test_a_308_is_a_move_like_a_301(db):
    a = db.save(*page(FIRST, ACCORD, TITLE, DAY, fetched_at=at(3)))
    moved = edit(ACCORD, "patient and even-handed", "patient, even-handed")
    db.save(
        *page(
            FIRST,
            moved,
            "Orvane River Accord Signed",
            DAY,
            final_url=SECOND,
            fetched_at=at(10),
            meta={"redirect_status": [308]},
        )
    )
    assert_lives_at(db, a.article_id, SECOND, "Orvane River Accord Signed", moved)
    assert_left(db, a.article_id, FIRST, SECOND)
    assert articles(db) == 1


def test_two_moves_one_after_the_other_end_at_the_last_url(db):
    a = db.save(*page(FIRST, ACCORD, TITLE, DAY, fetched_at=at(3)))
    db.save(
        *page(FIRST, ACCORD, TITLE, DAY, final_url=SECOND, fetched_at=at(8), meta={"redirect_status": [301]})
    )
    later = edit(ACCORD, "technical advice", "technical advice and training")
    db.save(
        *page(
            SECOND,
            later,
            "Orvane River Accord",
            DAY,
            final_url=THIRD,
            fetched_at=at(15),
            meta={"redirect_status": [301]},
        )
    )
    assert_lives_at(db, a.article_id, THIRD, "Orvane River Accord", later)
    assert_left(db, a.article_id, FIRST, {SECOND, THIRD})
    assert_left(db, a.article_id, SECOND, THIRD)
    assert articles(db) == 1


def test_a_chain_of_two_redirects_in_one_fetch_moves_to_its_end(db):
    a = db.save(*page(FIRST, ACCORD, TITLE, DAY, fetched_at=at(3)))
    later = edit(ACCORD, "binding arbitration", "binding international arbitration")
    db.save(
        *page(
            FIRST,
            later,
            "Orvane River Accord",
            DAY,
            final_url=THIRD,
            fetched_at=at(15),
            meta={"redirect_status": [301, 308]},
        )
    )
    assert_lives_at(db, a.article_id, THIRD, "Orvane River Accord", later)
    assert_left(db, a.article_id, FIRST, THIRD)
    assert articles(db) == 1


@pytest.mark.parametrize(
    "new_url",
    [
        "https://2021-2025.state.gov/statement-on-the-orvane-river-accord/",
        "https://tessaly.usembassy.gov/statement-on-the-orvane-river-accord/",
    ],
    ids=["to-the-archive-host", "to-an-embassy"],
)
def test_a_move_to_another_official_host_follows_the_statement(db, new_url):
    a = db.save(*page(FIRST, ACCORD, TITLE, DAY, fetched_at=at(3)))
    db.save(
        *page(
            FIRST, ACCORD, TITLE, DAY, final_url=new_url, fetched_at=at(12), meta={"redirect_status": [301]}
        )
    )
    assert_lives_at(db, a.article_id, new_url, TITLE, ACCORD)
    assert_left(db, a.article_id, FIRST, new_url)
    assert articles(db) == 1


def test_a_statement_moved_back_to_its_first_url_lives_there_again(db):
    a = db.save(*page(FIRST, ACCORD, TITLE, DAY, fetched_at=at(3)))
    db.save(
        *page(FIRST, ACCORD, "Orvane River Accord Signed", DAY, final_url=SECOND, fetched_at=at(8),
              meta={"redirect_status": [301]})
    )  # fmt: skip
    back = edit(ACCORD, "more than a decade", "more than ten years")
    db.save(
        *page(SECOND, back, TITLE, DAY, final_url=FIRST, fetched_at=at(16), meta={"redirect_status": [301]})
    )
    assert_lives_at(db, a.article_id, FIRST, TITLE, back)
    assert_left(db, a.article_id, SECOND, FIRST)
    assert copy(db, FIRST)["moved_to"] is None
    assert articles(db) == 1


# ---------------------------------------------------------------- edits


def test_a_title_only_edit_is_the_articles_title(db):
    a = db.save(*page(FIRST, ACCORD, TITLE, DAY, fetched_at=at(3)))
    db.save(*page(FIRST, ACCORD, "Signing of the Orvane River Accord", DAY, fetched_at=at(6)))
    assert_lives_at(db, a.article_id, FIRST, "Signing of the Orvane River Accord", ACCORD)
    assert articles(db) == 1


def test_an_edit_of_one_word_is_the_newest_version(db):
    a = db.save(*page(FIRST, ACCORD, TITLE, DAY, fetched_at=at(3)))
    fixed = edit(ACCORD, "monitor water levels", "measure water levels")
    r = db.save(*page(FIRST, fixed, TITLE, DAY, fetched_at=at(6)))
    assert r.article_id == a.article_id
    assert_lives_at(db, a.article_id, FIRST, TITLE, fixed)
    texts = [
        v["text"]
        for v in all_rows(db, "SELECT text FROM versions WHERE article_id = ? ORDER BY id", (a.article_id,))
    ]
    assert texts == [ACCORD, fixed]


@pytest.mark.parametrize("gone_first", [True, False], ids=["old-url-404s-first", "new-permalink-first"])
def test_a_rest_post_with_a_new_permalink_moves_while_its_old_url_404s(db, gone_first):
    crawl = db.start_crawl("state_gov")
    a = db.save(*page(FIRST, ACCORD, TITLE, DAY, fetched_at=at(3), meta={"guid": GUID}), crawl_id=crawl)
    later = edit(ACCORD, "welcomes the signing today", "welcomes the signing")
    steps = [
        lambda: process(gone(FIRST), db, None, crawl_id=crawl),
        lambda: db.save(
            *page(THIRD, later, "Orvane River Accord", DAY, fetched_at=at(21), meta={"guid": GUID}),
            crawl_id=crawl,
        ),
    ]
    for step in steps if gone_first else reversed(steps):
        step()
    assert_lives_at(db, a.article_id, THIRD, "Orvane River Accord", later)
    assert_left(db, a.article_id, FIRST, THIRD)
    assert articles(db) == 1


def test_a_page_edited_and_moved_in_one_run_shows_its_last_state(db):
    a = db.save(*page(FIRST, ACCORD, TITLE, DAY, fetched_at=at(3)))
    crawl = db.start_crawl("state_gov")
    one_word = edit(ACCORD, "seasonal schedule", "monthly schedule")
    db.save(*page(FIRST, one_word, TITLE, DAY, fetched_at=at(9)), crawl_id=crawl)
    last = edit(one_word, "courage and flexibility", "courage")
    db.save(
        *page(FIRST, last, "Orvane River Accord Signed", DAY, final_url=SECOND, fetched_at=at(10),
              meta={"redirect_status": [301]}),
        crawl_id=crawl,
    )  # fmt: skip
    db.save(*page(SECOND, last, "Orvane River Accord Signed", DAY, fetched_at=at(11)), crawl_id=crawl)
    assert_lives_at(db, a.article_id, SECOND, "Orvane River Accord Signed", last)
    assert_left(db, a.article_id, FIRST, SECOND)
    texts = [
        v["text"]
        for v in all_rows(db, "SELECT text FROM versions WHERE article_id = ? ORDER BY id", (a.article_id,))
    ]
    assert texts == [ACCORD, one_word, last]
    assert articles(db) == 1


def _three_permalinks(db: Store) -> tuple[int, str]:
    """A REST post seen at FIRST, then SECOND, then THIRD (same guid), edited at the last."""
    crawl = db.start_crawl("state_gov")
    a = db.save(*page(FIRST, ACCORD, TITLE, DAY, fetched_at=at(3), meta={"guid": GUID}), crawl_id=crawl)
    db.save(*page(SECOND, ACCORD, TITLE, DAY, fetched_at=at(5), meta={"guid": GUID}), crawl_id=crawl)
    third = edit(ACCORD, "flood forecasting", "flood and drought forecasting")
    db.save(*page(THIRD, third, TITLE, DAY, fetched_at=at(7), meta={"guid": GUID}), crawl_id=crawl)
    return a.article_id, third


def test_a_rest_post_whose_permalink_changes_twice_follows_each_change(db):
    article_id, third = _three_permalinks(db)
    assert_lives_at(db, article_id, THIRD, TITLE, third)
    assert_left(db, article_id, FIRST, {SECOND, THIRD})
    assert_left(db, article_id, SECOND, THIRD)
    assert articles(db) == 1


def test_a_rest_post_whose_permalink_returns_to_its_first_url_leaves_the_last_one(db):
    article_id, third = _three_permalinks(db)
    db.save(*page(FIRST, third, TITLE, DAY, fetched_at=at(9), meta={"guid": GUID}))
    assert_lives_at(db, article_id, FIRST, TITLE, third)
    assert_left(db, article_id, THIRD, FIRST)
    assert articles(db) == 1


def test_an_older_capture_read_after_the_edit_does_not_replace_the_newest_text(db):
    # e.g. a saved file of the page from before the edit, ingested after the live page was crawled
    a = db.save(*page(FIRST, ACCORD, TITLE, DAY, fetched_at=at(3)))
    fixed = edit(ACCORD, "even-handed work", "even-handed work over two years")
    db.save(*page(FIRST, fixed, "Orvane River Accord", DAY, fetched_at=at(9)))
    db.save(*page(FIRST, ACCORD, TITLE, DAY, fetched_at=at(5)))
    assert_lives_at(db, a.article_id, FIRST, "Orvane River Accord", fixed)
    assert articles(db) == 1


def test_an_older_capture_of_words_never_seen_joins_the_history_behind_the_newest(db):
    # the live page (day 9) is crawled first; a saved file from before an edit (day 2) and one
    # from between (day 5), read later, are its history, dated when they were fetched
    newest = edit(ACCORD, "even-handed work", "even-handed work over two years")
    between = edit(ACCORD, "even-handed work", "even-handed work this year")
    a = db.save(*page(FIRST, newest, "Orvane River Accord", DAY, fetched_at=at(9)))
    assert db.save(*page(FIRST, ACCORD, TITLE, DAY, fetched_at=at(2))).outcome == "version"
    assert db.save(*page(FIRST, between, TITLE, DAY, fetched_at=at(5))).outcome == "version"
    assert_lives_at(db, a.article_id, FIRST, "Orvane River Accord", newest)
    query = "SELECT text FROM versions WHERE article_id = ? ORDER BY seen_at"
    seen = [r["text"] for r in all_rows(db, query, (a.article_id,))]
    assert seen == [ACCORD, between, newest]


def test_a_rest_post_back_at_its_first_url_unedited_leaves_the_second_moved(db):
    crawl = db.start_crawl("state_gov")
    a = db.save(*page(FIRST, ACCORD, TITLE, DAY, fetched_at=at(3), meta={"guid": GUID}), crawl_id=crawl)
    db.save(*page(SECOND, ACCORD, TITLE, DAY, fetched_at=at(5), meta={"guid": GUID}), crawl_id=crawl)
    assert_left(db, a.article_id, FIRST, SECOND)
    db.save(*page(FIRST, ACCORD, TITLE, DAY, fetched_at=at(7), meta={"guid": GUID}), crawl_id=crawl)
    assert_lives_at(db, a.article_id, FIRST, TITLE, ACCORD)
    assert_left(db, a.article_id, SECOND, FIRST)
    assert articles(db) == 1
