"""Titles: which candidate is the statement's title, and what of it is the site's name.

A page states its title in several places (the state.gov hero, og:title, twitter:title,
JSON-LD headline, `<title>`, `<h1>`), most of them with the site's name attached
("Title - United States Department of State", "Site | Title", "[List] Title").
`choose_title` first looks for the heading that agrees with og:title or `<title>`: the page's
own headline (without a label the heading sets before it), found whole in the title once a
list's or a thread's tags and markers are gone (`cleaners.titleparts`), and not the site's name
(a banner's heading, a link home). What the title holds beside the heading is the site's when
the page names it so, when it is written in another script, or when the heading stands at the
title's start or end (a forum's board and name behind a subject). A title whose own words hold
a separator ("Department Press Briefing – May 6, 2022") is kept whole that way. Without such a
heading, the run of the title's parts that the address's slug spells (`slug_part`), else the
first candidate that is still a title once `strip_title_suffix` has cut the site's name off.
A forum's `<title>` is read from where its reply's subject starts (`subject_from`); a `<title>`
that is a file's name is no title, and the converted document's largest or bold first line is
(`cleaners.fields.large_first_line`).
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
    field_title,
    headline_elements,
    large_first_line,
    named_headline,
    names_headline,
    reads_as_file_name,
)
from cleaners.fields import reads_as_title as reads_as_title
from cleaners.fields import title_after_dateline as title_after_dateline
from cleaners.fields import title_position as title_position
from cleaners.headlines import first_line_title as first_line_title
from cleaners.headlines import headline_above as headline_above
from cleaners.headlines import longer_title as longer_title
from cleaners.html import WS, title_tag
from cleaners.model import normalise_text
from cleaners.sitename import NAME_WORDS as _NAME_WORDS
from cleaners.sitename import in_banner, is_own_name, is_site_name, name_key, own_names
from cleaners.titleparts import (
    SEG_TAG,
    other_script,
    segments,
    spans,
    without_badge,
)
from cleaners.titleparts import SLUG_WORD as SLUG_WORD
from cleaners.titleparts import STOP_WORDS as STOP_WORDS
from cleaners.titleparts import TITLE_SPLIT as TITLE_SPLIT
from cleaners.titleparts import strip_list_tag as strip_list_tag
from cleaners.titleparts import subject_from as subject_from

_in_banner = in_banner  # the banner check, under the name tests/test_cleaners_structure.py imports

# the ones a site's name is cut at by its wording alone (`_SITE_LIKE`), when the page does not
# say what it is called: a " / " or " · " inside a title is left to what the page says of itself
_WORDING_SPLIT = re.compile(r"\s+[|–—-]\s+|\s+::\s+|\s+»\s+")
_SITE_LIKE = re.compile(
    r"department\s+of\s+state|state\.gov|embass(?:y|ies)|consulates?|u\.?\s?s\.?\s+mission|usembassy|"
    r"\bnews\b|\bnewswire\b|\bwire\b|\bpress\b|\bonline\b|\.com\b|\.org\b|\.net\b",
    re.I,
)


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
    parts = [p for p in TITLE_SPLIT.split(title) if p.strip()]
    if len(parts) > 1:
        main = max(parts, key=len)
        kept = _strip_edges(parts, lambda seg: other_script(seg, main))
        if len(kept) < len(parts):
            title = SEG_TAG.sub("", _rejoin(title, kept), count=1).strip() or title
            parts = [p for p in TITLE_SPLIT.split(title) if p.strip()]
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


_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6", "b", "strong", "font")


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
                wanted.append((normalise_text(cleaned), cleaned, segments(cleaned)))
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
            plain, unlabelled = strip_list_tag(WS.sub(" ", raw).strip()), without_badge(el, raw)
            for text in (plain, unlabelled) if unlabelled != plain else (plain,):
                if text and (normalise_text(text) not in nav or _topic_link(el, text)):
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
            for i, j in spans(segs):
                if (i, j) == (0, len(segs)) or normalise_text(cleaned[segs[i][0] : segs[j - 1][1]]) != key:
                    continue
                if is_site_name(text, site_name, host) or in_banner(el, host):
                    continue
                others = [cleaned[a:b] for a, b in segs[:i] + segs[j:]]
                rest = " - ".join(normalise_text(o) for o in others)
                site_like = (
                    is_site_name(rest, site_name, host)
                    or all(other_script(o, text) for o in others)
                    or (
                        any(is_own_name(o, names(), host) for o in others)
                        and all(is_own_name(o, names(), host) or normalise_text(o) in nav for o in others)
                    )
                    or any(
                        k == rest and (p < pos or in_banner(h, host)) for p, (h, _, k) in enumerate(headings)
                    )
                )
                if (
                    site_like
                    or len(key.split()) >= len(rest.split())
                    or _at_edge(i, j, len(segs), key, others, el)
                ):
                    found.append((pos, key, rest, text))
    # of two headings that make up the title between them, the first is the site's
    sites = {rest for pos, _, rest, _ in found if any(k == rest and p < pos for p, k, _, _ in found)}
    kept = [(len(key.split()), text) for _, key, _, text in found if key not in sites]
    return max(kept, key=lambda c: c[0])[1] if kept else None


def _topic_link(el: HtmlElement, text: str) -> bool:
    """A page's main heading (an `<h1>`, `<h2>` or a class-named headline) of a few words or
    more that links elsewhere: a forum's subject links its topic's first page under another
    address (`viewtopic.php?t=77` from `viewtopic.php?f=3&t=77&start=15`), which makes it a
    navigation item by `nav_texts`; it may still agree with the `<title>`. A section's label
    is a word or two."""
    return (el.tag in ("h1", "h2") or names_headline(el)) and len(text.split()) >= _EDGE_WORDS


_EDGE_WORDS = 3  # a heading of a few words may be a section's label, not the headline


def _at_edge(i: int, j: int, count: int, key: str, others: list[str], el: HtmlElement) -> bool:
    """The heading is the run of the title's parts at its start or its end (`i`..`j` of `count`
    parts), the page's `<h1>` or more than a few words long, and what is left holds no date:
    the rest is the site's (a forum's board and name behind a thread's subject), however long."""
    return (
        (i == 0 or j == count)
        and (len(key.split()) > _EDGE_WORDS or (el.tag == "h1" and len(key.split()) >= 2))
        and not any(is_date_only(o) for o in others)
    )


