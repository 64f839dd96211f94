"""Soft blocks: a 200 answer that is not the page asked for.

"Technical Difficulties" error pages, captchas and bot walls, empty shells (the rules the
cleaners apply too, from `cleaners.softblock`), HTML where JSON or XML was due. Such a
response is retried once (such pages are often transient), then passed on flagged with
`response.meta["dispatches_soft_block"] = reason` so that spiders fall back and the pipeline
never stores it; each one is counted per host in `dispatches/soft_blocks/<host>`.

What kind of body a request expects is said by `request.meta["dispatches_expect"]`
("json", "xml", "html"); without it only the error-page patterns apply.
"""

from __future__ import annotations

import logging

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from cleaners.softblock import soft_block_in_html, visible_text
from crawlers.discovery import looks_like_html

logger = logging.getLogger(__name__)

__all__ = ["SoftBlockMiddleware", "soft_block_reason"]

_MIN_TEXT = 200  # visible characters below which a page asked for as HTML came back empty


def soft_block_reason(body: bytes, content_type: str = "", expect: str | None = None) -> str | None:
    """Why a 200 body is a soft block, or None when it looks like the real thing.

    An HTML body is judged by the cleaners' soft-block rules (`cleaners.softblock`), so the
    crawler and the cleaners call the same pages block pages, for the same reason. What the
    request expected adds its own checks: HTML where JSON or XML was due, an empty body, a
    page asked for as HTML with next to no text.

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
    reason = soft_block_in_html(body)
    if reason is None and expect == "html" and len(visible_text(body)) < _MIN_TEXT:
        return "empty_shell"
    return reason


class SoftBlockMiddleware:
    """Downloader middleware: detect, count, retry once, then flag soft blocks."""

    def __init__(self, crawler):
        if not crawler.settings.getbool("DISPATCHES_SOFTBLOCK_ENABLED"):
            raise NotConfigured
        self.crawler = crawler
        self.stats = crawler.stats
        self.retries = crawler.settings.getint("DISPATCHES_SOFTBLOCK_RETRY_TIMES")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response: Response, spider=None):
        if response.status != 200 or request.meta.get("dont_check_soft_block"):
            return response
        ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
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
