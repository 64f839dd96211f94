"""The one junction: RawPage -> cleaners.clean (worker processes) -> store.save (the store process).

`StorePipeline` opens the database named by `DISPATCHES_DB` under the run lock, writes a
`crawls` row, cleans pages in a `CleanerPool` (both cores work while the reactor keeps
downloading), saves them through a `StoreWorker`: a store process of its own with pipelined calls (a
locked-database retry sleeps there, never on the event loop; the store's CPU never holds the
crawl process's GIL), counts everything, and closes the crawl row with the stats contract
of the common brief when the spider closes. The spiders read incremental state (known URLs,
ETags, lastmod) through the same `StoreWorker`, so one connection serves the whole run.

It leaves extraction to `cleaners`, identity and provenance to `store`, and deciding what to
fetch to the spiders.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import queue
import subprocess
import sys
import threading
from concurrent.futures import Future
from datetime import date, datetime
from multiprocessing.connection import Connection
from typing import Any

from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.logformatter import LogFormatter

from cleaners.model import RawPage, Rejected
from cleaners.pool import child_environ, pickle_for_pipe
from crawlers.discovery import matches_topic
from crawlers.runlock import run_lock

logger = logging.getLogger(__name__)

__all__ = ["StorePipeline", "StoreWorker", "get_store", "crawl_status"]


def _setting_list(value) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value or [])


# The store's own process: `python -c _STORE_SERVER ARGS`. It imports only `store` (no Scrapy),
# ignores SIGINT/SIGTERM (the crawl process decides when to stop and closes the pipe), and
# answers every call in order: ("ok", result) or ("err", exception). Saves that queued up while
# it was busy go into one transaction (`Store.save_many`), answered after its commit.
_STORE_SERVER = """
import json, logging, pickle, signal, sys
from multiprocessing.connection import Connection
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                    format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
read_fd, write_fd, path, official, keep_raw, check = json.loads(sys.argv[1])
conn_in = Connection(read_fd, writable=False)
conn_out = Connection(write_fd, readable=False)

def reply_err(exc):
    try:
        pickle.dumps(exc)
    except Exception:
        exc = RuntimeError(f"{type(exc).__name__}: {exc}")
    conn_out.send(("err", exc))

try:
    from store import Store
    db = Store(path, official_domains=official, keep_raw=keep_raw, check=check)
except BaseException as exc:
    reply_err(exc)
    sys.exit(1)
conn_out.send(("ok", None))

def send(reply):
    try:
        conn_out.send(reply)
    except (EOFError, OSError):
        raise SystemExit(0)  # the crawl process is gone: what was committed stays
    except Exception as exc:  # an unpicklable result
        reply_err(exc)

def batchable(msg):
    return msg is not None and msg[0] == "save" and not set(msg[2]) - {"crawl_id"} and 2 <= len(msg[1]) <= 3

def one_save(msg):
    _, args, kwargs = msg
    return tuple(args) if len(args) == 3 else (args[0], args[1], kwargs.get("crawl_id"))

held = []  # the call read while gathering saves (at most one; may be the final None), answered next
try:
    while True:
        try:
            msg = held.pop() if held else conn_in.recv()
        except (EOFError, OSError):
            break  # the crawl process is gone (kill -9): what was committed stays
        if msg is None:
            break
        method, args, kwargs = msg
        if batchable(msg):
            # saves that queued up while the last one ran: one transaction, one commit
            batch = [msg]
            while len(batch) < 64 and conn_in.poll():
                nxt = conn_in.recv()
                if not batchable(nxt):
                    held.append(nxt)
                    break
                batch.append(nxt)
            if len(batch) > 1:
                try:
                    results = db.save_many([one_save(m) for m in batch])
                except Exception as exc:
                    results = [exc] * len(batch)
                for res in results:
                    if isinstance(res, Exception):
                        reply_err(res)
                    else:
                        send(("ok", res))
                continue
        try:
            if method.startswith("_"):
                raise AttributeError(method)
            reply = ("ok", getattr(db, method)(*args, **kwargs))
        except Exception as exc:
            reply_err(exc)
            continue
        send(reply)
