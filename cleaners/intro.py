"""The republisher's own few words above a copied statement: a reblogger's comment, a network
post's intro, a forwarding line ("FYI, below").

Such a note changes from page to page, so learning a site's chrome never removes it, and it is
too short to count as the commentary `cleaners.reposts` weighs against a quote. What gives it
away is where it stands: just above the point where the copy starts, a point the page marks by
its structure:

- the box that holds the copy under the link to its official original (a reblog's trail, a
  shared post's card): the source line says the box is a copy; or a box marked as a quotation
  or reblog (`cleaners.reposts` finds those) with no commentary long enough to weigh; either
  holds most of the page's text;
- the statement's own title repeated as a heading under the page's title (a pasted text);
- a mail client's separator ("-------- Forwarded Message --------", "-----Original Message-----",
  "Begin forwarded message:") or the forwarded header block ("From: ..." over another field
  line), a block of its own (`cleaners.layout` has already made a mail body in a `<pre>` into
  blocks);
- a lone rule (`<hr>`) under a short line: the weakest mark, so there the line must also speak
  as a person (first person singular, the reader addressed, "FYI", "Sharing this ...") and name
  nothing of the title's subject (a speaker's own first line names it).

The note is the text blocks in front of that point, within the same box, that end a sentence
(or a colon) or speak as a person ("FYI"): at most a few blocks of a few dozen words together,
and the copy after it must be a statement's length and several times longer. Under a box that
holds the copy, the blocks after it up to a heading are read the same way (a reblogger's line
below the post), and so are the blocks inside it above an inner box that holds most of its text
(a reblog snapshot that carries the reblogger's note over the post; a weak mark, as a rule is).
Headings, bylines and dates are left to the line rules. Everything cut is returned as removals,
so nothing is lost.

Only elements the page already marks are looked at (source lines found by `cleaners.edgelinks`,
the boxes `cleaners.reposts` found, rules, headings, and separator or "From:" text, queried by
XPath only when the page's text holds the words), so the pass costs little on pages that have
none (about 1.5 % of `clean()` on the dev corpus pages).
"""

from __future__ import annotations

import re
from typing import Any

from lxml.etree import XPath
from lxml.html import HtmlElement

from cleaners.edgelinks import MARK
from cleaners.model import Removal
from cleaners.prose import content_tokens, ends_sentence, is_prose, word_count

_WS = re.compile(r"\s+")
_NOTE_MAX_WORDS = 60  # a note of several short sentences; a longer text is commentary or statement
_NOTE_MAX_BLOCKS = 3
_MIN_COPY = 300  # characters after the mark: a statement's length (as `reposts.MIN_QUOTE`)
_COPY_TO_NOTE = 3  # the copy is at least this many times the note's length
_MAX_RULES = 5  # rules looked at, in document order
_OUTSIDE_BOX = 1.0  # a box is the page's copy only with at most this share of its prose outside it
_INNER_SHARE = 0.7  # an inner box holding this share of a box's text holds the copy
_LEVELS = 4  # how far up from the mark the note's box may be
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_BOXES = frozenset(("div", "section", "article", "main", "td", "li", "blockquote", "figure", "aside"))

# A person's voice: first person singular, the reader addressed, the forwarding shorthands, a
# note that opens by saying what the poster does with the text.
_SINGULAR = re.compile(r"(?<![\w'’])I(?:'m|'ve|'d|'ll|’m|’ve|’d|’ll)?(?![\w'’])")
_ADDRESSED = re.compile(
    r"(?<![\w'’])(?:me|my|myself|mine|you|your|yours|yourself|you're|you’re|y'all|folks|fyi|fwiw|h/t)"
    r"(?![\w'’])",
    re.I,
)
_PASSING = re.compile(
    r"^(?:sharing|posting|reposting|re-?sharing|reblogging|boosting|passing|forwarding|saving|sending|"
    r"cross-?posting|fwd?)\b",
    re.I,
)
_QUOTES = tuple("\"'“”‘’«»„")
_NAME = re.compile(r"(?<=[\w,;] )[A-Z][\w'’-]{3,}")  # a capitalised word inside a sentence
_POLITE = re.compile(r"\bthank(?:s| you)\b[^.!?]*", re.I)  # a speaker's thanks address no reader

