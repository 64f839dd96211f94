"""The fixture web, tested the way the spiders use it: through its proxy, over http and https."""

from __future__ import annotations

import difflib
import gzip
import html
import http.client
import json
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.fixtures.web import generate
from tests.fixtures.web.fixtureweb import FixtureWeb

WEB = Path(__file__).resolve().parent / "fixtures" / "web"

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
REST = "https://www.state.gov/wp-json/wp/v2/state_press_release"


@pytest.fixture(scope="module")
def web():
    with FixtureWeb(scale=1, phase=1, crawl_delay=3) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(web):
    web.reset()
    yield


def _load(name: str, path: Path):
    """Import a fixture-web module by path, under a name no other test folder uses."""
    import importlib.util

    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None, path
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _json(body: bytes):
    return json.loads(body.decode("utf-8"))


def _page(web, url: str) -> str:
    """The page decoded with the charset its Content-Type names."""
    _, headers, body = web.fetch(url)
    charset = headers.get("content-type", "").partition("charset=")[2] or "utf-8"
    return body.decode(charset)


def _meta(html: str, prop: str) -> str | None:
    m = re.search(rf'<meta (?:property|name)="{re.escape(prop)}" content="([^"]*)"', html)
    return m.group(1) if m else None


# ---------------------------------------------------------------------- serving


def test_state_gov_article_over_https_has_the_real_template(web):
    man = web.manifest()
    stmt = next(s for s in man["statements"] if s["id"] == "visa-restrictions-recruiters")
    status, headers, body = web.fetch(stmt["official_url"])
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    page = body.decode()
    assert "An official website of the United States Government" in page
    assert "Here&#039;s how you know" in page
    assert f'<link rel="canonical" href="{stmt["official_url"]}">' in page
    assert '<p class="article-meta doctype-meta">Press Statement</p>' in page
    assert 'class="featured-content__headline stars-above">Visa Restrictions on Labor Recruiters' in page
    assert _meta(page, "article:published_time") == stmt["published_at"]
    assert _meta(page, "og:type") == "article"
    found = re.search(r'<script type="application/ld\+json"[^>]*>(.*?)</script>', page, re.S)
    assert found
    ld = json.loads(found.group(1))
    types = {node["@type"] for node in ld["@graph"]}
    assert {"NewsArticle", "WebPage", "BreadcrumbList"} <= types
    assert page.count('<p class="wp-block-paragraph">') == len(stmt["text"].split("\n\n"))
    assert "Related Articles" in page and "related-tags" in page and "Privacy Policy" in page
    assert stmt["official_url"].startswith(
        "https://www.state.gov/releases/office-of-the-spokesperson/2025/03/"
    )


def test_http_and_https_serve_the_same_page_and_log_the_scheme(web):
    url = "https://www.state.gov/press-releases/"
    s1, _, b1 = web.fetch(url)
    s2, _, b2 = web.fetch(url.replace("https:", "http:"))
    assert (s1, s2) == (200, 200) and b1 == b2
    schemes = [(r["scheme"], r["host"], r["path"]) for r in web.requests()]
    assert schemes == [
        ("https", "www.state.gov", "/press-releases/"),
        ("http", "www.state.gov", "/press-releases/"),
    ]


def test_unknown_host_path_and_bare_slug(web):
    status, _, body = web.fetch("http://evil.test/")
    assert status == 502
    status, _, body = web.fetch("https://www.state.gov/no-such-statement/")
    assert status == 404 and b"Page Not Found" in body
    status, headers, _ = web.fetch("https://www.state.gov/press-releases")
    assert status == 301 and headers["location"] == "https://www.state.gov/press-releases/"
    status, headers, _ = web.fetch("https://state.gov/press-releases/")
    assert status == 301 and headers["location"] == "https://www.state.gov/press-releases/"


def test_conditional_get_answers_304(web):
    url = "https://www.state.gov/rss-feed/press-releases/feed/"
    status, headers, body = web.fetch(url)
    assert status == 200 and headers["etag"] and headers["last-modified"]
    assert web.fetch(url, headers={"If-None-Match": headers["etag"]})[0] == 304
    assert web.fetch(url, headers={"If-None-Match": "W/" + headers["etag"]})[0] == 304
    assert web.fetch(url, headers={"If-None-Match": '"stale"'})[0] == 200
    assert web.fetch(url, headers={"If-Modified-Since": headers["last-modified"]})[0] == 304
    assert web.fetch(url, headers={"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"})[0] == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
    both = {"If-None-Match": '"stale"', "If-Modified-Since": headers["last-modified"]}
    assert web.fetch(url, headers=both)[0] == 200
    statuses = [r["status"] for r in web.requests()]
    assert statuses == [200, 304, 304, 200, 304, 200, 200]
    assert [r["bytes"] for r in web.requests()][1] == 0


