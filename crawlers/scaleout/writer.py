"""The store writer of a distributed crawl: the document queue into one database, through the junction.

Workers push `(kind, worker, payload)` messages (`crawlers.scaleout.worker.encode`) onto
`dispatches:docs`. The writer moves a batch into its processing list (`dispatches:docs:busy`,
BLMOVE), saves it (`start` opens the worker's `crawls` row, `page` goes through
`crawlers.junction.process_many`, `state` keeps discovery validators, `finish` closes the row
with the `crawls.stats` contract), and removes the batch from the processing list only after the
transaction has committed. A writer killed at any point leaves the batch there; the next writer
puts it back on the queue first, and saving a page again changes nothing (same URL, same text:
`unchanged`).

After saving, the writer publishes what the workers' spiders need for incremental crawling
(`known:HOST` hashes: url_key -> the stored ETag, Last-Modified, lastmod, modified_gmt), so a
distributed re-crawl fetches only what changed.

When the job ends (`--idle-exit`: the queue empty and no worker left), the writer cleans again the
stored pages of sites whose chrome changed during the job (`junction.reclean_site_chrome`), as a
single-process crawl does when it finishes; a writer stopped by a signal leaves that to the next run.
"""

from __future__ import annotations

import json
import logging
import pickle
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import redis

from cleaners.model import Document, RawPage, Rejected
from crawlers.junction import Cleaned, process_many, reclean_site_chrome
from crawlers.pipelines import contract_stats, crawl_status
from crawlers.scaleout.job import PREFIX, as_text, live_workers
from crawlers.scaleout.worker import DOCS, with_refused

if TYPE_CHECKING:
    from store import Store

logger = logging.getLogger(__name__)

__all__ = ["BUSY", "QueueWriter", "docs_waiting"]

BUSY = DOCS + ":busy"
CRAWLS = PREFIX + "crawls"
COUNTS = PREFIX + "counts:"
BATCH = 64


def docs_waiting(client: redis.Redis) -> int:
    """Messages queued for the writer, with those it holds unsaved."""
    return int(client.llen(DOCS)) + int(client.llen(BUSY))


