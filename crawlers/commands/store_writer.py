"""`scrapy store-writer`: save what the workers of distributed crawls queue in Redis, into one database.

One writer per database (it holds the database's run lock). It runs until SIGTERM or Ctrl-C
(the batch in hand is saved first; exit 0) or, with `--idle-exit SECONDS`, until the queue has
been empty and no worker seen for that long. The loop is `crawlers.scaleout.writer.QueueWriter`.

Exit status: 0 stopped cleanly, 1 Redis unreachable or lost, database locked or unusable, 2 bad usage.
"""

from __future__ import annotations

import logging
import signal
from typing import Any

from scrapy.exceptions import UsageError

from crawlers.commands._checks import say

logger = logging.getLogger(__name__)


class StoreWriterCommand:
    """The body of the command (mixed with ScrapyCommand in the module named with a dash)."""

    settings: Any
    exitcode: int
    requires_project = True
    default_settings = {"LOG_LEVEL": "INFO"}

    def syntax(self) -> str:
        return "[options]"

    def short_desc(self) -> str:
        return "Save the documents the workers of distributed crawls queue in Redis"

    def long_desc(self) -> str:
        return (
            "Save the documents that `scrapy crawl ... -s DISPATCHES_REDIS_URL=redis://...` workers "
            "queue, through the same junction as every crawl, into DISPATCHES_DB. Runs until SIGTERM "
            "or, with --idle-exit, until the queue has been empty and no worker seen for that long."
        )

    def add_options(self, parser) -> None:
        super().add_options(parser)  # type: ignore[misc]
        group = parser.add_argument_group("Dispatches")
        group.add_argument("--db", metavar="PATH", help="SQLite database (default DISPATCHES_DB)")
        group.add_argument(
            "--idle-exit",
            type=float,
            metavar="SECONDS",
            default=None,
            help="stop once the queue has been empty and no worker seen for SECONDS",
        )

    def run(self, args, opts) -> None:
        from scrapy.utils.log import configure_logging

        from cleaners import clean
        from crawlers.junction import clean_config, open_store
        from crawlers.runlock import LockBusy, run_lock
        from crawlers.scaleout.job import check, connect, redact
        from crawlers.scaleout.writer import QueueWriter
        from store import StoreError

        assert self.settings is not None
        if args:
            raise UsageError(f"store-writer takes no arguments, not {' '.join(args)}", print_help=False)
        if opts.idle_exit is not None and opts.idle_exit < 0:
            raise UsageError("--idle-exit must be 0 or more seconds", print_help=False)
        url = self.settings.get("DISPATCHES_REDIS_URL")
        if not url:
            raise UsageError(
                "store-writer needs -s DISPATCHES_REDIS_URL=redis://HOST:PORT/N", print_help=False
            )
        db_path = opts.db or self.settings.get("DISPATCHES_DB")
        configure_logging(self.settings)
        problem = check(url)
        if problem:
            say(problem)
            self.exitcode = 1
            return
        try:
            with run_lock(db_path, wait=self.settings.getfloat("DISPATCHES_LOCK_WAIT", 0.0)):
                store = open_store(self.settings, db_path)
                try:
                    config = clean_config(self.settings)
                    writer = QueueWriter(
                        connect(url),
                        store,
                        idle_exit=opts.idle_exit,
                        clean=lambda raw: clean(raw, config),
                    )
                    for sig in (signal.SIGTERM, signal.SIGINT):
                        signal.signal(sig, lambda *_: writer.stop())
                    logger.info("Store writer: %s -> %s", redact(url), db_path)
                    saved = writer.run()
                    busy = writer.busy
                    recleaned = writer.counts["site_chrome/recleaned"]
                finally:
                    store.close()
        except (LockBusy, StoreError) as exc:
            say(str(exc))
            self.exitcode = 1
            return
        except Exception as exc:  # Redis lost mid-run among them: what was committed stays
            import redis

            if not isinstance(exc, redis.RedisError):
                raise
            say(f"lost Redis at {redact(url)}: {redact(str(exc))}; what was saved is kept")
            self.exitcode = 1
            return
        rate = f", {saved / busy:.1f} pages/s while saving" if busy else ""
        chrome = f"; {recleaned} cleaned again for site chrome" if recleaned else ""
        say(f"store-writer stopped: {saved} pages saved in {busy:.1f} s of saving{rate}{chrome}")
