"""Hostile sitemaps and feeds (cases 49-58 of tests/faults/CASES.md), through the project's
`syndication` spider and through `crawlers.sitemaps` and `crawlers.feeds` directly."""

from __future__ import annotations

import json
import resource
import sqlite3
import time
import urllib.request

import pytest

from crawlers.discovery import NotDiscovery
from crawlers.feeds import parse_feed
from crawlers.sitemaps import parse_sitemap
from tests.faults.faultkit import run_crawl

SITEMAPS = {
    "sm-gz": "/sitemap/real.xml.gz",
    "sm-bomb": "/sitemap/bomb.xml.gz?mb=64",
    "sm-laughs": "/sitemap/laughs.xml",
    "sm-xxe": "/sitemap/xxe.xml?file={secret}",
    "sm-loop": "/sitemap/loop-a.xml",
    "sm-gen": "/sitemap/gen.xml",
    "sm-big": "/sitemap/big.xml?n=30000",
    "sm-cross": "/sitemap/cross.xml",
    "sm-malformed": "/sitemap/malformed.xml",
}
FEEDS = {
    "fd-laughs": "/feed/laughs.xml",
    "fd-xxe": "/feed/xxe.xml?file={secret}",
    "fd-login": "/feed/login.xml",
    "fd-big": "/feed/big.xml?n=20000",
}
SECRET = "TOP-SECRET-7f3a9c-never-in-the-database"


@pytest.fixture(scope="module")
def xml_crawl(fault_server, tmp_path_factory):
    s = fault_server
    tmp = tmp_path_factory.mktemp("xml")
    secret = tmp / "secret.txt"
    secret.write_text(SECRET)
    db = tmp / "xml.db"
    sitemaps = [s.url(h, p.format(secret=secret)) for h, p in SITEMAPS.items()]
    feeds = [s.url(h, p.format(secret=secret)) for h, p in FEEDS.items()]
    res = run_crawl(
        [],
        tmp,
        spider="syndication",
        args={"sitemaps": ",".join(sitemaps), "feeds": ",".join(feeds)},
        settings={
            "DISPATCHES_ALLOW_HOSTS": f"*.fault.test:{s.port}",
            "DISPATCHES_DB": str(db),
            "DISPATCHES_MAX_ITEMS_PER_SOURCE": "15",
            "DISPATCHES_MAX_SITEMAP_DEPTH": "3",
            "DOWNLOAD_MAXSIZE": str(8 << 20),
            "DISPATCHES_CLEAN_WORKERS": "1",
            "DOWNLOAD_TIMEOUT": "10",
        },
        timeout=150,
    )
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    yield res, con, db
    con.close()


def _pages(server, host):
    return [r["target"] for r in server.requests(f"{host}.fault.test") if r["path"].startswith("/page/")]


def _crawl_stats(con) -> dict:
    row = con.execute("SELECT stats FROM crawls ORDER BY id DESC").fetchone()
    return json.loads(row["stats"])


def test_crawl_finishes_with_bounded_memory(xml_crawl):
    res, con, _ = xml_crawl
    assert res.returncode == 0, res.log[-3000:]
    assert "Traceback" not in res.log
    stats = _crawl_stats(con)
    assert stats["finish_reason"] == "finished"
    assert stats["scrapy"]["memusage/max"] < 400 * 1024 * 1024


def test_gzip_sitemap_without_content_encoding(xml_crawl, fault_server):
    """Case 52: a real .xml.gz served as application/octet-stream is decompressed and followed."""
    assert _pages(fault_server, "sm-gz") == ["/page/from-gz-sitemap"]


def test_gzip_bomb_named_xml_gz_ignored(xml_crawl, fault_server):
    """Case 52: a gzip bomb under a sitemap name: refused while decompressing, nothing followed."""
    res, _, _ = xml_crawl
    assert _pages(fault_server, "sm-bomb") == []
    assert "sm-bomb.fault.test" in res.log and (
        "Ignoring invalid sitemap" in res.log or "discovery" in res.log
    )


@pytest.mark.parametrize("host", ["sm-laughs", "fd-laughs"])
def test_billion_laughs_not_expanded(xml_crawl, fault_server, host):
    """Case 49: entities are not expanded (memory stays flat); the plain entries still count."""
    res, con, _ = xml_crawl
    pages = _pages(fault_server, host)
    assert not any("lol" in p for p in pages)
    assert pages in (["/page/after-laughs"], ["/page/feed-laughs"], [])
    for row in con.execute("SELECT title, text FROM articles"):
        assert "lollollol" not in (row["title"] or "") + row["text"]


@pytest.mark.parametrize("host", ["sm-xxe", "fd-xxe"])
def test_xxe_reads_no_file_and_fetches_no_dtd(xml_crawl, fault_server, db_dump, host):
    """Case 50: the SYSTEM entity's file never reaches the database or the log; the external DTD is
    never requested."""
    res, _, _ = xml_crawl
    assert SECRET not in res.log
    assert SECRET not in db_dump
    assert not [r for r in fault_server.requests() if r["path"].startswith("/dtd/")]


