"""The page's densest content region, and how much of it an extracted text kept.

An extractor may keep only the first of several sibling content blocks (a statement split
over `<section>`s or `div.report-part`s), or return a menu instead of the article. Both show
against the region of the page that holds the most running text: the element with the most
prose among its own children, widened to its siblings of the same kind when the body is
split over several of them. `coverage` says what share of that region's prose a text kept;
`looks_like_navigation` says whether a text reads as a list of links.

The region is looked for outside the parts of a page that are never the statement (navigation,
headers, footers, forms, comment threads, sidebars), so a long comment thread is not
mistaken for the content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml.html import HtmlElement

from cleaners.prose import ends_sentence, is_prose, word_count

_WS = re.compile(r"\s+")
_WORDS = re.compile(r"\w+", re.UNICODE)
# elements whose text is one paragraph of the region
_PARAGRAPHS = frozenset("p pre blockquote li dd h1 h2 h3 h4 h5 h6 td th".split())
# elements that are never the statement, nor hold it
_NEVER = frozenset("nav header footer aside form select button script style noscript template head".split())
_NEVER_NAMES = re.compile(
    r"(?:^|[\s_-])(?:comments?|reply|respond|sidebar|widgets?|footer|header|menu|nav(?:bar)?|"
    r"breadcrumbs?|related|toc|signature|postprofile)(?:$|[\s_-])",
    re.I,
)
_INLINE = frozenset(("b", "i", "em", "strong", "span", "font", "a", "u"))
_MIN_REGION_CHARS = 400  # a region smaller than a short statement proves nothing


@dataclass(frozen=True, slots=True)
class Region:
    """The content region: its paragraphs in document order, and which of them are prose."""

    paragraphs: tuple[str, ...]
    prose: tuple[str, ...]
    sections: int  # sibling content blocks the region spans

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def prose_chars(self) -> int:
        return sum(len(p) for p in self.prose)


def _is_prose_piece(text: str) -> bool:
    if not text:
        return False
    words = word_count(text)
    return words >= 8 or (words >= 4 and ends_sentence(text))


def _excluded(el: HtmlElement) -> bool:
    if el.tag in _NEVER:
        return True
    attrib = el.attrib
    if not attrib:
        return False
    names = f"{attrib.get('class') or ''} {attrib.get('id') or ''}"
    return (
        bool(names.strip() and _NEVER_NAMES.search(names))
        or "hidden" in attrib
        or (attrib.get("role") or "").lower() in ("navigation", "dialog", "banner", "contentinfo")
    )


def paragraphs_of(el: HtmlElement) -> list[str]:
    """The text of `el` as paragraphs in document order: one per paragraph element, one per
    run of inline text between line breaks and blocks."""
    out: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        t = _WS.sub(" ", "".join(buf)).strip()
        if t:
            out.append(t)
        buf.clear()

    def walk(node: HtmlElement) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag and _excluded(node):
            return
        if tag == "br":
            flush()
            return
        block = tag not in ("", "a", "b", "i", "em", "strong", "span", "font", "u", "small", "sup", "sub")
        if block:
            flush()
        if node.text:
            buf.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                buf.append(child.tail)
        if block:
            flush()

    walk(el)
    return out


def _own_prose(el: HtmlElement) -> int:
    """Characters of prose among `el`'s own children: paragraph elements and runs of text."""
    total = 0
    pieces = [el.text or ""]
    for child in el:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in _PARAGRAPHS and not _excluded(child):
            t = _WS.sub(" ", child.text_content()).strip()
            if _is_prose_piece(t):
                total += len(t)
        pieces.append(child.tail or "")
        if tag == "br" or tag in _PARAGRAPHS:
            pieces.append("\n")
        elif tag in _INLINE and next(child.iterdescendants("br", "p"), None) is None:
            pieces.append(child.text_content())
    for run in "".join(pieces).split("\n"):
        t = run.strip()
        if t and _is_prose_piece(t := _WS.sub(" ", t)):
            total += len(t)
    return total


def _kind(el: HtmlElement) -> tuple[str, str]:
    return (str(el.tag), (el.get("class") or "").strip())


def content_region(tree: HtmlElement) -> Region | None:
    """The page's densest content region, or None when no element holds enough prose."""
    body = tree.body if tree.tag == "html" else tree
    if body is None:
        return None
    best: HtmlElement | None = None
    best_score = 0
    stack = [body]
    while stack:
        el = stack.pop()
        for child in el:
            if isinstance(child.tag, str) and not _excluded(child):
                stack.append(child)
        score = _own_prose(el)
        if score > best_score:
            best, best_score = el, score
    if best is None or best_score < _MIN_REGION_CHARS // 2:
        return None
    members = [best]
    paragraphs_by: dict[HtmlElement, list[str]] = {}

    def paragraphs_cached(el: HtmlElement) -> list[str]:
        if el not in paragraphs_by:
            paragraphs_by[el] = paragraphs_of(el)
        return paragraphs_by[el]

    # a body split over sibling blocks of one kind (sections of a report): the region is all of
    # them, looked for at the element and at its parent (a section wrapping an inner div)
    for level in (best, best.getparent()):
        if level is None or level is body:
            break
        parent = level.getparent()
        if parent is None:
            break
        kind = _kind(level)
        if kind[0] not in ("section", "div", "article") or not (kind[1] or kind[0] != "div"):
            continue  # only named blocks split a body; a bare div or a cell does not
        same = [s for s in parent if isinstance(s.tag, str) and _kind(s) == kind and not _excluded(s)]
        if len(same) < 2:
            continue
        with_prose = [s for s in same if any(_is_prose_piece(p) for p in paragraphs_cached(s))]
        if len(with_prose) >= 2:
            members = with_prose
            break
    paragraphs: list[str] = []
    for m in members:
        paragraphs.extend(paragraphs_cached(m))
    prose = tuple(p for p in paragraphs if is_prose(p))
    if sum(len(p) for p in prose) < _MIN_REGION_CHARS:
        return None
    return Region(tuple(paragraphs), prose, len(members))


def _key(text: str) -> str:
    return " ".join(_WORDS.findall(text.lower()))


def missing_chars(text: str, region: Region) -> int:
    """Characters of the region's prose that `text` does not hold."""
    return round((1.0 - coverage(text, region)) * region.prose_chars)


def coverage(text: str, region: Region) -> float:
    """Share of the region's prose (by characters) found in `text`: a paragraph counts as
    found when its first or its last eight words are in `text`."""
    if not region.prose:
        return 1.0
    have = _key(text)
    found = 0
    for para in region.prose:
        words = _key(para).split()
        head, tail = " ".join(words[:8]), " ".join(words[-8:])
        if head in have or tail in have:
            found += len(para)
    return found / region.prose_chars


def looks_like_navigation(text: str, region: Region | None = None) -> bool:
    """Most lines a few words long and no sentence among them: a menu, not an article.
    With a region, also a text that is short next to it and covers none of it."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return True
    short = sum(1 for ln in lines if word_count(ln) <= 4 and not ends_sentence(ln))
    if len(lines) >= 4 and short / len(lines) >= 0.7:
        return True
    return region is not None and len(text) < region.prose_chars / 4 and coverage(text, region) == 0.0
