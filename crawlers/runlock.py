"""One writer per database: an advisory lock on `<db>.lock` shared by crawls and ingest.

The kernel drops an fcntl lock when its process dies, so a run killed with `kill -9` never
leaves a stale lock behind. The lock is re-entrant inside one process (the `crawl` command
takes it, then the pipeline asks again), because two fcntl locks of one process on one file
would not exclude each other anyway.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from cleaners.model import utc_timestamp

__all__ = ["LockBusy", "run_lock", "lock_path"]


class LockBusy(RuntimeError):
    """Another run holds the database lock (message names the lock file and the holder)."""


_held: dict[str, list] = {}  # resolved lock path -> [fd, depth]
_guard = threading.Lock()


def lock_path(db_path: str | os.PathLike) -> Path:
    return Path(f"{os.fspath(db_path)}.lock")


def _holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip() or "unknown"
    except OSError:
        return "unknown"


@contextlib.contextmanager
def run_lock(db_path: str | os.PathLike, wait: float = 0.0, poll: float = 0.2) -> Iterator[Path]:
    """Hold the run lock of `db_path` for the duration of the block.

    Args:
        db_path: the SQLite file; ":memory:" needs no lock.
        wait: seconds to wait for another run to finish; 0 = fail at once.
    Raises:
        LockBusy: still held by another process after `wait` seconds.
    """
    if os.fspath(db_path) == ":memory:":
        yield Path(os.devnull)
        return
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())
    with _guard:
        entry = _held.get(key)
        if entry:
            entry[1] += 1
    if entry:
        try:
            yield path
        finally:
            with _guard:
                entry[1] -= 1
        return

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + max(0.0, wait)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockBusy(
                        f"another run is using {os.fspath(db_path)} (lock {path} held by "
                        f"{_holder(path)}); waited {wait:g} s, set DISPATCHES_LOCK_WAIT to wait longer"
                    ) from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} since {utc_timestamp()}\n".encode())
        with _guard:
            _held[key] = [fd, 1]
        try:
            yield path
        finally:
            with _guard:
                _held.pop(key, None)
            # The file stays: deleting it would race with a waiter that already opened it.
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
