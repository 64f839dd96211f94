"""`clean(raw) -> Document`: the one entry point from bytes to clean text with provenance.

Order of work for a page: size cap and binary sniffing on the bytes; one decoding; the
soft-block check; one lxml parse; metadata we read ourselves (canonical, hreflang, JSON-LD,
the state.gov hero); block rules pruned from the tree; one trafilatura `bare_extraction`
on that tree, without its metadata pass; line rules over the extracted paragraphs. What the
page's own markup does not say (a title, a date, a site name) is asked of trafilatura's and
htmldate's heuristics only then (`_Fallbacks`): their full metadata pass cost more than the
extraction itself, and its extensive date search (dateparser) compiled regexes for 200
locales in every fresh worker process. trafilatura runs in its `fast` mode (no readability /
jusText comparison) and favours recall (our block and line rules remove what it then lets
through; its balanced mode would measure the whole page's text again to decide whether to
retry in recall mode): on the extraction benchmarks in bench/cleaning.py this scored as well
or better than the default after our rules, at about half the cost. Text captures skip the
HTML part and go straight to the line rules.

Nothing here touches the network, Scrapy or SQLite.
"""

from __future__ import annotations

import copy
import json
import os
import re
import threading
from datetime import date
from fnmatch import fnmatch
from urllib.parse import urljoin, urlsplit

import trafilatura
from htmldate import find_date
from lxml.html import HtmlElement, HTMLParser, fromstring
from trafilatura.metadata import extract_sitename, extract_title
from trafilatura.settings import Extractor
from trafilatura.utils import repair_faulty_html

from cleaners.blocks import prune_blocks
from cleaners.dates import parse_date, parse_iso
from cleaners.decode import decode_body, scrub, sniff_binary
from cleaners.model import Document, RawPage, Rejected, Removal, content_hash, normalise_text
from cleaners.rules import (
    DOC_TYPE_LINE,
    URL,
    Attribution,
    apply_line_rules,
    byline_speaker,
    doc_type_from_title,
)

MAX_BYTES = 5 * 1024 * 1024  # a statement page is well under 1 MiB; Common Crawl keeps 5 MiB
MIN_TEXT_CHARS = 80  # shorter than the shortest real state.gov readout
OFFICIAL_DEFAULT = ("state.gov", "*.state.gov", "*.usembassy.gov", "usembassy.gov")
STATE_HOSTS = ("state.gov", "*.state.gov")

_HTML_SNIFF = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|p|div|article|title|meta)\b", re.I)
_WS = re.compile(r"[ \t\r\f\v\u00a0]+")


_PARSERS = threading.local()


def _parser() -> HTMLParser:
    # trafilatura's parser options plus huge_tree: libxml2 otherwise drops everything nested
    # deeper than 256 elements without a word (broken markup with unclosed tags gets there).
    # One per thread: lxml parsers must not be shared between threads.
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = HTMLParser(
            collect_ids=False,
            default_doctype=False,
            encoding="utf-8",
            remove_comments=True,
            remove_pis=True,
            huge_tree=True,
        )
    return parser


def parse_html(html: str) -> HtmlElement:
    """Parse decoded HTML once, as trafilatura would (same repairs and options).

    Raises:
        Rejected: not_html when nothing parses, too_deep when libxml2 gave up on the
            nesting (beyond 2048 levels) and text was lost.
    """
    parser = _parser()
    try:
        tree = fromstring(
            repair_faulty_html(html, html[:50].lower()).encode("utf-8", "surrogatepass"), parser=parser
        )
    except Exception as err:  # lxml raises ParserError, ValueError or XMLSyntaxError on garbage
        raise Rejected("not_html", f"unparseable: {type(err).__name__}") from None
    if any("Excessive depth" in e.message for e in parser.error_log):
        raise Rejected("too_deep", "nesting beyond what the parser keeps; text would be lost")
    if tree is None or not isinstance(tree, HtmlElement):
        raise Rejected("not_html", "unparseable")
    return tree


def official_patterns() -> tuple[str, ...]:
    env = os.environ.get("DISPATCHES_OFFICIAL_DOMAINS")
    if env:
        return tuple(p.strip().lower() for p in env.split(",") if p.strip())
    return OFFICIAL_DEFAULT


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def is_official(host: str | None) -> bool:
    return bool(host) and any(fnmatch(host, p) for p in official_patterns())