def choose_title(
    tree: HtmlElement,
    meta: Mapping[str, str],
    ld: Mapping[str, object],
    hero: Mapping[str, object],
    guess: Callable[[], str | None],
    site_name: str | None,
    host: str | None,
    nav: frozenset[str] = frozenset(),
    url: str | None = None,
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
    for raw in (meta.get("og:title"), tag):
        slugged = slug_part(raw, url)
        if slugged:
            return slugged
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


_SLUG_WORDS = 3  # a slug of fewer words than this says too little of the title
_SLUG_MISSING = 0.2  # the share of a run's words its slug may leave out (a CMS drops a few)


def _slug_words(url: str | None) -> list[str]:
    """The words of the address's slug (the last part of its path that holds words:
    "/threads/joint-statement-on-cuba.81234/" -> joint, statement, cuba), stop words and
    numbers left out."""
    if not url:
        return []
    try:
        path = urlsplit(url).path
    except ValueError:
        return []
    for part in reversed([p for p in path.split("/") if p]):
        words = [w for w in SLUG_WORD.findall(part.lower()) if w not in STOP_WORDS and not w.isdigit()]
        if len(words) >= _SLUG_WORDS:
            return words
    return []


def slug_part(title: str | None, url: str | None) -> str | None:
    """The run of a title's parts that its page's address spells (`<title>` "[News] Joint
    Statement on Cuba | Board | Forum" at /threads/joint-statement-on-cuba.81234/): the fewest
    parts that hold every word of the slug, starting with its first, and not many more. The parts left out are
    the site's (its board and name, a thread's tag). None when no slug of a few words agrees
    with a run shorter than the whole title, or when a date would be left out."""
    words = _slug_words(url)
    if not title or not words:
        return None
    title = WS.sub(" ", title).strip()
    segs = segments(title)
    best: tuple[int, int] | None = None
    for i, j in spans(segs):
        run = title[segs[i][0] : segs[j - 1][1]]
        have = [w for w in SLUG_WORD.findall(normalise_text(run)) if w not in STOP_WORDS and not w.isdigit()]
        spelled = have[:1] == words[:1] and set(words) <= set(have)
        if spelled and len(set(have) - set(words)) <= len(set(have)) * _SLUG_MISSING:
            if best is None or j - i < best[1] - best[0]:
                best = (i, j)
    if best is None or best == (0, len(segs)):
        return None
    i, j = best
    if any(is_date_only(title[a:b]) for a, b in segs[:i] + segs[j:]):
        return None
    return title[segs[i][0] : segs[j - 1][1]].strip()


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
    segs = segments(cut)
    if len(segs) < 2 or key == normalise_text(cut):
        return guess
    for i, j in spans(segs):
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
    # A link to this very page names its last path segment (or is relative to it: "", "?..",
    # ".", "./"): only such hrefs are resolved, the others cannot be the page (resolving every
    # link of a page was most of this function's cost).
    tails = {path.rsplit("/", 1)[-1] for _, path, _ in own}
    out: set[str] = set()
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")) or a.get("aria-current"):
            continue
        if "" in tails or href.startswith(("?", ".")) or any(t in href for t in tails):
            try:
                if _page_key(urljoin(base, href)) in own:
                    continue
            except ValueError:  # an href no URL parser accepts ("http://[ccpa-preferences]")
                continue
        elif "[" in href:  # no URL parser accepts it ("http://[ccpa-preferences]"): not a page
            continue
        text = normalise_text(a.text_content())
        if text:
            out.add(text)
    return frozenset(out)


def _page_key(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    return parts.netloc.lower().removeprefix("www."), parts.path.rstrip("/"), parts.query
