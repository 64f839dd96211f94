"""The run scaffolding `scrapy ingest`, `scrapy reprocess` and `scrapy export-warc` share.

Owns what a run over the database does whatever it reads: options and their checks, the run
lock, opening the store and the cleaner pool, cleaning in order, the `crawls` row and its
status, signals, the progress line, the summary table and the exit status. Each page goes
through the junction (`crawlers.junction.process`), which saves it or records why not, and is
counted by its `Outcome`, as a crawl counts it. What is read stays with each command.

Not a command: Scrapy makes a command of every `ScrapyCommand` subclass defined in a module of
`COMMANDS_MODULE`, and none is defined here.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import signal
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from scrapy.exceptions import UsageError

from cleaners import CleanConfig
from cleaners.model import RawPage, Rejected
from crawlers.config import database_path
from crawlers.junction import (
    FAILED_CLEANING,
    Cleaned,
    DatabaseFailing,
    Outcome,
    clean_config,
    open_store,
    process,
    run_stats,
)

# Named after the command that writes most of them, so the log lines operators grep for stay put.
logger = logging.getLogger("crawlers.commands.ingest")

T = TypeVar("T")

__all__ = [
    "DatabaseFailing",
    "EX_TEMPFAIL",
    "EX_USAGE",
    "FAILED_CLEANING",
    "Interrupted",
    "RunCounts",
    "Stop",
    "StoreRun",
    "record_refused_run",
    "unwritable",
]

#: exit status of a bad argument or option (argparse's)
EX_USAGE = 2
#: exit status while another run holds the database (sysexits EX_TEMPFAIL: try again later)
EX_TEMPFAIL = 75


class Interrupted(KeyboardInterrupt):
    """SIGTERM/SIGINT: the run stops between pages and its crawl row says "interrupted"."""


class Stop:
    """SIGTERM (cron timeout, systemd stop) and Ctrl-C end a run between two pages.

    The first signal only asks: the page being saved is finished, then the run stops at a
    clean point and records itself as "interrupted". A second signal stops at once (what was
    committed stays; an open transaction is rolled back when the store closes).
    """

    def __init__(self):
        self.requested: str | None = None
        self.saved: dict = {}

    def _handle(self, signum, frame):  # noqa: ARG002
        name = signal.Signals(signum).name
        if self.requested:
            raise Interrupted(f"{name} again")
        self.requested = name
        logger.warning("%s received: finishing the current page, then stopping (again to stop now)", name)

    def check(self) -> None:
        """Raise Interrupted when a stop was asked for (call between pages)."""
        if self.requested:
            raise Interrupted(self.requested)

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self.saved[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread (tests calling in-process)
                pass
        return self

    def __exit__(self, *exc):
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)
        return False


def clean_in_order(
    items: Iterable[T], pool, window: int = 16, config: CleanConfig | None = None
) -> Iterator[tuple[T, Cleaned]]:
    """Clean RawPages in `pool`, yielding (item, the cleaners' answer) in input order.

    Without a pool a page comes with `cleaners.clean` itself (bound to `config`), which the
    junction calls.
    Non-RawPage items (skips) pass through in their place with None. At most `window` pages
    are in flight, so memory stays flat whatever the number of files.
    """
    if pool is None:
        from cleaners import clean

        inline = functools.partial(clean, config=config)
        for item in items:
            yield item, (inline if isinstance(item, RawPage) else None)
        return

    pending: deque[tuple[T, Future | None]] = deque()

    def settle(item, fut):
        if fut is None:
            return item, None
        try:
            return item, fut.result()
        except Rejected as exc:
            return item, exc

    for item in items:
        pending.append((item, pool.submit(item) if isinstance(item, RawPage) else None))
        # Hand on whatever is ready at the head; wait only when the window is full.
        while pending and (len(pending) > window or pending[0][1] is None or pending[0][1].done()):
            yield settle(*pending.popleft())
    while pending:
        yield settle(*pending.popleft())


@dataclass
class RunCounts:
    """What every run counts: its pages' outcomes (`Outcome.counts` keys), status and time.

    Subclasses add what only they count and give it to `as_stats` through `own_stats`.
    """

    counts: Counter = field(default_factory=Counter)
    status: str = "running"
    crawl_id: int | None = None
    seconds: float = 0.0

    json_extra: ClassVar[
        tuple[str, ...]
    ] = ()  # attributes --json prints besides the stats (examples and the like)

    def add(self, outcome: Outcome) -> None:
        self.counts.update(outcome.counts)

    @property
    def pages(self) -> int:
        return self.counts["pages_fetched"]

    @property
    def errors(self) -> int:
        """Pages whose save failed."""
        return self.counts["errors"]

    @property
    def rejected(self) -> Counter:
        return Counter({k[9:]: n for k, n in self.counts.items() if k.startswith("rejected/")})

    @property
    def outcomes(self) -> Counter:
        return Counter({k[8:]: n for k, n in self.counts.items() if k.startswith("outcome/")})

    @property
    def failures(self) -> int:
        return self.errors + sum(n for reason, n in self.rejected.items() if reason in FAILED_CLEANING)

    def own_stats(self) -> dict[str, Any]:
        """The run's own keys in `crawls.stats`, besides the contract's."""
        return {}

    def as_stats(self) -> dict:
        """The crawls.stats contract (`junction.run_stats`), then the run's own keys."""
        return run_stats(
            self.counts, errors=self.failures, **self.own_stats(), seconds=round(self.seconds, 3)
        )

    def as_json(self) -> dict:
        out = self.as_stats()
        out.update(
            status=self.status,
            crawl_id=self.crawl_id,
            **{name: getattr(self, name) for name in self.json_extra},
        )
        return out


class StoreRun:
    """One run into an open `Store` that owns a `crawls` row (Ingester, Reprocessor).

    Args:
        db: an open `store.Store`.
        pool: a `cleaners.pool.CleanerPool`, or None to clean in this process.
        config: the cleaners' configuration when cleaning in this process (a pool has its own).
        progress: called with (files_done, pages_done) after every item; may be None.
        stop: the run's `Stop` (signals); a fresh one when None.
    """

    def __init__(
        self,
        db,
        pool=None,
        *,
        window: int = 16,
        progress: Callable | None = None,
        stop: Stop | None = None,
        config: CleanConfig | None = None,
    ):
        self.db = db
        self.pool = pool
        self.config = config
        self.window = window
        self.progress = progress
        self.stop = stop or Stop()
        self.crawl_id: int | None = None

    @contextmanager
    def crawl_row(self, counts: RunCounts, spider: str, args: dict, before_finish: Callable | None = None):
        """Start a `crawls` row for the block and finish it with the status the block earned.

        ok, or degraded when some pages failed; interrupted on a signal; failed on an error,
        which goes on up. `before_finish` completes the counts just before they are stored.
        """
        started = time.monotonic()
        counts.crawl_id = self.crawl_id = self.db.start_crawl(spider, args)
        try:
            yield counts
        except KeyboardInterrupt:  # Interrupted too
            counts.status = "interrupted"
            raise
        except Exception:
            counts.status = "failed"
            raise
        else:
            counts.status = "degraded" if counts.failures else "ok"
        finally:
            if before_finish:
                before_finish()
            counts.seconds = time.monotonic() - started
            try:
                self.db.finish_crawl(counts.crawl_id, counts.status, counts.as_stats())
            except Exception as exc:  # keep the original error visible
                logging.getLogger(type(self).__module__).error(
                    "could not close crawl row %s: %s", counts.crawl_id, exc
                )

    def process(
        self, counts: RunCounts, raw: RawPage, cleaned: Cleaned, *, reidentify: bool = False
    ) -> Outcome:
        """One page through the junction (saved, or an `events` row says why not), counted."""
        outcome = process(raw, self.db, cleaned, crawl_id=self.crawl_id, reidentify=reidentify)
        counts.add(outcome)
        return outcome

    def _event(self, where: str, stage: str, reason: str, detail: str = "") -> None:
        try:
            self.db.record_event(self.crawl_id, where, stage, reason, detail)
        except Exception as exc:  # the database itself is failing (disk full, I/O error)
            raise DatabaseFailing(
                f"cannot write to the database ({type(exc).__name__}: {exc}); stopped"
            ) from exc

    def _tick(self, files: int, pages: int) -> None:
        if self.progress:
            self.progress(files, pages)


def print_counts(
    title: str,
    counts: RunCounts,
    rows: Iterable[tuple[str, int]],
    reasons: Iterable[tuple[str, Counter]] = (),
):
    """The human summary on stderr: a rich table of `rows`, then one row per reason counted.

    Returns the console, for what the command prints below the table.
    """
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, highlight=False)
    table = Table(
        title=f"{title}: {counts.status} (crawl {counts.crawl_id}, {counts.seconds:.1f} s)", show_header=False
    )
    table.add_column("what")
    table.add_column("n", justify="right")
    for label, n in rows:
        table.add_row(label, str(n))
    for heading, counter in reasons:
        for reason, n in sorted(counter.items()):
            table.add_row(f"{heading}: {reason}", str(n))
    console.print(table)
    return console


