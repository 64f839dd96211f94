"""Probes for the settings tests, both run from the project root (so ``crawlers/settings.py``
applies).

* A spider that fetches the given URLs and, when it closes, writes its stats and the final
  settings the components saw to a JSON file:
  ``scrapy runspider tests/settings_probe.py -a urls=U1,U2 -a out=FILE [-a close_after=N]``.
  ``close_after`` closes the spider after N responses, the way SIGTERM or CLOSESPIDER_TIMEOUT
  do. The item pipeline is off: what these tests look at happens in the downloader.
* ``python tests/settings_probe.py GETTER:NAME... [-s NAME=VALUE...]`` runs
  ``scrapy settings --GETTER NAME -s ...`` through Scrapy's own command line once per name, in
  one process (one interpreter start instead of one per setting), and prints
  ``{NAME: output}`` as JSON.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from typing import Any

import scrapy
from scrapy.exceptions import CloseSpider

SHOWN_SETTINGS = ("USER_AGENT", "MEMUSAGE_WARNING_MB", "MEMUSAGE_LIMIT_MB")


class SettingsProbe(scrapy.Spider):
    name = "settings_probe"
    custom_settings: dict[str, Any] = {"ITEM_PIPELINES": {}}

    def __init__(self, urls: str = "", out: str = "probe.json", close_after: str = "0", **kw: Any):
        super().__init__(**kw)
        self.urls = [u for u in urls.split(",") if u]
        self.out = out
        self.close_after = int(close_after)
        self.responses = 0

    async def start(self):
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse, errback=self.failed, dont_filter=True)

    def parse(self, response):
        self.responses += 1
        if self.close_after and self.responses >= self.close_after:
            raise CloseSpider("probe_done")

    def failed(self, failure):
        self.logger.info("probe: %s failed: %s", failure.request.url, failure.value)

    def closed(self, reason: str) -> None:
        record = {
            "reason": reason,
            "stats": self.crawler.stats.get_stats(),
            "settings": {name: self.settings.get(name) for name in SHOWN_SETTINGS},
            # what the run loaded: its extensions, and which optional heavy modules it imported
            "extensions": sorted(type(e).__name__ for e in self.crawler.extensions.middlewares),
            "imported": sorted(m for m in ("aiohttp", "redis", "trafilatura") if m in sys.modules),
        }
        with open(self.out, "w", encoding="utf-8") as fh:
            json.dump(record, fh, default=str)


def resolve(argv: list[str]) -> dict[str, str]:
    """What ``scrapy settings --GETTER NAME`` prints for each ``GETTER:NAME`` in ``argv``."""
    from scrapy.cmdline import execute

    names = [a for a in argv if ":" in a and not a.startswith("-")]
    options = [a for a in argv if a not in names]
    printed = {}
    for item in names:
        getter, name = item.split(":", 1)
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            execute(["scrapy", "settings", f"--{getter}", name, *options])
        printed[name] = out.getvalue().rstrip("\n")
    return printed


if __name__ == "__main__":
    print(json.dumps(resolve(sys.argv[1:])))
