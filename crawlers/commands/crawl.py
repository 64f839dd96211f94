"""`scrapy crawl`, Dispatches' way: Scrapy's command plus what cron needs.

* A bad `-a` argument is one line on stderr and exit status 2 (no traceback).
* The run lock of the database is taken before the crawl starts: a second run on the same
  database waits `DISPATCHES_LOCK_WAIT` seconds, then exits with status 75 (EX_TEMPFAIL) and
  one line naming the holder.
* An unusable database (corrupt, not a database, newer schema) is one line and status 1.
* The exit status follows the run's status in the `crawls` table: `failed` and `interrupted`
  give 1; `ok` and `degraded` give 0 (a degraded run is logged with the hosts that failed).
"""

from __future__ import annotations

import sys

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from crawlers.runlock import LockBusy, run_lock

EX_USAGE = 2
EX_TEMPFAIL = 75


def _err(message: str) -> None:
    print(f"dispatches: {message}", file=sys.stderr)


class Command(ScrapyCrawlCommand):
    def short_desc(self) -> str:
        return "Run a spider under the database's run lock; exit status from the crawl's outcome"

    def run(self, args, opts) -> None:
        if len(args) < 1:
            raise UsageError
        if len(args) > 1:
            raise UsageError("running 'scrapy crawl' with more than one spider is not supported")
        spname = args[0]
        assert self.crawler_process is not None and self.settings is not None  # Scrapy sets both
        try:
            spidercls = self.crawler_process.spider_loader.load(spname)
        except KeyError:
            _err(f"no spider named {spname!r} (scrapy list shows them)")
            self.exitcode = EX_USAGE
            return
        check = getattr(spidercls, "check_args", None)
        if check is not None:
            try:
                check(dict(opts.spargs))
            except (ValueError, TypeError) as exc:
                _err(str(exc))
                self.exitcode = EX_USAGE
                return

        if self.settings.get("DISPATCHES_REDIS_URL"):
            self._worker(spname, opts)
            return
        pipelines = self.settings.getdict("ITEM_PIPELINES")
        db_path = self.settings.get("DISPATCHES_DB")
        uses_db = bool(db_path) and pipelines.get("crawlers.pipelines.StorePipeline") is not None
        if not uses_db:
            self._crawl(spname, opts)
            return
        try:
            with run_lock(db_path, wait=self.settings.getfloat("DISPATCHES_LOCK_WAIT", 0.0)):
                if not self._check_db(db_path):
                    return
                crawler = self._crawl(spname, opts)
        except LockBusy as exc:
            _err(str(exc))
            self.exitcode = EX_TEMPFAIL
            return
        self._exit_status(spname, crawler)

    def _worker(self, spname: str, opts) -> None:
        """A worker of a shared job: no database here (the store writer has it), Redis checked first."""
        from crawlers.scaleout.job import check

        assert self.settings is not None
        problem = check(self.settings.get("DISPATCHES_REDIS_URL"))
        if problem:
            _err(problem)
            self.exitcode = 1
            return
        crawler = self._crawl(spname, opts)
        self._exit_status(spname, crawler)

    def _exit_status(self, spname: str, crawler) -> None:
        status = crawler.stats.get_value("dispatches/status") if crawler.stats else None
        if status in ("failed", "interrupted") or (status is None and not self.exitcode):
            self.exitcode = 1
        if status:
            print(f"dispatches: crawl {spname} finished: {status}", file=sys.stderr)

    def _check_db(self, db_path: str) -> bool:
        import os

        assert self.settings is not None

        from store import Store, StoreError

        os.makedirs(os.path.dirname(os.path.abspath(db_path)), exist_ok=True)
        try:
            Store(db_path, official_domains=None, keep_raw=True).close()
        except StoreError as exc:
            _err(str(exc))
            self.exitcode = 1
            return False
        # checked once here (PRAGMA quick_check can take a while on a big file)
        self.settings.set("DISPATCHES_DB_CHECKED", True, priority="cmdline")
        return True

    def _crawl(self, spname, opts):
        assert self.crawler_process is not None
        crawler = self._create_crawler(spname)
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        return crawler
