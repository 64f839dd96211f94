"""The request guards of a crawl: what a request may touch, and hosts that keep failing.

* ``SafetyMiddleware`` (downloader middleware, before offsite and robots) checks every request,
  including each redirect hop and robots.txt fetches, against the rules of
  ``crawlers.middlewares.addresses`` (only http/https; no loopback, private, link-local, CGNAT,
  ULA, multicast, metadata or unspecified address however spelled; no ``localhost``-style
  names), and removes userinfo and secret query parameters (``token``, ``api_key``...) from the
  URL before the request is fetched, logged or stored.
* ``CircuitBreakerMiddleware`` (just after Scrapy's retry middleware): a host whose attempts
  fail ``DISPATCHES_CIRCUIT_BREAKER`` times in a row is left alone for the rest of the run.
* ``RedirectGuardMiddleware`` (response side, just before Scrapy's redirect middleware) refuses
  a 3xx whose ``Location`` is not http(s) or names a blocked address, and strips credentials
  from ``Location`` so they never reach a log line.
* URLs in requests and log lines lose userinfo and secret parameters through
  ``store.urls.strip_secrets`` (the project's one secret-parameter list).

Next to them: the address rules (``addresses.py``), the resolver that checks the address a
*name* resolves to at connect time (``resolver.py``, ``SafeResolver``), and the extension that
drops queued requests when a run stops (``slots.py``, ``BoundedStop``). Left to others:
robots.txt fail-closed, Retry-After and Crawl-delay (``robots.py``, ``politeness.py``),
extraction time limits (``cleaners/pool.py``), database durability (``store``). Decompression
bounds, offsite-on-redirect and http(s)-only redirects are Scrapy's own and are verified by
``tests/faults``.

Settings (defaults and the environment in ``crawlers/settings.py``):
``DISPATCHES_ALLOW_HOSTS`` (``host``, ``host:port``, ``*.suffix``, ``*.suffix:port``),
``DISPATCHES_ALLOW_PRIVATE`` (bool, test rigs only), ``DISPATCHES_CIRCUIT_BREAKER`` (int, 0 =
off), ``DISPATCHES_SECRET_PARAMS`` (extra query parameter names to strip).
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

from crawlers.config import setting_list
from crawlers.middlewares.addresses import AllowList, check_url
from crawlers.middlewares.resolver import SafeResolver, refused_reason
from crawlers.middlewares.slots import BoundedStop, drain_download_queues
from store.urls import set_secret_params, strip_secrets

logger = logging.getLogger(__name__)

# SafeResolver and BoundedStop are importable from here too: a project's own settings may name
# them by this module's path.
__all__ = [
    "BoundedStop",
    "CircuitBreakerMiddleware",
    "RedirectGuardMiddleware",
    "SafeResolver",
    "SafetyMiddleware",
]


class SafetyMiddleware:
    """Scheme, address and credential guard on every request.

    Runs before the offsite and robots.txt middlewares so a refused URL costs no robots.txt
    fetch. Refused requests raise ``IgnoreRequest("blocked <reason>: <url>")``, reach the
    request's errback and count under ``safety/blocked/<reason>``.
    """

    def __init__(self, crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.allow = AllowList.from_settings(settings)
        set_secret_params(setting_list(settings, "DISPATCHES_SECRET_PARAMS"))

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    # --- requests ------------------------------------------------------------------------
    def process_request(self, request, spider=None):
        url = request.url
        reason = check_url(url, self.allow)
        if reason:
            self._block(reason, url)
        host = (urlparse_cached(request).hostname or "").lower()
        refused = refused_reason(host)
        if refused and not self.allow.allows_name(host):
            self._block(refused, url, detail="resolves to a blocked address")
        clean = strip_secrets(url)
        if clean != url:
            self.stats.inc_value("safety/credentials_stripped")
            logger.info("Removed credentials from a URL on %s before fetching it", host)
            return request.replace(url=clean)
        return None

    def _block(self, reason: str, url: str, detail: str = ""):
        shown = strip_secrets(url)
        self.stats.inc_value(f"safety/blocked/{reason}")
        logger.warning("Blocked %s request%s: %r", reason, f" ({detail})" if detail else "", shown)
        raise IgnoreRequest(f"blocked {reason}: {shown}")


class CircuitBreakerMiddleware:
    """Leaves a host alone for the rest of the run after K failed attempts in a row.

    A failed attempt is a 5xx or 429 response or a download exception (timeout, reset,
    refused...), counted on every attempt: register it just after RetryMiddleware (550) so it
    sees each exception before the retry decision. Responses are counted when they arrive
    (``response_downloaded``), before the downloader starts the host's next request, so a
    threshold reached on this answer already stops that request. Any other response resets the
    count. Once open, every request to the host (retries included) raises
    ``IgnoreRequest("circuit open ...")``; the open hosts are in stats ``safety/circuit_open``.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.threshold = crawler.settings.getint("DISPATCHES_CIRCUIT_BREAKER")
        self.failures: dict[str, int] = {}
        self.open_hosts: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        breaker = cls(crawler)
        crawler.signals.connect(breaker.response_downloaded, signal=signals.response_downloaded)
        return breaker

    def process_request(self, request, spider=None):
        host = (urlparse_cached(request).hostname or "").lower()
        if host in self.open_hosts:
            self.stats.inc_value(f"safety/circuit_open_skipped/{host}")
            raise IgnoreRequest(f"circuit open for {host}: {strip_secrets(request.url)}")
        return None

    def response_downloaded(self, response, request, spider=None):
        host = (urlparse_cached(request).hostname or "").lower()
        if response.status >= 500 or response.status == 429:
            self._failed(host, f"HTTP {response.status}")
        else:
            self.failures.pop(host, None)

    def process_exception(self, request, exception, spider=None):
        if isinstance(exception, IgnoreRequest):
            return None
        host = (urlparse_cached(request).hostname or "").lower()
        if refused_reason(host):  # our own SSRF refusal, not the host failing
            return None
        self._failed(host, type(exception).__name__)
        return None

    def _failed(self, host: str, what: str):
        if self.threshold <= 0 or not host:
            return
        n = self.failures.get(host, 0) + 1
        self.failures[host] = n
        if n >= self.threshold and host not in self.open_hosts:
            self.open_hosts.add(host)
            self.stats.set_value("safety/circuit_open", sorted(self.open_hosts))
            logger.error(
                "Circuit breaker: %s failed %d times in a row (last: %s); "
                "leaving it alone for the rest of this run",
                host,
                n,
                what,
            )
            self._drain_queued(host)

    def _drain_queued(self, host: str) -> None:
        """Fail the requests for ``host`` already waiting in a download slot.

        They passed ``process_request`` before the breaker opened and would otherwise still be
        sent (one per DOWNLOAD_DELAY). Uses the downloader's slot queues, which are internal to
        Scrapy: if their shape changes this does nothing and only new requests are refused.
        """

        def match(request) -> bool:
            return (urlparse_cached(request).hostname or "").lower() == host

        def refusal(request) -> IgnoreRequest:
            return IgnoreRequest(f"circuit open for {host}: {strip_secrets(request.url)}")

        n = drain_download_queues(self.crawler, match, refusal)
        if n:
            self.stats.inc_value(f"safety/circuit_open_skipped/{host}", n)
        # Requests already handed to a download task (not yet sent) are stopped by the downloader.
        refuse = getattr(getattr(self.crawler.engine, "downloader", None), "refuse", None)
        if callable(refuse):
            refuse(match, refusal)


