"""Unit tests of the crawler's pure parts: discovery parsing, Retry-After, soft blocks, run lock."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from crawlers.discovery import (
    NotDiscovery,
    in_window,
    looks_like_html,
    matches_topic,
    parse_listing,
    parse_rest,
    parse_when,
)
from crawlers.feeds import parse_feed
from crawlers.middlewares.politeness import parse_retry_after
from crawlers.middlewares.softblock import soft_block_reason
from crawlers.runlock import run_lock
from crawlers.sitemaps import parse_sitemap
from crawlers.spiders.base import ArgumentError
from crawlers.spiders.state_gov import StateGovSpider
from crawlers.spiders.syndication import SyndicationSpider
from crawlers.spiders.usembassy import UsEmbassySpider, load_embassies, path_language

ROOT = Path(__file__).resolve().parents[1]


def test_rest_page_parsed_with_hints():
    body = json.dumps(
        [
            {
                "id": 1,
                "link": "https://www.state.gov/a/",
                "modified_gmt": "2025-03-02T10:00:00",
                "date_gmt": "2025-03-01T09:00:00",
                "title": {"rendered": "On <em>Trafficking</em>"},
            },
            {"id": 2, "title": {"rendered": "no link"}},
        ]
    ).encode()
    found = parse_rest(body)
    assert [f.url for f in found] == ["https://www.state.gov/a/"]
    assert found[0].lastmod == "2025-03-02T10:00:00Z"
    assert found[0].title == "On Trafficking"


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><title>Technical Difficulties</title></html>",
        b'{"code": "rest_no_route"}',
        b"not json at all",
    ],
)
def test_rest_nonsense_is_refused(body):
    with pytest.raises(NotDiscovery):
        parse_rest(body)


def test_sitemap_index_and_urlset_and_gzip():
    index = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <sitemap><loc>https://h.example/post-sitemap.xml</loc><lastmod>2025-01-02T00:00:00Z</lastmod></sitemap>
    </sitemapindex>"""
    kind, entries = parse_sitemap(index)
    assert kind == "sitemapindex" and entries[0].url.endswith("post-sitemap.xml")
    urlset = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <url><loc>https://h.example/a/</loc><lastmod>2025-01-02</lastmod></url><url><loc>https://h.example/b/</loc></url>
    </urlset>"""
    kind, entries = parse_sitemap(urlset)
    assert kind == "urlset" and [e.lastmod for e in entries] == ["2025-01-02", None]
    with pytest.raises(NotDiscovery):
        parse_sitemap(b"<html><body>Login</body></html>")
    assert gzip.decompress(gzip.compress(urlset)) == urlset


def test_sitemap_entities_are_not_expanded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    body = f"""<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file://{secret}">]>
    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://h.example/&x;</loc></url></urlset>""".encode()
    try:
        _, entries = parse_sitemap(body)
    except NotDiscovery:
        entries = []
    assert all("TOPSECRET" not in e.url for e in entries)


def test_rss_and_atom_feeds():
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>
    <item><title>One</title><link>https://h.example/one/</link>
      <pubDate>Tue, 04 Mar 2025 15:00:00 +0000</pubDate></item>
    <item><title>Dup</title><link>https://h.example/one/</link></item>
    <item><title>Rel</title><link>/two/</link><pubDate>garbage</pubDate></item>
    </channel></rss>"""
    items = parse_feed(rss, "https://h.example/feed/")
    assert [i.url for i in items] == ["https://h.example/one/", "https://h.example/two/"]
    assert (items[0].published or "").startswith("2025-03-04T15:00") and items[1].published is None
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><title>A</title>
    <link href="https://h.example/a/"/><updated>2025-01-01T00:00:00Z</updated></entry></feed>"""
    assert (parse_feed(atom)[0].lastmod or "").startswith("2025-01-01")
    with pytest.raises(NotDiscovery):
        parse_feed(b"<!doctype html><html><body>Sign in</body></html>")


def test_listing_links_and_next():
    html = b"""<html><body><ul><li class="collection-result"><a href="/releases/x/2025/01/one/">One</a></li>
    <li class="collection-result"><a href="https://other.example/z/">off-site</a></li></ul>
    <a class="next page-numbers" href="/press-releases/page/2/">Next</a></body></html>"""
    found, nxt = parse_listing(html, "https://www.state.gov/press-releases/")
    assert [f.url for f in found] == ["https://www.state.gov/releases/x/2025/01/one/"]
    assert nxt == "https://www.state.gov/press-releases/page/2/"


def test_dates_window_topic():
    assert parse_when("2025-03-01T10:00:00") == datetime(2025, 3, 1, 10, tzinfo=UTC)
    when = parse_when("Tue, 04 Mar 2025 15:00:00 GMT")
    assert when is not None and when.day == 4
    assert parse_when("garbage") is None
    assert in_window(parse_when("2025-03-01"), date(2025, 1, 1), date(2025, 12, 31))
    assert not in_window(parse_when("2024-03-01"), date(2025, 1, 1), None)
    assert in_window(None, date(2025, 1, 1), None)
    assert matches_topic(["trafficking"], None, "/releases/2025/01/human-trafficking-prevention-month/")
    assert not matches_topic(["trafficking"], "National Day", "/ghana-independence-day/")


