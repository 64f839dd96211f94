"""Source lines in plain text, or a link in a line of its own: where a copy names its original
at an edge of its text.

Mail archives, forum posts, PDF conversions and portals often name the original as text, not
as a link: "Link: <url>", "Original at: <url>", "来源：<url>", or the label on one line and the
URL on the next (as mail clients and PDF converters break lines). What these share is again
their shape: a paragraph of its own at an edge of the text (before the first paragraph of
prose, after the last, or the first or last line of the box holding the text) whose only
content besides a label of a few words is one URL on an official host. A URL inside a
sentence, or a paragraph listing several URLs, is a reference, not a claim.

The labels, links and cards of `cleaners.edgelinks` are judged block by block; here the page's
text is read as paragraphs of lines (line breaks and block boundaries), so a line counts even
when it shares its block with the text: a post's last line "Original link: <link>", a field of
an article's info line ("Date: ... | Source: <link>"), a label line over a line holding only a
link. A line that is only a link claims when its text is a host, the page's title or a short
label ("Original link") and the link goes to a statement's page, not a section.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from cleaners.edgelinks import (
    BLOCKS,
    INLINE,
    LABEL_END,
    MARK,
    MAX_BLOCK_WORDS,
    MAX_LABEL_WORDS,
    MAX_LONG_LABEL,
    POINTER,
    STRIP,
    edge_label,
    is_label,
    label_words,
    official_links,
    statement_path,
    text_of,
)
from cleaners.html import WS
from cleaners.prose import ends_sentence, is_prose, word_count
from cleaners.urls import DEFAULT_OFFICIAL_DOMAINS, host_of, is_official_host, site_key

_BREAKS = frozenset("br".split())
_PARA_TAGS = BLOCKS | frozenset("pre h1 h2 h3 h4 h5 h6 ul ol table tr article main body hr".split())
_BOXES = frozenset("pre div td blockquote article section main body".split())
_SKIP = frozenset("script style noscript template head title".split())
_URL_LINE = re.compile(r"^(?P<label>[^<>]{0,60}?)\s*<?(?P<url>https?://[^\s<>\"']+?)>?\s*$")
_LABEL_LINE = re.compile(r"^[^\s:：﹕][^:：﹕]{0,40}[:：﹕]$")
# between the fields of an info line: "2024-01-05 | Source: <link> | Views: 12", "来源：X　作者：Y"
_FIELD_SEP = re.compile(r"\s*[|·•│¦]\s*|\u3000+")
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())

Piece = tuple[HtmlElement, str, int, str]  # element, "text" or "tail", offset in it, the text
Anchors = dict[int, tuple[HtmlElement, str]]  # id of a link -> (the link, its address)


def _stream(el: HtmlElement, out: list[Piece | str]) -> None:
    """The body's text in document order: text pieces, "\\n" for a line break, "\\n\\n" for a
    block boundary."""
    if not isinstance(el.tag, str) or el.tag in _SKIP:
        return
    tag = el.tag.lower()
    if tag in _PARA_TAGS:
        out.append("\n\n")
    if tag in _BREAKS:
        out.append("\n")
    if el.text:
        out.append((el, "text", 0, el.text))
    for child in el:
        _stream(child, out)
        if child.tail:
            out.append((child, "tail", 0, child.tail))
    if tag in _PARA_TAGS:
        out.append("\n\n")


def _paragraphs(body: HtmlElement) -> list[list[list[Piece]]]:
    """Paragraphs of lines, each line the text pieces it is made of."""
    stream: list[Piece | str] = []
    _stream(body, stream)
    paras: list[list[list[Piece]]] = [[[]]]
    line_has = para_has = False  # the current line / paragraph holds text (not only spaces)
    for item in stream:
        parts: list[Piece | str]
        if isinstance(item, str):
            parts = [item]
        else:
            el, attr, _, text = item
            parts, at = [], 0
            for chunk in re.split(r"(\n)", text):
                if chunk == "\n":
                    parts.append("\n")
                elif chunk:
                    parts.append((el, attr, at, chunk))
                at += len(chunk)
        for part in parts:
            lines = paras[-1]
            if isinstance(part, str):
                if part == "\n\n" or not line_has:
                    if para_has:
                        paras.append([[]])
                    else:
                        lines[-1] = []
                    para_has = False
                else:
                    lines.append([])
                line_has = False
            else:
                lines[-1].append(part)
                if part[3].strip():
                    line_has = para_has = True
    out = []
    for para in paras:
        kept = [line for line in para if _line_text(line)]
        if kept:
            out.append(kept)
    return out


def _line_text(line: list[Piece]) -> str:
    return WS.sub(" ", "".join(p[3] for p in line)).strip()


def _plain_claim(text: str, own: str | None, official: tuple[str, ...]) -> str | None:
    """The official URL of a line that holds nothing else but a short label, or None."""
    m = _URL_LINE.match(text)
    if m is None:
        return None
    url = m.group("url").rstrip(".,;)]）】」』")
    host = host_of(url)
    if not is_official_host(host, official) or (own and site_key(host) == own):
        return None
    if urlsplit(url).path in ("", "/"):
        return None
    bare = m.group("label").strip(STRIP)
    if not bare:
        return url
    if "http" in bare or POINTER.search(bare):
        return None
    if label_words(bare) > MAX_LABEL_WORDS:
        return url if edge_label(bare, url) else None
    return url if bare.endswith(tuple(LABEL_END)) or not ends_sentence(bare) else None


def _href_of(piece: Piece, anchors: Anchors) -> str | None:
    """The official link a text piece is the text of, if any (through inline elements)."""
    el, attr, _, _ = piece
    holder = el if attr == "text" else el.getparent()
    for node in [holder, *holder.iterancestors()] if holder is not None else []:
        hit = anchors.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        if not isinstance(node.tag, str) or node.tag.lower() not in INLINE:
            return None
    return None


def _link_claim(line: list[Piece], anchors: Anchors, title: str, bare_only: bool = False) -> str | None:
    """The official URL a line links when the line is a source line: one official link and, in
    the field of the line that holds it ("Date: ... | Source: <link> | Views: 12"), nothing but
    a short label; or the link alone, its text a host, the page's title or a short label
    ("Original link"). `bare_only`: the label stands on the line above, the link must be alone."""
    if not anchors:
        return None
    hrefs = [_href_of(p, anchors) for p in line]
    linked = {h for h in hrefs if h}
    if len(linked) != 1:
        return None
    href = linked.pop()
    anchor = WS.sub(" ", "".join(p[3] for p, h in zip(line, hrefs, strict=True) if h == href)).strip()
    full = _line_text(line)
    if not anchor or label_words(full) > MAX_BLOCK_WORDS or is_prose(full):
        return None
    marked = full.replace(anchor, " \x00 ", 1)
    field = next((f for f in _FIELD_SEP.split(marked) if "\x00" in f), marked)
    bare = field.replace("\x00", " ").strip(STRIP)
    if bare:
        if bare_only or "http" in bare:
            return None
        if label_words(anchor) > MAX_LONG_LABEL and not is_label("", anchor, title):
            return None
        return href if is_label(bare, anchor, title) or edge_label(bare, href) else None
    if is_label("", anchor, title):
        return href
    short = label_words(anchor) <= MAX_LABEL_WORDS and not ends_sentence(anchor)
    return href if short and not POINTER.search(anchor) and statement_path(href) else None


def _is_label_line(text: str, long: bool = False) -> bool:
    """A line that is a label only ("Source:", "原文链接："); `long`: a label of a few more words
    over a URL line ("Document downloaded from the Department's website:")."""
    if long:
        fits = text.endswith(tuple(LABEL_END)) and label_words(text) <= MAX_LONG_LABEL and len(text) <= 90
        return fits and not ends_sentence(text[:-1]) and not POINTER.search(text)
    return bool(_LABEL_LINE.match(text)) and label_words(text) <= MAX_LABEL_WORDS and not POINTER.search(text)


def _url_line(line: list[Piece], own: str | None, official: tuple[str, ...], anchors: Anchors) -> str | None:
    """The official URL of a line that holds nothing but it (as text or as a link)."""
    m = _URL_LINE.match(_line_text(line))
    if m and not m.group("label").strip():
        return _plain_claim(_line_text(line), own, official)
    return _link_claim(line, anchors, "", bare_only=True)


def _own_line(line: list[Piece], anchors: Anchors) -> str:
    """How a line of a longer paragraph may be a source line of its own: "label" (a label
    ending in a colon, then a URL or an official link), "bare" (only a URL or a link), or ""."""
    text = _line_text(line)
    if len(text) > 300:
        return ""
    m = _URL_LINE.match(text)
    if m is None and not any(_href_of(p, anchors) for p in line):
        return ""
    label = m.group("label") if m else text.split(":")[0] + ":" if ":" in text else ""
    label = label.strip(STRIP)
    if not label:
        return "bare"
    return "label" if label.endswith(tuple(LABEL_END)) and label_words(label) <= MAX_LABEL_WORDS else ""


def _split_edges(paras: list[list[list[Piece]]], anchors: Anchors) -> list[list[list[Piece]]]:
    """Paragraphs with a source line as their first or last line (a post's text and a "Link:"
    line under it with one line break between) split in two. A URL line that continues a
    sentence of the lines above it stays where it is."""
    out: list[list[list[Piece]]] = []
    for para in paras:
        if len(para) < 2:
            out.append(para)
            continue
        head: list[list[Piece]] = []
        tail: list[list[Piece]] = []
        kind = _own_line(para[-1], anchors)
        before = _line_text(para[-2])
        if kind == "label" or (
            kind == "bare" and (ends_sentence(before) or _is_label_line(before, long=True))
        ):
            k = 2 if _is_label_line(before, long=True) else 1
            if k < len(para):  # else the whole paragraph is the source line
                para, tail = para[:-k], para[-k:]
        if len(para) >= 2 and _own_line(para[0], anchors) == "label":
            para, head = para[1:], para[:1]
        out.extend(x for x in (head, para, tail) if x)
    return out


def _heading(para: list[list[Piece]]) -> bool:
    """The paragraph is a heading (its text stands in an `<h1>`-`<h6>`)."""
    el, attr, _, _ = para[0][0]
    holder = el if attr == "text" else el.getparent()
    for node in [holder, *holder.iterancestors()] if holder is not None else []:
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        if tag in _HEADINGS:
            return True
        if tag not in INLINE:
            return False
    return False


def _box(line: list[Piece]) -> HtmlElement | None:
    el, attr, _, _ = line[0]
    start = el if attr == "text" else el.getparent()
    for node in [start, *start.iterancestors()] if start is not None else []:
        if isinstance(node.tag, str) and node.tag.lower() in _BOXES:
            return node
    return None


def text_source_lines(
    tree: HtmlElement, own_host: str | None = None, official: tuple[str, ...] = DEFAULT_OFFICIAL_DOMAINS
) -> list[tuple[list[list[Piece]], str, str]]:
    """(lines, url, text) of every source line at an edge of the page's text that names one
    official original, as a plain URL or as a link in a line of its own; none when such lines
    name several."""
    body = tree.body if tree.tag == "html" else tree
    if body is None:
        return []
    own = site_key(own_host) if own_host else None
    # the element is kept with its address: lxml reuses the id of a dropped proxy
    anchors: Anchors = {id(a): (a, href) for a, href in official_links(body, own, official)}
    text = body.text_content().lower()
    plain = "http" in text and any(domain.lower().lstrip("*.") in text for domain in official)
    if not plain and not anchors:
        return []  # no official URL in the page's text or links: no line to find
    title = " ".join(text_of(t) for t in tree.iterfind(".//title"))
    paras = _split_edges(_paragraphs(body), anchors)
    joined = [" ".join(_line_text(x) for x in p) for p in paras]
    # a long headline is no running text: a line under it still stands above the text
    prose = [
        (is_prose(t) or word_count(t) >= 20) and not _heading(p) for t, p in zip(joined, paras, strict=True)
    ]
    found: list[tuple[list[list[Piece]], str, str]] = []
    for i, para in enumerate(paras):
        texts = [_line_text(x) for x in para]
        lines: list[list[Piece]] = []
        url = None
        last = None
        if len(para) == 1:
            url = _plain_claim(texts[0], own, official) or _link_claim(para[0], anchors, title)
            lines = para
        elif len(para) == 2 and _is_label_line(texts[0], long=True):
            url = _url_line(para[1], own, official, anchors)
            lines = para
        if url is None and len(para) == 1 and _is_label_line(texts[0], long=True):
            # the label's paragraph, then the URL's (after an empty paragraph, as converters
            # leave one)
            nxt = paras[i + 1] if i + 1 < len(paras) else None
            if nxt is not None and len(nxt) == 1:
                url = _url_line(nxt[0], own, official, anchors)
                lines = [para[0], nxt[0]]
                last = i + 1
        if url is None:
            continue
        if not _at_edge(i, para, paras, prose, last):
            continue
        found.append((lines, url, " ".join(_line_text(x) for x in lines)))
    return found if len({u for _, u, _ in found}) == 1 else []


def _at_edge(
    i: int,
    para: list[list[Piece]],
    paras: list[list[list[Piece]]],
    prose: list[bool],
    last: int | None = None,
) -> bool:
    """Paragraphs `i` to `last` (a label's paragraph and its URL's) come before all prose or
    after all of it, or open or close the box (`<pre>`, `<div>`, cell) they stand in next to a
    paragraph of prose."""
    j = i if last is None else last
    if not any(prose[:i]) or not any(prose[j + 1 :]):
        return True
    box = _box(para[0])
    if box is None:
        return False
    before = i > 0 and prose[i - 1] and _box(paras[i - 1][0]) is box
    after = j + 1 < len(paras) and prose[j + 1] and _box(paras[j + 1][0]) is box
    if before and not any(_box(p[0]) is box for p in paras[j + 1 :]):
        return True
    return after and not any(_box(p[0]) is box for p in paras[:i])


def mark_text_source_lines(found: list[tuple[list[list[Piece]], str, str]]) -> None:
    """Wrap the pieces of the plain-text source lines in marked spans (in place), so that
    `drop_source_links` cuts them with the other source lines; pieces already inside a marked
    source line are left to it, and pieces of a `<pre>` are cut at once."""
    pieces = [piece for lines, _, _ in found for line in lines for piece in line]
    # from the end of each text node, so the offsets of the pieces before stay valid
    for el, attr, at, text in sorted(pieces, key=lambda p: (id(p[0]), p[1], -p[2])):
        if any(a.get(MARK) for a in [el, *el.iterancestors()] if isinstance(a.tag, str)):
            continue
        node = (el.text if attr == "text" else el.tail) or ""
        if node[at : at + len(text)] != text:
            continue
        holder = el if attr == "text" else el.getparent()
        if holder is not None and any(a.tag == "pre" for a in [holder, *holder.iterancestors()]):
            # a <pre> is split into paragraphs from its text alone: the line goes now (the
            # claim's text is recorded as cut with the claim)
            if attr == "text":
                el.text = node[:at] + node[at + len(text) :]
            else:
                el.tail = node[:at] + node[at + len(text) :]
            continue
        span = el.makeelement("span", {MARK: "1"})
        span.text, span.tail = text, node[at + len(text) :]
        if attr == "text":
            el.text = node[:at]
            el.insert(0, span)
        else:
            parent = el.getparent()
            if parent is None:
                continue
            el.tail = node[:at]
            parent.insert(parent.index(el) + 1, span)
