"""Metadata a page states about itself, read from the parsed tree.

Meta tags, JSON-LD, `rel=canonical`, the state.gov hero block, tags and categories, hreflang
links, and the attribution sentences that name an original elsewhere ("Official news
published at <url>"). Also the choices made from them: which date is the publication's, who
the publisher is, whether a claimed or canonical URL is plausible. Guesses for what the markup
does not state come from `cleaners.extract.Guesses`, asked only when needed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from cleaners.dates import parse_date, parse_iso
from cleaners.edgelines import mark_text_source_lines, text_source_lines
from cleaners.edgelinks import claimed_source, mark_source_links, source_links
from cleaners.html import WS
from cleaners.model import RawPage, normalise_text
from cleaners.rules import DOC_TYPE_LINE, URL, Attribution
from cleaners.titles import SLUG_WORD, STOP_WORDS, TITLE_SPLIT, title_suffix
from cleaners.urls import host_of, is_official_host, site_key

_STATE_HOSTS = ("state.gov", "*.state.gov")
_EMBASSY_WORDS = re.compile(r"embass|consulat|mission|embajada|ambassade|embaixada", re.I)


def metas(tree: HtmlElement) -> dict[str, str]:
    """`<meta>` values by lower-cased property, name or itemprop (the first of each)."""
    out: dict[str, str] = {}
    for el in tree.iterfind(".//meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        value = el.get("content")
        if key and value and key not in out:
            out[key] = value.strip()
    return out


def json_ld(tree: HtmlElement) -> dict[str, object]:
    """datePublished/dateModified/headline from the first JSON-LD article-like object."""
    found: dict[str, object] = {}
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            data = json.loads(script)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                for key in ("datePublished", "dateModified", "headline"):
                    if key in item and key not in found and isinstance(item[key], str):
                        found[key] = item[key]
                if "@graph" in item:
                    stack.append(item["@graph"])
    return found


def canonical_url(tree: HtmlElement, meta: Mapping[str, str], url: str | None) -> str | None:
    """The page's `rel=canonical` (else og:url), absolute, or None."""
    hrefs = [
        el.get("href")
        for el in tree.iterfind(".//link")
        if "canonical" in (el.get("rel") or "").lower().split() and el.get("href")
    ]
    href = hrefs[0].strip() if hrefs else meta.get("og:url")
    if not href:
        return None
    full = urljoin(url or "", href.strip())
    return full if full.startswith(("http://", "https://")) else None


def state_hero(tree: HtmlElement) -> dict[str, object]:
    """Title, document type and date from the state.gov hero block, when there is one."""
    hero: dict[str, object] = {}
    heads = tree.xpath("//*[contains(@class,'featured-content__headline')]")
    if heads:
        hero["title"] = WS.sub(" ", heads[0].text_content()).strip()
    types = tree.xpath("//*[contains(@class,'doctype-meta')]")
    if types:
        t = WS.sub(" ", types[0].text_content()).strip()
        m = DOC_TYPE_LINE.match(t)
        if t:
            hero["doc_type"] = m.group("type").lower() if m else t.lower()
    dates = tree.xpath("//*[contains(@class,'article-meta__publish-date')]")
    if dates:
        hero["date"] = parse_date(dates[0].text_content())
    return hero


def page_tags(tree: HtmlElement, meta: Mapping[str, str]) -> list[str]:
    """Tags the page links (`rel=tag`) or declares (`article:tag`), at most 30."""
    tags: list[str] = []
    for el in tree.xpath(
        "//a[contains(concat(' ', normalize-space(@rel), ' '), ' tag ') and not(contains(@rel, 'category'))]"
    ):
        t = WS.sub(" ", el.text_content()).strip()
        if t and t not in tags and len(t) < 60:
            tags.append(t)
    for value in tree.xpath("//meta[@property='article:tag']/@content"):
        t = value.strip()
        if t and t not in tags:
            tags.append(t)
    return tags[:30]