def host_publisher(host: str | None) -> str | None:
    """Who publishes on an official host, or None for other hosts."""
    if not host:
        return None
    if any(fnmatch(host, p) for p in STATE_HOSTS):
        return "U.S. Department of State"
    if host.endswith("usembassy.gov"):
        return "U.S. Embassy"
    return None


# --- entry points ---------------------------------------------------------------------------


def content_type_header(raw: RawPage) -> str | None:
    """The Content-Type header, whatever the case of its name (WARC records keep theirs)."""
    headers = raw.headers or {}
    value = headers.get("content-type")
    if value is None:
        for key, val in headers.items():
            if str(key).lower() == "content-type":
                value = val
                break
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value


def page_kind(raw: RawPage) -> str:
    """'html', 'text' or 'other' from the Content-Type, the file name and the body."""
    ct = (content_type_header(raw) or "").split(";")[0].strip().lower()
    head = raw.body[:4096]
    path = (raw.source_path or urlsplit(raw.final_url or raw.url or "").path or "").lower()
    if ct in ("text/html", "application/xhtml+xml") or path.endswith((".html", ".htm", ".xhtml", ".shtml")):
        return "html"
    if ct == "text/plain" or path.endswith((".txt", ".text")):
        return "html" if head.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")) else "text"
    if _HTML_SNIFF.search(head):
        if ct and (
            ct.endswith(("xml", "json", "javascript"))
            or ct.startswith(("image/", "audio/", "video/", "font/"))
        ):
            # a feed or an API answer that happens to contain tags is not a page
            if not re.search(rb"<\s*(?:!doctype\s+html|html)\b", head, re.I):
                return "other"
        return "html"
    if ct in ("", "application/octet-stream", "binary/octet-stream", "text/x-plain"):
        return "text"
    return "other"


_EXTRACTOR = Extractor(
    output_format="python", fast=True, recall=True, comments=False, tables=True, with_metadata=False
)


def _extractor(url: str | None) -> Extractor:
    """trafilatura's options for one page: a copy of one prepared Extractor (building one
    reads its settings from a ConfigParser, about a quarter of a millisecond)."""
    opts = copy.copy(_EXTRACTOR)
    opts.url = url
    opts.source = url and url.encode("utf-8", "replace").decode("utf-8")
    return opts


def clean(raw: RawPage) -> Document:
    """Turn a fetched page or a file into a Document.

    Raises:
        Rejected: with reason too_large, empty_body, binary_payload, not_html,
            soft_block, too_short or boilerplate_only.
    """
    body = raw.body or b""
    if len(body) > MAX_BYTES:
        raise Rejected("too_large", f"{len(body)} bytes > {MAX_BYTES}")
    if not body.strip():
        raise Rejected("empty_body")
    binary = sniff_binary(body)
    if binary:
        raise Rejected("binary_payload", binary)
    kind = page_kind(raw)
    if kind == "other":
        raise Rejected("not_html", content_type_header(raw) or "unknown type")
    decoded = decode_body(body, content_type_header(raw))
    text = decoded.text  # C0 controls already gone; outputs are scrubbed at the end
    if kind == "text":
        text = scrub(text)
    if not text.strip():
        raise Rejected("empty_body")
    url = raw.final_url or raw.url
    if kind == "text":
        return clean_text(text, url=url, source_path=raw.source_path, encoding=decoded.encoding)
    return _clean_html(text, raw, url, decoded.encoding)


