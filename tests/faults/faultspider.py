"""A small spider for the fault suite: fetches given URLs, yields RawPages, records every outcome.

Run as ``scrapy runspider tests/faults/faultspider.py -a urls=U1,U2 -a out=FILE`` (or
``-a urls=@listing``, one URL a line) from the project root (so the project's settings and
middlewares apply) with ``tests/faults`` on PYTHONPATH.
Each response becomes a ``RawPage`` item; each failure (errback) and the final stats are written
as JSON lines to ``out``: ``{"kind": "item"|"error"|"stats", ...}``.

``-a follow=1`` follows the ``<a href>`` links of ``/links`` pages once; ``-a allowed=D1,D2`` sets
``allowed_domains``.
Also holds ``FakeResolver`` (a fixed DNS table on top of the project's ``SafeResolver``, the mock
DNS of RELIABILITY.md) and ``RecordPipeline``.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import scrapy
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from cleaners.model import RawPage
from crawlers.middlewares.safety import SafeResolver


def _write(path: str, record: dict):
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


class RecordPipeline:
    """Writes a summary of each item (never the whole body) to the spider's ``out`` file."""

    def process_item(self, item, spider=None):
        spider = spider or self.spider
        body = item.body if isinstance(item, RawPage) else b""
        _write(
            spider.out,
            {
                "kind": "item",
                "url": item.url,
                "final_url": item.final_url,
                "status": item.status,
                "size": len(body),
                "content_type": item.headers.get("content-type"),
                "head": body[:200].decode("latin-1"),
            },
        )
        return item

    @classmethod
    def from_crawler(cls, crawler):
        o = cls()
        o.crawler = crawler
        crawler.signals.connect(o._opened, signal=scrapy.signals.spider_opened)
        return o

    def _opened(self, spider):
        self.spider = spider


def to_rawpage(response, spider_name="faults", via="link") -> RawPage:
    first = (response.request.meta.get("redirect_urls") or [response.url])[0]
    headers = {
        k.decode("latin-1").lower(): b", ".join(v).decode("latin-1") for k, v in response.headers.items()
    }
    return RawPage(
        url=first,
        final_url=response.url,
        status=response.status,
        headers=headers,
        body=response.body,
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        spider=spider_name,
        discovered_via=via,
    )


def read_urls(arg: str) -> list[str]:
    """``@path`` (one URL a line: URLs may contain commas) or a comma list."""
    if arg.startswith("@"):
        with open(arg[1:], encoding="utf-8") as fh:
            return [line.strip() for line in fh if line.strip()]
    return [u for u in arg.split(",") if u]


class _Recording:
    out: str

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

    def closed(self, reason):
        stats = self.crawler.stats.get_stats()
        _write(self.out, {"kind": "stats", "reason": reason, "stats": stats})


class FaultSpider(_Recording, scrapy.Spider):
    name = "faults"
    custom_settings = {"ITEM_PIPELINES": {RecordPipeline: 900}}

    def __init__(self, urls="", out="faults.jsonl", follow="0", allowed="", **kw):  # noqa: D107
        super().__init__(**kw)
        if allowed:
            self.allowed_domains = allowed.split(",")
        self.urls = read_urls(urls)
        self.out = out
        self.follow = follow == "1"

    async def start(self):
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse, errback=self.failed, meta={"depth_left": 1})

    def parse(self, response):
        yield to_rawpage(response)
        if (
            self.follow
            and "/links" in response.url
            and response.meta.get("depth_left")
            and hasattr(response, "css")
        ):
            for href in response.css("a::attr(href)").getall():
                try:
                    yield response.follow(
                        href, callback=self.parse, errback=self.failed, meta={"depth_left": 0}
                    )
                except ValueError as e:  # unsupported scheme in a link
                    _write(self.out, {"kind": "error", "url": href, "error": "ValueError", "message": str(e)})
