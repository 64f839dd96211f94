"""A spider for the settings tests: fetches the given URLs under the project's settings and, when
it closes, writes its stats and the final settings the components saw to a JSON file.

Run from the project root (so ``crawlers/settings.py`` applies):
``scrapy runspider tests/settings_probe.py -a urls=U1,U2 -a out=FILE [-a close_after=N]``.
``close_after`` closes the spider after N responses, the way SIGTERM or CLOSESPIDER_TIMEOUT do.
The item pipeline is off: what these tests look at happens in the downloader.
"""

from __future__ import annotations

import json
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
        }
        with open(self.out, "w", encoding="utf-8") as fh:
            json.dump(record, fh, default=str)
