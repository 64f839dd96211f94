"""`scrapy ingest PATH...`: captures from disk (.txt, .html, .warc[.gz]) into the database.

Owns the run: the run lock, a `crawls` row (spider "ingest"), cleaning in a `CleanerPool`
(both cores, a timeout per page), saving in order through `Store.save` (the same path as a
crawl), an `events` row for every file that could not be used, the progress bar and the
summary. Reading files safely is `crawlers.diskinput`'s job, WARC parsing `crawlers.warc`'s,
identity and provenance the store's.

Exit status: 0 when every file was read (pages the cleaners reject as non-articles are
reported, not failures), 1 when some file or record could not be read or saved (or the
database is locked or unusable), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import sys
import time
from collections import Counter, deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from cleaners.model import Document, RawPage, Rejected

logger = logging.getLogger(__name__)

# Rejections that mean the cleaner failed, not that the page is not an article.
FAILED_CLEANING = {"timeout", "worker_crashed", "extraction_error", "error", "crashed"}
EXAMPLES = 20  # failed files listed by name in the summary (all of them go to `events`)


def parse_size(text: str) -> int:
    """"10MiB", "10M", "512k", "1048576" -> bytes."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*", text.lower())
    if not m:
        raise ValueError(f"not a size: {text!r} (try 10MiB, 500k or a number of bytes)")
    factor = 1024 ** " kmgt".index(m.group(2) or " ")
    return int(float(m.group(1)) * factor)


def setting_list(value) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in (value or []) if str(v).strip()]


class Interrupted(KeyboardInterrupt):
    """SIGTERM/SIGINT: the run stops between pages and its crawl row says "interrupted"."""


class DatabaseFailing(RuntimeError):
    """Writes to the database fail (disk full, I/O error): the run cannot go on."""


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
    items: Iterable[RawPage | object],
    pool,
    window: int = 16,
) -> Iterator[tuple[object, Document | Rejected | None]]:
    """Clean RawPages in `pool` (or inline when None), yielding results in input order.

    Non-RawPage items (skips) pass through in their place with None. At most `window` pages
    are in flight, so memory stays flat whatever the number of files.
    """
    from cleaners import clean

    pending: deque[tuple[object, Future | None]] = deque()

    def settle(item, fut):
        if fut is None:
            return item, None
        try:
            return item, fut.result()
        except Rejected as exc:
            return item, exc

    for item in items:
        if isinstance(item, RawPage):
            if pool is None:
                fut: Future = Future()
                try:
                    fut.set_result(clean(item))
                except Rejected as exc:
                    fut.set_exception(exc)
                except Exception as exc:  # a cleaner bug must not end the run
                    fut.set_exception(Rejected("error", f"{type(exc).__name__}: {exc}"))
            else:
                fut = pool.submit(item)
        else:
            fut = None
        pending.append((item, fut))
        # Hand on whatever is ready at the head; wait only when the window is full.
        while pending and (len(pending) > window or pending[0][1] is None or pending[0][1].done()):
            yield settle(*pending.popleft())
    while pending:
        yield settle(*pending.popleft())


@dataclass
class Summary:
    """What a run did; `as_stats()` is the crawls.stats contract plus ingest's own counts."""

    files_seen: int = 0
    pages_read: int = 0
    articles_new: int = 0
    copies_new: int = 0
    copies_merged: int = 0
    versions_new: int = 0
    unchanged: int = 0
    errors: int = 0
    rejected: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    ignored: Counter = field(default_factory=Counter)
    failed_examples: list = field(default_factory=list)
    status: str = "running"
    crawl_id: int | None = None
    seconds: float = 0.0

    @property
    def failures(self) -> int:
        return sum(self.skipped.values()) + self.errors + sum(
            n for reason, n in self.rejected.items() if reason in FAILED_CLEANING
        )

    def failed(self, path: str, reason: str, detail: str = "") -> None:
        if len(self.failed_examples) < EXAMPLES:
            self.failed_examples.append({"path": path, "reason": reason, "detail": detail})

    def as_stats(self) -> dict:
        return {
            "pages_fetched": self.pages_read,
            "articles_new": self.articles_new,
            "copies_new": self.copies_new,
            "copies_merged": self.copies_merged,
            "versions_new": self.versions_new,
            "unchanged": self.unchanged,
            "not_modified": 0,
            "errors": self.failures,
            "soft_blocks": 0,
            "rejected": dict(self.rejected),
            "soft_blocks_by_host": {},
            "discovery": {},
            "discovery_failed": [],
            "robots_blocked": [],
            "circuit_open": [],
            "files_seen": self.files_seen,
            "skipped": dict(self.skipped),
            "ignored": dict(self.ignored),
            "seconds": round(self.seconds, 3),
        }

    def as_json(self) -> dict:
        out = self.as_stats()
        out.update(status=self.status, crawl_id=self.crawl_id, failed_examples=self.failed_examples)
        return out


