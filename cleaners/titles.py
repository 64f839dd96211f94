"""Titles: which candidate is the statement's title, and what of it is the site's name.

A page states its title in several places (the state.gov hero, og:title, twitter:title,
JSON-LD headline, `<title>`, `<h1>`), most of them with the site's name attached
("Title - United States Department of State", "Site | Title", "[List] Title").
`choose_title` first looks for the heading that agrees with og:title or `<title>`: the page's
own headline, found whole in the title once a mailing list's tag and a reply prefix are gone,
and not the site's name (a banner's heading, a link home). A title whose own words hold a
separator ("Department Press Briefing – May 6, 2022") is kept whole that way. Without such a
heading, it takes the first candidate that is still a title once `strip_title_suffix` has cut
the site's name off. A forum's `<title>` is read from where its reply's subject starts
(`subject_from`); a `<title>` that is a file's name is no title, and the converted document's
large first line is (`cleaners.fields.large_first_line`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from cleaners.dates import is_date_only
from cleaners.fields import MAX_HEADING_CHARS as _MAX_HEADING_CHARS
from cleaners.fields import (
    class_sizes,
    field_title,
    headline_elements,
    large_first_line,
    named_headline,
    names_headline,
    reads_as_file_name,
    set_large,
)
from cleaners.fields import reads_as_title as reads_as_title
from cleaners.fields import title_after_dateline as title_after_dateline
from cleaners.fields import title_position as title_position
from cleaners.html import WS, title_tag
from cleaners.model import normalise_text
from cleaners.prose import is_prose as is_prose_line
from cleaners.sitename import NAME_WORDS as _NAME_WORDS
from cleaners.sitename import in_banner, is_own_name, is_site_name, name_key, own_names

_in_banner = in_banner  # the banner check, under the name tests/test_cleaners_structure.py imports

# the separators sites put between a title and their name: " | ", " - ", " – ", " -- ", " :: ",
# " » ", " · ", " • ", " / "
TITLE_SPLIT = re.compile(r"\s+(?:[|–—·•/-]|--|::|»)\s+")
# the ones a site's name is cut at by its wording alone (`_SITE_LIKE`), when the page does not
# say what it is called: a " / " or " · " inside a title is left to what the page says of itself
_WORDING_SPLIT = re.compile(r"\s+[|–—-]\s+|\s+::\s+|\s+»\s+")
_SITE_LIKE = re.compile(
    r"department\s+of\s+state|state\.gov|embass(?:y|ies)|consulates?|u\.?\s?s\.?\s+mission|usembassy|"
    r"\bnews\b|\bnewswire\b|\bwire\b|\bpress\b|\bonline\b|\.com\b|\.org\b|\.net\b",
    re.I,
)
SLUG_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about what a title or a URL slug is about.
STOP_WORDS = frozenset("the a an of on in and to for with at by s html htm php www".split())


def strip_title_suffix(
    title: str,
    site_name: str | None = None,
    host: str | None = None,
    names: frozenset[str] = frozenset(),
    nav: frozenset[str] = frozenset(),
) -> str:
    """'Title - United States Department of State' -> 'Title'; also 'Site | Title'.

    Where a part of the title is what the page calls its own site (`names`, from
    `cleaners.sitename.own_names`, or the host written out), the parts at either end that are
    the site's name, or a section's label (a link text of the page, `nav`) beside it, go and
    nothing else does. Otherwise the site's name is recognised by its wording (`_SITE_LIKE`),
    at the separators such names are usually set behind. A date is never all that is left:
    "Department Press Briefing – May 6, 2022" stays whole."""
    title = title.strip()
    parts = [p for p in TITLE_SPLIT.split(title) if p]
    names = names | ({name_key(site_name)} if site_name else set())

    def own(seg: str) -> bool:
        return is_own_name(seg, names, host)

    if len(parts) > 1 and any(own(p) for p in parts):
        kept = _strip_edges(parts, lambda seg: own(seg) or normalise_text(seg) in nav)
        return _rejoin(title, kept)
    if len(parts) == 1 and ": " in title:
        # "Labor Watch Blog: Title" on laborwatch.example
        head, _, rest = title.partition(": ")
        squashed = re.sub(r"[^a-z0-9]", "", normalise_text(head))
        host_words = _host_words(host)
        if (
            rest.strip()
            and len(head.split()) <= 4
            and (own(head) or any(len(w) >= 4 and squashed.startswith(w) for w in host_words))
        ):
            return rest.strip()
    parts = [p for p in _WORDING_SPLIT.split(title) if p]
    if len(parts) < 2:
        return title
    site_key = normalise_text(site_name) if site_name else None
    host_words = _host_words(host)

    def site_like(seg: str) -> bool:
        key = normalise_text(seg)
        if site_key and (key == site_key or key in site_key or site_key in key):
            return True
        if host_words and set(SLUG_WORD.findall(key)) <= host_words | {"the"}:
            return True
        return len(seg.split()) <= 8 and _SITE_LIKE.search(seg) is not None

    return _rejoin(title, _strip_edges(parts, site_like, lead_words=6))


def _host_words(host: str | None) -> set[str]:
    """The words of a host name, its www and top-level parts left out."""
    return set(SLUG_WORD.findall((host or "").lower())) - {"www", "com", "org", "net", "gov", "example"}


def _strip_edges(parts: list[str], site: Callable[[str], bool], lead_words: int = 0) -> list[str]:
    """`parts` without the run of site parts at its end, then at its start (a leading one of at
    most `lead_words` words, when given); never down to nothing or to a date alone."""
    parts = list(parts)

    def may_drop(i: int) -> bool:
        rest = parts[:i] + parts[i + 1 :]
        return bool(rest) and not all(is_date_only(p) for p in rest) and site(parts[i])

    while len(parts) > 1 and may_drop(len(parts) - 1):
        parts.pop()
    while len(parts) > 1 and (not lead_words or len(parts[0].split()) <= lead_words) and may_drop(0):
        parts.pop(0)
    return parts


def _rejoin(kept: str, parts: list[str]) -> str:
    """The span of the original title from the first to the last kept part (separators
    inside it were part of the title: "U.S.-Mexico - Joint Statement" stays whole)."""
    start = kept.find(parts[0])
    end = kept.rfind(parts[-1]) + len(parts[-1])
    return kept[start:end].strip() if start >= 0 and end > start else " - ".join(parts)


def title_suffix(title: str | None) -> str | None:
    """The last part of a title split at its separators ("Title | U.S. Embassy in Mexico")."""
    if not title:
        return None
    parts = TITLE_SPLIT.split(title)
    return parts[-1] if len(parts) > 1 else None


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


# "[FA-List] ...", "Re: ...", "Fwd: ...": a mailing list's tag and reply prefixes before a subject
_LIST_TAG = re.compile(r"^\s*(?:(?:\[[^\[\]]{1,40}\]|(?:re|fwd?|aw|tr)\s*(?:\[\d+\])?\s*:)\s*)+", re.I)
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6", "b", "strong", "font")


_REPLY_START = re.compile(r"(?:re|fwd?|aw|tr)\s*(?:\[\d+\])?\s*:\s", re.I)


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


def _spans(segments: list[tuple[int, int]]) -> Iterable[tuple[int, int]]:
    for i in range(len(segments)):
        for j in range(i + 1, len(segments) + 1):
            yield i, j


def _segments(title: str) -> list[tuple[int, int]]:
    """Where the parts of a title split at its separators are: (start, end) offsets; a short
    head before ': ' is a part of its own ("Blog Name: Title")."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for m in TITLE_SPLIT.finditer(title):
        bounds.append((start, m.start()))
        start = m.end()
    bounds.append((start, len(title)))
    bounds = [(i, j) for i, j in bounds if title[i:j].strip()]
    if bounds:
        i, j = bounds[0]
        colon = title.find(": ", i, j)
        if colon > 0 and title[colon + 2 : j].strip() and len(title[i:colon].split()) <= 4:
            bounds[:1] = [(i, colon), (colon + 2, j)]
    return bounds