def test_gzip_only_when_asked(web):
    url = "https://mx.usembassy.gov/sitemap_index.xml"
    _, plain_headers, plain = web.fetch(url, headers={"Accept-Encoding": "identity"})
    status, headers, body = web.fetch(url, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert status == 200 and "content-encoding" not in plain_headers
    assert headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding"
    assert int(headers["content-length"]) == len(body)
    assert gzip.decompress(body) == plain
    assert web.fetch(url, headers={"Accept-Encoding": "gzip;q=0"})[1].get("content-encoding") is None


def test_robots_txt_announces_crawl_delay_and_sitemap(web):
    for host in generate.HOSTS:
        status, headers, body = web.fetch(f"https://{host}/robots.txt")
        text = body.decode()
        assert status == 200 and headers["content-type"].startswith("text/plain")
        assert "Crawl-delay: 3" in text
        assert re.search(rf"^Sitemap: https://{re.escape(host)}/\S+\.xml$", text, re.M)


# ---------------------------------------------------------------------- discovery surfaces


def _sitemap_urls(web, index_url: str) -> dict[str, str]:
    status, _, body = web.fetch(index_url)
    assert status == 200
    root = ET.fromstring(body)
    out = {}
    children = [(sm.findtext(f"{SM}loc"), sm.findtext(f"{SM}lastmod")) for sm in root.iter(f"{SM}sitemap")]
    assert children and all(lastmod for _, lastmod in children)
    for loc, _ in children:
        status, _, child = web.fetch(loc)
        assert status == 200, loc
        for url in ET.fromstring(child).iter(f"{SM}url"):
            out[url.findtext(f"{SM}loc") or ""] = url.findtext(f"{SM}lastmod") or ""
    return out


def test_sitemap_index_children_carry_lastmod_of_each_page(web):
    urls = _sitemap_urls(web, "https://www.state.gov/sitemap_index.xml")
    man = web.manifest()
    official = {s["official_url"]: s for s in man["statements"] if s["official_site"] == "www.state.gov"}
    assert set(official) <= set(urls)
    for url, stmt in official.items():
        assert urls[url] == stmt["modified_at"]
    some = next(iter(official))
    page = web.fetch(some)[2].decode()
    assert _meta(page, "article:modified_time") == urls[some]
    # the embassy index lists the Spanish sitemap too
    mx = _sitemap_urls(web, "https://mx.usembassy.gov/sitemap_index.xml")
    assert any("/es/" in u for u in mx)


def test_rest_collection_pages_headers_and_errors(web):
    status, headers, body = web.fetch(f"{REST}?per_page=4&_fields=id,link,modified_gmt,date_gmt,title")
    total, pages = int(headers["x-wp-total"]), int(headers["x-wp-totalpages"])
    assert status == 200 and total >= 8 and pages == -(-total // 4)
    assert 'rel="next"' in headers["link"]
    seen = []
    for page in range(1, pages + 1):
        status, headers, body = web.fetch(
            f"{REST}?per_page=4&page={page}&_fields=id,link,modified_gmt,date_gmt,title"
        )
        items = _json(body)
        assert status == 200 and set(items[0]) == {"id", "link", "modified_gmt", "date_gmt", "title"}
        seen += items
    assert len(seen) == total == len({i["id"] for i in seen})
    dates = [i["date_gmt"] for i in seen]
    assert dates == sorted(dates, reverse=True)
    status, _, body = web.fetch(f"{REST}?per_page=4&page={pages + 1}")
    assert status == 400 and _json(body)["code"] == "rest_post_invalid_page_number"
    assert web.fetch(f"{REST}?per_page=101")[0] == 400
    status, _, body = web.fetch(f"{REST}?after=2025-01-01")  # WordPress wants a full date-time
    assert status == 400 and _json(body)["code"] == "rest_invalid_param"
    # filters
    status, headers, body = web.fetch(
        f"{REST}?after=2025-01-01T00:00:00&per_page=100&order=asc&_fields=date_gmt"
    )
    got = [i["date_gmt"] for i in _json(body)]
    assert got == sorted(got) and all(d > "2025-01-01" for d in got) and len(got) < total
    status, _, body = web.fetch(f"{REST}?modified_after=2099-01-01T00:00:00Z")
    assert status == 200 and _json(body) == []
    one = seen[0]
    status, _, body = web.fetch(f"{REST}/{one['id']}?_fields=id,title.rendered")
    assert _json(body) == {"id": one["id"], "title": {"rendered": one["title"]["rendered"]}}
    assert web.fetch("https://www.state.gov/wp-json/wp/v2/nothing_here")[0] == 404
    status, headers, body = web.fetch("https://www.state.gov/wp-json/wp/v2/state_briefing")
    assert status == 200 and int(headers["x-wp-total"]) >= 1


def test_feeds_and_listings_link_to_served_pages(web):
    for feed in (
        "https://www.state.gov/rss-feed/press-releases/feed/",
        "https://mx.usembassy.gov/feed/",
        "https://policy-digest.example/feed/",
        "https://worldwire.example/feed/",
    ):
        status, headers, body = web.fetch(feed)
        assert status == 200 and "rss" in headers["content-type"]
        links = [i.findtext("link") for i in ET.fromstring(body).iter("item")]
        assert links and all(web.fetch(u)[0] == 200 for u in links[:3])
    listing = web.fetch("https://www.state.gov/press-releases/page/2/")[2].decode()
    assert listing.count('class="collection-result__link"') <= 10
    assert 'href="https://www.state.gov/press-releases/"' in listing  # previous page


# ---------------------------------------------------------------------- the test cases inside the web


def test_manifest_names_every_required_case_and_every_copy_is_served(web):
    man = web.manifest()
    stmts = {s["id"]: s for s in man["statements"]}
    assert len(stmts) >= 35
    five = [s for s in stmts.values() if len({c["site"] for c in s["copies"]}) >= 5]
    assert five, "one statement must be on five sites"
    assert len(man["lookalike_groups"]) >= 2 and all(len(g) >= 2 for g in man["lookalike_groups"])
    assert (
        man["edited"]
        and man["moved"]
        and man["phase2_additions"]
        and man["truncated"]
        and man["translations"]
    )
    kinds = {c["kind"] for s in stmts.values() for c in s["copies"]}
    assert {"full", "cruft", "truncated", "translation", "archive"} <= kinds
    roles = {c["role"] for s in stmts.values() for c in s["copies"]}
    assert roles == {"original", "archive", "embassy", "syndicated"}
    assert not set(man["phase2_additions"]) & set(stmts), "phase-2 statements are absent in phase 1"
    for s in stmts.values():
        for copy in s["copies"]:
            assert web.fetch(copy["url"])[0] == 200, copy["url"]


def test_aggregator_copy_names_its_official_original(web):
    man = web.manifest()
    sid = man["attribution"][0]
    stmt = next(s for s in man["statements"] if s["id"] == sid)
    digest = next(c for c in stmt["copies"] if c["site"] == "policy-digest.example")
    page = _page(web, digest["url"])
    assert f"Official news published at {stmt['official_url']}" in page
    for cruft in (
        "Share/Save/Bookmark Tell a Friend",
        "FAIR USE NOTICE",
        "originally published at",
        "Previous post",
        "Next post",
        "Leave a Reply",
    ):
        assert cruft in page


def test_truncated_copy_and_canonical_to_original(web):
    man = web.manifest()
    stmt = next(s for s in man["statements"] if s["id"] == man["truncated"][0])
    copy = next(c for c in stmt["copies"] if c["kind"] == "truncated")
    page = html.unescape(web.fetch(copy["url"])[2].decode())
    paragraphs = stmt["text"].split("\n\n")
    assert "Read more at" in page
    assert paragraphs[1] in page and paragraphs[-1] not in page
    wire = [c for s in man["statements"] for c in s["copies"] if c["site"] == "worldwire.example"]
    canonicals = {}
    for c in wire:
        found = re.search(r'rel="canonical" href="([^"]+)"', web.fetch(c["url"])[2].decode())
        assert found, c["url"]
        canonicals[c["url"]] = found.group(1)
    assert any(urlsplit(v).hostname == "www.state.gov" for v in canonicals.values())
    assert any(k == v for k, v in canonicals.items())


def test_manifest_says_which_copies_name_their_original(web):
    man = web.manifest()
    named = [(s, c) for s in man["statements"] for c in s["copies"] if c["names_original"]]
    assert {c["site"] for _, c in named} == {"policy-digest.example", "worldwire.example"}
    for s, c in named:
        page = _page(web, c["url"])
        assert c["names_original"] == s["official_url"]
        assert (
            f"Official news published at {s['official_url']}" in page
            or f'<link rel="canonical" href="{s["official_url"]}">' in page
        )
    unnamed = [
        c
        for s in man["statements"]
        for c in s["copies"]
        if c["role"] == "syndicated" and not c["names_original"]
    ]
    assert unnamed  # most aggregator copies must be matched by their text


def test_legacy_aggregator_pages_are_windows_1252(web):
    man = web.manifest()
    stmt, copy = next(
        (s, c)
        for s in man["statements"]
        for c in s["copies"]
        if c["site"] == "policy-digest.example" and "’" in c["expected_text"]
    )
    status, headers, body = web.fetch(copy["url"])
    assert headers["content-type"] == "text/html; charset=windows-1252"
    assert b"charset=windows-1252" in body and b"\x92" in body  # the right single quote in cp1252
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", "", body.decode("cp1252")))
    assert copy["expected_text"].split("\n\n")[0] in text


def test_manifest_expected_text_per_copy(web):
    web.set_phase(2)
    man = web.manifest()
    stmts = {s["id"]: s for s in man["statements"]}
    edited = stmts[man["edited"][0]]
    for c in edited["copies"]:
        if c["role"] == "syndicated":
            assert c["expected_text"] == man["edited_texts"][edited["id"]]["1"]
        else:
            assert c["expected_text"] == edited["text"] == man["edited_texts"][edited["id"]]["2"]
    for s in man["statements"]:
        official = next(c for c in s["copies"] if c["url"] == s["official_url"])
        assert official["published"] == s["published"]
        assert all(c["published"] >= s["published"] for c in s["copies"])
    trunc = next(c for s in man["statements"] for c in s["copies"] if c["kind"] == "truncated")
    assert trunc["expected_text"].count("\n\n") == 1
    tr = next(c for s in man["statements"] for c in s["copies"] if c["kind"] == "translation")
    assert tr["translation_of"] and "trata de personas" in tr["expected_text"].lower()


def test_wordpress_shortlink_and_feed_content(web):
    man = web.manifest()
    stmt = next(s for s in man["statements"] if s["wp_id"] and s["collection"] == "state_press_release")
    status, headers, _ = web.fetch(f"https://www.state.gov/?p={stmt['wp_id']}")
    assert status == 301 and headers["location"] == stmt["official_url"]
    feed = ET.fromstring(web.fetch("https://www.state.gov/rss-feed/press-releases/feed/")[2])
    item = next(feed.iter("item"))
    content = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or ""
    assert (
        'class="featured-content__headline stars-above"' in content
        and '<p class="wp-block-paragraph">' in content
    )
    _, headers, _ = web.fetch(stmt["official_url"])
    assert headers["strict-transport-security"].startswith("max-age=") and "api.w.org" in headers["link"]


def test_embassy_page_title_is_not_the_site_name_and_translation_links_back(web):
    man = web.manifest()
    tr = man["translations"][0]
    english = web.fetch(tr["original_url"])[2].decode()
    spanish = web.fetch(tr["url"])[2].decode()
    assert (
        '<h1 class="site-title">' in english and "U.S. Embassy &amp; Consulates in Mexico</a></h1>" in english
    )
    assert '<h2 class="entry-title">' in english
    assert re.search(r"<title>[^<]+ \| U\.S\. Embassy &amp; Consulates in Mexico</title>", english)
    assert f'hreflang="es" href="{tr["url"]}"' in english
    assert f'hreflang="en" href="{tr["original_url"]}"' in spanish
    assert '<html lang="es-MX">' in spanish and "trata de personas" in spanish.lower()


def test_lookalikes_differ_only_in_names(web):
    man = web.manifest()
    stmts = {s["id"]: s for s in man["statements"]}
    for group in man["lookalike_groups"]:
        a, b = (stmts[i]["text"].split() for i in group[:2])
        assert difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() > 0.85, group
        assert a != b and stmts[group[0]]["title"] != stmts[group[1]]["title"]


def test_phase_switch_edits_one_statement_and_moves_one_page(web):
    man1 = web.manifest()
    edited_id = man1["edited"][0]
    edited = next(s for s in man1["statements"] if s["id"] == edited_id)
    moved = man1["moved"][0]
    _, h1, b1 = web.fetch(edited["official_url"])
    assert web.fetch(moved["old_url"])[0] == 200
    status, headers, _ = web.fetch(f"{REST}?per_page=100&_fields=id")
    before_total = int(headers["x-wp-total"])

    web.set_phase(2)
    status, h2, b2 = web.fetch(edited["official_url"], headers={"If-None-Match": h1["etag"]})
    assert status == 200 and h2["etag"] != h1["etag"] and b2 != b1
    assert b"Editor\xe2\x80\x99s note" in b2 and b"Editor\xe2\x80\x99s note" not in b1
    status, headers, _ = web.fetch(moved["old_url"])
    assert status == 301 and headers["location"] == moved["new_url"]
    assert web.fetch(moved["new_url"])[0] == 200
    man2 = web.manifest()
    assert set(man2["phase2_additions"]) <= {s["id"] for s in man2["statements"]}
    status, headers, body = web.fetch(
        f"{REST}?modified_after=2025-03-15T00:00:00&per_page=100&_fields=id,link,modified_gmt"
    )
    changed = {i["link"] for i in _json(body)}
    assert edited["official_url"] in changed and moved["new_url"] in changed
    assert int(web.fetch(f"{REST}?per_page=100")[1]["x-wp-total"]) > before_total
    smap = _sitemap_urls(web, "https://www.state.gov/sitemap_index.xml")
    assert moved["new_url"] in smap and moved["old_url"] not in smap
    # aggregators keep the text they copied before the edit
    copy = next(c for c in edited["copies"] if c["role"] == "syndicated")
    assert b"Editor\xe2\x80\x99s note" not in web.fetch(copy["url"])[2]


# ---------------------------------------------------------------------- faults and the request log


def test_faults_apply_n_times_then_the_page_returns(web):
    url = "https://www.state.gov/press-releases/"
    web.add_fault("www.state.gov", "/press-releases/", status=429, headers={"Retry-After": "120"}, times=2)
    first, second, third = (web.fetch(url) for _ in range(3))
    assert first[0] == second[0] == 429 and first[1]["retry-after"] == "120"
    assert third[0] == 200
    web.add_fault("mx.usembassy.gov", "*", soft_block=True, times=1)
    status, _, body = web.fetch("https://mx.usembassy.gov/feed/")
    assert status == 200 and b"Technical Difficulties" in body
    assert web.fetch("https://mx.usembassy.gov/feed/")[0] == 200
    web.add_fault("www.state.gov", "/robots.txt", status=503, times=None)
    assert [web.fetch("https://www.state.gov/robots.txt")[0] for _ in range(3)] == [503, 503, 503]
    assert web.faults()[0]["hits"] == 3
    web.clear_faults()
    assert web.fetch("https://www.state.gov/robots.txt")[0] == 200
    wire = next(
        c["url"]
        for s in web.manifest()["statements"]
        for c in s["copies"]
        if c["site"] == "worldwire.example"
    )
    web.add_fault("worldwire.example", "/story/*", drop=True)
    with pytest.raises((OSError, http.client.HTTPException)):
        web.fetch(wire)
    assert web.fetch(wire)[0] == 200
    flagged = [r["fault"] for r in web.requests()]
    assert flagged.count(True) == 2 + 1 + 3 + 1


def test_faults_with_raw_bytes_truncation_and_delay(web):
    url = "https://www.state.gov/press-releases/"
    bomb = gzip.compress(b"\0" * 1_000_000)
    web.add_fault(
        "www.state.gov",
        "/press-releases/",
        status=200,
        body=bomb,
        headers={"Content-Encoding": "gzip", "Content-Type": "text/html"},
    )
    status, headers, body = web.fetch(url)
    assert status == 200 and body == bomb and headers["content-encoding"] == "gzip"
    web.add_fault("www.state.gov", "/press-releases/", status=200, body=b"<html>" + b"x" * 5000, truncate=100)
    with pytest.raises(http.client.IncompleteRead):
        web.fetch(url)
    web.add_fault("www.state.gov", "/press-releases/", status=200, body="late", delay=0.5)
    started = time.monotonic()
    assert web.fetch(url)[2] == b"late" and time.monotonic() - started >= 0.5
    late = web.requests()[-1]
    assert late["answered"] - late["time"] >= 0.5  # time = arrival
    web.add_fault("www.state.gov", "/press-releases/", status=200, body=b"0123456789" * 3, drip=0.3)
    with pytest.raises(OSError):  # the client's timeout fires while the body still trickles
        web.fetch(url, timeout=0.1)
    assert web.fetch(url)[0] == 200 and b"collection-results" in web.fetch(url)[2]


def test_soft_block_flavours(web):
    url = "https://www.state.gov/press-releases/"
    web.add_fault("www.state.gov", "/press-releases/", soft_block="access_denied")
    status, _, body = web.fetch(url)
    assert status == 403 and b"Access Denied" in body
    web.add_fault("www.state.gov", "/press-releases/", soft_block="challenge")
    status, _, body = web.fetch(url)
    assert status == 200 and b"Checking your browser" in body
    status, _, body = web.fetch(
        "http://fixture.control/faults",
        method="POST",
        data=json.dumps({"host": "www.state.gov", "soft_block": "nonsense"}).encode(),
    )
    assert status == 400 and b"soft_block must be" in body


def test_most_specific_fault_wins(web):
    web.add_fault("www.state.gov", "*", status=500, times=None)
    web.add_fault("www.state.gov", "/wp-json/*", status=404, times=None)
    web.add_fault("www.state.gov", "/robots.txt", status=410, times=None)
    web.add_fault("*", "/feed/", status=418, times=None)
    assert web.fetch("https://www.state.gov/robots.txt")[0] == 410
    assert web.fetch(REST)[0] == 404
    assert web.fetch("https://www.state.gov/press-releases/")[0] == 500
    assert web.fetch("https://worldwire.example/feed/")[0] == 418
    assert web.fetch("https://worldwire.example/robots.txt")[0] == 200


def test_request_log_records_headers_and_clears(web):
    web.fetch(
        "https://ca.usembassy.gov/feed/",
        headers={"User-Agent": "dispatches-test/1.0", "If-None-Match": '"x"'},
    )
    web.fetch("http://policy-digest.example/robots.txt", method="HEAD")
    log = web.requests()
    assert [(r["method"], r["host"], r["path"]) for r in log] == [
        ("GET", "ca.usembassy.gov", "/feed/"),
        ("HEAD", "policy-digest.example", "/robots.txt"),
    ]
    assert log[0]["headers"]["user-agent"] == "dispatches-test/1.0" and log[0]["bytes"] > 0
    assert log[1]["bytes"] == 0 and log[0]["time"] <= log[1]["time"]
    assert web.requests(since=1) == log[1:]
    web.clear_requests()
    assert web.requests() == []


# ---------------------------------------------------------------------- process and scale


def test_parallel_clients_over_http_and_https(web):
    from concurrent.futures import ThreadPoolExecutor

    urls = [c["url"] for s in web.manifest()["statements"] for c in s["copies"]][:40]
    jobs = [u.replace("https:", "http:") if i % 3 == 0 else u for i, u in enumerate(urls * 5)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda u: web.fetch(u, headers={"Accept-Encoding": "gzip"})[0], jobs))
    assert statuses == [200] * len(jobs)
    log = web.requests()
    assert len(log) == len(jobs) and sorted(r["url"] for r in log) == sorted(jobs)


def test_server_script_prints_ready_line_and_stops_on_sigterm():
    proc = subprocess.Popen(
        [sys.executable, str(WEB / "server.py"), "--port", "0", "--crawl-delay", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    try:
        info = json.loads(proc.stdout.readline())
        assert info["proxy"].startswith("http://127.0.0.1:") and Path(info["ca"]).read_text().startswith(
            "-----BEGIN CERTIFICATE"
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert not Path(info["ca"]).exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    bad = subprocess.run(
        [sys.executable, str(WEB / "server.py"), "--scale", "0"], capture_output=True, text=True
    )
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


def test_scrapy_crawls_through_the_proxy_without_tls_warnings(web, tmp_path):
    spider = tmp_path / "walk.py"
    spider.write_text(
        "import scrapy\n"
        "class Walk(scrapy.Spider):\n"
        "    name = 'walk'\n"
        "    custom_settings = {'ROBOTSTXT_OBEY': True, 'DOWNLOAD_DELAY': 0, 'LOG_LEVEL': 'INFO',\n"
        "                       'TELNETCONSOLE_ENABLED': False}\n"
        "    start_urls = ['https://www.state.gov/sitemap_index.xml', 'http://worldwire.example/sitemap.xml']\n"
        "    def parse(self, response):\n"
        "        for loc in response.xpath(\"//*[local-name()='loc']/text()\").getall():\n"
        "            yield response.follow(loc, self.parse)\n"
        "        yield {'url': response.url, 'status': response.status}\n"
    )
    out = tmp_path / "out.jsonl"
    started = time.monotonic()
    env = web.env()
    env.pop("SCRAPY_SETTINGS_MODULE", None)  # stock Scrapy, not the project's settings
    run = subprocess.run(
        [sys.executable, "-m", "scrapy", "runspider", str(spider), "-o", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "WARNING" not in run.stderr and "ERROR" not in run.stderr, run.stderr[-2000:]
    items = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(items) > 20 and all(i["status"] == 200 for i in items)
    log = web.requests()
    assert {r["host"] for r in log} == {"www.state.gov", "worldwire.example"}
    assert sum(r["path"] == "/robots.txt" for r in log) == 2
    assert time.monotonic() - started < 60


def test_generation_is_deterministic_and_scales():
    a = generate.build_site(scale=1, phase=1, crawl_delay=5)
    b = generate.build_site(scale=1, phase=1, crawl_delay=5)
    assert {k: v.etag for k, v in a.items()} == {k: v.etag for k, v in b.items()}
    started = time.perf_counter()
    big = generate.build_site(scale=60, phase=1, crawl_delay=0)
    took = time.perf_counter() - started
    html_pages = sum(1 for r in big.values() if r.headers["Content-Type"].startswith("text/html"))
    texts = [s["text"] for s in big.manifest["statements"]]
    print(f"scale=60: {len(big)} resources, {html_pages} html pages, {len(texts)} statements in {took:.2f}s")
    assert html_pages >= 5000
    assert len(set(texts)) == len(texts)
    assert len({s["official_url"] for s in big.manifest["statements"]}) == len(texts)


def test_fixture_texts_copy_no_twelve_word_run_from_the_third_party_texts():
    seeds = SHARED / "seeds"
    history = SHARED / "corpus" / "real-pages" / "state-gov" / "rss-item-history"
    if not seeds.is_dir():
        pytest.skip("shared seeds absent")

    def words(text: str) -> list[str]:
        text = re.sub(r"<[^>]+>", " ", text)
        return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'"))

    def shingles(text: str) -> set[str]:
        w = words(text)
        return {" ".join(w[i : i + 12]) for i in range(len(w) - 11)}

    statements = _load("fixtureweb_statements", WEB / "statements.py")
    ours: set[str] = set()
    for s in statements.STATEMENTS:
        ours |= shingles(" ".join([s["title"], *s["paragraphs"], *s.get("edit", {}).get("paragraphs", [])]))
        ours |= shingles(" ".join(s.get("translation", {}).get("paragraphs", [])))
    for text in (
        generate.FAIR_USE,
        generate.WIRE_DISCLAIMER,
        generate.GOV_BANNER,
        generate.ARCHIVE_BANNER,
        generate.STATE_FOOTER,
    ):
        ours |= shingles(text)
    third_party = [path.read_text(errors="replace") for path in seeds.glob("*.txt")]
    for path in history.glob("*.jsonl.gz") if history.is_dir() else []:
        with gzip.open(path, "rt") as fh:
            for line in fh:
                item = json.loads(line)
                third_party.append(
                    item.get("title", "")
                    + " "
                    + (item.get("content_encoded") or item.get("description") or "")
                )
    copied = sorted({sh for text in third_party for sh in shingles(text) & ours})
    assert copied == []


def test_rest_paging_property():
    """Any per_page/orderby/order/date filter: the pages concatenate to exactly the filtered, sorted set."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    server = _load("fixtureweb_server", WEB / "server.py")  # tests/faults has its own top-level `server`
    site = generate.build_site(scale=3, phase=2, crawl_delay=0)
    items = site.collections[("www.state.gov", "state_press_release")]
    dates = sorted({i["date_gmt"] for i in items} | {i["modified_gmt"] for i in items})

    @settings(max_examples=60, deadline=None)
    @given(
        per_page=st.integers(1, 100),
        orderby=st.sampled_from(["date", "modified", "id", "slug"]),
        order=st.sampled_from(["asc", "desc"]),
        field=st.sampled_from(["", "after", "before", "modified_after"]),
        when=st.sampled_from(dates),
    )
    def check(per_page, orderby, order, field, when):
        query = f"per_page={per_page}&orderby={orderby}&order={order}&_fields=id,date_gmt,modified_gmt,slug"
        if field:
            query += f"&{field}={when}"
        got, page, total_pages = [], 1, None
        while True:
            status, headers, body = server._rest(
                site, "www.state.gov", "/wp-json/wp/v2/state_press_release", f"{query}&page={page}"
            )
            if total_pages is not None and page > total_pages:
                assert status == 400 and json.loads(body)["code"] == "rest_post_invalid_page_number"
                break
            assert status == 200
            total_pages = int(headers["X-WP-TotalPages"])
            chunk = json.loads(body)
            assert len(chunk) <= per_page
            got += chunk
            page += 1
            if page > total_pages:
                if total_pages == 0:
                    break
                continue
        want = [
            i
            for i in items
            if not field
            or (field == "after" and i["date_gmt"] > when)
            or (field == "before" and i["date_gmt"] < when)
            or (field == "modified_after" and i["modified_gmt"] > when)
        ]
        assert sorted(i["id"] for i in got) == sorted(i["id"] for i in want)
        keys = [
            {"date": i["date_gmt"], "modified": i["modified_gmt"], "id": i["id"], "slug": i["slug"]}[orderby]
            for i in got
        ]
        assert keys == sorted(keys, reverse=(order == "desc"))

    check()


# ---------------------------------------------------------------------- held-apart page templates

TEMPLATE_NAMES = [t.name for t in generate.wrapped_templates.TEMPLATES]


def _visible_text(body: bytes, content_type: str) -> str:
    from lxml.html import fromstring

    charset = content_type.partition("charset=")[2] or "utf-8"
    text = body.decode(charset)
    if content_type.startswith("text/html"):
        # lxml takes no str with an XML declaration, and bytes without a meta charset as latin-1
        text = fromstring(re.sub(r"^<\?xml[^>]*\?>\s*", "", text)).text_content()
    return " ".join(html.unescape(text).split()).casefold()


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_pages_are_served_with_their_ground_truth(web, name):
    man = web.manifest()
    pages = [p for p in man["templates"] if p["template"] == name]
    tpl = generate.wrapped_templates.BY_NAME[name]
    junk = generate.wrapped_templates.is_junk(name)
    assert len(pages) == (1 if junk else generate.wrapped_templates.PAGES_PER_TEMPLATE)
    stmts = {s["id"]: s for s in man["statements"]}
    for p in pages:
        assert p["split"] == tpl.split and p["host"] == tpl.host and p["family"] == tpl.family
        status, headers, body = web.fetch(p["url"])
        assert status == 200, p["url"]
        assert headers["content-type"] == p["content_type"]
        visible = _visible_text(body, p["content_type"])
        assert p["cruft"] and all(_fold(c) in visible for c in p["cruft"]), p["url"]
        if junk:
            assert p["outcome"] == "rejected" and p["expected_text"] == "" and p["statement_id"] is None
            continue
        # the page wraps the whole text of a fixture statement, and its cruft is not part of it
        stmt = stmts[p["statement_id"]]
        assert p["outcome"] == "article" and p["title"] == stmt["title"]
        assert p["expected_text"] == stmt["text"]
        for para in stmt["text"].split("\n\n"):
            assert _fold(para) in visible, (p["url"], para[:60])
        assert not any(_fold(c) in _fold(p["expected_text"]) for c in p["cruft"])
        if p["names_original"]:
            assert p["names_original"] == stmt["official_url"]
            assert stmt["official_url"] in body.decode(p["content_type"].partition("charset=")[2] or "utf-8")


def test_template_split_is_recorded_and_each_half_covers_the_families(web):
    man = web.manifest()
    names = [t.name for t in generate.wrapped_templates.TEMPLATES]
    assert len(names) == len(set(names)), "two templates share a name"
    split = man["template_split"]
    assert set(split) == {"dev", "test"} and not set(split["dev"]) & set(split["test"])
    assert sorted(split["dev"] + split["test"]) == sorted(TEMPLATE_NAMES)
    by_name = generate.wrapped_templates.BY_NAME
    for half in ("dev", "test"):
        families = " ".join(by_name[n].family for n in split[half])
        for kind in ("table layout", "WordPress", "mailing-list", "official report", "only"):
            assert kind in families, (half, kind)
    aggregators = [n for n in TEMPLATE_NAMES if not by_name[n].official and not n.startswith("junk-")]
    assert len(aggregators) >= 10
    assert {p["template"] for p in man["templates"]} == set(TEMPLATE_NAMES)


def test_template_hosts_stay_out_of_the_statement_copies_the_demo_counts(web):
    man = web.manifest()
    template_hosts = set(generate.TEMPLATE_HOSTS)
    assert template_hosts and template_hosts <= set(man["hosts"])
    assert not {c["site"] for s in man["statements"] for c in s["copies"]} & template_hosts
    from urllib.parse import urlsplit

    from crawlers.commands.demo import CRAWLS
    from crawlers.spiders.syndication import load_sources

    # What the demo's crawls are pointed at: the hosts in their arguments and the demo sources.
    demo_groups = {args.get("sources") for _, args in CRAWLS}
    demo_hosts = {h for _, args in CRAWLS for value in args.values() for h in value.split(",") if "." in h}
    demo_hosts |= {
        urlsplit(url).hostname
        for source in load_sources()
        if source.get("group") in demo_groups
        for url in (*source.get("feeds", ()), *source.get("sitemaps", ()))
    }
    assert {"policy-digest.example", "mx.usembassy.gov"} <= demo_hosts
    assert not template_hosts & demo_hosts
    for host in template_hosts:
        urls = {p["url"] for p in man["templates"] if p["host"] == host}
        status, _, body = web.fetch(f"https://{host}/sitemap.xml")
        listed = {u.findtext(f"{SM}loc") for u in ET.fromstring(body).iter(f"{SM}url")}
        assert status == 200 and listed == urls
