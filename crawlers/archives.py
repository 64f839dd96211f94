"""Reading the Internet Archive: CDX look-ups and raw (`id_`) captures, politely.

The Wayback Machine's CDX API (`BASE/cdx/search/cdx?url=...&output=json`) answers a JSON
array whose first row names the fields (`urlkey, timestamp, original, mimetype, statuscode,
digest, length`) and an empty array when nothing matches. A capture's bytes as the site served
them, without the archive's banner, toolbar or rewritten links, are at
`BASE/web/<timestamp>id_/<url>`. `DISPATCHES_WAYBACK_URL` names BASE, so a mirror (or the
fixture web) can stand in.

The spiders' side (switch, cap, one connection, the RawPage a capture becomes) is
`crawlers.spiders.wayback.WaybackAccess`; this module holds the addresses and answers only.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from store.history import memento_time

logger = logging.getLogger(__name__)

__all__ = [
    "CDX_FIELDS",
    "Capture",
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
        return memento_time(self.timestamp)


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
