"""A shared post's box, told by its structure rather than by a platform's class names.

Reblogs, a professional network's shared cards, a social network's "shared a link" posts and
microblog boosts all show the statement the same way: a box nested in the reposter's post that
holds the statement's text together with a head of its own (the original's title linking it,
the publisher's name and host, the original account's handle on another server), and the
reposter's own words, often one or two short sentences, in the post just above it. Those words
change from page to page, so no site-chrome count learns them, and they are too short to count
as prose.

A box is such a shared box when it holds a statement-sized text (at least `min_chars`, and
`min_prose` paragraphs of prose), no `<h1>` (the page's own heading makes a box the page's
article), a short head before its first prose paragraph with a link to another site than the
page's that names the original (a title link, or a site linked twice in the box; not a
byline's profile link, a picture's credit, a share button or a sister subdomain), and a short
block holding a sentence, someone else's words, directly above it in the post. The innermost
such box is the one: its ancestors hold the same statement plus the reposter's words. Nothing
here reads a class name: the structure is the same on every platform.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

from lxml.html import HtmlElement

from cleaners.html import drop_keeping_tail
from cleaners.prose import is_prose, word_count

_WS = re.compile(r"\s+")
BOXES = ("div", "section", "aside", "figure", "article")
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_PROSE_BLOCKS = ("p", "li")
_LONG_PARAGRAPH = 40  # words: a paragraph this long is text even when its end was cut off
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]?$")
_MIN_INTRO_WORDS = 3
_MAX_INTRO_WORDS = 60  # the reposter's note above the box: a line or two, not a page's chrome
_MAX_HEAD_WORDS = 40  # the box's head before its text: a title, a name, a host, a date
_HEAD_LINE_WORDS = 15  # a head or foot line of the box: the original's name, host, handle
_ANCESTOR_LEVELS = 2  # how far up from the box the reposter's words may stand


def _text(el: HtmlElement) -> str:
    return _WS.sub(" ", el.text_content()).strip()


def _split(href: str) -> SplitResult | None:
    """`href` split, or None when it is no address (a bracketed host that is no IP address)."""
    try:
        return urlsplit(href)
    except ValueError:
        return None


def _host(href: str) -> str | None:
    parts = _split(href) if href.startswith(("http://", "https://", "//")) else None
    if parts is None:
        return None
    return (parts.hostname or "").lower().removeprefix("www.") or None


def _foreign(href: str, own: set[str]) -> bool:
    """`href` leads to another site than the page's: neither one of the page's hosts nor a
    subdomain of one (a forum beside its news site), nor a button that carries the page's own
    address to another site in its path or query (a share, bookmark or sign-up link)."""
    host = _host(href)
    if not host:
        return False
    if any(host == o or host.endswith("." + o) or o.endswith("." + host) for o in own):
        return False
    parts = _split(href)
    if parts is None:
        return False
    rest = (parts.path + "?" + parts.query).lower()
    return not any(o in rest for o in own)


def page_hosts(tree: HtmlElement) -> set[str]:
    """The page's own hosts: its canonical address, og:url and `<base>`, else the hosts its
    navigation, header and footer link to."""
    root = tree.getroottree().getroot()
    hosts: set[str] = set()
    for el in root.iter("link", "meta", "base"):
        rel = (el.get("rel") or "").lower().split()
        if (el.tag == "link" and "canonical" in rel) or el.tag == "base":
            hosts.add(_host(el.get("href") or "") or "")
        elif el.tag == "meta" and (el.get("property") or el.get("name") or "").lower() == "og:url":
            hosts.add(_host(el.get("content") or "") or "")
    hosts.discard("")
    if not hosts:
        for chrome in root.iter("nav", "header", "footer"):
            for a in chrome.iter("a"):
                hosts.add(_host(a.get("href") or "") or "")
        hosts.discard("")
    return hosts


def _is_prose_block(el: HtmlElement) -> bool:
    text = _text(el)
    return is_prose(text) or word_count(text) >= _LONG_PARAGRAPH


class _Prose:
    """The paragraphs of prose under a root, read once (the elements are held so that their
    identities stay valid)."""

    def __init__(self, root: HtmlElement) -> None:
        self.blocks = [p for p in root.iter(*_PROSE_BLOCKS) if _is_prose_block(p)]
        self.ids = {id(p) for p in self.blocks}

    def count(self, box: HtmlElement) -> int:
        return sum(id(p) in self.ids for p in box.iter(*_PROSE_BLOCKS))

    def holds(self, a: HtmlElement, box: HtmlElement) -> bool:
        """`a` stands inside a prose paragraph of `box`."""
        for anc in a.iterancestors():
            if anc is box:
                return False
            if id(anc) in self.ids:
                return True
        return False


def foreign_links(box: HtmlElement, own: set[str], prose: _Prose | None = None) -> list[HtmlElement]:
    """The links of `box` to another host than the page's, outside its prose paragraphs."""
    prose = prose or _Prose(box)
    return [a for a in box.iter("a") if _foreign(a.get("href") or "", own) and not prose.holds(a, box)]