# The separators mail clients put above a forwarded or quoted message.
_SEPARATOR = re.compile(
    r"^[ \t>]*(?:-{2,}\s*(?:forwarded|original)\s+message\s*-{2,}|begin forwarded message:)[ \t]*$",
    re.I | re.M,
)
# The text nodes that may hold a separator; asked only of a page whose text holds one of the
# words (plain `contains` tests: a `translate` on every text node costs far more).
_SEPARATOR_WORDS = ("orwarded", "ORWARDED", "riginal M", "riginal m", "RIGINAL M")
_SEPARATOR_TEXT = XPath("//text()[" + " or ".join(f"contains(., '{w}')" for w in _SEPARATOR_WORDS) + "]")
_MARKED = XPath(f"descendant::*[@{MARK}]")
# A forwarded message's header block: a field line ("From: ...") followed by another one
_FIELD = re.compile(r"^(?:from|sent|date|to|subject|cc)\s*:\s*\S", re.I)
_FROM_TEXT = XPath("//text()[starts-with(normalize-space(.), 'From:')]")
_INLINE = frozenset("a b strong em i span font".split())


def _text(el: HtmlElement) -> str:
    return _WS.sub(" ", el.text_content()).strip()


def speaks_as_person(text: str) -> bool:
    """The text speaks as a person to readers: first person singular, the reader addressed, a
    forwarding shorthand, or it opens with what the poster does ("Sharing this ...")."""
    text = _POLITE.sub(" ", text)
    return bool(_SINGULAR.search(text) or _ADDRESSED.search(text) or _PASSING.match(text.strip()))


def _is_note_text(text: str) -> bool:
    return bool(text) and (ends_sentence(text) or text.endswith(":")) and not text.isupper()


class _Note:
    """The pieces of text in front of a mark: blocks, and bare text (a parent's own text before
    its first child) given as (element, "text")."""

    def __init__(self) -> None:
        self.blocks: list[HtmlElement] = []
        self.bare: list[tuple[HtmlElement, str]] = []
        self.texts: list[str] = []

    def words(self) -> int:
        return sum(word_count(t) for t in self.texts)

    def cut(self) -> Removal:
        for el in self.blocks:
            parent = el.getparent()
            if parent is not None:
                parent.remove(el)  # its tail is blank (`_pick_note` takes no block with text after it)
        for el, attr in self.bare:
            setattr(el, attr, None)
        return Removal("repost_note", " ".join(self.texts)[:1000])


def _note_before(mark: HtmlElement, stop: HtmlElement, weak: set[str] | None) -> _Note | None:
    """The note in front of `mark`: the text blocks before it in the nearest box (at most
    `_LEVELS` up, not above `stop`) that has any text before it; None when that text is no note
    (a heading only, a long text, prose of a statement's length)."""
    node = mark
    for _ in range(_LEVELS):
        parent = node.getparent()
        if parent is None:
            return None
        before: list[HtmlElement] = []
        for sib in node.itersiblings(preceding=True):
            if isinstance(sib.tag, str):
                before.append(sib)
        has_text = bool((parent.text or "").strip()) or any(
            _text(s) or (s.tail or "").strip() for s in before
        )
        if has_text:
            return _pick_note(parent, before, weak)
        if parent is stop:
            return None
        node = parent
    return None


def _note_after(box: HtmlElement, stop: HtmlElement) -> _Note | None:
    """The note under a box that holds the copy (a reblogger's line below the reblogged post):
    the text blocks after it in the nearest box that has any, up to a heading (comments)."""
    node = box
    for _ in range(_LEVELS):
        parent = node.getparent()
        if parent is None or (node.tail or "").strip():
            return None
        after = [s for s in node.itersiblings() if isinstance(s.tag, str)]
        if any(_text(s) for s in after):
            note = _Note()
            for sib in after:
                text = _text(sib)
                if (sib.tail or "").strip() or (is_prose(text) and word_count(text) > _NOTE_MAX_WORDS):
                    return None
                if sib.tag in _HEADINGS:
                    break
                if text and (speaks_as_person(text) or _is_note_text(text)):
                    note.blocks.append(sib)
                    note.texts.append(text)
            if not note.texts or len(note.texts) > _NOTE_MAX_BLOCKS or note.words() > _NOTE_MAX_WORDS:
                return None
            return note
        if parent is stop:
            return None
        node = parent
    return None


def inner_note(body: HtmlElement, box: HtmlElement) -> list[Removal]:
    """Cut the note a reposting platform puts inside the box of the copy, above an inner box
    that holds the copied text (a reblog snapshot's "note" block over its "post" block), in
    place. Followed down while one child box holds most of the text. Inside the box a statement's
    own lead-in ("The below is attributable to ...:") may stand the same way, so the note must
    be a person's aside, as under a bare rule."""
    node = box
    for _ in range(_LEVELS):
        kids = [c for c in node if isinstance(c.tag, str)]
        sizes = [len(_text(c)) for c in kids]
        if not kids or max(sizes) < _INNER_SHARE * sum(sizes):
            return []  # the text is spread over the children: it is the copy itself
        big = kids[sizes.index(max(sizes))]
        before = kids[: kids.index(big)]
        if (node.text or "").strip() or any(sizes[: len(before)]):
            if big.tag not in _BOXES or max(sizes) < _MIN_COPY:
                return []
            copy = _text(big)
            note = _pick_note(node, before[::-1], _subject(body, copy))
            if note is None or not _long_enough(copy, note):
                return []
            return [note.cut()]
        node = big
    return []


