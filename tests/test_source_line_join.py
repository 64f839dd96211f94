"""A copy that names its original only by a source line ("Press release, <date>, Embassy of the
United States, <city>") joins the embassy's own page of the same title and date, whichever
arrives first, and only that page: real SQLite files, the store's own save path."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import date

import pytest

from store import Store
from store.testing import page

TITLE = "Embassy Hosts a Roundtable on Shelters for Survivors"
SOURCE = "Press release, Mar. 3, 2015, Embassy of the United States, Mexico City"
COPY_TEXT = (
    "Aggregated: the embassy gathered the directors of eleven shelters this week to compare how "
    "they house and counsel survivors, and what the next budget year will bring them.\n\n"
    "The directors asked for longer grants and for training of the staff who answer hotlines."
)
OFFICIAL_TEXT = (
    "The Embassy welcomed the directors of shelters from across the country to a roundtable on the "
    "care of survivors of human trafficking.\n\n"
    "Participants described the counselling, legal aid and job training they offer, and the "
    "Embassy announced support for a shared directory of services."
)
OLD_PAGE = "http://mexico.usembassy.gov/press-releases/ep150303-shelters.html"
CAPTURE = f"https://web.archive.org/web/20150305000000id_/{OLD_PAGE}"


def _copy(
    source: str = SOURCE,
    when: date = date(2015, 3, 3),
    title: str = TITLE,
    publisher: str = "U.S. Embassy Mexico City",
):
    """A saved capture as the cleaners read it: the source line, its date and publisher."""
    doc, raw = page(None, COPY_TEXT, title, when, source_path="/saved/roundtable.txt")
    return dataclasses.replace(doc, source_line=source, publisher=publisher), raw


def _official(when: date = date(2015, 3, 4), title: str = TITLE.upper() + ".", url: str = OLD_PAGE):
    meta = {"archived_url": CAPTURE, "memento_at": "2015-03-05T00:00:00Z"} if "mexico." in url else {}
    return page(url, OFFICIAL_TEXT, title, when, publisher="Embassy of the United States Mexico", meta=meta)


def _rows(db):
    con = sqlite3.connect(db)
    try:
        return con.execute(
            "select c.role, c.article_id, c.match_method, a.title, r.role from copies c "
            "join articles a on a.id = c.article_id join copies r on r.id = a.rep_copy_id order by c.id"
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("copy_first", [True, False], ids=["copy-first", "embassy-first"])
def test_a_source_line_joins_the_embassy_page_of_that_title_and_date(tmp_path, copy_first):
    db = tmp_path / "d.db"
    s = Store(db)
    first, second = (_copy(), _official()) if copy_first else (_official(), _copy())
    a = s.save(*first)
    b = s.save(*second)
    s.close()
    assert a.article_id == b.article_id and b.match_method == "attribution"
    rows = _rows(db)
    assert {r[0] for r in rows} == {"file", "archived"}
    # The embassy's page (recovered from the archive here) represents the statement.
    assert {r[4] for r in rows} == {"archived"} and rows[0][3] == TITLE.upper() + "."


@pytest.mark.parametrize(
    "copy",
    [
        _copy(
            source="Press release, Mar. 3, 2015, Embassy of the United States, Nairobi",
            publisher="U.S. Embassy Nairobi",
        ),
        _copy(when=date(2015, 3, 8)),  # five days apart
        _copy(title="Embassy Hosts a Roundtable on Labor Inspections"),  # another statement
        _copy(
            source="Press release, Mar. 3, 2015, U.S. Department of State",
            publisher="U.S. Department of State",
        ),
    ],
    ids=["other-city", "date-too-far", "other-title", "not-an-embassy"],
)
def test_only_that_embassy_and_statement_are_joined(tmp_path, copy):
    db = tmp_path / "d.db"
    s = Store(db)
    a = s.save(*copy)
    b = s.save(*_official())
    s.close()
    assert a.article_id != b.article_id and b.match_method == "new"


def test_a_live_embassy_page_joins_too_and_a_later_copy_finds_it(tmp_path):
    db = tmp_path / "d.db"
    s = Store(db)
    live = s.save(*_official(url="https://mx.usembassy.gov/embassy-hosts-a-roundtable-on-shelters/"))
    copy = s.save(*_copy())
    s.close()
    assert (copy.article_id, copy.match_method) == (live.article_id, "attribution")