class Progress:
    """A rich progress line on stderr: files seen and pages read, rate, elapsed time."""

    def __init__(self, enabled: bool, label: str = "ingest"):
        self.bar = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import Progress as RichProgress
        from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

        console = Console(stderr=True)
        self.bar = RichProgress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            TextColumn("{task.fields[files]} files, {task.completed} pages"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task = self.bar.add_task(label, total=None, files=0)

    def __enter__(self):
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *exc):
        if self.bar:
            self.bar.stop()
        return False

    def __call__(self, files: int, pages: int) -> None:
        if self.bar:
            self.bar.update(self.task, completed=pages, files=files)


def open_pool(workers: int, timeout: float, max_tasks: int, config: CleanConfig):
    """A `CleanerPool` of `workers` processes, or None (clean in this process) for 0.

    Args:
        timeout: seconds one page may take before its worker is replaced.
        max_tasks: pages a worker cleans before a fresh one takes its place (bounds the
            memory trafilatura's caches hold; a fresh worker spends about half a second
            importing before its first page).
    """
    if workers <= 0:
        return None
    from cleaners.pool import CleanerPool

    return CleanerPool(workers=workers, timeout=timeout, max_tasks_per_child=max_tasks, config=config)


def add_run_options(parser: argparse.ArgumentParser, settings) -> None:
    """Options shared by ingest and reprocess."""
    group = parser.add_argument_group("Dispatches")
    group.add_argument(
        "--db",
        metavar="PATH",
        help=f"SQLite database (default DISPATCHES_DB, now {settings.get('DISPATCHES_DB')})",
    )
    group.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    group.add_argument(
        "--workers",
        type=int,
        metavar="N",
        default=None,
        help=(
            "cleaner processes (default DISPATCHES_CLEAN_WORKERS, now "
            f"{settings.getint('DISPATCHES_CLEAN_WORKERS')}; 0 = clean in this process)"
        ),
    )
    group.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        default=None,
        help=(
            "cleaning time limit per page in seconds (default DISPATCHES_CLEAN_TIMEOUT, now "
            f"{settings.getfloat('DISPATCHES_CLEAN_TIMEOUT'):g})"
        ),
    )
    group.add_argument("--no-progress", action="store_true", help="no progress line on stderr")


