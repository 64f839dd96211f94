"""The checks and captures of the line rules: when a line is a kind of cruft, and what
provenance it tells when it is (`cleaners.ruletable` names them, `cleaners.rules` runs them).

Every check describes a kind of line, not a site: a navigation line is "three or more short
segments separated by bars", wherever it comes from. An attribution is read only from the
places attributions stand (a source line, a header or footer line, a line that names the
original), never from a citation or a quotation inside the prose.
"""

from __future__ import annotations

import re

from cleaners.credits import CITATION as _CITATION
from cleaners.credits import is_credit_line
from cleaners.dates import is_date_only, parse_date
from cleaners.prose import ends_sentence, is_prose, word_count
from cleaners.rulekit import (
    _DOC_TYPE_RX,
    BYLINE,
    ISSUER,
    URL,
    Attribution,
    Context,
    header_field,
    normalise_publisher,
    parse_source_line,
)
from cleaners.urls import host_of, is_official_host

# --- captures -------------------------------------------------------------------------------


def claim_url(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    found = URL.search(line)
    if found:
        att.claim(found.group(0))


_ORIGINALLY = re.compile(
    r"\boriginally\s+(?:published|posted|appeared|ran)\b(?:\s+(?:at|on|in|by)\b)?\s*(?P<where>\S*)"
    r"|\b(?:re-?published|reprinted|republished)\s+(?:here\s+)?with\s+(?:the\s+)?permission\b",
    re.I,
)
_WHEN = re.compile(
    r"^(?:\(?\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|the\s+(?:\d|\w+\s+(?:century|decade))|"
    r"spring|summer|autumn|fall|winter|print|book|this\b)",
    re.I,
)


def is_original_line(line: str, ctx: Context) -> bool:
    """A line that names where the text was first published: the phrase stands at the start
    of the line ("This post originally appeared on ..."), names a place or a link, not a time
    ("originally published in 1966" in a citation tells history, not provenance), and the line
    is not a citation or a sentence in the middle of the prose. A catalogue credit line at the
    text's edge (`is_credit_line`) names where the text came from too."""
    m = _ORIGINALLY.search(line)
    if m is None:
        return is_credit_line(line, ctx)
    if _CITATION.search(line):
        return False
    where = m.group("where")
    if where is not None and (not where or _WHEN.match(line[m.start("where") :])) and not URL.search(line):
        return False
    if word_count(line[: m.start()]) > 10:
        return False  # the phrase deep inside a sentence: a quotation or an aside
    return not (is_prose(line) and 0 < ctx.index < ctx.total - 3 and not ctx.head)


def capture_original(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    claim_url(line, m, att)
    tail = re.split(r"originally\s+(?:published|posted|appeared|ran)\s+(?:at|on|in|by)?", line, flags=re.I)
    for part in tail:
        if ISSUER.search(part) and len(part.split()) <= 12 and not URL.search(part):
            att.publisher = att.publisher or normalise_publisher(re.split(r"\s+[–—-]\s+", part.strip())[-1])
            return


def capture_source_line(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    parsed = parse_source_line(line)
    if parsed:
        doc_type, when, pub = parsed
        # a source line names the original issuer and date: it outranks header guesses
        if att.source_line is None:
            att.source_line = line.strip()
            att.doc_type = doc_type
            att.published = when
            att.publisher = pub


def is_source_line(line: str, ctx: Context) -> bool:
    return parse_source_line(line) is not None


_WIRE_TYPE = re.compile(rf"\|\s*(?P<type>{_DOC_TYPE_RX})s?\s*\|", re.I)
_DISTRIBUTED = re.compile(r"\|\s*distributed\s+by\b|^\s*distributed\s+by\s+\w+.{0,40}\bon\b", re.I)


def is_wire_header(line: str, ctx: Context) -> bool:
    """A bar-separated header naming a document type and a date, or "Distributed by"."""
    if _DISTRIBUTED.search(line):
        return True
    return _WIRE_TYPE.search(line) is not None and parse_date(line) is not None


def capture_wire_header(line: str, m: re.Match[str] | None, att: Attribution) -> None:
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


def capture_source_header(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    att.publisher = att.publisher or normalise_publisher(line)


def capture_embassy_meta(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    if m:
        att.publisher = att.publisher or normalise_publisher(m.group("pub"))
        att.published = att.published or parse_date(m.group("date"))


def capture_tags(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    body = line.split(":", 1)[1] if ":" in line else re.sub(r"^\S+\s*[-–]\s*", "", line)
    for tag in re.split(r"\s*[,;|•·]\s*", body):
        tag = tag.strip(" #")
        if tag and len(tag) < 60 and tag not in att.tags:
            att.tags.append(tag)


_DOC_TYPE_BYLINE = re.compile(
    rf"^\s*(?P<type>{_DOC_TYPE_RX})\s*(?:[:|\-–—]\s*(?:by\s+)?|\s+by\s+|\s+from\s+)(?:the\s+)?(?P<who>.{{3,100}}?)\s*$",
    re.I,
)


def is_doc_type_byline(line: str, ctx: Context) -> bool:
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


def capture_doc_type_byline(line: str, m: re.Match[str] | None, att: Attribution) -> None:
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


def capture_byline(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    att.speaker = att.speaker or line.strip()


def is_byline(line: str, ctx: Context) -> bool:
    return ctx.kept_body == 0 and (ctx.index < 4 or ctx.head) and BYLINE.match(line.strip()) is not None


# --- predicates -----------------------------------------------------------------------------

_BAR_SPLIT = re.compile(r"\s*(?:\||•|·|¦|⋅)\s*")


_BRACKETED = re.compile(r"\[\s*[^\[\]]{1,40}?\s*\]")


def is_nav_line(line: str, ctx: Context) -> bool:
    """Three or more short segments separated by bars or bullets, none a sentence; or three
    or more bracketed labels with at most a few words besides ("[ date ] [ thread ] ...")."""
    stripped = line.strip()
    brackets = _BRACKETED.findall(stripped)
    if len(brackets) >= 3 and all(word_count(b) <= 6 for b in brackets):
        return word_count(_BRACKETED.sub(" ", stripped)) <= 4
    if stripped.startswith("|") and stripped.endswith("|"):
        return False  # a table row as trafilatura writes it
    parts = [p for p in _BAR_SPLIT.split(stripped) if p]
    if len(parts) < 3:
        return False
    # word_count, not split(): a Chinese paragraph has no spaces, and "·" joins the parts of
    # names in it ("唐纳德·特朗普"), so its parts are long, not one word each
    return all(word_count(p) <= 5 and not ends_sentence(p) for p in parts)


_CRUMB_SPLIT = re.compile(r"\s*(?:>|»|›|→|/|\\|::)\s*")


def is_breadcrumb(line: str, ctx: Context) -> bool:
    s = line.strip()
    if re.match(r"^(?:you are here|breadcrumbs?)\s*:", s, re.I):
        return True
    parts = [p for p in _CRUMB_SPLIT.split(s) if p]
    if len(parts) < 2 or not re.match(r"^(?:home|inicio|accueil|start)\b", parts[0], re.I):
        return False
    return len(_CRUMB_SPLIT.findall(s)) >= 1 and all(len(p.split()) <= 12 for p in parts)


def is_repeated_title(line: str, ctx: Context) -> bool:
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


def is_repeated_line(line: str, ctx: Context) -> bool:
    # short repeats ("QUESTION: Thank you.") are a transcript's own lines
    return ctx.words >= 5 and bool(ctx.previous_key) and ctx.key == ctx.previous_key


_TIME = re.compile(
    r"\b\d{1,2}:\d\d(?::\d\d)?(?:\s*[ap]\.?m\.?)?(?:\s+(?:[A-Z]{2,5}|[+-]\d{4}))?(?=\s|$)", re.I
)
_CTIME = re.compile(
    r"^(?:(?:mon|tue|wed|thu|fri|sat|sun)\w*,?\s+)?(?P<mon>[a-z]{3,9})\.?\s+(?P<day>\d{1,2})\s+(?P<year>(?:19|20)\d\d)$",
    re.I,
)


def _date_line(line: str) -> bool:
    """A date and little else, a time of day allowed ("Mon Jul 25 21:12:07 UTC 2022")."""
    if is_date_only(line):
        return True
    bare = _TIME.sub(" ", line).strip()
    if bare == line.strip():
        return False
    bare = re.sub(r"\s+", " ", bare)
    return is_date_only(bare) or _CTIME.match(bare) is not None


def is_dateline(line: str, ctx: Context) -> bool:
    """A date on its own line above the body. On an official page a date line in the body is
    the statement's (a schedule's day), unless it stands in the header the byline or the
    document type opened."""
    return ctx.head and (not ctx.official or ctx.after_meta) and _date_line(line)


_PLACE = re.compile(r"^\s*[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,2},\s*[A-Z][\w.]*(?:\s+[A-Z][\w.]*)?\s*$")


def is_place_name(line: str) -> bool:
    """The line is a place alone ("Washington, D.C.", "San Jose, Costa Rica"), as a
    statement's place line is written."""
    return _PLACE.match(line) is not None


def is_place_line(line: str, ctx: Context) -> bool:
    """ "Washington, DC" in the header block an official page opens with its document type and
    byline (the place the statement was issued), not a venue line of the statement's own."""
    return ctx.head and ctx.official and ctx.after_meta and _PLACE.match(line) is not None


_RELEASED_ON = re.compile(
    r"^\s*(?:released|posted|published|issued|updated|last\s+updated)\s+on\s+(?P<date>.{6,40})$", re.I
)


def is_released_on(line: str, ctx: Context) -> bool:
    """ "Released on June 4, 2008": the page's own date line, wherever it stands."""
    m = _RELEASED_ON.match(line)
    return m is not None and _date_line(m.group("date"))


SEPARATOR = re.compile(r"^\s*(?:(?:[-=_*~]\s*){3,}|--)\s*$")


def is_footer_separator(line: str, ctx: Context) -> bool:
    """A rule of dashes, equals signs or underscores, or a signature's "-- ", after the last
    paragraph of prose: what follows is a signature, a list's footer or an archive's footer.
    Never when what follows is longer than the text above it."""
    if not SEPARATOR.match(line) or ctx.kept_body == 0 or ctx.layout is None:
        return False
    layout = ctx.layout
    return layout.in_footer(ctx.index) and layout.footer_chars(ctx.index) <= layout.body_chars(ctx.index)


_LABELLED_URL = re.compile(r"^\s*(?P<label>[^:/\n]{1,60}?)\s*:\s*<?(?P<url>https?://\S+?)>?\s*$")


def official_source_url(line: str, ctx: Context) -> str | None:
    """The URL of a "<label>: <URL on an official host>" line in the header or the footer (an
    archive's "Where it came from: ..."), or None; never a line of the prose."""
    m = _LABELLED_URL.match(line)
    if m is None or word_count(m.group("label")) > 5 or ctx.layout is None:
        return None
    if not (ctx.head or ctx.layout.in_footer(ctx.index)):
        return None
    url = m.group("url").rstrip(".,;")
    return url if is_official_host(host_of(url), ctx.layout.official_domains) else None


def is_source_url_line(line: str, ctx: Context) -> bool:
    return official_source_url(line, ctx) is not None


def capture_source_url(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    found = _LABELLED_URL.match(line)
    if found:
        att.claim(found.group("url").rstrip(".,;>"))


_SIGNED = re.compile(r"\s(?:--|—|–)\s*[A-Z][\w.]{0,15}(?:\s+[A-Z][\w.]{0,15})?\s*$")


_SIGNED_NOTE_WORDS = 20  # a note of a body paragraph's length is not a note


def is_signed_note(line: str, ctx: Context) -> bool:
    """A short note signed with a dash and a name or initials above the body of a copy ("Passing
    this on as received. -- RT"): the reposter's word, not the statement's. One note only, the
    first signed line of the text: a run of lines each ending with a dash and a name is a list
    the statement holds (quotes and their speakers), not a note."""
    if not ctx.head or ctx.official or ctx.words >= _SIGNED_NOTE_WORDS or ctx.layout is None:
        return False
    return _SIGNED.search(line) is not None and ctx.layout.first_match(_SIGNED) == ctx.index


_FORWARD_MARK = re.compile(
    r"^\s*(?:-{2,}\s*(?:forwarded|original)\s+message\s*-{2,}|begin\s+forwarded\s+message\s*:?)\s*$", re.I
)


def is_forward_marker(line: str, ctx: Context) -> bool:
    """A mail client's forwarding mark above the body ("---------- Forwarded message ---------",
    "Begin forwarded message:", "-----Original Message-----"); its header fields follow."""
    return ctx.kept_body == 0 and _FORWARD_MARK.match(line) is not None


_GENERATOR = re.compile(r"\b(?:generated|produced|archived|powered|converted)\s+(?:by|with|using)\s+\S", re.I)


def is_generator_line(line: str, ctx: Context) -> bool:
    """ "This archive was generated by <software> ...": the software's line in the footer, after
    the last paragraph of prose."""
    return ctx.layout is not None and ctx.layout.in_footer(ctx.index) and _GENERATOR.search(line) is not None


_SUBJECT_LABELS = frozenset(("subject", "title", "headline", "topic"))


def is_header_field(line: str, ctx: Context) -> bool:
    """A "Label: value" line of a header block above the body of a copy (a mail's or an
    archive's fields: "Subject: ...", "Filed: ...")."""
    return (
        ctx.kept_body == 0
        and not ctx.official
        and ctx.layout is not None
        and ctx.layout.in_field_block(ctx.index)
        and not is_prose(line)
    )


def capture_header_field(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    field = header_field(line)
    if field is None:
        return
    label, value = field.group("label").lower(), field.group("value").strip()
    if label in _SUBJECT_LABELS and att.subject is None:
        att.subject = value
    elif label in ("date", "issued", "sent", "posted"):
        att.dateline = att.dateline or parse_date(value)


def capture_dateline(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    att.dateline = att.dateline or parse_date(line)


def capture_doc_type(line: str, m: re.Match[str] | None, att: Attribution) -> None:
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
    r"\b(?:Previous|Next|Older|Newer|Prev|PREVIOUS|NEXT)\s+"
    r"(?:[Pp]ost|[Aa]rticle|[Ss]tory|[Ee]ntry|[Mm]essage|[Tt]opic|[Tt]hread|POST|ARTICLE|STORY|MESSAGE)s?\b"
    r"|^\s*(?:«|‹|←)\s*(?:previous|prev|older)\b|\b(?:next|newer)\s*(?:»|›|→)\s*$",
)
_PREV_NEXT_ANY = re.compile(
    r"\b(?:previous|next|older|newer|prev)\s+(?:post|article|story|entry|message|topic|thread)s?\b", re.I
)
# "my previous article", "the next story": a reference made in a sentence, not a link label
_REFERENCE = re.compile(
    r"\b(?:my|our|his|her|their|its|this|that|the|a|an|in|of|see|read)\s+$",
    re.I,
)


def is_prev_next(line: str, ctx: Context) -> bool:
    """ "Previous post"/"Next post" navigation. Lower-case forms count only on lines that
    are not sentences, so "the next article of the treaty" stays; a label preceded by a
    possessive or an article ("in my previous article") is a reference in prose, not a link."""
    for rx in (_PREV_NEXT_CASED, _PREV_NEXT_ANY):
        m = rx.search(line)
        if m is None or _REFERENCE.search(line[: m.start()]):
            continue
        if rx is _PREV_NEXT_CASED:
            return True  # two glued titles can be long: up to the rule's 120 words
        return ctx.words <= 60 and not ends_sentence(line)
    return False


_NEWSLETTER_STRONG = re.compile(
    r"\b(?:subscribe|sign\s+up|signup)\b.{0,60}\b(?:newsletters?|mailing\s+list|inbox)\b|"
    r"\bget\s+(?:the\s+latest|our)\b.{0,50}\b(?:delivered|in\s+your\s+inbox|newsletter)\b|^\s*enter\s+your\s+e-?mail",
    re.I,
)
_NEWSLETTER_WEAK = re.compile(r"^\s*(?:subscribe|sign\s+up)\b", re.I)


def is_newsletter(line: str, ctx: Context) -> bool:
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


def is_source_header(line: str, ctx: Context) -> bool:
    # on an official page "U.S. Embassy Suva" above a speech is its venue, not a source
    return not ctx.official and _SOURCE_HEADER.match(line) is not None


_LATIN = re.compile(r"[A-Za-z]")
_CYR_GREEK = re.compile(r"[\u0370-\u03ff\u0400-\u04ff]")


def is_homoglyph_spam(line: str, ctx: Context) -> bool:
    """Three or more words spelled with both Latin and Cyrillic/Greek letters: text
    obfuscated to slip past filters, never statement prose."""
    if not _CYR_GREEK.search(line):
        return False
    mixed = sum(1 for w in line.split() if _LATIN.search(w) and _CYR_GREEK.search(w))
    return mixed >= 3
