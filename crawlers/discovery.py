"""Parsing of discovery documents: WordPress REST pages, sitemaps, RSS/Atom feeds, listing pages.

Pure functions over bytes: no requests, no Scrapy engine, no database. Spiders decide what to
fetch from what these return. XML is parsed with entity resolution and network access off
(no entity expansion bombs, no external entities): Scrapy's `Sitemap` for sitemaps, a
locked-down lxml parser for feeds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import lxml.etree
from parsel import Selector
from scrapy.utils.sitemap import Sitemap

from cleaners.model import utc_timestamp

__all__ = [
    "Found",
    "NotDiscovery",
    "parse_rest",
    "parse_sitemap",
    "parse_feed",
    "parse_listing",
    "parse_when",
    "in_window",
    "matches_topic",
    "looks_like_html",
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


def _strip_tags(html: str) -> str:
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
                title=_strip_tags(title) if isinstance(title, str) else None,
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


def parse_sitemap(
    body: bytes, base_url: str | None = None, limit: int | None = None
) -> tuple[str, list[Found]]:
    """A sitemap or sitemap index (already decompressed); at most `limit` entries are read.

    Returns:
        ("sitemapindex" | "urlset", entries); for an index the entries are child sitemaps.
    Raises:
        NotDiscovery: not a sitemap (HTML, JSON, garbage).
    """
    if looks_like_html(body) or not body.strip():
        raise NotDiscovery("HTML or empty where a sitemap was due")
    try:
        sitemap = Sitemap(body)
    except (lxml.etree.XMLSyntaxError, StopIteration, ValueError) as exc:
        raise NotDiscovery(f"not XML: {exc}") from None
    kind = sitemap.type
    if kind not in ("sitemapindex", "urlset"):
        raise NotDiscovery(f"XML root {kind!r} is not a sitemap")
    entries = []
    for entry in sitemap:
        loc = entry.get("loc")
        if not loc:
            continue
        if base_url:
            loc = urljoin(base_url, loc)
        entries.append(Found(url=loc, via="sitemap", lastmod=entry.get("lastmod") or None))
        if limit is not None and len(entries) > limit:  # one more than allowed: the caller warns
            break
    return kind, entries


_FEED_PARSER = lxml.etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    recover=True,
    remove_comments=True,
    remove_pis=True,
    huge_tree=False,
    load_dtd=False,
)


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def parse_feed(body: bytes, base_url: str | None = None) -> list[Found]:
    """An RSS 2.0 or Atom feed: item links with pubDate/updated and title.

    Raises:
        NotDiscovery: not a feed (HTML login page, JSON, garbage).
    """
    if looks_like_html(body) or not body.strip():
        raise NotDiscovery("HTML or empty where a feed was due")
    try:
        root = lxml.etree.fromstring(body, parser=_FEED_PARSER)
    except lxml.etree.XMLSyntaxError as exc:
        raise NotDiscovery(f"not XML: {exc}") from None
    if root is None or _local(root.tag) not in ("rss", "feed", "rdf"):
        raise NotDiscovery("XML that is not RSS or Atom")
    found: list[Found] = []
    seen: set[str] = set()
    for item in root.iter():
        name = _local(item.tag)
        if name not in ("item", "entry"):
            continue
        link = title = pub = upd = guid = None
        for child in item:
            cname = _local(child.tag)
            text = (child.text or "").strip()
            if cname == "link":
                href = child.get("href")
                if href and child.get("rel", "alternate") == "alternate":
                    link = href
                elif text:
                    link = text
            elif cname == "title":
                title = _strip_tags(text)
            elif cname in ("pubdate", "published", "date"):
                pub = text
            elif cname == "updated":
                upd = text
            elif cname == "guid":
                guid = text
        if not link and guid and guid.startswith("http"):
            link = guid
        if not link:
            continue
        if base_url:
            link = urljoin(base_url, link)
        if urlsplit(link).scheme not in ("http", "https") or link in seen:
            continue
        seen.add(link)
        pub_dt = parse_when(pub)
        upd_dt = parse_when(upd)
        found.append(
            Found(
                url=link,
                via="feed",
                lastmod=utc_timestamp(upd_dt) if upd_dt else None,
                published=utc_timestamp(pub_dt) if pub_dt else None,
                title=title,
                guid=guid.strip() if guid and guid.strip() else None,
            )
        )
    return found


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
