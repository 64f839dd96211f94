"""Where a page states its title outside the usual places, and what reads as a title.

A notice board, a mail archive or a hand-made site may name the page only after itself and
state the item's title as one field of a header block ("Subject: ...", next to "Posted by:",
"Filed under:", "Date:"). The field's label is not trusted by its wording (sites name it in
words of their own); the block's shape is: several short labels ending in a colon, each set
apart (its own cell, `<dt>` or bold), and among their values the one that is set as a title
(`field_title`). A theme may also set the headline in no heading element at all, but in a
`<span>` or `<div>` whose class says it is the headline ("entry-title", "story-headline"):
`headline_elements` finds those beside the heading tags, `named_headline` takes the one such
headline of a page whose `<title>` names only the site.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from cleaners.dates import is_date_only
from cleaners.html import WS
from cleaners.model import normalise_text
from cleaners.prose import is_prose as is_prose_line
from cleaners.sitename import in_banner, is_own_name, is_site_name


def reads_as_title(line: str) -> bool:
    """A line set as a title: two to sixty words (an event's title may name every party), most
    of the longer ones capitalised, not a sentence (no full stop at the end), not running text."""
    words = line.split()
    if not 2 <= len(words) <= 60 or line.rstrip().endswith((".", ":", ";", ",")) or is_prose_line(line):
        return False
    longer = [w for w in words if len(w) > 3 and w[0].isalpha()]
    return bool(longer) and sum(w[0].isupper() for w in longer) / len(longer) >= 0.6


_FIELD_LABEL_WORDS = 3
_FIELD_TAGS = ("b", "strong", "th", "td", "dt", "label", "span")


def _field_value(label: HtmlElement) -> tuple[HtmlElement, str] | None:
    """The value that follows a field's label: the next cell of its row, the `<dd>` after its
    `<dt>`, or the text after it up to the line's end; with the element that holds the label
    (a cell and the bold label in it are one field)."""
    holder = label
    if label.tag not in ("td", "th", "dt") and label.getparent() is not None:
        parent = label.getparent()
        if (
            parent.tag in ("td", "th", "dt")
            and not (parent.text or "").strip()
            and not (label.tail or "").strip()
        ):
            holder = parent  # <td><b>Subject:</b></td><td>value</td>
    if holder.tag in ("td", "th", "dt"):
        nxt = holder.getnext()
        if nxt is None or nxt.tag not in ("td", "dd"):
            return None
        return holder, WS.sub(" ", nxt.text_content()).strip()
    tail = (label.tail or "").strip()
    return (holder, WS.sub(" ", tail)) if tail else None


def field_title(
    tree: HtmlElement, site_name: str | None, host: str | None, nav: frozenset[str] = frozenset()
) -> str | None:
    """The title a page states as a header field, when nothing else names the statement: in a
    block of at least two labelled fields ("Label: value", a label of a few words ending in a
    colon, set apart in its own cell or bold), the one value that reads as a title (not a
    date, a name in lower case, a link to another page or the site's name). None when no
    value or more than one does."""
    fields: dict[HtmlElement, str] = {}
    for el in tree.iter(_FIELD_TAGS):
        label = WS.sub(" ", el.text_content()).strip()
        if not label.endswith(":") or not 1 <= len(label.split()) <= _FIELD_LABEL_WORDS:
            continue
        found = _field_value(el)
        if found is not None:
            fields[found[0]] = found[1]
    if len(fields) < 2:
        return None
    titles = [
        v
        for v in fields.values()
        if reads_as_title(v)
        and not is_date_only(v)
        and normalise_text(v) not in nav
        and not is_site_name(v, site_name, host)
    ]
    return titles[0] if len(set(titles)) == 1 else None


MAX_HEADING_CHARS = 300  # a headline is a line, not a block of text
# a theme's headline set without a heading element: `<span class="entry-title">`,
# `<div class="story-headline">`
# a forum names the thread's subject so: `<div class="thread-subject">`, `<h2 class="topic-title">`
_HEADLINE_CLASS = re.compile(
    r"(?:^|[\s_-])(?:(?:entry|post|story|article|page|item|topic|thread)[-_]?(?:title|headline|subject)"
    r"|headline)(?:$|[\s_-])",
    re.I,
)


def names_headline(el: HtmlElement) -> bool:
    """The element's class or id names it the page's headline (not the site's title)."""
    if not isinstance(el.tag, str):
        return False
    names = f"{el.get('class') or ''} {el.get('id') or ''}".split()
    return any(_HEADLINE_CLASS.search(n) for n in names)


# one XPath pass finds heading tags and class-named headlines in document order (walking every
# element in Python costs more than the rest of choosing the title); `_names_headline` decides
_NAMED = " or ".join(f"contains(@{a}, '{w}')" for a in ("class", "id") for w in ("itle", "eadline", "ubject"))


def headline_elements(tree: HtmlElement, tags: tuple[str, ...]) -> list[HtmlElement]:
    """The elements of `tags` and those whose class names them the headline, in document order."""
    query = "//*[" + " or ".join([*(f"self::{t}" for t in tags), _NAMED]) + "]"
    return [el for el in tree.xpath(query) if el.tag in tags or names_headline(el)]


def named_headline(
    tree: HtmlElement, site_name: str | None, host: str | None, nav: frozenset[str], names: frozenset[str]
) -> str | None:
    """The one headline the theme names so by its class (`_names_headline`), when nothing else
    names the statement: outside any link (a list of other posts) and the banner, of two words
    or more, neither a navigation item nor the site's name. None when there is none, or several
    different ones."""
    found: set[str] = set()
    texts: list[str] = []
    for el in headline_elements(tree, ()):
        if in_banner(el, host):
            continue
        if next(el.iterancestors("a"), None) is not None or el.find(".//a") is not None:
            continue
        text = WS.sub(" ", el.text_content()).strip()
        key = normalise_text(text)
        if (
            len(key.split()) >= 2
            and len(text) <= MAX_HEADING_CHARS
            and key not in nav
            and not is_site_name(text, site_name, host)
            and not is_own_name(text, names, host)
            and key not in found
        ):
            found.add(key)
            texts.append(text)
    return texts[0] if len(texts) == 1 else None


# a document's file name standing as its title: "Microsoft Word - brief_0412_final.docx",
# "brief_0412_final.pdf", "Untitled document", "Document1"
_OFFICE_PREFIX = re.compile(r"^\s*microsoft\s+(?:office\s+)?(?:word|excel|powerpoint)\s*-\s*", re.I)
_FILE_EXT = re.compile(r"\.(?:docx?|pdf|odt|rtf|wpd|pages|txt|pptx?|xlsx?|html?)$", re.I)
# a file's name without its extension: words joined by "_" or "-" with a date, a number or a
# version word among them ("fenwick-brief-0412-rev3", "brief-2024-03-final")
_JOINED = re.compile(r"^[\w.]+(?:[_-][\w.]+){2,}$")
_VERSION = re.compile(r"(?:^|[_-])(?:v\d+|rev\d*|final|draft|\d+)(?=$|[_-])", re.I)
_NO_TITLE = re.compile(
    r"^(?:untitled|no\s+title|document\s*\d*|new\s+document)(?:[\s_-]*(?:document|\d+))?$", re.I
)


def reads_as_file_name(title: str) -> bool:
    """The title is a file's name, not a statement's title: a word processor's "Microsoft Word - "
    before the file's name, a single token that ends in a document's extension or joins its
    words with underscores ("brief_0412_final"), or a placeholder ("Untitled document").
    A title that names a file among other words ("Report.pdf Now Online") is a title."""
    text = WS.sub(" ", title).strip()
    if _OFFICE_PREFIX.match(text):
        return True
    text = text.strip("\"'\u201c\u201d")
    if _NO_TITLE.match(text):
        return True
    if _FILE_EXT.search(text) and not text.lower().startswith(("www.", "http")):
        return True  # "Brief 2024-03 FINAL v2.pdf": a name that ends in a document's extension
    if " " in text:
        return False
    return ("_" in text and len(text) > 3) or bool(_JOINED.match(text) and _VERSION.search(text))


# a font size set by a style: "font-size: 18pt", "font-size:24px", "font-size: 1.6em", "x-large"
_STYLE_SIZE = re.compile(r"font-size\s*:\s*(?:([\d.]+)\s*(px|pt|em|rem|%)|(x+-large|large|larger))", re.I)
_CLASS_RULE = re.compile(r"\.([\w-]+)\s*\{([^{}]*)\}")
_LARGE_PX = 18.0  # text set at 18px (13.5pt) and above stands out of a page's 12-16px text


def _size_px(style: str) -> float | None:
    m = _STYLE_SIZE.search(style)
    if not m:
        return None
    if m.group(3):
        return 2 * _LARGE_PX
    value, unit = float(m.group(1)), m.group(2).lower()
    return value * {"px": 1.0, "pt": 4 / 3, "em": 16.0, "rem": 16.0, "%": 0.16}[unit]


def class_sizes(tree: HtmlElement) -> dict[str, float]:
    """The font sizes (in px) the page's own style sheets give its classes (`.ft0 { font-size:
    24px }`, as converters of PDF and word-processor files write them)."""
    sizes: dict[str, float] = {}
    for style in tree.iter("style"):
        for name, body in _CLASS_RULE.findall(style.text or ""):
            px = _size_px(body)
            if px is not None:
                sizes[name] = px
    return sizes


def set_large(el: HtmlElement, sizes: dict[str, float]) -> bool:
    """The element's own style, or a class of the page's style sheet (`sizes`, from
    `class_sizes`), sets its text in large type: as a converted document sets its title."""
    px = _size_px(el.get("style") or "")
    if px is None:
        found = [sizes[c] for c in (el.get("class") or "").split() if c in sizes]
        px = max(found) if found else None
    return px is not None and px >= _LARGE_PX


_HEADING_PX = {"h1": 32.0, "h2": 24.0, "h3": 18.72}  # a browser's default sizes
_FONT_PX = {4: 18.0, 5: 24.0, 6: 32.0, 7: 48.0}  # `<font size=4..7>`
_LARGE_LINES = 3  # a document's title is among its first few lines in large type


def type_size(el: HtmlElement, sizes: dict[str, float]) -> float | None:
    """The size (px) the element sets its text in, when it sets it large: a heading's default
    size, a `<font>` of size 4 to 7 (or "+1" and up), or the size its style or a class of the
    page's style sheet gives it (`set_large`). None for text of the page's usual size."""
    if el.tag in _HEADING_PX:
        return _HEADING_PX[el.tag]
    if el.tag == "font":
        size = (el.get("size") or "").strip()
        step = (
            int(size[1:]) + 3
            if size[:1] == "+" and size[1:].isdigit()
            else int(size)
            if size.isdigit()
            else 0
        )
        return _FONT_PX.get(min(step, 7)) if step >= 4 else None
    px = _size_px(el.get("style") or "")
    if px is None:
        found = [sizes[c] for c in (el.get("class") or "").split() if c in sizes]
        px = max(found) if found else None
    return px if px is not None and px >= _LARGE_PX else None


def large_first_line(tree: HtmlElement, host: str | None, nav: frozenset[str]) -> str | None:
    """The line the document sets in the largest type among the first lines of its body set
    large (a heading element, a larger `<font>`, a block whose own style or class sets it
    large; the first of equals; two lines of one size side by side are one title broken in
    two), outside links and the banner, of two words or more and not running text: a converted
    document's title, which its file-named `<title>` does not give, and not a letterhead in
    smaller type above it. Where no line is set large, the first such line set bold as a whole
    (`<p><b>Title</b></p>`, as a word processor sets a title in the text's own size) among the
    document's first lines."""
    sizes = class_sizes(tree)
    query = (
        "//body//*[self::h1 or self::h2 or self::h3 or self::font[@size]"
        " or ((@style or @class) and (self::p or self::div or self::span or self::td))]"
    )
    large: list[tuple[float, str]] = []
    last: HtmlElement | None = None
    for el in tree.xpath(query):
        px = type_size(el, sizes)
        text = _line_text(el, host, nav) if px else None
        if not (px and text):
            continue
        if large and last is not None and el.getprevious() is last and large[-1][0] == px:
            # a long title the converter broke over two lines of the same size
            large[-1] = (px, f"{large[-1][1]} {text}")
        elif len(large) == _LARGE_LINES:
            break
        else:
            large.append((px, text))
        last = el
    if large:
        return max(large, key=lambda c: c[0])[1]
    for el in tree.xpath(_FIRST_BLOCKS):
        if not bold_whole(el):
            continue
        text = _line_text(el, host, nav)
        if text:
            return text
        if is_prose_line(WS.sub(" ", el.text_content())):
            break  # the text has begun: a bold line further down is a label within it
    return None


# the first blocks of a document's body, where its title stands
_FIRST_BLOCKS = (
    "(//body//*[self::p or self::div or self::td or self::center][normalize-space()])[position() <= 12]"
)
_BOLD = ("b", "strong")
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(?:bold|[6-9]00)", re.I)


def bold_whole(el: HtmlElement) -> bool:
    """The block's whole text is set bold: by its own style, or by `<b>` / `<strong>` (perhaps
    inside a `<span>` or `<font>`, perhaps around an `<i>`) that hold all of it."""
    if _BOLD_STYLE.search(el.get("style") or ""):
        return True
    whole = WS.sub(" ", el.text_content()).strip()
    if not whole or (el.text or "").strip():
        return False
    for b in el.iter(*_BOLD):
        if WS.sub(" ", b.text_content()).strip() == whole:
            return True
    return False


def _line_text(el: HtmlElement, host: str | None, nav: frozenset[str]) -> str | None:
    """The element's text when it may be a document's title line: outside links and the banner,
    of two words or more, not a navigation item nor running text."""
    if next(el.iterancestors("a"), None) is not None or el.find(".//a") is not None or in_banner(el, host):
        return None
    text = WS.sub(" ", el.text_content()).strip()
    if (
        len(text.split()) >= 2
        and len(text) <= MAX_HEADING_CHARS
        and normalise_text(text) not in nav
        and not is_prose_line(text)
    ):
        return text
    return None


def title_position(head_lines: list[tuple[int, str]], marks: list[tuple[int, str]]) -> int | None:
    """Which unclaimed line above the body of a text capture is the title: the last one
    before the source header ("U.S. Embassy - Mexico"), else the first after the date line,
    else the longest."""
    if not head_lines:
        return None
    sources = [i for i, rule in marks if rule == "source_header"]
    if sources:
        before = [i for i, _ in head_lines if i < sources[0]]
        if before:
            return before[-1]
    dates = [i for i, rule in marks if rule == "dateline"]
    if dates:
        after = [i for i, _ in head_lines if i > dates[0]]
        if after:
            return after[0]
    return max(reversed(head_lines), key=lambda item: len(item[1].split()))[0]


# rules whose claim on the line under a dateline does not stop it being the title
_TITLE_LIKE_MARKS = frozenset(("doc_type_byline",))


def title_after_dateline(
    paragraphs: list[str], marks: list[tuple[int, str]], head_lines: list[tuple[int, str]]
) -> int | None:
    """In a text capture, the line right under the first dateline when it reads as a title and
    no rule but a title-like one (a document-type line) claimed it; None otherwise."""
    dates = [i for i, rule in marks if rule == "dateline"]
    if not dates or dates[0] + 1 >= len(paragraphs):
        return None
    at = dates[0] + 1
    claimed = {rule for i, rule in marks if i == at}
    if claimed - _TITLE_LIKE_MARKS:
        return None
    if not claimed and any(i == at for i, _ in head_lines):
        return at
    return at if reads_as_title(paragraphs[at]) else None
