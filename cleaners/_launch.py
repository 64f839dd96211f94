"""How a CleanerPool starts its worker processes: two launchers with one interface.

- "spawn": each worker is a fresh `python -m cleaners._worker` (any platform). A plain
  subprocess rather than multiprocessing: it never re-imports the caller's main module
  (multiprocessing's spawn and forkserver do, which breaks unguarded scripts) and never forks a
  parent that runs threads (Scrapy's reactor, the pool's dispatcher).
- "zygote" (Linux): one `python -m cleaners._zygote` per pool imports the cleaners once and
  forks each worker from there, so a worker costs a fork instead of an interpreter and its
  imports, and the workers share the zygote's memory pages.

Either way a launcher gets the worker's two pipe ends and returns a `Child`: its pid, whether
it still runs, kill, wait, and its returncode once it is gone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from typing import Protocol

logger = logging.getLogger(__name__)


def child_environ() -> dict[str, str]:
    """The environment for a worker or zygote started with `python -m`: this process's
    `sys.path` travels in PYTHONPATH so the child imports the same code (also from a source
    checkout)."""
    env = os.environ.copy()
    paths = [p for p in sys.path if p]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def default_start_method() -> str:
    """ "zygote" where it works (fork, SOCK_SEQPACKET, fd passing: Linux), else "spawn"."""
    if sys.platform.startswith("linux") and hasattr(os, "fork") and hasattr(socket, "SOCK_SEQPACKET"):
        return "zygote"
    return "spawn"


class Child(Protocol):
    """A worker process as the pool sees it."""

    returncode: int | None  # set once it is known to have exited (negative: killed by that signal)

    @property
    def pid(self) -> int: ...

    def alive(self) -> bool: ...

    def kill(self) -> None: ...

    def wait(self, timeout: float) -> bool:
        """True when the process has exited (and is reaped) within `timeout` seconds."""
        ...


class PopenChild:
    """A worker started as its own interpreter."""

    def __init__(self, read_fd: int, write_fd: int, func_ref: str, config_arg: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cleaners._worker", str(read_fd), str(write_fd), func_ref, config_arg],
            pass_fds=(read_fd, write_fd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # stdout is for data; a chatty library must not pollute it
            env=child_environ(),
            close_fds=True,
        )
        self.pid = self.proc.pid
        self.returncode: int | None = None

    def alive(self) -> bool:
        self.returncode = self.proc.poll()
        return self.returncode is None

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()

    def wait(self, timeout: float) -> bool:
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True


class ZygoteError(Exception):
    """The zygote is gone or answered out of turn."""


class Zygote:
    """The pool's side of one zygote process: spawn and wait requests over a SOCK_SEQPACKET
    socket, answered in order. A spawn does not wait for its answer (the zygote may still be
    importing); the pid is read when it is first needed, by which time it is usually there."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = child_environ()
        # threads started by numpy's BLAS would not survive a fork
        env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = "1"
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cleaners._zygote", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
                close_fds=True,
            )
        finally:
            theirs.close()
        self.sock = ours
        self.lock = threading.Lock()
        self.unanswered: list[ZygoteChild] = []  # spawns whose pid is not read yet, oldest first
        self.broken = False

    def alive(self) -> bool:
        return not self.broken and self.proc.poll() is None

    def spawn(self, read_fd: int, write_fd: int, func_ref: str, config_arg: str) -> ZygoteChild:
        """Ask for a worker on these pipe ends (the zygote gets its own copies of them). If the
        zygote is gone the worker never starts: the pool sees EOF on its pipe, as when a
        started worker dies before its first page."""
        child = ZygoteChild(self)
        with self.lock:
            try:
                if self.broken:
                    raise ZygoteError("the zygote is gone")
                msg = json.dumps(["spawn", func_ref, config_arg]).encode()
                socket.send_fds(self.sock, [msg], [read_fd, write_fd])
                self.unanswered.append(child)
            except (OSError, ZygoteError) as exc:
                self._lost(exc)
                child.returncode = self.proc.poll()
                child.started = False
        return child

    def wait(self, pid: int, timeout: float) -> int | None:
        """The returncode of child `pid` if it exits within `timeout` s (the zygote reaps it)."""
        reply = self._request(["wait", pid, timeout])
        return None if reply[1] is None else int(reply[1])

    def close(self) -> None:
        """End the zygote: EOF on its socket makes it kill and reap the children left, then exit."""
        with self.lock:
            with contextlib.suppress(OSError, ZygoteError):
                self._answers()
            self.broken = True
            self.sock.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _request(self, request: list) -> list:
        with self.lock:
            try:
                if self.broken:
                    raise ZygoteError("the zygote is gone")
                self._answers()
                self.sock.send(json.dumps(request).encode())
                return self._reply()
            except (OSError, ZygoteError) as exc:
                self._lost(exc)
                raise ZygoteError(str(exc)) from exc

    def _answers(self) -> None:
        """Read the pids of the spawns not answered yet (the zygote answers in order)."""
        while self.unanswered:
            reply = self._reply()
            child = self.unanswered.pop(0)
            if reply[0] != "pid":
                raise ZygoteError(f"zygote answered {reply!r} to a spawn")
            child.set_pid(int(reply[1]))

    def _reply(self) -> list:
        data = self.sock.recv(1 << 16)
        if not data:
            raise ZygoteError(f"the zygote exited (exit code {self.proc.poll()})")
        return json.loads(data)

    def _lost(self, why: Exception) -> None:
        if not self.broken:
            logger.error("cleaner zygote lost: %s", why)
        self.broken = True
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(2)  # its exit code, for the log of the workers it never started
        for child in self.unanswered:
            child.started, child.returncode = False, self.proc.returncode
        self.unanswered.clear()

    def pid_of(self, child: ZygoteChild) -> None:
        with self.lock:
            try:
                self._answers()
            except (OSError, ZygoteError) as exc:
                self._lost(exc)


