"""A statement reposted as a quotation: the quote is the text, the thread around it is not.

Forums and comment threads repost a statement by quoting it whole: the poster's own lines
stand around the quote ("Here is the full text:"), the quote opens with its attribution ("X
wrote:"), and replies, signatures and profiles follow. When one top-level `<blockquote>` holds
a long text and the page holds little prose of its own outside it, that quote is the page's
statement: its attribution is cut, the quote is read as ordinary blocks (trafilatura reads a
quotation as one run of text), and everything outside it goes, except the headings above it,
which name the statement. A page that argues with a quotation has prose of its own and is
left alone.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from cleaners.html import drop_keeping_tail
from cleaners.model import Removal
from cleaners.prose import is_prose, word_count

_WS = re.compile(r"\s+")
MIN_QUOTE = 300  # characters: a shorter quote is a passage cited, not a statement reposted
_OWN_PROSE_SHARE = 0.5  # the page's own prose outside the quote, at most this share of the quote
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_INLINE = frozenset(
    "a abbr b bdi cite code em font i kbd mark q s small span strong sub sup time tt u".split()
)
_MAX_ATTRIBUTION_WORDS = 15


def _text(el: HtmlElement) -> str:
    return _WS.sub(" ", el.text_content()).strip()


def _own_texts(root: HtmlElement, skip: HtmlElement) -> list[str]:
    """The text runs of `root` outside `skip`: each block's own text (its inline children's
    included, its block children's not)."""
    runs: list[str] = []

    def walk(el: HtmlElement) -> None:
        if el is skip:
            return
        own = [el.text or ""]
        for child in el:
            if not isinstance(child.tag, str):
                own.append(child.tail or "")
                continue
            if child.tag in _INLINE:
                own.append(child.text_content())
            else:
                runs.append(_WS.sub(" ", " ".join(own)).strip())
                own = []
                walk(child)
            own.append(child.tail or "")
        runs.append(_WS.sub(" ", " ".join(own)).strip())

    walk(root)
    return [r for r in runs if r]


def _statement_quote(body: HtmlElement) -> HtmlElement | None:
    quotes = [q for q in body.iter("blockquote") if next(q.iterancestors("blockquote"), None) is None]
    if not quotes:
        return None
    quote = max(quotes, key=lambda q: len(q.text_content()))
    chars = len(_text(quote))
    if chars < MIN_QUOTE:
        return None
    own_prose = sum(len(run) for run in _own_texts(body, quote) if is_prose(run))
    return quote if own_prose <= _OWN_PROSE_SHARE * chars else None


def _cut_attribution(quote: HtmlElement) -> list[Removal]:
    """The quote's own "X wrote:" line: a short `<cite>` before the quoted text."""
    removals: list[Removal] = []
    for cite in list(quote.iter("cite")):
        text = _text(cite)
        if word_count(text) <= _MAX_ATTRIBUTION_WORDS and not is_prose(text):
            removals.append(Removal("quote_attribution", text))
            drop_keeping_tail(cite)
    return removals


def keep_quoted_statement(tree: HtmlElement) -> list[Removal]:
    """When the page reposts a statement as a quotation, reduce the page to it (in place):
    the headings above the quote and the quote's text. Returns what was cut."""
    body = tree.body if tree.tag == "html" else tree
    if body is None:
        return []
    quote = _statement_quote(body)
    if quote is None:
        return []
    removals = _cut_attribution(quote)
    cut: list[str] = []
    before = True
    node = quote
    for parent in quote.iterancestors():
        for sibling in list(parent):
            if sibling is node:
                before = False
                continue
            if not isinstance(sibling.tag, str):
                continue
            if before:
                headings = list(sibling.iter(*_HEADINGS))
            else:
                headings = []
            if sibling.tag in _HEADINGS and before:
                continue
            text = _text(sibling) + " " + (sibling.tail or "")
            if text.strip():
                cut.append(_WS.sub(" ", text).strip())
            for h in headings:
                h.tail = None
                sibling.addprevious(h)
            parent.remove(sibling)  # its tail, text outside the quote, goes with it
        # the parent's own text around the quote ("Here is the whole text:")
        for piece in (parent.text, node.tail):
            if piece and piece.strip():
                cut.append(piece.strip())
        parent.text = None
        node.tail = None
        before = True
        node = parent
        if parent is body:
            break
    quote.tag = "div"
    if cut:
        removals.append(Removal("repost_thread", " ".join(cut)[:1000]))
    return removals
