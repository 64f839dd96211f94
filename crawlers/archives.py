"""Reading the Internet Archive: CDX look-ups and raw (`id_`) captures, politely.

The Wayback Machine's CDX API (`BASE/cdx/search/cdx?url=...&output=json`) answers a JSON
array whose first row names the fields (`urlkey, timestamp, original, mimetype, statuscode,
digest, length`) and an empty array when nothing matches. A capture's bytes as the site served
them, without the archive's banner, toolbar or rewritten links, are at
`BASE/web/<timestamp>id_/<url>`. `DISPATCHES_WAYBACK_URL` names BASE, so a mirror (or the
fixture web) can stand in.

`WaybackAccess` is what the `originals` and `wayback` spiders share: the on/off switch
(`DISPATCHES_WAYBACK`; off means no request to the archive at all), the per-run cap
(`DISPATCHES_WAYBACK_MAX_PER_RUN`), one connection to the archive (its download slot has a
concurrency of 1; its 429s and Retry-After are the politeness middleware's, as for any host),
and the RawPage a capture becomes (the original URL, with the capture URL and its memento time
in `meta`, which the store keeps as `copies.archived_url` and `copies.memento_at`).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import scrapy

from cleaners.model import RawPage
from crawlers.spiders.base import DispatchesSpider

logger = logging.getLogger(__name__)

__all__ = [
    "CDX_FIELDS",
    "Capture",
    "WaybackAccess",
    "capture_url",
    "cdx_url",
    "latest_per_url",
    "memento_from_capture_url",
    "parse_cdx",
]

CDX_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
_CAPTURE = re.compile(r"/web/(\d{4,14})(?:[a-z]{2}_)?/(.+)$")


@dataclass(frozen=True, slots=True)
class Capture:
    """One row of a CDX answer."""

    timestamp: str  # YYYYMMDDhhmmss
    original: str  # the URL as it was captured
    status: str
    mimetype: str = ""
    digest: str = ""

    @property
    def memento_at(self) -> str:
        """The capture time as the store writes times (`YYYY-MM-DDTHH:MM:SSZ`)."""
        when = datetime.strptime(self.timestamp.ljust(14, "0")[:14], "%Y%m%d%H%M%S")
        return when.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cdx_url(base: str, url: str, **params: Any) -> str:
    """The CDX query for `url` (JSON, captures that answered 200 only), with extra parameters."""
    query: list[tuple[str, Any]] = [("url", url), ("output", "json"), ("filter", "statuscode:200")]
    query += [(k, v) for k, v in params.items() if v not in (None, "")]
    return f"{base.rstrip('/')}/cdx/search/cdx?{urlencode(query)}"


def capture_url(base: str, timestamp: str, url: str) -> str:
    """The raw capture of `url` at `timestamp`: the bytes as served, no archive banner."""
    return f"{base.rstrip('/')}/web/{timestamp}id_/{url}"


def memento_from_capture_url(url: str) -> tuple[str, str] | None:
    """(timestamp, original URL) of a capture URL, or None when it is not one."""
    m = _CAPTURE.search(urlsplit(url).path + (f"?{urlsplit(url).query}" if urlsplit(url).query else ""))
    if not m:
        return None
    original = m.group(2)
    if original.startswith(("http:/", "https:/")) and not original.startswith(("http://", "https://")):
        original = original.replace(":/", "://", 1)  # some clients squash the double slash
    return m.group(1), original


def parse_cdx(body: bytes) -> list[Capture]:
    """The rows of a CDX JSON answer (the header row names the fields); ValueError if it is not one."""
    try:
        data = json.loads(body.decode("utf-8") or "[]")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a CDX JSON answer: {exc}") from None
    if not isinstance(data, list) or any(not isinstance(row, list) for row in data):
        raise ValueError("not a CDX JSON answer: expected a list of rows")
    if not data:
        return []
    header = [str(h) for h in data[0]]
    missing = {"timestamp", "original"} - set(header)
    if missing:
        raise ValueError(f"CDX answer without {', '.join(sorted(missing))}")
    out = []
    for row in data[1:]:
        rec = dict(zip(header, (str(v) for v in row), strict=False))
        if not rec.get("timestamp", "").isdigit() or not rec.get("original"):
            continue
        out.append(
            Capture(
                timestamp=rec["timestamp"],
                original=rec["original"],
                status=rec.get("statuscode", ""),
                mimetype=rec.get("mimetype", ""),
                digest=rec.get("digest", ""),
            )
        )
    return out


def latest_per_url(captures: list[Capture]) -> list[Capture]:
    """The newest good (status 200) capture of each URL, in the order the URLs first appear."""
    best: dict[str, Capture] = {}
    for c in captures:
        if c.status not in ("200", ""):
            continue
        prev = best.get(c.original)
        if prev is None or c.timestamp > prev.timestamp:
            best[c.original] = c
    return list(best.values())


class WaybackAccess(DispatchesSpider):
    """The archive as one spider run sees it: switch, base URL, cap, one connection.

    A base for the spiders that read the archive; they call `wayback_setup()` once their
    settings are known.
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
        headers = {
            k.decode("latin-1").lower(): b", ".join(v).decode("latin-1") for k, v in response.headers.items()
        }
        ok = response.status == 200 and not response.meta.get("dispatches_soft_block")
        meta: dict[str, object] = {"archived_url": response.url, "memento_at": memento}
        if response.meta.get("dispatches_soft_block"):
            meta["soft_block"] = response.meta["dispatches_soft_block"]
        return RawPage(
            url=cap.original,
            final_url=cap.original,
            status=response.status,
            headers=headers,
            body=response.body if ok else b"",
            fetched_at=fetched_at,
            spider=spider_name,
            discovered_via="wayback",
            meta=meta,
        )