def agreeing_heading(
    tree: HtmlElement,
    titles: Iterable[str | None],
    site_name: str | None,
    host: str | None,
    nav: frozenset[str] = frozenset(),
    names: Callable[[], frozenset[str]] = frozenset,
) -> str | None:
    """The page's heading that is the statement's title: the one whose text is the whole of
    og:title or `<title>` (list tag and reply prefix removed), else one that is a run of its
    separated parts while what is left names the site (the site's name, a banner's heading, or
    a heading standing before this one). A heading that is the site's own (in a banner, a link
    home, the site's name) or a navigation item (its text is that of a link to another page,
    `nav`: a `<title>` naming the site and its section agrees with the section's label) never is."""
    wanted: list[tuple[str, str, list[tuple[int, int]]]] = []
    for title in titles:
        if title and not reads_as_file_name(title):
            cleaned = strip_list_tag(subject_from(WS.sub(" ", title).strip()))
            if cleaned:
                wanted.append((normalise_text(cleaned), cleaned, _segments(cleaned)))
    if not wanted:
        return None
    # heading elements first; headlines named so by their class only when none of those agrees
    # (finding them costs a pass over the page)
    for elements in (lambda: tree.iter(*_HEADINGS), lambda: headline_elements(tree, _HEADINGS)):
        agreed = _agreeing(elements(), wanted, site_name, host, nav, names)
        if agreed:
            return agreed
    return None


