"""Soft blocks: a 200 answer that is not the page asked for.

"Technical Difficulties" error pages, captchas and bot walls, empty shells, HTML where JSON or
XML was due. Such a response is retried once (such pages are often transient), then passed on
flagged with `response.meta["dispatches_soft_block"] = reason` so that spiders fall back and the
pipeline never stores it; each one is counted per host in `dispatches/soft_blocks/<host>`.

What kind of body a request expects is said by `request.meta["dispatches_expect"]`
("json", "xml", "html"); without it only the error-page patterns apply.
"""

from __future__ import annotations

import logging
import re

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from crawlers.discovery import looks_like_html

logger = logging.getLogger(__name__)

__all__ = ["SoftBlockMiddleware", "soft_block_reason"]

# In the <title>: a block page whatever else the page holds.
_TITLE = re.compile(rb"<title[^>]*>(.{0,200}?)</title>", re.I | re.S)
_TITLE_PATTERNS = [
    ("technical_difficulties", re.compile(rb"technical\s+difficulties", re.I)),
    (
        "captcha",
        re.compile(
            rb"captcha|are\s+you\s+a\s+robot|verify\s+you\s+are\s+(a\s+)?human|security\s+check", re.I
        ),
    ),
    (
        "bot_wall",
        re.compile(
            rb"attention\s+required|just\s+a\s+moment|pardon\s+our\s+interruption|access\s+denied|"
            rb"request\s+rejected|incapsula",
            re.I,
        ),
    ),
    (
        "error_page",
        re.compile(
            rb"service\s+unavailable|temporarily\s+unavailable|site\s+maintenance|"
            rb"\b50[0-9]\b.{0,20}error|error\s+50[0-9]",
            re.I,
        ),
    ),
]
# In the text of a page with little text: a real article may mention "technical difficulties",
# and many WordPress comment forms load a reCAPTCHA script, so these only count on short pages.
_BODY_PATTERNS = [
    ("technical_difficulties", re.compile(rb"technical\s+difficulties", re.I)),
    (
        "captcha",
        re.compile(
            rb"are\s+you\s+a\s+robot|verify\s+you\s+are\s+(a\s+)?human|complete\s+the\s+captcha|"
            rb"g-recaptcha|h-captcha|cf-challenge",
            re.I,
        ),
    ),
    ("bot_wall", re.compile(rb"access\s+denied|request\s+unsuccessful|you\s+have\s+been\s+blocked", re.I)),
]
_TAGS = re.compile(rb"<(script|style|noscript|template)\b.*?</\1\s*>|<!--.*?-->|<[^>]+>", re.I | re.S)
_MIN_TEXT = 200  # visible characters below which an HTML page is an empty shell
_SHORT_TEXT = 1500  # below this, error phrases in the text count


def _visible_len(body: bytes) -> int:
    return len(re.sub(rb"\s+", b" ", _TAGS.sub(b" ", body[:1_000_000])).strip())


def soft_block_reason(body: bytes, content_type: str = "", expect: str | None = None) -> str | None:
    """Why a 200 body is a soft block, or None when it looks like the real thing.

    Args:
        body: the decoded-transfer body.
        content_type: the response's Content-Type (without parameters is fine).
        expect: "json", "xml" or "html" when the request knows what it wants.
    """
    head = body[:4096]
    ctype = content_type.lower()
    if expect in ("json", "xml"):
        if not body.strip():
            return "empty"
        if looks_like_html(head) or "text/html" in ctype:
            return f"html_for_{expect}"
        if expect == "json" and head.lstrip()[:1] not in (b"[", b"{"):
            return "not_json"
        return None
    is_html = "html" in ctype or looks_like_html(head)
    if not is_html:
        return None
    m = _TITLE.search(body[:32_768])
    if m:
        for reason, pattern in _TITLE_PATTERNS:
            if pattern.search(m.group(1)):
                return reason
    visible = _visible_len(body)
    if visible < _SHORT_TEXT:
        for reason, pattern in _BODY_PATTERNS:
            if pattern.search(body[:200_000]):
                return reason
    if expect == "html" and visible < _MIN_TEXT:
        return "empty_shell"
    return None


class SoftBlockMiddleware:
    """Downloader middleware: detect, count, retry once, then flag soft blocks."""

    def __init__(self, crawler):
        if not crawler.settings.getbool("DISPATCHES_SOFTBLOCK_ENABLED", True):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.retries = crawler.settings.getint("DISPATCHES_SOFTBLOCK_RETRY_TIMES", 1)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response: Response, spider=None):
        if response.status != 200 or request.meta.get("dont_check_soft_block"):
            return response
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1")
        reason = soft_block_reason(response.body, ctype, request.meta.get("dispatches_expect"))
        if not reason:
            return response
        host = urlparse_cached(request).hostname or ""
        self.stats.inc_value(f"dispatches/soft_blocks/{host}")
        self.stats.inc_value("dispatches/soft_blocks")
        retry = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=f"soft_block_{reason}",
            max_retry_times=self.retries,
            stats_base_key="dispatches/soft_block_retry",
            give_up_log_level=logging.INFO,
        )
        if retry is not None:
            logger.info("Soft block (%s) from %s, retrying once", reason, request.url)
            return retry
        logger.warning("Soft block (%s) from %s: not stored", reason, request.url)
        request.meta["dispatches_soft_block"] = reason  # becomes response.meta
        return response
