"""The table of line rules, in the order they are tried (the first that fires cuts the line).

Each rule names a kind of cruft; its check is a regex here or a predicate in
`cleaners.linechecks`. Each rule has a fixture test in tests/test_cleaners_rules.py; a new
rule needs one too.
"""

from __future__ import annotations

import re
from dataclasses import replace

from cleaners.datelines import capture_wire_dateline, wire_dateline
from cleaners.linechecks import (
    SEPARATOR,
    SHARE_BAR,
    capture_byline,
    capture_dateline,
    capture_doc_type,
    capture_doc_type_byline,
    capture_embassy_meta,
    capture_header_field,
    capture_original,
    capture_source_header,
    capture_source_line,
    capture_source_url,
    capture_tags,
    capture_wire_header,
    claim_url,
    is_breadcrumb,
    is_byline,
    is_dateline,
    is_doc_type_byline,
    is_footer_separator,
    is_forward_marker,
    is_generator_line,
    is_header_field,
    is_homoglyph_spam,
    is_nav_line,
    is_newsletter,
    is_original_line,
    is_place_line,
    is_prev_next,
    is_released_on,
    is_repeated_line,
    is_repeated_title,
    is_signed_note,
    is_source_header,
    is_source_line,
    is_source_url_line,
    is_wire_header,
)
from cleaners.rulekit import DOC_TYPE_LINE, LineRule

# --- the table ------------------------------------------------------------------------------