def category_doc_type(tree: HtmlElement, meta: Mapping[str, str]) -> str | None:
    """A document type named by the post's categories ("Press Releases" -> "press release")."""
    names: list[str] = []
    if meta.get("article:section"):
        names.append(meta["article:section"])
    for el in tree.xpath(
        "//*[contains(@class,'cat-links')]"
        " | //a[contains(concat(' ', normalize-space(@rel), ' '), ' category ')]"
    )[:4]:
        names.extend(re.split(r"\s*[,|;/]\s*", WS.sub(" ", el.text_content())))
    for name in names:
        key = re.sub(r"^(?:topics?|categories|category)\s*:\s*", "", name.strip().lower())
        m = DOC_TYPE_LINE.match(key)
        if m:
            return m.group("type").lower()
    return None


def hreflang_en(tree: HtmlElement, url: str | None) -> str | None:
    """The English alternate the page links with hreflang, when it is another URL."""
    for el in tree.xpath("//link[@rel='alternate'][@hreflang]"):
        lang = (el.get("hreflang") or "").lower()
        href = el.get("href")
        if lang in ("en", "en-us", "en-gb") and href:
            full = urljoin(url or "", href.strip())
            if full != url:
                return full
    return None


def translation_of(raw: RawPage, tree: HtmlElement, url: str | None) -> str | None:
    """The English original of a translated page: what discovery knew, else its hreflang."""
    hints = raw.meta or {}
    found = hints.get("translation_of") or hints.get("english_original") or hreflang_en(tree, url)
    return found if isinstance(found, str) else None


# --- attribution ----------------------------------------------------------------------------

# Case-insensitive enough without translate(): the first letter is left out.
_ATTR_TEXT = (
    "fficial news published at",
    "riginally published",
    "riginally posted",
    "riginally appeared",
    "epublished here with permission",
    "epublished with permission",
    "ead more at",
    "ead the original",
    "ead the full statement",
)


def scan_attribution(tree: HtmlElement, html: str, url: str | None) -> tuple[str, str, str] | None:
    """(url, sentence, rule) of an attribution sentence in the page and the URL it names or
    links to ("Official news published at <a href=...>", "This article was originally
    published on <a href=...>"), else of a source line or card linking an official original
    ("Fuente: <a href=...>", `cleaners.edgelinks`), else of a plain-text source line at an
    edge ("Link: <url>", "来源：<url>", a label line over a URL line), or None. On a page that
    is not official, the source lines are marked in the tree as provenance, for the block rules
    to cut."""
    found = _attribution_sentence(tree, html, url)
    if is_official_host(host_of(url)):
        return found
    links = source_links(tree, host_of(url))
    lines = text_source_lines(tree, host_of(url))
    if links and lines and {u for _, u, _ in links} != {u for _, u, _ in lines}:
        return found  # the edges name different originals: a list of references, no claim
    mark_source_links(links)
    mark_text_source_lines(lines)
    if found is None and links:
        source = claimed_source(links)
        if source:
            return source[0], source[1], "source_link"
    if found is None and lines:
        return lines[0][1], lines[0][2], "source_line"
    return found


def _attribution_sentence(tree: HtmlElement, html: str, url: str | None) -> tuple[str, str, str] | None:
    if not any(q in html for q in _ATTR_TEXT):
        return None
    own = site_key(host_of(url))
    for phrase in _ATTR_TEXT:
        for node in tree.xpath(f"//body//text()[contains(., '{phrase}')]"):
            el = node.getparent()
            if el is None:
                continue
            if el.tag in ("a", "em", "strong", "b", "i", "span") and el.getparent() is not None:
                el = el.getparent()
            text = WS.sub(" ", el.text_content()).strip()
            if len(text.split()) > 60:
                continue
            candidates = [m.group(0) for m in URL.finditer(text)] + list(el.xpath(".//a/@href"))
            for cand in candidates:
                full = urljoin(url or "", cand.strip())
                h = host_of(full)
                if h and full.startswith(("http://", "https://")) and site_key(h) != own:
                    rule = (
                        "official_news_published_at"
                        if phrase.startswith("fficial")
                        else "read_more_at"
                        if phrase.startswith("ead ")
                        else "originally_published_at"
                    )
                    return full, text, rule
    return None


