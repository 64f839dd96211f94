"""Site chrome: the lines a host repeats on many of its pages, learned from the host's own pages.

An aggregator wraps every statement it republishes in the same chrome (a poster's line around
a quote, a list footer, "Printer page", a visitor counter, a tagline), each site in its own
words, so no line rule can know it. What gives it away is repetition: a site's chrome stands
on most of its pages, a statement's prose on one. This module owns that mechanism, without
I/O:

- `fingerprint` folds a line so its repeats match ("Visitors: 10234" and "Visitors: 10391",
  dates and weekdays too); `line_key` is the fingerprint as a 63-bit integer, what the store
  counts; a line that starts with a label ("Original location: <url>") counts its label
  apart too (`head_key`), since what follows the label differs from page to page;
- a page's keys count the lines the line rules cut from it too (`page_keys`): a credit line
  the rules remove on most of a site's pages is a line kind of that site, and it is known as
  such on the pages where its wording slipped past the rules;
- `is_chrome` decides from how many of a host's pages a fingerprint stands on; a line on
  fewer of them but on `CHROME_MIN_PAGES` or more (a promotion a site rotates, shown on one
  page in ten) is chrome only at the edges of a text (`edge_key`, `strip_chrome`);
- `strip_keys` says which of a page's keys can change what `strip_chrome` does to it (those
  of its text, not of the lines the rules cut), so a change of chrome cleans again only the
  pages it can touch;
- `HostLines` counts in memory (one page once, whatever its repeats), for a caller that holds
  every page of a host (the benchmark); the store keeps the same counts on disk;
- `strip_chrome` removes a host's chrome lines (and lines behind a chrome label, or only the
  label when the statement's paragraph is glued to it, and the repeated lines at the text's
  edges) from a Document and rebuilds what derives from its text, never a line the caller
  protects (a line of a stored official statement) and never the whole text.

Which hosts to apply it to (not the official ones) and where the counts live are the caller's.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable

from cleaners.dates import DMY, ISO, MDY, NUMERIC
from cleaners.language import detect_language
from cleaners.linechecks import is_place_name
from cleaners.model import Document, Removal, content_hash, normalise_text
from cleaners.prose import ends_sentence, is_prose, word_count
from cleaners.ruletable import LINE_RULES

#: a fingerprint is chrome of a host when it stands on at least this share of the host's pages.
#: On the development templates chrome lines stand on 60-100 % of a host's pages (a forum's
#: rotating replies on 60 %) and the statements' most repeated line, a formulaic lead-in, on
#: 13 %; the threshold lies between the two.
CHROME_SHARE = 0.35
#: ... and on at least this many of them: two pages that share a line say nothing yet
CHROME_MIN_PAGES = 3
#: the rule name chrome removals are recorded under in `Document.removed`
RULE = "site_chrome"
#: below this, what stripping would leave is no statement: the page keeps its text
MIN_LEFT_CHARS = 80

_DAY_NAME = re.compile(r"\b(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\b\.?")
_MONTH_NAME = re.compile(
    r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_DIGITS = re.compile(r"\d+")
# a footnote reference after a sentence's end: "End text.2", "...in 2023.[4]", "...agreed.*"
_NOTE_REF = re.compile(r"(?<=[.!?:)\"'\u201d\u2019])\s*(?:\[\d{1,3}\]|\d{1,3}|[*\u2020\u2021]+)$")
_HEAD = re.compile(r"^(.{2,80}?:)\s*(\S.*)$")
#: a label (`split_head`) has at most this many words
HEAD_WORDS = 8
#: what cuts whole lines at a text's edges: the line rules, a copy's source line and a
#: republisher's note; what they cut still counts toward its site's lines (`page_keys`), so a
#: line one of them cuts on most pages is still the site's where it stays
_LINE_CUTS = frozenset(r.name for r in LINE_RULES) | {"source_link", "repost_note"}
#: an edge key is a line key with these bits flipped: a set of keys holds both kinds
_EDGE_MASK = 0x5A5A_5A5A_5A5A_5A5A


def fingerprint(line: str) -> str:
    """The folded form of a line: `normalise_text` (case, whitespace, quotes, dashes), then
    dates, day and month names as placeholders and every run of digits as "0", so a counter,
    a date or a serial number does not make a repeated line look new."""
    text = normalise_text(line)
    for pattern in (MDY, DMY, ISO, NUMERIC):
        text = pattern.sub("<date>", text)
    text = _DAY_NAME.sub("<day>", text)
    text = _MONTH_NAME.sub("<month>", text)
    return _DIGITS.sub("0", text)


def _key(form: str) -> int:
    digest = hashlib.blake2b(form.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


@functools.lru_cache(maxsize=4096)
def line_key(line: str) -> int:
    """A line's fingerprint as a non-negative 63-bit integer (fits an SQLite INTEGER). Cached:
    one page's lines are keyed by its count, by `strip_keys`, by the strip and by its edges."""
    return _key(fingerprint(line))