class Ingester:
    """One ingest run into an open `Store`: clean in order, save, count, record events.

    Args:
        db: an open `store.Store`.
        pool: a `cleaners.pool.CleanerPool`, or None to clean in this process.
        progress: called with (bytes_done, pages_done) after every item; may be None.
    """

    def __init__(self, db, pool=None, *, window: int = 16, progress: Callable | None = None, stop: Stop | None = None):
        self.db = db
        self.pool = pool
        self.window = window
        self.progress = progress
        self.stop = stop or Stop()
        self.summary = Summary()

    def run(self, reader, paths: list[str], args: dict, spider: str = "ingest") -> Summary:
        from crawlers.diskinput import Skip

        s = self.summary
        started = time.monotonic()
        s.crawl_id = self.db.start_crawl(spider, args)
        consecutive_store_errors = 0
        try:
            for item, result in clean_in_order(reader.iter_inputs(paths), self.pool, self.window):
                self.stop.check()
                if isinstance(item, Skip):
                    if item.failure:
                        s.skipped[item.reason] += 1
                        s.failed(item.path, item.reason, item.detail)
                        self._event(item.path, "read", item.reason, item.detail)
                        logger.warning("skipped %s: %s %s", item.path, item.reason, item.detail)
                    else:
                        s.ignored[item.reason] += 1
                        logger.debug("ignored %s: %s %s", item.path, item.reason, item.detail)
                    self._tick(reader)
                    continue
                raw: RawPage = item  # type: ignore[assignment]
                s.pages_read += 1
                where = raw.where
                if isinstance(result, Rejected):
                    s.rejected[result.reason] += 1
                    if result.reason in FAILED_CLEANING:
                        s.failed(where, result.reason, result.detail)
                    self._event(where, "clean", result.reason, result.detail)
                    logger.debug("rejected %s: %s", where, result)
                    self._tick(reader)
                    continue
                try:
                    res = self.db.save(result, raw, crawl_id=s.crawl_id)
                except Exception as exc:  # never a silently lost page (RELIABILITY #66)
                    s.errors += 1
                    consecutive_store_errors += 1
                    detail = f"{type(exc).__name__}: {exc}"
                    s.failed(where, "save_failed", detail)
                    logger.error("could not save %s: %s", where, detail)
                    if consecutive_store_errors >= 5:
                        raise DatabaseFailing(f"the database keeps failing ({detail}); stopped") from exc
                    self._event(where, "store", "save_failed", detail)
                    self._tick(reader)
                    continue
                consecutive_store_errors = 0
                self._count(res)
                self._tick(reader)
        except KeyboardInterrupt:  # Interrupted too
            s.status = "interrupted"
            raise
        except Exception:
            s.status = "failed"
            raise
        else:
            s.status = "degraded" if s.failures else "ok"
        finally:
            s.files_seen = reader.files_seen
            s.seconds = time.monotonic() - started
            try:
                self.db.finish_crawl(s.crawl_id, s.status, s.as_stats())
            except Exception as exc:  # keep the original error visible
                logger.error("could not close crawl row %s: %s", s.crawl_id, exc)
        return s

    def _count(self, res) -> None:
        s = self.summary
        outcome = getattr(res, "outcome", None)
        if outcome == "new":
            s.articles_new += 1
            s.copies_new += 1
        elif outcome == "copy":
            s.copies_new += 1
            s.copies_merged += 1
        elif outcome == "version":
            s.versions_new += 1
        else:
            s.unchanged += 1

    def _event(self, where: str, stage: str, reason: str, detail: str = "") -> None:
        try:
            self.db.record_event(self.summary.crawl_id, where, stage, reason, detail)
        except Exception as exc:  # the database itself is failing (disk full, I/O error)
            raise DatabaseFailing(f"cannot write to the database ({type(exc).__name__}: {exc}); stopped") from exc

    def _tick(self, reader) -> None:
        if self.progress:
            self.progress(reader.files_seen, self.summary.pages_read)