class RedirectGuardMiddleware:
    """Checks a 3xx ``Location`` before Scrapy's RedirectMiddleware follows or logs it.

    Register with an order just above ``RedirectMiddleware`` (600) so its
    ``process_response`` runs first.
    """

    def __init__(self, crawler):
        self.stats = crawler.stats
        self.allow = AllowList.from_settings(crawler.settings)
        set_secret_params(setting_list(crawler.settings, "DISPATCHES_SECRET_PARAMS"))

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response, spider=None):
        if response.status not in (301, 302, 303, 307, 308) or b"Location" not in response.headers:
            return response
        location = response.headers[b"Location"].decode("latin-1").strip()
        target = response.urljoin(location)
        reason = check_url(target, self.allow)
        if reason:
            shown = strip_secrets(target)
            self.stats.inc_value(f"safety/blocked/{reason}")
            self.stats.inc_value("safety/blocked_redirects")
            logger.warning(
                "Blocked redirect (%s) from %r to %r",
                reason,
                strip_secrets(request.url),
                shown,
            )
            raise IgnoreRequest(f"blocked redirect {reason}: {shown}")
        clean = strip_secrets(target)
        if clean != target:
            self.stats.inc_value("safety/credentials_stripped")
            headers = response.headers.copy()
            headers[b"Location"] = clean.encode("ascii", "ignore")
            return response.replace(headers=headers)
        return response
