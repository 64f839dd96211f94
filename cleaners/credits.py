"""Credit lines: where a library or archive says it took a text from.

A digital library, a reading room or a document archive puts a line of its own at the edge
of a text it keeps ("This text is part of the ___ collection, item 4411", "Digitised from ___
holdings", "Retrieved from ___ on <date>", a shelfmark): it names the collection and the
item's reference or the date it was taken. It is provenance, not the statement. Inside the
body the same words are the statement's own, and a list of works cited is a citation.
"""

from __future__ import annotations

import re

from cleaners.rulekit import Context

# a reference in a list of works: "(1966)", "pp. 12-19", "vol. 3", "doi:", "ed."
CITATION = re.compile(r"\(\d{4}\)|\bpp?\.\s*\d|\bvol\.\s*\d|\bdoi\b|\beds?\.\s|^\s*(?:\[\d+\]|\d+\.)\s", re.I)
# a credit line naming the collection or archive a text was taken from ("This text is part of
# the ___ collection", "Digitised from ___ holdings", "Retrieved from ___ on <date>")
_CREDIT = re.compile(
    r"\bpart\s+of\s+(?:the\s+)?.{0,80}?\b(?:collections?|archives?|papers|holdings)\b|"
    r"\b(?:digiti[sz]ed|scanned|retrieved|transcribed|reproduced|archived)\s+(?:from|by|on|at)\b|"
    r"\b(?:from|in)\s+the\s+.{0,60}?\b(?:collections?|holdings|archives)\b|"
    r"\bshelf\s?mark\b|\baccession(?:ed)?\b|\bcall\s+number\b",
    re.I,
)
# ... and the catalogue's reference or the date it was taken: an item number or a full date
_CREDIT_REF = re.compile(
    r"\b(?:item|no|nr|number|box|folder|file|ms|id|ref)\.?\s*[:#]?\s*[A-Z]{0,4}[/-]?\d+|"
    r"\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4}\b|"
    r"\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{4}\b",
    re.I,
)
_CREDIT_EDGE = 3  # a credit line stands above the body or among the last lines of the text


def is_credit_line(line: str, ctx: Context) -> bool:
    """A library's or archive's credit line at the text's edge: it names the collection the
    text was taken from and the item's reference or the date it was taken. Inside the body
    such words are the statement's own."""
    if ctx.kept_body and ctx.index < ctx.total - _CREDIT_EDGE:
        return False
    return bool(_CREDIT.search(line)) and bool(_CREDIT_REF.search(line)) and not CITATION.search(line)
