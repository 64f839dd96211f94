"""Real block boundaries made explicit in the tree before extraction.

Hand-made sites lay pages out with tables: the navigation row, an archive column and the
story are cells of one table, the story is text broken by `<br><br>` in a cell, its headline a
`<font><b>`. Read as a data table, such a layout comes out as one line holding the menu, the
headline and the whole story, and a line rule that recognises the menu takes the story with
it. Here a layout table becomes plain blocks (one per cell), a run of two or more line breaks
ends a paragraph, and a headline set in `<font>`/`<b>` between breaks becomes its own block,
so that every later phase sees the page's real paragraphs. Data tables (short cells of
figures and names, or rows of records under column headers) stay tables. Running text that
follows a block in its parent becomes a block of its own. A `<pre>` that holds a hard-wrapped
message (a mail archive's body) becomes one paragraph per blank-line block, its wrapped lines
joined, so its header, signature and footer lines stand apart from its prose; a `<pre>` of code
or figures stays.
"""

from __future__ import annotations

import re

from lxml.etree import XPath
from lxml.html import HtmlElement

from cleaners.prose import is_hard_wrapped, is_prose, join_wrapped

# elements with a <br> child and more than one child node of any kind (as len() counts them)
_WITH_BREAKS = XPath("descendant-or-self::*[br][count(*|comment()|processing-instruction()) > 1]")
_TABLE_PARTS = frozenset(("table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption"))
_BLOCKS_IN_CELL = ".//div|.//p|.//table|.//ul|.//ol|.//h1|.//h2|.//h3|.//h4|.//blockquote|.//form"
_LONG_CELL = 400  # characters: no data table has a cell of running text this long
# where a paragraph may not go: text, a link, a paragraph already
_NO_SPLIT = frozenset(
    "pre a p li dt dd h1 h2 h3 h4 h5 h6 textarea script style select option button label".split()
)


def _cells(table: HtmlElement) -> list[HtmlElement]:
    """The table's own cells (not those of a table nested in one)."""
    return [c for c in table.iter("td", "th") if next(c.iterancestors("table"), None) is table]


def _is_data_grid(table: HtmlElement) -> bool:
    """A table of records: a header row of `<th>` cells over three rows or more, two thirds of
    them of as many cells and none of more, no table or form inside. Its cells may hold
    paragraphs of notes (a wiki's table of events) and it is still data: a layout has no column
    headers."""
    if table.xpath(".//table|.//form"):
        return False
    rows = [r for r in table.iter("tr") if next(r.iterancestors("table"), None) is table]
    if len(rows) < 4:
        return False
    head = [c for c in rows[0] if isinstance(c.tag, str)]
    if len(head) < 2 or any(c.tag != "th" for c in head):
        return False
    widths = [len([c for c in r if c.tag in ("td", "th")]) for r in rows[1:]]
    # a cell spanning rows leaves the rows below it short; none is wider than the header
    return max(widths) <= len(head) and 3 * widths.count(len(head)) >= 2 * len(widths)


def is_layout_table(table: HtmlElement) -> bool:
    """A table that lays out a page rather than holding data: a cell holds blocks, a run of
    line breaks, or a long run of text, and it is no grid of records under column headers."""
    if _is_data_grid(table):
        return False
    for cell in _cells(table):
        if cell.xpath(_BLOCKS_IN_CELL):
            return True
        if len(cell.text_content()) > _LONG_CELL:
            return True
        if len(cell.xpath(".//br")) >= 2 and len(cell.text_content()) > 120:
            return True
    return False


def _unwrap_table(table: HtmlElement) -> None:
    own = [
        el
        for el in table.iter(*_TABLE_PARTS)
        if el is table or next(el.iterancestors("table"), None) is table
    ]
    for el in own:  # renamed only once all are found: renaming the table hides it from its cells
        el.tag = "div"
        for attr in ("width", "valign", "align", "colspan", "rowspan", "bgcolor", "border"):
            el.attrib.pop(attr, None)


