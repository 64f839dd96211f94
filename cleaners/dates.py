"""Dates written the ways statements and aggregators write them, parsed without guessing.

dateparser would do more, but it is slow on the hot path and guesses where a statement
needs certainty; these are the forms the sources use.
"""

from __future__ import annotations

import re
from datetime import date, datetime

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH = (
    r"(?P<mon>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?\.?,?\s+)?"
# "April 15, 2014", "Apr. 15, 2014", "Monday, April 21, 2014"
MDY = re.compile(_WEEKDAY + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d\d)", re.I)
# "15 April, 2014", "15 April 2014"
DMY = re.compile(
    _WEEKDAY + r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>(?:19|20)\d\d)", re.I
)
ISO = re.compile(r"(?P<year>(?:19|20)\d\d)-(?P<month>\d\d)-(?P<day>\d\d)")
NUMERIC = re.compile(r"(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>(?:19|20)\d\d)")


def _make(year: str, month: int, day: str) -> date | None:
    try:
        return date(int(year), month, int(day))
    except ValueError:
        return None


def parse_date(text: str | None) -> date | None:
    """The first date written in `text` (month-name forms, ISO, US numeric), or None."""
    if not text:
        return None
    for rx in (ISO, MDY, DMY, NUMERIC):
        m = rx.search(text)
        if not m:
            continue
        if "mon" in m.groupdict():
            month = _MONTHS[m.group("mon").lower()[:3]]
        else:
            month = int(m.group("month"))
        d = _make(m.group("year"), month, m.group("day"))
        if d:
            return d
    return None


def parse_iso(value: object) -> date | None:
    """A date from an ISO 8601 date or datetime string (meta tags, JSON-LD)."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return parse_date(value)


def is_date_only(line: str) -> bool:
    """True when a line holds a date and little else ("Monday, April 21, 2014")."""
    stripped = line.strip(" |-–—·•,.")
    for rx in (MDY, DMY, ISO, NUMERIC):
        m = rx.search(stripped)
        if m and len(stripped) - (m.end() - m.start()) <= 12:
            return True
    return False
