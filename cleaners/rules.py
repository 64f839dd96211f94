"""The cruft rules: one declarative table of named line rules and one of block selectors.

A *line rule* looks at one paragraph of extracted text (or one line of a text capture) and
says whether it is cruft; some also read provenance out of what they cut (the claimed
original URL, a source line's publisher and date, a byline's speaker). A *block rule* is an
XPath pruned from the HTML tree before trafilatura runs, with a text budget so a
mis-named wrapper can never take the article with it. Every cut becomes
`Removal(rule, text)`.

The rules describe kinds of cruft, not sites: a navigation line is "three or more short
segments separated by bars", wherever it comes from. Each rule has a fixture test in
tests/test_cleaners_rules.py; a new rule needs one too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from cleaners.dates import is_date_only, parse_date
from cleaners.model import Removal, normalise_text

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

    def claim(self, url: str | None) -> None:
        if url and not self.claimed_original:
            self.claimed_original = url.rstrip(".,;")


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


@dataclass(frozen=True)
class LineRule:
    """A named line rule.

    Args:
        name: the rule's name, recorded in each Removal.
        match: a regex searched in the line, or a predicate (line, ctx) -> bool.
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
    match: re.Pattern[str] | Callable[[str, Context], bool]
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
        return bool(self.match(line, ctx)), None


# --- captures -------------------------------------------------------------------------------


