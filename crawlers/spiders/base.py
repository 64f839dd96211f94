"""What the spiders share: arguments, the discovery fallback chain, incremental decisions, RawPage.

A spider finds article URLs through discovery methods tried in order of preference per host
(REST, sitemap, listing, feed); the first whose first document makes sense wins, and
`dispatches/discovery/<host>` says which. A method that fails (error, HTML where JSON was due,
empty) hands over to the next with a log line; when none is left the host goes into
`dispatches/discovery_failed/<host>`. The documents are parsed by `crawlers.discovery`,
`crawlers.sitemaps` and `crawlers.feeds`.

Whether to fetch an article is decided against the database (read through the
`crawlers.state.CrawlState` extension) by the rules of `crawlers.freshness`: a URL whose
discovery hint is not newer than the stored one is skipped without a request, any other known
URL is asked for conditionally. Nothing is kept in JOBDIR: the database is the record, so a
killed run simply starts over and skips what it stored.

Spiders never clean text: they yield `RawPage` items (`crawlers.rawpages`) and the pipeline does
the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import urlencode, urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest

from crawlers import feeds, sitemaps
from crawlers.config import comma_list
from crawlers.discovery import Found, NotDiscovery, in_scope
from crawlers.freshness import conditional_headers, host_was_clean, unchanged, validators
from crawlers.neterrors import count_network_error
from crawlers.rawpages import discovery_hints, failed_page, page_of
from crawlers.spiders.arguments import ArgumentError, CheckedArguments, parse_day, parse_limit, parse_window
from crawlers.state import CrawlState

__all__ = ["DispatchesSpider", "ArgumentError", "parse_day"]

ARTICLE_STATUSES = [304, 404, 410]


class DispatchesSpider(CheckedArguments, scrapy.Spider):
    """Base class; subclasses define `hosts_to_crawl()`, `discovery_order` and a `start_<method>(host)`
    for each method named there."""

    #: methods in order of preference; each name maps to `start_<name>(host)`
    discovery_order: tuple[str, ...] = ()
    role_hint: str | None = None

    def __init__(self, since=None, until=None, limit=None, topic=None, **kwargs):
        self.check_names(kwargs)
        super().__init__(**kwargs)
        self.since, self.until = parse_window(since, until)
        self.limit = parse_limit(limit)
        self.topic_keywords = comma_list(topic)
        self.run_args = {"since": since, "until": until, "limit": limit, "topic": topic}
        self.known: dict[str, dict] = {}
        self.planned: set[str] = set()
        self.scheduled = 0
        self._disc: dict[str, dict] = {}
        # validators of discovery documents fetched in full this run, kept for the next run
        # only if the run went through its host cleanly (see `closed`)
        self.doc_validators: dict[str, tuple[str, dict]] = {}
        self.watermarks: list[tuple[str, str, dict]] = []  # (host, url, url_state fields)
        self._sitemaps_seen: dict[str, int] = {}

    @property
    def filtered(self) -> bool:
        """Whether this run looks at only part of what discovery lists (then it keeps no watermarks)."""
        return bool(self.since or self.until or self.limit is not None or self.topic_keywords)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        cls.check_values(kwargs)
        return super().from_crawler(crawler, *args, **kwargs)

    # --- settings-derived limits ----------------------------------------------------------
    @property
    def max_items(self) -> int:
        return self.settings.getint("DISPATCHES_MAX_ITEMS_PER_SOURCE")

    @property
    def max_sitemap_depth(self) -> int:
        return self.settings.getint("DISPATCHES_MAX_SITEMAP_DEPTH")

    # --- start ---------------------------------------------------------------------------------
    def hosts_to_crawl(self) -> list[str]:
        raise NotImplementedError

    async def start(self):
        hosts = self.hosts_to_crawl()
        await self.load_state(hosts)
        for host in hosts:
            for request in self.begin_discovery(host):
                yield request

    @property
    def state(self) -> CrawlState | None:
        """The run's incremental state (`CrawlState`), or None when the extension is off."""
        try:
            return self.crawler.get_extension(CrawlState)
        except RuntimeError:  # a spider built outside a crawl (unit tests)
            return None

    async def load_state(self, hosts: Iterable[str]) -> None:
        state = self.state
        if state is None or not state.available:
            return
        hosts = list(hosts)
        self.known.update(await state.known_urls(hosts))
        self.logger.info("%d URLs already known on %d host(s)", len(self.known), len(hosts))

    # --- discovery fallback chain ---------------------------------------------------------
    def begin_discovery(self, host: str) -> Iterator[scrapy.Request]:
        self._disc[host] = {"i": -1, "method": None}
        yield from self._next_method(host, None)

    def _next_method(self, host: str, why: str | None) -> Iterator[scrapy.Request]:
        st = self._disc[host]
        failed = st["method"]
        order = self.discovery_order
        st["i"] += 1
        if why and failed:
            nxt = order[st["i"]] if st["i"] < len(order) else None
            self.logger.warning(
                "Discovery by %s failed on %s (%s); %s",
                failed,
                host,
                why,
                f"falling back to {nxt}" if nxt else "no method left",
            )
            self.crawler.stats.inc_value(f"dispatches/discovery_fallback/{host}")
        if st["i"] >= len(order):
            self.crawler.stats.set_value(f"dispatches/discovery_failed/{host}", why or "no method")
            self.crawler.stats.set_value(f"dispatches/discovery/{host}", "none")
            return
        st["method"] = order[st["i"]]
        requests = list(getattr(self, f"start_{st['method']}")(host) or [])
        if not requests:
            yield from self._next_method(host, f"{st['method']} not available")
            return
        yield from requests

    def discovery_failed(self, host: str, method: str, why: str) -> Iterator[scrapy.Request]:
        """Called by a method's first callback/errback when its document is unusable."""
        st = self._disc.get(host)
        if not st or st["method"] != method or st.get("ok"):
            self.logger.warning("Discovery document of %s on %s unusable: %s", method, host, why)
            self.crawler.stats.inc_value(f"dispatches/discovery_partial/{host}")
            return
        yield from self._next_method(host, why)

    def discovery_ok(self, host: str, method: str) -> None:
        st = self._disc.setdefault(host, {"i": 0, "method": method})
        if not st.get("ok"):
            st["ok"] = True
            self.crawler.stats.set_value(f"dispatches/discovery/{host}", method)
            self.logger.info("Discovery on %s by %s", host, method)

    def _no_method_left(self, host: str) -> None:
        """The host cannot be crawled this run: no other discovery method would do better."""
        self._disc[host]["i"] = len(self.discovery_order)
        self.crawler.stats.set_value(f"dispatches/discovery/{host}", "none")

    def discovery_request(
        self,
        url: str,
        host: str,
        method: str,
        callback,
        expect: str,
        first: bool,
        conditional: bool = True,
        **meta,
    ):
        """A request for a discovery document (REST page, sitemap, feed, listing page).

        A document whose validators were kept after the last clean, complete run of its host
        is asked for conditionally: a 304 means nothing it lists has changed since.
        """
        ask_conditionally = conditional and not self.settings.getbool("DISPATCHES_FULL_DISCOVERY")
        headers = conditional_headers(self.known.get(CrawlState.url_key(url)) if ask_conditionally else None)
        return scrapy.Request(
            url,
            callback=callback,
            errback=self._discovery_errback,
            dont_filter=first,
            headers=headers,
            meta={
                "host": host,
                "method": method,
                "first": first,
                "dispatches_expect": expect,
                "handle_httpstatus_list": [304, 400, 404, 410],
                **meta,
            },
            priority=10,
        )

    def doc_not_modified(self, response) -> bool:
        """True (and discovery counted as working) when a discovery document answered 304."""
        if response.status != 304:
            return False
        meta = response.meta
        self.discovery_ok(meta["host"], meta["method"])
        self.crawler.stats.inc_value("dispatches/discovery_not_modified")
        return True

    def doc_unusable(self, response, kind: str, why: str) -> Iterator[scrapy.Request]:
        """A discovery document that cannot be used: the first of its method hands over to the next
        method; a later one (a child sitemap, a next page) is logged and skipped."""
        if response.meta.get("first"):
            yield from self.discovery_failed(response.meta["host"], response.meta["method"], why)
        else:
            self.logger.warning("Ignoring %s %s: %s", kind, response.url, why)

    def remember_doc(self, response) -> None:
        """Keep a discovery document's validators for the next run (stored only after a clean run)."""
        fields = validators(response.headers)
        if fields:
            self.doc_validators[response.url] = (response.meta["host"], fields)

    def closed(self, reason):
        """After a complete run: keep discovery validators and watermarks of the hosts that went cleanly.

        The next run then skips what has not changed since. A killed, partial or filtered run
        keeps nothing, so nothing can be skipped by mistake.
        """
        state = self.state
        stats = self.crawler.stats
        if state is None or not state.available:
            return
        if reason != "finished" or self.filtered or stats.get_value("dispatches/errors"):
            return
        found = [(host, url, fields) for url, (host, fields) in self.doc_validators.items()] + self.watermarks
        entries = [(url, fields) for host, url, fields in found if host_was_clean(stats, host)]
        try:
            kept = state.keep(entries)
        except Exception as exc:  # the next run just lists everything again
            self.logger.warning("Could not keep discovery validators: %s", exc)
            return
        self.logger.info("Kept validators of %d discovery documents for the next run", kept)

    def _discovery_errback(self, failure):
        request = failure.request
        host, method = request.meta["host"], request.meta["method"]
        if failure.check(IgnoreRequest) and "robots" in str(failure.value):
            self._no_method_left(host)  # robots.txt unreachable or forbidding
            return
        first = bool(request.meta.get("first"))
        if count_network_error(self.crawler.stats, self.logger, host, failure.value, whole_host=first):
            if first:  # the host cannot be reached
                self._no_method_left(host)
            else:
                self.crawler.stats.inc_value(f"dispatches/discovery_partial/{host}")
            return
        why = f"{type(failure.value).__name__}: {failure.value}"
        if request.meta.get("first"):
            yield from self.discovery_failed(host, method, why)
        else:
            self.logger.warning("Discovery request %s failed: %s", request.url, why)
            self.crawler.stats.inc_value(f"dispatches/discovery_partial/{host}")

    def unusable(self, response) -> str | None:
        """Why a discovery response cannot be used (status, soft block), or None."""
        if response.status != 200:
            return f"HTTP {response.status}"
        soft = response.meta.get("dispatches_soft_block")
        if soft:
            return f"soft block: {soft}"
        return None

    # --- sitemaps (shared by all three spiders) -------------------------------------------
    def start_sitemap(self, host: str):
        return [self.sitemap_request(f"https://{host}/sitemap_index.xml", host, first=True)]

    def sitemap_request(
        self, url: str, host: str, first: bool = False, depth: int = 0, method: str = "sitemap"
    ):
        return self.discovery_request(url, host, method, self.parse_sitemap, "xml", first, depth=depth)

    def parse_sitemap(self, response):
        meta = response.meta
        host, method, depth = meta["host"], meta["method"], meta.get("depth", 0)
        if self.doc_not_modified(response):
            return
        kind, entries = None, list[Found]()
        why = self.unusable(response)
        if not why:
            max_size = self.settings.getint("DOWNLOAD_MAXSIZE", 10 * 1024 * 1024)
            try:
                kind, entries = sitemaps.read_sitemap(
                    response.body, response.url, max_size=max_size, limit=self.max_items
                )
            except NotDiscovery as exc:
                why = str(exc)
                if exc.__cause__ is not None:  # the gzip stream: broken, or a bomb over DOWNLOAD_MAXSIZE
                    self.logger.warning("Ignoring invalid sitemap %s: %s", response.url, exc.__cause__)
        if not why and not entries:
            why = "empty sitemap"
        if why:
            yield from self.doc_unusable(response, "sitemap", why)
            return
        if len(entries) > self.max_items:
            self.logger.warning(
                "Sitemap %s lists more than %d URLs (DISPATCHES_MAX_ITEMS_PER_SOURCE); taking %d",
                response.url,
                self.max_items,
                self.max_items,
            )
            self.crawler.stats.inc_value(f"dispatches/discovery_partial/{host}")
            entries = entries[: self.max_items]
        if kind == "sitemapindex":
            if depth >= self.max_sitemap_depth:
                self.logger.warning(
                    "Sitemap index %s nested deeper than %d; not followed", response.url, depth
                )
                return
            self.discovery_ok(host, method)
            self.remember_doc(response)
            children = sitemaps.child_sitemaps(entries, host)
            cap = self.settings.getint("DISPATCHES_MAX_SITEMAPS_PER_HOST")
            seen = self._sitemaps_seen.get(host, 0)
            room = max(cap - seen, 0)
            self._sitemaps_seen[host] = seen + len(children[:room])
            for child in children[:room]:
                yield self.sitemap_request(child.url, host, depth=depth + 1, method=method)
            if len(children) > room:
                self.logger.warning(
                    "More than %d sitemaps on %s (DISPATCHES_MAX_SITEMAPS_PER_HOST); the rest not read",
                    cap,
                    host,
                )
                self.crawler.stats.inc_value(f"dispatches/discovery_partial/{host}")
            return
        self.discovery_ok(host, method)
        self.remember_doc(response)
        for found in sitemaps.on_host(entries, host):
            req = self.article_request(found)
            if req is not None:
                yield req

    # --- feeds ------------------------------------------------------------------------------
    def feed_request(self, url: str, host: str, first: bool = False, method: str = "feed"):
        return self.discovery_request(url, host, method, self.parse_feed, "xml", first)

    def parse_feed(self, response):
        meta = response.meta
        host, method = meta["host"], meta["method"]
        if self.doc_not_modified(response):
            return
        why = self.unusable(response)
        items = []
        if not why:
            try:
                items = feeds.parse_feed(response.body, response.url)
            except NotDiscovery as exc:
                why = str(exc)
        if not why and not items:
            why = "empty feed"
        if not why:
            stale = self.feed_staleness(host, items)
            if stale:
                self.crawler.stats.set_value(f"dispatches/stale_feed/{host}", stale)
                st = self._disc.get(host, {})
                if meta.get("first") and st.get("i", 0) + 1 < len(self.discovery_order):
                    why = stale  # a better method is left: use it
                else:
                    self.logger.warning(
                        "Feed %s looks stale (%s); using it, nothing better is left", response.url, stale
                    )
        if why:
            yield from self.doc_unusable(response, "feed", why)
            return
        self.discovery_ok(host, method)
        self.remember_doc(response)
        for found in items[: self.max_items]:
            req = self.article_request(found)
            if req is not None:
                yield req

    def feed_staleness(self, host: str, items: Iterable[Found]) -> str | None:
        """Why a feed of `host` looks stale against the pages this run found stored, or None."""
        return feeds.staleness(items, self.known, host, self.settings.getint("DISPATCHES_STALE_FEED_DAYS"))

    # --- articles ---------------------------------------------------------------------------
    def wanted(self, found: Found) -> bool:
        """Date window and topic keywords, on what discovery knows (titles, slugs, dates)."""
        return in_scope(found, self.since, self.until, self.topic_keywords)

    def article_request(self, found: Found, **meta) -> scrapy.Request | None:
        """The request for an article page, or None when it is not wanted or not changed."""
        if not self.wanted(found):
            self.crawler.stats.inc_value("dispatches/skipped/out_of_scope")
            return None
        key = CrawlState.url_key(found.url)
        if key in self.planned:
            return None
        self.planned.add(key)
        state = self.known.get(key)
        if unchanged(state, found.lastmod):
            self.crawler.stats.inc_value("dispatches/skipped/unchanged")
            return None
        if self.limit is not None and self.scheduled >= self.limit:
            self.crawler.stats.inc_value("dispatches/skipped/limit")
            return None
        self.scheduled += 1
        if self.scheduled == 1 and (crawl_state := self.state) is not None:
            crawl_state.articles_scheduled()
        return scrapy.Request(
            found.url,
            callback=self.parse_article,
            errback=self.article_failed,
            headers=conditional_headers(state),
            meta={
                "hints": discovery_hints(found),
                "handle_httpstatus_list": ARTICLE_STATUSES,
                "dispatches_expect": "html",
                **meta,
            },
        )

    def page_hints(self, response) -> dict:
        """Extra RawPage.meta from the page itself (language, translation_of); spiders extend."""
        return {}

    def parse_article(self, response):
        hints = dict(response.meta.get("hints") or {})
        via = hints.pop("via", None)
        if self.role_hint:
            hints["role"] = self.role_hint
        soft = response.meta.get("dispatches_soft_block")
        if soft:
            hints["soft_block"] = soft
        elif response.status == 200:
            hints.update(self.page_hints(response))
        if response.meta.get("redirect_reasons"):  # 301/308 move a statement, 302/307 do not
            hints["redirect_status"] = list(response.meta["redirect_reasons"])
        yield page_of(response, self.name, via, hints)

    def article_failed(self, failure):
        request = failure.request
        if failure.check(IgnoreRequest):
            self.crawler.stats.inc_value("dispatches/skipped/ignored")
            return
        self.crawler.stats.inc_value("dispatches/fetch_failed")
        self.crawler.stats.inc_value(f"dispatches/fetch_failed/{urlsplit(request.url).hostname}")
        why = f"{type(failure.value).__name__}: {failure.value}"
        host = urlsplit(request.url).hostname or ""
        if not count_network_error(self.crawler.stats, self.logger, host, failure.value, whole_host=False):
            self.logger.warning("Giving up on %s: %s", request.url, why)
        # Through the pipeline, so the failure is an `events` row like every other skip.
        yield failed_page(request, self.name, why)

    # --- helpers ----------------------------------------------------------------------------
    @staticmethod
    def query(url: str, **params) -> str:
        params = {k: v for k, v in params.items() if v not in (None, "")}
        return f"{url}?{urlencode(params)}" if params else url