def test_retry_after_values():
    assert parse_retry_after("120") == 120
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after(
        format_datetime(now + timedelta(seconds=30), usegmt=True), now=now
    ) == pytest.approx(30)
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_soft_block_detector():
    page = (
        b"<html><head><title>Technical Difficulties</title></head>"
        b"<body>We are experiencing technical difficulties</body></html>"
    )
    assert soft_block_reason(page, "text/html", "html") == "technical_difficulties"
    assert (
        soft_block_reason(b"<html><body><div id=app></div></body></html>", "text/html", "html")
        == "empty_shell"
    )
    assert soft_block_reason(b"<!doctype html><html></html>", "text/html", "json") == "html_for_json"
    assert soft_block_reason(b'[{"id": 1}]', "application/json", "json") is None
    real = (
        b"<html><body><article>"
        + b"<p>The Secretary spoke about labor rights today. </p>" * 20
        + b"</article></body></html>"
    )
    assert soft_block_reason(real, "text/html", "html") is None
    assert looks_like_html(b"  <!DOCTYPE html>")


def test_run_lock_excludes_other_processes_and_reenters(tmp_path):
    db = tmp_path / "x.db"
    code = f"from crawlers.runlock import run_lock\nwith run_lock({str(db)!r}, wait=0): print('got')"
    with run_lock(db):
        with run_lock(db):  # re-entrant in one process
            pass
        t0 = time.monotonic()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
        assert out.returncode != 0 and "LockBusy" in out.stderr and "another run is using" in out.stderr
        assert time.monotonic() - t0 < 10
        code_wait = (
            "from crawlers.runlock import run_lock, LockBusy\ntry:\n"
            f" with run_lock({str(db)!r}, wait=0.5): print('got')\nexcept LockBusy as e: print('busy')"
        )
        out = subprocess.run([sys.executable, "-c", code_wait], capture_output=True, text=True, cwd=ROOT)
        assert out.stdout.strip() == "busy"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "got"


def test_spider_arguments_are_checked():
    with pytest.raises(ArgumentError, match="since"):
        StateGovSpider.check_args({"since": "yesterday"})
    with pytest.raises(ArgumentError, match="archive"):
        StateGovSpider.check_args({"archives": "evil.example"})
    with pytest.raises(ArgumentError, match="usembassy"):
        UsEmbassySpider.check_args({"hosts": "mx.usembassy.gov.evil.example"})
    with pytest.raises(ArgumentError, match="unknown source"):
        SyndicationSpider.check_args({"sources": "nope"})
    StateGovSpider.check_args({"since": "2024-01-01", "limit": "5", "topic": "trafficking"})
    assert SyndicationSpider(sources="demo").feeds


def test_embassy_list_is_broad():
    embassies = load_embassies()
    assert len(embassies) >= 150
    for host in (
        "mx.usembassy.gov",
        "ca.usembassy.gov",
        "uk.usembassy.gov",
        "jp.usembassy.gov",
        "za.usembassy.gov",
    ):
        assert host in embassies
    assert path_language("https://mx.usembassy.gov/es/algo/") == "es"
    assert path_language("https://mx.usembassy.gov/news/x/") is None


def test_soft_block_detector_spares_real_pages_with_captcha_scripts():
    article = (
        b"<html><head><title>Joint Statement on Forced Labor</title>"
        b"<script src='https://www.google.com/recaptcha/api.js'></script></head><body><article>"
        + b"<p>The governments discussed technical difficulties in labor inspections. </p>" * 30
        + b"</article><form class='comment-form'><div class='g-recaptcha'></div></form></body></html>"
    )
    assert soft_block_reason(article, "text/html", "html") is None
    wall = b"<html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"
    assert soft_block_reason(wall, "text/html", "html") == "bot_wall"
    short = b"<html><head><title>U.S. Embassy</title></head><body><p>Access denied.</p></body></html>"
    assert soft_block_reason(short, "text/html", "html") == "bot_wall"


def test_stale_feed_is_noticed():
    from scrapy.utils.project import get_project_settings
    from scrapy.utils.test import get_crawler

    from crawlers.discovery import Found

    days = get_project_settings().getint("DISPATCHES_STALE_FEED_DAYS")  # its one default: 30
    crawler = get_crawler(UsEmbassySpider, {"DISPATCHES_STALE_FEED_DAYS": days})
    spider = UsEmbassySpider.from_crawler(crawler, hosts="mx.usembassy.gov")
    spider.known = {"https://mx.usembassy.gov/new-page": {"lastmod": "2026-06-01T00:00:00Z"}}
    old = [Found(url="https://mx.usembassy.gov/a/", via="feed", published="2025-01-01T00:00:00+00:00")]
    fresh = [Found(url="https://mx.usembassy.gov/b/", via="feed", published="2026-05-30T00:00:00+00:00")]
    assert "days older" in (spider.feed_staleness("mx.usembassy.gov", old) or "")
    assert spider.feed_staleness("mx.usembassy.gov", fresh) is None
    assert spider.feed_staleness("ca.usembassy.gov", old) is None