def plausible_claim(claim: str | None, url: str | None) -> str | None:
    """An attribution URL, unless it points back to the page's own site or a home page."""
    if not claim:
        return None
    h = host_of(claim)
    if not h or (url and site_key(h) == site_key(host_of(url))):
        return None
    if urlsplit(claim).path in ("", "/"):
        return None
    return claim


def plausible_canonical(canonical: str, url: str | None, title: str | None) -> bool:
    """rel=canonical names another host: trusted only when its slug says the same as the title."""
    ch, uh = host_of(canonical), host_of(url)
    if not ch or not uh or site_key(ch) == site_key(uh) or ch.endswith("archive.org"):
        return False
    path = urlsplit(canonical).path
    if path in ("", "/") or not title:
        return False
    slug = {w for w in SLUG_WORD.findall(path.lower()) if w not in STOP_WORDS and not w.isdigit()}
    words = {w for w in SLUG_WORD.findall(normalise_text(title)) if w not in STOP_WORDS}
    if len(slug) < 2 or not words:
        return False
    return len(slug & words) / len(slug) >= 0.5


# --- dates and publishers -------------------------------------------------------------------


def publication_dates(
    hero: Mapping[str, object],
    meta: Mapping[str, str],
    ld: Mapping[str, object],
    att: Attribution,
    official: bool,
    guess: Callable[[], str | None],
) -> tuple[date | None, date | None]:
    """(published, modified). An official page's own markup gives its date; on a copy a date
    the cut text stated (a source line) wins over the copy's markup. `guess` (htmldate) and the
    date line at the top come last; `modified` only when it differs from `published`."""
    hero_date = hero.get("date")
    published_meta = (
        (hero_date if isinstance(hero_date, date) else None)
        or parse_iso(meta.get("article:published_time"))
        or parse_iso(ld.get("datePublished"))
        or parse_iso(meta.get("og:published_time") or meta.get("date") or meta.get("dc.date"))
    )
    modified = parse_iso(meta.get("article:modified_time") or meta.get("og:updated_time")) or parse_iso(
        ld.get("dateModified")
    )
    published = published_meta if official else (att.published or published_meta)
    if published is None:
        published = parse_iso(guess())
    if published is None:
        published = att.dateline
    if modified == published:
        modified = None
    return published, modified


def host_publisher(host: str | None) -> str | None:
    """Who publishes on a State Department or embassy host, or None for other hosts."""
    if not host:
        return None
    if is_official_host(host, _STATE_HOSTS):
        return "U.S. Department of State"
    if host.endswith("usembassy.gov"):
        return "U.S. Embassy"
    return None


def publisher(
    official: bool,
    host: str | None,
    site_name: str | None,
    title_raw: str | None,
    att: Attribution,
    claimed: str | None,
    guess: Callable[[], str | None],
) -> str | None:
    """The publisher: the official host's office, else what the cut text said, else the
    claimed original's office, else the site's name (`guess`, trafilatura's, when the markup
    names none), else the host."""
    if official:
        base = host_publisher(host)
        if base == "U.S. Embassy":
            for cand in (site_name, title_suffix(title_raw)):
                if cand and _EMBASSY_WORDS.search(cand):
                    return cand.strip()
            return f"U.S. Embassy ({host})"
        return base
    if att.publisher:
        return att.publisher
    pub = host_publisher(host_of(claimed))
    if pub == "U.S. Embassy":
        return f"U.S. Embassy ({host_of(claimed)})"
    if pub or site_name:
        return pub or site_name
    # trafilatura's sitename can be a title fragment; accept only a short name
    fallback = guess()
    if fallback and len(fallback.split()) <= 5 and not TITLE_SPLIT.search(fallback):
        return fallback
    return host