def _personal(text: str, subject: set[str]) -> bool:
    """A person's aside, not a statement's first line: it speaks as a person, is no quotation
    (a quoted "I" is the quoted speaker's) and names nothing of the statement's subject (a
    speaker's own first line, "I am honored to mark Anzac Day", names it)."""
    if text.startswith(_QUOTES):
        return False
    return speaks_as_person(text) and not content_tokens(text) & subject


def _pick_note(parent: HtmlElement, before: list[HtmlElement], weak: set[str] | None) -> _Note | None:
    """The note among the text in front of a mark. `weak`: the page's title words when the
    mark is a bare rule (then each piece of the note must be a person's aside)."""
    note = _Note()
    own = (parent.text or "").strip()
    if own and (_is_note_text(own) or speaks_as_person(own)):
        if weak is not None and not _personal(own, weak):
            return None
        note.bare.append((parent, "text"))
        note.texts.append(own)
    for sib in reversed(before):  # document order
        text = _text(sib)
        if (sib.tail or "").strip():
            return None  # bare text between the blocks: no block structure to go by
        if sib.tag in _HEADINGS or not text:
            continue
        if is_prose(text) and word_count(text) > _NOTE_MAX_WORDS:
            return None  # a page's own prose above the mark: commentary, or the statement itself
        voice = speaks_as_person(text)
        if not voice and not _is_note_text(text):
            continue  # a byline, a date, a label: the line rules read those
        if weak is not None and not _personal(text, weak):
            return None
        note.blocks.append(sib)
        note.texts.append(text)
    if not note.texts or len(note.texts) > _NOTE_MAX_BLOCKS or note.words() > _NOTE_MAX_WORDS:
        return None
    return note


def _copy_after(mark: HtmlElement, inside: bool) -> str:
    """The text of the copy: the mark's own (a box), or what follows it in its parent."""
    if inside:
        return _text(mark)
    return " ".join(_text(s) for s in mark.itersiblings() if isinstance(s.tag, str))


def _long_enough(copy: str, note: _Note) -> bool:
    chars = sum(len(t) for t in note.texts)
    return len(copy) >= _MIN_COPY and len(copy) >= _COPY_TO_NOTE * chars


def _subject(body: HtmlElement, copy: str) -> set[str]:
    """What the statement is about: the words of the page's title and first-level headings, and
    the names the copy mentions (capitalised words inside its sentences)."""
    head = body.getprevious()
    titles = [_text(t) for t in head.iter("title")] if head is not None else []
    titles += [_text(h) for h in body.iter("h1")]
    return content_tokens(" ".join(titles)) | {n.lower() for n in _NAME.findall(copy)}


def source_boxes(body: HtmlElement) -> list[HtmlElement]:
    """The boxes that hold a marked source line at their head and a statement's length of text."""
    boxes = []
    for line in _MARKED(body):
        for box in line.iterancestors():
            if box is body:
                break
            if box.tag in _BOXES and len(_text(box)) >= _MIN_COPY:
                boxes.append(box)
                break
    return boxes


def _repeated_headings(body: HtmlElement) -> list[HtmlElement]:
    """Headings that repeat an earlier heading's text: a title pasted with its statement."""
    seen: set[str] = set()
    out = []
    for h in body.iter("h1", "h2", "h3", "h4"):
        key = _text(h).casefold()
        if word_count(key) < 2:
            continue
        if key in seen:
            out.append(h)
        seen.add(key)
    return out


def _separator_blocks(nodes: list[Any]) -> list[HtmlElement]:
    """Blocks that open with a mail client's forwarded-message separator (alone, or over the
    forwarded header's lines)."""
    out = []
    for node in nodes:
        el = node.getparent()
        if el is not None and el.tag in _INLINE:
            el = el.getparent()
        if el is None or not node.is_text or not _SEPARATOR.fullmatch(str(node).strip()):
            continue
        if _text(el).startswith(_WS.sub(" ", str(node)).strip()):
            out.append(el)
    return out


