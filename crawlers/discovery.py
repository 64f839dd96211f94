"""What discovery finds, and parsing of WordPress REST pages, listing pages and archive indexes.

Pure functions over bytes: no requests, no Scrapy engine, no database. Spiders decide what to
fetch from what these return. `Found` (one URL with its hints) and `NotDiscovery` (the body is
not the document asked for) are shared by every kind of discovery document; sitemaps and feeds
are parsed in `crawlers.sitemaps` and `crawlers.feeds`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from parsel import Selector

from cleaners.model import utc_timestamp

__all__ = [
    "Found",
    "NotDiscovery",
    "parse_rest",
    "parse_listing",
    "parse_archive_index",
    "parse_when",
    "in_window",
    "in_scope",
    "matches_topic",
    "looks_like_html",
    "strip_tags",
]


class NotDiscovery(ValueError):
    """The body is not the kind of document that was asked for (HTML where JSON was due...)."""


@dataclass(frozen=True, slots=True)
class Found:
    """One URL found by discovery, with the hints that came with it."""

    url: str
    via: str  # rest | sitemap | listing | feed
    lastmod: str | None = None  # sitemap lastmod / REST modified_gmt / feed updated, as given
    published: str | None = None  # REST date_gmt / feed pubDate, ISO
    title: str | None = None
    guid: str | None = None  # the CMS's own id of the post (REST guid, feed <guid>): survives a new slug
    extra: dict = field(default_factory=dict)

    @property
    def when(self) -> datetime | None:
        return parse_when(self.published) or parse_when(self.lastmod)


_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S)


def looks_like_html(body: bytes) -> bool:
    """True when a body is an HTML page (what a soft block or a login wall sends)."""
    return bool(_HTML_START.match(body[:2048]))


def parse_when(value: str | None) -> datetime | None:
    """An ISO 8601 or RFC 822 date as an aware UTC datetime; None when absent or garbage."""
    if not value:
        return None
    value = value.strip()
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            dt = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def in_window(when: datetime | None, since: date | None, until: date | None) -> bool:
    """Whether a date falls in [since, until]; unknown dates pass (the page will tell)."""
    if when is None:
        return True
    day = when.date()
    if since and day < since:
        return False
    if until and day > until:
        return False
    return True


def matches_topic(keywords: Iterable[str], *texts: str | None) -> bool:
    """Whether any keyword occurs in any text (titles, slugs); slugs' hyphens count as spaces."""
    words = [k.strip().casefold() for k in keywords if k and k.strip()]
    if not words:
        return True
    hay = " ".join((t or "") for t in texts).casefold().replace("-", " ").replace("_", " ")
    return any(w in hay for w in words)


def in_scope(found: Found, since: date | None, until: date | None, keywords: Iterable[str]) -> bool:
    """Whether a found URL is in a run's date window and matches its topic keywords, on what
    discovery knows of it (dates, title, URL slug)."""
    slug = urlsplit(found.url).path
    return in_window(found.when, since, until) and matches_topic(keywords, found.title, slug)


def strip_tags(html: str) -> str:
    """Text of an HTML fragment (a REST or feed title) with tags dropped and whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html or "")).strip()


def parse_rest(body: bytes) -> list[Found]:
    """A WordPress REST collection page (`/wp-json/wp/v2/<type>?_fields=...`).

    Raises:
        NotDiscovery: the body is not a JSON list of posts with links.
    """
    if looks_like_html(body):
        raise NotDiscovery("HTML where JSON was due")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotDiscovery(f"not JSON: {exc}") from None
    if not isinstance(data, list):
        raise NotDiscovery(f"JSON {type(data).__name__} where a list of posts was due")
    found = []
    for post in data:
        if not isinstance(post, dict) or not isinstance(post.get("link"), str):
            continue
        title = post.get("title")
        if isinstance(title, dict):
            title = title.get("rendered")
        guid = post.get("guid")
        if isinstance(guid, dict):
            guid = guid.get("rendered")
        found.append(
            Found(
                url=post["link"],
                via="rest",
                lastmod=_gmt(post.get("modified_gmt")),
                published=_gmt(post.get("date_gmt")),
                title=strip_tags(title) if isinstance(title, str) else None,
                guid=guid.strip() if isinstance(guid, str) and guid.strip() else None,
                extra={"id": post.get("id")},
            )
        )
    if data and not found:
        raise NotDiscovery("JSON list without post links")
    return found


def _gmt(value) -> str | None:
    # WordPress gives *_gmt without an offset; they are UTC.
    if not isinstance(value, str) or not value:
        return None
    dt = parse_when(value)
    return utc_timestamp(dt) if dt else None


def parse_listing(
    body: bytes | str, base_url: str, link_pattern: str | None = None
) -> tuple[list[Found], str | None]:
    """A listing page (`/press-releases/page/N/`): article links and the next page's URL.

    Args:
        link_pattern: regex an article URL's path must match; default: links inside
            `<article>`/`.collection-result`/`.entry-title` elements.
    """
    sel = Selector(text=body.decode("utf-8", "replace") if isinstance(body, bytes) else body)
    host = urlsplit(base_url).hostname
    hrefs = sel.css(
        "article a::attr(href), .collection-result a::attr(href), .entry-title a::attr(href), "
        "h2 a::attr(href), h3 a::attr(href)"
    ).getall()
    if link_pattern:
        hrefs += sel.css("a::attr(href)").getall()
    found, seen = [], set()
    for href in hrefs:
        url = urljoin(base_url, href.strip())
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname != host or url in seen:
            continue
        if "/page/" in parts.path or parts.path.rstrip("/") in ("", urlsplit(base_url).path.rstrip("/")):
            continue
        if link_pattern and not re.search(link_pattern, parts.path):
            continue
        seen.add(url)
        found.append(Found(url=url, via="listing"))
    nxt = sel.css("link[rel=next]::attr(href), a[rel=next]::attr(href), a.next::attr(href)").get()
    return found, (urljoin(base_url, nxt) if nxt else None)


_ARCHIVE_INDEX = re.compile(r"/r/pa/prs/ps/(\d{4})/(?:(\d{2})/)?index\.htm$")
_ARCHIVE_STATEMENT = re.compile(r"/r/pa/prs/ps/(\d{4})/(\d{2})/\d+\.htm$")


def parse_archive_index(
    body: bytes | str, base_url: str
) -> tuple[list[tuple[str, int, int | None]], list[Found]]:
    """An index page of a static State Department archive (2001-2009, 2009-2017).

    Returns the yearly/monthly index pages it links (url, year, month or None) and the
    statements (`/r/pa/prs/ps/YYYY/MM/NNNNNN.htm`) it lists, with their link text as title.
    """
    sel = Selector(text=body.decode("utf-8", "replace") if isinstance(body, bytes) else body)
    host = urlsplit(base_url).hostname
    here = urlsplit(base_url).path
    indexes: list[tuple[str, int, int | None]] = []
    found: list[Found] = []
    seen: set[str] = set()
    for a in sel.css("a[href]"):
        url = urljoin(base_url, (a.attrib.get("href") or "").strip())
        parts = urlsplit(url)
        if parts.hostname != host or url in seen or parts.path == here:
            continue
        seen.add(url)
        if m := _ARCHIVE_INDEX.search(parts.path):
            indexes.append((url, int(m.group(1)), int(m.group(2)) if m.group(2) else None))
        elif m := _ARCHIVE_STATEMENT.search(parts.path):
            title = " ".join(a.css("::text").getall()).strip() or None
            found.append(
                Found(url=url, via="listing", published=f"{m.group(1)}-{m.group(2)}-01", title=title)
            )
    return indexes, found
