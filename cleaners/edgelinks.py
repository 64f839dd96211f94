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
