"""Bad bodies through the real pipeline into a real SQLite file, then Datasette
(cases 23-25, 27, 36-43, 83, 85, 86, 91 of tests/faults/CASES.md).

One crawl of the fault server with the project's item pipeline, as crawlers/settings.py
configures it; each test reads the database it left behind.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import unicodedata

import pytest

from tests.faults.faultkit import ROOT, run_crawl

REJECTED = {
    "bin-pdf": "/binary/pdf",
    "bin-png": "/binary/png",
    "bin-zip": "/binary/zip",
    "bin-elf": "/binary/elf",
    "empty": "/empty",
    "blank": "/whitespace",
    "soft404": "/soft404",
    "scriptonly": "/script-only",
}
SOFT_BLOCKED = {"softblock": "/technical-difficulties"}
STORED = {
    "ct-octet": "/ctype/octet",
    "ct-plain": "/ctype/plain",
    "ct-none": "/ctype/none",
    "enc-cp1252": "/enc/cp1252-in-utf8",
    "enc-latin1hdr": "/enc/header-latin1-body-utf8",
    "enc-utf16": "/enc/utf16-bom",
    "enc-unknown": "/enc/unknown-charset",
    "enc-nul": "/enc/nul-controls",
    "xss": "/xss",
    "sqli": "/sqli",
    "loginj": "/log-injection",
    "control": "/page/pipeline-control",
    "meta": "/hostile-meta",
}
HEAVY = {"deep": "/deep", "hugeline": "/huge-line?kb=700", "many": "/many-elements?n=400000"}


@pytest.fixture(scope="module")
def stored(fault_server, tmp_path_factory):
    s = fault_server
    tmp = tmp_path_factory.mktemp("pipeline")
    db = tmp / "faults.db"
    urls = [s.url(h, p) for h, p in {**REJECTED, **SOFT_BLOCKED, **STORED, **HEAVY}.items()]
    res = run_crawl(
        urls,
        tmp,
        settings={
            "DISPATCHES_ALLOW_HOSTS": f"*.fault.test:{s.port}",
            "DISPATCHES_DB": str(db),
            "DISPATCHES_CLEAN_TIMEOUT": "8",
            "DOWNLOAD_MAXSIZE": str(8 << 20),
            "DOWNLOAD_WARNSIZE": str(4 << 20),
        },
        timeout=120,
    )
    assert res.returncode == 0, res.log[-3000:]
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    yield res, con, db
    con.close()


def _copies(con, host):
    return con.execute(
        "SELECT c.*, a.title AS a_title, a.text AS a_text "
        "FROM copies c JOIN articles a ON a.id = c.article_id "
        "WHERE c.url LIKE ?",
        (f"%//{host}.fault.test:%",),
    ).fetchall()


def _events(con, host):
    return con.execute("SELECT * FROM events WHERE url LIKE ?", (f"%//{host}.fault.test:%",)).fetchall()


def test_crawl_recorded_and_database_intact(stored):
    res, con, _ = stored
    assert res.reason == "finished"
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    crawl = con.execute("SELECT * FROM crawls ORDER BY id DESC").fetchone()
    assert crawl["status"] in ("ok", "degraded") and crawl["finished_at"]
    assert len(_copies(con, "control")) == 1


@pytest.mark.parametrize(
    "host,reason",
    [
        ("bin-pdf", "binary_payload"),
        ("bin-png", "binary_payload"),
        ("bin-zip", "binary_payload"),
        ("bin-elf", "binary_payload"),
        ("empty", "empty_body"),
        ("blank", "empty_body"),
        ("soft404", None),
        ("scriptonly", None),
    ],
)
def test_bad_bodies_skipped_with_reason(stored, host, reason):
    """Cases 24 (binary as HTML), 25 (empty), 27 (soft 404), 42 (script-only): no article, an event."""
    _, con, _ = stored
    assert _copies(con, host) == []
    events = _events(con, host)
    assert len(events) == 1, [dict(e) for e in events]
    if host == "scriptonly":  # an HTML page with next to no text is a soft block at fetch time
        assert (events[0]["stage"], events[0]["reason"], events[0]["detail"]) == (
            "fetch",
            "soft_block",
            "empty_shell",
        )
        return
    assert events[0]["stage"] == "clean"
    if reason:
        assert events[0]["reason"] == reason
    else:
        assert events[0]["reason"] in (
            "too_short",
            "boilerplate_only",
            "soft_block",
            "not_html",
            "not_found",
            "empty_shell",
        )


def test_soft_block_page_is_not_stored(stored, fault_server):
    """A 200 "Technical Difficulties" page (the error page state.gov serves when overloaded) is
    retried once, then recorded as a soft block of its host; nothing of it is stored."""
    _, con, _ = stored
    assert len(fault_server.requests("softblock.fault.test")) == 1 + 2  # robots.txt, two attempts
    assert _copies(con, "softblock") == []
    titles = "SELECT count(*) FROM articles WHERE title LIKE '%Technical Difficulties%'"
    assert con.execute(titles).fetchone()[0] == 0
    events = _events(con, "softblock")
    assert len(events) == 1 and events[0]["reason"] == "soft_block", [dict(e) for e in events]
    stats = json.loads(con.execute("SELECT stats FROM crawls ORDER BY id DESC").fetchone()[0])
    # the script-only page of another test is an empty shell, retried once like this one
    assert stats["soft_blocks_by_host"] == {"softblock.fault.test": 2, "scriptonly.fault.test": 2}


@pytest.mark.parametrize("host", ["ct-octet", "ct-plain", "ct-none"])
def test_html_with_wrong_type_is_sniffed_and_stored(stored, host):
    """Case 23"""
    _, con, _ = stored
    rows = _copies(con, host)
    assert len(rows) == 1 and "paragraph 1" in rows[0]["a_text"]


@pytest.mark.parametrize("host", ["enc-cp1252", "enc-latin1hdr", "enc-utf16", "enc-unknown", "enc-nul"])
def test_encodings_decoded_sensibly(stored, host):
    """Cases 36-39: stray cp1252 byte, header/meta disagreement, UTF-16 BOM, unknown charset, NULs
    and control characters: stored, NFC, no mojibake of the title, no control characters."""
    _, con, _ = stored
    rows = _copies(con, host)
    assert len(rows) == 1, [dict(e) for e in _events(con, host)]
    title, text = rows[0]["a_title"] or "", rows[0]["a_text"]
    for value in (title, text):
        assert unicodedata.normalize("NFC", value) == value
        assert not any(ch in value for ch in "\x00\x07\x1b")
        assert "Ã©" not in value  # UTF-8 read as Latin-1
        value.encode("utf-8")  # no lone surrogates
    assert "Caf\u00e9" in title


@pytest.mark.parametrize("host", ["deep", "hugeline", "many"])
def test_pathological_html_costs_one_page(stored, host):
    """Cases 40, 41: 10,000 nested divs, a 700 KiB single line, 400,000 elements: each ends as an
    article or a skip with a reason (timeout included) -- never a crashed or stuck crawl."""
    res, con, _ = stored
    assert len(_copies(con, host)) + len(_events(con, host)) == 1
    assert res.seconds < 100


def test_script_and_sql_stored_verbatim(stored):
    """Cases 83, 85: markup and SQL in titles and text are data, stored as written."""
    _, con, _ = stored
    xss = _copies(con, "xss")[0]
    assert "<script>alert('xss')</script>" in xss["a_title"]
    assert "<img src=x onerror=alert(1)>" in xss["a_title"]
    assert "<script>alert(document.cookie)</script>" in xss["a_text"]
    sqli = _copies(con, "sqli")[0]
    assert "Robert'); DROP TABLE articles;--" in sqli["a_title"]
    assert "DELETE FROM copies;" in sqli["a_text"]
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"articles", "copies", "crawls"} <= tables


def test_hostile_metadata_names_never_become_identifiers(stored):
    """Case 86: <meta> names that look like SQL are data at most; the schema is unchanged."""
    _, con, _ = stored
    assert len(_copies(con, "meta")) == 1
    columns = {r[1] for r in con.execute("PRAGMA table_info(articles)")}
    assert not [c for c in columns if "drop" in c.lower() or "]" in c or ";" in c]
    assert con.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE '%pwned%'").fetchone()[0] == 0


def test_log_injection_stays_on_one_line(stored):
    """Case 91: a title with a newline and ANSI escapes never forges a log line or colours a terminal."""
    res, con, _ = stored
    assert "\x1b[" not in res.log
    assert not [line for line in res.log.splitlines() if line.startswith("INFO: fake log line")]


def test_datasette_renders_hostile_values_escaped(stored):
    """Case 83: Datasette (the real app, in-process client) shows the stored markup escaped and does
    not turn a javascript: value into a link."""
    from datasette.app import Datasette

    _, con, db = stored
    aid = _copies(con, "xss")[0]["article_id"]
    metadata = ROOT / "store" / "metadata.yml"

    async def fetch():
        import yaml

        meta = yaml.safe_load(metadata.read_text()) if metadata.exists() else {}
        if meta and "databases" in meta:  # keyed by database name: re-key to this file's name
            meta["databases"] = {db.stem: next(iter(meta["databases"].values()))}
        ds = Datasette([str(db)], metadata=meta or None)
        page = await ds.client.get(f"/{db.stem}/articles/{aid}")
        query = await ds.client.get(f"/{db.stem}?sql=" + "select+%27javascript%3Aalert(1)%27+as+v")
        return page, query

    page, query = asyncio.run(fetch())
    assert page.status_code == 200
    body = page.text
    assert "<script>alert('xss')</script>" not in body
    assert "&lt;script&gt;alert(" in body
    assert "<img src=x onerror" not in body
    assert query.status_code == 200
    assert 'href="javascript:' not in query.text
