"""The crawl's adapter to the junction: RawPage -> cleaners (worker processes) -> store (one thread).

`StorePipeline` opens the database named by `DISPATCHES_DB` under the run lock, writes a
`crawls` row, cleans pages in a `CleanerPool` (other cores work while the reactor keeps
downloading), and hands each page with its cleaners' answer to `StoreWriter`: the `Store` on a
thread of its own, where `crawlers.junction.process_many` saves it (SQLite, and a locked
database's retries, never hold up the reactor). It counts every `Outcome` in Scrapy's stats
(`dispatches/...`) and closes the crawl row with the `crawls.stats` contract when the spider
closes. Spiders reach the same database, for their incremental decisions, through the
`crawlers.state.CrawlState` extension the pipeline attaches the writer to.

It leaves extraction to `cleaners`, identity and provenance to `store`, what becomes of a page
to `crawlers.junction`, and deciding what to fetch to the spiders.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.logformatter import LogFormatter

import cleaners
from cleaners.model import RawPage, Rejected, utc_timestamp
from cleaners.pool import CleanerPool
from crawlers.config import comma_list, database_path
from crawlers.junction import (
    Cleaned,
    Outcome,
    clean_config,
    needs_cleaning,
    open_store,
    process_many,
    reclean_site_chrome,
    run_stats,
    under,
)
from crawlers.runlock import run_lock
from crawlers.state import CrawlState, article_scheduled
from store import Store

logger = logging.getLogger(__name__)

__all__ = [
    "DB_CHECKED",
    "QuietLogFormatter",
    "StorePipeline",
    "StoreWriter",
    "contract_stats",
    "crawl_status",
    "status_reason",
]

T = TypeVar("T")

# Set by `scrapy crawl` once it has checked the database's integrity under the run lock, so the
# pipeline does not check the same file again. The leading underscore keeps it apart from the
# user settings (README's table, `crawlers/settings.py`): nobody sets it by hand.
DB_CHECKED = "_DISPATCHES_DB_CHECKED"


@dataclass
class _Page:
    raw: RawPage
    cleaned: Cleaned
    crawl_id: int | None
    topic: tuple[str, ...]
    future: Future = field(default_factory=Future)


@dataclass
class _Call:
    fn: Callable[[Store], Any]
    future: Future = field(default_factory=Future)


class StoreWriter:
    """A `Store` used from one thread of its own, in the order calls are made.

    The reactor hands work over and awaits a Future, so it never waits on SQLite (a busy
    database's retries sleep on this thread). Pages that queue up while the thread is busy go
    through `junction.process_many` together: one transaction with a savepoint per page, and
    every page's Future resolved only after that commit, so a page the pipeline reports as
    saved is on disk (a `kill -9` loses nothing that was reported).

    Args:
        store: the open database; the writer closes it when it closes.
        batch: at most this many pages share one transaction.
    """

    def __init__(self, store: Store, *, batch: int = 64):
        self.store = store
        self.batch = batch
        self._jobs: queue.SimpleQueue[_Page | _Call | None] = queue.SimpleQueue()
        self._closed = False
        # A daemon: a forced stop (second SIGTERM) must not wait for it; SQLite rolls back
        # whatever transaction it leaves open.
        self._thread = threading.Thread(target=self._run, name="dispatches-store", daemon=True)
        self._thread.start()

    def call(self, fn: Callable[[Store], T]) -> Future[T]:
        """Run `fn(store)` on the writer thread; the Future holds its result or exception."""
        job = _Call(fn)
        self._put(job)
        return job.future

    def process(
        self, raw: RawPage, cleaned: Cleaned, *, crawl_id: int | None, topic: Sequence[str] = ()
    ) -> Future[Outcome]:
        """Put one page through the junction; the Future holds its Outcome once committed."""
        job = _Page(raw, cleaned, crawl_id, tuple(topic))
        self._put(job)
        return job.future

    def _put(self, job: _Page | _Call) -> None:
        if self._closed:
            job.future.set_exception(RuntimeError("the store is closed"))
        else:
            self._jobs.put(job)

    def close(self) -> None:
        """Finish every call already made, then close the database (checkpointing its WAL)."""
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        self._thread.join()

    def _run(self) -> None:
        held: list[_Page | _Call | None] = []  # a job read while gathering pages, run next
        try:
            while True:
                job = held.pop() if held else self._jobs.get()
                if job is None:
                    return
                if isinstance(job, _Call):
                    self._run_call(job)
                    continue
                pages = [job]
                while len(pages) < self.batch:
                    try:
                        nxt = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if not isinstance(nxt, _Page) or (nxt.crawl_id, nxt.topic) != (job.crawl_id, job.topic):
                        held.append(nxt)
                        break
                    pages.append(nxt)
                self._run_pages(pages)
        finally:
            self.store.close()

    def _run_call(self, job: _Call) -> None:
        if not job.future.set_running_or_notify_cancel():
            return
        try:
            job.future.set_result(job.fn(self.store))
        except BaseException as exc:
            job.future.set_exception(exc)

    def _run_pages(self, pages: list[_Page]) -> None:
        first = pages[0]
        try:
            outcomes = process_many(
                [(p.raw, p.cleaned) for p in pages], self.store, crawl_id=first.crawl_id, topic=first.topic
            )
        except BaseException as exc:  # the database is failing: every page of the batch says so
            for p in pages:
                p.future.set_exception(exc)
            return
        for p, outcome in zip(pages, outcomes, strict=True):
            p.future.set_result(outcome)


def _jsonable(value):
    if isinstance(value, datetime):
        return utc_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def contract_stats(s: dict, reason: str) -> dict:
    """The `crawls.stats` contract from a run's Scrapy stats (`dispatches/...` keys and Scrapy's)."""
    counts = under(s, "dispatches/")
    return run_stats(
        counts,
        # Downloads that failed for good (after retries) count as errors of the run.
        errors=int(counts.get("errors", 0) or 0) + int(counts.get("fetch_failed", 0) or 0),
        soft_blocks_by_host=under(s, "dispatches/soft_blocks/"),
        discovery=under(s, "dispatches/discovery/"),
        discovery_failed=sorted(under(s, "dispatches/discovery_failed/")),
        robots_blocked=sorted(under(s, "dispatches/robots_blocked/")),
        network_error=dict(sorted(under(s, "dispatches/network_error/").items())),
        network_errors_by_host=dict(sorted(under(s, "dispatches/network_errors/").items())),
        circuit_open=sorted(
            set(under(s, "dispatches/circuit_open/")) | set(s.get("safety/circuit_open") or [])
        ),
        deferred=sorted(under(s, "dispatches/deferred/")),
        crawl_delay=under(s, "dispatches/crawl_delay/"),
        cleaner=under(s, "dispatches/cleaner/"),
        finish_reason=reason,
        scrapy=_jsonable({k: v for k, v in s.items() if not k.startswith("dispatches/")}),
    )


# Why a host gave nothing, in the words the status line uses; the first that applies names it.
_HOST_FAILURES = (
    ("network_error", "network error"),
    ("robots_blocked", "robots.txt unreachable"),
    ("circuit_open", "gave up after repeated failures"),
    ("discovery_failed", "nothing to discover"),
)


def _hosts(stats: dict, key: str) -> set[str]:
    return set(stats.get(key) or ())


def crawl_status(reason: str, stats: dict) -> str:
    """ok | degraded | failed | interrupted, from the finish reason and the run's stats dict."""
    if reason in ("shutdown", "cancelled") or str(reason).startswith("memusage"):
        return "interrupted"
    failed_hosts = set().union(*(_hosts(stats, key) for key, _ in _HOST_FAILURES))
    hosts = set(stats["discovery"]) | failed_hosts
    fetched = stats["pages_fetched"] + stats["not_modified"]
    if hosts and failed_hosts >= hosts and fetched == 0:
        return "failed"
    if stats.get("store_errors", 0) and fetched and stats["store_errors"] >= fetched:
        return "failed"
    if failed_hosts or stats["errors"] or stats.get("deferred"):
        return "degraded"
    return "ok"