_LINE_RULES: tuple[LineRule, ...] = (
    LineRule(
        "official_news_published_at",
        re.compile(r"^\s*official news published at\b", re.I),
        40,
        capture=claim_url,
        description='"Official news published at <url>": the original, kept as claimed_original',
    ),
    LineRule(
        "originally_published_at",
        is_original_line,
        45,
        capture=capture_original,
        description='"X originally published at Y", "This post originally appeared on ...", a catalogue '
        'credit line at an edge ("Digitised from ___ holdings, item 4411")',
    ),
    LineRule(
        "source_url_line",
        is_source_url_line,
        40,
        capture=capture_source_url,
        description='"<label>: <URL on an official host>" in the header or the footer: the claimed original',
    ),
    LineRule(
        "footer_separator",
        is_footer_separator,
        3,
        rest="all",
        description='a rule line or a signature\'s "-- " after the last prose paragraph, and the '
        "footer after it",
    ),
    LineRule(
        "read_more_at",
        re.compile(
            r"^\s*(?:read\s+more(?:\s+(?:at|on|from)\b|\s*[:»›…>]|\s*$)|read\s+the\s+(?:full|original|complete)\s+(?:story|article|statement|release|text|post)\b|"
            r"continue\s+reading\b|full\s+story\b|view\s+(?:the\s+)?original\b|source\s+link\b)",
            re.I,
        ),
        25,
        capture=claim_url,
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
        is_wire_header,
        40,
        capture=capture_wire_header,
        description='"Issuer | Press release | Distributed by ..." / "Wire | Media Note | April 2, 2024"',
    ),
    LineRule(
        "doc_type_byline",
        is_doc_type_byline,
        16,
        capture=capture_doc_type_byline,
        description='"Press Statement – Antony J. Blinken, Secretary of State" above a reposted '
        "statement -> doc_type, speaker",
    ),
    LineRule(
        "wire_dateline",
        wire_dateline,
        None,
        strip=True,
        capture=capture_wire_dateline,
        description='"WASHINGTON, Mar. 4 (WorldWire) -- " and the other agency datelines glued to a copy\'s '
        "first paragraph -> source_line",
    ),
    LineRule(
        "source_line",
        is_source_line,
        25,
        capture=capture_source_line,
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
        capture=capture_embassy_meta,
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
        is_prev_next,
        120,
        description='"Previous post" / "Next post" with the neighbouring titles glued to them',
    ),
    LineRule(
        "nav_line",
        is_nav_line,
        40,
        description='"Home | Columns, Commentary and News | Reports | Links | About/Contact"',
    ),
    LineRule(
        "breadcrumb", is_breadcrumb, 30, description='"Home > Press Releases > ..." leaked into the text'
    ),
    LineRule(
        "tags_line",
        re.compile(
            r"^\s*(?:tags?|tagged(?:\s+with)?|filed\s+under|categories|category|posted\s+in|related\s+topics|topics?|keywords)\s*[:\-–]\s*\S",
            re.I,
        ),
        30,
        capture=capture_tags,
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
    LineRule("newsletter", is_newsletter, 30, description="newsletter sign-up boxes"),
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
        capture=capture_dateline,
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
        is_homoglyph_spam,
        None,
        description="words mixing Latin and Cyrillic/Greek look-alike letters (obfuscated ads)",
    ),
    LineRule(
        "source_credit",
        re.compile(r"^\s*(?:[A-Za-z0-9-]+\.)+(?:com|net|org|gov|news|info|co|tv|us)\s*$", re.I),
        3,
        description='a bare site name left as a credit line ("BVINEWS.COM")',
    ),
    LineRule("repeated_title", is_repeated_title, 60, description="the title repeated in the body"),
    LineRule("repeated_line", is_repeated_line, None, description="a paragraph repeated right after itself"),
    LineRule(
        "byline",
        is_byline,
        14,
        capture=capture_byline,
        description='first-paragraph byline ("Office of the Spokesperson", "Antony J. Blinken, '
        'Secretary of State") -> speaker',
    ),
    LineRule(
        "doc_type_line",
        DOC_TYPE_LINE,
        4,
        where="head",
        capture=capture_doc_type,
        description='the document-type line ("Readout", "Media Note") -> doc_type',
    ),
    LineRule(
        "dateline",
        is_dateline,
        8,
        where="head",
        capture=capture_dateline,
        description="a date on its own line above the body (aggregator date, hero date)",
    ),
    LineRule(
        "rule_line",
        SEPARATOR,
        3,
        where="head",
        description="a rule of dashes, equals signs or underscores above the body",
    ),
    LineRule(
        "place_line",
        is_place_line,
        5,
        where="head",
        description='"Washington, DC" in the header block an official page opens with its byline',
    ),
    LineRule(
        "released_on",
        is_released_on,
        10,
        capture=capture_dateline,
        description='"Released on June 4, 2008": the page\'s own date line',
    ),
    LineRule(
        "signed_note",
        is_signed_note,
        20,
        where="head",
        description='a reposter\'s note signed with a dash above the body ("Passing this on. -- RT")',
    ),
    LineRule(
        "forward_marker",
        is_forward_marker,
        8,
        description='"---------- Forwarded message ---------", "Begin forwarded message:" above the body',
    ),
    LineRule(
        "generator_line",
        is_generator_line,
        15,
        description='"This archive was generated by ..." in the footer',
    ),
    LineRule(
        "header_field",
        is_header_field,
        60,
        capture=capture_header_field,
        description='"Label: value" lines of a header block above a copy\'s body ("Subject:", "Filed:")',
    ),
    LineRule(
        "source_header",
        is_source_header,
        8,
        where="head",
        capture=capture_source_header,
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
    "originally_published_at": (
        "originally",
        "permission",
        "part of",
        "collection",
        "holdings",
        "archive",
        "digiti",
        "scanned",
        "retrieved",
        "transcribed",
        "reproduced",
        "shelf",
        "accession",
        "call number",
    ),
    "official_news_published_at": ("official news",),
    "copyright_notice": ("©", "(c)", "copyright", "reserved", "redistributed"),
    "comment_form": ("email", "required fields", "notify me", "akismet"),
}
LINE_RULES: tuple[LineRule, ...] = tuple(
    replace(r, needles=_NEEDLES.get(r.name, r.needles)) for r in _LINE_RULES
)
