"""The `RawPage` items spiders yield: from discovery hints, a response, or a request that failed.

A spider never cleans text; what it knows about a page goes into `RawPage.meta` as hints (how
it was found, the sitemap `lastmod` or REST `modified_gmt` the next run compares, title and
publication date from discovery) and the item pipeline does the rest. A request that failed
becomes a RawPage too (status 0, the error in `meta["fetch_error"]`), so every failure is
recorded the way every other skip is.
"""

from __future__ import annotations

from typing import Any

from cleaners.model import RawPage, utc_timestamp
from crawlers.discovery import Found

__all__ = ["discovery_hints", "failed_page", "flat_headers", "page_of"]


def discovery_hints(found: Found) -> dict[str, Any]:
    """What discovery said about an article URL, kept with its request and then in `RawPage.meta`."""
    hints: dict[str, Any] = {"via": found.via}
    if found.lastmod:
        hints["modified_gmt" if found.via == "rest" else "lastmod"] = found.lastmod
    if found.published:
        hints["published"] = found.published
    if found.title:
        hints["discovered_title"] = found.title
    if found.guid:
        hints["guid"] = found.guid
    return hints


def flat_headers(headers: Any) -> dict[str, str]:
    """Scrapy response headers as one string per lower-cased name (repeated headers joined by ", ")."""
    return {k.decode("latin-1").lower(): b", ".join(v).decode("latin-1") for k, v in headers.items()}


def page_of(response: Any, spider: str, via: str | None, hints: dict[str, Any]) -> RawPage:
    """The RawPage of an article response: the URL first asked for, where it ended, status, headers;
    the body only of a 200 (a 304, 404 or 410 says what it has to say by its status)."""
    first = (response.meta.get("redirect_urls") or [response.url])[0]
    return RawPage(
        url=first,
        final_url=response.url,
        status=response.status,
        headers=flat_headers(response.headers),
        body=response.body if response.status == 200 else b"",
        fetched_at=utc_timestamp(),
        spider=spider,
        discovered_via=via,
        meta=hints,
    )


def failed_page(request: Any, spider: str, why: str) -> RawPage:
    """The RawPage of an article request that got no response (`why`: the error, one line)."""
    return RawPage(
        url=request.url,
        final_url=None,
        status=0,
        headers={},
        body=b"",
        fetched_at=utc_timestamp(),
        spider=spider,
        discovered_via=(request.meta.get("hints") or {}).get("via"),
        meta={"fetch_error": why},
    )
