"""`state_gov`: press releases, statements, briefings and remarks of www.state.gov and its archives.

Discovery per host, best first: the WordPress REST collections (`state_press_release`, then
`state_briefing`), the sitemap index with `lastmod`, the listing pages `/press-releases/page/N/`,
the RSS feed. Archive hosts (2021-2025.state.gov ...) come in with `-a archives=HOST,HOST`; they
have no REST API, so they start at the sitemap.

    scrapy crawl state_gov -a since=2024-01-01 -a topic=trafficking -a limit=200
"""

from __future__ import annotations

import math
import re
from urllib.parse import urlsplit

from crawlers.config import comma_list
from crawlers.discovery import NotDiscovery, parse_archive_index, parse_listing, parse_rest
from crawlers.spiders.base import ArgumentError, DispatchesSpider
from crawlers.state import CrawlState

MAIN_HOST = "www.state.gov"
# Static archives of older administrations: index pages instead of sitemaps and listings.
STATIC_ARCHIVE = re.compile(r"(2001-2009|2009-2017)\.state\.gov")
INDEX_ROOT = "/r/pa/prs/ps/index.htm"
COLLECTIONS = ("state_press_release", "state_briefing")
REST_FIELDS = "id,guid,link,modified_gmt,date_gmt,title"
PER_PAGE = 100