def add_page_options(group) -> None:
    """--site and --since: which stored raw pages (reprocess, export-warc); see `check_since`."""
    group.add_argument(
        "--site", metavar="HOST", help="only pages of this host (e.g. www.state.gov; a URL names its host)"
    )
    group.add_argument("--since", metavar="DATE", help="only pages fetched on or after DATE (YYYY-MM-DD)")


def check_site(value: str | None) -> str | None:
    """The host `--site` names: `https://www.state.gov/` and `WWW.State.gov` give www.state.gov."""
    if value is None:
        return None
    text = value.strip()
    host = urlsplit(text if "://" in text else f"//{text}").hostname or ""
    if not host:
        raise UsageError(f"--site must name a host like www.state.gov, not {value!r}", print_help=False)
    return host


def check_run_options(opts) -> None:
    """UsageError for --workers/--timeout values no run can use."""
    if opts.workers is not None and opts.workers < 0:
        raise UsageError(f"--workers must be 0 or more, not {opts.workers}", print_help=False)
    if opts.timeout is not None and not opts.timeout > 0:
        raise UsageError(
            f"--timeout must be a positive number of seconds, not {opts.timeout}", print_help=False
        )


def check_since(value: str | None) -> str | None:
    """An ISO date (or date-time) string, or UsageError."""
    if not value:
        return None
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        raise UsageError(f"--since must be a date like 2024-01-31, not {value!r}", print_help=False) from None
    return value


