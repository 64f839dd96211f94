"""RSS 2.0 and Atom feeds: the items one lists, and whether the feed stopped updating.

Pure functions over bytes and what the database knows: no requests, no Scrapy engine. The
spiders fetch the feeds and decide what to request from what these return. XML is parsed by a
locked-down lxml parser (no entity resolution, no network, no DTD, no huge trees), so entity
expansion bombs and external entities do nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urljoin, urlsplit

import lxml.etree

from cleaners.model import utc_timestamp
from crawlers.discovery import Found, NotDiscovery, looks_like_html, parse_when, strip_tags

__all__ = ["parse_feed", "staleness"]

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
                title = strip_tags(text)
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


def staleness(items: Iterable[Found], known: Mapping[str, Mapping], host: str, days: int) -> str | None:
    """Why a feed of `host` looks stale, or None when it does not.

    A feed is stale when its newest item is more than `days` days older than the newest page of
    its host the database holds: the feed stopped updating while the site went on, so a spider
    that has a better discovery method left uses that one.

    Args:
        known: what the database holds, by URL, each with its `modified_gmt` or `lastmod`.
    """
    newest = max((f.when for f in items if f.when), default=None)
    if newest is None:
        return None
    stored = [
        parse_when(state.get("modified_gmt") or state.get("lastmod"))
        for url, state in known.items()
        if urlsplit(url).hostname in (host, host.removeprefix("www."))
    ]
    known_newest = max((when for when in stored if when), default=None)
    if known_newest and (known_newest - newest).days > days:
        return f"newest item {newest.date()} is {(known_newest - newest).days} days older than stored pages"
    return None