class QueueWriter:
    """Save queued documents into `store` until `stop()` or `idle_exit` seconds of nothing to do.

    Args:
        client: the Redis client of the job(s).
        store: the open database (this object uses it from one thread).
        idle_exit: stop once the queue has been empty and no worker seen for this long; None = never.
        clean: how a stored page is cleaned again for the end-of-job site-chrome pass (in this
            process); None = no pass.
    """

    def __init__(
        self,
        client: redis.Redis,
        store: Store,
        *,
        idle_exit: float | None = None,
        clean: Callable[[RawPage], Document] | None = None,
    ):
        self.r = client
        self.store = store
        self.idle_exit = idle_exit
        self.clean = clean
        self.stopped = False
        self.saved = 0
        self.busy = 0.0  # seconds spent saving (and acknowledging) batches
        self.counts: Counter[str] = Counter()
        self._dirty: set[str] = set()
        self._next_reap = 0.0

    def stop(self) -> None:
        """Finish the batch in hand, then return from `run`."""
        self.stopped = True

    def recover(self) -> int:
        """Put back on the queue what a killed writer held unsaved (oldest taken next)."""
        moved = 0
        while self.r.lmove(BUSY, DOCS, "LEFT", "RIGHT") is not None:
            moved += 1
        if moved:
            logger.warning("%d message(s) a previous writer held unsaved go back on the queue", moved)
        return moved

    def run(self, on_batch: Callable[[int], None] | None = None) -> int:
        """The loop; returns how many pages were saved."""
        if not self.r.exists(CRAWLS):
            # no worker's row is open in Redis (a fresh or restarted Redis): a row still
            # `running` belongs to a process that died (this writer holds the run lock)
            dead = self.store.interrupt_dead_runs()
            if dead:
                logger.warning("marked %d run(s) left 'running' by a process that died as interrupted", dead)
        self.recover()
        self.publish_known()
        idle_since = time.monotonic()
        while not self.stopped:
            first = self.r.blmove(DOCS, BUSY, 1, "RIGHT", "LEFT")
            now = time.monotonic()
            if now >= self._next_reap:
                self._next_reap = now + 2.0
                self.reap()
            if first is None:
                if self._dirty:
                    self.publish_known()
                if self.idle_exit is not None:
                    if live_workers(self.r):
                        idle_since = now
                    elif now - idle_since >= self.idle_exit:
                        break
                continue
            idle_since = now
            batch: list[Any] = [first]
            while len(batch) < BATCH:
                nxt = self.r.lmove(DOCS, BUSY, "RIGHT", "LEFT")
                if nxt is None:
                    break
                batch.append(nxt)
            self.handle(batch)
            pipe = self.r.pipeline()
            for data in batch:
                pipe.lrem(BUSY, 1, data)
            pipe.execute()
            self.busy += time.monotonic() - now
            if on_batch is not None:
                on_batch(len(batch))
        if self._dirty:
            self.publish_known()
        if not self.stopped and self.clean is not None:
            self.reclean_site_chrome(self.clean)
        return self.saved

    def reclean_site_chrome(self, clean: Callable[[RawPage], Document]) -> Counter:
        """The end of a job: pages saved before their site's chrome was known are cleaned again;
        counted in `self.counts` under `site_chrome/`. A failure leaves the pages as saved."""
        try:
            done = reclean_site_chrome(self.store, clean, crawl_id=None)
        except Exception as exc:  # the next run's pass tries again
            logger.error("Could not clean pages again for site chrome: %s: %s", type(exc).__name__, exc)
            return Counter()
        for key, n in done.items():
            self.counts[f"site_chrome/{key}"] += n
        if done.get("sites"):
            logger.info(
                "Site chrome: %d page(s) of %d site(s) cleaned again", done["recleaned"], done["sites"]
            )
        return done

    # --- messages --------------------------------------------------------------------------------
    def handle(self, batch: list[Any]) -> None:
        pages: list[tuple[str, RawPage, Cleaned]] = []
        for data in batch:
            try:
                kind, worker, payload = pickle.loads(data)
            except Exception as exc:  # a message of another version or garbage: logged, skipped
                logger.error("Skipped an unreadable queue message: %s", exc)
                self.counts["unreadable"] += 1
                continue
            if kind == "page":
                raw, cleaned = payload
                if isinstance(cleaned, tuple) and cleaned and cleaned[0] == "rejected":
                    cleaned = Rejected(cleaned[1], cleaned[2])
                pages.append((worker, raw, cleaned))
                continue
            self._save_pages(pages)
            pages = []
            if kind == "start":
                self._start(worker, payload)
            elif kind == "finish":
                self._finish(worker, payload)
            elif kind == "state":
                url, fields = payload
                self.store.set_url_state(url, **fields)
        self._save_pages(pages)

    def _crawl_id(self, worker: str) -> int | None:
        value = self.r.hget(CRAWLS, worker)
        return int(value) if value else None

    def _start(self, worker: str, payload: dict) -> None:
        if self._crawl_id(worker) is not None:
            return  # a start saved before the previous writer was killed
        crawl_id = self.store.start_crawl(payload["spider"], payload["args"])
        self.r.hset(CRAWLS, worker, crawl_id)
        logger.info("Crawl %s: worker %s of %s", crawl_id, payload["args"].get("worker"), payload["spider"])

    def _finish(self, worker: str, payload: dict) -> None:
        crawl_id = self._crawl_id(worker)
        if crawl_id is None:
            return
        s = dict(payload["stats"])
        for key, n in self._counts(worker).items():
            s[f"dispatches/{key}"] = int(s.get(f"dispatches/{key}", 0) or 0) + n
        stats = with_refused(contract_stats(s, payload["reason"]), s)
        status = crawl_status(payload["reason"], stats)
        self.store.finish_crawl(crawl_id, status, stats)
        self.r.hdel(CRAWLS, worker)
        self.r.delete(COUNTS + worker)
        logger.info("Crawl %s %s: %d pages saved", crawl_id, status, stats["pages_fetched"])

    def _counts(self, worker: str) -> dict[str, int]:
        return {as_text(k): int(v) for k, v in self.r.hgetall(COUNTS + worker).items()}

    def _save_pages(self, pages: list[tuple[str, RawPage, Cleaned]]) -> None:
        i = 0
        while i < len(pages):  # one transaction per run of pages of the same worker
            worker = pages[i][0]
            j = i
            while j < len(pages) and pages[j][0] == worker:
                j += 1
            group = pages[i:j]
            outcomes = process_many(
                [(raw, c) for _, raw, c in group], self.store, crawl_id=self._crawl_id(worker)
            )
            counts: Counter[str] = Counter()
            for (_, raw, _), outcome in zip(group, outcomes, strict=True):
                counts.update(outcome.counts)
                if raw.url:
                    self._dirty.add(raw.url)
            if counts:
                pipe = self.r.pipeline()
                for key, n in counts.items():
                    pipe.hincrby(COUNTS + worker, key, n)
                pipe.execute()
            self.counts.update(counts)
            self.saved += len(group)
            i = j

    # --- workers that died -----------------------------------------------------------------------
    def reap(self) -> None:
        """Close the `crawls` rows of workers that stopped beating without a `finish` (kill -9,
        Redis lost): status `interrupted`, with the outcomes saved for them."""
        if docs_waiting(self.r) > 0:
            return  # their finish message may still be on its way
        live = live_workers(self.r)
        for key, value in self.r.hgetall(CRAWLS).items():
            worker = as_text(key)
            if worker in live:
                continue
            s = {f"dispatches/{k}": n for k, n in self._counts(worker).items()}
            stats = contract_stats(s, "worker_lost")
            self.store.finish_crawl(int(value), "interrupted", stats)
            self.r.hdel(CRAWLS, worker)
            self.r.delete(COUNTS + worker)
            logger.warning("Crawl %s: worker %s stopped without finishing; interrupted", int(value), worker)

    # --- crawl state for the workers -------------------------------------------------------------
    def publish_known(self) -> int:
        """Publish the stored state of every known URL (by host) for the workers' spiders."""
        from urllib.parse import urlsplit

        by_host: dict[str, dict[str, str]] = {}
        for key, state in self.store.known_urls().items():
            host = urlsplit(key).hostname or ""
            by_host.setdefault(host, {})[key] = json.dumps(state, default=str)
        pipe = self.r.pipeline()
        for host, entries in by_host.items():
            pipe.hset(f"{PREFIX}known:{host}", mapping=entries)  # type: ignore[arg-type]
        pipe.execute()
        self._dirty.clear()
        return sum(len(e) for e in by_host.values())
