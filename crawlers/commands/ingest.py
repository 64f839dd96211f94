"""`scrapy ingest PATH...`: captures from disk (.txt, .html, .warc[.gz]) into the database.

Owns what an ingest run does with each file: a `crawls` row (spider "ingest"), cleaning in a
`CleanerPool` (both cores, a timeout per page), saving in order through the junction
(`crawlers.junction.process`, the same path as a crawl), an `events` row for every file that
could not be read, and the summary. The
run lock, store, pool, signals, progress bar and exit status are shared with reprocess in
`crawlers.commands._common`. Reading files safely is `crawlers.diskinput`'s job, WARC parsing
`crawlers.warc`'s, identity and provenance the store's.

Exit status: 0 when every file was read (pages the cleaners reject as non-articles are
reported, not failures), 1 when some file or record could not be read or saved (or the
database is unusable), 2 on bad usage, 75 while another run holds the database.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
from collections import Counter
from dataclasses import dataclass, field

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from cleaners.model import RawPage
from crawlers.commands._common import (
    FAILED_CLEANING,
    DatabaseFailing,
    RunCounts,
    StoreRun,
    add_run_options,
    check_run_options,
    clean_in_order,
    new_database,
    one_line_errors,
    print_counts,
    reject_unknown_options,
    run_command,
)
from crawlers.config import database_path

logger = logging.getLogger(__name__)

EXAMPLES = 20  # failed files listed by name in the summary (all of them go to `events`)


def parse_size(text: str) -> int:
    """ "10MiB", "10M", "512k", "1048576" -> bytes."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*", text.lower())
    if not m:
        raise ValueError(f"not a size: {text!r} (try 10MiB, 500k or a number of bytes)")
    factor = 1024 ** " kmgt".index(m.group(2) or " ")
    return int(float(m.group(1)) * factor)


@dataclass
class Summary(RunCounts):
    """What a run did: the pages' outcomes (`RunCounts`) plus the files ingest read or skipped."""

    files_seen: int = 0
    skipped: Counter = field(default_factory=Counter)
    ignored: Counter = field(default_factory=Counter)
    failed_examples: list = field(default_factory=list)

    json_extra = ("failed_examples",)

    @property
    def articles_new(self) -> int:
        return self.counts["articles_new"]

    @property
    def copies_new(self) -> int:
        return self.counts["copies_new"]

    @property
    def copies_merged(self) -> int:
        return self.counts["copies_merged"]

    @property
    def versions_new(self) -> int:
        return self.counts["versions_new"]

    @property
    def unchanged(self) -> int:
        return self.counts["unchanged"]

    @property
    def failures(self) -> int:
        return sum(self.skipped.values()) + super().failures

    def failed(self, path: str, reason: str, detail: str = "") -> None:
        if len(self.failed_examples) < EXAMPLES:
            self.failed_examples.append({"path": path, "reason": reason, "detail": detail})

    def own_stats(self) -> dict:
        return {"files_seen": self.files_seen, "skipped": dict(self.skipped), "ignored": dict(self.ignored)}


class Ingester(StoreRun):
    """One ingest run into an open `Store`: read, clean in order, each page through the junction.

    Takes `StoreRun`'s arguments; progress gets (files seen, pages read).
    """

    def __init__(self, db, pool=None, **kwargs):
        super().__init__(db, pool, **kwargs)
        self.summary = Summary()

    def run(self, reader, paths: list[str], args: dict, spider: str = "ingest") -> Summary:
        from crawlers.diskinput import Skip

        s = self.summary
        consecutive_store_errors = 0

        def tick():
            self._tick(reader.files_seen, s.pages)

        def files_seen():
            s.files_seen = reader.files_seen

        with self.crawl_row(s, spider, args, before_finish=files_seen):
            for item, result in clean_in_order(
                reader.iter_inputs(paths), self.pool, self.window, self.config
            ):
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
                    tick()
                    continue
                raw: RawPage = item
                outcome = self.process(s, raw, result)
                if outcome.kind == "rejected":
                    if outcome.reason in FAILED_CLEANING:
                        s.failed(raw.where, outcome.reason, outcome.detail)
                    logger.debug("rejected %s: %s", raw.where, outcome)
                elif outcome.kind == "failed":
                    s.failed(raw.where, outcome.reason, outcome.detail)
                    consecutive_store_errors += 1
                    if consecutive_store_errors >= 5:
                        raise DatabaseFailing(f"the database keeps failing ({outcome.detail}); stopped")
                else:
                    consecutive_store_errors = 0
                tick()
            self.reclean_site_chrome(s)
        return s


def print_summary(s: Summary, title: str = "Ingest") -> None:
    """The human summary on stderr (a rich table)."""
    console = print_counts(
        title,
        s,
        (
            ("files seen", s.files_seen),
            ("pages read", s.pages),
            ("articles new", s.articles_new),
            ("copies new", s.copies_new),
            ("  of them joined to an existing article", s.copies_merged),
            ("new text versions", s.versions_new),
            ("unchanged", s.unchanged),
            ("save errors", s.errors),
        ),
        (("rejected", s.rejected), ("skipped", s.skipped), ("ignored", s.ignored)),
    )
    if s.failed_examples:
        console.print("[bold]Files not ingested[/bold] (all of them are in the events table):")
        for ex in s.failed_examples:
            detail = f" ({ex['detail']})" if ex["detail"] else ""
            console.print(f"  {ex['path']}: {ex['reason']}{detail}", markup=False)


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
            "1 some files failed (or the database is unusable), 2 bad usage, 75 another run holds the "
            "database."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        add_run_options(parser, self.settings)
        one_line_errors(parser, "ingest")
        group = parser.add_argument_group("Ingest")
        group.add_argument(
            "--base-url",
            metavar="URL",
            help="URL of the ingest root, for saved HTML that names no URL of its own "
            "(dir/page.html -> URL/dir/page.html)",
        )
        group.add_argument(
            "--max-size",
            metavar="SIZE",
            default="10MiB",
            help="skip files (and WARC records) larger than this, e.g. 500k or 20MiB (default 10MiB)",
        )
        group.add_argument(
            "--root", metavar="DIR", help="every PATH must lie inside DIR; paths are recorded relative to it"
        )

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
            raise UsageError(
                f"nothing to ingest: {', '.join(escape_name(p) for p in paths)} not found", print_help=False
            )
        assert self.settings is not None  # Scrapy sets it before run()
        db_path = database_path(self.settings, opts.db)
        if not new_database(db_path, make_folder=False):
            self.exitcode = 1
            return
        reader = DiskReader(max_size=max_size, base_url=opts.base_url, root=opts.root)
        run_args = {
            "paths": [escape_name(p) for p in paths],
            "base_url": opts.base_url,
            "max_size": max_size,
            "root": escape_name(opts.root) if opts.root else None,
        }
        self.exitcode = run_command(
            self.settings,
            db_path,
            opts,
            Ingester,
            lambda ingester: ingester.run(reader, paths, run_args),
            title="Ingest",
            printer=print_summary,
            run_args=run_args,
        )