def edge_key(key: int) -> int:
    """The key that says "the line of `key` is chrome at the edges of a text only"."""
    return key ^ _EDGE_MASK


def split_head(line: str) -> tuple[str, str] | None:
    """A line's label and what follows it ("Original location:" and a URL, "Previous message
    (by thread):" and a neighbour's title, "The press office wrote:" and a quoted paragraph),
    or None. A label is a few words ending in a colon near the start of the line; "https:"
    and times ("21:12") are none."""
    m = _HEAD.match(line)
    if m is None or m.group(2).startswith("//") or word_count(m.group(1)) > HEAD_WORDS:
        return None
    return m.group(1), m.group(2)


def head_key(line: str) -> int | None:
    """The key of a line's label (`split_head`), apart from whole-line keys; None without one."""
    head = split_head(line)
    return _key("\x00head " + fingerprint(head[0])) if head else None


def text_lines(text: str) -> list[str]:
    """The lines of a cleaned text (its paragraphs), blank ones left out."""
    return [ln.strip() for ln in text.split("\n") if ln.strip()]


def _single_heads(lines: list[str]) -> list[int | None]:
    """Each line's label key (`head_key`), None for a label the page uses more than once:
    a transcript's "QUESTION:" and "MR PRICE:" label its own dialogue, not the site's chrome."""
    heads = [head_key(line) for line in lines]
    seen = Counter(h for h in heads if h is not None)
    return [h if h is not None and seen[h] == 1 else None for h in heads]


def page_keys(doc: Document) -> dict[int, str]:
    """The distinct line and label keys of a Document's text and of the lines the line rules
    cut from it, each with the line or label it stands for: what one page adds to its host's
    counts. Counting the cut lines lets a line kind the rules remove on most of a site's pages
    be recognised where they missed it (a source line reworded on a few pages)."""
    lines = text_lines(doc.text)
    kept = len(lines)
    lines += [ln for r in doc.removed if r.rule in _LINE_CUTS for ln in text_lines(r.text)]
    keys = {line_key(line): line for line in lines}
    for i, (line, head) in enumerate(zip(lines, _single_heads(lines), strict=True)):
        label = split_head(line) if head is not None else None
        if head is not None and label:
            keys.setdefault(head, label[0])
            if i >= kept:  # a whole line the rules cut behind this label
                keys.setdefault(cut_label_key(label[0]), label[0])
    return keys


def strip_keys(doc: Document) -> list[int]:
    """The keys whose chrome status decides what `strip_chrome` does to `doc`: each line of its
    text (a key counts in both its whole-line and its edge form: the caller compares both), the
    single label of a line, that label's cut-label key, and what follows the label. The lines
    the rules cut count toward the site (`page_keys`) but are not in the text: a change in their
    status cannot change this page, so a pass that cleans again only the pages a chrome change
    can touch skips it."""
    lines = text_lines(doc.text)
    keys: set[int] = set()
    for line, head in zip(lines, _single_heads(lines), strict=True):
        keys.add(line_key(line))
        label = split_head(line) if head is not None else None
        if head is not None and label:
            keys.update((head, cut_label_key(label[0]), line_key(label[1])))
    return sorted(keys)


def cut_label_key(label: str) -> int:
    """The key of a label whose whole line the line rules cut ("Source:" before a short credit
    line): where that is the site's custom, what follows the label is the site's too."""
    return _key("\x00cut " + fingerprint(label))


def is_chrome(pages_with_line: int, host_pages: int) -> bool:
    """Whether a fingerprint standing on `pages_with_line` of a host's `host_pages` pages is
    chrome: on at least `CHROME_MIN_PAGES` of them and on at least `CHROME_SHARE` of them."""
    return pages_with_line >= CHROME_MIN_PAGES and pages_with_line >= CHROME_SHARE * host_pages


@dataclasses.dataclass
class HostLines:
    """One host's line counts in memory: on how many distinct pages each line key stands."""

    pages: int = 0
    counts: Counter[int] = dataclasses.field(default_factory=Counter)

    def add(self, keys: Iterable[int]) -> None:
        """Count one page (its distinct line keys)."""
        self.pages += 1
        self.counts.update(set(keys))

    def chrome(self) -> frozenset[int]:
        """The keys that are chrome of the host now, and the edge keys (`edge_key`) of those
        repeated on fewer of its pages but on `CHROME_MIN_PAGES` at least."""
        return frozenset(
            k if is_chrome(n, self.pages) else edge_key(k)
            for k, n in self.counts.items()
            if n >= CHROME_MIN_PAGES
        )


