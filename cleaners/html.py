"""HTML before extraction: what kind of page a body is, and one lxml parse of it.

`page_kind` decides from the Content-Type, the file name and the first bytes whether a body
is an HTML page, a text capture or something else (a feed, an image); `parse_html` parses the
decoded text once, with trafilatura's own repairs and options, into the tree every later phase
reads. Decoding itself is `cleaners.decode`'s.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit

from lxml.etree import ElementDefaultClassLookup
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HTMLParser, HtmlProcessingInstruction, fromstring

from cleaners.model import RawPage, Rejected

WS = re.compile(r"[ \t\r\f\v\u00a0]+")  # runs of blanks inside a line (newlines kept)

_HTML_SNIFF = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|p|div|article|title|meta)\b", re.I)
_HTML_START = re.compile(rb"<\s*(?:!doctype\s+html|html)\b", re.I)
_PARSERS = threading.local()


def content_type_header(raw: RawPage) -> str | None:
    """The Content-Type header, whatever the case of its name (WARC records keep theirs)."""
    headers = raw.headers or {}
    value = headers.get("content-type")
    if value is None:
        for key, val in headers.items():
            if str(key).lower() == "content-type":
                value = val
                break
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value


def page_kind(raw: RawPage) -> str:
    """'html', 'text' or 'other' from the Content-Type, the file name and the body."""
    ct = (content_type_header(raw) or "").split(";")[0].strip().lower()
    head = raw.body[:4096]
    path = (raw.source_path or urlsplit(raw.final_url or raw.url or "").path or "").lower()
    if ct in ("text/html", "application/xhtml+xml") or path.endswith((".html", ".htm", ".xhtml", ".shtml")):
        return "html"
    if ct == "text/plain" or path.endswith((".txt", ".text")):
        return "html" if head.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")) else "text"
    if _HTML_SNIFF.search(head):
        if ct and (
            ct.endswith(("xml", "json", "javascript"))
            or ct.startswith(("image/", "audio/", "video/", "font/"))
        ):
            # a feed or an API answer that happens to contain tags is not a page
            if not _HTML_START.search(head):
                return "other"
        return "html"
    if ct in ("", "application/octet-stream", "binary/octet-stream", "text/x-plain"):
        return "text"
    return "other"


def _parser() -> HTMLParser:
    # trafilatura's parser options plus huge_tree: libxml2 otherwise drops everything nested
    # deeper than 256 elements without a word (broken markup with unclosed tags gets there).
    # One per thread: lxml parsers must not be shared between threads.
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = HTMLParser(
            collect_ids=False,
            default_doctype=False,
            encoding="utf-8",
            remove_comments=True,
            remove_pis=True,
            huge_tree=True,
        )
        # Every element an HtmlElement, chosen in C: lxml.html's own lookup is a Python method
        # called for every element proxy made (about 7 % of clean()), only to give form fields
        # classes of their own, which nothing here uses.
        parser.set_element_class_lookup(
            ElementDefaultClassLookup(
                element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
            )
        )
    return parser


def parse_html(html: str) -> HtmlElement:
    """Parse decoded HTML once, as trafilatura would (same repairs and options).

    Raises:
        Rejected: not_html when nothing parses, too_deep when libxml2 gave up on the
            nesting (beyond 2048 levels) and text was lost.
    """
    # imported here: trafilatura is heavy, and the crawler imports this module (through
    # `cleaners.softblock`) without ever parsing
    from trafilatura.utils import repair_faulty_html

    parser = _parser()
    try:
        tree = fromstring(
            repair_faulty_html(html, html[:50].lower()).encode("utf-8", "surrogatepass"), parser=parser
        )
    except Exception as err:  # lxml raises ParserError, ValueError or XMLSyntaxError on garbage
        raise Rejected("not_html", f"unparseable: {type(err).__name__}") from None
    if any("Excessive depth" in e.message for e in parser.error_log):
        raise Rejected("too_deep", "nesting beyond what the parser keeps; text would be lost")
    if tree is None or not isinstance(tree, HtmlElement):
        raise Rejected("not_html", "unparseable")
    return tree


def title_tag(tree: HtmlElement) -> str | None:
    """The text of the page's `<title>`, whitespace folded, or None."""
    els = tree.xpath("//head/title") or tree.xpath("//title")
    if not els:
        return None
    t = WS.sub(" ", els[0].text_content()).strip()
    return t or None


def html_lang(tree: HtmlElement) -> str | None:
    """The language the `<html lang>` attribute declares (its primary subtag), or None."""
    lang = tree.get("lang") or tree.get("xml:lang")
    if lang:
        return lang.split("-")[0].split("_")[0].lower()[:3] or None
    return None


def drop_keeping_tail(el: HtmlElement) -> None:
    """Remove an element but keep its tail text, which belongs to the parent."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail and el.tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)