def status_reason(status: str, stats: dict) -> str:
    """Why a run failed or degraded, in a few words ("0 of 3 hosts reachable (network error)").

    Empty for an ok run. Each host counts once, under the first failure of `_HOST_FAILURES`
    it has.
    """
    if status in ("ok", "running"):
        return ""
    if status == "interrupted":
        return f"stopped ({stats.get('finish_reason') or 'signal'})"
    by_cause: dict[str, set[str]] = {}
    seen: set[str] = set()
    for key, words in _HOST_FAILURES:
        hosts = _hosts(stats, key) - seen
        if hosts:
            by_cause[words] = hosts
            seen |= hosts
    total = len(set(stats["discovery"]) | seen)
    parts = []
    if seen:
        causes = ", ".join(
            f"{words}: {len(h)}" if len(by_cause) > 1 else words for words, h in by_cause.items()
        )
        word = "reachable" if set(by_cause) == {"network error"} else "crawled"
        parts.append(f"{total - len(seen)} of {total} hosts {word} ({causes})")
    if stats.get("store_errors"):
        parts.append(f"{stats['store_errors']} pages could not be saved")
    elif stats.get("errors"):
        parts.append(f"{stats['errors']} pages failed")
    if stats.get("deferred"):
        parts.append(f"{len(stats['deferred'])} hosts deferred (Retry-After)")
    return "; ".join(parts) or "nothing was crawled"