def _names_original(a: HtmlElement, box: HtmlElement, links: list[HtmlElement]) -> bool:
    """The head link names the original, not a person: it is the box's title (a link in a
    heading), or its site is linked again in the box (the original's name and its permalink,
    a title and a "continue on" line). A byline's link to its author's profile is neither."""
    if next((h for h in a.iterancestors(*_HEADINGS) if box in h.iterancestors()), None) is not None:
        return True
    host = _host(a.get("href") or "")
    return sum(_host(b.get("href") or "") == host for b in links) >= 2


def _headed(box: HtmlElement, links: list[HtmlElement], prose: _Prose) -> bool:
    """A link to another host comes before the box's first prose paragraph, not as a picture's
    credit, and what comes before that paragraph is short: the box opens with the original's
    name, title or host, not with a site's navigation."""
    linked = {id(a) for a in links}
    found = False
    words = 0
    for el in box.iter():
        if not isinstance(el.tag, str):
            continue
        if id(el) in prose.ids:
            break
        if id(el) in linked and _text(el) and next(el.iterancestors("figure", "figcaption"), None) is None:
            found = found or _names_original(el, box, links)
        # a heading (the original's title, however long) is no part of the head's length
        in_heading = el.tag in _HEADINGS or next(el.iterancestors(*_HEADINGS), None) is not None
        if el.tag not in _NO_TEXT and not in_heading:
            words += word_count(el.text or "")
        tail_in_heading = next(el.iterancestors(*_HEADINGS), None) is not None
        words += word_count(el.tail or "") if el is not box and not tail_in_heading else 0
    return found and words <= _MAX_HEAD_WORDS


_NO_TEXT = frozenset(("script", "style", "noscript", "template", "head"))


def _intro_above(box: HtmlElement) -> bool:
    """The reposter's words: the nearest block above the box that holds any text (above the
    box's parent when the box opens it) is short, no heading, and holds a sentence."""
    node = box
    for _ in range(_ANCESTOR_LEVELS):
        for sib in node.itersiblings(preceding=True):
            if not isinstance(sib.tag, str) or sib.tag in _NO_TEXT:
                continue
            text = _text(sib)
            if not text:
                continue
            if sib.tag in _HEADINGS or word_count(text) > _MAX_INTRO_WORDS:
                return False
            return any(
                word_count(line) >= _MIN_INTRO_WORDS and _SENTENCE_END.search(line)
                for line in re.split(r"(?<=[.!?])\s+", text)
            )
        parent = node.getparent()
        if parent is None or parent.tag == "body":
            break
        node = parent
    return False


def shared_boxes(body: HtmlElement, own: set[str], min_chars: int, min_prose: int) -> list[HtmlElement]:
    """The innermost shared boxes of the page (see the module's docstring)."""
    found: list[HtmlElement] = []
    prose = _Prose(body)
    for el in body.iter(*BOXES):
        if next(el.iter("h1"), None) is not None:
            continue  # the page's own heading: the box is the page's article, not one it shares
        if prose.count(el) < min_prose or len(_text(el)) < min_chars:
            continue
        links = foreign_links(el, own, prose)
        if links and _headed(el, links, prose) and _intro_above(el):
            found.append(el)
    ids = {id(el) for el in found}
    return [el for el in found if not any(id(d) in ids for d in el.iterdescendants())]


def cut_head_lines(box: HtmlElement, own: set[str]) -> list[str]:
    """Cut the box's short lines that carry a link to another host (the original's name,
    host or handle, a "continue on" line), headings excepted: they name the statement.
    Returns the texts cut."""
    cut: list[str] = []
    for a in foreign_links(box, own):
        line = a
        for anc in a.iterancestors():
            if anc is box:
                break
            if anc.tag in _HEADINGS:
                line = None
                break
            if anc.tag in BOXES or anc.tag in _PROSE_BLOCKS or anc.tag in ("header", "footer"):
                line = anc
                break
        if line is None or line is box or line.getparent() is None:
            continue
        text = _text(line)
        if (
            word_count(text) > _HEAD_LINE_WORDS
            or is_prose(text)
            or next(line.iter(*_HEADINGS), None) is not None
        ):
            continue
        cut.append(text)
        drop_keeping_tail(line)
    return cut
