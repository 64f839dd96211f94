"""The line-rule engine: runs the rule table over a text's paragraphs and records each cut.

A line rule (`cleaners.ruletable`) says whether one paragraph of extracted text, or one line
of a text capture, is cruft; some also read provenance out of what they cut (the claimed
original URL, a source line's publisher and date, a byline's speaker). Every cut becomes
`Removal(rule, text)`.

Rules remove cruft, never prose: a rule that would cut a paragraph reading as running text
(sentences of any script, of a length no menu or label has) is refused when the rule is meant
for short lines, and also when a prose-shaped rule (a disclaimer, a notice) would cut a
paragraph that shares most of its words with the rest of the body. A refused cut keeps the
paragraph and is recorded in `Attribution.refused`.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import replace

from cleaners.linechecks import official_source_url
from cleaners.model import Removal, normalise_text
from cleaners.prose import content_tokens, ends_sentence, is_prose, word_count
from cleaners.rulekit import (
    ATTRIBUTABLE,
    BYLINE,
    DOC_TYPE_LINE,
    DOC_TYPES,
    ISSUER,
    URL,
    Attribution,
    Context,
    Layout,
    LineRule,
    byline_speaker,
    doc_type_from_title,
    normalise_publisher,
    parse_source_line,
)
from cleaners.ruletable import LINE_RULES
from cleaners.urls import DEFAULT_OFFICIAL_DOMAINS

__all__ = [
    "ATTRIBUTABLE",
    "BYLINE",
    "DOC_TYPES",
    "DOC_TYPE_LINE",
    "ISSUER",
    "LINE_RULES",
    "URL",
    "Attribution",
    "Context",
    "LineRule",
    "apply_line_rules",
    "byline_speaker",
    "doc_type_from_title",
    "normalise_publisher",
    "parse_source_line",
]

# Rules whose cruft is itself written as sentences (notices, disclaimers, attribution lines):
# they may cut prose, unless it shares most of its words with the rest of the body.
PROSE_SHAPED = frozenset(
    (
        "official_news_published_at",
        "originally_published_at",
        "fair_use_notice",
        "wire_disclaimer",
        "official_banner",
        "external_link_disclaimer",
        "embassy_footer",
        "copyright_notice",
        "comment_form",
        "newsletter",
        "consent_notice",
        "homoglyph_spam",
    )
)
# Rules that never judge prose: a paragraph repeated right after itself, the title again.
_NOT_GUARDED = frozenset(("repeated_line", "repeated_title"))
_OVERLAP = 0.6  # share of a paragraph's content words found elsewhere in the body
# Rules that cut a header block's lines: the line after one of them is in that block too.
_META = frozenset(("byline", "doc_type_line", "doc_type_byline", "dateline", "place_line"))


class _Body:
    """The content words of every paragraph, to tell a paragraph that belongs to the body
    (it shares most of its words with the rest) from a notice that stands apart. Counted on
    the first question only: most pages never ask one."""

    def __init__(self, paragraphs: list[str]) -> None:
        self.paragraphs = list(paragraphs)
        self.tokens: list[set[str]] = []
        self.prose: list[bool] = []
        self.counts: Counter[str] = Counter()

    def _count(self) -> None:
        self.tokens = [content_tokens(p) for p in self.paragraphs]
        # only prose counts as the body: a site's own cruft lines repeat its own words
        self.prose = [is_prose(p) for p in self.paragraphs]
        for toks, prose in zip(self.tokens, self.prose, strict=True):
            if prose:
                self.counts.update(toks)

    def overlap(self, i: int) -> float:
        if not self.tokens and self.paragraphs:
            self._count()
        own = self.tokens[i]
        if not own:
            return 0.0
        mine = 1 if self.prose[i] else 0
        return sum(1 for t in own if self.counts[t] > mine) / len(own)


def refuses(rule: LineRule, line: str, i: int, body: _Body) -> bool:
    """Whether cutting paragraph `i` by `rule` would cut the statement's prose."""
    if rule.name in _NOT_GUARDED or not is_prose(line):
        return False
    if rule.name not in PROSE_SHAPED:
        return True
    return body.overlap(i) >= _OVERLAP


