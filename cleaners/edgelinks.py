"""Source links: a short line or card whose link points at the official original.

Republishing sites name the original in a line of their own, labelled in the site's language
("Source:", "Fuente:", "Quelle :", "来源：", "المصدر:", "Reblogged from", "Transcribed from"), or
in a preview card holding the original's title and host. Their wording varies without end;
what they share is their shape: a block of a few words whose link goes to a page (not the home
page) on an official host, the rest of the block a label of at most a few words that ends no
sentence, or nothing but the card's own host name. Such a block names where the text came
from (the page claims that original) and is provenance, not text.

A notes box says the same in a sentence ("Transcribed from <the official site> on 4 May.",
"Texto tomado del <sitio oficial>."), its link's text often no host at all: one or two short
sentences linking a statement's page (not a home page or a section), in a box of its own
apart from the text or a paragraph above the text's first paragraph or below its last, and
neither pointing, quoting nor citing ("compare", "as ... wrote", a quotation, "(2014)").

A link inside running text is a citation, not a claim: a block that reads as prose, whose
label ends a sentence ("For more information, visit <link>."), or whose label points the
reader on ("see", "visit", "learn more") is no source line.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from cleaners.credits import CITATION
from cleaners.html import WS, drop_keeping_tail
from cleaners.model import Removal
from cleaners.prose import content_tokens, ends_sentence, is_prose, sentence_count, word_count
from cleaners.urls import DEFAULT_OFFICIAL_DOMAINS, host_of, is_official_host, site_key

BLOCKS = frozenset(
    "p div li dd dt figure figcaption aside footer header section td blockquote cite small address".split()
)
MAX_LABEL_WORDS = 5
MAX_BLOCK_WORDS = 40
_MAX_CARD_WORDS = 30
# words that send the reader on from inside the text ("visit", "see", "learn more at"): a
# statement's own pointer to a page, not a line naming where the copy came from
POINTER = re.compile(
    r"\b(?:visit|see|click|learn|available|download|watch|read\s+(?:the|more|about)|follow|"
    r"information|details|register|apply|contact|related|also|previous|next|earlier|prior)\b|"
    r"相关|相關|関連|参见|参見|延伸阅读|также|похож|ذات صلة",
    re.I,
)
STRIP = " \t-–—|·•»›>()[]（）【】"
# elements inside a line of text, not blocks of their own
INLINE = frozenset("a span b i em strong font u small code abbr bdi bdo sup sub".split())
_HOSTLIKE = re.compile(r"^(?:https?://)?(?:[\w-]+\.)+[a-z]{2,}(?:/\S*)?$", re.I)
LABEL_END = ":：﹕"
# scripts written without spaces: a label's characters are counted about three to a word
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f\u1000-\u109f]")
# words of a note that cites or quotes another text rather than naming where this one came from
_CITING = re.compile(
    r"\b(?:here|compare[ds]?|quot(?:e|ed|es|ing)|cited?|according|wrote|said|put\s+it)\b", re.I
)
_QUOTED = re.compile(r"[\"“”«»„「」『』]|(?:^|\s)'\w[^']*\w'(?=\W|$)")
_MAX_NOTE_WORDS = 35
MAX_LONG_LABEL = 12
_MAX_AFTER_LINK = 4


def label_words(text: str) -> int:
    """Words of a label; in scripts written without spaces three characters count as one (a
    label "原文はこちら：" is two or three words, not six)."""
    unspaced = len(_UNSPACED.findall(text))
    if not unspaced:
        return len(text.split())
    return -(-unspaced // 3) + len(_UNSPACED.sub(" ", text).split())


def statement_path(url: str) -> bool:
    """The URL's path looks like one statement's page, not a home page or a section: a last
    segment of three words or more, or with a number in it, or a file, or a deep path."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if not parts:
        return False
    last = parts[-1]
    words = [w for w in re.split(r"[-_+.]+", last) if w]
    return len(words) >= 3 or any(c.isdigit() for c in last) or "." in last or len(parts) >= 3


def text_of(el: HtmlElement) -> str:
    return WS.sub(" ", el.text_content()).strip()


def _block_of(a: HtmlElement) -> HtmlElement | None:
    for el in a.iterancestors():
        if el.tag in BLOCKS:
            return el
        if el.tag in ("body", "html"):
            return None
    return None


def _label(block: HtmlElement, href: str) -> str:
    """The block's text without the texts of its links to `href`."""
    text = text_of(block)
    for a in block.iter("a"):
        if (a.get("href") or "").strip() == href:
            anchor = text_of(a)
            if anchor:
                text = text.replace(anchor, " ", 1)
    return WS.sub(" ", text).strip()


def is_label(label: str, anchor: str, title: str) -> bool:
    """A label a source line stands behind: a few words, no sentence, no pointer; or nothing,
    when the link's own text is a host or the page's title (a card naming the original)."""
    bare = label.strip(STRIP)
    if not bare:
        return bool(_HOSTLIKE.match(anchor)) or _names_title(anchor, title)
    if _HOSTLIKE.match(bare):
        return True  # a card's host line under the original's title
    if label_words(bare) > MAX_LABEL_WORDS or POINTER.search(bare):
        return False
    return not ends_sentence(bare) or bare.rstrip().endswith(tuple(LABEL_END))


