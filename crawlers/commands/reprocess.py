"""`scrapy reprocess [--site HOST] [--since DATE]`: re-clean stored raw pages, no network.

Owns what a reprocess run does with each page: a `crawls` row (spider "reprocess"), cleaning
every stored raw page again in a `CleanerPool`, saving the new Document through the junction
with `reidentify=True` (the store moves a copy whose identity changed: merged into another
article or split into a new one), and the report of what changed: counts and a few unified
diffs of article texts. The run lock, store, pool, signals, progress bar and exit status are
shared with ingest in `crawlers.commands._common`. Raw pages come from `Store.raw_pages`;
cleaning is `cleaners`', identity the store's.

Exit status: 0 done, 1 some pages could not be cleaned or saved, the database is unusable or
--site/--since matched no page, 2 bad usage, 75 another run holds the database.
"""

from __future__ import annotations

import argparse
import difflib
import logging
from dataclasses import dataclass, field

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawlers.commands._common import (
    RunCounts,
    StoreRun,
    add_page_options,
    add_run_options,
    check_run_options,
    check_since,
    check_site,
    clean_in_order,
    existing_database,
    one_line_errors,
    print_counts,
    reject_unknown_options,
    run_command,
)
from crawlers.junction import Outcome

logger = logging.getLogger(__name__)

DIFFS = 3  # example diffs in the report
DIFF_LINES = 40  # lines per example diff


def text_diff(before: str, after: str, name: str, limit: int = DIFF_LINES) -> str:
    """A unified diff of two article texts, paragraph per line, cut to `limit` lines."""
    lines = list(
        difflib.unified_diff(
            before.splitlines(),
            after.splitlines(),
            fromfile=f"{name} (stored)",
            tofile=f"{name} (now)",
            lineterm="",
            n=1,
        )
    )
    if len(lines) > limit:
        lines = lines[:limit] + [f"... {len(lines) - limit} more diff lines"]
    return "\n".join(lines)


@dataclass
class Report(RunCounts):
    """What reprocessing changed: the pages' outcomes (`RunCounts`) plus what moved or changed."""

    articles_unchanged: int = 0  # neither text, metadata nor article changed
    text_changed: int = 0
    meta_changed: int = 0
    merged: int = 0  # copy moved onto an article that existed already
    split: int = 0  # copy moved onto a new article of its own
    articles_removed: int = 0  # articles left without copies after a move
    examples: list = field(default_factory=list)
    moves: list = field(default_factory=list)

    json_extra = ("examples", "moves")

    def own_stats(self) -> dict:
        return {
            "articles_unchanged": self.articles_unchanged,
            "text_changed": self.text_changed,
            "meta_changed": self.meta_changed,
            "merged": self.merged,
            "split": self.split,
            "articles_removed": self.articles_removed,
        }


class Reprocessor(StoreRun):
    """Re-clean and re-save stored raw pages in one open `Store` (takes `StoreRun`'s arguments)."""

    def __init__(self, db, pool=None, **kwargs):
        super().__init__(db, pool, **kwargs)
        self.report = Report()

    def run(self, site: str | None, since: str | None, args: dict) -> Report:
        r = self.report
        with self.crawl_row(r, "reprocess", args):
            pages = self.db.raw_pages(site=site, since=since)
            for raw, result in clean_in_order(pages, self.pool, self.window, self.config):
                self.stop.check()
                before = self.db.copy_snapshot(raw)  # just before: earlier moves may have changed it
                outcome = self.process(r, raw, result, reidentify=True)
                if outcome.saved:
                    self._compare(raw.where, before, self.db.copy_snapshot(raw), outcome)
                self._tick(r.pages, r.pages)
            self.reclean_site_chrome(r)
        return r

    def _compare(self, where: str, before: dict | None, after: dict | None, outcome: Outcome) -> None:
        r = self.report
        if before is None or after is None:
            r.text_changed += 1
            return
        moved = before.get("article_id") != after.get("article_id")
        if moved:
            if outcome.kind == "new":
                r.split += 1
            else:
                r.merged += 1
            if not self.db.article_exists(before.get("article_id")):
                r.articles_removed += 1
            if len(r.moves) < 20:
                r.moves.append(
                    {
                        "page": where,
                        "from_article": before.get("article_id"),
                        "to_article": after.get("article_id"),
                    }
                )
        changed = False
        if (before.get("text") or "") != (after.get("text") or ""):
            r.text_changed += 1
            changed = True
            if len(r.examples) < DIFFS:
                r.examples.append(
                    {
                        "page": where,
                        "article_id": after.get("article_id"),
                        "diff": text_diff(before.get("text") or "", after.get("text") or "", where),
                    }
                )
        meta = ("title", "published", "publisher", "canonical_url", "language")
        if any(before.get(k) != after.get(k) for k in meta):
            r.meta_changed += 1
            changed = True
        if not changed and not moved:
            r.articles_unchanged += 1


def print_report(r: Report) -> None:
    console = print_counts(
        "Reprocess",
        r,
        (
            ("raw pages re-cleaned", r.pages),
            ("unchanged", r.articles_unchanged),
            ("article text changed", r.text_changed),
            ("title/date/publisher/URL changed", r.meta_changed),
            ("copies merged into another article", r.merged),
            ("copies split into a new article", r.split),
            ("articles removed (no copies left)", r.articles_removed),
            ("save errors", r.errors),
        ),
        (("rejected now", r.rejected),),
    )
    for ex in r.examples:
        console.print(f"[bold]article {ex['article_id']}[/bold]: {ex['page']}", markup=True)
        console.print(ex["diff"], markup=False)


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[options]"

    def short_desc(self) -> str:
        return "Re-run the current cleaners over stored raw pages and update articles (no network)"

    def long_desc(self) -> str:
        return (
            "Clean every raw page kept in the database again (DISPATCHES_KEEP_RAW) with the current "
            "cleaners and save the result: texts and metadata are updated, copies whose identity "
            "changed are merged into the right article or split into a new one, and the report "
            "gives counts and a few diffs. No network. Exit status 0 done, 1 some pages failed or "
            "--site/--since matched nothing, 2 bad usage, 75 another run holds the database."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        add_run_options(parser, self.settings)
        one_line_errors(parser, "reprocess")
        add_page_options(parser.add_argument_group("Reprocess"))

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        extra = reject_unknown_options(args)
        if extra:
            raise UsageError(f"reprocess takes no paths (got {extra[0]!r}); use --site or --since")
        check_run_options(opts)
        since = check_since(opts.since)
        site = check_site(opts.site)
        db_path = existing_database(self.settings, opts)
        if db_path is None:
            self.exitcode = 1
            return
        run_args = {"site": site, "since": since}
        self.exitcode = run_command(
            self.settings,
            db_path,
            opts,
            Reprocessor,
            lambda rep: rep.run(site, since, run_args),
            title="Reprocess",
            printer=print_report,
            run_args=run_args,
            nothing_matched=(
                f"no stored raw pages of {site}{f' since {since}' if since else ''}; nothing reprocessed"
                if site or since
                else None
            ),
        )