def reject_unknown_options(args: list[str]) -> list[str]:
    """Scrapy parses options with parse_known_args: an unknown option would arrive as a path."""
    paths, literal = [], False
    for a in args:
        if a == "--" and not literal:
            literal = True
            continue
        if a.startswith("-") and not literal and a != "-":
            raise UsageError(
                f"unknown option {a} (a file name starting with '-': use ./{a} or put it after --)"
            )
        paths.append(a)
    return paths


def existing_database(settings, opts) -> str | None:
    """The --db (or DISPATCHES_DB) path when the file exists; else None and one line on stderr."""
    db_path = database_path(settings, opts.db)
    if not os.path.isfile(db_path):
        stderr_line(f"dispatches: {db_path}: no such database (check --db or DISPATCHES_DB)")
        return None
    return db_path


def new_database(db_path: str, *, make_folder: bool) -> bool:
    """Say so on stderr when a run is about to create the database at `db_path`.

    A command that creates databases by design (a crawl, the demo) makes the folder too; one
    that does not (ingest) refuses a folder that does not exist, which is most often a typo
    in --db. Returns False (after one line on stderr) when the folder is missing and may not
    be made.
    """
    if db_path == ":memory:" or os.path.exists(db_path):
        return True
    folder = os.path.dirname(os.path.abspath(db_path))
    if not os.path.isdir(folder) and not make_folder:
        stderr_line(f"dispatches: {folder}: no such folder for the database (check --db or DISPATCHES_DB)")
        return False
    stderr_line(f"creating a new database at {os.path.abspath(db_path)}")
    return True


def unwritable(db_path: str) -> str | None:
    """Why the database at `db_path` cannot be written, as one line for the user, or None.

    SQLite writes its journal files (`-wal`, `-shm`) and the run lock its `.lock` next to the
    database, so the folder must be writable as well as the file.
    """
    if db_path == ":memory:":
        return None
    path = os.path.abspath(db_path)
    folder = os.path.dirname(path)
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return f"{path}: the database file is read-only; nothing was changed (make it writable to run)"
    if os.path.isdir(folder) and not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"{folder}: the database's folder is read-only (SQLite and the run lock write files "
            f"next to {os.path.basename(path)}); nothing was changed"
        )
    return None


