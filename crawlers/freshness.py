"""What the stored state of a URL says about fetching it again, and what a run may keep.

Pure functions over the state the database holds for a URL (its `ETag`, `Last-Modified`, sitemap
`lastmod` or REST `modified_gmt`, as `crawlers.state.CrawlState` reads it) and over the run's
stats. The spiders use them to ask conditionally (a 304 costs nothing), to skip a URL whose
discovery hint is not newer than the stored one, and to keep the validators of the discovery
documents of a host only when the run went through that host cleanly: a host with failures,
soft blocks or a partial discovery keeps nothing, so nothing can be skipped by mistake next time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crawlers.discovery import parse_when

__all__ = ["UNCLEAN", "conditional_headers", "host_was_clean", "unchanged", "validators"]

#: Per-host stats (`dispatches/<name>/<host>`) that make a host's run unclean.
UNCLEAN = (
    "fetch_failed",
    "soft_blocks",
    "discovery_partial",
    "discovery_failed",
    "robots_blocked",
    "network_error",
    "deferred",
)


def conditional_headers(stored: Mapping[str, Any] | None) -> dict[str, str]:
    """`If-None-Match` / `If-Modified-Since` from a URL's stored `etag` / `last_modified`, if any."""
    headers = {}
    if stored:
        if stored.get("etag"):
            headers["If-None-Match"] = stored["etag"]
        if stored.get("last_modified"):
            headers["If-Modified-Since"] = stored["last_modified"]
    return headers


def unchanged(stored: Mapping[str, Any] | None, hint: str | None) -> bool:
    """True when a discovery hint (sitemap `lastmod`, REST `modified_gmt`) is not newer than the
    stored one; False when either is missing or unreadable (then the page is asked for)."""
    if not stored or not hint:
        return False
    before = parse_when(stored.get("modified_gmt") or stored.get("lastmod"))
    now = parse_when(hint)
    return bool(before and now and now <= before)


def validators(headers: Mapping[bytes, Any]) -> dict[str, str | None] | None:
    """The `etag` / `last_modified` fields to keep from response headers, or None when it sent neither.

    Args:
        headers: Scrapy response headers (`response.headers`), whose `get` gives bytes.
    """
    etag = headers.get(b"ETag")
    last_modified = headers.get(b"Last-Modified")
    if not (etag or last_modified):
        return None
    return {
        "etag": etag.decode("latin-1") if etag else None,
        "last_modified": last_modified.decode("latin-1") if last_modified else None,
    }


def host_was_clean(stats: Any, host: str) -> bool:
    """Whether the run went through `host` without a failure, soft block, partial discovery or open
    circuit, read from the crawl's stats collector."""
    return not any(stats.get_value(f"dispatches/{name}/{host}") for name in UNCLEAN) and host not in (
        stats.get_value("safety/circuit_open") or []
    )