def _split_at_breaks(el: HtmlElement) -> None:
    """Wrap the runs of `el`'s content separated by two or more `<br>` in `<div>` elements (a
    run may hold blocks of its own, which a `<p>` may not)."""
    children = list(el)
    runs = 0
    for a, b in zip(children, children[1:], strict=False):
        if a.tag == "br" and b.tag == "br" and not (a.tail or "").strip():
            runs += 1
    if not runs:
        return
    parts: list[tuple[str, list[HtmlElement]]] = [(el.text or "", [])]
    i = 0
    while i < len(children):
        child = children[i]
        if child.tag == "br":
            j = i
            while (
                j + 1 < len(children) and children[j + 1].tag == "br" and not (children[j].tail or "").strip()
            ):
                j += 1
            if j > i:
                parts.append((children[j].tail or "", []))
                i = j + 1
                continue
        parts[-1][1].append(child)
        i += 1
    el.text = None
    for child in children:
        el.remove(child)
    for text, nodes in parts:
        p = el.makeelement("div", {})
        p.text = text
        for node in nodes:
            p.append(node)
        if (p.text or "").strip() or len(p):
            el.append(p)


_INLINE = frozenset("a b i em strong span font tt code u small big".split())
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_MIN_PRE = 200  # characters: a shorter <pre> is a snippet, not a message


def _pre_paragraphs(pre: HtmlElement) -> list[str] | None:
    """The paragraphs of a `<pre>` holding wrapped prose, or None (code, figures, markup)."""
    if any(child.tag not in _INLINE for child in pre.iterdescendants()):
        return None
    text = pre.text_content().replace("\r\n", "\n")
    if len(text) < _MIN_PRE:
        return None
    paragraphs: list[str] = []
    prose = False
    for block in _BLANK_LINE.split(text):
        lines = [ln.strip() for ln in block.split("\n") if ln.strip()]
        if is_hard_wrapped(lines):
            joined = join_wrapped(lines)
            prose = prose or len(lines) >= 3 or is_prose(joined)
            paragraphs.append(joined)
        else:
            prose = prose or any(is_prose(ln) for ln in lines)
            paragraphs.extend(lines)
    return paragraphs if prose else None


def _unwrap_pre(pre: HtmlElement) -> bool:
    paragraphs = _pre_paragraphs(pre)
    if paragraphs is None:
        return False
    for child in list(pre):
        pre.remove(child)
    pre.tag = "div"
    pre.text = None
    for text in paragraphs:
        p = pre.makeelement("p", {})
        p.text = text
        pre.append(p)
    return True


_BLOCK_TAGS = frozenset(
    "div p table ul ol dl section article aside figure blockquote form h1 h2 h3 h4 h5 h6".split()
)


def _lift_tails(tree: HtmlElement) -> None:
    """Running text that follows a block inside its parent (a story's first paragraph after an
    image box, as `div.photo` + text) becomes a block of its own, with the inline elements that
    run on from it: an extractor that skips the block (a figure, a box it scores as boilerplate)
    takes its tail along. A short tail (a byline after a heading) stays: it is no paragraph."""
    for el in [e for e in tree.iter(*_BLOCK_TAGS) if is_prose(" ".join((e.tail or "").split()))]:
        parent = el.getparent()
        if parent is None or parent.tag in _NO_SPLIT or parent.tag in _INLINE:
            continue
        box = el.makeelement("div", {})
        box.text, el.tail = el.tail, None
        nxt = el.getnext()
        while nxt is not None and isinstance(nxt.tag, str) and nxt.tag not in _BLOCK_TAGS:
            after = nxt.getnext()
            box.append(nxt)  # moves the element with its tail
            nxt = after
        el.addnext(box)


def mark_blocks(tree: HtmlElement) -> int:
    """Make the page's block boundaries explicit, in place; returns the layout tables unwrapped."""
    for pre in list(tree.iter("pre")):
        _unwrap_pre(pre)
    _lift_tails(tree)
    tables = [t for t in tree.iter("table") if is_layout_table(t)]
    for table in tables:
        _unwrap_table(table)
    # found before any split: a split changes only the children of the element it splits
    for el in _WITH_BREAKS(tree):
        if el.tag not in _NO_SPLIT:
            _split_at_breaks(el)
    return len(tables)