def record_refused_run(settings, db_path: str, spider: str, args: dict, reason: str) -> None:
    """A finished `crawls` row (status failed) for a run refused before it started.

    Scheduled runs (cron, Scrapyd) are watched through the `crawls` table; a run refused for
    a bad argument or a held lock leaves its reason there too. Only into an existing,
    writable database; when that is not possible the line on stderr is all there is.
    """
    if not db_path or db_path == ":memory:" or not os.path.isfile(db_path) or unwritable(db_path):
        return
    from store import Store

    try:
        db = Store(db_path, check=False, busy_timeout=5.0, retry_attempts=1, retry_seconds=5.0)
        try:
            crawl_id = db.start_crawl(spider, {k: v for k, v in args.items() if v not in (None, "")})
            db.finish_crawl(crawl_id, "failed", {"finish_reason": "refused", "status_reason": reason})
        finally:
            db.close()
    except Exception:  # the refusal itself is already on stderr
        logger.debug("could not record the refused run in %s", db_path, exc_info=True)


def run_command(
    settings,
    db_path: str,
    opts,
    runner: type[StoreRun],
    body: Callable,
    title: str,
    printer: Callable,
    *,
    run_args: dict | None = None,
    nothing_matched: str | None = None,
) -> int:
    """Lock, open the store and a cleaner pool, run `body(runner(...))`, summarise; the exit status.

    `run_args` are recorded with a run refused because another holds the lock (status 75).
    With `nothing_matched`, a run that read no page prints it and exits 1 (a filter that
    matched nothing is most often a typo).
    """
    from scrapy.utils.log import configure_logging

    from crawlers.runlock import LockBusy, run_lock
    from store import StoreError

    workers = opts.workers if opts.workers is not None else settings.getint("DISPATCHES_CLEAN_WORKERS")
    timeout = opts.timeout if opts.timeout is not None else settings.getfloat("DISPATCHES_CLEAN_TIMEOUT")
    max_tasks = settings.getint("DISPATCHES_CLEAN_MAX_TASKS")
    lock_wait = settings.getfloat("DISPATCHES_LOCK_WAIT")
    err = stderr_line

    configure_logging(settings)
    why = unwritable(db_path)
    if why:
        err(f"dispatches: {why}")
        return 1
    summary = None
    try:
        with Stop() as stop, run_lock(db_path, wait=lock_wait):
            db = open_store(settings, db_path)
            dead = db.interrupt_dead_runs()
            if dead:
                logger.warning("marked %d run(s) left 'running' by a process that died as interrupted", dead)
            config = clean_config(settings)
            try:
                pool = open_pool(workers, timeout, max_tasks, config)
                try:
                    with Progress(
                        enabled=not opts.no_progress and sys.stderr.isatty(), label=title.lower()
                    ) as progress:
                        summary = body(runner(db, pool, progress=progress, stop=stop, config=config))
                finally:
                    if pool is not None:
                        pool.close()
            finally:
                db.close()
    except LockBusy as exc:
        err(f"dispatches: {exc}")
        record_refused_run(settings, db_path, title.lower(), run_args or {}, f"lock held: {exc}")
        return EX_TEMPFAIL
    except StoreError as exc:
        err(f"dispatches: {exc}")
        return 1
    except KeyboardInterrupt as exc:  # Interrupted too
        err(
            f"dispatches: {title.lower()} interrupted ({exc or 'SIGINT'}); what was saved is kept, "
            "run it again to finish"
        )
        return 130
    except RuntimeError as exc:  # DatabaseFailing
        err(f"dispatches: {exc}")
        return 1
    except OSError as exc:
        err(f"dispatches: {db_path}: {exc.strerror or exc}")
        return 1
    except Exception as exc:  # sqlite3 errors outside a save: one line, never a traceback
        logger.debug("run failed", exc_info=True)
        err(f"dispatches: {title.lower()} failed: {type(exc).__name__}: {exc} (details with -L DEBUG)")
        return 1
    if opts.json:
        sys.stdout.write(json.dumps(summary.as_json(), ensure_ascii=False, sort_keys=True) + "\n")
    else:
        printer(summary)
    if nothing_matched and summary.pages == 0:
        err(f"dispatches: {nothing_matched}")
        return 1
    return 1 if summary.failures else 0


def stderr_line(msg: str) -> None:
    sys.stderr.write(msg.replace("\n", " ") + "\n")
