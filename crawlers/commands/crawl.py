"""`scrapy crawl`, Dispatches' way: Scrapy's command plus what cron needs.

* A bad `-a` argument (unknown, empty, malformed) is one line on stderr and exit status 2,
  before Scrapy's banner and without a traceback.
* A relative `DISPATCHES_DB` is taken from the project root (`crawlers.config.database_path`);
  a first crawl says "creating a new database at ..." on stderr.
* The run lock of the database is taken before the crawl starts: a second run on the same
  database waits `DISPATCHES_LOCK_WAIT` seconds, then exits with status 75 (EX_TEMPFAIL) and
  one line naming the holder.
* A run refused for a bad argument or a held lock leaves a `crawls` row (status failed, its
  reason in `stats.status_reason`) when the database exists and is writable.
* An unusable database (corrupt, not a database, newer schema, read-only) is one line and
  status 1.
* The exit status follows the run's status in the `crawls` table: `failed` and `interrupted`
  give 1; `ok` and `degraded` give 0 (a degraded run is logged with the hosts that failed).
"""

from __future__ import annotations

import contextlib
import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from crawlers.commands._checks import EX_TEMPFAIL, EX_USAGE, new_database, record_refused_run, say, unwritable
from crawlers.config import database_path
from crawlers.runlock import LockBusy, run_lock


class Command(ScrapyCrawlCommand):
    _held: contextlib.ExitStack | None = None

    def short_desc(self) -> str:
        return "Run a spider under the database's run lock; exit status from the crawl's outcome"

    def process_options(self, args, opts) -> None:
        """Scrapy's options, then the spider and its arguments, before the crawler (and its
        banner) exists: a bad one is one line and status 2."""
        super().process_options(args, opts)
        assert self.settings is not None  # Scrapy sets it
        db_path = database_path(self.settings)
        if db_path:
            self.settings.set("DISPATCHES_DB", db_path, priority="cmdline")
        if len(args) < 1:
            raise UsageError
        if len(args) > 1:
            raise UsageError("running 'scrapy crawl' with more than one spider is not supported")
        self._check_args(args[0], opts, db_path)
        if not self._uses_db():
            return
        why = unwritable(db_path)
        if why:
            say(why)
            raise SystemExit(1)
        # Held from here to the end of the process (run() takes it again, re-entrantly), so a
        # busy database is one line too, before the crawler's banner.
        self._held = contextlib.ExitStack()
        try:
            self._held.enter_context(run_lock(db_path, wait=self.settings.getfloat("DISPATCHES_LOCK_WAIT")))
        except LockBusy as exc:
            say(str(exc))
            record_refused_run(self.settings, db_path, args[0], opts.spargs, f"lock held: {exc}")
            raise SystemExit(EX_TEMPFAIL) from None

    def _check_args(self, spname: str, opts, db_path: str) -> None:
        """Exit 2 (after one line, and a refused-run row) when the spider or an argument is bad."""
        assert self.settings is not None
        from scrapy.spiderloader import get_spider_loader

        try:
            spidercls = get_spider_loader(self.settings).load(spname)
        except KeyError:
            say(f"no spider named {spname!r} (scrapy list shows them)")
            raise SystemExit(EX_USAGE) from None
        check = getattr(spidercls, "check_args", None)
        if check is None:
            return
        try:
            check(dict(opts.spargs))
        except (ValueError, TypeError) as exc:
            say(str(exc))
            if self._uses_db():
                record_refused_run(self.settings, db_path, spname, opts.spargs, f"bad argument: {exc}")
            raise SystemExit(EX_USAGE) from None

    def _uses_db(self) -> bool:
        """Whether this crawl writes the database itself (a worker of a shared job does not)."""
        assert self.settings is not None
        if self.settings.get("DISPATCHES_REDIS_URL"):
            return False
        pipelines = self.settings.getdict("ITEM_PIPELINES")
        return bool(self.settings.get("DISPATCHES_DB")) and (
            pipelines.get("crawlers.pipelines.StorePipeline") is not None
        )

    def run(self, args, opts) -> None:
        if len(args) < 1:
            raise UsageError
        if len(args) > 1:
            raise UsageError("running 'scrapy crawl' with more than one spider is not supported")
        spname = args[0]
        assert self.crawler_process is not None and self.settings is not None  # Scrapy sets both

        if self.settings.get("DISPATCHES_REDIS_URL"):
            self._worker(spname, opts)
            return
        db_path = self.settings.get("DISPATCHES_DB")
        if not self._uses_db():
            self._crawl(spname, opts)
            return
        try:
            with run_lock(db_path, wait=self.settings.getfloat("DISPATCHES_LOCK_WAIT")):
                if not self._check_db(db_path):
                    return
                crawler = self._crawl(spname, opts)
        except LockBusy as exc:  # only when process_options did not take it already
            say(str(exc))
            record_refused_run(self.settings, db_path, spname, opts.spargs, f"lock held: {exc}")
            self.exitcode = EX_TEMPFAIL
            return
        finally:
            if self._held is not None:
                self._held.close()
        self._exit_status(spname, crawler)

    def _worker(self, spname: str, opts) -> None:
        """A worker of a shared job: no database here (the store writer has it), Redis checked first."""
        from crawlers.scaleout.job import check

        assert self.settings is not None
        problem = check(self.settings.get("DISPATCHES_REDIS_URL"))
        if problem:
            say(problem)
            self.exitcode = 1
            return
        crawler = self._crawl(spname, opts)
        self._exit_status(spname, crawler)

    def _exit_status(self, spname: str, crawler) -> None:
        status = crawler.stats.get_value("dispatches/status") if crawler.stats else None
        if status in ("failed", "interrupted") or (status is None and not self.exitcode):
            self.exitcode = 1
        if status:
            why = crawler.stats.get_value("dispatches/status_reason") if crawler.stats else None
            print(
                f"dispatches: crawl {spname} finished: {status}{f': {why}' if why else ''}", file=sys.stderr
            )

    def _check_db(self, db_path: str) -> bool:
        import os

        assert self.settings is not None

        from crawlers.pipelines import DB_CHECKED
        from store import Store, StoreError

        new_database(db_path, make_folder=True)
        os.makedirs(os.path.dirname(os.path.abspath(db_path)), exist_ok=True)
        try:
            Store(db_path, official_domains=None, keep_raw=True).close()
        except StoreError as exc:
            say(str(exc))
            self.exitcode = 1
            return False
        # checked once here (PRAGMA quick_check can take a while on a big file)
        self.settings.set(DB_CHECKED, True, priority="cmdline")
        return True

    def _crawl(self, spname, opts):
        assert self.crawler_process is not None
        crawler = self._create_crawler(spname)
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        return crawler
