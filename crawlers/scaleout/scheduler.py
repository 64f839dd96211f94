"""The scheduler of a worker: article requests shared through Redis, discovery kept local.

Article requests (the spider's `parse_article`) go through scrapy-redis' shared duplicate filter
(`RFPDupeFilter`, one fingerprint set per job) into one scrapy-redis `FifoQueue` per host; every
other request (robots.txt, REST pages, sitemaps, feeds, listings) stays in Scrapy's own scheduler
in the worker that made it, because the discovery fallback chain keeps its state in that spider.

Politeness by partition: a worker takes requests only from hosts it holds a lease on (one worker
per host at a time, renewed with its heartbeat), so Scrapy's per-host download slot, delay,
`Crawl-delay` and `Retry-After` holds and the circuit breaker of that one worker hold for the
whole job, and two workers never double a host's rate. A worker holds at most its share of the
hosts that have work (hosts / live workers, rounded up). A lease passes to another worker only
when its holder has nothing of that host queued or in flight, or has died; the new holder starts
that host's delay, `Retry-After` pause and circuit-breaker count afresh.

Reliability: scrapy-redis' own queue pops with RPOP, so a request a killed worker had taken is
lost. Here a request moves atomically from the host's queue into the worker's in-flight hash and
leaves it only once Scrapy is done with it (downloaded, parsed, its page handed to the document
queue); the `ScaleoutWorker` extension moves a dead worker's in-flight requests back to the
queue, where another worker (or the restarted one) takes them.

scrapy-redis' own `Scheduler` (0.9.1) runs under Scrapy 2.19 (a state_gov crawl completes; its
`stats.inc_value(..., spider=...)` calls give Scrapy deprecation warnings), but it shares every
request, discovery included, in one queue with no per-host partition and no in-flight record, a
worker closes as soon as its own view of the queue is empty, and unless `SCHEDULER_PERSIST` is set
the first worker to close deletes the shared queue and fingerprints of the others. Hence this thin
scheduler over its `FifoQueue` and `RFPDupeFilter` classes.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import redis
from scrapy.core.scheduler import BaseScheduler, Scheduler
from scrapy_redis import picklecompat
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import FifoQueue

from crawlers.scaleout.job import Job

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

__all__ = ["SharedScheduler", "is_shared"]

# Take the oldest request of a host's queue into the worker's in-flight hash, in one step.
_TAKE = """
local data = redis.call('RPOP', KEYS[1])
if data then redis.call('HSET', KEYS[2], ARGV[1], data) end
return data
"""


def _host(request: Request) -> str:
    return urlsplit(request.url).hostname or ""


def is_shared(request: Request) -> bool:
    """Whether `request` is an article request (shared by the job's workers)."""
    return getattr(request.callback, "__name__", "") == "parse_article"


class SharedScheduler(BaseScheduler):
    """Scrapy's scheduler for a worker's own requests, Redis for the job's article requests.

    Enabled by the `crawlers.scaleout.addon.ScaleoutAddon` when `DISPATCHES_REDIS_URL` is set.
    """

    def __init__(self, crawler: Crawler):
        from crawlers.scaleout.worker import ScaleoutWorker

        self.crawler = crawler
        self.local = Scheduler.from_crawler(crawler)
        ext = crawler.get_extension(ScaleoutWorker)
        if ext is None:
            raise RuntimeError("SharedScheduler needs the ScaleoutWorker extension")
        self.worker = ext
        self.owned: set[str] = set()
        self.draining: set[str] = set()  # owned hosts being handed over: nothing new taken from them
        self.held: list[Request] = []  # own requests for hosts another worker holds for now
        self._next_held = 0.0
        # Requests taken per host at most: enough to keep the host's download slot busy, few
        # enough that a host handed over (or a worker killed) leaves little behind.
        self.per_host = 2 * max(1, crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 2))
        self.taken: dict[str, Request] = {}  # in-flight field -> request
        self._ids = itertools.count()
        self._queues: dict[str, FifoQueue] = {}
        self._next_scan = 0.0
        self.spider: Spider | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        return cls(crawler)

    @property
    def job(self) -> Job:
        assert self.worker.job is not None
        return self.worker.job

    def open(self, spider: Spider) -> Any:
        self.spider = spider
        self.worker.open_job(spider)
        self.dupefilter = RFPDupeFilter(self.job.r, key=self.job.key("seen"))
        self._take = self.job.r.register_script(_TAKE)
        return self.local.open(spider)

    def close(self, reason: str) -> Any:
        return self.local.close(reason)

    def __len__(self) -> int:
        return len(self.local) + len(self.held)

    def _queue(self, host: str) -> FifoQueue:
        if host not in self._queues:
            assert self.spider is not None
            # the queue formats its key with %(spider)s: a % in a job name or host is literal
            key = self.job.queue_key(host).replace("%", "%%")
            self._queues[host] = FifoQueue(self.job.r, self.spider, key, serializer=picklecompat)
        return self._queues[host]

    # --- scheduling ----------------------------------------------------------------------------
    def enqueue_request(self, request: Request) -> bool:
        if not is_shared(request):
            return self.local.enqueue_request(request)
        try:
            if not request.dont_filter and self.dupefilter.request_seen(request):
                return False
            host = _host(request)
            self._queue(host).push(request)
            self.job.r.sadd(self.job.key("hosts"), host)
        except redis.RedisError as exc:
            self.worker.redis_lost(exc)
            return False
        self.crawler.stats.inc_value("dispatches/redis/pushed")
        return True

    def has_pending_requests(self) -> bool:
        if self.local.has_pending_requests() or self.held:
            return True
        if self.worker.lost:
            return False
        try:
            return any(self.job.r.llen(self.job.queue_key(h)) for h in self.owned - self.draining)
        except redis.RedisError as exc:
            self.worker.redis_lost(exc)
            return False

    def next_request(self) -> Request | None:
        if self.worker.lost:
            return None
        try:
            request = self._next_own()
            if request is not None or self.worker.stopping:
                return request
            return self._next_shared()
        except redis.RedisError as exc:
            self.worker.redis_lost(exc)
            return None

    def _next_own(self) -> Request | None:
        """The next request of this worker's own (discovery) whose host it may fetch from now.

        Discovery requests need the host's lease too: without it the discovery worker's REST
        pages and another worker's articles of the same host would add up beyond its limit.
        """
        now = time.monotonic()
        if self.held and now >= self._next_held:
            self._next_held = now + 0.3
            for i, waiting in enumerate(self.held):
                if self._may_fetch(_host(waiting)):
                    return self.held.pop(i)
        while (request := self.local.next_request()) is not None:
            if self._may_fetch(_host(request)):
                return request
            self.held.append(request)
        return None

    def _may_fetch(self, host: str) -> bool:
        if host in self.owned:
            return True
        if self.job.lease(host, self.worker.id):
            self.owned.add(host)
            logger.info("Worker %s takes host %s", self.worker.id, host)
            return True
        return False

    def _next_shared(self) -> Request | None:
        for host in sorted(self.owned - self.draining):
            request = self._pop(host)
            if request is not None:
                return request
        now = time.monotonic()
        if now < self._next_scan:
            return None
        self._next_scan = now + 0.3
        hosts = [
            h for h in self.job.hosts() if h not in self.owned and self.job.r.llen(self.job.queue_key(h))
        ]
        if not hosts:
            return None
        busy = {h for h in self.owned if self.job.r.llen(self.job.queue_key(h))} | set(hosts)
        share = math.ceil(len(busy) / max(1, len(self.job.workers())))
        for host in hosts:
            if len(self.owned) >= share:
                break
            if self.job.lease(host, self.worker.id):
                self.owned.add(host)
                logger.info("Worker %s takes host %s", self.worker.id, host)
                request = self._pop(host)
                if request is not None:
                    return request
        return None

    def _pop(self, host: str) -> Request | None:
        if sum(1 for f in self.taken if f.startswith(host + " ")) >= self.per_host:
            return None
        field = f"{host} {self.worker.id}:{next(self._ids)}"
        data = self._take(
            keys=[self.job.queue_key(host), self.job.inflight_key(self.worker.id)], args=[field]
        )
        if not data:
            return None
        request = self._queue(host)._decode_request(data)
        self.taken[field] = request
        self.crawler.stats.inc_value("dispatches/redis/taken")
        return request

    # --- bookkeeping (called from the worker's heartbeat) ----------------------------------------
    def settle(self, in_progress: set[Request]) -> int:
        """Acknowledge the shared requests Scrapy is done with; returns how many are left."""
        done = [f for f, req in self.taken.items() if req not in in_progress]
        if done:
            self.job.r.hdel(self.job.inflight_key(self.worker.id), *done)
            for f in done:
                del self.taken[f]
        return len(self.taken)

    def keep_leases(self, in_progress: set[Request]) -> None:
        """Renew the leases of hosts with work, give back idle ones, hand over hosts beyond
        this worker's share once nothing of theirs is in flight here."""
        fetching = {_host(r) for r in in_progress}
        queued = {h: int(self.job.r.llen(self.job.queue_key(h))) for h in self.job.hosts()}
        with_work = {h for h, n in queued.items() if n} | (self.owned & fetching)
        share = max(1, math.ceil(len(with_work) / max(1, len(self.job.workers()))))
        kept = sorted(self.owned - self.draining, key=lambda h: -queued.get(h, 0))
        for host in kept[share:]:
            if queued.get(host):
                self.draining.add(host)
                logger.info("Worker %s hands host %s over to another worker", self.worker.id, host)
        for host in list(self.owned):
            if host in fetching:
                if not self.job.lease(host, self.worker.id):
                    self.owned.discard(host)  # expired and taken over: never two at once
                    self.draining.discard(host)
            elif host in self.draining or not queued.get(host):
                self.job.release(host, self.worker.id)
                self.owned.discard(host)
                self.draining.discard(host)
            elif not self.job.lease(host, self.worker.id):
                self.owned.discard(host)

    def local_work(self) -> int:
        """Requests of this worker's own (discovery) not started yet."""
        return len(self.local) + len(self.held)
