"""The Scrapy side of a worker of a shared job (`-s DISPATCHES_REDIS_URL=redis://...`).

* `crawlers.scaleout.addon.ScaleoutAddon` switches a crawl to this worker mode when
  `DISPATCHES_REDIS_URL` is set (it lives apart so a crawl without it never imports redis).
* `ScaleoutWorker` keeps the worker's heartbeat, acknowledges finished shared requests, hands a
  dead worker's requests back to the queue, decides when the job is done, and stops the crawl
  (status `interrupted`) when Redis is lost.
* `DiscoveryOnce` lets only the worker holding the job's discovery lock run the spider's `start()`.
* `QueuePipeline` cleans pages in the worker's `CleanerPool` and pushes each page with its
  cleaners' answer onto the document queue, which `scrapy store-writer` saves.
* `RedisState` answers the spiders' incremental questions (`CrawlState`) from what the writer
  publishes, and sends the validators they keep to the writer.

Messages on the document queue are pickled tuples `(kind, worker, payload)`, like scrapy-redis'
requests: Redis is trusted infrastructure of the crawl, never exposed to others.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import redis
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, DropItem, NotConfigured
from twisted.internet import task

from cleaners.model import RawPage, Rejected
from cleaners.pool import CleanerPool
from crawlers.junction import clean_config, needs_cleaning
from crawlers.scaleout.job import PREFIX, Job, as_text, connect, job_name, redact, worker_id
from crawlers.state import CrawlState, article_scheduled
from store.urls import key_host

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

__all__ = [
    "DOCS",
    "DiscoveryOnce",
    "QueuePipeline",
    "RedisState",
    "ScaleoutWorker",
    "encode",
    "with_refused",
]

DOCS = PREFIX + "docs"
TICK = 0.5  # seconds between heartbeats (and checks for new work, for the end of the job)


def encode(kind: str, worker: str, payload: Any) -> bytes:
    """One document-queue message."""
    return pickle.dumps((kind, worker, payload), protocol=pickle.HIGHEST_PROTOCOL)


def with_refused(stats: dict, s: dict) -> dict:
    """`stats` (the `crawls.stats` contract) with the pages the queue refused (too large):
    lost to this run, so counted under `queue_refused` and as errors of the run."""
    refused = int(s.get("dispatches/queue_refused", 0) or 0)
    if refused:
        stats["queue_refused"] = refused
        stats["errors"] = int(stats.get("errors", 0)) + refused
    return stats


class RedisState:
    """`CrawlState`'s store access for a worker: what the writer published, kept by the writer."""

    def __init__(self, worker: ScaleoutWorker):
        self.worker = worker

    def call(self, fn: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(self))
        except Exception as exc:
            future.set_exception(exc)
        return future

    # the two Store methods CrawlState uses
    def known_urls(self, host: str | None = None) -> dict[str, dict]:
        out = {}
        # published by the host of the URL key (the store's form of the host)
        for key, value in self.worker.r.hgetall(f"{PREFIX}known:{key_host(host or '')}").items():
            out[as_text(key)] = json.loads(value)
        return out

    def set_url_state(self, url: str, **fields: Any) -> None:
        self.worker.send("state", (url, fields))


