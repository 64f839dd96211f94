"""Source links: a short line or card whose link points at the official original.

Republishing sites name the original in a line of their own, labelled in the site's language
("Source:", "Fuente:", "Quelle :", "来源：", "المصدر:", "Reblogged from", "Transcribed from"), or
in a preview card holding the original's title and host. Their wording varies without end;
what they share is their shape: a block of a few words whose link goes to a page (not the home
page) on an official host, the rest of the block a label of at most a few words that ends no
sentence, or nothing but the card's own host name. Such a block names where the text came
from (the page claims that original) and is provenance, not text.

A link inside running text is a citation, not a claim: a block that reads as prose, whose
label ends a sentence ("For more information, visit <link>."), or whose label points the
reader on ("see", "visit", "learn more") is no source line.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from cleaners.html import WS, drop_keeping_tail
from cleaners.model import Removal
from cleaners.prose import content_tokens, ends_sentence, is_prose, word_count
from cleaners.urls import DEFAULT_OFFICIAL_DOMAINS, host_of, is_official_host, site_key

_BLOCKS = frozenset(
    "p div li dd dt figure figcaption aside footer header section td blockquote cite small address".split()
)
_MAX_LABEL_WORDS = 5
_MAX_BLOCK_WORDS = 40
_MAX_CARD_WORDS = 30
# words that send the reader on from inside the text ("visit", "see", "learn more at"): a
# statement's own pointer to a page, not a line naming where the copy came from
_POINTER = re.compile(
    r"\b(?:visit|see|click|learn|available|download|watch|read\s+(?:the|more|about)|follow|"
    r"information|details|register|apply|contact)\b",
    re.I,
)
_HOSTLIKE = re.compile(r"^(?:https?://)?(?:[\w-]+\.)+[a-z]{2,}(?:/\S*)?$", re.I)
_LABEL_END = ":：﹕"


def _text(el: HtmlElement) -> str:
    return WS.sub(" ", el.text_content()).strip()


def _block_of(a: HtmlElement) -> HtmlElement | None:
    for el in a.iterancestors():
        if el.tag in _BLOCKS:
            return el
        if el.tag in ("body", "html"):
            return None
    return None


def _label(block: HtmlElement, href: str) -> str:
    """The block's text without the texts of its links to `href`."""
    text = _text(block)
    for a in block.iter("a"):
        if (a.get("href") or "").strip() == href:
            anchor = _text(a)
            if anchor:
                text = text.replace(anchor, " ", 1)
    return WS.sub(" ", text).strip()


def _is_label(label: str, anchor: str, title: str) -> bool:
    """A label a source line stands behind: a few words, no sentence, no pointer; or nothing,
    when the link's own text is a host or the page's title (a card naming the original)."""
    bare = label.strip(" \t-–—|·•»›>()[]")
    if not bare:
        return bool(_HOSTLIKE.match(anchor)) or _names_title(anchor, title)
    if _HOSTLIKE.match(bare):
        return True  # a card's host line under the original's title
    if word_count(bare) > _MAX_LABEL_WORDS or _POINTER.search(bare):
        return False
    return not ends_sentence(bare) or bare.rstrip().endswith(tuple(_LABEL_END))


def _names_title(anchor: str, title: str) -> bool:
    """The link's text is (most of) the page's title: a card or line naming the original."""
    key = WS.sub(" ", anchor).strip().casefold()
    if len(key) >= 8 and key in WS.sub(" ", title).casefold():
        return True
    words = content_tokens(anchor)
    return len(words) >= 2 and len(words & content_tokens(title)) >= 0.8 * len(words)


def _card(block: HtmlElement, href: str) -> HtmlElement:
    """The box the line stands in when it is a preview card: the parent holding the title
    line and the host or excerpt lines, only the original's link and no prose."""
    parent = block.getparent()
    if parent is None or parent.tag in ("body", "html", "article", "main"):
        return block
    text = _text(parent)
    hrefs = {(a.get("href") or "").strip() for a in parent.iter("a")}
    if hrefs != {href} or word_count(text) > _MAX_CARD_WORDS or is_prose(text):
        return block
    if any(el.tag in ("p", "li") and is_prose(_text(el)) for el in parent.iter()):
        return block
    return parent


def source_links(
    tree: HtmlElement, own_host: str | None = None, official: tuple[str, ...] = DEFAULT_OFFICIAL_DOMAINS
) -> list[tuple[HtmlElement, str, str]]:
    """(block, url, text) of every source line or card of the page that links an official
    original, in document order. Links to the page's own site name no other original."""
    own = site_key(own_host) if own_host else None
    found: list[tuple[HtmlElement, str, str]] = []
    seen: set[int] = set()
    body = tree.body if tree.tag == "html" else tree
    if body is None:
        return found
    title = " ".join(_text(t) for t in tree.iterfind(".//title"))
    title += " " + " ".join(_text(h) for h in body.iter("h1", "h2"))
    for a in body.iter("a"):
        href = (a.get("href") or "").strip()
        if not href.startswith(("http://", "https://")):
            continue
        host = host_of(href)
        if not is_official_host(host, official) or (own and site_key(host) == own):
            continue
        if urlsplit(href).path in ("", "/"):
            continue
        block = _block_of(a)
        if block is None or id(block) in seen:
            continue
        text = _text(block)
        label = _label(block, href)
        if not text or word_count(label) > _MAX_BLOCK_WORDS or is_prose(label) or is_prose(text):
            continue
        if not _is_label(label, _text(a), title):
            continue
        block = _card(block, href)
        seen.add(id(block))
        found.append((block, href, _text(block)))
    # a page names one original; links to several official pages are a list of references
    return found if len({url for _, url, _ in found}) == 1 else []