except (EOFError, OSError):
    pass  # the crawl process went away in the middle of a batch: nothing of it was answered
finally:
    db.close()
"""


class StoreWorker:
    """A `store.Store` in a process of its own, called from any thread of the crawl process.

    The store's CPU work (identity cascade, near-duplicate index, compression) then neither
    holds the crawl process's GIL nor slows Scrapy's reactor. Calls are pipelined: a sender
    thread writes each request as soon as it is made and a reader thread hands the answers,
    which come back in order, to their futures. The store process always has the next request
    waiting in its pipe instead of idling while a thread of the crawl process waits for the
    GIL. `save` is answered only after its transaction has committed in the store process, so
    an item the pipeline reports done is on disk (a kill -9 of either process loses nothing
    reported).
    """

    def __init__(self, path: str, official_domains=None, keep_raw: bool = True, check: bool = True):
        self.path = path
        self.closed = False
        if path != ":memory:":
            parent = os.path.dirname(os.path.abspath(path))
            os.makedirs(parent, exist_ok=True)
        p2c_r, p2c_w = os.pipe()
        c2p_r, c2p_w = os.pipe()
        env = child_environ()
        args = [
            p2c_r,
            c2p_w,
            path,
            list(official_domains) if official_domains else None,
            bool(keep_raw),
            bool(check),
        ]
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _STORE_SERVER, json.dumps(args)],
                pass_fds=(p2c_r, c2p_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
                close_fds=True,
            )
        except BaseException:
            for fd in (p2c_r, p2c_w, c2p_r, c2p_w):
                os.close(fd)
            raise
        os.close(p2c_r)
        os.close(c2p_w)
        self._to = Connection(p2c_w, readable=False)
        self._from = Connection(c2p_r, writable=False)
        try:
            self._reply()  # the store opened (or refused) the database
        except BaseException:
            self.closed = True
            with contextlib.suppress(OSError):
                self._to.send(None)
            self._end(wait=10)
            raise
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()  # (method, args, kwargs, future); None ends
        self._waiting: collections.deque[Future] = collections.deque()  # sent, in order
        self._gone: str | None = None  # why the store process cannot answer any more
        self._state = threading.Lock()
        self._sender = threading.Thread(target=self._send_loop, name="dispatches-db-send", daemon=True)
        self._reader = threading.Thread(target=self._read_loop, name="dispatches-db-read", daemon=True)
        self._sender.start()
        self._reader.start()

    def _reply(self) -> Any:
        try:
            reply = self._from.recv()
        except (EOFError, OSError):
            code = self.proc.poll()
            raise RuntimeError(f"the store process exited (exit code {code})") from None
        if reply[0] == "ok":
            return reply[1]
        raise reply[1]

    def _send_loop(self) -> None:
        while True:
            job = self._outbox.get()
            if job is None:
                with contextlib.suppress(OSError):
                    self._to.send(None)
                return
            method, args, kwargs, fut = job
            try:
                data = pickle_for_pipe((method, args, kwargs))
            except Exception as exc:  # not even as plain copies
                fut.set_exception(exc)
                continue
            with self._state:
                if self._gone:
                    fut.set_exception(RuntimeError(self._gone))
                    continue
                self._waiting.append(fut)
            try:
                self._to.send_bytes(data)
            except OSError:
                self._fail_all(f"the store process exited (exit code {self.proc.poll()})")

    def _read_loop(self) -> None:
        while True:
            try:
                reply = self._from.recv()
            except (EOFError, OSError):
                break
            with self._state:
                fut = self._waiting.popleft() if self._waiting else None
            if fut is None:
                continue
            if reply[0] == "ok":
                fut.set_result(reply[1])
            else:
                fut.set_exception(reply[1])
        self._fail_all(f"the store process exited (exit code {self.proc.poll()})")

    def _fail_all(self, why: str) -> None:
        with self._state:
            self._gone = self._gone or why
            waiting, self._waiting = list(self._waiting), collections.deque()
        for fut in waiting:
            if not fut.done():
                fut.set_exception(RuntimeError(why))

    def submit(self, method: str, *args, **kwargs) -> Future:
        """Queue one call; the Future holds the store's answer (or its exception)."""
        fut: Future = Future()
        if self.closed:
            fut.set_exception(RuntimeError("the store is closed"))
        else:
            self._outbox.put((method, args, kwargs, fut))
        return fut

    async def call(self, method: str, *args, **kwargs) -> Any:
        return await asyncio.wrap_future(self.submit(method, *args, **kwargs))

    def call_sync(self, method: str, *args, **kwargs) -> Any:
        return self.submit(method, *args, **kwargs).result()

    def _end(self, wait: float) -> None:
        try:
            self.proc.wait(wait)  # the store checkpoints the WAL (TRUNCATE) as it closes
        except subprocess.TimeoutExpired:
            logger.error("store process did not close within %g s; killed (committed data is kept)", wait)
            self.proc.kill()
            self.proc.wait()
        for c in (self._to, self._from):
            with contextlib.suppress(OSError):
                c.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._outbox.put(None)  # after every call already made: the store answers them, then ends
        self._sender.join()
        self._end(300.0)
        self._reader.join(10)
        if self.proc.returncode not in (0, None):
            logger.warning("store process exited with code %s", self.proc.returncode)


