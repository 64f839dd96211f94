"""`scrapy demo` end to end: fixture web on loopback -> three crawls -> a database and a summary."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo_fills_a_database_with_more_copies_than_articles(tmp_path):
    db = tmp_path / "demo.db"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "demo", "--db", str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
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