class ScaleoutWorker:
    """Heartbeat, acknowledgements, dead workers, the end of the job, a lost Redis."""

    def __init__(self, crawler: Crawler):
        url = crawler.settings.get("DISPATCHES_REDIS_URL")
        if not url:
            raise NotConfigured("DISPATCHES_REDIS_URL is not set")
        self.crawler = crawler
        self.url = url
        self.r = connect(url)
        self.id = worker_id()
        self.job: Job | None = None
        self.discoverer = False
        self.lost = False
        self.stopping = False
        self.max_doc = int(crawler.settings.getfloat("DISPATCHES_REDIS_MAX_DOC_MB", 16) * 1024 * 1024)
        self._done_ticks = 0
        self._discovering = False
        self._loop: task.LoopingCall | None = None
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScaleoutWorker:
        return cls(crawler)

    @property
    def scheduler(self) -> Any:
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        return getattr(slot, "scheduler", None)

    def open_job(self, spider: Any) -> None:
        """Join the job (called as the scheduler opens, before the spider's start())."""
        args = getattr(spider, "run_args", {}) or {}
        name = job_name(spider.name, args, self.crawler.settings.get("DISPATCHES_JOB"))
        self.job = Job(self.r, name)
        self.job.reap()
        self.job.beat(self.id, local=1, pages=0)
        self.discoverer = self.job.claim_discovery(self.id)
        clean_args = {k: v for k, v in args.items() if v not in (None, "")}
        host, pid, _ = self.id.rsplit(":", 2)
        self.send(
            "start",
            {"spider": spider.name, "args": {**clean_args, "job": name, "worker": f"{host}:{pid}"}},
        )
        logger.info(
            "Worker %s joins job %r on %s%s",
            self.id,
            name,
            redact(self.url),
            " and runs discovery" if self.discoverer else "",
        )
        state = self.crawler.get_extension(CrawlState)
        if state is not None:
            state.attach(RedisState(self))
        self._loop = task.LoopingCall(self.tick)
        self._loop.start(TICK, now=False)

    def send(self, kind: str, payload: Any) -> int:
        """Push one message onto the document queue; returns its size in bytes."""
        data = encode(kind, self.id, payload)
        if len(data) > self.max_doc:
            raise ValueError(f"{len(data)} bytes, above the queue limit of {self.max_doc}")
        self.r.lpush(DOCS, data)
        return len(data)

    # --- the heartbeat ---------------------------------------------------------------------------
    def tick(self) -> None:
        if self.lost or self.job is None:
            return
        engine = self.crawler.engine
        scheduler = self.scheduler
        slot = getattr(engine, "_slot", None)
        if engine is None or scheduler is None or slot is None:
            return
        try:
            in_progress = set(slot.inprogress)
            scheduler.settle(in_progress)
            shared = set(scheduler.taken.values())
            own = scheduler.local_work() + sum(1 for r in in_progress if r not in shared)
            start_pending = getattr(engine, "_start", None) is not None
            local = own + (1 if start_pending else 0)
            pages = int(self.crawler.stats.get_value("dispatches/queued", 0) or 0)
            self.job.beat(self.id, local=local, pages=pages)
            if not self.discoverer and self.job.discovery_state() == "waiting":
                self._take_over_discovery()
                local += 1
            if self.discoverer:
                if local == 0 and not self._discovering:
                    self.job.discovery_done()
                    self.discoverer = False
                    logger.info("Discovery of job %r done", self.job.name)
                else:
                    self.job.renew_discovery(self.id)
            for dead in self.job.reap():
                logger.warning("Worker %s stopped beating; its requests go back to the queue", dead)
            scheduler.keep_leases(in_progress)
            # Scrapy asks the scheduler again only when told (or every 5 s): work another worker
            # queued for a host nobody holds yet would wait that long
            slot.nextcall.schedule()
            idle = engine.spider_is_idle()
            self._done_ticks = self._done_ticks + 1 if idle and self.job.done() else 0
        except redis.RedisError as exc:
            self.redis_lost(exc)
            return
        if self._done_ticks >= 2 and not self.stopping:
            self.stopping = True
            logger.info(
                "Job %r is done: the queue is empty and no worker has requests in flight", self.job.name
            )
            self._close("finished")

    def _take_over_discovery(self) -> None:
        """The discovery worker died before finishing: run the spider's discovery here.

        The shared duplicate filter keeps the articles it had already queued from being queued
        (and fetched) again.
        """
        assert self.job is not None
        if not self.job.claim_discovery(self.id):
            return
        self.discoverer = True
        self._discovering = True
        logger.warning("The discovery worker of job %r died; this worker runs discovery again", self.job.name)
        asyncio.ensure_future(self._discover())

    async def _discover(self) -> None:
        engine, spider = self.crawler.engine, self.crawler.spider
        try:
            if engine is not None and spider is not None:
                async for request in spider.start():
                    if isinstance(request, Request):
                        engine.crawl(request)
        finally:
            self._discovering = False

    def spider_idle(self, spider: Any) -> None:
        if not self.stopping and not self.lost:
            raise DontCloseSpider

    def redis_lost(self, exc: BaseException) -> None:
        if self.lost:
            return
        self.lost = True
        self.stopping = True
        logger.error("Lost Redis at %s (%s); stopping this worker", redact(self.url), redact(str(exc)))
        self._close("shutdown")

    def _close(self, reason: str) -> None:
        engine = self.crawler.engine
        if engine is not None:
            asyncio.ensure_future(engine.close_spider_async(reason=reason))

    def spider_closed(self, spider: Any, reason: str) -> None:
        from crawlers.pipelines import _jsonable, contract_stats, crawl_status

        if self._loop is not None and self._loop.running:
            self._loop.stop()
        # the worker's own view, for its exit status; the writer's row adds the save outcomes
        s = dict(self.crawler.stats.get_stats())
        stats = with_refused(contract_stats(s, reason), s)
        self.crawler.stats.set_value("dispatches/status", crawl_status(reason, stats))
        if self.job is None or self.lost:
            return

        try:
            scheduler = self.scheduler
            if scheduler is not None:
                scheduler.settle(set())
            self.job.requeue(self.id)  # whatever a stop left unfinished is for the others
            self.send("finish", {"reason": reason, "stats": _jsonable(dict(self.crawler.stats.get_stats()))})
            if self.discoverer and reason == "finished":
                self.job.discovery_done()
            self.job.leave(self.id, finished=reason == "finished")
        except redis.RedisError as exc:
            logger.error("Lost Redis at %s while closing (%s)", redact(self.url), redact(str(exc)))


