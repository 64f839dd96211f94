"""`CleanerPool`: `clean` in worker processes, with a time limit per page.

trafilatura and lxml can hang on a pathological page or crash the process (both reported
upstream), and their caches grow over long runs. So pages are cleaned in worker processes: a
page that runs past `timeout` gets its worker killed and becomes `Rejected("timeout")`; a
worker that dies becomes `Rejected("worker_crashed")`; either way one page is lost, a fresh
worker takes the slot and the crawl goes on. Workers retire after `max_tasks_per_child` pages,
which bounds what the caches can grow to.

Each worker gets up to `prefetch` pages at once (default 2): the next page already waits in
its pipe when it answers, so it never sits idle while the dispatcher thread waits for the GIL
(in a Scrapy process the reactor holds it most of the time). A page waits in the pipe only when
it fits next to the pages already there (the pipe is enlarged where the OS allows), so a send
never blocks the one thread that reads the answers. A page's time limit starts when it reaches
the head of its worker's queue; pages behind a page that timed out or crashed its worker go
back to the front of the queue, never lost.

concurrent.futures.ProcessPoolExecutor is not enough here: it has no per-task timeout, a
hung task cannot be killed without killing the pool, and one crashed worker breaks every
pending future (BrokenProcessPool). This pool keeps one pipe per worker and a dispatcher
thread that owns them all.

Workers are forked from a zygote (one process per pool that imported the cleaners once) where
the platform allows, else each is its own interpreter (`start_method`, `cleaners._launch`);
every guarantee above holds for both. A zygote that dies or cannot start counts as a worker
that failed to start, and the next worker gets a new zygote.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import logging
import os
import pickle
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from multiprocessing.connection import Connection, wait
from typing import Any

from cleaners._launch import Child, PopenChild, Zygote, default_start_method
from cleaners.config import CleanConfig
from cleaners.model import RawPage, Rejected

logger = logging.getLogger(__name__)


def _func_ref(func: Callable[..., Any] | None) -> str:
    if func is None:
        return ""
    return f"{func.__module__}:{func.__qualname__}"


def _plain(raw: RawPage) -> RawPage:
    """The page with headers as a str dict and only plain values in meta."""
    plain = (str, int, float, bool, type(None))
    meta = {str(k): v for k, v in dict(raw.meta or {}).items() if isinstance(v, plain)}
    headers = {str(k).lower(): str(v) for k, v in dict(raw.headers or {}).items()}
    return dataclasses.replace(raw, headers=headers, meta=meta)


def pickle_for_pipe(obj: Any) -> bytes:
    """`obj` pickled for a pipe to another process. A RawPage in it (the object itself, or
    inside tuples such as a call's arguments) whose headers or meta cannot be pickled goes
    as a plain copy."""
    try:
        return pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return pickle.dumps(_plain_pages(obj), pickle.HIGHEST_PROTOCOL)


def _plain_pages(obj: Any) -> Any:
    if isinstance(obj, RawPage):
        return _plain(obj)
    if isinstance(obj, tuple):
        return tuple(_plain_pages(x) for x in obj)
    return obj


def _config_arg(config: CleanConfig) -> str:
    """The config as one command-line argument of a worker."""
    return json.dumps(dataclasses.asdict(config))


def _grow_pipe(fd: int, want: int = 1 << 20) -> int:
    """Make a pipe hold up to `want` bytes where the OS allows (Linux); its capacity."""
    try:
        import fcntl

        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, want)
        return int(fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ))
    except (ImportError, AttributeError, OSError):  # not Linux
        return 16 * 1024  # the smallest pipe buffer of the usual systems


class _Worker:
    """One worker process (started by a launcher of `cleaners._launch`) and the two pipes to it."""

    def __init__(self, launch: Callable[[int, int], Child]):
        p2c_r, p2c_w = os.pipe()
        c2p_r, c2p_w = os.pipe()
        try:
            self.child = launch(p2c_r, c2p_w)
        except BaseException:
            os.close(p2c_w)
            os.close(c2p_r)
            raise
        finally:  # the child has its own copies (or never starts, and then EOF says so)
            os.close(p2c_r)
            os.close(c2p_w)
        self.to_child = Connection(p2c_w, readable=False)
        self.conn = Connection(c2p_r, writable=False)
        self.pipe_size = _grow_pipe(p2c_w)
        self.ready = False
        self.tasks = 0  # pages answered
        self.sent = 0  # pages sent (at most max_tasks_per_child in a worker's life)
        self.inflight: collections.deque[tuple[RawPage, Future, int]] = collections.deque()  # + pickled size
        self.deadline = 0.0  # for the page at the head of `inflight`

    def alive(self) -> bool:
        return self.child.alive()

    def _close_pipes(self) -> None:
        for c in (self.to_child, self.conn):
            try:
                c.close()
            except OSError:
                pass

    def kill(self) -> None:
        self.child.kill()
        self.child.wait(5)
        self._close_pipes()

    def retire(self) -> None:
        try:
            self.to_child.send(None)
        except OSError:
            pass
        if not self.child.wait(2):
            self.child.kill()
            self.child.wait(5)
        self._close_pipes()


class CleanerPool:
    """Run `cleaners.clean` in `workers` processes; `submit(raw)` returns a Future[Document].

    Args:
        workers: number of worker processes.
        timeout: seconds one page may take; then its worker is killed -> Rejected("timeout").
        max_tasks_per_child: pages a worker cleans before it is replaced (memory creep).
        prefetch: pages sent to a worker ahead of its answers (1 = one at a time).
        func: what the workers run instead of `clean(raw, config)`, a module-level function
            taking the page (tests).
        config: the settings `clean` runs with in the workers; the defaults when None.
        start_method: "zygote" (workers forked from one process per pool that imported the
            cleaners once: a worker starts in milliseconds instead of most of a second, and
            the workers share that process's memory; Linux) or "spawn" (each worker its own
            interpreter); None picks "zygote" where it works. See `cleaners._launch`.
    """

    MAX_START_FAILURES = 3

    def __init__(
        self,
        workers: int = 2,
        timeout: float = 20.0,
        max_tasks_per_child: int = 2000,
        *,
        prefetch: int = 2,
        func: Callable[[RawPage], Any] | None = None,
        config: CleanConfig | None = None,
        start_method: str | None = None,
    ):
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.start_method = start_method or default_start_method()
        if self.start_method not in ("zygote", "spawn"):
            raise ValueError(f"unknown start_method {self.start_method!r}")
        if self.start_method == "zygote" and default_start_method() != "zygote":
            raise ValueError("start_method 'zygote' needs fork and AF_UNIX SOCK_SEQPACKET (Linux)")
        self._zygote: Zygote | None = None
        self.prefetch = max(1, int(prefetch))
        self.timeout = float(timeout)
        self.max_tasks_per_child = max(1, int(max_tasks_per_child))
        self.config = config or CleanConfig()
        self._config_arg = _config_arg(self.config)
        self._func_ref = _func_ref(func)
        # (page, future, started): `started` once the future was set running (a page taken
        # back from a dead worker's queue keeps its running future)
        self._pending: collections.deque[tuple[RawPage, Future, bool]] = collections.deque()
        self._lock = threading.Lock()
        self._closed = False
        self._abort = False  # close(wait=False): stop pages in flight too
        self._broken: str | None = None
        self._start_failures = 0
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.stats: collections.Counter[str] = collections.Counter()
        self._workers = [self._spawn() for _ in range(workers)]
        self._thread = threading.Thread(target=self._run, name="cleaner-pool", daemon=True)
        self._thread.start()

    # --- public ---------------------------------------------------------------------------

    def submit(self, raw: RawPage) -> Future:
        """Queue one page; the Future holds its Document or raises Rejected."""
        fut: Future = Future()
        with self._lock:
            if self._broken:
                raise RuntimeError(self._broken)
            if self._closed:
                raise RuntimeError("CleanerPool is closed")
            # Only the first queued page needs a wake-up: while pages are queued the dispatcher
            # either has a wake-up to read or runs `_assign` again when a worker answers.
            wake = not self._pending
            self._pending.append((raw, fut, False))
        if wake:
            self._wake()
        return fut

    def close(self, wait: bool = True) -> None:
        """Stop the workers. With `wait`, pages already submitted are finished first;
        without it they are cancelled."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if not wait:
                self._abort = True
                while self._pending:
                    _, fut, started = self._pending.popleft()
                    if started:
                        fut.set_exception(Rejected("worker_crashed", "pool closed"))
                    else:
                        fut.cancel()
        self._wake()
        self._thread.join()
        with self._lock:
            left, self._pending = list(self._pending), collections.deque()
        for _, fut, started in left:  # only after close(wait=False) or a broken pool
            if started:
                fut.set_exception(Rejected("worker_crashed", "pool closed"))
            else:
                fut.cancel()
        for w in self._workers:
            for _, fut, _ in w.inflight:
                if not fut.done():
                    fut.set_exception(Rejected("worker_crashed", "pool closed"))
            w.inflight.clear()
            if w.alive():
                w.retire()
        self._workers = []
        if self._zygote is not None:
            self._zygote.close()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> CleanerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(wait=exc[0] is None)

    # --- dispatcher (one thread owns every worker) ----------------------------------------

    def _spawn(self) -> _Worker:
        self.stats["workers_started"] += 1
        return _Worker(self._launch)

    def _launch(self, read_fd: int, write_fd: int) -> Child:
        if self.start_method == "spawn":  # an interpreter and its imports per worker
            return PopenChild(read_fd, write_fd, self._func_ref, self._config_arg)
        if self._zygote is None or not self._zygote.alive():
            if self._zygote is not None:  # it died: a new one (the old one's workers run on)
                self._zygote.close()
            self._zygote = Zygote()
            self.stats["zygotes_started"] += 1  # the interpreter and imports, once per zygote
        return self._zygote.spawn(read_fd, write_fd, self._func_ref, self._config_arg)

    def processes(self) -> list[int]:
        """Pids of the pool's processes: its workers, and its zygote if it has one."""
        pids = [w.child.pid for w in list(self._workers)]
        if self._zygote is not None and self._zygote.alive():
            pids.append(self._zygote.proc.pid)
        return pids

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:
            pass

    def _replace(self, idx: int) -> None:
        self._requeue(self._workers[idx])
        self._workers[idx].kill()
        self._workers[idx] = self._spawn()

    def _requeue(self, w: _Worker) -> None:
        """Pages a worker had queued but not started go back to the front of the queue."""
        with self._lock:
            while w.inflight:
                raw, fut, _ = w.inflight.pop()
                self._pending.appendleft((raw, fut, True))

    def _assign(self) -> None:
        for i, w in enumerate(self._workers):
            while w.ready and len(w.inflight) < self.prefetch and w.sent < self.max_tasks_per_child:
                # A page sent to a busy worker must fit in its pipe next to the pages already
                # waiting there: a send that blocks would keep this thread from reading the
                # worker's answer, and the worker blocked on that answer never reads on.
                room = w.pipe_size - sum(size for _, _, size in list(w.inflight)[1:])
                with self._lock:
                    if not self._pending:
                        return
                    raw, fut, started = self._pending.popleft()
                try:
                    data = pickle_for_pipe(raw)
                except Exception as exc:  # still not sendable
                    self.stats["extraction_error"] += 1
                    if started or fut.set_running_or_notify_cancel():
                        fut.set_exception(
                            Rejected("extraction_error", f"page cannot be sent to a worker: {exc}"[:500])
                        )
                    continue
                if w.inflight and len(data) > room:
                    with self._lock:
                        self._pending.appendleft((raw, fut, started))
                    break  # this worker's pipe is full enough; the page waits for an answer
                if not started and not fut.set_running_or_notify_cancel():
                    continue
                try:
                    w.to_child.send_bytes(data)
                except OSError:
                    # the worker is gone: this page was never sent, so it waits for the next one
                    with self._lock:
                        self._pending.appendleft((raw, fut, True))
                    self._died(i)
                    break
                if not w.inflight:
                    w.deadline = time.monotonic() + self.timeout
                w.inflight.append((raw, fut, len(data)))
                w.sent += 1

    def _receive(self, idx: int) -> None:
        w = self._workers[idx]
        try:
            reply = w.conn.recv()
        except (EOFError, OSError):
            self._died(idx)
            return
        if reply[0] == "ready":
            w.ready = True
            self._start_failures = 0
            return
        fut = w.inflight.popleft()[1] if w.inflight else None
        w.deadline = time.monotonic() + self.timeout  # the next page starts now
        w.tasks += 1
        self.stats["pages"] += 1
        if fut is not None:
            if reply[0] == "ok":
                fut.set_result(reply[1])
            else:
                self.stats[reply[1]] += 1
                fut.set_exception(Rejected(reply[1], reply[2]))
        if w.tasks >= self.max_tasks_per_child and not w.inflight:
            w.retire()
            self._workers[idx] = self._spawn()

    def _died(self, idx: int) -> None:
        w = self._workers[idx]
        w.kill()
        code = w.child.returncode
        if not w.ready:
            self._start_failures += 1
            logger.error("cleaner worker exited while starting (exit code %s)", code)
            if self._start_failures >= self.MAX_START_FAILURES:
                self._break(f"cleaner workers cannot start (exit code {code}); see the errors above")
                return
        else:
            self._fail(idx, "worker_crashed", f"exit code {code}")
        self._requeue(w)
        self._workers[idx] = self._spawn()

    def _fail(self, idx: int, reason: str, why: str) -> None:
        """The page at the head of a worker's queue is lost (the one it was working on)."""
        w = self._workers[idx]
        fut = w.inflight.popleft()[1] if w.inflight else None
        self.stats[reason] += 1
        if fut is not None and not fut.done():
            fut.set_exception(Rejected(reason, why))
        logger.warning("cleaner worker: %s (%s); replaced", reason, why)

    def _break(self, why: str) -> None:
        with self._lock:
            self._broken = why
            pending, self._pending = list(self._pending), collections.deque()
        for _, fut, started in pending:
            if started or fut.set_running_or_notify_cancel():
                fut.set_exception(RuntimeError(why))

    def _run(self) -> None:
        while True:
            if self._broken:
                return
            if self._abort:
                for i, w in enumerate(self._workers):
                    while w.inflight:
                        self._fail(i, "worker_crashed", "pool closed")
                    w.kill()
                return
            self._assign()
            busy = [w for w in self._workers if w.inflight]
            with self._lock:
                if self._closed and not busy and not self._pending:
                    return
            now = time.monotonic()
            wait_for = min((w.deadline - now for w in busy), default=1.0)
            ready = wait(
                [self._wake_r] + [w.conn for w in self._workers], timeout=max(0.0, min(wait_for, 1.0))
            )
            if self._wake_r in ready:
                self._drain_wake()
            for i in range(len(self._workers)):
                w = self._workers[i]
                if w.conn in ready:
                    self._receive(i)
                    if self._broken:
                        return
                    continue
                if w.inflight and time.monotonic() >= w.deadline:
                    self._fail(i, "timeout", f"no result after {self.timeout:g} s")
                    self._replace(i)