def clean_text(
    text: str, *, url: str | None = None, source_path: str | None = None, encoding: str | None = None
) -> Document:
    """Clean a text capture (no markup): line rules only; the title is picked from the head.

    Raises:
        Rejected: too_short, boilerplate_only, empty_body.
    """
    text = scrub(text)
    if not text.strip():
        raise Rejected("empty_body")
    paragraphs = split_paragraphs(text)
    att = Attribution()
    # A title repeated on the first two lines is the title (seed 004's form).
    title = None
    if len(paragraphs) >= 2 and normalise_text(paragraphs[0]) == normalise_text(paragraphs[1]):
        title = paragraphs[0].strip()
    kept, removals, head_lines = apply_line_rules(paragraphs, title=title, att=att, head_zone=True)
    title_at = 1 if title is not None else _title_position(head_lines, att.head_marks)
    if title is None and title_at is not None:
        title = paragraphs[title_at]
    # above the title: the aggregator's own header; below it: the statement's first lines
    # (a remark's location, a schedule's time), which are body
    body_head = []
    for i, line in head_lines:
        if title_at is not None and i > title_at:
            body_head.append(line)
        else:
            removals.append(Removal("title_line" if i == title_at else "header_line", line))
    kept = body_head + kept
    byline_speaker(att, kept)
    body = "\n\n".join(kept)
    _check_length(body, removals)
    claimed = _plausible_claim(att.claimed_original, url)
    publisher = att.publisher or host_publisher(host_of(claimed)) or host_publisher(host_of(url))
    return Document(
        url=url,
        title=title,
        text=body,
        published=att.published or att.dateline,
        publisher=publisher,
        language=detect_language(body),
        claimed_original=claimed,
        removed=tuple(removals),
        content_hash=content_hash(body),
        speaker=att.speaker,
        doc_type=att.doc_type or doc_type_from_title(title),
        source_line=att.source_line,
        tags=tuple(att.tags),
        encoding=encoding,
    )


# --- HTML -----------------------------------------------------------------------------------


def _clean_html(html: str, raw: RawPage, url: str | None, encoding: str) -> Document:
    tree = parse_html(html)
    reason = _soft_block_title(tree)
    if reason:
        raise Rejected("soft_block", reason)
    host = host_of(url)
    official = is_official(host)
    meta = _metas(tree)
    ld = _json_ld(tree)
    site_name = meta.get("og:site_name") or None
    att = Attribution()

    # provenance written in the page, read before any pruning
    scanned = _scan_attribution(tree, html, url)
    if scanned:
        att.claim(scanned[0])
    canonical = _canonical(tree, meta, url)
    hero = _state_hero(tree) if "featured-content__headline" in html or "doctype-meta" in html else {}
    tags = _tags(tree, meta)

    page_chars = len(tree.body.text_content()) if tree.body is not None else len(html)
    removals = prune_blocks(tree, host, page_chars)

    try:
        result = trafilatura.bare_extraction(tree, options=_extractor(url))
    except (ValueError, TypeError, RecursionError, MemoryError) as err:
        raise Rejected("boilerplate_only", f"extraction failed: {type(err).__name__}") from err
    if result is None or len(result.text or "") < 1500:
        # only a page with little text can be a block page; the full check is not free
        reason = _soft_block_in_tree(tree, raw.status)
        if reason:
            raise Rejected("soft_block", reason)
        if _NOT_FOUND.search(_title_tag(tree) or "") or any(
            _NOT_FOUND.search(h.text_content()) for h in tree.xpath("//h1")[:2]
        ):
            # a "soft 404": the page is gone even though the server said 200
            raise Rejected("not_found", "page-not-found template")
    if result is None or not (result.text or "").strip():
        raise Rejected("boilerplate_only" if page_chars >= MIN_TEXT_CHARS else "too_short", "no main text")

    fallbacks = _Fallbacks(tree, url)
    title = _title(tree, meta, ld, hero, fallbacks, site_name, host)
    title = scrub(title) if title else None
    paragraphs = split_paragraphs(result.text)
    kept, line_removals, _ = apply_line_rules(paragraphs, title=title, att=att, official=official)
    if kept and title and _longer_title(kept[0], title):
        removals.append(Removal("repeated_title", kept[0]))
        title = kept.pop(0)
    removals.extend(line_removals)
    if scanned and not any(scanned[1] in r.text or r.text in scanned[1] for r in removals):
        # the sentence that gave the claim, when extraction had already left it out
        removals.append(Removal(scanned[2], scanned[1]))
    byline_speaker(att, kept)
    body = scrub("\n\n".join(kept))
    _check_length(body, removals)

    claimed = _plausible_claim(att.claimed_original, url)
    if claimed is None and canonical and _plausible_canonical(canonical, url, title):
        claimed = canonical

    published_meta = (
        hero.get("date")
        or parse_iso(meta.get("article:published_time"))
        or parse_iso(ld.get("datePublished"))
        or parse_iso(meta.get("og:published_time") or meta.get("date") or meta.get("dc.date"))
    )
    modified = parse_iso(meta.get("article:modified_time") or meta.get("og:updated_time")) or parse_iso(
        ld.get("dateModified")
    )
    published = published_meta if official else (att.published or published_meta)
    if published is None:
        published = parse_iso(fallbacks.date())
    if published is None:
        published = att.dateline
    if modified == published:
        modified = None

    doc_type = hero.get("doc_type") or att.doc_type or doc_type_from_title(title)
    if doc_type is None and ("cat-links" in html or "category" in html or "article:section" in meta):
        doc_type = _category_doc_type(tree, meta)
    publisher = _publisher(
        official,
        host,
        site_name,
        title_raw=meta.get("og:title") or _title_tag(tree),
        att=att,
        claimed=claimed,
        fallback=fallbacks.sitename,
    )
    language = detect_language(body) or _html_lang(tree)
    translation_of = None
    if language and language != "en":
        translation_of = (
            (raw.meta or {}).get("translation_of")
            or (raw.meta or {}).get("english_original")
            or _hreflang_en(tree, url)
        )
        if not isinstance(translation_of, str):
            translation_of = None
    for t in att.tags:
        if t not in tags:
            tags.append(t)
    return Document(
        url=url,
        title=title,
        text=body,
        published=published,
        publisher=publisher,
        language=language,
        claimed_original=claimed,
        removed=tuple(removals),
        content_hash=content_hash(body),
        speaker=att.speaker,
        doc_type=doc_type,
        modified=modified,
        canonical=canonical,
        source_line=att.source_line,
        translation_of=translation_of,
        tags=tuple(tags),
        encoding=encoding,
    )


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of a text: blank-line blocks, each line its own paragraph unless the
    block is hard-wrapped prose (then its lines are joined)."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [_WS.sub(" ", ln).strip() for ln in block.split("\n")]
        lines = [ln for ln in lines if ln]
        if not lines:
            continue
        if len(lines) > 1 and all(
            45 <= len(ln) <= 100 and not ln.endswith((".", "!", "?", ":")) for ln in lines[:-1]
        ):
            out.append(" ".join(lines))
        else:
            out.extend(lines)
    return out