class StorePipeline:
    """Clean and save every RawPage through the junction; keep the run's record in `crawls`."""

    def __init__(self, crawler):
        s = crawler.settings
        if not s.get("DISPATCHES_DB"):
            raise NotConfigured("DISPATCHES_DB is not set")
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_path = database_path(s)
        self.workers = s.getint("DISPATCHES_CLEAN_WORKERS")
        self.clean_timeout = s.getfloat("DISPATCHES_CLEAN_TIMEOUT")
        self.clean_max_tasks = s.getint("DISPATCHES_CLEAN_MAX_TASKS")
        self.exit = contextlib.ExitStack()
        self.pool: CleanerPool | None = None
        self.crawl_id: int | None = None
        self.topic: list[str] = []
        self.finished = False
        # The lock and the database are taken here, before the spider's start() asks for state.
        self.exit.enter_context(run_lock(self.db_path, wait=s.getfloat("DISPATCHES_LOCK_WAIT")))
        try:
            store = open_store(s, self.db_path, check=not s.getbool(DB_CHECKED))
        except Exception:
            self.exit.close()
            raise
        dead = store.interrupt_dead_runs()  # we hold the run lock: no live run owns them
        if dead:
            logger.warning("marked %d run(s) left 'running' by a process that died as interrupted", dead)
        self.clean_config = clean_config(s)
        self.writer = StoreWriter(store)
        self.state = crawler.get_extension(CrawlState)
        if self.state is not None:
            self.state.attach(self.writer)
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)
        # The cleaner workers (a few seconds to import trafilatura) start when the spider
        # schedules its first article, so they are ready when pages arrive and a re-crawl
        # where nothing changed never pays for them.
        crawler.signals.connect(self.warm_pool, signal=article_scheduled)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None):
        spider = spider or self.crawler.spider
        self.topic = comma_list(getattr(spider, "topic_keywords", []))
        args = {k: v for k, v in getattr(spider, "run_args", {}).items() if v not in (None, "")}
        self.crawl_id = self.writer.call(lambda db: db.start_crawl(spider.name, args)).result()
        logger.info("Crawl %s of %s into %s", self.crawl_id, spider.name, self.db_path)

    # --- items -----------------------------------------------------------------------------
    async def process_item(self, item, spider=None):
        if not isinstance(item, RawPage):
            return item
        cleaned = await self._clean(item) if needs_cleaning(item) else None
        future = self.writer.process(item, cleaned, crawl_id=self.crawl_id, topic=self.topic)
        try:
            outcome = await asyncio.wrap_future(future)
        except Exception as exc:  # not even the event saying why could be written
            self.stats.inc_value("dispatches/errors")
            self.stats.inc_value("dispatches/store_errors")
            logger.error("Could not save %s: %s: %s", item.where, type(exc).__name__, exc)
            raise DropItem(f"save failed: {item.where}") from None
        for key in outcome.counts:
            self.stats.inc_value(f"dispatches/{key}")
        if outcome.saved or outcome.kind == "not_modified":
            return item
        raise DropItem(f"{outcome}: {item.where}")

    async def _clean(self, raw: RawPage) -> Cleaned:
        """The cleaners' answer for `raw` from the worker processes: a Document or Rejected."""
        self.warm_pool()
        if self.pool is None:  # the spider has closed: nothing cleans any more
            return Rejected("worker_crashed", "the cleaner pool is closed")
        try:
            return await asyncio.wrap_future(self.pool.submit(raw))
        except Rejected as exc:
            return exc
        except RuntimeError as exc:  # the pool is closed or cannot start workers
            return Rejected("worker_crashed", str(exc))

    def warm_pool(self) -> None:
        """Start the cleaner workers if they are not running yet (not once the run has ended)."""
        if not self.finished:
            self._start_pool()

    def _start_pool(self) -> CleanerPool:
        if self.pool is None:
            self.pool = CleanerPool(
                workers=self.workers,
                timeout=self.clean_timeout,
                max_tasks_per_child=self.clean_max_tasks,
                config=self.clean_config,
            )
        return self.pool

    # --- the end -----------------------------------------------------------------------------
    def contract_stats(self, reason: str) -> dict:
        """The `crawls.stats` contract from this run's Scrapy stats."""
        return contract_stats(dict(self.stats.get_stats()), reason)

    def _spider_closed(self, spider, reason):
        if self.finished:
            return
        self.finished = True
        try:
            if reason == "finished":
                self._reclean_site_chrome()
            self._close_pool()  # its counts go into the run's stats
            stats = self.contract_stats(reason)
            status = crawl_status(reason, stats)
            why = stats["status_reason"] = status_reason(status, stats)
            self.stats.set_value("dispatches/status", status)
            self.stats.set_value("dispatches/status_reason", why)
            if self.crawl_id is not None:
                crawl_id = self.crawl_id
                self.writer.call(lambda db: db.finish_crawl(crawl_id, status, stats)).result()
            level = logging.INFO if status == "ok" else logging.WARNING
            logger.log(
                level,
                "Crawl %s %s: %d pages, %d new articles, %d new copies, %d versions, %d not modified, "
                "%d errors, %d soft blocks%s",
                self.crawl_id,
                status,
                stats["pages_fetched"],
                stats["articles_new"],
                stats["copies_new"],
                stats["versions_new"],
                stats["not_modified"],
                stats["errors"],
                stats["soft_blocks"],
                "".join(
                    f"; {k}: {', '.join(stats[k])}"
                    for k in (
                        "network_error",
                        "robots_blocked",
                        "discovery_failed",
                        "circuit_open",
                        "deferred",
                    )
                    if stats[k]
                ),
            )
        finally:
            self._close()

    def _reclean_site_chrome(self) -> None:
        """Pages saved before their site's chrome was known are cleaned again
        (`junction.reclean_site_chrome`) by the run's cleaner workers, as every other page: the
        crawl process never imports the extractor, and a page that hangs or crashes it costs
        that page, not the end of the run. A run stopped early leaves the pass to the next run."""
        crawl_id = self.crawl_id

        def clean(raw: RawPage) -> cleaners.Document:  # workers start only if a page needs them
            return self._start_pool().submit(raw).result()

        try:
            done = self.writer.call(lambda db: reclean_site_chrome(db, clean, crawl_id=crawl_id)).result()
        except Exception as exc:  # the pages stay as saved; the next run's pass tries again
            logger.error("Could not clean pages again for site chrome: %s: %s", type(exc).__name__, exc)
            return
        for key, n in done.items():
            self.stats.set_value(f"dispatches/site_chrome/{key}", n)

    def _close_pool(self) -> None:
        """Stop the cleaner workers (in `_spider_closed`, after the end-of-run pass that uses
        them; the pipeline has no `close_spider`); what the pool counted (worker starts,
        crashes, time-outs) goes into the run's stats as `cleaner`."""
        if self.pool is not None:
            self.pool.close()
            for key, value in self.pool.stats.items():
                self.stats.set_value(f"dispatches/cleaner/{key}", value)
            self.pool = None

    def _close(self):
        self._close_pool()
        if self.state is not None:
            self.state.detach()
        try:
            self.writer.close()
        finally:
            self.exit.close()


def _describe(item) -> str:
    if isinstance(item, RawPage):
        return f"<RawPage {item.status} {item.final_url or item.url} ({len(item.body)} bytes)>"
    return repr(item)[:300]


def _without_body(entry: Any, item) -> Any:
    """A log entry of Scrapy's formatter with the item's repr replaced by `_describe`."""
    if isinstance(entry.get("args"), dict):
        entry["args"] = {**entry["args"], "item": _describe(item)}
    return entry


class QuietLogFormatter(LogFormatter):
    """Scrapy's log formatter without page bodies in the log.

    Scrapy logs a scraped or dropped item with its repr, and a RawPage's repr holds the whole
    body. Dropped pages (soft blocks, rejected, off topic) are expected: INFO, one line each.
    """

    def scraped(self, item, response, spider):
        res = super().scraped(item, response, spider)
        return _without_body(res, item)

    def dropped(self, item, exception, response, spider):
        return {"level": logging.INFO, "msg": "Dropped: %(exception)s", "args": {"exception": exception}}

    def item_error(self, item, exception, response, spider):
        res = super().item_error(item, exception, response, spider)
        return _without_body(res, item)
