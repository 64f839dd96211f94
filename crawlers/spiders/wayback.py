"""`wayback`: a gone site's statements recovered from the Internet Archive.

For each host, one CDX listing of the captures that answered 200 between `from` and `to`
(`matchType=prefix`, `collapse=urlkey`: one row per URL), narrowed to URLs containing `match`;
then, per URL, the newest good capture in the window (a CDX look-up with `limit=-1`) and its
raw `id_` bytes. Each capture goes through the pipeline as a copy with role `archived`,
`archived_url` and `memento_at`; URLs already recovered are skipped. Politeness toward the
archive (one connection, its 429s and Retry-After, `DISPATCHES_WAYBACK_MAX_PER_RUN`) is
`crawlers.archives.WaybackAccess`'; with `DISPATCHES_WAYBACK` off the run asks nothing.

    scrapy crawl wayback -a hosts=mexico.usembassy.gov -a from=2013 -a to=2016 -a match=press-releases
"""

from __future__ import annotations

import re
from typing import Any

from crawlers.archives import WaybackAccess, cdx_url, latest_per_url, parse_cdx
from crawlers.config import comma_list
from crawlers.spiders.base import ArgumentError, _utcnow
from store.urls import redact_url

__all__ = ["WaybackSpider"]

_STAMP = re.compile(r"\d{4}(\d{2}){0,5}")
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")
LISTING_LIMIT = 10000  # rows per CDX listing; the archive's own default page is about this size


def _stamp(value: Any, name: str) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).replace("-", "")
    if not _STAMP.fullmatch(text):
        raise ArgumentError(f"-a {name}={value!r}: expected a year like 2013 or a date like 2013-06-30")
    return text


def _recovered(host: str):
    def ask(db: Any) -> set[str]:
        return {
            r["url"]
            for r in db.history.archived_copies()
            if r["site"] and r["site"].removeprefix("www.") == host.removeprefix("www.")
        }

    return ask


class WaybackSpider(WaybackAccess):
    name = "wayback"
    discovery_order = ()

    def __init__(self, hosts=None, match=None, **kwargs):
        window = {k: kwargs.pop(k, None) for k in ("from", "to")}
        super().__init__(**kwargs)
        self.hosts = [h.lower() for h in comma_list(hosts)]
        if not self.hosts:
            raise ArgumentError(
                "-a hosts=HOST[,HOST]: name the site(s) to recover, e.g. mexico.usembassy.gov"
            )
        for host in self.hosts:
            if not _HOST.fullmatch(host):
                raise ArgumentError(f"-a hosts: {host!r} is not a host name like mexico.usembassy.gov")
        self.window_from = _stamp(window["from"], "from")
        self.window_to = _stamp(window["to"], "to")
        if self.window_from and self.window_to and self.window_from[:4] > self.window_to[:4]:
            raise ArgumentError(f"-a from={window['from']} is after -a to={window['to']}")
        self.match = match or None
        self.recovered: set[str] = set()
        self.run_args.update(hosts=",".join(self.hosts), match=match, **window)

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        cls.archive_slot_settings(settings)

    def hosts_to_crawl(self) -> list[str]:
        return self.hosts

    async def start(self):
        self.wayback_setup(self.settings)
        if not self.wayback_on:
            self.logger.error("DISPATCHES_WAYBACK is off: nothing is asked of the archive")
            return
        state = self.state
        for host in self.hosts:
            if state is not None and state.available:
                self.recovered |= await state.ask(_recovered(host), set())
            req = self.archive_request(
                cdx_url(
                    self.wayback_base,
                    f"{host}/",
                    matchType="prefix",
                    collapse="urlkey",
                    **{"from": self.window_from, "to": self.window_to},
                    limit=LISTING_LIMIT,
                ),
                self.parse_listing,
                errback=self.listing_failed,
                host=host,
            )
            if req is not None:
                yield req

    def parse_listing(self, response):
        host = response.meta["host"]
        if response.status != 200:
            self.crawler.stats.set_value(f"dispatches/discovery_failed/{host}", f"HTTP {response.status}")
            return
        try:
            captures = parse_cdx(response.body)
        except ValueError as exc:
            self.crawler.stats.set_value(f"dispatches/discovery_failed/{host}", str(exc))
            return
        self.crawler.stats.set_value(f"dispatches/discovery/{host}", "wayback")
        urls = []
        for cap in captures:
            if cap.mimetype and "html" not in cap.mimetype:
                continue
            if self.match and self.match not in cap.original:
                continue
            if cap.original not in urls:
                urls.append(cap.original)
        self.crawler.stats.inc_value("dispatches/wayback/listed", len(urls))
        for original in urls:
            if redact_url(original) in self.recovered:
                self.crawler.stats.inc_value("dispatches/skipped/unchanged")
                continue
            if self.limit is not None and self.scheduled >= self.limit:
                self.crawler.stats.inc_value("dispatches/skipped/limit")
                continue
            self.scheduled += 1
            req = self.archive_request(
                cdx_url(
                    self.wayback_base,
                    original,
                    limit=-1,
                    **{"from": self.window_from, "to": self.window_to},
                ),
                self.parse_lookup,
                errback=self.listing_failed,
                host=host,
                original=original,
            )
            if req is None:
                return
            yield req

    def parse_lookup(self, response):
        if response.status != 200:
            return
        try:
            captures = latest_per_url(parse_cdx(response.body))
        except ValueError as exc:
            self.logger.warning("Archive look-up %s unusable: %s", response.url, exc)
            return
        if not captures:
            return
        req = self.capture_request(captures[-1], self.parse_capture, errback=self.listing_failed)
        if req is not None:
            yield req

    def parse_capture(self, response):
        if response.status != 200:
            self.crawler.stats.inc_value("dispatches/wayback/capture_missing")
            return
        self.crawler.stats.inc_value("dispatches/wayback/captures")
        yield self.capture_page(response, self.name, _utcnow())

    def listing_failed(self, failure):
        self.crawler.stats.inc_value("dispatches/wayback/failed")
        self.logger.warning("Archive request %s failed: %s", failure.request.url, failure.value)
        return []