def print_summary(s: Summary, title: str = "Ingest") -> None:
    """The human summary on stderr (a rich table)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, highlight=False)
    table = Table(title=f"{title}: {s.status} (crawl {s.crawl_id}, {s.seconds:.1f} s)", show_header=False)
    table.add_column("what")
    table.add_column("n", justify="right")
    for label, n in (
        ("files seen", s.files_seen),
        ("pages read", s.pages_read),
        ("articles new", s.articles_new),
        ("copies new", s.copies_new),
        ("  of them joined to an existing article", s.copies_merged),
        ("new text versions", s.versions_new),
        ("unchanged", s.unchanged),
        ("save errors", s.errors),
    ):
        table.add_row(label, str(n))
    for heading, counter in (("rejected", s.rejected), ("skipped", s.skipped), ("ignored", s.ignored)):
        for reason, n in sorted(counter.items()):
            table.add_row(f"{heading}: {reason}", str(n))
    console.print(table)
    if s.failed_examples:
        console.print("[bold]Files not ingested[/bold] (all of them are in the events table):")
        for ex in s.failed_examples:
            detail = f" ({ex['detail']})" if ex["detail"] else ""
            console.print(f"  {ex['path']}: {ex['reason']}{detail}", markup=False)


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


def open_store(settings, db_path: str):
    """A `Store` on `db_path` with the project's official domains and raw-keeping setting."""
    from store import Store

    parent = os.path.dirname(os.path.abspath(db_path))
    if db_path != ":memory:":
        os.makedirs(parent, exist_ok=True)
    official = setting_list(settings.get("DISPATCHES_OFFICIAL_DOMAINS")) or None
    return Store(db_path, official_domains=official, keep_raw=settings.getbool("DISPATCHES_KEEP_RAW", True))


def open_pool(workers: int, timeout: float):
    if workers <= 0:
        return None
    from cleaners.pool import CleanerPool

    return CleanerPool(workers=workers, timeout=timeout)


def add_run_options(parser: argparse.ArgumentParser, settings) -> None:
    """Options shared by ingest and reprocess."""
    group = parser.add_argument_group("Dispatches")
    group.add_argument("--db", metavar="PATH", help=f"SQLite database (default DISPATCHES_DB, now {settings.get('DISPATCHES_DB')})")
    group.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    group.add_argument("--workers", type=int, metavar="N", default=None,
                       help="cleaner processes (default DISPATCHES_CLEAN_WORKERS or 2; 0 = clean in this process)")
    group.add_argument("--timeout", type=float, metavar="SECONDS", default=None,
                       help="cleaning time limit per page in seconds (default DISPATCHES_CLEAN_TIMEOUT or 20)")
    group.add_argument("--no-progress", action="store_true", help="no progress line on stderr")


def check_run_options(opts) -> None:
    """UsageError for --workers/--timeout values no run can use."""
    if opts.workers is not None and opts.workers < 0:
        raise UsageError(f"--workers must be 0 or more, not {opts.workers}", print_help=False)
    if opts.timeout is not None and not opts.timeout > 0:
        raise UsageError(f"--timeout must be a positive number of seconds, not {opts.timeout}", print_help=False)


