"""What the three spiders share: arguments, incremental decisions, discovery fallback, RawPage.

A spider finds article URLs through discovery methods tried in order of preference per host
(REST, sitemap, listing, feed); the first whose first document makes sense wins, and
`dispatches/discovery/<host>` says which. A method that fails (error, HTML where JSON was due,
empty) hands over to the next with a log line; when none is left the host goes into
`dispatches/discovery_failed/<host>`.

Whether to fetch an article is decided against the database (read through the
`crawlers.state.CrawlState` extension): a URL whose discovery hint (sitemap `lastmod`, REST
`modified_gmt`) is not newer than the stored one is skipped without a request; any other known
URL is fetched with
`If-None-Match`/`If-Modified-Since` from its stored `ETag`/`Last-Modified`. Nothing is kept in
JOBDIR: the database is the record, so a killed run simply starts over and skips what it stored.

Spiders never clean text: they yield `RawPage` items and the pipeline does the rest.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from urllib.parse import urlencode, urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.gz import gunzip

from cleaners.model import RawPage, utc_timestamp
from crawlers.config import comma_list
from crawlers.discovery import Found, NotDiscovery, in_window, matches_topic, parse_when
from crawlers.neterrors import network_reason
from crawlers.spiders.arguments import ArgumentError, CheckedArguments, parse_day
from crawlers.state import CrawlState

logger = logging.getLogger(__name__)

__all__ = ["DispatchesSpider", "ArgumentError", "parse_day"]

ARTICLE_STATUSES = [304, 404, 410]
# Child sitemaps that never hold statements (WordPress/Yoast taxonomies, authors, media).
SKIP_SITEMAPS = re.compile(
    r"(category|tag|author|attachment|media|page|taxonom|country|bureau|people)[-_]?sitemap", re.I
)


class DispatchesSpider(CheckedArguments, scrapy.Spider):
    """Base class; subclasses define `hosts_to_crawl()` and `discovery_methods(host)`."""

    #: methods in order of preference; each name maps to `start_<name>(host)`
    discovery_order: tuple[str, ...] = ()
    role_hint: str | None = None

    def __init__(self, since=None, until=None, limit=None, topic=None, **kwargs):
        self.check_names(kwargs)
        super().__init__(**kwargs)
        self.since = parse_day(since, "since")
        self.until = parse_day(until, "until")
        if self.since and self.until and self.since > self.until:
            raise ArgumentError(f"-a since={self.since} is after -a until={self.until}")
        try:
            self.limit = int(limit) if limit not in (None, "") else None
        except ValueError:
            raise ArgumentError(f"-a limit={limit!r}: expected a whole number") from None
        if self.limit is not None and self.limit < 0:
            raise ArgumentError(f"-a limit={limit!r}: expected a whole number >= 0")
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
        headers = {}
        state = (
            self.known.get(CrawlState.url_key(url))
            if conditional and not self.settings.getbool("DISPATCHES_FULL_DISCOVERY")
            else None
        )
        if state:
            if state.get("etag"):
                headers["If-None-Match"] = state["etag"]
            if state.get("last_modified"):
                headers["If-Modified-Since"] = state["last_modified"]
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

    def remember_doc(self, response) -> None:
        """Keep a discovery document's validators for the next run (stored only after a clean run)."""
        etag = response.headers.get(b"ETag")
        lm = response.headers.get(b"Last-Modified")
        if etag or lm:
            fields = {
                "etag": etag.decode("latin-1") if etag else None,
                "last_modified": lm.decode("latin-1") if lm else None,
            }
            self.doc_validators[response.url] = (response.meta["host"], fields)

    def host_was_clean(self, host: str) -> bool:
        stats = self.crawler.stats
        return not any(
            stats.get_value(f"dispatches/{k}/{host}")
            for k in (
                "fetch_failed",
                "soft_blocks",
                "discovery_partial",
                "discovery_failed",
                "robots_blocked",
                "network_error",
                "deferred",
            )
        ) and host not in (stats.get_value("safety/circuit_open") or [])

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
        entries = [
            (url, fields) for url, (host, fields) in self.doc_validators.items() if self.host_was_clean(host)
        ]
        entries += [(url, fields) for host, url, fields in self.watermarks if self.host_was_clean(host)]
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
            # robots.txt unreachable or forbidding: no method will do better this run.
            self._disc[host]["i"] = len(self.discovery_order)
            self.crawler.stats.set_value(f"dispatches/discovery/{host}", "none")
            return
        first = bool(request.meta.get("first"))
        if self.network_error(host, failure.value, whole_host=first):
            if first:  # the host cannot be reached: no other method will do better this run
                self._disc[host]["i"] = len(self.discovery_order)
                self.crawler.stats.set_value(f"dispatches/discovery/{host}", "none")
            else:
                self.crawler.stats.inc_value(f"dispatches/discovery_partial/{host}")
            return
        why = f"{type(failure.value).__name__}: {failure.value}"
        if request.meta.get("first"):
            yield from self.discovery_failed(host, method, why)
        else:
            self.logger.warning("Discovery request %s failed: %s", request.url, why)
            self.crawler.stats.inc_value(f"dispatches/discovery_partial/{host}")

    def network_error(self, host: str, exc: BaseException, *, whole_host: bool) -> bool:
        """Count a network error of `host`; the first of the host is one log line, the rest DEBUG.

        Every such failed request counts in `dispatches/network_errors/<host>`; `whole_host`
        (the host's first discovery document failed, so nothing of it can be crawled) also
        puts the host under `dispatches/network_error/<host>` with the reason. Returns False
        when `exc` is not a network error (the caller reports it its own way).
        """
        reason = network_reason(exc)
        if reason is None:
            return False
        stats = self.crawler.stats
        stats.inc_value(f"dispatches/network_errors/{host}")
        if whole_host:
            stats.set_value(f"dispatches/network_error/{host}", reason)
        if stats.get_value(f"dispatches/network_errors/{host}") == 1:
            self.logger.error("%s unreachable (%s)", host, reason)
        else:
            self.logger.debug("%s unreachable again (%s: %s)", host, type(exc).__name__, exc)
        return True

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

    def sitemap_body(self, response) -> bytes | None:
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE", 10 * 1024 * 1024))
            except Exception as exc:
                self.logger.warning("Ignoring invalid sitemap %s: %s", response.url, exc)
                return None
        return body

    def parse_sitemap(self, response):
        from crawlers.discovery import parse_sitemap

        meta = response.meta
        host, method, depth = meta["host"], meta["method"], meta.get("depth", 0)
        if self.doc_not_modified(response):
            return
        why = self.unusable(response)
        body = None if why else self.sitemap_body(response)
        kind, entries = None, list[Found]()
        if body is not None and not why:
            try:
                kind, entries = parse_sitemap(body, response.url, limit=self.max_items)
            except NotDiscovery as exc:
                why = str(exc)
        elif not why:
            why = "invalid sitemap body"
        if not why and not entries:
            why = "empty sitemap"
        if why:
            if meta.get("first"):
                yield from self.discovery_failed(host, method, why)
            else:
                self.logger.warning("Ignoring sitemap %s: %s", response.url, why)
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
            children = [e for e in entries if not SKIP_SITEMAPS.search(urlsplit(e.url).path)] or entries
            self.discovery_ok(host, method)
            self.remember_doc(response)
            cap = self.settings.getint("DISPATCHES_MAX_SITEMAPS_PER_HOST")
            for child in children:
                if urlsplit(child.url).hostname != host:
                    continue
                n = self._sitemaps_seen[host] = self._sitemaps_seen.get(host, 0) + 1
                if n > cap:
                    self.logger.warning(
                        "More than %d sitemaps on %s (DISPATCHES_MAX_SITEMAPS_PER_HOST); the rest not read",
                        cap,
                        host,
                    )
                    self.crawler.stats.inc_value(f"dispatches/discovery_partial/{host}")
                    break
                yield self.sitemap_request(child.url, host, depth=depth + 1, method=method)
            return
        self.discovery_ok(host, method)
        self.remember_doc(response)
        for found in entries:
            if urlsplit(found.url).hostname != host:
                continue  # another host's URLs submitted in this host's sitemap: not its statements
            req = self.article_request(found)
            if req is not None:
                yield req

    # --- feeds ------------------------------------------------------------------------------
    def feed_request(self, url: str, host: str, first: bool = False, method: str = "feed"):
        return self.discovery_request(url, host, method, self.parse_feed, "xml", first)

    def parse_feed(self, response):
        from crawlers.discovery import parse_feed

        meta = response.meta
        host, method = meta["host"], meta["method"]
        if self.doc_not_modified(response):
            return
        why = self.unusable(response)
        items = []
        if not why:
            try:
                items = parse_feed(response.body, response.url)
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
            if meta.get("first"):
                yield from self.discovery_failed(host, method, why)
            else:
                self.logger.warning("Ignoring feed %s: %s", response.url, why)
            return
        self.discovery_ok(host, method)
        self.remember_doc(response)
        for found in items[: self.max_items]:
            req = self.article_request(found)
            if req is not None:
                yield req

    def feed_staleness(self, host: str, items) -> str | None:
        """Why a feed looks stale: its newest item is much older than what we already hold of
        its host (a feed that stopped updating while the site went on). None when fine."""
        newest = max((f.when for f in items if f.when), default=None)
        if newest is None:
            return None
        known = [
            parse_when(st.get("modified_gmt") or st.get("lastmod"))
            for key, st in self.known.items()
            if urlsplit(key).hostname in (host, host.removeprefix("www."))
        ]
        known_newest = max((k for k in known if k), default=None)
        days = self.settings.getint("DISPATCHES_STALE_FEED_DAYS")
        if known_newest and (known_newest - newest).days > days:
            return (
                f"newest item {newest.date()} is {(known_newest - newest).days} days older than stored pages"
            )
        return None

    # --- articles ---------------------------------------------------------------------------
    def wanted(self, found: Found) -> bool:
        """Date window and topic keywords, on what discovery knows (titles, slugs, dates)."""
        if not in_window(found.when, self.since, self.until):
            return False
        if self.topic_keywords and not matches_topic(
            self.topic_keywords, found.title, urlsplit(found.url).path
        ):
            return False
        return True

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
        hint = found.lastmod
        if state and hint:
            stored = parse_when(state.get("modified_gmt") or state.get("lastmod"))
            new = parse_when(hint)
            if stored and new and new <= stored:
                self.crawler.stats.inc_value("dispatches/skipped/unchanged")
                return None
        if self.limit is not None and self.scheduled >= self.limit:
            self.crawler.stats.inc_value("dispatches/skipped/limit")
            return None
        self.scheduled += 1
        if self.scheduled == 1 and (crawl_state := self.state) is not None:
            crawl_state.articles_scheduled()
        headers = {}
        if state:
            if state.get("etag"):
                headers["If-None-Match"] = state["etag"]
            if state.get("last_modified"):
                headers["If-Modified-Since"] = state["last_modified"]
        hints = {"via": found.via}
        if found.lastmod:
            hints["modified_gmt" if found.via == "rest" else "lastmod"] = found.lastmod
        if found.published:
            hints["published"] = found.published
        if found.title:
            hints["discovered_title"] = found.title
        if found.guid:
            hints["guid"] = found.guid
        return scrapy.Request(
            found.url,
            callback=self.parse_article,
            errback=self.article_failed,
            headers=headers,
            meta={
                "hints": hints,
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
        first = (response.meta.get("redirect_urls") or [response.url])[0]
        if response.meta.get("redirect_reasons"):  # 301/308 move a statement, 302/307 do not
            hints["redirect_status"] = list(response.meta["redirect_reasons"])
        headers = {
            k.decode("latin-1").lower(): b", ".join(v).decode("latin-1") for k, v in response.headers.items()
        }
        yield RawPage(
            url=first,
            final_url=response.url,
            status=response.status,
            headers=headers,
            body=response.body if response.status == 200 else b"",
            fetched_at=utc_timestamp(),
            spider=self.name,
            discovered_via=via,
            meta=hints,
        )

    def article_failed(self, failure):
        request = failure.request
        if failure.check(IgnoreRequest):
            self.crawler.stats.inc_value("dispatches/skipped/ignored")
            return
        self.crawler.stats.inc_value("dispatches/fetch_failed")
        self.crawler.stats.inc_value(f"dispatches/fetch_failed/{urlsplit(request.url).hostname}")
        why = f"{type(failure.value).__name__}: {failure.value}"
        if not self.network_error(urlsplit(request.url).hostname or "", failure.value, whole_host=False):
            self.logger.warning("Giving up on %s: %s", request.url, why)
        # Through the pipeline, so the failure is an `events` row like every other skip.
        yield RawPage(
            url=request.url,
            final_url=None,
            status=0,
            headers={},
            body=b"",
            fetched_at=utc_timestamp(),
            spider=self.name,
            discovered_via=(request.meta.get("hints") or {}).get("via"),
            meta={"fetch_error": why},
        )

    # --- helpers ----------------------------------------------------------------------------
    @staticmethod
    def query(url: str, **params) -> str:
        params = {k: v for k, v in params.items() if v not in (None, "")}
        return f"{url}?{urlencode(params)}" if params else url
