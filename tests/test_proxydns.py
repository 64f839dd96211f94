"""A proxy's "this name does not resolve" answer becomes the DNSLookupError a direct fetch raises;
every other answer passes unchanged. (The crawl through the fixture proxy is in
tests/test_archives_crawl.py.)"""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse, Request
from twisted.internet.error import DNSLookupError

from crawlers.middlewares.proxydns import ProxyDnsFailureMiddleware, proxy_says_unresolved
from crawlers.neterrors import network_reason

URL = "http://closed-post.usembassy.gov/press-releases/one.html"
PROXY = {"proxy": "http://127.0.0.1:3128"}


def _answer(status: int, headers: dict[str, str], meta: dict[str, str] | None = None):
    request = Request(URL, meta=meta if meta is not None else PROXY)
    return request, HtmlResponse(URL, status=status, headers=headers, body=b"<html></html>", request=request)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Squid-Error": "ERR_DNS_FAIL 0"},
        {"Proxy-Status": 'proxy.example; error=dns_error; rcode="NXDOMAIN"'},
        {"Proxy-Status": "cdn.example, proxy.example; error=dns_error"},
    ],
    ids=["squid", "rfc9209", "rfc9209-second-hop"],
)
def test_the_proxy_saying_the_name_does_not_resolve_is_a_dns_failure(headers):
    request, response = _answer(503, headers)
    assert proxy_says_unresolved(response.headers)
    with pytest.raises(DNSLookupError) as caught:
        ProxyDnsFailureMiddleware().process_response(request, response)
    assert network_reason(caught.value) == "DNS lookup failed"
    assert "closed-post.usembassy.gov" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "headers", "meta"),
    [
        (503, {"X-Squid-Error": "ERR_CONNECT_FAIL 111"}, PROXY),  # resolved, but refused
        (502, {"Proxy-Status": "proxy.example; error=connection_refused"}, PROXY),
        (503, {"Retry-After": "30"}, PROXY),  # the site's own 503
        (503, {"X-Squid-Error": "ERR_DNS_FAIL 0"}, {}),  # no proxy on the way: the site's header
        (200, {"X-Squid-Error": "ERR_DNS_FAIL 0"}, PROXY),
    ],
    ids=["squid-refused", "rfc9209-refused", "site-503", "no-proxy", "not-an-error"],
)
def test_other_answers_pass_unchanged(status, headers, meta):
    request, response = _answer(status, headers, meta)
    assert ProxyDnsFailureMiddleware().process_response(request, response) is response
