"""Unit tests of the sitemap and feed rules the spiders apply to what discovery returns."""

from __future__ import annotations

import gzip

import pytest

from crawlers.discovery import Found, NotDiscovery
from crawlers.feeds import staleness
from crawlers.sitemaps import child_sitemaps, decompress, on_host, read_sitemap

URLSET = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://h.example/a/</loc><lastmod>2025-01-02</lastmod></url>
<url><loc>/b/</loc></url><url><loc>https://h.example/c/</loc></url>
</urlset>"""


def sitemap(url: str) -> Found:
    return Found(url=url, via="sitemap")


def test_plain_sitemap_body_is_left_as_it_is():
    assert decompress(URLSET, max_size=10) is URLSET  # the bound is for unpacking only


def test_gzip_sitemap_is_unpacked_and_read_relative_to_its_url():
    kind, entries = read_sitemap(gzip.compress(URLSET), "https://h.example/sitemap.xml.gz", max_size=1 << 20)
    assert kind == "urlset"
    assert [e.url for e in entries] == [
        "https://h.example/a/",
        "https://h.example/b/",
        "https://h.example/c/",
    ]
    assert entries[0].lastmod == "2025-01-02"


def test_read_sitemap_stops_one_entry_past_the_limit():
    _, entries = read_sitemap(URLSET, "https://h.example/sitemap.xml", max_size=0, limit=1)
    assert len(entries) == 2  # one more than allowed: the spider warns and keeps `limit`


@pytest.mark.parametrize(
    "body",
    [
        gzip.compress(b"x" * 4096),  # unpacks past the bound: a gzip bomb under a sitemap name
        gzip.compress(URLSET)[:12],  # a stream cut short
        b"\x1f\x8b" + b"not gzip at all",
    ],
    ids=["too-big", "cut-short", "garbage"],
)
def test_invalid_gzip_is_refused_with_its_cause(body):
    with pytest.raises(NotDiscovery, match="^invalid sitemap body$") as caught:
        read_sitemap(body, "https://h.example/sitemap.xml.gz", max_size=1024)
    assert caught.value.__cause__ is not None  # the spider logs what gzip said


def test_not_a_sitemap_is_refused_after_unpacking():
    with pytest.raises(NotDiscovery, match="HTML"):
        read_sitemap(
            gzip.compress(b"<!doctype html><html><body>Log in</body></html>"), None, max_size=1 << 20
        )


def test_other_hosts_entries_are_not_this_hosts():
    entries = [
        sitemap("https://h.example/a/"),
        sitemap("https://other.example/b/"),
        sitemap("https://H.example/c/"),
    ]
    assert [e.url for e in on_host(entries, "h.example")] == ["https://h.example/a/", "https://H.example/c/"]


def test_child_sitemaps_skip_taxonomies_and_other_hosts():
    children = [
        sitemap("https://h.example/post-sitemap.xml"),
        sitemap("https://h.example/category-sitemap.xml"),
        sitemap("https://h.example/author_sitemap.xml"),
        sitemap("https://h.example/press-release-sitemap2.xml"),
        sitemap("https://other.example/post-sitemap.xml"),
    ]
    assert [c.url for c in child_sitemaps(children, "h.example")] == [
        "https://h.example/post-sitemap.xml",
        "https://h.example/press-release-sitemap2.xml",
    ]


def test_child_sitemaps_all_kept_when_all_look_like_taxonomies():
    children = [sitemap("https://h.example/tag-sitemap.xml"), sitemap("https://h.example/page-sitemap.xml")]
    assert child_sitemaps(children, "h.example") == children
    assert child_sitemaps(children, "other.example") == []


def item(url: str, published: str | None) -> Found:
    return Found(url=url, via="feed", published=published)


KNOWN = {
    "https://www.h.example/new/": {"modified_gmt": "2026-06-01T00:00:00Z"},
    "https://h.example/older/": {"lastmod": "2026-01-01"},
    "https://other.example/newest/": {"lastmod": "2027-01-01"},
}


def test_feed_far_behind_the_stored_pages_of_its_host_is_stale():
    why = staleness([item("https://www.h.example/a/", "2026-04-01T00:00:00Z")], KNOWN, "www.h.example", 30)
    assert why == "newest item 2026-04-01 is 61 days older than stored pages"


def test_feed_within_the_allowed_days_is_not_stale():
    items = [item("https://www.h.example/a/", "2026-04-01T00:00:00Z")]
    assert staleness(items, KNOWN, "www.h.example", 61) is None
    newer = [*items, item("https://www.h.example/b/", "2026-05-30T00:00:00Z")]  # its newest item counts
    assert staleness(newer, KNOWN, "www.h.example", 30) is None


def test_www_feed_is_held_against_bare_host_pages_but_not_the_reverse():
    old = [item("https://h.example/a/", "2025-01-01T00:00:00Z")]
    assert "365 days older" in (staleness(old, KNOWN, "h.example", 30) or "")  # against h.example/older/
    only_www = {"https://www.h.example/new/": KNOWN["https://www.h.example/new/"]}
    assert staleness(old, only_www, "h.example", 30) is None
    only_bare = {"https://h.example/older/": KNOWN["https://h.example/older/"]}
    assert "365 days older" in (staleness(old, only_bare, "www.h.example", 30) or "")


def test_feed_without_dates_or_host_without_stored_pages_is_not_stale():
    assert staleness([item("https://www.h.example/a/", None)], KNOWN, "www.h.example", 0) is None
    assert staleness([item("https://x.example/a/", "2020-01-01T00:00:00Z")], KNOWN, "x.example", 0) is None