def _title_position(head_lines: list[tuple[int, str]], marks: list[tuple[int, str]]) -> int | None:
    """Which unclaimed line above the body of a text capture is the title: the last one
    before the source header ("U.S. Embassy - Mexico"), else the first after the date line,
    else the longest."""
    if not head_lines:
        return None
    sources = [i for i, rule in marks if rule == "source_header"]
    if sources:
        before = [i for i, _ in head_lines if i < sources[0]]
        if before:
            return before[-1]
    dates = [i for i, rule in marks if rule == "dateline"]
    if dates:
        after = [i for i, _ in head_lines if i > dates[0]]
        if after:
            return after[0]
    return max(reversed(head_lines), key=lambda item: len(item[1].split()))[0]


def _check_length(body: str, removals: list[Removal]) -> None:
    if len(body) >= MIN_TEXT_CHARS:
        return
    if not body.strip() and removals:
        raise Rejected("boilerplate_only", f"{len(removals)} cruft spans, no body")
    raise Rejected("too_short", f"{len(body)} characters")


def _metas(tree: HtmlElement) -> dict[str, str]:
    out: dict[str, str] = {}
    for el in tree.iterfind(".//meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        value = el.get("content")
        if key and value and key not in out:
            out[key] = value.strip()
    return out


def _json_ld(tree: HtmlElement) -> dict[str, object]:
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


def _canonical(tree: HtmlElement, meta: dict[str, str], url: str | None) -> str | None:
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


def _state_hero(tree: HtmlElement) -> dict[str, object]:
    """Title, document type and date from the state.gov hero block, when there is one."""
    hero: dict[str, object] = {}
    heads = tree.xpath("//*[contains(@class,'featured-content__headline')]")
    if heads:
        hero["title"] = _WS.sub(" ", heads[0].text_content()).strip()
    types = tree.xpath("//*[contains(@class,'doctype-meta')]")
    if types:
        t = _WS.sub(" ", types[0].text_content()).strip()
        m = DOC_TYPE_LINE.match(t)
        if t:
            hero["doc_type"] = m.group("type").lower() if m else t.lower()
    dates = tree.xpath("//*[contains(@class,'article-meta__publish-date')]")
    if dates:
        hero["date"] = parse_date(dates[0].text_content())
    return hero


def _tags(tree: HtmlElement, meta: dict[str, str]) -> list[str]:
    tags: list[str] = []
    for el in tree.xpath(
        "//a[contains(concat(' ', normalize-space(@rel), ' '), ' tag ') and not(contains(@rel, 'category'))]"
    ):
        t = _WS.sub(" ", el.text_content()).strip()
        if t and t not in tags and len(t) < 60:
            tags.append(t)
    for el in tree.xpath("//meta[@property='article:tag']/@content"):
        t = el.strip()
        if t and t not in tags:
            tags.append(t)
    return tags[:30]


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
_ATTR_QUICK = (
    "official news published",
    "originally published",
    "originally posted",
    "originally appeared",
    "republished",
)


def _scan_attribution(tree: HtmlElement, html: str, url: str | None) -> tuple[str, str, str] | None:
    """(url, sentence, rule) of an attribution sentence in the page and the URL it names or
    links to ("Official news published at <a href=...>", "This article was originally
    published on <a href=...>"), or None."""
    if not any(q in html for q in _ATTR_TEXT):
        return None
    own = _site_key(host_of(url))
    for phrase in _ATTR_TEXT:
        for node in tree.xpath(f"//body//text()[contains(., '{phrase}')]"):
            el = node.getparent()
            if el is None:
                continue
            if el.tag in ("a", "em", "strong", "b", "i", "span") and el.getparent() is not None:
                el = el.getparent()
            text = _WS.sub(" ", el.text_content()).strip()
            if len(text.split()) > 60:
                continue
            candidates = [m.group(0) for m in URL.finditer(text)] + [h for h in el.xpath(".//a/@href")]
            for cand in candidates:
                full = urljoin(url or "", cand.strip())
                h = host_of(full)
                if h and full.startswith(("http://", "https://")) and _site_key(h) != own:
                    rule = (
                        "official_news_published_at"
                        if phrase.startswith("fficial")
                        else "read_more_at"
                        if phrase.startswith("ead ")
                        else "originally_published_at"
                    )
                    return full, text, rule
    return None


def _site_key(host: str | None) -> str:
    return (host or "").removeprefix("www.")


def _plausible_claim(claim: str | None, url: str | None) -> str | None:
    """An attribution URL, unless it points back to the page's own site or a home page."""
    if not claim:
        return None
    h = host_of(claim)
    if not h or (url and _site_key(h) == _site_key(host_of(url))):
        return None
    if urlsplit(claim).path in ("", "/"):
        return None
    return claim


_SLUG_WORD = re.compile(r"[a-z0-9]+")
_STOP = {
    "the",
    "a",
    "an",
    "of",
    "on",
    "in",
    "and",
    "to",
    "for",
    "with",
    "at",
    "by",
    "s",
    "html",
    "htm",
    "php",
    "www",
}


def _plausible_canonical(canonical: str, url: str | None, title: str | None) -> bool:
    """rel=canonical names another host: trusted only when its slug says the same as the title."""
    ch, uh = host_of(canonical), host_of(url)
    if not ch or not uh or _site_key(ch) == _site_key(uh) or ch.endswith("archive.org"):
        return False
    path = urlsplit(canonical).path
    if path in ("", "/") or not title:
        return False
    slug = {w for w in _SLUG_WORD.findall(path.lower()) if w not in _STOP and not w.isdigit()}
    words = {w for w in _SLUG_WORD.findall(normalise_text(title)) if w not in _STOP}
    if len(slug) < 2 or not words:
        return False
    return len(slug & words) / len(slug) >= 0.5


# --- titles and publishers ------------------------------------------------------------------

_TITLE_SPLIT = re.compile(r"\s+[|–—-]\s+|\s+::\s+|\s+»\s+")
_SITE_LIKE = re.compile(
    r"department\s+of\s+state|state\.gov|embass(?:y|ies)|consulates?|u\.?\s?s\.?\s+mission|usembassy|"
    r"\bnews\b|\bnewswire\b|\bwire\b|\bpress\b|\bonline\b|\.com\b|\.org\b|\.net\b",
    re.I,
)


def _title_tag(tree: HtmlElement) -> str | None:
    els = tree.xpath("//head/title") or tree.xpath("//title")
    if not els:
        return None
    t = _WS.sub(" ", els[0].text_content()).strip()
    return t or None


def strip_title_suffix(title: str, site_name: str | None = None, host: str | None = None) -> str:
    """'Title - United States Department of State' -> 'Title'; also 'Site | Title'."""
    parts = [p for p in _TITLE_SPLIT.split(title.strip()) if p]
    host_words = set(_SLUG_WORD.findall((host or "").lower())) - {
        "www",
        "com",
        "org",
        "net",
        "gov",
        "example",
    }
    if len(parts) == 1 and ": " in title:
        # "Labor Watch Blog: Title" on laborwatch.example
        head, _, rest = title.partition(": ")
        squashed = re.sub(r"[^a-z0-9]", "", normalise_text(head))
        if (
            rest.strip()
            and len(head.split()) <= 4
            and any(len(w) >= 4 and squashed.startswith(w) for w in host_words)
        ):
            return rest.strip()
    if len(parts) < 2:
        return title.strip()
    site_key = normalise_text(site_name) if site_name else None
    if site_key and any(normalise_text(p) == site_key for p in parts):
        parts = [p for p in parts if normalise_text(p) != site_key]
        return _rejoin(title.strip(), parts)

    def site_like(seg: str) -> bool:
        key = normalise_text(seg)
        if site_key and (key == site_key or key in site_key or site_key in key):
            return True
        if host_words and set(_SLUG_WORD.findall(key)) <= host_words | {"the"}:
            return True
        return len(seg.split()) <= 8 and _SITE_LIKE.search(seg) is not None

    while len(parts) > 1 and site_like(parts[-1]):
        parts.pop()
    while len(parts) > 1 and site_like(parts[0]) and len(parts[0].split()) <= 6:
        parts.pop(0)
    return _rejoin(title.strip(), parts)


def _rejoin(kept: str, parts: list[str]) -> str:
    """The span of the original title from the first to the last kept part (separators
    inside it were part of the title: "U.S.-Mexico - Joint Statement" stays whole)."""
    start = kept.find(parts[0])
    end = kept.rfind(parts[-1]) + len(parts[-1])
    return kept[start:end].strip() if start >= 0 and end > start else " - ".join(parts)


def _longer_title(line: str, title: str) -> bool:
    """The first paragraph is the statement's own title and the page's title a shorter
    form of it ("Embassy funds shelters" / "U.S. Embassy Funds Shelter Network for ...")."""
    words = line.split()
    if not 3 <= len(words) <= 20 or line.rstrip().endswith((".", "!", "?", ":", '"', "\u201d")):
        return False
    capitalised = [w for w in words if len(w) > 3]
    if not capitalised or sum(w[0].isupper() for w in capitalised) / len(capitalised) < 0.6:
        return False
    tw = {w for w in _SLUG_WORD.findall(normalise_text(title)) if w not in _STOP}
    lw = {w for w in _SLUG_WORD.findall(normalise_text(line)) if w not in _STOP}
    return bool(tw) and len(tw & lw) / len(tw) >= 0.6 and len(lw) >= len(tw)


def _is_site_name(candidate: str, site_name: str | None, host: str | None) -> bool:
    key = normalise_text(candidate)
    if site_name and key == normalise_text(site_name):
        return True
    if host and len(key.split()) <= 4:
        # "Labor Watch Blog" on laborwatch.example
        label = next((p for p in host.split(".") if p not in ("www", "m", "blog", "news")), "")
        squashed = re.sub(r"[^a-z0-9]", "", key)
        if len(label) >= 4 and squashed.startswith(label):
            return True
    if re.match(r"^u\.?\s?s\.?\s+(?:embassy|mission|consulates?)\b.{0,50}$", key) and len(key.split()) <= 8:
        return True
    return key in ("united states department of state", "u.s. department of state", "home")


class _Fallbacks:
    """trafilatura's and htmldate's guesses for what the markup did not state, each computed
    only when asked (one page's worth; the tree is the pruned one extraction saw)."""

    def __init__(self, tree: HtmlElement, url: str | None) -> None:
        self.tree, self.url = tree, url

    def title(self) -> str | None:
        return extract_title(self.tree)

    def date(self) -> str | None:
        # no extensive search: dateparser's locale detection is slow and finds, in running text,
        # dates that are not the publication's; the dateline rules cover captured text
        return find_date(
            self.tree,
            url=self.url,
            original_date=True,
            extensive_search=False,
            max_date=date.today().isoformat(),
        )

    def sitename(self) -> str | None:
        return extract_sitename(self.tree)


def _title(tree, meta, ld, hero, fallbacks: _Fallbacks, site_name, host) -> str | None:
    if hero.get("title"):
        return str(hero["title"])
    candidates = [
        meta.get("og:title"),
        meta.get("twitter:title"),
        ld.get("headline") if isinstance(ld.get("headline"), str) else None,
        fallbacks.title,
        _title_tag(tree),
    ]
    for h1 in tree.xpath("//h1"):
        candidates.append(_WS.sub(" ", h1.text_content()).strip())
    for cand in candidates:
        if callable(cand):
            cand = cand()
        if not cand:
            continue
        cand = _WS.sub(" ", cand).strip()
        stripped = strip_title_suffix(cand, site_name, host)
        if stripped and not _is_site_name(stripped, site_name, host):
            return stripped
    return None


def _publisher(official, host, site_name, title_raw, att: Attribution, claimed, fallback) -> str | None:
    if official:
        base = host_publisher(host)
        if base == "U.S. Embassy":
            for cand in (site_name, _title_suffix(title_raw)):
                if cand and re.search(r"embass|consulat|mission|embajada|ambassade|embaixada", cand, re.I):
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
    fallback = fallback()
    if fallback and len(fallback.split()) <= 5 and not _TITLE_SPLIT.search(fallback):
        return fallback
    return host


def _category_doc_type(tree: HtmlElement, meta: dict[str, str]) -> str | None:
    """A document type named by the post's categories ("Press Releases" -> "press release")."""
    names: list[str] = []
    if meta.get("article:section"):
        names.append(meta["article:section"])
    for el in tree.xpath(
        "//*[contains(@class,'cat-links')] | //a[contains(concat(' ', normalize-space(@rel), ' '), ' category ')]"
    )[:4]:
        names.extend(re.split(r"\s*[,|;/]\s*", _WS.sub(" ", el.text_content())))
    for name in names:
        key = re.sub(r"^(?:topics?|categories|category)\s*:\s*", "", name.strip().lower())
        m = DOC_TYPE_LINE.match(key)
        if m:
            return m.group("type").lower()
    return None


def _title_suffix(title: str | None) -> str | None:
    if not title:
        return None
    parts = _TITLE_SPLIT.split(title)
    return parts[-1] if len(parts) > 1 else None


def _html_lang(tree: HtmlElement) -> str | None:
    lang = tree.get("lang") or tree.get("xml:lang")
    if lang:
        return lang.split("-")[0].split("_")[0].lower()[:3] or None
    return None


def _hreflang_en(tree: HtmlElement, url: str | None) -> str | None:
    for el in tree.xpath("//link[@rel='alternate'][@hreflang]"):
        lang = (el.get("hreflang") or "").lower()
        if lang in ("en", "en-us", "en-gb") and el.get("href"):
            full = urljoin(url or "", el.get("href").strip())
            if full != url:
                return full
    return None


_langid = None
# The commonest English function words. In running English they are 40-55 % of the words; in
# Spanish, French or Portuguese prose, under 10 % (only "a", "no", "on" overlap).
_EN_FUNCTION = frozenset(
    "about after all also an and any are at be been between both but by can could did during each for from had "
    "has have he her his how if in into is it its may more most must not of on one only or other our out over "
    "said she should so some such than that the their them there these they this those through to under until "
    "up upon was we were what when where which while who will with would you your".split()
)
_ASCII_WORD = re.compile(r"[A-Za-z]+")


def _plainly_english(sample: str) -> bool:
    """Prose that is plainly English: at least 40 words, nearly all of the letters ASCII, and
    English function words at least a quarter of the words. Anything less clear goes to py3langid."""
    words = _ASCII_WORD.findall(sample)
    if len(words) < 40:
        return False
    letters = sum(map(len, words))
    if letters < 0.9 * sum(map(str.isalpha, sample)):
        return False
    hits = sum(map(_EN_FUNCTION.__contains__, map(str.lower, words)))
    return hits >= 0.25 * len(words)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text, None for too little text.

    py3langid decides, except for prose that is plainly English by its function words (most of
    what Dispatches reads): that check costs about 1/20 of a py3langid call, and a worker that
    only ever sees English never loads py3langid's model (about a second of CPU)."""
    global _langid
    sample = text[:800]
    if len(sample.strip()) < 40:
        return None
    if _plainly_english(sample):
        return "en"
    if _langid is None:
        import py3langid

        _langid = py3langid
    lang, _ = _langid.classify(sample)
    return lang


# --- soft blocks ----------------------------------------------------------------------------

_SOFT_TITLES = (
    ("technical difficulties", "technical_difficulties"),
    ("access denied", "access_denied"),
    ("attention required", "captcha"),
    ("just a moment", "captcha"),
    ("are you a robot", "captcha"),
    ("verify you are human", "captcha"),
    ("request rejected", "access_denied"),
    ("request unsuccessful", "access_denied"),
    ("forbidden", "access_denied"),
    ("service unavailable", "unavailable"),
    ("site maintenance", "unavailable"),
    ("temporarily unavailable", "unavailable"),
    ("too many requests", "rate_limited"),
)
# anchored: "Page Not Found - Site", "404 | Site", "Oops! That page can't be found" (not a headline about something not found)
_NOT_FOUND = re.compile(
    r"^\W*(?:error\s*)?(?:404\b|page\s+not\s+found|not\s+found\b|nothing\s+found|oops!?\s+that\s+page\s+can.t\s+be\s+found|"
    r"página\s+no\s+encontrada|page\s+introuvable)",
    re.I,
)
_CAPTCHA_MARKUP = re.compile(
    r"g-recaptcha|h-captcha|hcaptcha\.com|cf-challenge|cf_chl_|challenge-platform|/captcha", re.I
)


def _soft_block_title(tree: HtmlElement) -> str | None:
    title = (_title_tag(tree) or "").lower()
    if len(title) > 80:
        return None
    for phrase, reason in _SOFT_TITLES:
        if phrase in title:
            return reason
    return None


def _soft_block_in_tree(tree: HtmlElement, status: int = 200) -> str | None:
    reason = _soft_block_title(tree)
    if reason:
        return reason
    body = tree.body if tree.body is not None else tree
    if len(body.text_content()) > 30000:
        return None  # a page with this much text (scripts included) is not a block page
    # text without scripts/styles
    texts = body.xpath(
        ".//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)]"
    )
    visible = _WS.sub(" ", " ".join(texts)).strip()
    if len(visible) >= 1500:
        return None
    headings = " ".join(_WS.sub(" ", h.text_content()) for h in body.xpath(".//h1|.//h2")[:3]).lower()
    tiny = len(visible) < 400
    low = visible.lower()
    for phrase, reason in _SOFT_TITLES:
        if phrase in headings or (tiny and phrase in low):
            return reason
    html_bits = " ".join(
        tree.xpath("//script/@src")
        + tree.xpath("//form/@action")
        + tree.xpath("//div/@class")
        + tree.xpath("//iframe/@src")
    )
    if _CAPTCHA_MARKUP.search(html_bits) or "captcha" in low:
        return "captcha"
    if len(visible) < 60 and tree.xpath("//script"):
        return "empty_shell"
    return None


def soft_block_reason(raw: RawPage) -> str | None:
    """Why a 200 response is a block page rather than content ("technical_difficulties",
    "access_denied", "captcha", "empty_shell", ...), or None. For the crawler to count."""
    body = raw.body or b""
    if not body.strip() or len(body) > MAX_BYTES or sniff_binary(body):
        return None
    if page_kind(raw) != "html":
        return None
    try:
        tree = parse_html(decode_body(body, content_type_header(raw)).text)
    except Rejected:
        return None
    return _soft_block_in_tree(tree, raw.status)
