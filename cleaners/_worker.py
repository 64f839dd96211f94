"""The loop of one CleanerPool worker process.

A worker is started either as `python -m cleaners._worker READ_FD WRITE_FD FUNC_REF CONFIG` (a
fresh interpreter that imports the cleaners itself) or forked by the pool's zygote
(`cleaners._zygote`, which imported them once); both run `run_worker`.
"""

from __future__ import annotations

import functools
import gc
import importlib
import json
import logging
import signal
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from cleaners.config import CleanConfig
from cleaners.model import RawPage, Rejected

# trafilatura warns on every page it gives up on; the parent counts those as Rejected
QUIET_LOGGERS = ("trafilatura", "htmldate", "courlan", "charset_normalizer", "justext", "readability")


def resolve(ref: str, config: CleanConfig) -> Callable[[RawPage], Any]:
    """The function a worker runs: `clean` with `config` for "", else "module:qualname"."""
    if not ref:
        from cleaners.core import clean

        return functools.partial(clean, config=config)
    module, _, name = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def parse_config(config_arg: str) -> CleanConfig:
    """The CleanConfig a pool passed as one JSON string."""
    options = json.loads(config_arg)
    options["official_domains"] = tuple(options["official_domains"])  # JSON has no tuples
    return CleanConfig(**options)


def setup_process() -> None:
    """Signals and logging of a worker process: Ctrl-C is the parent's to handle (the whole
    process group gets it); every other signal keeps the disposition the process inherited."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def run_worker(read_fd: int, write_fd: int, func_ref: str, config_arg: str) -> None:
    """Resolve the function, say ("ready",), then answer every RawPage received on `read_fd`
    with ('ok', result) or ('rejected', reason, detail) on `write_fd`, until None or EOF."""
    conn_in = Connection(read_fd, writable=False)
    conn_out = Connection(write_fd, readable=False)
    func = resolve(func_ref, parse_config(config_arg))
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


def import_cleaners(*func_refs: str) -> None:
    """Import what the workers run (trafilatura, lxml, numpy: most of the objects a worker
    will ever hold, and all of them stay). Collecting during the imports is wasted work, and
    once frozen they are left out of every later collection (and, in a process that forks,
    their pages are not written by the collector, so they stay shared with the children)."""
    gc.disable()
    try:
        for ref in func_refs:
            resolve(ref, CleanConfig())
    finally:
        gc.freeze()
        gc.enable()


def worker_main(read_fd: int, write_fd: int, func_ref: str, config_arg: str) -> None:
    """A worker started as its own interpreter: import, then serve."""
    setup_process()
    import_cleaners(func_ref)
    run_worker(read_fd, write_fd, func_ref, config_arg)


if __name__ == "__main__":
    worker_main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4])
