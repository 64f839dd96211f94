"""Requests already waiting in the downloader's slots, and dropping them when a crawl stops.

Requests pass the downloader middlewares *before* they wait in their host's slot for
DOWNLOAD_DELAY / Crawl-delay, so a decision taken later (a host's circuit opened, the spider is
closing) would not stop them. ``drain_download_queues`` fails the waiting ones that match;
``BoundedStop`` (extension, ``DISPATCHES_BOUNDED_STOP``) uses it so that SIGTERM or
CLOSESPIDER_TIMEOUT end a run within DOWNLOAD_TIMEOUT instead of after every queued request.
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from twisted.internet.task import LoopingCall

from store.urls import strip_secrets

logger = logging.getLogger(__name__)

__all__ = ["BoundedStop", "drain_download_queues"]


def drain_download_queues(crawler, match, make_exc) -> int:
    """Fail requests waiting in the downloader's slot queues (not yet sent) that ``match``.

    Requests pass the downloader middlewares *before* they wait in their host's slot for
    DOWNLOAD_DELAY, so a decision taken later (circuit open, shutdown) would not stop them.
    The slot queues are internal to Scrapy (2.19: deque of (request, Deferred)); if their shape
    changes this does nothing.
    """
    downloader = getattr(getattr(crawler, "engine", None), "downloader", None)
    drained = 0
    for slot in list(getattr(downloader, "slots", {}).values()):
        queue = getattr(slot, "queue", None)
        if not queue:
            continue
        kept = []
        while queue:
            entry = queue.popleft()
            try:
                request, dfd = entry
                hit = match(request) and not dfd.called
            except (TypeError, ValueError):
                hit = False
            if hit:
                drained += 1
                dfd.errback(make_exc(request))
            else:
                kept.append(entry)
        queue.extend(kept)
    return drained


class BoundedStop:
    """Extension: once the spider is closing (SIGTERM, CLOSESPIDER_TIMEOUT, memory limit),
    requests still waiting in a download slot are dropped instead of downloaded one by one.

    Scrapy's graceful stop waits for every request the engine holds, including those queued
    behind DOWNLOAD_DELAY / Crawl-delay (up to CONCURRENT_REQUESTS of them), so a stop could
    take minutes. Only transfers already under way finish (bounded by DOWNLOAD_TIMEOUT); the
    dropped URLs are fetched by the next run (the database, not the queue, is the record).
    Stats: ``safety/dropped_at_stop``.
    """

    def __init__(self, crawler, interval: float = 0.2):
        self.crawler = crawler
        self.interval = interval
        self.loop: LoopingCall | None = None
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("DISPATCHES_BOUNDED_STOP"):
            raise NotConfigured
        return cls(crawler)

    def opened(self, spider=None):
        self.loop = LoopingCall(self.check)
        self.loop.start(self.interval, now=False)

    def check(self):
        slot = getattr(getattr(self.crawler, "engine", None), "_slot", None)
        if slot is None or getattr(slot, "closing", None) is None:
            return
        n = drain_download_queues(
            self.crawler,
            lambda request: True,
            lambda request: IgnoreRequest(f"spider closing: not fetched: {strip_secrets(request.url)}"),
        )
        if n:
            self.crawler.stats.inc_value("safety/dropped_at_stop", n)
            logger.info("Stopping: %d queued request(s) dropped; the next run fetches them", n)

    def closed(self, spider=None, reason=None):
        if self.loop is not None and self.loop.running:
            self.loop.stop()
