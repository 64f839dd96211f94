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

import logging
import re
from typing import Any
from urllib.parse import urlsplit

import scrapy

from cleaners.model import RawPage, utc_timestamp
from crawlers.archives import (
    Capture,
    capture_url,
    cdx_url,
    latest_per_url,
    memento_from_capture_url,
    parse_cdx,
)
from crawlers.config import comma_list
from crawlers.rawpages import flat_headers
from crawlers.spiders.base import ArgumentError, DispatchesSpider
from crawlers.state import CrawlState

__all__ = ["WaybackAccess", "WaybackSpider"]

_STAMP = re.compile(r"\d{4}(\d{2}){0,5}")
HOST_NAME = re.compile(  # a host name as -a hosts= and -a recheck= take it
    r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+"
)
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
            CrawlState.url_key(r["url"])
            for r in db.history.archived_copies()
            if r["site"] and r["site"].removeprefix("www.") == host.removeprefix("www.")
        }

    return ask


logger = logging.getLogger(__name__)


class WaybackAccess(DispatchesSpider):
    """The archive as one spider run sees it, for the spiders that read it.

    The on/off switch (`DISPATCHES_WAYBACK`; off means no request to the archive at all), the
    per-run cap (`DISPATCHES_WAYBACK_MAX_PER_RUN`), one connection to the archive (its download
    slot has a concurrency of 1; its 429s and Retry-After are the politeness middleware's, as
    for any host), and the RawPage a capture becomes: the original URL, with the capture URL and
    its memento time in `meta`, which the store keeps as `copies.archived_url` and
    `copies.memento_at`. Spiders call `wayback_setup()` once their settings are known.
    """

    wayback_on: bool = False
    wayback_base: str = "https://web.archive.org"
    wayback_cap: int = 0
    wayback_used: int = 0

    @classmethod
    def archive_slot_settings(cls, settings: Any) -> None:
        """One connection to the archive: its download slot gets a concurrency of 1."""
        host = urlsplit(str(settings.get("DISPATCHES_WAYBACK_URL") or "")).hostname
        if not host:
            return
        slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
        slots[host] = {**slots.get(host, {}), "concurrency": 1}
        settings.set("DOWNLOAD_SLOTS", slots, priority="spider")

    def wayback_setup(self, settings: Any) -> None:
        self.wayback_on = settings.getbool("DISPATCHES_WAYBACK")
        self.wayback_base = str(settings.get("DISPATCHES_WAYBACK_URL") or "").rstrip("/")
        self.wayback_cap = settings.getint("DISPATCHES_WAYBACK_MAX_PER_RUN")
        if self.wayback_on and urlsplit(self.wayback_base).scheme not in ("http", "https"):
            raise ValueError(f"DISPATCHES_WAYBACK_URL={self.wayback_base!r} is not an http(s) URL")

    def archive_request(
        self, url: str, callback: Any, *, errback: Any = None, **meta: Any
    ) -> scrapy.Request | None:
        """A request to the archive, or None when the archive is off or this run's cap is reached."""
        stats = self.crawler.stats
        if not self.wayback_on:
            stats.inc_value("dispatches/wayback/off")
            return None
        if self.wayback_used >= self.wayback_cap:
            if stats.get_value("dispatches/wayback/capped") is None:
                logger.warning(
                    "Reached DISPATCHES_WAYBACK_MAX_PER_RUN (%d requests to the archive); the rest next run",
                    self.wayback_cap,
                )
            stats.inc_value("dispatches/wayback/capped")
            return None
        self.wayback_used += 1
        stats.inc_value("dispatches/wayback/requests")
        return scrapy.Request(
            url,
            callback=callback,
            errback=errback,
            dont_filter=True,
            meta={
                "handle_httpstatus_list": [404, 410],
                "dispatches_expect": meta.pop("expect", "json"),
                **meta,
            },
        )

    def lookup_request(
        self, original: str, callback: Any, *, errback: Any = None, **meta: Any
    ) -> scrapy.Request | None:
        """The CDX look-up of the newest good capture of one URL (`limit=-1`: the last row)."""
        return self.archive_request(
            cdx_url(self.wayback_base, original, limit=-1),
            callback,
            errback=errback,
            original=original,
            **meta,
        )

    def capture_request(
        self, cap: Capture, callback: Any, *, errback: Any = None, **meta: Any
    ) -> scrapy.Request | None:
        return self.archive_request(
            capture_url(self.wayback_base, cap.timestamp, cap.original),
            callback,
            errback=errback,
            expect="html",
            capture=cap,
            **meta,
        )

    def capture_page(self, response: Any, spider_name: str, fetched_at: str) -> RawPage:
        """The RawPage of a capture: the original URL, the capture URL and memento time in meta."""
        cap: Capture = response.meta["capture"]
        found = memento_from_capture_url(response.url)
        timestamp = found[0] if found else cap.timestamp
        memento = Capture(timestamp, cap.original, cap.status).memento_at
        ok = response.status == 200 and not response.meta.get("dispatches_soft_block")
        meta: dict[str, object] = {"archived_url": response.url, "memento_at": memento}
        if response.meta.get("dispatches_soft_block"):
            meta["soft_block"] = response.meta["dispatches_soft_block"]
        return RawPage(
            url=cap.original,
            final_url=cap.original,
            status=response.status,
            headers=flat_headers(response.headers),
            body=response.body if ok else b"",
            fetched_at=fetched_at,
            spider=spider_name,
            discovered_via="wayback",
            meta=meta,
        )


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
            if not HOST_NAME.fullmatch(host):
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
            if CrawlState.url_key(original) in self.recovered:
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
        yield self.capture_page(response, self.name, utc_timestamp())

    def listing_failed(self, failure):
        self.crawler.stats.inc_value("dispatches/wayback/failed")
        self.logger.warning("Archive request %s failed: %s", failure.request.url, failure.value)
        return []