def claimed_source(found: list[tuple[HtmlElement, str, str]]) -> tuple[str, str] | None:
    """(url, text) of the original the source lines name (they all name the same one)."""
    return (found[0][1], found[0][2]) if found else None


MARK = "data-dispatches-source"  # set on a source line found in the tree, for the block rules


def mark_source_links(found: list[tuple[HtmlElement, str, str]]) -> None:
    """Mark the source lines in the tree: `drop_source_links` cuts them once metadata is read."""
    for block, _, _ in found:
        block.set(MARK, "1")


def drop_source_links(tree: HtmlElement) -> list[Removal]:
    """Cut the marked source lines (in place), keeping their tails; returns what was cut."""
    removals: list[Removal] = []
    for block in list(tree.iter()):
        if isinstance(block.tag, str) and block.get(MARK):
            removals.append(Removal("source_link", _text(block)))
            drop_keeping_tail(block)
    return removals


# --- source lines in plain text ---------------------------------------------------------------
#
# Mail archives, forum posts, PDF conversions and portals often name the original as text, not
# as a link: "Link: <url>", "Original at: <url>", "来源：<url>", or the label on one line and the
# URL on the next (as mail clients and PDF converters break lines). What these share is again
# their shape: a paragraph of its own at an edge of the text (before the first paragraph of
# prose, after the last, or the first or last line of the box holding the text) whose only
# content besides a label of a few words is one URL on an official host. A URL inside a
# sentence, or a paragraph listing several URLs, is a reference, not a claim.

_BREAKS = frozenset("br".split())
_PARA_TAGS = _BLOCKS | frozenset("pre h1 h2 h3 h4 h5 h6 ul ol table tr article main body hr".split())
_BOXES = frozenset("pre div td blockquote article section main body".split())
_SKIP = frozenset("script style noscript template head title".split())
_URL_LINE = re.compile(r"^(?P<label>[^<>]{0,60}?)\s*<?(?P<url>https?://[^\s<>\"']+?)>?\s*$")
_LABEL_LINE = re.compile(r"^[^\s:：﹕][^:：﹕]{0,40}[:：﹕]$")

Piece = tuple[HtmlElement, str, int, str]  # element, "text" or "tail", offset in it, the text


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
    url = m.group("url").rstrip(".,;")
    host = host_of(url)
    if not is_official_host(host, official) or (own and site_key(host) == own):
        return None
    if urlsplit(url).path in ("", "/"):
        return None
    bare = m.group("label").strip(" \t-–—|·•»›>()[]")
    if not bare:
        return url
    if "http" in bare or word_count(bare) > _MAX_LABEL_WORDS or _POINTER.search(bare):
        return None
    return url if bare.endswith(tuple(_LABEL_END)) or not ends_sentence(bare) else None


def _is_label_line(text: str) -> bool:
    return (
        bool(_LABEL_LINE.match(text)) and word_count(text) <= _MAX_LABEL_WORDS and not _POINTER.search(text)
    )


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
    """(lines, url, text) of every plain-text source line at an edge of the page's text that
    names one official original; none when such lines name several."""
    body = tree.body if tree.tag == "html" else tree
    if body is None:
        return []
    own = site_key(own_host) if own_host else None
    text = body.text_content().lower()
    if "http" not in text or not any(domain.lower().lstrip("*.") in text for domain in official):
        return []  # no plain official URL anywhere in the page's text: no line to find
    paras = _paragraphs(body)
    joined = [" ".join(_line_text(x) for x in p) for p in paras]
    prose = [is_prose(t) or word_count(t) >= 20 for t in joined]
    found: list[tuple[list[list[Piece]], str, str]] = []
    for i, para in enumerate(paras):
        texts = [_line_text(x) for x in para]
        lines: list[list[Piece]] = []
        url = None
        if len(para) == 1:
            url = _plain_claim(texts[0], own, official)
            lines = para
        elif len(para) == 2 and _is_label_line(texts[0]):
            m = _URL_LINE.match(texts[1])
            if m and not m.group("label").strip():
                url = _plain_claim(texts[1], own, official)
                lines = para
        if url is None and len(para) == 1 and i + 1 < len(paras) and len(paras[i + 1]) == 1:
            if _is_label_line(texts[0]):
                nxt = _line_text(paras[i + 1][0])
                m = _URL_LINE.match(nxt)
                if m and not m.group("label").strip():
                    url = _plain_claim(nxt, own, official)
                    lines = [para[0], paras[i + 1][0]]
        if url is None:
            continue
        if not _at_edge(i, para, paras, prose):
            continue
        found.append((lines, url, " ".join(_line_text(x) for x in lines)))
    return found if len({u for _, u, _ in found}) == 1 else []


def _at_edge(i: int, para: list[list[Piece]], paras: list[list[list[Piece]]], prose: list[bool]) -> bool:
    """Paragraph `i` comes before all prose or after all of it, or opens or closes the box
    (`<pre>`, `<div>`, cell) it stands in next to a paragraph of prose."""
    if not any(prose[:i]) or not any(prose[i + 1 :]):
        return True
    box = _box(para[0])
    if box is None:
        return False
    before = i > 0 and prose[i - 1] and _box(paras[i - 1][0]) is box
    after = i + 1 < len(paras) and prose[i + 1] and _box(paras[i + 1][0]) is box
    if before and not any(_box(p[0]) is box for p in paras[i + 1 :] if p is not para):
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
