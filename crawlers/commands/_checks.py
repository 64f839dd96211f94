"""What a command checks before it runs: its options, the database path and the exit codes.

Shared by `scrapy ingest`, `scrapy reprocess`, `scrapy export-warc`, `scrapy crawl` and
`scrapy demo`, so every command refuses a bad option, a missing folder or a read-only file the
same way, with one line and the same exit status.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import date
from typing import NoReturn
from urllib.parse import urlsplit

from scrapy.exceptions import UsageError

from crawlers.config import database_path

logger = logging.getLogger("crawlers.commands.ingest")

#: exit status of a bad argument or option (argparse's)
EX_USAGE = 2
#: exit status while another run holds the database (sysexits EX_TEMPFAIL: try again later)
EX_TEMPFAIL = 75


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


def stderr_line(msg: str) -> None:
    sys.stderr.write(msg.replace("\n", " ") + "\n")


def say(message: str) -> None:
    """One line for the user on stderr, prefixed with the tool's name."""
    stderr_line(f"dispatches: {message}")


def one_line_errors(parser: argparse.ArgumentParser, command: str) -> None:
    """Usage errors of `command` as one line and exit 2, instead of Scrapy's usage block that
    puts the line that matters last: `dispatches: unknown option --bogus (...); scrapy ingest
    --help lists the options`."""

    def error(message: str) -> NoReturn:
        stderr_line(f"dispatches: {message}; scrapy {command} --help lists the options")
        raise SystemExit(EX_USAGE)

    # argparse has no hook for this but its documented `error` method, which Scrapy calls too.
    parser.error = error  # type: ignore[method-assign]
