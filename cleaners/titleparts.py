"""How a page's title is put together: the separators between its parts, the tags and markers
before a subject, and the parts a heading or a title is split into.

A site sets the statement's title among words of its own: its name and its sections behind
separators ("Title | Board | Forum", "Title_国际_某某网"), a mailing list's tag, a reply's
marker or a thread's state before the subject ("[News] Re: Title", "Sticky: Title"), a label
of its own inside the heading (`<h1><span>News</span> Title</h1>`). This module says where
those parts are; `cleaners.titles` decides which of them is the statement's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml.html import HtmlElement

from cleaners.html import WS

# the separators sites put between a title and their name: " | ", " - ", " – ", " -- ", " :: ",
# " » ", " › ", " · ", " • ", " / "; the full-width bars of CJK pages ("｜", "丨"); and, beside
# a part in CJK script, an underscore, a bar or a dash without spaces and a 【bracketed】 part
# ("Title_国际_某某网", "Title【国际】-某某网")
_CJK = "\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef"
_CJK_SPLIT = f"\\s*[_|–—-]\\s*(?=[{_CJK}])|(?<=[{_CJK}])\\s*[_|–—-]\\s*|\\s*(?=【)|(?<=】)\\s*[_|–—-]?\\s*"
TITLE_SPLIT = re.compile(r"\s+(?:[|–—·•/-]|--|::|»|›)\s+|\s*[｜丨]\s*|" + _CJK_SPLIT)

SLUG_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about what a title or a URL slug is about.
STOP_WORDS = frozenset("the a an of on in and to for with at by s html htm php www".split())


# a forum thread's state, set before its subject ("Sticky: ...", "Pinned: ...", "[Solved] ...")
_STATE = r"(?:sticky|pinned|locked|closed|solved|resolved|moved|merged|poll|announcement)"

# "[FA-List] ...", "【频道】...", "Re: ...", "Fwd: ...", "Sticky: ...", "📌 ...": a mailing list's or a
# portal's tag, reply prefixes and a thread's state before a subject
_LIST_TAG = re.compile(
    r"^\s*(?:(?:\[[^\[\]]{1,40}\]|【[^【】]{1,20}】|(?:re|fwd?|aw|tr)\s*(?:\[\d+\])?\s*:|"
    + _STATE
    + r"\s*:|[\U0001f4cc\U0001f4cd\U0001f512\u2605\u2606])\s*)+",
    re.I,
)
SEG_TAG = re.compile(_LIST_TAG.pattern[1:], re.I)  # the same at the start of a title's part


_REPLY_START = re.compile(r"(?:(?:re|fwd?|aw|tr)\s*(?:\[\d+\])?|" + _STATE + r")\s*:\s", re.I)


def subject_from(title: str) -> str:
    """A forum's or an archive's `<title>` from where its subject starts: the part after a
    separator that opens with a reply marker ("Forum • View topic - Re: [Tag] Title" ->
    "Re: [Tag] Title"). What stands before a reply's subject is the board's chrome."""
    for m in TITLE_SPLIT.finditer(title):
        if _REPLY_START.match(title, m.end()):
            return title[m.end() :].strip()
    return title


def strip_list_tag(subject: str) -> str:
    """'[FA-Digest] Re: Title' -> 'Title': a list's tag and reply prefixes are not the subject."""
    return _LIST_TAG.sub("", subject).strip()


def spans(segments: list[tuple[int, int]]) -> Iterable[tuple[int, int]]:
    for i in range(len(segments)):
        for j in range(i + 1, len(segments) + 1):
            yield i, j


def segments(title: str) -> list[tuple[int, int]]:
    """Where the parts of a title split at its separators are: (start, end) offsets; a short
    head before ': ' is a part of its own ("Blog Name: Title")."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for m in TITLE_SPLIT.finditer(title):
        bounds.append((start, m.start()))
        start = m.end()
    bounds.append((start, len(title)))
    # a part opens with a thread's or a list's tag ("Forum › Board › [News] Title"): the part
    # is what follows it
    bounds = [(_after_tag(title, i, j), j) for i, j in bounds]
    bounds = [(i, j) for i, j in bounds if title[i:j].strip()]
    if bounds:
        i, j = bounds[0]
        colon = title.find(": ", i, j)
        if colon > 0 and title[colon + 2 : j].strip() and len(title[i:colon].split()) <= 4:
            bounds[:1] = [(i, colon), (colon + 2, j)]
    return bounds


def _after_tag(title: str, i: int, j: int) -> int:
    m = SEG_TAG.match(title, i, j)
    return m.end() if m and m.end() < j else i


BADGE_WORDS = 3


def without_badge(el: HtmlElement, raw: str | None = None) -> str:
    """A heading's text after the label a forum or a portal sets in an element of its own
    before the subject (`<h1><span class="label">News</span> Title</h1>`, a thread's prefix or
    state): the first child, of a few words, that opens the heading and is followed by more
    text. "" when the heading opens with no such label. `raw`: the heading's text, when the
    caller has it."""
    if not len(el) or (el.text or "").strip() or not isinstance(el[0].tag, str):
        return ""
    badge = WS.sub(" ", el[0].text_content()).strip()
    if not badge or len(badge.split()) > BADGE_WORDS:
        return ""
    whole = WS.sub(" ", el.text_content() if raw is None else raw).strip()
    if not whole.startswith(badge):
        return ""
    rest = strip_list_tag(whole[len(badge) :].strip())
    return rest if len(rest.split()) >= len(badge.split()) else ""


_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_LETTER = re.compile(r"[^\W\d_]")


def other_script(part: str, title: str) -> bool:
    """The title's part is written in another script than the title (`title`, the part that
    is kept): a portal's Chinese channel and name beside an English headline, or an English
    site name beside a Cyrillic one. What differs in script from the statement's words is the
    site's."""
    if not _LETTER.search(part) or not _LETTER.search(title):
        return False
    return bool(_LATIN.search(part)) != bool(_LATIN.search(title))
