"""The page's densest content region, and how much of it an extracted text kept.

An extractor may keep only the first of several sibling content blocks (a statement split
over `<section>`s or `div.report-part`s), or return a menu instead of the article. Both show
against the region of the page that holds the most running text: the element with the most
prose among its own children, widened to its siblings of the same kind when the body is
split over several of them. `coverage` says what share of that region's prose a text kept;
`share_inside` what share of a text is the region's; `lost_sections` counts the sibling
sections of which a text kept no sentence (a section of one short sentence is no "prose", so
coverage alone misses its loss); `restore` puts the sentences of the lost sections back where
they stood; `looks_like_navigation` says whether a text reads as a list of links.

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
# elements whose text stands apart from the body's sentences: links and headings
_APART = frozenset("a h1 h2 h3 h4 h5 h6".split())
_MIN_REGION_CHARS = 400  # a region smaller than a short statement proves nothing


@dataclass(frozen=True, slots=True)
class Region:
    """The content region: its paragraphs in document order, which of them are prose, and the
    sentences of each sibling section it spans (paragraphs of running text, however short, and
    short lines that end as a sentence or a lead-in does, none mostly link or heading text), as
    indexes into `paragraphs`."""

    paragraphs: tuple[str, ...]
    prose: tuple[str, ...]
    sentences: tuple[tuple[int, ...], ...]  # per sibling section

    @property
    def sections(self) -> int:
        """Sibling content blocks the region spans."""
        return len(self.sentences)

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


def paragraphs_of(el: HtmlElement) -> list[tuple[str, bool]]:
    """The text of `el` as paragraphs in document order: one per paragraph element, one per
    run of inline text between line breaks and blocks; each with whether most of it is link
    or heading text (a "back to top" line, a section's title: not a sentence of the body)."""
    out: list[tuple[str, bool]] = []
    buf: list[tuple[str, bool]] = []

    def flush() -> None:
        t = _WS.sub(" ", "".join(piece for piece, _ in buf)).strip()
        if t:
            marked = sum(len(piece.strip()) for piece, apart in buf if apart)
            out.append((t, 2 * marked > len(t)))
        buf.clear()

    def walk(node: HtmlElement, apart: bool) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag and _excluded(node):
            return
        if tag == "br":
            flush()
            return
        block = tag not in ("", "a", "b", "i", "em", "strong", "span", "font", "u", "small", "sup", "sub")
        if block:
            flush()
        apart = apart or tag in _APART
        if node.text:
            buf.append((node.text, apart))
        for child in node:
            walk(child, apart)
            if child.tail:
                buf.append((child.tail, apart))
        if block:
            flush()

    walk(el, False)
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
    members, anchor = [best], best
    paragraphs_by: dict[HtmlElement, list[tuple[str, bool]]] = {}

    def paragraphs_cached(el: HtmlElement) -> list[tuple[str, bool]]:
        if el not in paragraphs_by:
            paragraphs_by[el] = paragraphs_of(el)
        return paragraphs_by[el]

    # a body split over sibling blocks of one kind (sections of a report): the region is all of
    # them, looked for at the element, its parent and the wrappers above (`_levels`)
    for level in _levels(best):
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
        with_prose = [s for s in same if any(_is_prose_piece(t) for t, _ in paragraphs_cached(s))]
        if len(with_prose) >= 2:
            # with them, the blocks of the kind that hold only a short line of the statement's
            # own ("Begin text:", "End text."): an extractor takes them for boilerplate
            members = [s for s in same if any(_is_sentence(p) for p in paragraphs_cached(s))]
            anchor = level
            break
    # the sections of the body hold blocks of the kinds the densest one holds; a sibling of
    # another make (an author box, a title bar next to a layout row) is region, not body
    shape = _shape(anchor)
    paragraphs: list[str] = []
    sentences: list[tuple[int, ...]] = []
    for m in members:
        start = len(paragraphs)
        own = paragraphs_cached(m)
        paragraphs.extend(t for t, _ in own)
        body = m is anchor or bool(shape & _shape(m))
        sentences.append(tuple(start + i for i, p in enumerate(own) if body and _is_sentence(p)))
    prose = tuple(p for p in paragraphs if is_prose(p))
    if sum(len(p) for p in prose) < _MIN_REGION_CHARS:
        return None
    return Region(tuple(paragraphs), prose, tuple(sentences))


def _levels(best: HtmlElement) -> list[HtmlElement]:
    """Where a body split over sibling blocks is looked for: the densest element, its parent, and
    each wrapper above that holds nothing else (a block group's inner container is the group)."""
    levels = [best]
    parent = best.getparent()
    if parent is None:
        return levels
    levels.append(parent)
    while (up := parent.getparent()) is not None and up.tag != "body":
        if [c for c in up if isinstance(c.tag, str)] != [parent]:
            break
        levels.append(up)
        parent = up
    return levels


def _shape(el: HtmlElement) -> set[tuple[str, str]]:
    """The kinds of block `el` holds (tag and class of its element children)."""
    return {_kind(child) for child in el if isinstance(child.tag, str) and child.tag not in _INLINE}


def _is_sentence(paragraph: tuple[str, bool]) -> bool:
    """A paragraph of running text, or a short line of the statement's own: a marker or a lead-in
    of two words or more that ends as a sentence or a lead-in does ("Begin text:", "End text.")."""
    text, apart = paragraph
    if apart:
        return False
    return _is_prose_piece(text) or (word_count(text) >= 2 and (ends_sentence(text) or text.endswith(":")))


def _key(text: str) -> str:
    return " ".join(_WORDS.findall(text.lower()))


def missing_chars(text: str, region: Region) -> int:
    """Characters of the region's prose that `text` does not hold."""
    return round((1.0 - coverage(text, region)) * region.prose_chars)


def _found(para: str, have: str) -> bool:
    """A paragraph is found in a text (its words lower-cased, `_key`) when its first or its
    last eight words are."""
    words = _key(para).split()
    return " ".join(words[:8]) in have or " ".join(words[-8:]) in have


def coverage(text: str, region: Region) -> float:
    """Share of the region's prose (by characters) found in `text`."""
    if not region.prose:
        return 1.0
    have = _key(text)
    found = sum(len(para) for para in region.prose if _found(para, have))
    return found / region.prose_chars


def share_inside(text: str, region: Region) -> float:
    """Share of `text` (by characters of its lines of eight words or more) that is the region's:
    a truncated extraction of the region lies inside it, an article next to a list of teasers
    or a comment thread does not."""
    have = _key(region.text)
    lines = [line for line in text.splitlines() if word_count(line) >= 8]
    total = sum(len(line) for line in lines)
    return sum(len(line) for line in lines if _found(line, have)) / total if total else 0.0


def lost_sections(text: str, region: Region) -> int:
    """Sibling sections of the region that hold a sentence and of which `text` holds none."""
    if region.sections < 2:
        return 0
    have = _key(text)
    return sum(
        1 for own in region.sentences if own and not any(_found(region.paragraphs[i], have) for i in own)
    )


def restore(text: str, region: Region) -> str:
    """`text` with the sentences of the region's lost sections (`lost_sections`) put back, each
    after the line that holds the nearest earlier paragraph of the region (a sentence, or a
    heading standing as a line of its own), or before the nearest later one when none is
    earlier (at the end when no line of `text` is the region's). `text` as it is when no
    section is lost, or when every sentence of the region is."""
    if region.sections < 2:
        return text
    have = _key(text)
    missing = {
        i for own in region.sentences if not any(_found(region.paragraphs[i], have) for i in own) for i in own
    }
    if not missing or len(missing) == sum(len(own) for own in region.sentences):
        return text
    lines = text.split("\n")
    keys = [_key(line) for line in lines]
    line_of: dict[int, int] = {}  # region paragraph -> the line of `text` that holds it
    for i, para in enumerate(region.paragraphs):
        if i in missing:
            continue
        key = _key(para)
        short = len(key.split()) < 8
        n = next((n for n, k in enumerate(keys) if (k == key if short else _found(para, k))), None)
        if n is not None and key:
            line_of[i] = n
    after: dict[int, list[str]] = {}  # line -> lost sentences to put after it (-1: before all)
    for i in sorted(missing):
        earlier = [n for j, n in line_of.items() if j < i]
        later = [n for j, n in line_of.items() if j > i]
        at = max(earlier) if earlier else (min(later) - 1 if later else len(lines) - 1)
        after.setdefault(at, []).append(region.paragraphs[i])
    out = list(after.get(-1, ()))
    for n, line in enumerate(lines):
        out.append(line)
        out.extend(after.get(n, ()))
    return "\n".join(out)


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
