"""The downloader Dispatches runs: Scrapy's, with the per-host concurrency limit enforced at every delay.

Scrapy (2.14 and later) starts each request of a download slot's queue as an asyncio task, and
counts it in ``slot.transferring`` only once that task first runs. ``Downloader._process_queue``
decides how many requests to start from ``slot.free_transfer_slots()`` in the same, synchronous
pass, so every request that reaches the slot before the event loop turns is started at once: with a
zero ``DOWNLOAD_DELAY`` a host gets up to ``CONCURRENT_REQUESTS`` requests at a time instead of
``CONCURRENT_REQUESTS_PER_DOMAIN`` (or the slot's ``DOWNLOAD_SLOTS`` concurrency). A non-zero delay
(AutoThrottle always keeps one) hides it, because the queue then starts one request per pass.

``SlotLimitDownloader`` counts the request as transferring when its task is created, which is the
one thing the fix needs. Everything else (delays, AutoThrottle, the slot holds that
``PolitenessMiddleware`` places for Crawl-delay and Retry-After) stays Scrapy's. The hook is a
private method of Scrapy's downloader; docs/scrapy-inflight.md has the upstream report, the patch
and how to drop this class once Scrapy counts the request itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from scrapy.core.downloader import Downloader, Slot
from twisted.python.failure import Failure

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

__all__ = ["SlotLimitDownloader"]


class SlotLimitDownloader(Downloader):
    """Scrapy's downloader, never running more requests per slot than the slot's concurrency.

    Enable with ``DOWNLOADER = "crawlers.downloader.SlotLimitDownloader"``.
    """

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self._refusals: list[tuple[Callable[[Request], bool], Callable[[Request], Exception]]] = []
        if not callable(getattr(Downloader, "_wait_for_download", None)):
            # Scrapy reshaped its downloader: the override below is never called and the per-host
            # limit depends on DOWNLOAD_DELAY again. Loud, but not fatal to the run.
            logger.warning(
                "scrapy.core.downloader.Downloader has no _wait_for_download any more; "
                "SlotLimitDownloader cannot enforce CONCURRENT_REQUESTS_PER_DOMAIN "
                "(see docs/scrapy-inflight.md)"
            )

    def _wait_for_download(
        self, slot: Slot, request: Request, queue_dfd: Deferred[Response]
    ) -> Coroutine[Any, Any, None]:
        """Count ``request`` as transferring now, then hand back Scrapy's (not yet started) coroutine.

        ``_process_queue`` calls this synchronously for each request it dequeues and re-checks
        ``slot.free_transfer_slots()`` right after, so the count is in place before the next
        request is considered. Scrapy's ``_download`` adds the same request again (a set: no
        change) and removes it when the download ends, whatever the outcome.
        """
        slot.transferring.add(request)
        return self._send_unless_refused(slot, request, queue_dfd)

    def refuse(self, match: Callable[[Request], bool], make_exc: Callable[[Request], Exception]) -> None:
        """From now on, fail every request that ``match``es instead of sending it.

        For decisions taken while requests are on their way out (a host's circuit opening): a
        request whose download task ``_process_queue`` created just before the decision has passed
        the middlewares and left the slot queue, so only this check, made when the task runs,
        still stops it.
        """
        self._refusals.append((match, make_exc))

    async def _send_unless_refused(self, slot: Slot, request: Request, queue_dfd: Deferred[Response]) -> None:
        for match, make_exc in self._refusals:
            if match(request):
                slot.transferring.discard(request)
                self._process_queue(slot)
                queue_dfd.errback(Failure(make_exc(request)))
                return
        await super()._wait_for_download(slot, request, queue_dfd)
