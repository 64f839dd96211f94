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

import functools
import json
import logging
import signal
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from cleaners import CleanConfig
from cleaners.model import RawPage, Rejected
from crawlers.commands._checks import (
    EX_TEMPFAIL,
    EX_USAGE,
    add_page_options,
    add_run_options,
    check_run_options,
    check_since,
    check_site,
    existing_database,
    new_database,
    one_line_errors,
    record_refused_run,
    reject_unknown_options,
    stderr_line,
    unwritable,
)
from crawlers.junction import (
    FAILED_CLEANING,
    Cleaned,
    DatabaseFailing,
    Outcome,
    clean_config,
    open_store,
    process,
    reclean_site_chrome,
    run_stats,
)

# Named after the command that writes most of them, so the log lines operators grep for stay put.
logger = logging.getLogger("crawlers.commands.ingest")

T = TypeVar("T")

__all__ = [
    "EX_TEMPFAIL",
    "EX_USAGE",
    "add_page_options",
    "add_run_options",
    "check_run_options",
    "check_since",
    "check_site",
    "existing_database",
    "new_database",
    "one_line_errors",
    "record_refused_run",
    "reject_unknown_options",
    "stderr_line",
    "unwritable",
    "DatabaseFailing",
    "EX_TEMPFAIL",
    "EX_USAGE",
    "FAILED_CLEANING",
    "Interrupted",
    "RunCounts",
    "Stop",
    "StoreRun",
]


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

    def reclean_site_chrome(self, counts: RunCounts) -> None:
        """The end of the run: stored pages of sites whose chrome changed are cleaned again
        (`junction.reclean_site_chrome`), counted under `site_chrome/` in the run's stats."""
        from cleaners import clean

        done = reclean_site_chrome(
            self.db, functools.partial(clean, config=self.config or CleanConfig()), crawl_id=self.crawl_id
        )
        counts.counts.update({f"site_chrome/{k}": n for k, n in done.items()})

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