def _claim_url(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    found = URL.search(line)
    if found:
        att.claim(found.group(0))


def _capture_original(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    _claim_url(line, m, att)
    tail = re.split(r"originally\s+(?:published|posted|appeared|ran)\s+(?:at|on|in|by)?", line, flags=re.I)
    for part in tail:
        if ISSUER.search(part) and len(part.split()) <= 12 and not URL.search(part):
            att.publisher = att.publisher or normalise_publisher(re.split(r"\s+[–—-]\s+", part.strip())[-1])
            return


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
    from cleaners.dates import DMY, ISO, MDY, NUMERIC

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


def _capture_source_line(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    parsed = parse_source_line(line)
    if parsed:
        doc_type, when, pub = parsed
        # a source line names the original issuer and date: it outranks header guesses
        if att.source_line is None:
            att.source_line = line.strip()
            att.doc_type = doc_type
            att.published = when
            att.publisher = pub


def _is_source_line(line: str, ctx: Context) -> bool:
    return parse_source_line(line) is not None


_WIRE_TYPE = re.compile(rf"\|\s*(?P<type>{_DOC_TYPE_RX})s?\s*\|", re.I)
_DISTRIBUTED = re.compile(r"\|\s*distributed\s+by\b|^\s*distributed\s+by\s+\w+.{0,40}\bon\b", re.I)


def _is_wire_header(line: str, ctx: Context) -> bool:
    """A bar-separated header naming a document type and a date, or "Distributed by"."""
    if _DISTRIBUTED.search(line):
        return True
    return _WIRE_TYPE.search(line) is not None and parse_date(line) is not None


def _capture_wire_header(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    t = _WIRE_TYPE.search(line)
    if t:
        att.doc_type = att.doc_type or t.group("type").lower()
    first = line.split("|")[0].strip()
    if first and ISSUER.search(first):
        att.publisher = att.publisher or normalise_publisher(first)
    att.source_line = att.source_line or line.strip()
    when = parse_date(line)
    if when:
        att.published = att.published or when


def _capture_source_header(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    att.publisher = att.publisher or normalise_publisher(line)


def _capture_embassy_meta(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    if m:
        att.publisher = att.publisher or normalise_publisher(m.group("pub"))
        att.published = att.published or parse_date(m.group("date"))


def _capture_tags(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    body = line.split(":", 1)[1] if ":" in line else re.sub(r"^\S+\s*[-–]\s*", "", line)
    for tag in re.split(r"\s*[,;|•·]\s*", body):
        tag = tag.strip(" #")
        if tag and len(tag) < 60 and tag not in att.tags:
            att.tags.append(tag)


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


_DOC_TYPE_BYLINE = re.compile(
    rf"^\s*(?P<type>{_DOC_TYPE_RX})\s*(?:[:|\-–—]\s*(?:by\s+)?|\s+by\s+|\s+from\s+)(?:the\s+)?(?P<who>.{{3,100}}?)\s*$",
    re.I,
)


def _is_doc_type_byline(line: str, ctx: Context) -> bool:
    if ctx.kept_body > 0 or ctx.index > 5:
        return False
    m = _DOC_TYPE_BYLINE.match(line.strip())
    if not m:
        return False
    who = m.group("who").strip()
    return (
        BYLINE.match(who) is not None
        or BYLINE.match("Office of the " + who) is not None
        or ISSUER.search(who) is not None
    )


def _capture_doc_type_byline(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    m = _DOC_TYPE_BYLINE.match(line.strip())
    if not m:
        return
    att.doc_type = att.doc_type or m.group("type").lower()
    who = m.group("who").strip()
    if re.match(r"^u\.?\s?s\.?\s+(?:embassy|consulate|mission)", who, re.I) or re.match(
        r"^(?:embassy|consulate)", who, re.I
    ):
        att.publisher = att.publisher or normalise_publisher(who)
    else:
        if who.lower().startswith("office of"):
            who = "Office of " + who[len("office of ") :]
        att.speaker = att.speaker or who
        if re.search(r"secretary of state|spokes|department of state", who, re.I):
            att.publisher = att.publisher or "U.S. Department of State"


def _capture_byline(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    att.speaker = att.speaker or line.strip()


def _is_byline(line: str, ctx: Context) -> bool:
    return ctx.kept_body == 0 and (ctx.index < 4 or ctx.head) and BYLINE.match(line.strip()) is not None


# --- predicates -----------------------------------------------------------------------------

_BAR_SPLIT = re.compile(r"\s*(?:\||•|·|¦|⋅)\s*")


def _is_nav_line(line: str, ctx: Context) -> bool:
    """Three or more short segments separated by bars or bullets, none a sentence."""
    stripped = line.strip()
    if stripped.startswith("|") and stripped.endswith("|"):
        return False  # a table row as trafilatura writes it
    parts = [p for p in _BAR_SPLIT.split(stripped) if p]
    if len(parts) < 3:
        return False
    return all(len(p.split()) <= 5 and not p.endswith((".", "!", "?")) for p in parts)


_CRUMB_SPLIT = re.compile(r"\s*(?:>|»|›|→|/|\\|::)\s*")


def _is_breadcrumb(line: str, ctx: Context) -> bool:
    s = line.strip()
    if re.match(r"^(?:you are here|breadcrumbs?)\s*:", s, re.I):
        return True
    parts = [p for p in _CRUMB_SPLIT.split(s) if p]
    if len(parts) < 2 or not re.match(r"^(?:home|inicio|accueil|start)\b", parts[0], re.I):
        return False
    return len(_CRUMB_SPLIT.findall(s)) >= 1 and all(len(p.split()) <= 12 for p in parts)


def _is_repeated_title(line: str, ctx: Context) -> bool:
    if not ctx.title_key:
        return False
    key = ctx.key
    if key == ctx.title_key:
        return True
    # the title with the site's suffix glued on: "Title - Site Name"
    return (
        ctx.index < 5
        and key.startswith(ctx.title_key)
        and len(key) - len(ctx.title_key) < 60
        and bool(re.match(r"^\s*[|\-–—:]", key[len(ctx.title_key) :]))
    )


def _is_repeated_line(line: str, ctx: Context) -> bool:
    # short repeats ("QUESTION: Thank you.") are a transcript's own lines
    return ctx.words >= 5 and bool(ctx.previous_key) and ctx.key == ctx.previous_key


def _is_dateline(line: str, ctx: Context) -> bool:
    # on an official page a date line in the body is the statement's (a schedule's day)
    return ctx.head and not ctx.official and is_date_only(line)


def _capture_dateline(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    att.dateline = att.dateline or parse_date(line)


def _capture_doc_type(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    if m:
        att.doc_type = att.doc_type or m.group("type").lower()


_SHARE_WORDS = (
    r"share(?: this(?: (?:post|article|page|story))?| on \w+| via \w+)?|save|bookmark(?: this)?|"
    r"tell a friend|e-?mail(?: this)?|print(?: this)?(?: page)?|"
    r"tweet|pin it|like|facebook|twitter|x|linkedin|whatsapp|reddit|telegram|pinterest|tumblr|pocket|"
    r"flipboard|"
    r"messenger|copy link|copy url|more|new page \d+|opens? in (?:a )?new window|click to share on \w+|"
    r"click to (?:email|print)(?: a link to a friend)?|share/save/bookmark|sharethis|addthis|google\+?"
)
SHARE_BAR = re.compile(rf"^(?:(?:{_SHARE_WORDS})[\s/|:,()•·\-–]*)+$", re.I)


_PREV_NEXT_CASED = re.compile(
    r"\b(?:Previous|Next|Older|Newer|Prev|PREVIOUS|NEXT)\s+(?:[Pp]ost|[Aa]rticle|[Ss]tory|[Ee]ntry|POST|ARTICLE|STORY)s?\b"
    r"|^\s*(?:«|‹|←)\s*(?:previous|prev|older)\b|\b(?:next|newer)\s*(?:»|›|→)\s*$",
)
_PREV_NEXT_ANY = re.compile(r"\b(?:previous|next|older|newer|prev)\s+(?:post|article|story|entry)s?\b", re.I)
_SENTENCE_END = (".", "!", "?", "\u201d", '"')


def _is_prev_next(line: str, ctx: Context) -> bool:
    """ "Previous post"/"Next post" navigation. Lower-case forms count only on lines that
    are not sentences, so "the next article of the treaty" stays."""
    if _PREV_NEXT_CASED.search(line):
        return True  # two glued titles can be long: up to the rule's 120 words
    return (
        ctx.words <= 60
        and not line.rstrip().endswith(_SENTENCE_END)
        and _PREV_NEXT_ANY.search(line) is not None
    )


_NEWSLETTER_STRONG = re.compile(
    r"\b(?:subscribe|sign\s+up|signup)\b.{0,60}\b(?:newsletters?|mailing\s+list|inbox)\b|"
    r"\bget\s+(?:the\s+latest|our)\b.{0,50}\b(?:delivered|in\s+your\s+inbox|newsletter)\b|^\s*enter\s+your\s+e-?mail",
    re.I,
)
_NEWSLETTER_WEAK = re.compile(r"^\s*(?:subscribe|sign\s+up)\b", re.I)


def _is_newsletter(line: str, ctx: Context) -> bool:
    if _NEWSLETTER_STRONG.search(line):
        return True
    return (
        len(line.split()) <= 12
        and not line.rstrip().endswith(".")
        and _NEWSLETTER_WEAK.search(line) is not None
    )


_SOURCE_HEADER = re.compile(
    r"^\s*u\.?\s?s\.?\s+(?:embassy|consulate(?:\s+general)?|mission|department\s+of\s+state)\b"
    r"[\s,:\-–—]*[A-Za-zÀ-ÿ .'’&-]{0,40}$",
    re.I,
)


def _is_source_header(line: str, ctx: Context) -> bool:
    # on an official page "U.S. Embassy Suva" above a speech is its venue, not a source
    return not ctx.official and _SOURCE_HEADER.match(line) is not None


_LATIN = re.compile(r"[A-Za-z]")
_CYR_GREEK = re.compile(r"[\u0370-\u03ff\u0400-\u04ff]")


def _is_homoglyph_spam(line: str, ctx: Context) -> bool:
    """Three or more words spelled with both Latin and Cyrillic/Greek letters: text
    obfuscated to slip past filters, never statement prose."""
    if not _CYR_GREEK.search(line):
        return False
    mixed = sum(1 for w in line.split() if _LATIN.search(w) and _CYR_GREEK.search(w))
    return mixed >= 3


# --- the table ------------------------------------------------------------------------------

_LINE_RULES: tuple[LineRule, ...] = (
    LineRule(
        "official_news_published_at",
        re.compile(r"^\s*official news published at\b", re.I),
        40,
        capture=_claim_url,
        description='"Official news published at <url>": the original, kept as claimed_original',
    ),
    LineRule(
        "originally_published_at",
        re.compile(
            r"\boriginally\s+(?:published|posted|appeared|ran)\b|\b(?:re-?published|reprinted|republished)\s+(?:here\s+)?with\s+(?:the\s+)?permission\b",
            re.I,
        ),
        45,
        capture=_capture_original,
        description='"X originally published at Y", "This post originally appeared on ..."',
    ),
    LineRule(
        "read_more_at",
        re.compile(
            r"^\s*(?:read\s+more(?:\s+(?:at|on|from)\b|\s*[:»›…>]|\s*$)|read\s+the\s+(?:full|original|complete)\s+(?:story|article|statement|release|text|post)\b|"
            r"continue\s+reading\b|full\s+story\b|view\s+(?:the\s+)?original\b|source\s+link\b)",
            re.I,
        ),
        25,
        capture=_claim_url,
        description='"Read more at ...", "Continue reading"',
    ),
    LineRule(
        "fair_use_notice",
        re.compile(
            r"^\s*fair\s+use\s+notice\b|this\s+site\s+contains\s+copyrighted\s+material\s+the\s+use\s+of\s+which|"
            r"in\s+accordance\s+with\s+title\s+17\s+u\.?\s?s\.?\s?c\.?\s+section\s+107",
            re.I,
        ),
        description="FAIR USE NOTICE paragraphs (Title 17 U.S.C. Section 107)",
    ),
    LineRule(
        "wire_disclaimer",
        re.compile(
            r"published\s+this\s+content\s+on\b|unedited\s+and\s+unaltered|"
            r"solely\s+responsible\s+for\s+the\s+(?:information|content)|"
            r"distribut\w*\s+this\s+(?:press\s+)?(?:release|content|statement|material)\s+on\s+behalf\s+of|"
            r"(?:has|have)\s+not\s+been\s+(?:edited|verified|reviewed)\s+by\s+(?:our|the)\s+"
            r"(?:newsroom|editors|editorial)|"
            r"accepts?\s+no\s+responsibility\s+for\s+(?:its|the|their)\s+(?:accuracy|content)",
            re.I,
        ),
        description='wire-service disclaimers: "... published this content on ..., and is solely '
        'responsible ... unedited and unaltered"',
    ),
    LineRule(
        "wire_header",
        _is_wire_header,
        40,
        capture=_capture_wire_header,
        description='"Issuer | Press release | Distributed by ..." / "Wire | Media Note | April 2, 2024"',
    ),
    LineRule(
        "doc_type_byline",
        _is_doc_type_byline,
        16,
        capture=_capture_doc_type_byline,
        description='"Press Statement – Antony J. Blinken, Secretary of State" above a reposted '
        "statement -> doc_type, speaker",
    ),
    LineRule(
        "wire_dateline",
        re.compile(
            r"^[A-Z][A-Z .,'’-]{2,40},?\s*(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2}(?:,\s*\d{4})?\s*)?"
            r"\((?:[A-Z][\w.&' -]{1,30})\)\s*(?:--|—|–|-)\s*"
        ),
        None,
        strip=True,
        description='"WASHINGTON, Mar. 4 (WorldWire) -- " glued to the first paragraph by a wire service',
    ),
    LineRule(
        "source_line",
        _is_source_line,
        25,
        capture=_capture_source_line,
        description='"Press release, Mar. 3, 2015, Embassy of the United States, Mexico City" '
        "-> publisher, date, type",
    ),
    LineRule(
        "embassy_meta_line",
        re.compile(
            r"^\s*by\s+(?P<pub>u\.?\s?s\.?\s+(?:embassy|mission|consulate)[^|]{0,80}?)\s*\|\s*(?P<date>[^|]{6,40}?)\s*(?:\|\s*(?:topics?|categories|tags?)\s*:.*)?$",
            re.I,
        ),
        40,
        capture=_capture_embassy_meta,
        description='"By U.S. Mission Mexico | 15 April, 2014 | Topics: ..."',
    ),
    LineRule(
        "official_banner",
        re.compile(
            r"an\s+official\s+website\s+of\s+the\s+united\s+states\s+government|here['’]?s\s+how\s+you\s+know|"
            r"official\s+websites\s+use\s+\.gov|secure\s+\.gov\s+websites\s+use\s+https|"
            r"a\s+\.gov\s+website\s+belongs\s+to\s+an\s+official|safely\s+connected\s+to\s+the\s+\.gov\s+website",
            re.I,
        ),
        60,
        description='"An official website of the United States Government Here\'s how you know"',
    ),
    LineRule(
        "external_link_disclaimer",
        re.compile(
            r"\blinks?\s+to\s+(?:other|external|outside|third[- ]party)\b.{0,120}\b(?:endorse|construed)|"
            r"\bexternal\s+links?\b.{0,120}\b(?:endorse|construed)|"
            r"you\s+are\s+(?:now\s+)?leaving\s+(?:a|the)\s+(?:u\.?\s?s\.?\s+)?(?:government|embassy|state\s+department)\s+(?:web\s*)?site",
            re.I,
        ),
        80,
        description="embassy disclaimers about external links",
    ),
    LineRule(
        "embassy_footer",
        re.compile(
            r"^\s*this\s+is\s+the\s+official\s+website\s+of\s+the\s+u\.?\s?s\.?\s+(?:embassy|mission|consulate)|"
            r"^\s*(?:privacy\s+policy|accessibility(?:\s+statement)?|copyright\s+information|foia|no\s+fear\s+act(?:\s+data)?|"
            r"usa\.gov|office\s+of\s+the\s+inspector\s+general|contact\s+us|site\s+map|sitemap|disclaimer)\s*$",
            re.I,
        ),
        60,
        description="embassy/official footer lines",
    ),
    LineRule(
        "copyright_notice",
        re.compile(
            r"^\s*(?:©|\(c\)|copyright\b)|\ball\s+rights\s+reserved\b|may\s+not\s+be\s+(?:published,\s+)?(?:re)?broadcast,\s+rewritten,?\s+or\s+redistributed|"
            r"copyrighted\s+image\.?\s+copying\s+not\s+allowed",
            re.I,
        ),
        40,
        description="copyright and re-use notices",
    ),
    LineRule("share_bar", SHARE_BAR, 20, description='"Share/Save/Bookmark", "Tell a Friend", share bars'),
    LineRule(
        "share_heading",
        re.compile(
            r"^\s*(?:share\s+this|share\s+on|click\s+to\s+share|like\s+this|like\s+loading|be\s+the\s+first\s+to\s+like)\b",
            re.I,
        ),
        14,
        description='"Share this:", "Like this:"',
    ),
    LineRule(
        "prev_next_post",
        _is_prev_next,
        120,
        description='"Previous post" / "Next post" with the neighbouring titles glued to them',
    ),
    LineRule(
        "nav_line",
        _is_nav_line,
        40,
        description='"Home | Columns, Commentary and News | Reports | Links | About/Contact"',
    ),
    LineRule(
        "breadcrumb", _is_breadcrumb, 30, description='"Home > Press Releases > ..." leaked into the text'
    ),
    LineRule(
        "tags_line",
        re.compile(
            r"^\s*(?:tags?|tagged(?:\s+with)?|filed\s+under|categories|category|posted\s+in|related\s+topics|topics?|keywords)\s*[:\-–]\s*\S",
            re.I,
        ),
        30,
        capture=_capture_tags,
        description='"Tags: ...", "Filed under ..."',
    ),
    LineRule(
        "comment_block",
        re.compile(
            r"^\s*(?:leave\s+a\s+(?:reply|comment)|post\s+a\s+comment|add\s+a\s+comment|\d+\s+(?:comments?|responses?|replies|thoughts\s+on\b.*)|"
            r"comments?(?:\s*\(\d+\))?|join\s+the\s+(?:discussion|conversation)|you\s+must\s+be\s+logged\s+in\s+to\s+post\s+a\s+comment)\s*[.:]?\s*$",
            re.I,
        ),
        14,
        where="tail",
        rest="all",
        description="comment-form heading; everything after it goes",
    ),
    LineRule(
        "comment_form",
        re.compile(
            r"your\s+email\s+address\s+will\s+not\s+be\s+published|required\s+fields\s+are\s+marked|save\s+my\s+name,\s+email|"
            r"notify\s+me\s+of\s+(?:follow-up\s+comments|new\s+posts)|this\s+site\s+uses\s+akismet",
            re.I,
        ),
        40,
        description="comment-form boilerplate",
    ),
    LineRule("newsletter", _is_newsletter, 30, description="newsletter sign-up boxes"),
    LineRule(
        "related_block",
        re.compile(
            r"^\s*(?:related(?:\s+(?:posts|articles|stories|news|content|reading|links))?|you\s+(?:may|might)\s+also\s+(?:like|be\s+interested\s+in)|"
            r"more\s+from\s+.{1,40}|recent\s+posts|read\s+(?:also|next)|also\s+read|more\s+stories|popular\s+posts|trending(?:\s+now)?|latest\s+news|"
            r"more\s+in\s+.{1,30}|see\s+also|recommended(?:\s+for\s+you)?)\s*:?\s*$",
            re.I,
        ),
        8,
        where="tail",
        rest="titles",
        description="related-post block heading; the titles listed after it go too",
    ),
    LineRule(
        "meta_line",
        re.compile(
            r"^\s*(?:(?:release|news|publication|posted|published|updated|last\s+updated|issue)\s*)?(?:date|on)\s*:",
            re.I,
        ),
        15,
        capture=_capture_dateline,
        description='leaked field labels: "Release Date:", "News date : 04/21/2022 Category : ..."',
    ),
    LineRule(
        "image_credit",
        re.compile(
            r"^\s*\(?\s*(?:(?:photo|image|picture|video|graphic|illustration)\s+)?(?:credit|courtesy|source)s?\s*:\s*[^()]{1,100}\)?\s*$",
            re.I,
        ),
        15,
        description='"(Credit: Name / Outlet)" image credits',
    ),
    LineRule(
        "homoglyph_spam",
        _is_homoglyph_spam,
        None,
        description="words mixing Latin and Cyrillic/Greek look-alike letters (obfuscated ads)",
    ),
    LineRule(
        "source_credit",
        re.compile(r"^\s*(?:[A-Za-z0-9-]+\.)+(?:com|net|org|gov|news|info|co|tv|us)\s*$", re.I),
        3,
        description='a bare site name left as a credit line ("BVINEWS.COM")',
    ),
    LineRule("repeated_title", _is_repeated_title, 60, description="the title repeated in the body"),
    LineRule("repeated_line", _is_repeated_line, None, description="a paragraph repeated right after itself"),
    LineRule(
        "byline",
        _is_byline,
        14,
        capture=_capture_byline,
        description='first-paragraph byline ("Office of the Spokesperson", "Antony J. Blinken, '
        'Secretary of State") -> speaker',
    ),
    LineRule(
        "doc_type_line",
        DOC_TYPE_LINE,
        4,
        where="head",
        capture=_capture_doc_type,
        description='the document-type line ("Readout", "Media Note") -> doc_type',
    ),
    LineRule(
        "dateline",
        _is_dateline,
        8,
        where="head",
        capture=_capture_dateline,
        description="a date on its own line above the body (aggregator date, hero date)",
    ),
    LineRule(
        "source_header",
        _is_source_header,
        8,
        where="head",
        capture=_capture_source_header,
        description='"U.S. Embassy - Mexico" above the body of a copy -> publisher',
    ),
)

# Cheap pre-checks for the patterns that have no word limit or a long one.
_NEEDLES = {
    "fair_use_notice": ("fair use", "copyrighted material", "title 17"),
    "wire_disclaimer": (
        "published this content",
        "unaltered",
        "solely responsible",
        "on behalf of",
        "not been",
        "no responsibility",
    ),
    "external_link_disclaimer": ("endorse", "construed", "leaving"),
    "official_banner": ("official website", "how you know", ".gov"),
    "originally_published_at": ("originally", "permission"),
    "official_news_published_at": ("official news",),
    "copyright_notice": ("©", "(c)", "copyright", "reserved", "redistributed"),
    "comment_form": ("email", "required fields", "notify me", "akismet"),
    "wire_dateline": (") --", ") —", ") –", ") -"),
}
LINE_RULES: tuple[LineRule, ...] = tuple(
    replace(r, needles=_NEEDLES.get(r.name, r.needles)) for r in _LINE_RULES
)


def _is_listed_title(line: str) -> bool:
    """A line of a related-posts list: a headline, not a sentence of the article."""
    words = len(line.split())
    return 0 < words <= 25 and not line.rstrip().endswith((".", "!", "?", ":", ";", '"', "\u201d", ")"))


def _is_body(line: str) -> bool:
    """A paragraph that reads as body text (ends the head zone)."""
    words = len(line.split())
    return words >= 20 or (words >= 8 and line.rstrip().endswith((".", "!", "?", ":", "\u201d", '"', ")")))


def apply_line_rules(
    paragraphs: list[str],
    *,
    title: str | None,
    att: Attribution,
    head_zone: bool = False,
    official: bool = False,
) -> tuple[list[str], list[Removal], list[tuple[int, str]]]:
    """Run LINE_RULES over paragraphs in order.

    Returns (kept paragraphs, removals, head lines no rule claimed as (index, line)). With
    `head_zone` (text captures), short lines before the first body paragraph that no rule
    claims are returned separately instead of kept: the caller picks the title among them.
    """
    paragraphs = list(paragraphs)
    kept: list[str] = []
    removals: list[Removal] = []
    head_lines: list[tuple[int, str]] = []
    title_key = normalise_text(title) if title else ""
    previous_key = ""
    head = True
    kept_body = 0
    total = len(paragraphs)
    i = 0
    while i < total:
        line = paragraphs[i]
        if head and _is_body(line):
            head = False
        key = normalise_text(line)
        ctx = Context(
            i, len(line.split()), key, line.lower(), official, total, title_key, previous_key, head, kept_body
        )
        fired = None
        m_fired = None
        for rule in LINE_RULES:
            ok, m = rule.test(line, ctx)
            if ok:
                fired, m_fired = rule, m
                if rule.capture:
                    rule.capture(line, m, att)
                if head:
                    att.head_marks.append((i, rule.name))
                break
        if fired is None:
            previous_key = key
            if head_zone and head:
                head_lines.append((i, line))
            else:
                kept.append(line)
                if _is_body(line):
                    kept_body += 1
            i += 1
            continue
        if fired.strip and m_fired is not None and m_fired.end() < len(line):
            removals.append(Removal(fired.name, m_fired.group(0).strip()))
            paragraphs[i] = line[m_fired.end() :].strip()
            continue
        removals.append(Removal(fired.name, line))
        if fired.rest == "all":
            for rest_line in paragraphs[i + 1 :]:
                removals.append(Removal(fired.name, rest_line))
            break
        i += 1
        if fired.rest == "titles":
            while i < total and _is_listed_title(paragraphs[i]):
                removals.append(Removal(fired.name, paragraphs[i]))
                i += 1
    return kept, removals, head_lines


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
