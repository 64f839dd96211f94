"""A host that does not resolve, as a forward proxy reports it, is a DNS failure.

Without a proxy, a name that does not resolve reaches Scrapy as a `DNSLookupError`. Through
the proxy of `http_proxy`/`https_proxy`, the proxy resolves the name, and for a plain-http URL
it answers with an error page of its own: Squid with 503 and `X-Squid-Error: ERR_DNS_FAIL`,
proxies that follow RFC 9209 with `Proxy-Status: <name>; error=dns_error`. This middleware,
nearest the downloader, turns such an answer back into the `DNSLookupError` Scrapy would have
raised, so robots.txt, the spiders and the politeness rules see one kind of failure whichever
way the crawl goes out (no Retry-After pause for the proxy's 503, no retry of a name that does
not exist). For an https URL the proxy refuses the CONNECT instead and Scrapy raises a
`TunnelError` that carries the status only: that one cannot be told from other proxy failures
and is left as it is.
"""

from __future__ import annotations

import re

from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import DNSLookupError

__all__ = ["ProxyDnsFailureMiddleware", "proxy_says_unresolved"]

_SQUID = re.compile(rb"^\s*ERR_DNS_FAIL\b", re.I)
_PROXY_STATUS = re.compile(rb"[;,\s]error\s*=\s*\"?dns_error\b", re.I)


def proxy_says_unresolved(headers) -> bool:
    """Whether a proxy's answer says the host's name does not resolve (Squid or RFC 9209)."""
    squid = headers.get(b"X-Squid-Error") or b""
    status = b",".join(headers.getlist(b"Proxy-Status") or [])
    return bool(_SQUID.match(squid) or _PROXY_STATUS.search(b";" + status))


class ProxyDnsFailureMiddleware:
    def process_response(self, request, response, spider=None):
        if response.status < 500 or not request.meta.get("proxy"):
            return response
        if proxy_says_unresolved(response.headers):
            host = urlparse_cached(request).hostname or ""
            raise DNSLookupError(f"{host}: the proxy could not resolve the name (HTTP {response.status})")
        return response
