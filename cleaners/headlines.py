"""Headlines in the page's text: which of the extracted lines is the statement's headline,
when the markup's candidates named no title (`headline_above`), or when the text's first line
is a longer form of the title or the title under a label (`first_line_title`).

A line counts as a headline by how the page sets it (a heading element, bold, a larger font, a
class naming it the headline, a line of its own), never by its wording alone: the first line of
a paragraph that happens to share the title's words is the statement's, and stays in its text.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml.html import HtmlElement

from cleaners.fields import class_sizes, headline_elements, names_headline, set_large
from cleaners.html import WS
from cleaners.model import normalise_text
from cleaners.prose import is_prose as is_prose_line
from cleaners.sitename import in_banner, is_site_name
from cleaners.titleparts import BADGE_WORDS, SLUG_WORD, STOP_WORDS, without_badge

_HEADLINE_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "b", "strong")
_HEADLINE_LINES = 8  # a headline stands among the first lines of the extracted text


def longer_title(line: str, title: str) -> bool:
    """The first paragraph is the statement's own title and the page's title a shorter
    form of it ("Embassy funds shelters" / "U.S. Embassy Funds Shelter Network for ...")."""
    words = line.split()
    if not 3 <= len(words) <= 20 or line.rstrip().endswith((".", "!", "?", ":", '"', "\u201d")):
        return False
    if "|" in line:
        return False  # a table row (an infobox's "| Name | Value |"), never a title
    capitalised = [w for w in words if len(w) > 3]
    if not capitalised or sum(w[0].isupper() for w in capitalised) / len(capitalised) < 0.6:
        return False
    tw = {w for w in SLUG_WORD.findall(normalise_text(title)) if w not in STOP_WORDS}
    lw = {w for w in SLUG_WORD.findall(normalise_text(line)) if w not in STOP_WORDS}
    return bool(tw) and len(tw & lw) / len(tw) >= 0.6 and len(lw) >= len(tw)


def first_line_title(line: str, title: str, tree: HtmlElement, host: str | None) -> str | None:
    """The title the text's first line gives when the page sets it as a line of its own (a
    heading, a bold or larger line, a paragraph of its own; `_line_elements`): the line itself
    when it is a longer form of `title` (`longer_title`), or `title` when the line is `title`
    under a label of its own ("News" before a thread's subject). None otherwise: the first line
    of a paragraph broken into lines (a converted PDF's) is never taken for the title, nor cut
    from the text, however much it shares with the title."""
    key, tkey = normalise_text(line), normalise_text(title)
    longer = longer_title(line, title)
    labelled = key != tkey and key.endswith(tkey) and 0 < len(key.split()) - len(tkey.split()) <= BADGE_WORDS
    if not (longer or labelled):
        return None
    for el in _line_elements(tree, host):
        if normalise_text(WS.sub(" ", el.text_content())) != key:
            continue
        if labelled and normalise_text(without_badge(el)) == tkey:
            return title
        if longer:
            return line
    return None


# the elements a line of its own stands in: headings, bold or larger type, a paragraph or a cell
_OWN_LINE = (
    "//body//*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6 or self::b"
    " or self::strong or self::font or self::p or self::div or self::span or self::td or self::li"
    " or self::center]"
)


def _line_elements(tree: HtmlElement, host: str | None) -> Iterable[HtmlElement]:
    """The page's elements that may hold a line of its own, outside the banner: a heading, a
    bold or larger line, a paragraph or a cell. A piece of a paragraph broken by `<br>` (a
    converted PDF's lines) is the text of none of them."""
    for el in tree.xpath(_OWN_LINE):
        if not in_banner(el, host):
            yield el


def headline_above(
    tree: HtmlElement,
    paragraphs: list[str],
    site_name: str | None,
    host: str | None,
    nav: frozenset[str] = frozenset(),
) -> int | None:
    """Which of the first extracted lines, above the first prose paragraph, is the headline when
    no title candidate of the markup survived: a line that stands alone in a heading element
    (`<h1>`-`<h6>`, `<b>`, `<strong>`, a `<font>` that sets it larger than the text, or an
    element whose class names it the headline: a `<font>` of a face or colour alone marks a
    byline as well as a headline) outside any link, that
    is neither a navigation item nor the site's name, nor a single word; of several (a column's
    heading, a section label above the headline), the closest to the text, as a headline stands
    right above its story.
    The index into `paragraphs`, or None."""
    head: list[tuple[int, str]] = []
    for i, line in enumerate(paragraphs[:_HEADLINE_LINES]):
        if is_prose_line(line):
            break
        head.append((i, normalise_text(line)))
    if not head:
        return None
    wanted = {key for _, key in head}
    standing: set[str] = set()
    sizes = class_sizes(tree)
    styled = tree.xpath("//*[@style or @class][self::p or self::div or self::span or self::td]")
    for el in (*headline_elements(tree, (*_HEADLINE_TAGS, "font")), *styled):
        if el.tag == "font" and not _larger_font(el):
            continue
        if el.tag in ("p", "div", "span", "td") and not names_headline(el) and not set_large(el, sizes):
            continue  # a block is a headline by its class's name or its large type
        if next(el.iterancestors("a"), None) is not None or el.find(".//a") is not None:
            continue
        key = normalise_text(WS.sub(" ", el.text_content()))
        if key in wanted and key not in nav and not in_banner(el, host):
            standing.add(key)
    for i, key in reversed(head):
        if key in standing and len(key.split()) >= 2 and not is_site_name(paragraphs[i], site_name, host):
            return i
    return None


def _larger_font(el: HtmlElement) -> bool:
    """A `<font>` that sets its text larger than the page's default (size 3): "+1" and up, or
    4 to 7. Size marks a headline; a face or a colour alone does not."""
    size = (el.get("size") or "").strip()
    if size.startswith("+"):
        return size[1:].isdigit() and int(size[1:]) >= 1
    return size.isdigit() and int(size) >= 4