class ZygoteChild:
    """A worker forked by the zygote. The zygote reaps it only when asked, so until then its
    pid cannot be reused and `os.kill` reaches this process and no other; where the kernel
    offers a pidfd, that is used for the signal and for `alive`, which keeps holding even if
    the zygote itself dies and the orphan is reaped by someone else."""

    def __init__(self, zygote: Zygote):
        self.zygote = zygote
        self._pid = 0
        self.pidfd: int | None = None
        self.started = True  # False: the zygote never forked it
        self.exited = False
        self.returncode: int | None = None

    @property
    def pid(self) -> int:
        if not self._pid and self.started:
            self.zygote.pid_of(self)
        return self._pid

    def set_pid(self, pid: int) -> None:
        self._pid = pid
        with contextlib.suppress(AttributeError, OSError):  # Linux >= 5.3
            self.pidfd = os.pidfd_open(pid)

    def alive(self) -> bool:
        if self.exited or not self.pid:
            return False
        if self.pidfd is not None and not _readable(self.pidfd, 0):  # readable once it exited
            return True
        return not self.wait(0)

    def kill(self) -> None:
        if self.exited or not self.pid:
            return
        with contextlib.suppress(OSError):  # ProcessLookupError: gone already
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float) -> bool:
        if self.exited or not self.pid:
            return True
        try:
            code = self.zygote.wait(self.pid, timeout)
        except ZygoteError:
            # the zygote is gone, and with it the exit status: whoever reaps the orphan gets it
            if self.pidfd is None or not _readable(self.pidfd, timeout):
                return False
        else:
            if code is None:
                return False
            self.returncode = code
        self.exited = True
        if self.pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
            self.pidfd = None
        return True


def _readable(fd: int, timeout: float) -> bool:
    return bool(select.select([fd], [], [], timeout)[0])