def _agreeing(
    elements: Iterable[HtmlElement],
    wanted: list[tuple[str, str, list[tuple[int, int]]]],
    site_name: str | None,
    host: str | None,
    nav: frozenset[str],
    names: Callable[[], frozenset[str]],
) -> str | None:
    headings: list[tuple[HtmlElement, str, str]] = []
    for el in elements:
        raw = el.text_content()
        if raw.strip() and len(raw) <= _MAX_HEADING_CHARS:
            text = strip_list_tag(WS.sub(" ", raw).strip())
            if text and normalise_text(text) not in nav:
                headings.append((el, text, normalise_text(text)))
    found: list[tuple[int, str, str, str]] = []  # position, key, the rest of the title, text
    for pos, (el, text, key) in enumerate(headings):
        for whole, cleaned, segs in wanted:
            if key == whole:
                if not is_site_name(text, site_name, host):
                    return text
                continue
            if key not in whole:
                continue
            for i, j in _spans(segs):
                if (i, j) == (0, len(segs)) or normalise_text(cleaned[segs[i][0] : segs[j - 1][1]]) != key:
                    continue
                if is_site_name(text, site_name, host) or in_banner(el, host):
                    continue
                others = [cleaned[a:b] for a, b in segs[:i] + segs[j:]]
                rest = " - ".join(normalise_text(o) for o in others)
                site_like = (
                    is_site_name(rest, site_name, host)
                    or (
                        any(is_own_name(o, names(), host) for o in others)
                        and all(is_own_name(o, names(), host) or normalise_text(o) in nav for o in others)
                    )
                    or any(
                        k == rest and (p < pos or in_banner(h, host)) for p, (h, _, k) in enumerate(headings)
                    )
                )
                if site_like or len(key.split()) >= len(rest.split()):
                    found.append((pos, key, rest, text))
    # of two headings that make up the title between them, the first is the site's
    sites = {rest for pos, _, rest, _ in found if any(k == rest and p < pos for p, k, _, _ in found)}
    kept = [(len(key.split()), text) for _, key, _, text in found if key not in sites]
    return max(kept, key=lambda c: c[0])[1] if kept else None


def choose_title(
    tree: HtmlElement,
    meta: Mapping[str, str],
    ld: Mapping[str, object],
    hero: Mapping[str, object],
    guess: Callable[[], str | None],
    site_name: str | None,
    host: str | None,
    nav: frozenset[str] = frozenset(),
) -> str | None:
    """The statement's title: the state.gov hero's, else the heading that agrees with og:title or
    `<title>` (`agreeing_heading`), else the first of og:title, twitter:title,
    the JSON-LD headline, trafilatura's guess (`guess`, called only when reached), `<title>`
    and the `<h1>`s that is neither the site's name once the site's name is cut off nor a
    navigation item (`nav`, from `nav_texts`). None when no candidate is left: the caller then
    looks for the headline above the text (`headline_above`)."""
    if hero.get("title"):
        return str(hero["title"])
    memo: list[frozenset[str]] = []

    def names() -> frozenset[str]:
        # what the page calls itself, read once and only when a title has parts to judge
        if not memo:
            memo.append(own_names(tree, meta, host))
        return memo[0]

    tag = title_tag(tree)
    if tag and reads_as_file_name(tag):
        large = large_first_line(tree, host, nav)
        if large:
            return large
    agreed = agreeing_heading(tree, (meta.get("og:title"), tag), site_name, host, nav, names)
    if agreed:
        return agreed
    headline = ld.get("headline")
    candidates: list[str | None | Callable[[], str | None]] = [
        meta.get("og:title"),
        meta.get("twitter:title"),
        headline if isinstance(headline, str) else None,
        lambda: _guessed(guess(), tag, lambda t: strip_title_suffix(t, site_name, host, names(), nav), tree),
        tag,
    ]
    for h1 in tree.xpath("//h1"):
        candidates.append(WS.sub(" ", h1.text_content()).strip())
    for cand in candidates:
        if callable(cand):
            cand = cand()
        if not cand:
            continue
        cand = strip_list_tag(subject_from(WS.sub(" ", cand).strip())) or WS.sub(" ", cand).strip()
        if reads_as_file_name(cand):
            continue  # a converted document's file name; its title is the large first line
        parted = TITLE_SPLIT.search(cand) is not None or ": " in cand
        stripped = strip_title_suffix(cand, site_name, host, names() if parted else frozenset(), nav)
        if (
            stripped
            and not reads_as_file_name(stripped)
            and not is_site_name(stripped, site_name, host)
            and not (len(stripped.split()) <= _NAME_WORDS and is_own_name(stripped, names(), host))
            and normalise_text(stripped) not in nav
        ):
            return stripped
    return named_headline(tree, site_name, host, nav, names()) or field_title(tree, site_name, host, nav)