class StateGovSpider(DispatchesSpider):
    name = "state_gov"
    role_hint = "original"
    discovery_order = ("rest", "sitemap", "listing", "feed")

    def __init__(self, archives=None, main="yes", **kwargs):
        super().__init__(**kwargs)
        self.archives = comma_list(archives)
        for host in self.archives:
            if not (host.endswith(".state.gov") and host != MAIN_HOST) or "/" in host:
                raise ArgumentError(f"-a archives: {host!r} is not an archive host like 2021-2025.state.gov")
        self.crawl_main = str(main).lower() not in ("no", "0", "false", "off")
        self.rest_newest: dict[tuple[str, str], str] = {}
        self.run_args["archives"] = ",".join(self.archives)

    def hosts_to_crawl(self):
        return ([MAIN_HOST] if self.crawl_main else []) + self.archives

    def begin_discovery(self, host):
        if host != MAIN_HOST:
            self._disc[host] = {"i": 0, "method": None}
            # Archives are static snapshots without the REST API: start at the sitemap.
            self._disc[host]["i"] = self.discovery_order.index("sitemap") - 1
            yield from self._next_method(host, None)
            return
        yield from super().begin_discovery(host)

    # --- REST ------------------------------------------------------------------------------
    # The watermark: the newest `modified_gmt` of a collection, remembered (as the state of the
    # collection's URL) only after a run that went through the whole collection and saved every
    # page. The next run asks only for posts modified after it (`modified_after`, WordPress 5.7+);
    # a killed or partial run leaves the old watermark, so nothing can be skipped by mistake.
    def collection_url(self, host: str, collection: str) -> str:
        return f"https://{host}/wp-json/wp/v2/{collection}"

    def watermark(self, host: str, collection: str) -> str | None:
        if self.settings.getbool("DISPATCHES_FULL_DISCOVERY"):
            return None
        state = self.known.get(CrawlState.url_key(self.collection_url(host, collection))) or {}
        return state.get("modified_gmt")

    def rest_url(self, host: str, collection: str, page: int) -> str:
        mark = self.watermark(host, collection)
        return self.query(
            self.collection_url(host, collection),
            _fields=REST_FIELDS,
            per_page=PER_PAGE,
            page=page,
            after=f"{self.since.isoformat()}T00:00:00" if self.since else None,
            before=f"{self.until.isoformat()}T23:59:59" if self.until else None,
            modified_after=mark.replace("Z", "") if mark else None,
        )

    def start_rest(self, host):
        return [
            self.discovery_request(
                self.rest_url(host, COLLECTIONS[0], 1),
                host,
                "rest",
                self.parse_rest,
                "json",
                True,
                conditional=False,
                collection=COLLECTIONS[0],
                page=1,
            )
        ]

    def parse_rest(self, response):
        meta = response.meta
        host, collection, page = meta["host"], meta["collection"], meta["page"]
        primary = collection == COLLECTIONS[0] and page == 1
        if response.status == 400 and page > 1:
            return  # past the last page: WordPress's normal end (rest_post_invalid_page_number)
        why = self.unusable(response)
        found = []
        if not why:
            try:
                found = parse_rest(response.body)
            except NotDiscovery as exc:
                why = str(exc)
        if (
            primary
            and not why
            and not found
            and not (self.since or self.until or self.watermark(host, collection))
        ):
            why = "empty collection"
        if why:
            if primary:
                yield from self.discovery_failed(host, "rest", why)
            elif page == 1:
                self.logger.info("REST collection %s on %s not usable (%s); skipped", collection, host, why)
            else:
                self.logger.warning("REST page %s failed: %s", response.url, why)
                self.crawler.stats.inc_value(f"dispatches/discovery_partial/{host}")
            return
        self.discovery_ok(host, "rest")
        newest = max((f.lastmod for f in found if f.lastmod), default=None)
        key = (host, collection)
        if newest and (self.rest_newest.get(key) or "") < newest:
            if not self.rest_newest.get(key):
                self.watermarks.append((host, self.collection_url(host, collection), {}))
            self.rest_newest[key] = newest
            for i, (h, url, _) in enumerate(self.watermarks):
                if url == self.collection_url(host, collection):
                    self.watermarks[i] = (h, url, {"modified_gmt": newest})
        if page == 1:
            total = response.headers.get(b"X-WP-TotalPages")
            try:
                pages = int(total) if total else None
            except ValueError:
                pages = None
            if pages is None:  # no header: keep asking until the 400
                pages = 2 if len(found) >= PER_PAGE else 1
                meta_more = True
            else:
                meta_more = False
            cap = math.ceil(self.max_items / PER_PAGE)
            for n in range(2, min(pages, cap) + 1):
                yield self.discovery_request(
                    self.rest_url(host, collection, n),
                    host,
                    "rest",
                    self.parse_rest,
                    "json",
                    False,
                    collection=collection,
                    page=n,
                    probe=meta_more,
                )
            if collection == COLLECTIONS[0]:
                for other in COLLECTIONS[1:]:
                    yield self.discovery_request(
                        self.rest_url(host, other, 1),
                        host,
                        "rest",
                        self.parse_rest,
                        "json",
                        False,
                        collection=other,
                        page=1,
                    )
        elif meta.get("probe") and len(found) >= PER_PAGE:
            yield self.discovery_request(
                self.rest_url(host, collection, page + 1),
                host,
                "rest",
                self.parse_rest,
                "json",
                False,
                collection=collection,
                page=page + 1,
                probe=True,
            )
        for item in found:
            if urlsplit(item.url).hostname != host:
                continue
            req = self.article_request(item)
            if req is not None:
                yield req

    # --- listing pages -------------------------------------------------------------------
    def start_listing(self, host):
        if STATIC_ARCHIVE.fullmatch(host):
            return [
                self.discovery_request(
                    f"https://{host}{INDEX_ROOT}", host, "listing", self.parse_index, "html", True
                )
            ]
        return [
            self.discovery_request(
                f"https://{host}/press-releases/", host, "listing", self.parse_listing, "html", True, page=1
            )
        ]

    def parse_listing(self, response):
        meta = response.meta
        host = meta["host"]
        why = self.unusable(response)
        found, nxt = ([], None) if why else parse_listing(response.body, response.url)
        if not why and not found:
            why = "no article links"
        if why:
            if meta.get("first"):
                yield from self.discovery_failed(host, "listing", why)
            return
        self.discovery_ok(host, "listing")
        new = sum(1 for item in found if CrawlState.url_key(item.url) not in self.known)
        for item in found:
            req = self.article_request(item)
            if req is not None:
                yield req
        # Listings run newest first: a page with nothing new means older pages hold nothing new.
        if nxt and (new or not self.known) and meta["page"] * 10 < self.max_items:
            yield self.discovery_request(
                nxt, host, "listing", self.parse_listing, "html", False, page=meta["page"] + 1
            )

    # --- yearly and monthly index pages of the static archives --------------------------
    # 2001-2009.state.gov and 2009-2017.state.gov have no sitemap of statements: the press
    # releases index lists the years, a year its months, a month its statements at
    # /r/pa/prs/ps/YYYY/MM/NNNNNN.htm. Years and months outside `since`/`until` are not read.
    def parse_index(self, response):
        meta = response.meta
        host = meta["host"]
        why = self.unusable(response)
        indexes, found = ([], []) if why else parse_archive_index(response.body, response.url)
        if not why and not (indexes or found):
            why = "no index or statement links"
        if why:
            if meta.get("first"):
                yield from self.discovery_failed(host, "listing", why)
            else:
                self.logger.warning("Index page %s unusable: %s", response.url, why)
                self.crawler.stats.inc_value(f"dispatches/discovery_partial/{host}")
            return
        self.discovery_ok(host, "listing")
        for url, year, month in indexes:
            if not self.month_wanted(year, month):
                continue
            yield self.discovery_request(url, host, "listing", self.parse_index, "html", False)
        for item in found:
            req = self.article_request(item)
            if req is not None:
                yield req

    def month_wanted(self, year: int, month: int | None) -> bool:
        first = (year, month or 1)
        last = (year, month or 12)
        if self.since and last < (self.since.year, self.since.month):
            return False
        if self.until and first > (self.until.year, self.until.month):
            return False
        return True

    # --- RSS ----------------------------------------------------------------------------------
    def start_feed(self, host):
        return [self.feed_request(f"https://{host}/rss-feed/press-releases/feed/", host, first=True)]
