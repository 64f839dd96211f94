"""The vocabulary the line rules share: what a rule is, what it may consult, what it records.

`LineRule` and `Context` describe a rule and the paragraph it looks at; `Attribution` is what
the rules read out of the lines they cut (the claimed original, a source line's publisher and
date, a byline's speaker) and the lines they were refused; document types, issuers, bylines
and source lines are the words attributions are made of. The rules themselves are in
`cleaners.ruletable` (with their checks in `cleaners.linechecks`); `cleaners.rules` runs them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from cleaners.dates import DMY, ISO, MDY, NUMERIC, parse_date
from cleaners.model import Removal
from cleaners.prose import is_prose, word_count

URL = re.compile(r"https?://[^\s<>\"'()\[\]]+[^\s<>\"'()\[\].,;:!?]")

# Document types as the State Department names them; also the vocabulary of source lines.
DOC_TYPES = (
    "joint statement",
    "press statement",
    "press release",
    "news release",
    "media note",
    "readout",
    "statement",
    "remarks",
    "fact sheet",
    "speech",
    "op-ed",
    "notice",
    "announcement",
    "testimony",
    "press briefing",
    "department press briefing",
    "briefing",
    "interview",
    "transcript",
    "special briefing",
    "background briefing",
    "travel advisory",
    "security alert",
    "message",
    "letter",
    "proclamation",
    "report",
)
_DOC_TYPE_RX = "|".join(re.escape(t) for t in sorted(DOC_TYPES, key=len, reverse=True))
DOC_TYPE_LINE = re.compile(rf"^\s*(?P<type>{_DOC_TYPE_RX})s?\s*$", re.I)

ISSUER = re.compile(
    r"(?:embassy|consulate|u\.?\s?s\.? mission|department of state|state department|"
    r"office of the spokes(?:person|man)|white house|secretary of state)",
    re.I,
)


@dataclass
class Attribution:
    """What the cut text said about provenance; filled in by the rules as they fire."""

    claimed_original: str | None = None
    source_line: str | None = None
    publisher: str | None = None
    published: date | None = None
    doc_type: str | None = None
    speaker: str | None = None
    tags: list[str] = field(default_factory=list)
    dateline: date | None = None  # a date line at the top (the aggregator's or the hero's)
    head_marks: list[tuple[int, str]] = field(default_factory=list)  # (paragraph, rule) fired above the body
    subject: str | None = None  # a header block's Subject or Title field (a text capture's title)
    refused: list[Removal] = field(default_factory=list)  # cuts refused: the line read as prose

    conflicting: bool = False  # two different originals were named: none of them is the claim

    def claim(self, url: str | None) -> None:
        """Record an original the text names. The first one named is the claim, unless another
        names a different page: a copy has one original, and two are references, not a claim."""
        if not url:
            return
        url = url.rstrip(".,;")
        if not self.claimed_original:
            if not self.conflicting:
                self.claimed_original = url
        elif _same_page(url) != _same_page(self.claimed_original):
            self.claimed_original, self.conflicting = None, True


def _same_page(url: str) -> str:
    """A URL folded so that the ways one page is written (scheme, "www.", a final slash, case
    of the host) compare equal."""
    rest = url.split("://", 1)[-1]
    host, _, path = rest.partition("/")
    return f"{host.lower().removeprefix('www.')}/{path.rstrip('/')}"


#: the header fields of a message (RFC 5322 and the Usenet/list archives' own): a block of
#: "Label: value" lines holding one of them is a message's header, not the statement's text
MESSAGE_LABELS = frozenset(
    ("from", "to", "cc", "date", "sent", "subject", "reply-to", "message-id", "newsgroups", "organization")
)
_FIELD = re.compile(r"^\s*(?P<label>[A-Z][a-z]+(?:[ -][A-Za-z][a-z]+){0,2})\s*:[ \t]+(?P<value>\S.{0,400})$")


class Layout:
    """Where a text's header and footer stand, for the rules that read attributions and cut
    fields only there: the paragraphs after the last prose paragraph are the footer, a run of
    two or more "Label: value" lines is a header block. A paragraph of twenty words or more
    counts as prose here: a statement's last paragraph may end without a full stop. Worked
    out on the first question only (most texts never ask), for the official hosts of the run."""

    def __init__(self, paragraphs: list[str], official_domains: tuple[str, ...]) -> None:
        self.paragraphs = paragraphs
        self.official_domains = official_domains
        self._last_prose: int | None = None
        self._fields: frozenset[int] | None = None

    def in_footer(self, i: int) -> bool:
        """Paragraph `i` comes after the last paragraph of prose (and there is one)."""
        if self._last_prose is None:
            self._last_prose = max(
                (j for j, p in enumerate(self.paragraphs) if word_count(p) >= 20 or is_prose(p)), default=-1
            )
        return 0 <= self._last_prose < i

    def footer_chars(self, i: int) -> int:
        """Characters from paragraph `i` to the end."""
        return sum(len(p) for p in self.paragraphs[i:])

    def body_chars(self, i: int) -> int:
        """Characters before paragraph `i`."""
        return sum(len(p) for p in self.paragraphs[:i])

    def first_match(self, pattern: re.Pattern[str]) -> int | None:
        """The index of the first paragraph `pattern` is found in, or None."""
        return next((j for j, p in enumerate(self.paragraphs) if pattern.search(p)), None)

    def in_field_block(self, i: int) -> bool:
        """Paragraph `i` is a "Label: value" line of a header block: a run of two or more such
        lines of which one is a message header (`MESSAGE_LABELS`). A run of other labels is
        the statement's own form ("Event:", "Location:", "Actions to take:" of an alert)."""
        if self._fields is None:
            labels = {
                j: m.group("label").lower()
                for j, p in enumerate(self.paragraphs[:40])
                if (m := _FIELD.match(p))
            }
            fields: set[int] = set()
            run: list[int] = []
            for j in [*sorted(labels), -2]:
                if run and j != run[-1] + 1:
                    if len(run) > 1 and any(labels[k] in MESSAGE_LABELS for k in run):
                        fields.update(run)
                    run = []
                run.append(j)
            self._fields = frozenset(fields)
        return i in self._fields