def _is_listed_title(line: str) -> bool:
    """A line of a related-posts list: a headline, not a sentence of the article."""
    words = word_count(line)
    return 0 < words <= 25 and not ends_sentence(line) and not line.rstrip().endswith((":", ";"))


def _is_body(line: str) -> bool:
    """A paragraph that reads as body text (ends the head zone)."""
    words = word_count(line)
    return words >= 20 or (words >= 8 and (ends_sentence(line) or line.rstrip().endswith(":")))


_MAX_WORDS = max(r.max_words or 0 for r in LINE_RULES)


@functools.lru_cache(maxsize=512)
def _candidates(words: int, head: bool, after_body: bool) -> tuple[LineRule, ...]:
    """The rules whose word limit and place admit a line (`LineRule.test` checks both again);
    most lines are long, and most rules are for short ones."""
    return tuple(
        r
        for r in LINE_RULES
        if (r.max_words is None or words <= r.max_words)
        and not (r.where == "head" and not head)
        and not (r.where == "tail" and not after_body)
    )


def apply_line_rules(
    paragraphs: list[str],
    *,
    title: str | None,
    att: Attribution,
    head_zone: bool = False,
    official: bool = False,
    official_domains: tuple[str, ...] = DEFAULT_OFFICIAL_DOMAINS,
) -> tuple[list[str], list[Removal], list[tuple[int, str]]]:
    """Run LINE_RULES over paragraphs in order.

    Returns (kept paragraphs, removals, head lines no rule claimed as (index, line)). With
    `head_zone` (text captures), short lines before the first body paragraph that no rule
    claims are returned separately instead of kept: the caller picks the title among them.
    `official_domains` are the hosts whose URL in a header or footer line is a claimed original.
    """
    paragraphs = list(paragraphs)
    body = _Body(paragraphs)
    layout = Layout(paragraphs, official_domains)
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
        # a body paragraph ends the head zone once it is kept: a long navigation line cut
        # above the statement does not
        ends_head = head and _is_body(line)
        key = normalise_text(line)
        after_meta = (
            bool(att.head_marks) and att.head_marks[-1][0] == i - 1 and att.head_marks[-1][1] in _META
        )
        ctx = Context(
            i,
            word_count(line),
            key,
            line.lower(),
            official,
            total,
            title_key,
            previous_key,
            head and not ends_head,
            kept_body,
            layout,
            after_meta,
        )
        fired = None
        m_fired = None
        for rule in _candidates(min(ctx.words, _MAX_WORDS + 1), ctx.head, kept_body > 0):
            ok, m = rule.test(line, ctx)
            if not ok:
                continue
            if not rule.strip and refuses(rule, line, i, body):
                att.refused.append(Removal(rule.name, line))
                continue
            fired, m_fired = rule, m
            if rule.capture:
                rule.capture(line, m, att)
            if ctx.head:
                att.head_marks.append((i, rule.name))
            break
        if fired is None:
            if ends_head:
                head = False
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
            for j in range(i + 1, total):
                rest_line = paragraphs[j]
                if is_prose(rest_line) and body.overlap(j) >= _OVERLAP:
                    # the statement's own paragraph after a comment heading: kept
                    att.refused.append(Removal(fired.name, rest_line))
                    kept.append(rest_line)
                else:
                    removals.append(Removal(fired.name, rest_line))
                    claimed = official_source_url(rest_line, replace(ctx, index=j, head=False))
                    if claimed:
                        att.claim(claimed)
            break
        i += 1
        if fired.rest == "titles":
            while i < total and _is_listed_title(paragraphs[i]):
                removals.append(Removal(fired.name, paragraphs[i]))
                i += 1
    return kept, removals, head_lines
