"""The zygote: one process per CleanerPool that imports the cleaners once and forks the workers.

A worker started as a fresh interpreter spends most of its start-up importing trafilatura,
lxml and numpy and compiling their regular expressions. The zygote does that once (and cleans
one small page, so the lazy imports and caches of the first page are done too), freezes what
it made (`gc.freeze`: the collector then never writes to those objects, so their memory pages
stay shared copy-on-write with every child), and forks a worker per request.

Runs as `python -m cleaners._zygote SOCKET_FD`, single-threaded, with numpy's thread pools
limited to one thread (threads do not survive a fork). Requests come on an AF_UNIX
SOCK_SEQPACKET socket, one JSON message each, answered in order:

- ["spawn", func_ref, config_arg] with two file descriptors (the worker's read and write pipe
  ends): fork a worker that runs `cleaners._worker.run_worker` on them; answer ["pid", pid].
- ["wait", pid, timeout]: wait up to `timeout` seconds for that child to exit and reap it;
  answer ["exit", returncode] (negative: killed by that signal) or ["exit", null] if it still
  runs. The zygote reaps only when asked, so a pid the pool holds is never reused under it
  and the pool may kill a worker with `os.kill` directly.

EOF on the socket (the pool closed it, or its process died, even by SIGKILL) kills and reaps
the children left and ends the zygote.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import sys
import time
import traceback

from cleaners import _worker
from cleaners.config import CleanConfig

# Plain English of more than 40 distinct words: the page goes through the extractor, and its
# language is decided without py3langid, whose model (about a second of CPU to load) a worker
# loads only when it meets text that is not plainly English.
SMALL_PAGE = (
    b'<html lang="en"><head><title>Readout of a Meeting</title></head><body><article>'
    b"<h1>Readout of a Meeting</h1>"
    b"<p>The Secretary met the Foreign Minister today in Washington to discuss the partnership between "
    b"their two countries. They talked about trade and investment, energy security and the fight "
    b"against human trafficking.</p>"
    b"<p>The Secretary thanked the Minister for the support of his government during the crisis and "
    b"welcomed the agreement on migration that was signed last month. Both agreed to meet again in "
    b"the spring.</p>"
    b"<p>They also reviewed the preparations for the summit of the hemisphere, where the leaders will "
    b"take up health, climate and the protection of journalists.</p>"
    b"</article></body></html>"
)


def warm_up() -> None:
    """Import the cleaners and clean one small page, so the children start with the imports
    and the first extraction's lazy imports done."""
    from cleaners.core import clean
    from cleaners.model import RawPage, Rejected

    page = RawPage(
        "https://www.state.gov/readout/",
        None,
        200,
        {"content-type": "text/html"},
        SMALL_PAGE,
        "2026-01-01T00:00:00Z",
    )
    try:
        clean(page)
    except Rejected:  # the page only has to reach the extractor once
        pass


def _child(sock: socket.socket, fds: list[int], func_ref: str, config_arg: str) -> None:
    """In the forked worker: keep only stdin/stdout/stderr and the two pipes, serve, `os._exit`."""
    code = 1
    try:
        sock.close()
        keep = sorted(fds)
        low = 3
        for fd in keep:
            os.closerange(low, fd)
            low = fd + 1
        os.closerange(low, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 65536)
        _worker.setup_process()
        _worker.run_worker(fds[0], fds[1], func_ref, config_arg)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)


def _wait(pid: int, timeout: float) -> int | None:
    """Reap `pid` if it exits within `timeout` seconds: its returncode, or None."""
    deadline = time.monotonic() + max(0.0, timeout)
    pause = 0.001
    while True:
        try:
            got, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not ours, or already reaped
            return -1
        if got == pid:
            return os.waitstatus_to_exitcode(status)
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.05)


def serve(sock: socket.socket) -> None:
    """Answer spawn and wait requests until EOF; then kill and reap the children left."""
    children: set[int] = set()
    imported = {""}
    try:
        while True:
            try:
                msg, fds, _, _ = socket.recv_fds(sock, 1 << 16, 2)
            except (ConnectionError, OSError):
                break
            if not msg:
                break
            request = json.loads(msg)
            if request[0] == "spawn" and len(fds) == 2:
                if request[1] not in imported:  # a function other than clean (tests): import it once
                    imported.add(request[1])
                    try:
                        _worker.resolve(request[1], CleanConfig())
                    except Exception:  # the child fails the same way and says so
                        pass
                pid = os.fork()
                if pid == 0:
                    _child(sock, fds, request[1], request[2])
                for fd in fds:
                    os.close(fd)
                children.add(pid)
                reply: list = ["pid", pid]
            elif request[0] == "wait":
                code = _wait(int(request[1]), float(request[2]))
                if code is not None:
                    children.discard(int(request[1]))
                reply = ["exit", code]
            else:
                for fd in fds:
                    os.close(fd)
                reply = ["error", f"bad request {request[0]!r} with {len(fds)} fds"]
            try:
                sock.send(json.dumps(reply).encode())
            except OSError:
                break
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass


def main(sock_fd: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    sock = socket.socket(fileno=sock_fd)
    gc.disable()  # see `_worker.import_cleaners`; the warm-up page's objects are frozen too
    try:
        warm_up()
    finally:
        gc.freeze()
        gc.enable()
    serve(sock)


if __name__ == "__main__":
    main(int(sys.argv[1]))
