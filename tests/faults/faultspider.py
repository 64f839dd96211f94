"""A small spider for the fault suite: fetches given URLs, yields RawPages, records every outcome.

Run through the project's own command, from the project root, so the project's settings,
middlewares and item pipeline (the real store, into ``DISPATCHES_DB``) all apply::

    scrapy crawl faults -s SPIDER_MODULES=tests.faults.faultspider -a urls=U1,U2 -a out=FILE

(or ``-a urls=@listing``, one URL a line). Responses become RawPages the way the project's
spiders make them (`DispatchesSpider.parse_article`: soft-block flags included); a download that
fails for good becomes the status-0 RawPage of `DispatchesSpider.article_failed`, so the pipeline
records it like any other failure. Besides, each RawPage the spider yields, each failure and the
final stats are written as JSON lines to ``out`` (``{"kind": "item"|"error"|"stats", ...}``):
what reached the pipeline, next to what the database shows it made of it.

``-a follow=1`` follows the ``<a href>`` links of ``/links`` pages once; ``-a allowed=D1,D2`` sets
``allowed_domains``. Also holds ``FakeResolver``, a fixed DNS table on top of the project's
``SafeResolver``.
"""

from __future__ import annotations

import json
import os
from typing import Any

import scrapy
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from cleaners.model import RawPage
from crawlers.middlewares.resolver import SafeResolver
from crawlers.spiders.base import ARTICLE_STATUSES, DispatchesSpider


def _write(path: str, record: dict) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, default=str) + "\n")


class FakeResolver(SafeResolver):
    """Answers 127.0.0.1 for ``*.test`` / ``*.state.gov`` / ``*.usembassy.gov`` names, fails the rest,
    or what ``FAULT_DNS`` (``name=ip,name=ip``) says; the SafeResolver check still applies."""

    def lookup(self, name, timeout):
        table = dict(kv.split("=", 1) for kv in os.environ.get("FAULT_DNS", "").split(",") if "=" in kv)
        name = name.lower()
        if name in table:
            return defer.succeed(table[name])
        if name.endswith((".test", ".state.gov", ".usembassy.gov")) or name in ("state.gov",):
            return defer.succeed("127.0.0.1")
        return defer.fail(DNSLookupError(f"fake DNS has no entry for {name}"))


def read_urls(arg: str) -> list[str]:
    """``@path`` (one URL a line: URLs may contain commas) or a comma list."""
    if arg.startswith("@"):
        with open(arg[1:], encoding="utf-8") as fh:
            return [line.strip() for line in fh if line.strip()]
    return [u for u in arg.split(",") if u]


def summary(raw: RawPage) -> dict[str, Any]:
    """What the out file keeps of a RawPage (never the whole body)."""
    return {
        "kind": "item",
        "url": raw.url,
        "final_url": raw.final_url,
        "status": raw.status,
        "size": len(raw.body),
        "content_type": raw.headers.get("content-type"),
        "soft_block": raw.meta.get("soft_block"),
        "head": raw.body[:200].decode("latin-1"),
    }


class FaultSpider(DispatchesSpider):
    name = "faults"

    def __init__(self, urls="", out="faults.jsonl", follow="0", allowed="", **kw):
        super().__init__(**kw)
        if allowed:
            self.allowed_domains = allowed.split(",")
        self.urls = read_urls(urls)
        self.out = out
        self.follow = follow == "1"

    async def start(self):
        for url in self.urls:
            yield self.request(url, depth_left=1)

    def request(self, url: str, depth_left: int) -> scrapy.Request:
        # The statuses the project's article requests accept (304, 404, 410) reach the pipeline.
        meta = {"depth_left": depth_left, "handle_httpstatus_list": ARTICLE_STATUSES}
        return scrapy.Request(url, callback=self.parse, errback=self.failed, meta=meta)

    def parse(self, response):
        for raw in self.parse_article(response):
            _write(self.out, summary(raw))
            yield raw
        if (
            self.follow
            and "/links" in response.url
            and response.meta.get("depth_left")
            and hasattr(response, "css")
        ):
            for href in response.css("a::attr(href)").getall():
                try:
                    yield self.request(response.urljoin(href), depth_left=0)
                except ValueError as e:  # unsupported scheme in a link
                    _write(self.out, {"kind": "error", "url": href, "error": "ValueError", "message": str(e)})

    def failed(self, failure):
        request = getattr(failure, "request", None)
        _write(
            self.out,
            {
                "kind": "error",
                "url": request.url if request else None,
                "error": failure.type.__name__,
                "message": str(failure.value)[:500],
            },
        )
        yield from self.article_failed(failure)

    def closed(self, reason):
        stats = self.crawler.stats.get_stats()
        _write(self.out, {"kind": "stats", "reason": reason, "stats": stats})
