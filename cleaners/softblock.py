"""Soft blocks: a 200 answer that is a block or error page, not the page asked for.

One table, `SOFT_BLOCK_RULES`, names the phrases of such pages ("Technical Difficulties",
"Access Denied", captchas, maintenance notices) and the reason each stands for; one decision,
`_decide`, says when they count. A phrase in a short `<title>` marks a block page whatever else
the page holds; in a heading or the text of a page with little text it counts too, but a real
article may mention "access denied", so a page with a reader's worth of text never counts.
Captcha widgets in the markup and a near-empty page that only runs scripts count as well.

Two readings of a page feed that decision: `soft_block_in_tree` reads a parsed tree (the
cleaners, which parse every page anyway), `soft_block_in_html` reads the bytes with regular
expressions (the crawler's middleware, which must not parse every response in the reactor).
`is_not_found` recognises a "soft 404", a page-not-found template served with 200.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml.html import HtmlElement

from cleaners.html import title_tag

_WS = re.compile(r"\s+")

MAX_TITLE_CHARS = 80  # a block page's title is short; a headline may quote one of the phrases
SHORT_PAGE = 1500  # visible characters from which a page is never a block page
TINY_PAGE = 400  # below this the phrases count anywhere in the text, not only in headings
EMPTY_SHELL = 60  # visible characters below which a page that runs scripts is an empty shell
MAX_PAGE_CHARS = 30000  # text, scripts included, beyond which a page is not a block page


@dataclass(frozen=True, slots=True)
class SoftBlockRule:
    """A phrase of block pages and the reason it stands for.

    Args:
        reason: what kind of block ("captcha"); a stats key and a `Rejected` detail.
        pattern: searched, case-insensitively, in whitespace-folded text.
        title_only: counts in the `<title>` only (too common a phrase in headings).
    """

    reason: str
    pattern: re.Pattern[str]
    title_only: bool = False


def _rule(reason: str, pattern: str, title_only: bool = False) -> SoftBlockRule:
    return SoftBlockRule(reason, re.compile(pattern, re.I), title_only)


SOFT_BLOCK_RULES: tuple[SoftBlockRule, ...] = (
    _rule("technical_difficulties", r"technical difficulties"),
    _rule("captcha", r"are you a robot|verify you are (?:a )?human|complete the captcha"),
    _rule("captcha", r"captcha|security check", title_only=True),
    _rule(
        "bot_wall",
        r"access denied|attention required|just a moment|request rejected|request unsuccessful|forbidden|"
        r"you have been blocked|pardon our interruption",
    ),
    _rule("bot_wall", r"incapsula", title_only=True),
    _rule("error_page", r"service unavailable|temporarily unavailable|site maintenance"),
    _rule("error_page", r"\b50[0-9]\b.{0,20}error|error 50[0-9]", title_only=True),
    _rule("rate_limited", r"too many requests"),
)

# Where captcha and challenge widgets show in the markup: script and iframe sources, form
# actions, div classes (a WordPress comment form's reCAPTCHA counts only on a short page).
CAPTCHA_MARKUP = re.compile(
    r"g-recaptcha|h-captcha|hcaptcha\.com|cf-challenge|cf_chl_|challenge-platform|/captcha", re.I
)

# Anchored: "Page Not Found - Site", "404 | Site", "Oops! That page can't be found"; not a
# headline about something not found.
_NOT_FOUND = re.compile(
    r"^\W*(?:error\s*)?(?:404\b|page\s+not\s+found|not\s+found\b|nothing\s+found|"
    r"oops!?\s+that\s+page\s+can.t\s+be\s+found|página\s+no\s+encontrada|page\s+introuvable)",
    re.I,
)


def title_reason(title: str | None) -> str | None:
    """The reason a page with this `<title>` is a block page, or None."""
    title = _WS.sub(" ", title or "").strip()
    if len(title) > MAX_TITLE_CHARS:
        return None
    for rule in SOFT_BLOCK_RULES:
        if rule.pattern.search(title):
            return rule.reason
    return None


def _decide(
    title: str | None,
    page_chars: int,
    visible: Callable[[], str],
    headings: Callable[[], str],
    markup: Callable[[], str],
    has_script: Callable[[], bool],
) -> str | None:
    """The one decision over what either reading found (the callables are read only when
    needed: most pages are settled by their title or their length)."""
    reason = title_reason(title)
    if reason or page_chars > MAX_PAGE_CHARS:
        return reason
    text = _WS.sub(" ", visible()).strip()
    if len(text) >= SHORT_PAGE:
        return None
    heads = _WS.sub(" ", headings())
    tiny = len(text) < TINY_PAGE
    for rule in SOFT_BLOCK_RULES:
        if not rule.title_only and (rule.pattern.search(heads) or (tiny and rule.pattern.search(text))):
            return rule.reason
    if CAPTCHA_MARKUP.search(markup()) or "captcha" in text.lower():
        return "captcha"
    if len(text) < EMPTY_SHELL and has_script():
        return "empty_shell"
    return None


def soft_block_in_tree(tree: HtmlElement) -> str | None:
    """Why a parsed page is a block page ("technical_difficulties", "bot_wall", "captcha",
    "error_page", "rate_limited", "empty_shell"), or None."""
    body = tree.body if tree.body is not None else tree
    return _decide(
        title_tag(tree),
        len(body.text_content()),
        lambda: " ".join(
            body.xpath(
                ".//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)]"
            )
        ),
        lambda: " ".join(h.text_content() for h in body.xpath(".//h1|.//h2")[:3]),
        lambda: " ".join(
            tree.xpath("//script/@src")
            + tree.xpath("//form/@action")
            + tree.xpath("//div/@class")
            + tree.xpath("//iframe/@src")
        ),
        lambda: bool(tree.xpath("//script")),
    )


def is_not_found(tree: HtmlElement) -> bool:
    """A "soft 404": the title or one of the first two h1 says the page is not there."""
    return bool(_NOT_FOUND.search(title_tag(tree) or "")) or any(
        _NOT_FOUND.search(h.text_content()) for h in tree.xpath("//h1")[:2]
    )


# --- the same reading over bytes, for the crawler ------------------------------------------

_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.I | re.S)
_HIDDEN = re.compile(r"<(script|style|noscript)\b.*?</\1\s*>|<!--.*?-->", re.I | re.S)
_TAG = re.compile(r"<[^>]*>")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HEADING = re.compile(r"<h[12]\b[^>]*>(.*?)</h[12]\s*>", re.I | re.S)
_ATTRIBUTE = re.compile(
    r"<(script|iframe|form|div)\b[^>]*?\s(src|action|class)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]*))",
    re.I,
)
_MARKUP_ATTRIBUTES = {("script", "src"), ("iframe", "src"), ("form", "action"), ("div", "class")}
_BODY_START = re.compile(r"<body\b[^>]*>", re.I)
MAX_SCAN = 1_000_000  # characters of a body read; a block page is far smaller


def _text_of(fragment: str) -> str:
    return html.unescape(_TAG.sub(" ", fragment))


def _body_of(page: str) -> str:
    start = _BODY_START.search(page)
    return page[start.end() :] if start else page


def visible_text(body: bytes) -> str:
    """The text a reader sees in an HTML body (no scripts, styles or comments), read with
    regular expressions, whitespace folded."""
    page = body[:MAX_SCAN].decode("utf-8", "replace")
    return _WS.sub(" ", _text_of(_HIDDEN.sub(" ", _body_of(page)))).strip()


def soft_block_in_html(body: bytes) -> str | None:
    """`soft_block_in_tree` read from an HTML body's bytes without parsing it."""
    page = body[:MAX_SCAN].decode("utf-8", "replace")
    m = _TITLE.search(page, 0, 32_768)
    title = _text_of(m.group(1)) if m else None
    inside = _body_of(page)
    visible = _text_of(_HIDDEN.sub(" ", inside))
    all_text = _text_of(_COMMENT.sub(" ", inside))

    def markup() -> str:
        found = _ATTRIBUTE.findall(page)
        return " ".join(
            "".join(values)
            for tag, attr, *values in found
            if (tag.lower(), attr.lower()) in _MARKUP_ATTRIBUTES
        )

    return _decide(
        title,
        len(all_text),
        lambda: visible,
        lambda: " ".join(_text_of(h) for h in _HEADING.findall(inside)[:3]),
        markup,
        lambda: re.search(r"<script\b", page, re.I) is not None,
    )
