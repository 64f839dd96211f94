"""`scrapy demo` end to end: fixture web on loopback -> three crawls -> a database and a summary."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.fixture
def demo(demo_build):
    """The demo database and the finished `scrapy demo` run (built once per session)."""
    return demo_build.path, demo_build


def test_demo_fills_a_database_with_more_copies_than_articles(demo):
    db, proc = demo
    assert proc.returncode == 0, proc.stderr[-3000:]
    con = sqlite3.connect(db)
    articles = con.execute("select count(*) from articles").fetchone()[0]
    copies = con.execute("select count(*) from copies").fetchone()[0]
    roles = dict(con.execute("select role, count(*) from copies group by role").fetchall())
    crawls = con.execute("select spider, status from crawls order by id").fetchall()
    gone = con.execute("select count(*) from copies where gone_at is not null and text_sha256 is not null")
    gone_copies = gone.fetchone()[0]
    con.close()
    assert articles > 20 and copies > articles
    assert {"original", "archive", "embassy", "syndicated"} <= set(roles)
    # The three crawls of the fixture web, then (issue: older statements) the seeds when they are
    # next to the checkout, the originals their copies name, and the mock archive's 2014 pages.
    assert crawls[:3] == [("state_gov", "ok"), ("usembassy", "ok"), ("syndication", "ok")]
    assert [c for c in crawls[3:] if c[0] != "ingest"] == [("originals", "ok"), ("wayback", "ok")]
    assert roles.get("archived", 0) >= 1 and gone_copies == 1  # the statement the demo removes
    assert "archived originals (Wayback):     " in proc.stderr and "gone copies:" in proc.stderr
    assert "originals fetched (claims):" in proc.stderr
    err = proc.stderr
    assert f"articles:                         {articles}" in err
    assert "copies merged into an article:" in err and "cruft removed" in err
    assert "datasette " in err and "--metadata" in err and str(db) in err
    assert proc.stdout == ""  # people's output goes to stderr


def test_the_users_captures_end_with_their_official_originals(demo):
    """The saved capture that names its original by URL ends with the www.state.gov page; the
    one that names only an embassy, a date and a title (a source line) ends with that
    embassy's page recovered from the (mock) Internet Archive."""
    if not SEEDS.is_dir():
        pytest.skip(f"the user's captures are not next to the checkout ({SEEDS})")
    db, proc = demo
    assert proc.returncode == 0, proc.stderr[-3000:]
    con = sqlite3.connect(db)
    ends = con.execute(
        "select c.source_path, c.claimed_original_url is not null, r.role, r.site, a.copies_count "
        "from copies c join articles a on a.id = c.article_id join copies r on r.id = a.rep_copy_id "
        "where c.spider = 'ingest' order by c.source_path"
    ).fetchall()
    con.close()
    by_url = [e for e in ends if e[1]]
    by_source_line = [e for e in ends if not e[1]]
    assert [e[2:4] for e in by_url] == [("original", "www.state.gov")]
    assert [e[2:4] for e in by_source_line] == [("archived", "mexico.usembassy.gov")]
    assert all(e[4] >= 2 for e in ends)
    ingested = len(ends)
    assert f"captures with an official copy:   {ingested} of {ingested}" in proc.stderr
    assert "archived copy on mexico.usembassy.gov (by its source line)" in proc.stderr


def test_demo_outside_a_checkout_says_so(tmp_path):
    (tmp_path / "scrapy.cfg").write_text("[settings]\ndefault = crawlers.settings\n")
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "demo", "--db", str(tmp_path / "d.db")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "fixture web is missing" in proc.stderr.strip().splitlines()[-1]