def reject_unknown_options(args: list[str]) -> list[str]:
    """Scrapy parses options with parse_known_args: an unknown option would arrive as a path."""
    paths, literal = [], False
    for a in args:
        if a == "--" and not literal:
            literal = True
            continue
        if a.startswith("-") and not literal and a != "-":
            raise UsageError(f"unknown option {a} (a file name starting with '-': use ./{a} or put it after --)")
        paths.append(a)
    return paths


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[options] PATH..."

    def short_desc(self) -> str:
        return "Ingest saved captures (.txt, .html, .warc, .warc.gz) from files and folders"

    def long_desc(self) -> str:
        return (
            "Read captures from files and folders (recursively) and store them like crawled pages: "
            ".txt captures (their attribution line decides the original, else a 'file' copy), "
            ".html/.htm (URL from rel=canonical, og:url, the 'saved from' comment or --base-url) and "
            ".warc/.warc.gz (every HTML response record, with its URL, date and headers). "
            "Bad files (binary, empty, too large, undecodable, unreadable, special files, symlink "
            "loops, links out of the root) are skipped, counted and listed in the events table. "
            "Ingesting the same files again changes nothing. Exit status: 0 all files read, "
            "1 some files failed (or the database is locked or unusable), 2 bad usage."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        add_run_options(parser, self.settings)
        group = parser.add_argument_group("Ingest")
        group.add_argument("--base-url", metavar="URL",
                           help="URL of the ingest root, for saved HTML that names no URL of its own "
                                "(dir/page.html -> URL/dir/page.html)")
        group.add_argument("--max-size", metavar="SIZE", default="10MiB",
                           help="skip files (and WARC records) larger than this, e.g. 500k or 20MiB (default 10MiB)")
        group.add_argument("--root", metavar="DIR",
                           help="every PATH must lie inside DIR; paths are recorded relative to it")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        from crawlers.diskinput import DiskReader, escape_name

        paths = reject_unknown_options(args)
        if not paths:
            raise UsageError("give at least one file or folder to ingest")
        check_run_options(opts)
        try:
            max_size = parse_size(opts.max_size)
        except ValueError as exc:
            raise UsageError(str(exc), print_help=False) from None
        if opts.base_url and not re.match(r"https?://[^/\s]+", opts.base_url):
            raise UsageError(f"--base-url must be an http(s) URL, not {opts.base_url!r}", print_help=False)
        if opts.root and not os.path.isdir(opts.root):
            raise UsageError(f"--root {opts.root}: not a directory", print_help=False)
        if not any(os.path.lexists(p) for p in paths):
            raise UsageError(f"nothing to ingest: {', '.join(escape_name(p) for p in paths)} not found", print_help=False)
        db_path = opts.db or self.settings.get("DISPATCHES_DB")
        reader = DiskReader(max_size=max_size, base_url=opts.base_url, root=opts.root)
        run_args = {
            "paths": [escape_name(p) for p in paths],
            "base_url": opts.base_url,
            "max_size": max_size,
            "root": escape_name(opts.root) if opts.root else None,
        }
        self.exitcode = run_command(
            self.settings, db_path, opts, lambda ingester: ingester.run(reader, paths, run_args), title="Ingest"
        )


def run_command(settings, db_path: str, opts, body: Callable, title: str, printer: Callable | None = None) -> int:
    """Lock, open the store and a cleaner pool, run `body(Ingester)`, summarise; the exit status."""
    from crawlers.runlock import LockBusy, run_lock

    workers = opts.workers if opts.workers is not None else settings.getint("DISPATCHES_CLEAN_WORKERS", 2)
    timeout = opts.timeout if opts.timeout is not None else settings.getfloat("DISPATCHES_CLEAN_TIMEOUT", 20.0)
    lock_wait = settings.getfloat("DISPATCHES_LOCK_WAIT", float(os.environ.get("DISPATCHES_LOCK_WAIT", 0) or 0))
    err = _stderr_line
    try:
        from store import StoreError
    except ImportError:  # the store is not installed: nothing can be saved
        err("dispatches: the store package is missing")
        return 1
    from scrapy.utils.log import configure_logging

    configure_logging(settings)
    summary = None
    try:
        with Stop() as stop, run_lock(db_path, wait=lock_wait):
            db = open_store(settings, db_path)
            try:
                pool = open_pool(workers, timeout)
                try:
                    with Progress(enabled=not opts.no_progress and sys.stderr.isatty(), label=title.lower()) as progress:
                        ingester = Ingester(db, pool, progress=progress, stop=stop)
                        summary = body(ingester)
                finally:
                    if pool is not None:
                        pool.close()
            finally:
                db.close()
    except LockBusy as exc:
        err(f"dispatches: {exc}")
        return 1
    except StoreError as exc:
        err(f"dispatches: {exc}")
        return 1
    except KeyboardInterrupt as exc:  # Interrupted too
        err(f"dispatches: {title.lower()} interrupted ({exc or 'SIGINT'}); what was saved is kept, run it again to finish")
        return 130
    except RuntimeError as exc:  # DatabaseFailing
        err(f"dispatches: {exc}")
        return 1
    except OSError as exc:
        err(f"dispatches: {db_path}: {exc.strerror or exc}")
        return 1
    except Exception as exc:  # sqlite3 errors outside a save: one line, never a traceback
        logging.getLogger(__name__).debug("run failed", exc_info=True)
        err(f"dispatches: {title.lower()} failed: {type(exc).__name__}: {exc} (details with -L DEBUG)")
        return 1
    if opts.json:
        sys.stdout.write(json.dumps(summary.as_json(), ensure_ascii=False, sort_keys=True) + "\n")
    elif printer:
        printer(summary)
    else:
        print_summary(summary, title)
    return 1 if summary.failures else 0


def _stderr_line(msg: str) -> None:
    sys.stderr.write(msg.replace("\n", " ") + "\n")
