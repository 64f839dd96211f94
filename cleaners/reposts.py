"""A statement reposted as a quotation: the quote is the text, the thread around it is not.

Forums and comment threads repost a statement by quoting it whole: the poster's own lines
stand around the quote ("Here is the full text:"), the quote opens with its attribution ("X
wrote:"), and replies, signatures and profiles follow. Blogs do the same with commentary of
their own: a few paragraphs of the blogger's above or below the statement, which stands in a
`<blockquote>`, in a box marked as a quotation or a reblog (its class or style says so), or as
plain paragraphs between two rules (`<hr>`, a "---" paragraph).

When such a quoted block holds a long text (`MIN_QUOTE` characters; a box or a ruled run also
two paragraphs of prose) and the page's own prose outside it is short beside it, that block
is the page's statement. Short means: at most half the quote's length; shorter than the quote
when the quote is a `<blockquote>` or a marked box of several paragraphs; at most twice its
length when a source line names the official original the quote copies (the page says what
the quote is; then one paragraph of prose in the box or between the rules is enough). Its
attribution is cut, the quote is read as ordinary blocks (trafilatura reads a quotation as one
run of text), and everything outside it goes into the removals, except the headings above it
that head no prose of their own, which name the statement. A page that argues with a
quotation at greater length has prose of its own and is left alone.

Source lines linking the official original (marked by `cleaners.metadata.scan_attribution`)
are cut first: they are provenance, wherever the quote is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml.html import HtmlElement

from cleaners.edgelinks import drop_source_links
from cleaners.html import drop_keeping_tail
from cleaners.intro import cut_lead_note, inner_note, source_boxes
from cleaners.model import Removal
from cleaners.prose import is_prose, word_count

_WS = re.compile(r"\s+")
MIN_QUOTE = 300  # characters: a shorter quote is a passage cited, not a statement reposted
_OWN_PROSE_SHARE = 0.5  # a one-paragraph quote: the page's own prose, at most this share of it
_OWN_PROSE_SHARE_STATEMENT = 1.0  # a quote of several prose paragraphs: own prose shorter than it
# ... on a page whose source line names an official original: the page says the quote is a copy
_OWN_PROSE_SHARE_SOURCED = 2.0
# a box marked as a quotation or a reblogged text by its class, id or style
_QUOTE_MARK = re.compile(r"quote|reblog|repost|snapshot|border-left", re.I)
_BOXES = frozenset(("div", "section", "aside", "figure", "article"))
# a rule typed as text: dashes, underscores or equals signs (not a section break's "* * *")
_RULE_TEXT = re.compile(r"^\s*(?:[-_=–—]\s*){3,}$")
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_INLINE = frozenset(
    "a abbr b bdi cite code em font i kbd mark q s small span strong sub sup time tt u".split()
)
_MAX_ATTRIBUTION_WORDS = 15


def _text(el: HtmlElement) -> str:
    return _WS.sub(" ", el.text_content()).strip()


def _own_texts(root: HtmlElement, skip: list[HtmlElement]) -> list[str]:
    """The text runs of `root` outside the `skip` blocks: each block's own text (its inline
    children's included, its block children's not)."""
    runs: list[str] = []
    skipped = {id(el) for el in skip}

    def walk(el: HtmlElement) -> None:
        if id(el) in skipped:
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


_LONG_PARAGRAPH = 40  # words: a paragraph this long is text even when its end was cut off


def _prose_paragraphs(el: HtmlElement) -> int:
    """The paragraphs of running text in `el` (prose, or long enough to be text)."""
    count = 0
    for p in el.iter("p", "li"):
        text = _text(p)
        count += is_prose(text) or word_count(text) >= _LONG_PARAGRAPH
    return count


def _is_rule(el: HtmlElement) -> bool:
    """A separator: `<hr>`, or a paragraph of nothing but dashes, stars or rules."""
    if el.tag == "hr":
        return True
    return el.tag in ("p", "div", "center") and len(el) == 0 and bool(_RULE_TEXT.match(el.text or ""))


@dataclass(frozen=True, slots=True)
class _Quote:
    """A quoted block: one element, or the run of sibling blocks between two rules. A
    `<blockquote>` is the quote even alone on the page; the other kinds need commentary
    around them."""

    blocks: list[HtmlElement]
    blockquote: bool
    marked_as_quote: bool = True  # a blockquote or a box marked so; a ruled run is not

    def text(self) -> str:
        return " ".join(_text(b) for b in self.blocks)

    def prose_paragraphs(self) -> int:
        return sum(_prose_paragraphs(b) for b in self.blocks)

    def element(self) -> HtmlElement:
        """The quote as one element, wrapping a run (in place) in a `div`."""
        if len(self.blocks) == 1:
            return self.blocks[0]
        box = self.blocks[0].makeelement("div", {})
        self.blocks[0].addprevious(box)
        for b in self.blocks:
            box.append(b)  # moves it, with its tail
        return box


def _ruled_runs(body: HtmlElement, sourced: bool) -> list[_Quote]:
    """The blocks between the two separators among a parent's children, when they hold at
    least two paragraphs of prose, or one on a page naming its official original (a text with
    more rules is in sections, not quoted)."""
    runs: list[_Quote] = []
    for parent in body.iter(*_BOXES, "body", "main", "td"):
        children = [c for c in parent if isinstance(c.tag, str)]
        rules = [i for i, c in enumerate(children) if _is_rule(c)]
        if len(rules) != 2:
            continue
        inner = children[rules[0] + 1 : rules[1]]
        if inner and sum(_prose_paragraphs(c) for c in inner) >= (1 if sourced else 2):
            runs.append(_Quote(inner, blockquote=False, marked_as_quote=False))
    return runs


def _candidates(body: HtmlElement, sourced: bool) -> list[_Quote]:
    quotes = [q for q in body.iter("blockquote") if next(q.iterancestors("blockquote"), None) is None]
    boxes = []
    for el in body.iter(*_BOXES):
        marks = " ".join(el.get(a) or "" for a in ("class", "id", "style"))
        if _QUOTE_MARK.search(marks) and _prose_paragraphs(el) >= (1 if sourced else 2):
            boxes.append(el)
    # the outermost of nested candidates
    found = quotes + boxes
    outer = [q for q in found if not any(a in found for a in q.iterancestors())]
    out = [_Quote([q], blockquote=q.tag == "blockquote") for q in outer]
    return out or _ruled_runs(body, sourced)


def _statement_quote(
    body: HtmlElement, sourced: bool, quotes: list[_Quote], bare: list[HtmlElement]
) -> HtmlElement | None:
    """The quote that is the page's statement, or None; a box with no commentary around it at
    all goes into `bare` (a short note above it may still stand: `cleaners.intro`)."""
    if not quotes:
        return None
    quote = max(quotes, key=lambda q: len(q.text()))
    chars = len(quote.text())
    if chars < MIN_QUOTE:
        return None
    share = _OWN_PROSE_SHARE
    if sourced:
        share = _OWN_PROSE_SHARE_SOURCED
    elif quote.prose_paragraphs() >= 2 and quote.marked_as_quote:
        share = _OWN_PROSE_SHARE_STATEMENT
    own_prose = sum(len(run) for run in _own_texts(body, quote.blocks) if is_prose(run))
    if own_prose > share * chars or (not quote.blockquote and not own_prose):
        # no commentary around a box or a ruled run: the line rules read such a page as it is
        if not own_prose and len(quote.blocks) == 1:
            bare.append(quote.blocks[0])
        return None
    return quote.element()


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
    boxes = source_boxes(body)  # before the source lines that mark them go
    sources = drop_source_links(body)
    bare: list[HtmlElement] = []
    quote = _statement_quote(body, bool(sources), _candidates(body, bool(sources)), bare)
    if quote is None:
        # no quotation with commentary around it: a short note above the copy may still stand
        return sources + cut_lead_note(body, boxes, bare)
    removals = sources + _cut_attribution(quote) + inner_note(body, quote)
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
            # headings above the quote name it, unless they head a block of prose of their own
            # (the reposter's note under its heading goes with that heading)
            if before and not _prose_paragraphs(sibling):
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