def _reads_as_text(rest: str) -> bool:
    """What follows a chrome label is the statement's own text when it reads as prose or ends
    as a sentence or a lead-in does ("... attributable to the Spokesperson:"); a URL or a
    neighbour's title after "Original location:" or "Next message:" does neither."""
    return is_prose(rest) or (word_count(rest) >= 4 and (ends_sentence(rest) or rest.endswith(":")))


def _glued_text(label: tuple[str, str], chrome: Collection[int]) -> bool:
    """Whether what follows a chrome label is the statement's text glued to it (only the label
    goes): it reads as text and is not chrome itself. Where the site's rules cut this label's
    whole lines on most pages (`cut_label_key`), only prose counts as the statement's text: a
    one-sentence credit line behind "Source:" is the site's."""
    head, rest = label
    if line_key(rest) in chrome:
        return False
    if cut_label_key(head) in chrome:
        return is_prose(rest)
    return _reads_as_text(rest)


def statement_shaped(line: str) -> bool:
    """A line that may be the statement's own first or last line although a site repeats it:
    a sentence ("End text.", "(The briefing was concluded at 2:20 p.m.)"), a lead-in ("The
    following is attributable to the Spokesperson:") or a place line ("Washington, D.C.").
    A footnote reference after the sentence's end ("End text.2") does not count. Promotions,
    ad labels and info boxes rotated at a text's edges are none of these."""
    line = _NOTE_REF.sub("", line.rstrip())
    return ends_sentence(line) or line.endswith(":") or is_place_name(line)


def _edges(
    lines: list[str],
    heads: list[int | None],
    chrome: Collection[int],
    protected: Callable[[str], bool],
) -> set[int]:
    """The lines at the text's edges that are chrome there: walking in from the first and from
    the last line over chrome lines and lines with an edge key (not statement-shaped), the
    indexes of the latter, up to the first line that is neither (the page's own text) or
    that `protected` keeps."""

    def edge(i: int) -> bool:
        line = lines[i]
        return edge_key(line_key(line)) in chrome and not statement_shaped(line) and not protected(line)

    def anywhere(i: int) -> bool:
        return line_key(lines[i]) in chrome or heads[i] in chrome

    out: set[int] = set()
    for order in (range(len(lines)), range(len(lines) - 1, -1, -1)):
        for i in order:
            if edge(i):
                out.add(i)
            elif not anywhere(i) or protected(lines[i]):
                break
    return out


def strip_chrome(
    doc: Document, chrome: Collection[int], protected: Callable[[str], bool] = lambda _line: False
) -> Document:
    """`doc` without the lines whose key is in `chrome`, each recorded as a `site_chrome` Removal.

    Behind a label in `chrome`, the label alone goes when the rest reads as the statement's
    text (`_glued_text`), else the whole line. A line whose edge key is in `chrome` goes when it stands at an
    edge of the text (`_edges`) and is not shaped like a statement's line. A line `protected`
    says True for is kept (the caller's test: the line stands in a stored official statement,
    as the formulaic lines of alerts do). When what would remain is too short to be a
    statement, the Document is returned as it was: a page of nothing but the host's repeated
    lines is no place to decide what the statement is. The text, its hash,
    the removals and the language (read again from the new text) are rebuilt together.
    """
    if not chrome:
        return doc
    kept: list[str] = []
    cut: list[str] = []
    lines = text_lines(doc.text)
    heads = _single_heads(lines)
    edges = _edges(lines, heads, chrome, protected)
    for i, (line, head) in enumerate(zip(lines, heads, strict=True)):
        whole = line_key(line) in chrome or i in edges
        if not (whole or head in chrome) or protected(line):
            kept.append(line)
            continue
        label = None if whole else split_head(line)
        if label and _glued_text(label, chrome):
            # a repeated label glued to the statement's own paragraph: only the label goes
            cut.append(label[0])
            kept.append(label[1])
        else:
            cut.append(line)
    if not cut:
        return doc
    body = "\n\n".join(kept)
    if len(body) < MIN_LEFT_CHARS:
        return doc
    return dataclasses.replace(
        doc,
        text=body,
        content_hash=content_hash(body),
        removed=doc.removed + tuple(Removal(RULE, line) for line in cut),
        language=detect_language(body) or doc.language,
    )


def chrome_removed(doc: Document) -> int:
    """How many lines of `doc` were removed as site chrome."""
    return sum(r.rule == RULE for r in doc.removed)