def edge_label(bare: str, url: str) -> bool:
    """A label of a few more words a line standing apart at an edge of the text may carry before
    the original's URL or link ("The statement as posted on the Department's site:", "Texto
    tomado de"): at most a dozen words, no pointer, no citing or quoting, and the URL goes to a
    statement's page."""
    if "http" in bare or label_words(bare) > MAX_LONG_LABEL or not statement_path(url):
        return False
    if ends_sentence(bare) and not bare.endswith(tuple(LABEL_END)):
        return False
    return not (POINTER.search(bare) or _CITING.search(bare) or _QUOTED.search(bare))


def _is_note(block: HtmlElement, label: str, anchor: str, href: str) -> bool:
    """A note naming where the text was taken from ("Transcribed from <the official site> on
    <date>."): one or two short sentences, not running text, neither pointing, quoting nor
    citing, linking a statement's page, in a box of its own apart from the text or a paragraph
    above the text's first paragraph or below its last."""
    text = text_of(block)
    if word_count(text) > _MAX_NOTE_WORDS or sentence_count(text) > 2 or not statement_path(href):
        return False
    if is_prose(text) and sentence_count(text) < 2:
        return False  # one long sentence: the text's own
    if POINTER.search(label) or _CITING.search(text) or _QUOTED.search(text) or CITATION.search(text):
        return False
    if _apart(block):
        return True
    # a paragraph of the text's own kind: the link must close what the note says ("Taken from
    # <link> on 5 May."), not open a clause of its own ("Taken together with <link>, it ...")
    after = re.split(r"[.;!?。；]", text.split(anchor, 1)[1], maxsplit=1)[0] if anchor in text else text
    return len(after.split()) <= _MAX_AFTER_LINK and _outside_text(block)


def _outside_text(block: HtmlElement) -> bool:
    """The block stands above every paragraph of running text beside it, or below all of them."""
    parent = block.getparent()
    if parent is None:
        return False
    prose = [el is block or is_prose(text_of(el)) for el in parent if isinstance(el.tag, str)]
    at = next(i for i, el in enumerate(el for el in parent if isinstance(el.tag, str)) if el is block)
    return not any(prose[:at]) or not any(prose[at + 1 :])


_OWN_BOXES = frozenset("td th aside header footer dd figcaption".split())


def _apart(block: HtmlElement) -> bool:
    """The block stands in a box of its own: it is a cell, an aside, a header or footer, or
    the outermost element holding it and no running text is more than the block itself."""
    if block.tag in _OWN_BOXES:
        return True
    box = block
    for parent in block.iterancestors():
        if parent.tag in ("body", "html", "article", "main") or is_prose(text_of(parent)):
            break
        if parent.tag in _OWN_BOXES:
            return True
        box = parent
    if box is block and block.tag != "p":
        # a box among the text's paragraphs: none of its siblings like it holds running text
        parent = block.getparent()
        like = [el for el in parent if el.tag == block.tag and el is not block] if parent is not None else []
        return not any(is_prose(text_of(el)) for el in like)
    return box is not block and len(box) > 0 and box.tag != "p"


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
    text = text_of(parent)
    hrefs = {(a.get("href") or "").strip() for a in parent.iter("a")}
    if hrefs != {href} or word_count(text) > _MAX_CARD_WORDS or is_prose(text):
        return block
    if any(el.tag in ("p", "li") and is_prose(text_of(el)) for el in parent.iter()):
        return block
    return parent


def official_links(
    body: HtmlElement, own: str | None, official: tuple[str, ...]
) -> list[tuple[HtmlElement, str]]:
    """(link, address) of the links to a page (not a home page) on an official host other than
    the page's own site (`own`, a site key). An address that does not hold an official domain's
    name is passed over before it is parsed: most links of a page are to the site itself."""
    keys = [p.strip().lower().lstrip("*.") for p in official]
    if any("*" in k or "?" in k for k in keys):
        keys = []  # a glob inside a pattern: every link is parsed
    out = []
    for a in body.iter("a"):
        href = (a.get("href") or "").strip()
        if not href.startswith(("http://", "https://")):
            continue
        if keys and not any(k in href.lower() for k in keys):
            continue
        host = host_of(href)
        if not is_official_host(host, official) or (own and site_key(host) == own):
            continue
        if urlsplit(href).path not in ("", "/"):
            out.append((a, href))
    return out


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
    title = " ".join(text_of(t) for t in tree.iterfind(".//title"))
    title += " " + " ".join(text_of(h) for h in body.iter("h1", "h2"))
    for a, href in official_links(body, own, official):
        block = _block_of(a)
        if block is None or id(block) in seen:
            continue
        text = text_of(block)
        label = _label(block, href)
        if not text or word_count(label) > MAX_BLOCK_WORDS:
            continue
        labelled = not is_prose(label) and not is_prose(text) and is_label(label, text_of(a), title)
        if not labelled and not _is_note(block, label, text_of(a), href):
            continue
        block = _card(block, href)
        seen.add(id(block))
        found.append((block, href, text_of(block)))
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
            removals.append(Removal("source_link", text_of(block)))
            parent = block.getparent()
            drop_keeping_tail(block)
            # a link whose whole text was the line's goes with it (an empty link left behind
            # would end the text's last paragraph for the extractor)
            if (
                parent is not None
                and parent.tag in INLINE
                and not len(parent)
                and not (parent.text or "").strip()
            ):
                drop_keeping_tail(parent)
    return removals
