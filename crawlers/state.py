"""Incremental crawl state for the spiders, as a Scrapy extension.

A scheduled re-run fetches only what is new or changed. The spiders decide that from what
the database knows about each URL (stored ETag/Last-Modified, sitemap `lastmod`, REST
`modified_gmt`) and, after a clean complete run, keep the validators of the discovery
documents they read. They reach the database through `CrawlState`, found with
`crawler.get_extension(CrawlState)`, and never import the pipeline or the store.

The extension holds no database of its own: the item pipeline that opened the run's store
attaches its writer (`attach`). Without one (processing switched off, `ITEM_PIPELINES={}`)
nothing is known and nothing is kept, so every run fetches everything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from store.urls import normalise_url

if TYPE_CHECKING:
    from store import Store

logger = logging.getLogger(__name__)

__all__ = ["CrawlState", "StoreAccess", "article_scheduled"]

#: Sent (once per run) when a spider schedules its first article request: the pipeline
#: starts its cleaner processes then, so a re-crawl where nothing changed never starts them.
article_scheduled = object()


class StoreAccess(Protocol):
    """What the extension needs of the pipeline's store writer: run `fn(store)` on it."""

    def call(self, fn: Callable[[Store], Any]) -> Future: ...


def _known_urls(db: Store, host: str) -> dict[str, dict]:
    return db.known_urls(host)


def _log_failure(future: Future) -> None:
    exc = future.exception()
    if exc is not None:
        logger.warning("Could not record crawl state: %s: %s", type(exc).__name__, exc)


class CrawlState:
    """What the database knows about URLs, for the spiders' incremental decisions."""

    def __init__(self, crawler):
        self.crawler = crawler
        self._writer: StoreAccess | None = None
        self._articles_announced = False

    @classmethod
    def from_crawler(cls, crawler) -> CrawlState:
        return cls(crawler)

    # --- the pipeline's side -------------------------------------------------------------
    def attach(self, writer: StoreAccess) -> None:
        """Read and keep state through `writer` (the run's store) from now on."""
        self._writer = writer

    def detach(self) -> None:
        self._writer = None

    # --- the spiders' side ---------------------------------------------------------------
    @property
    def available(self) -> bool:
        """Whether a database is there to read from and keep state in."""
        return self._writer is not None

    @staticmethod
    def url_key(url: str) -> str:
        """The key URLs are known by (`known_urls`): the store's normalised form of `url`."""
        return normalise_url(url) or url

    async def known_urls(self, hosts: Iterable[str]) -> dict[str, dict]:
        """`url_key` -> stored state (etag, last_modified, lastmod, modified_gmt, ...) of
        every URL known on `hosts`; empty without a database."""
        writer = self._writer
        known: dict[str, dict] = {}
        if writer is None:
            return known
        for host in hosts:
            known.update(await asyncio.wrap_future(writer.call(partial(_known_urls, host=host))))
        return known

    def keep(self, entries: Iterable[tuple[str, dict]]) -> int:
        """Store discovery validators and watermarks (url, url_state fields) for the next run.

        Waits until they are committed (called as the spider closes). Returns how many.
        """
        writer = self._writer
        if writer is None:
            return 0
        entries = list(entries)

        def write(db: Store) -> None:
            for url, fields in entries:
                db.set_url_state(url, **fields)

        writer.call(write).result()
        return len(entries)

    async def ask(self, fn: Callable[[Store], Any], default: Any = None) -> Any:
        """`fn(store)` on the run's store, awaited; `default` without a database."""
        writer = self._writer
        if writer is None:
            return default
        return await asyncio.wrap_future(writer.call(fn))

    def ask_now(self, fn: Callable[[Store], Any], default: Any = None) -> Any:
        """`fn(store)` on the run's store, waited for on this thread (for signal handlers)."""
        writer = self._writer
        if writer is None:
            return default
        return writer.call(fn).result()

    def tell(self, fn: Callable[[Store], Any]) -> None:
        """`fn(store)` on the run's store, in order with the saves, without waiting for it."""
        writer = self._writer
        if writer is not None:
            writer.call(fn).add_done_callback(_log_failure)

    def articles_scheduled(self) -> None:
        """A spider scheduled its first article request (`article_scheduled`, sent once)."""
        if not self._articles_announced:
            self._articles_announced = True
            self.crawler.signals.send_catch_log(article_scheduled)