def _guessed(guess: str | None, tag: str | None, cut: Callable[[str], str], tree: HtmlElement) -> str | None:
    """Trafilatura's title guess, unless it is no part of the statement's title: a part of a
    file name or of a forum's chrome (`_not_from_file_name`), a run of the `<title>`'s parts
    that holds some of what `cut` (the site's names gone) takes off ("October 7, 2025 - Board"
    of "Briefing – October 7, 2025 - Board - Forum"), or a part `_unless_cut_from` sets aside."""
    guess = _not_from_file_name(guess, tag)
    if not guess or not tag:
        return guess
    full = strip_list_tag(subject_from(WS.sub(" ", tag).strip()))
    kept = cut(full)
    key = normalise_text(strip_list_tag(subject_from(WS.sub(" ", guess).strip())))
    if kept != full and key in normalise_text(full) and key not in normalise_text(kept):
        return None
    return _unless_cut_from(guess, kept, tree)


def _not_from_file_name(guess: str | None, tag: str | None) -> str | None:
    """Trafilatura's title guess, unless it is a part of a `<title>` that is a file's name
    ("Microsoft Word" of "Microsoft Word - brief_0412.docx") or of the chrome before a reply's
    subject ("View topic" of "Forum • View topic - Re: Title", `subject_from`)."""
    if not guess or not tag:
        return guess
    key, whole = normalise_text(WS.sub(" ", guess)), normalise_text(WS.sub(" ", tag))
    if reads_as_file_name(tag) and key in whole:
        return None
    subject = subject_from(tag)
    if subject != tag and key in normalise_text(tag[: len(tag) - len(subject)]):
        return None
    return guess


def _unless_cut_from(guess: str | None, cut: str | None, tree: HtmlElement) -> str | None:
    """Trafilatura's title guess, unless it is one part of the `<title>` as our own rules cut it
    (`cut`, the site's name gone) and the rest of that is the statement's too: a date
    ("Department Press Briefing – May 6, 2022"), or the page's text holds the whole of it.
    Trafilatura keeps one part of a title it splits; the caller then takes `cut`. Where the
    page says nothing of the rest ("Title – Readout" on a site that never prints its name),
    the guess stands: the rest may be the site's name."""
    if not guess or not cut:
        return guess
    key = normalise_text(WS.sub(" ", guess))
    segs = _segments(cut)
    if len(segs) < 2 or key == normalise_text(cut):
        return guess
    for i, j in _spans(segs):
        if (i, j) == (0, len(segs)) or normalise_text(cut[segs[i][0] : segs[j - 1][1]]) != key:
            continue
        rest = [cut[a:b] for a, b in segs[:i] + segs[j:]]
        if all(is_date_only(r) for r in rest):
            return None
        body = tree.find("body")
        shown = normalise_text(WS.sub(" ", body.text_content())) if body is not None else ""
        return None if normalise_text(cut) in shown else guess
    return guess


def nav_texts(tree: HtmlElement, *urls: str | None) -> frozenset[str]:
    """The texts of the page's links to other pages (folded): navigation items, section labels
    and other stories' titles, none of which is this page's title. In-page anchors (a table of
    contents) and links to the page itself (`urls`: its address and canonical URL, or marked as
    the current page) are left out."""
    base = next((u for u in urls if u), "")
    own: set[tuple[str, str, str]] = set()
    for u in urls:
        if u:
            with contextlib.suppress(ValueError):
                own.add(_page_key(u))
    out: set[str] = set()
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")) or a.get("aria-current"):
            continue
        try:
            if _page_key(urljoin(base, href)) in own:
                continue
        except ValueError:  # an href no URL parser accepts ("http://[ccpa-preferences]")
            continue
        text = normalise_text(a.text_content())
        if text:
            out.add(text)
    return frozenset(out)


def _page_key(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    return parts.netloc.lower().removeprefix("www."), parts.path.rstrip("/"), parts.query


_HEADLINE_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "b", "strong")
_HEADLINE_LINES = 8  # a headline stands among the first lines of the extracted text


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