def header_field(line: str) -> re.Match[str] | None:
    """A "Label: value" line (a mail header, an archive's file fields): label and value."""
    return _FIELD.match(line)


@dataclass(frozen=True)
class Context:
    """What a line rule may consult besides the line itself."""

    index: int  # position of the paragraph
    words: int  # words in the paragraph
    key: str  # normalise_text of the paragraph
    low: str  # the paragraph lower-cased
    official: bool  # the page is on an official host
    total: int  # number of paragraphs
    title_key: str  # normalise_text(title) or ""
    previous_key: str  # normalise_text of the previous kept paragraph
    head: bool  # still before the first body paragraph
    kept_body: int  # body paragraphs kept so far
    layout: Layout | None = None  # where the text's header and footer are (None: not known)
    after_meta: bool = False  # the paragraph before was cut as a byline, document type or date line


@dataclass(frozen=True)
class LineRule:
    """A named line rule.

    Args:
        name: the rule's name, recorded in each Removal.
        match: a regex searched in the line, or a predicate (line, ctx) -> bool, or -> the
            match of the span it found (what a `strip` rule cuts) or None.
        max_words: only lines up to this many words (guards body text).
        where: "any", "head" (before the first body paragraph) or "tail" (after body text).
        rest: "all" also cuts every following line (a comment thread at the end); "titles"
            cuts the following title-like lines and stops at the first body paragraph (a
            related-posts list, which may sit in the middle of an article).
        strip: cut only the matched span at the start of the line and keep the rest.
        needles: lower-case strings one of which must be in the line (a cheap pre-check
            that keeps long body paragraphs away from the slower patterns).
        capture: reads provenance from the cut line into an Attribution.
    """

    name: str
    match: re.Pattern[str] | Callable[[str, Context], bool | re.Match[str] | None]
    max_words: int | None = None
    where: str = "any"
    rest: str | None = None
    strip: bool = False
    needles: tuple[str, ...] = ()
    capture: Callable[[str, re.Match[str] | None, Attribution], None] | None = None
    description: str = ""

    def test(self, line: str, ctx: Context) -> tuple[bool, re.Match[str] | None]:
        if self.max_words is not None and ctx.words > self.max_words:
            return False, None
        if self.where == "head" and not ctx.head:
            return False, None
        if self.where == "tail" and ctx.kept_body == 0:
            return False, None
        if self.needles and not any(n in ctx.low for n in self.needles):
            return False, None
        if isinstance(self.match, re.Pattern):
            m = self.match.search(line)
            return m is not None, m
        found = self.match(line, ctx)
        if isinstance(found, re.Match):  # a predicate that also says which span it matched
            return True, found
        return bool(found), None


