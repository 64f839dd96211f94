"""A news-wire dateline glued to the start of a copy's first paragraph.

An agency or press-release wire opens its copy of a statement with its own dateline, on the
same line as the statement's first sentence: "BRUSSELS, Jun. 3 (Agency) - The Secretary...",
"GENEVA, March 23, 2022 /Agency Newswire/ -- The United States...", "(Agency) - ...". Line
rules and site chrome work on whole lines, so neither sees it; this module recognises these
conventions at the start of a line and gives the span to cut, so the rule engine
(`cleaners.rules`) keeps the rest of the paragraph.

Only a dateline that names its agency (in brackets or slashes) is cut. A bare "CITY -" is
how an embassy's own release opens ("MEXICO CITY - The U.S. Embassy..."), so on a copy it is
the statement's text as often as the agency's, and it stays. Only on a copy, and only before
the first body paragraph is kept: an official page's own first line is the statement as
published, and a capitalised place name in running text ("Geneva, along with...") names no
agency. What was cut is kept as the copy's source line (place, date, agency) when the copy
has none.
"""

from __future__ import annotations

import re

from cleaners.rulekit import Attribution, Context

_DASH = r"(?:--|\u2014|\u2013|-)"
# a place: one to four words, a region or country after a comma allowed ("SAN JOSE, Costa Rica")
_WORD = r"[A-Z][\w.'\u2019-]+"
_REGION = rf"(?:,\s*{_WORD}(?:\s+{_WORD}){{0,2}})?"
_ANY_PLACE = rf"{_WORD}(?:\s+{_WORD}){{0,3}}{_REGION}"
# "Jun. 3", "June 3, 2024", "3 June 2024"
_DATE = r"(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2}(?:,\s*\d{4})?|\d{1,2}\s+[A-Z][a-z]{2,8}\.?(?:\s+\d{4})?)"
_AGENCY = r"(?:\([A-Z][\w.&'\u2019 -]{1,30}\)|/[A-Z][\w.&'\u2019 -]{1,30}/)"
# with the agency named, in brackets or slashes: the place may be in any case, or missing
_WITH_AGENCY = re.compile(
    rf"^\s*(?P<head>(?:{_ANY_PLACE},?\s+(?:{_DATE},?\s+)?)?{_AGENCY})\s*{_DASH}\s+(?=\S)"
)
#: a dateline is at most this many words
MAX_WORDS = 12


def wire_dateline(line: str, ctx: Context) -> re.Match[str] | None:
    """The dateline at the start of `line` (the span to cut, dash included), or None: only on
    a copy (not an official page), before the first body paragraph is kept, and only when the
    line goes on after it."""
    if ctx.official or ctx.kept_body > 0:
        return None
    m = _WITH_AGENCY.match(line)
    if m is None or len(m.group("head").split()) > MAX_WORDS or not line[m.end() :].strip():
        return None
    return m


def capture_wire_dateline(line: str, m: re.Match[str] | None, att: Attribution) -> None:
    """Keep the cut dateline as the copy's source line when it has none."""
    if m is not None:
        att.source_line = att.source_line or m.group("head").strip()
