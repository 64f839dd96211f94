"""Sitemaps and sitemap indexes: which article URLs and child sitemaps one lists.

Pure functions over bytes: no requests, no Scrapy engine, no database. The spiders fetch the
documents, count and log what these refuse, and decide what to request from what they return.
XML goes through Scrapy's `Sitemap`, which parses with entity resolution and network access off
(no entity expansion bombs, no external entities); a gzip-compressed sitemap is unpacked only up
to a size bound, so a gzip bomb under a sitemap name is refused instead of filling memory.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

import lxml.etree
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

from crawlers.discovery import Found, NotDiscovery, looks_like_html

__all__ = ["SKIP_SITEMAPS", "child_sitemaps", "decompress", "on_host", "parse_sitemap", "read_sitemap"]

_GZIP_MAGIC = b"\x1f\x8b"

# Child sitemaps that never hold statements (WordPress/Yoast taxonomies, authors, media).
SKIP_SITEMAPS = re.compile(
    r"(category|tag|author|attachment|media|page|taxonom|country|bureau|people)[-_]?sitemap", re.I
)


def decompress(body: bytes, max_size: int) -> bytes:
    """A sitemap body as XML: a gzip stream (`sitemap.xml.gz`, whatever its Content-Type) is unpacked.

    Args:
        max_size: the most bytes the unpacked sitemap may have (0: no bound).
    Raises:
        NotDiscovery: "invalid sitemap body", from the gzip error (broken stream, or more than
            `max_size` bytes once unpacked).
    """
    if body[:2] != _GZIP_MAGIC:
        return body
    try:
        return gunzip(body, max_size=max_size)
    except (OSError, EOFError, ValueError, struct.error, zlib.error) as exc:
        raise NotDiscovery("invalid sitemap body") from exc


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


def read_sitemap(
    body: bytes, base_url: str | None = None, *, max_size: int, limit: int | None = None
) -> tuple[str, list[Found]]:
    """`decompress` then `parse_sitemap`: a fetched sitemap body as (kind, entries).

    Raises:
        NotDiscovery: the body is not a sitemap, or its gzip stream is invalid or too big.
    """
    return parse_sitemap(decompress(body, max_size), base_url, limit=limit)


def on_host(entries: Iterable[Found], host: str) -> list[Found]:
    """The entries whose URL is on `host`: another host's URLs in this host's sitemap are not its own."""
    return [found for found in entries if urlsplit(found.url).hostname == host]


def child_sitemaps(entries: Iterable[Found], host: str) -> list[Found]:
    """The child sitemaps of an index worth reading: on `host`, without taxonomy/author/media ones.

    When every child looks like a taxonomy sitemap, all are kept: a site that names its post
    sitemaps oddly still gets read.
    """
    entries = list(entries)
    wanted = [found for found in entries if not SKIP_SITEMAPS.search(urlsplit(found.url).path)]
    return on_host(wanted or entries, host)