def normalise_publisher(name: str) -> str:
    """'Embassy of the United States, Mexico City' -> 'U.S. Embassy Mexico City'."""
    name = re.sub(r"\s+", " ", name).strip(" .,;:-–—|")
    m = re.match(
        r"^(?:the\s+)?(?P<kind>Embassy|Consulate(?: General)?|Mission)\s+of\s+the\s+United\s+States"
        r"(?:\s+of\s+America)?(?:\s*(?:,|in|to|-|–)\s*)(?P<place>.+)$",
        name,
        re.I,
    )
    if m:
        return f"U.S. {m.group('kind').title()} {m.group('place').strip()}"
    m = re.match(
        r"^U\.?\s?S\.?\s+(?P<kind>Embassy|Consulate(?: General)?|Mission)"
        r"\s*(?:in|to|-|–|,)?\s*(?P<place>.*)$",
        name,
        re.I,
    )
    if m:
        place = m.group("place").strip()
        return f"U.S. {m.group('kind').title()} {place}".strip()
    if re.search(r"department of state|state department|office of the spokes", name, re.I):
        return "U.S. Department of State"
    return name


def parse_source_line(line: str) -> tuple[str, date | None, str] | None:
    """Split a source line into (doc_type, date, publisher), or None when it is not one.

    "Press release, Mar. 3, 2015, Embassy of the United States, Mexico City"
    -> ("press release", 2014-04-15, "U.S. Embassy Mexico City").
    """
    if len(line.split()) > 25:
        return None
    m = re.match(rf"^\s*(?P<type>{_DOC_TYPE_RX})s?\s*[,:;\-–—|]\s*(?P<rest>.+)$", line, re.I)
    if not m:
        return None
    rest = m.group("rest")
    when = parse_date(rest)
    if when is None or not ISSUER.search(rest):
        return None
    # publisher: what follows the date
    pub = rest
    for rx in (MDY, DMY, ISO, NUMERIC):
        dm = rx.search(rest)
        if dm:
            pub = rest[dm.end() :]
            break
    pub = pub.strip(" ,;:-–—|")
    if not pub or not ISSUER.search(pub):
        pub = rest
    return m.group("type").lower(), when, normalise_publisher(pub)


_SPEAKER_ROLES = (
    r"(?:Deputy\s+|Under\s+|Assistant\s+|Acting\s+|Principal\s+Deputy\s+)?"
    r"Secretary(?:\s+of\s+State)?[\w ,'.-]*|"
    r"Spokes(?:person|man|woman)[\w ,'.-]*|Ambassador[\w ,'.-]*|(?:Special\s+)?Envoy[\w ,'.-]*|"
    r"Special\s+Representative[\w ,'.-]*|Counselor[\w ,'.-]*|Coordinator[\w ,'.-]*|"
    r"Chargé\s+d['’]Affaires[\w ,'.-]*|Charge\s+d['’]Affaires[\w ,'.-]*|President[\w ,'.-]*|"
    r"Administrator[\w ,'.-]*|Director[\w ,'.-]*|Consul\s+General[\w ,'.-]*"
)
BYLINE = re.compile(
    r"^(?:(?P<office>(?:the\s+)?Office\s+of\s+the\s+Spokes(?:person|man|woman)|"
    r"Office\s+of\s+the\s+[A-Z][\w ,'.-]{3,60}|"
    r"Bureau\s+of\s+[A-Z][\w ,'.-]{3,60}|Media\s+Note)"
    rf"|(?P<name>[A-Z][\w.'’\"“”\- ]{{2,50}}),\s*(?P<role>{_SPEAKER_ROLES}))\s*$"
)
ATTRIBUTABLE = re.compile(
    r"^(?:the\s+)?(?:following|below)\s+(?:statement\s+|readout\s+)?is\s+attributable\s+to\s+"
    r"(?:the\s+)?(?P<who>[^:]{3,90}?)\s*:?\s*$",
    re.I,
)


def doc_type_from_title(title: str | None) -> str | None:
    """ "Joint Statement on ..." -> "joint statement"; None when the title does not say."""
    if not title:
        return None
    m = re.match(
        rf"^\s*(?P<type>{_DOC_TYPE_RX})s?\b(?:\s+(?:on|by|of|from|at|with|for|regarding|to)\b|\s*[:\-–—])",
        title,
        re.I,
    )
    return m.group("type").lower() if m else None


def byline_speaker(att: Attribution, paragraphs: list[str]) -> None:
    """Prefer the person named by "The following is attributable to ..." over an office byline."""
    for line in paragraphs[:4]:
        m = ATTRIBUTABLE.match(line.strip())
        if m:
            who = m.group("who").strip()
            if not att.speaker or att.speaker.lower().startswith(("office of", "the office of")):
                att.speaker = who
            return