@pytest.fixture(scope="module")
def db_dump(xml_crawl) -> str:
    _, con, _ = xml_crawl
    return "\n".join(
        str(tuple(r))
        for table in ("articles", "copies", "events", "crawls", "url_state")
        for r in con.execute(f"SELECT * FROM {table}")
    )


def test_malformed_sitemap_yields_what_it_can(xml_crawl, fault_server):
    """Case 51: unclosed tags / illegal characters: recovered entries, or a warning -- no crash."""
    res, _, _ = xml_crawl
    pages = _pages(fault_server, "sm-malformed")
    assert set(pages) <= {"/page/before-break", "/page/broken"}  # the control character dropped
    if not pages:
        assert "sm-malformed.fault.test" in res.log


def test_sitemap_index_loop_and_generator_end(xml_crawl, fault_server):
    """Case 53: A lists B lists A: ends; an index generating new index URLs: cut at the depth cap."""
    loop = [
        r["target"] for r in fault_server.requests("sm-loop.fault.test") if r["path"].startswith("/sitemap/")
    ]
    assert len(loop) <= 4
    assert _pages(fault_server, "sm-loop") == ["/page/from-leaf"]
    gen = [
        r["target"] for r in fault_server.requests("sm-gen.fault.test") if r["path"].startswith("/sitemap/")
    ]
    assert len(gen) == 4  # depth 0..3 (DISPATCHES_MAX_SITEMAP_DEPTH=3)


@pytest.mark.parametrize("host", ["sm-big", "fd-big"])
def test_huge_sitemap_and_feed_capped(xml_crawl, fault_server, host):
    """Case 54: 30,000 sitemap URLs / 20,000 feed items: only DISPATCHES_MAX_ITEMS_PER_SOURCE (15) taken."""
    assert 1 <= len(_pages(fault_server, host)) <= 15


def test_cross_submitted_urls_filtered(xml_crawl, fault_server):
    """Case 55: a sitemap listing other hosts' URLs: only its own host's are followed."""
    assert _pages(fault_server, "sm-cross") == ["/page/same-host"]
    assert not [
        r for r in fault_server.requests() if r["host"].startswith(("evil.test", "www.state.gov.evil"))
    ]


def test_feed_that_is_an_html_login_page_skipped(xml_crawl, fault_server):
    """Case 56: HTML with 200 where a feed was due: not a feed, logged, nothing followed."""
    res, con, _ = xml_crawl
    assert _pages(fault_server, "fd-login") == []
    stats = _crawl_stats(con)
    assert "fd-login.fault.test" in stats["discovery_failed"]


# --- direct: the discovery parsers -------------------------------------------------------------
def _fetch(server, host, path) -> bytes:
    req = urllib.request.Request(
        f"http://127.0.0.1:{server.port}{path}", headers={"Host": f"{host}.fault.test:{server.port}"}
    )
    return server._opener.open(req, timeout=10).read()


def test_parsers_do_not_expand_entities_and_stay_small(fault_server, tmp_path):
    """Cases 49, 50 at the parser: time-boxed, no growth, no file read, no network."""
    secret = tmp_path / "s.txt"
    secret.write_text(SECRET)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    _, entries = parse_sitemap(_fetch(fault_server, "unit", "/sitemap/laughs.xml"))
    assert all("lollol" not in e.url for e in entries)
    found = parse_feed(_fetch(fault_server, "unit", "/feed/laughs.xml"))
    assert all("lollol" not in (f.title or "") for f in found)
    for path in (f"/sitemap/xxe.xml?file={secret}", f"/feed/xxe.xml?file={secret}"):
        body = _fetch(fault_server, "unit", path)
        try:
            out = parse_sitemap(body) if "sitemap" in path else parse_feed(body)
        except NotDiscovery:
            out = None
        assert SECRET not in repr(out)
    assert time.monotonic() - t0 < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KiB
    assert not [r for r in fault_server.requests() if r["path"].startswith("/dtd/")]


def test_pathological_feed_parses_in_time(fault_server):
    """Case 58: a 50,000-item feed parses within a time box (lxml, no regex iteration)."""
    t0 = time.monotonic()
    found = parse_feed(_fetch(fault_server, "unit", "/feed/big.xml?n=50000"))
    assert len(found) == 50000 and time.monotonic() - t0 < 10


def test_feed_dates_duplicates_relative_links():
    """Case 57: bad and future pubDates do not crash, duplicate GUIDs/links collapse, relative links
    are resolved against the feed URL."""
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
    <item><title>a</title><link>/page/rel-1</link><guid>g1</guid><pubDate>not a date</pubDate></item>
    <item><title>a again</title><link>/page/rel-1</link><guid>g1</guid>
      <pubDate>Tue, 03 Mar 2099 10:00:00 GMT</pubDate></item>
    <item><title>b</title><link>https://aggregator.test/page/abs-2</link>
      <pubDate>Tue, 03 Mar 2025 10:00:00 GMT</pubDate></item>
    <item><title>js</title><link>javascript:alert(1)</link></item>
    </channel></rss>"""
    found = parse_feed(body, "https://aggregator.test/feed/")
    assert [f.url for f in found] == [
        "https://aggregator.test/page/rel-1",
        "https://aggregator.test/page/abs-2",
    ]
    assert found[0].published is None
    assert (found[1].published or "").startswith("2025-03-03")