def _cut_inline_note(nodes: list[Any]) -> list[Removal]:
    """A block whose lines (a `<pre>`, lines broken by `<br>`) open with a few words above a
    forwarded-message separator: the words go (in place)."""
    for node in nodes:
        holder = node.getparent()
        if holder is None:
            continue
        el = holder if node.is_text else holder.getparent()  # the block whose line it is
        if el is None:
            continue
        m = _SEPARATOR.search(str(node))
        if m is None:
            continue
        head_nodes = _inline_text_before(el, node)
        if head_nodes is None:
            continue
        head = " ".join([*(t for _, _, t in head_nodes), str(node)[: m.start()]]).strip()
        if not head or word_count(head) > _NOTE_MAX_WORDS or is_prose(head):
            continue
        if len(_text(el)) - len(head) + len(_copy_after(el, False)) < _MIN_COPY:
            continue
        for owner, attr, _ in head_nodes:
            setattr(owner, attr, None)
        rest = str(node)[m.start() :]
        setattr(holder, "text" if node.is_text else "tail", rest)
        return [Removal("repost_note", _WS.sub(" ", head))]
    return []


def _inline_text_before(el: HtmlElement, node: Any) -> list[tuple[HtmlElement, str, str]] | None:
    """The text pieces of `el` before the text node `node` ((owner, "text" | "tail", text)), when
    only line breaks stand between them; None when an element with text of its own does."""
    pieces: list[tuple[HtmlElement, str, str]] = []
    if node.is_text and node.getparent() is el:
        return pieces
    if el.text:
        pieces.append((el, "text", el.text))
    for child in el:
        if child is node.getparent() and node.is_tail:
            return pieces
        if not isinstance(child.tag, str) or child.tag != "br":
            return None
        if child.tail:
            pieces.append((child, "tail", child.tail))
    return None


def _header_blocks(nodes: list[Any]) -> list[HtmlElement]:
    """The first line of each forwarded header block ("From: ...", then another field line)."""
    out = []
    for node in nodes:
        el = node.getparent()
        if el is not None and el.tag in _INLINE:
            el = el.getparent()
        if el is None or not _FIELD.match(_text(el)):
            continue
        nxt = el.getnext()
        if nxt is not None and isinstance(nxt.tag, str) and _FIELD.match(_text(nxt)):
            out.append(el)
    return out


def _prose_outside(body: HtmlElement, box: HtmlElement) -> int:
    """Characters of the page's prose paragraphs outside `box`."""

    def prose(root: HtmlElement) -> int:
        return sum(len(t) for t in (_text(p) for p in root.iter("p", "li")) if is_prose(t))

    return prose(body) - prose(box)


def cut_lead_note(
    body: HtmlElement, source_boxes: list[HtmlElement], quoted: list[HtmlElement]
) -> list[Removal]:
    """Cut the republisher's note above the copy, when the page marks where the copy starts
    (in place). `source_boxes`: the boxes holding a source line, found before source lines were
    cut; `quoted`: a box marked as a quotation with no commentary around it. Returns what was
    cut."""
    text = body.text_content()
    separators = _SEPARATOR_TEXT(body) if any(w in text for w in _SEPARATOR_WORDS) else []
    headers = _FROM_TEXT(body) if "From:" in text else []
    removals: list[Removal] = _cut_inline_note(separators)
    if removals:
        return removals
    marks: list[tuple[HtmlElement, bool, bool]] = []  # mark, the copy is inside it, a weak mark
    marks += [(box, True, False) for box in quoted]
    marks += [(box, True, False) for box in source_boxes if box not in quoted]
    marks += [(h, False, False) for h in _repeated_headings(body)]
    marks += [(el, False, False) for el in _separator_blocks(separators)]
    marks += [(el, False, False) for el in _header_blocks(headers)]
    # the rules near the top: a note stands above the first ones, and each costs a text read
    marks += [(hr, False, True) for _, hr in zip(range(_MAX_RULES), body.iter("hr"), strict=False)]
    for mark, inside, is_weak in marks:
        if mark.getparent() is None:
            continue
        copy = _copy_after(mark, inside)
        if len(copy) < _MIN_COPY:
            continue
        if inside and mark not in quoted and _prose_outside(body, mark) > _OUTSIDE_BOX * len(copy):
            continue  # more prose outside the box than in it: a page of its own that quotes a copy
        note = _note_before(mark, body, _subject(body, copy) if is_weak else None)
        below = _note_after(mark, body) if inside else None
        notes = [n for n in (note, below) if n is not None and _long_enough(copy, n)]
        within = inner_note(body, mark) if inside else []
        if not notes and not within:
            continue
        removals.extend([*(n.cut() for n in notes), *within])
        break  # one copy per page: its start is marked once
    return removals
