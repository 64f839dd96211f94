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
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import gc
import importlib
import json
import logging
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from multiprocessing.connection import Connection, wait
from typing import Any

from cleaners.config import CleanConfig
from cleaners.model import RawPage, Rejected

logger = logging.getLogger(__name__)


def _func_ref(func: Callable[..., Any] | None) -> str:
    if func is None:
        return ""
    return f"{func.__module__}:{func.__qualname__}"


def _resolve(ref: str, config: CleanConfig) -> Callable[[RawPage], Any]:
    if not ref:
        from cleaners.core import clean

        return functools.partial(clean, config=config)
    module, _, name = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


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


def worker_main(read_fd: int, write_fd: int, func_ref: str, config_arg: str) -> None:
    """Loop of one worker process: receive a RawPage, send back ('ok', doc) or
    ('rejected', reason, detail). Runs as `python -m cleaners._worker`."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # trafilatura warns on every page it gives up on; the parent counts those as Rejected
    for name in ("trafilatura", "htmldate", "courlan", "charset_normalizer", "justext", "readability"):
        logging.getLogger(name).setLevel(logging.ERROR)
    conn_in = Connection(read_fd, writable=False)
    conn_out = Connection(write_fd, readable=False)
    options = json.loads(config_arg)
    options["official_domains"] = tuple(options["official_domains"])  # JSON has no tuples
    # Importing the cleaners (trafilatura, lxml, numpy) makes most of the objects this
    # process will ever hold, and all of them stay: collecting during the imports is wasted
    # work, and once frozen they are left out of every later collection.
    gc.disable()
    try:
        func = _resolve(func_ref, CleanConfig(**options))
    finally:
        gc.freeze()
        gc.enable()
    conn_out.send(("ready",))
    while True:
        try:
            raw = conn_in.recv()
        except (EOFError, OSError):
            return
        if raw is None:
            return
        try:
            reply: tuple[Any, ...] = ("ok", func(raw))
        except Rejected as exc:
            reply = ("rejected", exc.reason, exc.detail)
        except Exception as exc:  # a bug or an lxml error costs this page, not the worker
            reply = ("rejected", "extraction_error", f"{type(exc).__name__}: {exc}"[:500])
        try:
            conn_out.send(reply)
        except (EOFError, OSError):
            return
        except Exception as exc:  # an unpicklable result
            conn_out.send(("rejected", "extraction_error", f"unsendable result: {exc}"[:500]))


def child_environ() -> dict[str, str]:
    """The environment for a worker started with `python -m`: this process's `sys.path`
    travels in PYTHONPATH so the child imports the same code (also from a source checkout)."""
    env = os.environ.copy()
    paths = [p for p in sys.path if p]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


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
    """One `python -m cleaners._worker` process and the two pipes to it.

    A plain subprocess rather than multiprocessing: it never re-imports the caller's main
    module (spawn/forkserver do, which breaks unguarded scripts) and never forks a parent
    that runs threads (Scrapy's reactor)."""

    def __init__(self, func_ref: str, config_arg: str):
        p2c_r, p2c_w = os.pipe()
        c2p_r, c2p_w = os.pipe()
        env = child_environ()
        try:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "cleaners._worker",
                    str(p2c_r),
                    str(c2p_w),
                    func_ref,
                    config_arg,
                ],
                pass_fds=(p2c_r, c2p_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # stdout is for data; a chatty library must not pollute it
                env=env,
                close_fds=True,
            )
        finally:
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
        return self.proc.poll() is None

    def _close_pipes(self) -> None:
        for c in (self.to_child, self.conn):
            try:
                c.close()
            except OSError:
                pass

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._close_pipes()

    def retire(self) -> None:
        try:
            self.to_child.send(None)
        except OSError:
            pass
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
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
    ):
        if workers < 1:
            raise ValueError("workers must be >= 1")
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
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> CleanerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(wait=exc[0] is None)

    # --- dispatcher (one thread owns every worker) ----------------------------------------

    def _spawn(self) -> _Worker:
        self.stats["workers_started"] += 1  # each start costs an interpreter and its imports
        return _Worker(self._func_ref, self._config_arg)

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
        code = w.proc.returncode
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