class DiscoveryOnce:
    """Spider middleware: the spider's `start()` runs only in the job's discovery worker."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DiscoveryOnce:
        return cls(crawler)

    async def process_start(self, start: Any) -> Any:
        worker = self.crawler.get_extension(ScaleoutWorker)
        if worker is None or worker.discoverer:
            async for item in start:
                yield item
            return
        logger.info("Another worker runs discovery; this one takes requests from the shared queue")


class QueuePipeline:
    """Clean each RawPage in the worker's cleaner pool and queue it for `scrapy store-writer`."""

    def __init__(self, crawler: Crawler):
        s = crawler.settings
        if not s.get("DISPATCHES_REDIS_URL"):
            raise NotConfigured("DISPATCHES_REDIS_URL is not set")
        self.crawler = crawler
        self.stats = crawler.stats
        self.workers = s.getint("DISPATCHES_CLEAN_WORKERS", 2)
        self.clean_timeout = s.getfloat("DISPATCHES_CLEAN_TIMEOUT", 20.0)
        self.clean_max_tasks = s.getint("DISPATCHES_CLEAN_MAX_TASKS", 2000)
        self.clean_config = clean_config(s)
        self.pool: CleanerPool | None = None
        self.finished = False
        crawler.signals.connect(self.warm_pool, signal=article_scheduled)
        crawler.signals.connect(self.close_spider, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> QueuePipeline:
        return cls(crawler)

    def warm_pool(self) -> None:
        if self.pool is None and not self.finished:
            self.pool = CleanerPool(
                workers=self.workers,
                timeout=self.clean_timeout,
                max_tasks_per_child=self.clean_max_tasks,
                config=self.clean_config,
            )

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        if not isinstance(item, RawPage):
            return item
        worker = self.crawler.get_extension(ScaleoutWorker)
        if worker is None:
            raise NotConfigured("QueuePipeline needs the ScaleoutWorker extension")
        cleaned: Any = None
        if needs_cleaning(item):
            answer = await self._clean(item)
            # Rejected does not survive pickling (its args are its message): send its fields
            cleaned = ("rejected", answer.reason, answer.detail) if isinstance(answer, Rejected) else answer
        try:
            size = await asyncio.to_thread(worker.send, "page", (item, cleaned))
        except ValueError as exc:
            self.stats.inc_value("dispatches/queue_refused")
            logger.error("Not queued (too large): %s: %s", item.where, exc)
            raise DropItem(f"too large for the queue: {item.where}") from None
        except redis.RedisError as exc:
            worker.redis_lost(exc)
            raise DropItem(f"Redis lost: {item.where}") from None
        self.stats.inc_value("dispatches/queued")
        self.stats.inc_value("dispatches/queued_bytes", size)
        return item

    async def _clean(self, raw: RawPage) -> Any:
        self.warm_pool()
        if self.pool is None:
            return Rejected("worker_crashed", "the cleaner pool is closed")
        try:
            return await asyncio.wrap_future(self.pool.submit(raw))
        except Rejected as exc:
            return exc
        except RuntimeError as exc:
            return Rejected("worker_crashed", str(exc))

    def close_spider(self, spider: Any = None) -> None:
        self.finished = True
        if self.pool is not None:
            self.pool.close()
            self.pool = None
