"""`originals`: the official originals that stored copies name but the database lacks.

A copy that names its original ("Official news published at <url>", `rel=canonical` to an
official host, "originally published at") leaves a pending claim in the database. This spider
takes those claims (only on official hosts, `DISPATCHES_OFFICIAL_DOMAINS`) and fetches each
once; the page goes through the pipeline like any other, and the store joins it to the article
of the copy that claimed it, where it represents the article. A claim that failed is asked
for again only after a back-off (the database keeps its tries).

When the original answers 404/410 or its host no longer resolves, and for stored official
copies that went gone, the Internet Archive is asked (`DISPATCHES_WAYBACK`, on by default):
the newest good capture is stored as a copy with role `archived`, its capture URL and memento
time. `ClaimFollowing` is the part `syndication -a follow_claims=yes` shares.

A removed statement leaves the sitemaps, so no crawl asks for it again: `-a recheck=HOST`
asks for the stored pages of those hosts again, conditionally, and the ones that answer
404/410 (or a "page not found" page) are marked gone.

    scrapy crawl originals -a limit=100
    scrapy crawl originals -a recheck=www.state.gov
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from twisted.internet.error import DNSLookupError

from cleaners.model import utc_timestamp
from cleaners.urls import DEFAULT_OFFICIAL_DOMAINS
from crawlers.archives import latest_per_url, parse_cdx
from crawlers.config import comma_list, setting_list
from crawlers.freshness import conditional_headers
from crawlers.neterrors import network_reason
from crawlers.spiders.base import ARTICLE_STATUSES, ArgumentError
from crawlers.spiders.wayback import HOST_NAME, WaybackAccess

__all__ = ["ClaimFollowing", "OriginalsSpider"]


def _claims_of(official: tuple[str, ...], limit: int | None):
    def ask(db: Any) -> list[dict[str, Any]]:
        return db.history.pending_claims(official, limit)

    return ask


def _tried(url: str, status: str, http_status: int | None, detail: str):
    def tell(db: Any) -> None:
        db.history.claim_tried(url, status, http_status=http_status, detail=detail)

    return tell


class ClaimFollowing(WaybackAccess):
    """Fetching claimed originals, with the archive as the fallback for gone ones."""

    claims_asked: set[str]

    def official_patterns(self) -> tuple[str, ...]:
        return tuple(setting_list(self.settings, "DISPATCHES_OFFICIAL_DOMAINS")) or DEFAULT_OFFICIAL_DOMAINS

    def claim_requests(self, claims: list[dict[str, Any]]) -> Iterator[scrapy.Request]:
        for c in claims:
            if c["key"] in self.claims_asked:
                continue
            self.claims_asked.add(c["key"])
            self.crawler.stats.inc_value("dispatches/claims/asked")
            yield scrapy.Request(
                c["url"],
                callback=self.parse_claim,
                errback=self.claim_failed,
                dont_filter=True,
                meta={
                    "claim": c,
                    "hints": {"via": "claim"},
                    "handle_httpstatus_list": ARTICLE_STATUSES,
                    "dispatches_expect": "html",
                },
            )

    def record_claim(self, url: str, status: str, http_status: int | None = None, detail: str = "") -> None:
        self.crawler.stats.inc_value(f"dispatches/claims/{status}")
        state = self.state
        if state is not None:
            state.tell(_tried(url, status, http_status, detail))

    def parse_claim(self, response):
        claim = response.meta["claim"]
        yield from self.parse_article(response)
        soft = response.meta.get("dispatches_soft_block")
        if response.status == 200 and not soft:
            self.record_claim(claim["url"], "fetched", 200)
        elif response.status in (404, 410):
            self.record_claim(claim["url"], "gone", response.status)
            yield from self.look_up(claim["url"], claim=claim)
        elif response.status != 304:
            self.record_claim(claim["url"], "failed", response.status, str(soft or ""))

    def claim_failed(self, failure):
        request = failure.request
        claim = request.meta["claim"]
        yield from self.article_failed(failure)
        why = f"{type(failure.value).__name__}: {failure.value}"
        if self.unresolved(failure):
            # The host no longer exists (a closed embassy site): only the archive has it.
            self.record_claim(claim["url"], "gone", None, why)
            yield from self.look_up(claim["url"], claim=claim)
        else:
            self.record_claim(claim["url"], "failed", None, why)

    def unresolved(self, failure) -> bool:
        """Whether the request failed because its host name does not resolve.

        robots.txt is asked for first, so a host that does not resolve usually drops the
        request itself (an IgnoreRequest); the robots middleware has then recorded why in
        `dispatches/network_error/<host>`.
        """
        if failure.check(DNSLookupError):
            return True
        host = urlsplit(failure.request.url).hostname or ""
        why = self.crawler.stats.get_value(f"dispatches/network_error/{host}")
        return bool(failure.check(IgnoreRequest)) and why == network_reason(DNSLookupError())

    # --- the archive ------------------------------------------------------------------------
    def look_up(self, original: str, **meta: Any) -> Iterator[scrapy.Request]:
        req = self.lookup_request(original, self.parse_lookup, errback=self.archive_failed, **meta)
        if req is not None:
            yield req

    def parse_lookup(self, response):
        original = response.meta["original"]
        if response.status != 200:
            self.record_claim(original, "failed", response.status, "archive look-up")
            return
        try:
            captures = latest_per_url(parse_cdx(response.body))
        except ValueError as exc:
            self.logger.warning("Archive look-up of %s unusable: %s", original, exc)
            self.record_claim(original, "failed", 200, str(exc))
            return
        if not captures:
            self.record_claim(original, "not_archived", 200)
            return
        req = self.capture_request(
            captures[-1], self.parse_capture, errback=self.archive_failed, original=original
        )
        if req is not None:
            yield req

    def parse_capture(self, response):
        original = response.meta["original"]
        if response.status != 200:
            self.record_claim(original, "not_archived", response.status)
            return
        self.crawler.stats.inc_value("dispatches/wayback/captures")
        self.record_claim(original, "archived", 200)
        yield self.capture_page(response, self.name, utc_timestamp())

    def archive_failed(self, failure):
        original = failure.request.meta.get("original", failure.request.url)
        why = f"{type(failure.value).__name__}: {failure.value}"
        self.logger.warning("Archive request %s failed: %s", failure.request.url, why)
        self.crawler.stats.inc_value("dispatches/wayback/failed")
        self.record_claim(original, "failed", None, f"archive: {why}")
        return []


def _gone_of(limit: int | None):
    def ask(db: Any) -> list[dict[str, Any]]:
        return db.history.gone_to_recover(limit=limit)

    return ask


class OriginalsSpider(ClaimFollowing):
    name = "originals"
    discovery_order = ()

    def __init__(self, recheck=None, **kwargs):
        super().__init__(**kwargs)
        self.claims_asked = set()
        self.recheck = [h.lower() for h in comma_list(recheck)]
        for host in self.recheck:
            if not HOST_NAME.fullmatch(host):
                raise ArgumentError(f"-a recheck: {host!r} is not a host name like www.state.gov")
        self.run_args["recheck"] = ",".join(self.recheck)

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        cls.archive_slot_settings(settings)

    def hosts_to_crawl(self) -> list[str]:
        return []

    async def start(self):
        self.wayback_setup(self.settings)
        state = self.state
        if state is None or not state.available:
            self.logger.warning("No database: no claims to follow")
            return
        claims = await state.ask(_claims_of(self.official_patterns(), self.limit), [])
        self.logger.info("%d claimed originals to fetch", len(claims))
        for req in self.claim_requests(claims):
            yield req
        if self.recheck:
            for req in self.recheck_requests(await state.known_urls(self.recheck)):
                yield req
        if not self.wayback_on:
            return
        gone = await state.ask(_gone_of(self.limit), [])
        if gone:
            self.logger.info("%d gone official pages to look up in the archive", len(gone))
        for row in gone:
            if not urlsplit(row["url"] or "").hostname:
                continue
            for req in self.look_up(row["url"], claim=row):
                yield req

    def recheck_requests(self, known: dict[str, dict]) -> Iterator[scrapy.Request]:
        """Stored pages of the `recheck` hosts asked for again, conditionally (a 304 costs
        nothing): a removed statement leaves the sitemaps, so only asking for it again shows
        that it answers 404/410 now (the pipeline then marks its copy gone)."""
        for _, st in sorted(known.items()):
            if not st.get("copy_id") or st.get("gone") or not st.get("url"):
                continue
            if self.limit is not None and self.scheduled >= self.limit:
                self.crawler.stats.inc_value("dispatches/skipped/limit")
                break
            self.scheduled += 1
            self.crawler.stats.inc_value("dispatches/recheck/asked")
            yield scrapy.Request(
                st["url"],
                callback=self.parse_article,
                errback=self.article_failed,
                headers=conditional_headers(st),
                meta={
                    "hints": {"via": "recheck"},
                    "handle_httpstatus_list": ARTICLE_STATUSES,
                    "dispatches_expect": "html",
                },
            )
