"""`scrapy job-status`: what the distributed crawls sharing a Redis database are doing.

For each job: discovery (waiting, running, done), requests queued per host and in flight, the
workers seen (host, pid, seconds since their heartbeat, pages queued) and their hosts; for the
Redis database: the documents waiting for `scrapy store-writer`. JSON on stdout.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from scrapy.exceptions import UsageError


class JobStatusCommand:
    """The body of the command (mixed with ScrapyCommand in the module named with a dash)."""

    settings: Any
    exitcode: int
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--job NAME]"

    def short_desc(self) -> str:
        return "Show the queue, workers and pages of distributed crawl jobs (JSON)"

    def add_options(self, parser) -> None:
        super().add_options(parser)  # type: ignore[misc]
        parser.add_argument_group("Dispatches").add_argument("--job", metavar="NAME", help="only this job")

    def run(self, args, opts) -> None:
        from crawlers.scaleout.job import Job, check, connect, jobs, live_workers
        from crawlers.scaleout.writer import docs_waiting

        assert self.settings is not None
        url = self.settings.get("DISPATCHES_REDIS_URL")
        if not url:
            raise UsageError("job-status needs -s DISPATCHES_REDIS_URL=redis://HOST:PORT/N", print_help=False)
        problem = check(url)
        if problem:
            print(f"dispatches: {problem}", file=sys.stderr)
            self.exitcode = 1
            return
        client = connect(url)
        names = [opts.job] if opts.job else jobs(client)
        out = {
            "documents_waiting": docs_waiting(client),
            "workers_seen": len(live_workers(client)),
            "jobs": [Job(client, name).status() for name in names],
        }
        sys.stdout.write(json.dumps(out, indent=2, sort_keys=True) + "\n")