def get_store(crawler) -> StoreWorker | None:
    """The run's StoreWorker (opened by StorePipeline), or None when the pipeline is off."""
    return getattr(crawler, "dispatches_store", None)


def _jsonable(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _by_host(stats: dict, prefix: str) -> dict:
    return {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}


def crawl_status(reason: str, stats: dict) -> str:
    """ok | degraded | failed | interrupted, from the finish reason and the run's stats dict."""
    if reason in ("shutdown", "cancelled") or str(reason).startswith("memusage"):
        return "interrupted"
    hosts = set(stats["discovery"]) | set(stats["discovery_failed"]) | set(stats["robots_blocked"])
    failed_hosts = set(stats["discovery_failed"]) | set(stats["robots_blocked"]) | set(stats["circuit_open"])
    fetched = stats["pages_fetched"] + stats["not_modified"]
    if hosts and failed_hosts >= hosts and fetched == 0:
        return "failed"
    if stats.get("store_errors", 0) and fetched and stats["store_errors"] >= fetched:
        return "failed"
    if failed_hosts or stats["errors"] or stats.get("deferred"):
        return "degraded"
    return "ok"


class StorePipeline:
    """Clean and save every RawPage; keep the run's record in the `crawls` table."""

    def __init__(self, crawler):
        s = crawler.settings
        if not s.get("DISPATCHES_DB"):
            raise NotConfigured("DISPATCHES_DB is not set")
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_path = s.get("DISPATCHES_DB")
        self.official = _setting_list(s.get("DISPATCHES_OFFICIAL_DOMAINS"))
        self.keep_raw = s.getbool("DISPATCHES_KEEP_RAW", True)
        self.lock_wait = s.getfloat("DISPATCHES_LOCK_WAIT", 0.0)
        self.workers = s.getint("DISPATCHES_CLEAN_WORKERS", 2)
        self.clean_timeout = s.getfloat("DISPATCHES_CLEAN_TIMEOUT", 20.0)
        # A fresh worker costs ~0.5 s of CPU (imports) before its first page; recycling every
        # 200 pages spent a third of the cleaning CPU on that. trafilatura's caches are reset
        # every 500 pages inside a worker (trafilatura#216).
        self.clean_max_tasks = s.getint("DISPATCHES_CLEAN_MAX_TASKS", 2000)
        self.exit = contextlib.ExitStack()
        self.store: StoreWorker | None = None
        self.pool = None
        self.crawl_id: int | None = None
        self.finished = False
        # The lock and the database are taken here, before the spider's start() asks for state.
        self.exit.enter_context(run_lock(self.db_path, wait=self.lock_wait))
        try:
            self.store = StoreWorker(
                self.db_path,
                self.official or None,
                self.keep_raw,
                check=not s.getbool("DISPATCHES_DB_CHECKED", False),
            )
        except Exception:
            self.exit.close()
            raise
        crawler.dispatches_store = self.store
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)
        # The cleaner workers (a few seconds to import trafilatura) start when the spider
        # schedules its first article (`warm_pool`), so they are ready when pages arrive and a
        # re-crawl where nothing changed never pays for them.
        crawler.dispatches_warm = self.warm_pool

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None):
        spider = spider or self.crawler.spider
        self.topic = [k for k in getattr(spider, "topic_keywords", []) if k]
        args = {k: v for k, v in getattr(spider, "run_args", {}).items() if v not in (None, "")}
        self.crawl_id = self.store.call_sync("start_crawl", spider.name, args)
        logger.info("Crawl %s of %s into %s", self.crawl_id, spider.name, self.db_path)

    # --- items -----------------------------------------------------------------------------
    async def process_item(self, item, spider=None):
        if not isinstance(item, RawPage):
            return item
        raw = item
        url = raw.final_url or raw.url
        soft = raw.meta.get("soft_block")
        if soft:
            await self._event(url, "fetch", "soft_block", str(soft))
            raise DropItem(f"soft block ({soft}): {url}")
        if raw.status == 304:
            await self.store.call("touch", raw.url, raw.fetched_at, crawl_id=self.crawl_id, status=304)
            await self._remember(raw)
            self.stats.inc_value("dispatches/not_modified")
            return item
        if raw.status != 200:
            if raw.status == 0:
                await self._event(url, "fetch", "fetch_failed", str(raw.meta.get("fetch_error", "")))
                raise DropItem(f"fetch failed: {url}")
            reason = "gone" if raw.status in (404, 410) else f"http_{raw.status}"
            await self._event(url, "fetch", reason, f"HTTP {raw.status}")
            raise DropItem(f"HTTP {raw.status}: {url}")
        self.stats.inc_value("dispatches/pages_fetched")
        self.warm_pool()
        try:
            doc = await asyncio.wrap_future(self.pool.submit(raw))
        except Rejected as exc:
            self.stats.inc_value(f"dispatches/rejected/{exc.reason}")
            await self._event(url, "clean", exc.reason, exc.detail)
            raise DropItem(f"rejected ({exc.reason}): {url}") from None
        if self.topic and not matches_topic(self.topic, doc.title, doc.text, url):
            self.stats.inc_value("dispatches/rejected/off_topic")
            await self._event(url, "clean", "off_topic", ",".join(self.topic))
            await self._remember(raw)
            raise DropItem(f"off topic: {url}")
        try:
            res = await self.store.call("save", doc, raw, crawl_id=self.crawl_id)
        except Exception as exc:  # never a silently lost item (RELIABILITY #66)
            self.stats.inc_value("dispatches/errors")
            self.stats.inc_value("dispatches/store_errors")
            logger.error("Could not save %s: %s: %s", url, type(exc).__name__, exc)
            with contextlib.suppress(Exception):
                await self._event(url, "store", "save_failed", f"{type(exc).__name__}: {exc}")
            raise DropItem(f"save failed: {url}") from None
        outcome = getattr(res, "outcome", None)
        self.stats.inc_value(f"dispatches/outcome/{outcome}")
        if outcome in ("new", "copy"):
            self.stats.inc_value("dispatches/copies_new")
        if outcome == "new":
            self.stats.inc_value("dispatches/articles_new")
        elif outcome == "copy":
            self.stats.inc_value("dispatches/copies_merged")
        elif outcome == "version":
            self.stats.inc_value("dispatches/versions_new")
        elif outcome == "unchanged":
            self.stats.inc_value("dispatches/unchanged")
        # store.save keeps raw.meta's lastmod/modified_gmt in the same transaction
        return item

    def warm_pool(self) -> None:
        """Start the cleaner workers if they are not running yet."""
        if self.pool is None and not self.finished:
            from cleaners.pool import CleanerPool

            self.pool = CleanerPool(
                workers=self.workers, timeout=self.clean_timeout, max_tasks_per_child=self.clean_max_tasks
            )

    async def _remember(self, raw: RawPage) -> None:
        """Keep discovery hints (sitemap lastmod, REST modified_gmt) for the next run's decision."""
        hints = {k: raw.meta.get(k) for k in ("lastmod", "modified_gmt") if raw.meta.get(k)}
        if hints and raw.url:
            await self.store.call("set_url_state", raw.url, **hints)

    async def _event(self, url, stage, reason, detail=""):
        await self.store.call("record_event", self.crawl_id, url, stage, reason, detail)

    # --- the end -----------------------------------------------------------------------------
    def contract_stats(self, reason: str) -> dict:
        s = dict(self.stats.get_stats())
        val = lambda k: int(s.get(f"dispatches/{k}", 0) or 0)  # noqa: E731
        stats = {
            "pages_fetched": val("pages_fetched"),
            "articles_new": val("articles_new"),
            "copies_new": val("copies_new"),
            "copies_merged": val("copies_merged"),
            "versions_new": val("versions_new"),
            "unchanged": val("unchanged"),
            "not_modified": val("not_modified"),
            "errors": val("errors"),
            "store_errors": val("store_errors"),
            "soft_blocks": val("soft_blocks"),
            "rejected": _by_host(s, "dispatches/rejected/"),
            "soft_blocks_by_host": _by_host(s, "dispatches/soft_blocks/"),
            "discovery": _by_host(s, "dispatches/discovery/"),
            "discovery_failed": sorted(_by_host(s, "dispatches/discovery_failed/")),
            "robots_blocked": sorted(_by_host(s, "dispatches/robots_blocked/")),
            "circuit_open": sorted(
                set(_by_host(s, "dispatches/circuit_open/")) | set(s.get("safety/circuit_open") or [])
            ),
            "deferred": sorted(_by_host(s, "dispatches/deferred/")),
            "crawl_delay": _by_host(s, "dispatches/crawl_delay/"),
            "finish_reason": reason,
        }
        # Downloads that failed for good (after retries) count as errors of the run.
        stats["errors"] += int(s.get("dispatches/fetch_failed", 0) or 0)
        stats["scrapy"] = _jsonable({k: v for k, v in s.items() if not k.startswith("dispatches/")})
        return stats

    def _spider_closed(self, spider, reason):
        if self.finished:
            return
        self.finished = True
        try:
            stats = self.contract_stats(reason)
            status = crawl_status(reason, stats)
            self.crawler.dispatches_status = status
            self.stats.set_value("dispatches/status", status)
            if self.crawl_id is not None:
                self.store.call_sync("finish_crawl", self.crawl_id, status, stats)
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
                    for k in ("robots_blocked", "discovery_failed", "circuit_open", "deferred")
                    if stats[k]
                ),
            )
        finally:
            self._close()

    def close_spider(self, spider=None):
        # Closing happens in _spider_closed (it knows the finish reason); the pool can go now.
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def _close(self):
        if self.pool is not None:
            self.pool.close()
            self.pool = None
        try:
            if self.store is not None:
                self.store.close()
        finally:
            self.exit.close()


def _describe(item) -> str:
    if isinstance(item, RawPage):
        return f"<RawPage {item.status} {item.final_url or item.url} ({len(item.body)} bytes)>"
    return repr(item)[:300]


class QuietLogFormatter(LogFormatter):
    """Scrapy's log formatter without page bodies in the log.

    Scrapy logs a scraped or dropped item with its repr, and a RawPage's repr holds the whole
    body. Dropped pages (soft blocks, rejected, off topic) are expected: INFO, one line each.
    """

    def scraped(self, item, response, spider):
        res = super().scraped(item, response, spider)
        res["args"]["item"] = _describe(item)
        return res

    def dropped(self, item, exception, response, spider):
        return {"level": logging.INFO, "msg": "Dropped: %(exception)s", "args": {"exception": exception}}

    def item_error(self, item, exception, response, spider):
        res = super().item_error(item, exception, response, spider)
        res["args"]["item"] = _describe(item)
        return res
