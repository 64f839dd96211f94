"""Unit tests of what a spider decides from stored URL state and stats, and of the RawPages it yields."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from scrapy import Request
from scrapy.http import Headers, HtmlResponse
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionRefusedError, DNSLookupError

from crawlers.discovery import Found, in_scope
from crawlers.freshness import UNCLEAN, conditional_headers, host_was_clean, unchanged, validators
from crawlers.neterrors import count_network_error
from crawlers.rawpages import discovery_hints, failed_page, flat_headers, page_of
from crawlers.spiders.arguments import ArgumentError, parse_limit, parse_window


@pytest.fixture
def stats():
    crawler = get_crawler()
    crawler.stats.open_spider()
    return crawler.stats


def test_conditional_headers_come_from_the_stored_validators():
    assert conditional_headers(None) == {} and conditional_headers({"etag": None, "lastmod": "x"}) == {}
    stored = {"etag": '"abc"', "last_modified": "Tue, 04 Mar 2025 15:00:00 GMT"}
    assert conditional_headers(stored) == {
        "If-None-Match": '"abc"',
        "If-Modified-Since": "Tue, 04 Mar 2025 15:00:00 GMT",
    }
    assert conditional_headers({"etag": '"abc"'}) == {"If-None-Match": '"abc"'}


@pytest.mark.parametrize(
    ("stored", "hint", "skip"),
    [
        ({"lastmod": "2025-03-04T10:00:00Z"}, "2025-03-04T10:00:00+00:00", True),  # same time, other form
        ({"lastmod": "2025-03-04T10:00:00Z"}, "2025-03-03", True),
        ({"lastmod": "2025-03-04T10:00:00Z"}, "2025-03-04T10:00:01Z", False),
        ({"modified_gmt": "2025-03-05T00:00:00Z", "lastmod": "2020-01-01"}, "2025-03-04", True),
        ({"lastmod": "2025-03-04"}, None, False),  # no hint: ask (conditionally)
        ({"lastmod": "garbage"}, "2025-03-04", False),
        ({}, "2025-03-04", False),
        (None, "2025-03-04", False),  # not stored yet
    ],
)
def test_unchanged_only_when_the_hint_is_not_newer(stored, hint, skip):
    assert unchanged(stored, hint) is skip


def test_validators_kept_from_response_headers():
    assert validators(Headers({"Content-Type": "text/xml"})) is None
    assert validators(Headers({"ETag": '"v1"'})) == {"etag": '"v1"', "last_modified": None}
    both = Headers({"ETag": 'W/"v2"', "Last-Modified": "Tue, 04 Mar 2025 15:00:00 GMT"})
    assert validators(both) == {"etag": 'W/"v2"', "last_modified": "Tue, 04 Mar 2025 15:00:00 GMT"}


def test_host_is_clean_until_a_failure_of_its_own(stats):
    assert host_was_clean(stats, "a.example")
    stats.inc_value("dispatches/fetch_failed/b.example")
    stats.inc_value("dispatches/network_errors/a.example")  # a retried error alone does not count
    assert host_was_clean(stats, "a.example") and not host_was_clean(stats, "b.example")
    stats.set_value("safety/circuit_open", ["a.example"])
    assert not host_was_clean(stats, "a.example")


@pytest.mark.parametrize("name", UNCLEAN)
def test_every_unclean_stat_makes_its_host_unclean(stats, name):
    stats.set_value(f"dispatches/{name}/a.example", "why")
    assert not host_was_clean(stats, "a.example") and host_was_clean(stats, "b.example")


def test_discovery_hints_name_the_hint_by_where_it_came_from():
    rest = Found(
        url="https://h.example/a/",
        via="rest",
        lastmod="2025-03-04T10:00:00Z",
        published="2025-03-01T09:00:00Z",
        title="A title",
        guid="https://h.example/?p=7",
    )
    assert discovery_hints(rest) == {
        "via": "rest",
        "modified_gmt": "2025-03-04T10:00:00Z",
        "published": "2025-03-01T09:00:00Z",
        "discovered_title": "A title",
        "guid": "https://h.example/?p=7",
    }
    assert discovery_hints(Found(url="https://h.example/b/", via="sitemap", lastmod="2025-03-04")) == {
        "via": "sitemap",
        "lastmod": "2025-03-04",
    }


def response(status: int, body: bytes, redirects: list[str] | None = None) -> HtmlResponse:
    request = Request("https://h.example/new/", meta={"redirect_urls": redirects} if redirects else {})
    headers = Headers({"Content-Type": "text/html"})
    headers.appendlist("Set-Cookie", "a=1")
    headers.appendlist("Set-Cookie", "b=2")
    return HtmlResponse(request.url, status=status, headers=headers, body=body, request=request)


def test_headers_flattened_one_string_per_lower_case_name():
    assert flat_headers(response(200, b"").headers) == {"content-type": "text/html", "set-cookie": "a=1, b=2"}


def test_page_of_a_redirected_200_keeps_the_first_url_and_the_body():
    page = page_of(response(200, b"<p>x</p>", ["https://h.example/old/"]), "state_gov", "sitemap", {"k": 1})
    assert (page.url, page.final_url, page.status, page.body) == (
        "https://h.example/old/",
        "https://h.example/new/",
        200,
        b"<p>x</p>",
    )
    assert (page.spider, page.discovered_via, page.meta) == ("state_gov", "sitemap", {"k": 1})
    assert page.headers["content-type"] == "text/html" and page.fetched_at.endswith("Z")


@pytest.mark.parametrize("status", [304, 404, 410])
def test_page_of_other_statuses_has_no_body(status):
    page = page_of(response(status, b"<p>not found page</p>"), "usembassy", None, {})
    assert page.url == page.final_url == "https://h.example/new/" and page.body == b""


def test_failed_page_records_the_error_and_how_the_url_was_found():
    request = Request("https://h.example/gone/", meta={"hints": {"via": "feed", "lastmod": "x"}})
    page = failed_page(request, "usembassy", "TimeoutError: took too long")
    assert (page.url, page.final_url, page.status, page.body) == ("https://h.example/gone/", None, 0, b"")
    assert page.discovered_via == "feed" and page.meta == {"fetch_error": "TimeoutError: took too long"}
    assert failed_page(Request("https://h.example/x/"), "s", "e").discovered_via is None


def test_network_errors_counted_per_host_and_logged_once(stats, caplog):
    log = logging.getLogger("test_spider_rules")
    with caplog.at_level(logging.DEBUG, logger="test_spider_rules"):
        assert count_network_error(stats, log, "a.example", DNSLookupError("a.example"), whole_host=True)
        assert count_network_error(stats, log, "a.example", ConnectionRefusedError(), whole_host=False)
        assert not count_network_error(stats, log, "a.example", ValueError("a bug"), whole_host=True)
    assert stats.get_value("dispatches/network_errors/a.example") == 2
    assert stats.get_value("dispatches/network_error/a.example") == "DNS lookup failed"
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["a.example unreachable (DNS lookup failed)"]


def test_a_later_request_failing_does_not_mark_the_whole_host(stats):
    log = logging.getLogger("test_spider_rules")
    assert count_network_error(stats, log, "b.example", ConnectionRefusedError(), whole_host=False)
    assert stats.get_value("dispatches/network_errors/b.example") == 1
    assert stats.get_value("dispatches/network_error/b.example") is None


def test_in_scope_by_date_window_and_topic():
    found = Found(url="https://h.example/human-trafficking-report/", via="feed", published="2025-03-04")
    assert in_scope(found, date(2025, 3, 1), date(2025, 3, 31), ["trafficking"])
    assert in_scope(found, None, None, [])
    assert not in_scope(found, date(2025, 3, 5), None, [])
    assert not in_scope(found, None, date(2025, 3, 3), [])
    assert not in_scope(found, None, None, ["sanctions"])
    assert in_scope(Found(url="https://h.example/x/", via="sitemap"), date(2030, 1, 1), None, [])


def test_window_and_limit_arguments():
    assert parse_window(None, "") == (None, None)
    assert parse_window("2024-01-01", "2024-01-31T00:00:00") == (date(2024, 1, 1), date(2024, 1, 31))
    with pytest.raises(ArgumentError, match="is after"):
        parse_window("2024-02-01", "2024-01-31")
    assert parse_limit(None) is None and parse_limit("") is None and parse_limit("0") == 0
    assert parse_limit(" 5 ") == 5
    for bad, why in (("five", "whole number$"), ("-1", ">= 0"), ("2.5", "whole number$")):
        with pytest.raises(ArgumentError, match=why):
            parse_limit(bad)
