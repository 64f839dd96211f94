"""Politeness Scrapy does not do by itself: robots.txt `Crawl-delay` and `Retry-After`.

`PolitenessMiddleware` (a downloader middleware) keeps, per download slot (= host):

* a delay floor from robots.txt `Crawl-delay`, capped by `DISPATCHES_MAX_CRAWL_DELAY`. Scrapy
  parses the delay (Protego, `robots_parsed` signal) but never acts on it; AutoThrottle would
  also lower a slot's delay towards `DOWNLOAD_DELAY`. So the floor is re-applied whenever a
  request reaches the downloader and after every response (after AutoThrottle's adjustment),
  and jitter is switched off on that slot so no gap is shorter than the delay.
* a pause after a 429 or 503: `Retry-After` in seconds or as an HTTP date (RFC 9110), capped by
  `DISPATCHES_MAX_RETRY_AFTER`; no or garbage header -> `DISPATCHES_RETRY_BACKOFF` doubled per
  retry. The pause holds the whole host's queue (Scrapy's retry would otherwise come at once,
  scrapy/scrapy#3849). A Retry-After beyond the cap defers the host to the next run: no
  more requests go to it in this run (`dispatches/deferred/<host>`).

The retry itself stays with Scrapy's RetryMiddleware (this middleware sits closer to the
downloader, so it sees the response first).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.asyncio import call_later
from scrapy.utils.httpobj import urlparse_cached

logger = logging.getLogger(__name__)

__all__ = ["PolitenessMiddleware", "parse_retry_after"]


def parse_retry_after(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date); None if garbage."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1", "replace")
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


class PolitenessMiddleware:
    def __init__(self, crawler):
        s = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.max_crawl_delay = s.getfloat("DISPATCHES_MAX_CRAWL_DELAY")
        self.max_retry_after = s.getfloat("DISPATCHES_MAX_RETRY_AFTER")
        self.backoff = s.getfloat("DISPATCHES_RETRY_BACKOFF")
        self.useragent = s.get("ROBOTSTXT_USER_AGENT") or s.get("USER_AGENT") or "*"
        self.floors: dict[str, float] = {}
        self.paused_until: dict[str, float] = {}
        self.deferred: set[str] = set()
        crawler.signals.connect(self._robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(self._reached, signal=signals.request_reached_downloader)
        crawler.signals.connect(self._downloaded, signal=signals.response_downloaded)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    # --- Crawl-delay -------------------------------------------------------------------
    def _robots_parsed(self, robotparser, request, **kw):
        try:
            delay = robotparser.crawl_delay(self.useragent)
        except Exception:  # a third-party parser without crawl_delay support
            delay = None
        if not delay:
            return
        key = self._key(request)
        capped = min(float(delay), self.max_crawl_delay)
        if capped < delay:
            logger.warning(
                "robots.txt of %s asks Crawl-delay %g s; capped at %g s (DISPATCHES_MAX_CRAWL_DELAY)",
                key,
                delay,
                capped,
            )
        else:
            logger.info("robots.txt of %s: Crawl-delay %g s", key, capped)
        self.floors[key] = capped
        self.stats.set_value(f"dispatches/crawl_delay/{key}", capped)
        self._apply(key)

    def _key(self, request) -> str:
        return request.meta.get("download_slot") or urlparse_cached(request).hostname or ""

    def _slot(self, key):
        engine = getattr(self.crawler, "engine", None)
        downloader = getattr(engine, "downloader", None)
        return downloader.slots.get(key) if downloader else None

    def _apply(self, key: str) -> None:
        floor = self.floors.get(key)
        slot = self._slot(key)
        if floor is None or slot is None:
            return
        if slot.delay < floor:
            slot.delay = floor
        slot.jitter = 0.0

    def _reached(self, request, **kw):
        key = request.meta.get("download_slot") or self._key(request)
        self._apply(key)
        until = self.paused_until.get(key)
        if until and until > time.monotonic():
            self._hold(key, until)

    def _downloaded(self, response, request, **kw):
        self._apply(self._key(request))
        if response.status in (429, 503):
            # Here, not in process_response: this signal fires before the downloader frees the
            # slot and dequeues the next request, so the pause stops that one too.
            self._retry_after(request, response)

    # --- Retry-After ---------------------------------------------------------------------
    def _hold(self, key: str, until: float) -> None:
        """Keep the host's download queue closed until `until` (monotonic)."""
        slot = self._slot(key)
        if slot is None:
            return
        downloader = self.crawler.engine.downloader
        if slot.latercall:
            slot.latercall.cancel()
        # Downloader._latercall reopens the queue; a pending latercall is how Scrapy itself
        # holds a slot for DOWNLOAD_DELAY, so holding it longer is the same mechanism.
        slot.latercall = call_later(max(0.0, until - time.monotonic()), downloader._latercall, slot)

    def process_request(self, request, spider=None):
        key = self._key(request)
        if key in self.deferred:
            self.stats.inc_value("dispatches/deferred_requests")
            raise IgnoreRequest(
                f"{key} asked to wait beyond DISPATCHES_MAX_RETRY_AFTER; deferred to the next run"
            )
        return None

    def _retry_after(self, request, response) -> None:
        key = self._key(request)
        header = response.headers.get(b"Retry-After")
        delay = parse_retry_after(header)
        if delay is None:
            if header is not None:
                logger.warning("Unusable Retry-After %r from %s; backing off", header, request.url)
            delay = self.backoff * (2 ** request.meta.get("retry_times", 0))
        request.meta["dispatches_retry_after"] = delay
        if delay > self.max_retry_after:
            if key not in self.deferred:
                logger.warning(
                    "%s answered %d with Retry-After %.0f s (> %.0f s cap): host deferred to the next run",
                    key,
                    response.status,
                    delay,
                    self.max_retry_after,
                )
            self.deferred.add(key)
            self.stats.set_value(f"dispatches/deferred/{key}", 1)
            return
        until = time.monotonic() + delay
        if until > self.paused_until.get(key, 0):
            self.paused_until[key] = until
            logger.info(
                "%s answered %d: pausing the host for %.1f s (Retry-After)", key, response.status, delay
            )
            self.stats.inc_value("dispatches/retry_after_pauses")
            self._hold(key, until)

    def process_response(self, request, response, spider=None):
        if response.status in (429, 503):
            if "dispatches_retry_after" not in request.meta:
                self._retry_after(request, response)
            if self._key(request) in self.deferred:
                request.meta["dont_retry"] = True  # beyond the cap: the next run, not this one
        return response
