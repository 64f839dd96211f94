"""`syndication`: aggregators that republish statements (their copies are stored as syndicated).

Sources come from `crawlers/data/sources.toml` (name, feeds, sitemaps, role, group) or from the
command line: `-a feeds=URL,URL`, `-a sitemaps=URL,URL`, `-a sources=NAME,NAME` (names or
groups of the file). Every feed item and sitemap URL is followed to its article page, which
goes to the pipeline like any other page; identity and the claimed original are the store's
and cleaners' business.

    scrapy crawl syndication -a feeds=https://example.org/feed/
"""

from __future__ import annotations

import tomllib
from importlib import resources
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from crawlers.config import comma_list
from crawlers.spiders.base import ArgumentError
from crawlers.spiders.originals import ClaimFollowing, _claims_of


def load_sources() -> list[dict]:
    text = resources.files("crawlers").joinpath("data/sources.toml").read_text(encoding="utf-8")
    return tomllib.loads(text).get("source", [])


def _check_url(url: str, arg: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ArgumentError(f"-a {arg}: {url!r} is not an http(s) URL")
    return url


class SyndicationSpider(ClaimFollowing):
    name = "syndication"
    role_hint = "syndicated"
    discovery_order = ("sources",)

    def __init__(self, feeds=None, sitemaps=None, sources=None, follow_claims=None, **kwargs):
        super().__init__(**kwargs)
        flag = str(follow_claims or "no").strip().lower()
        if flag not in ("yes", "no", "1", "0", "true", "false", "on", "off"):
            raise ArgumentError(f"-a follow_claims={follow_claims!r}: expected yes or no")
        self.follow_claims = flag in ("yes", "1", "true", "on")
        self.claims_asked: set[str] = set()
        self._claims_followed = False
        feeds = [_check_url(u, "feeds") for u in comma_list(feeds)]
        sitemaps = [_check_url(u, "sitemaps") for u in comma_list(sitemaps)]
        names = comma_list(sources)
        table = load_sources()
        if names:
            picked = [s for s in table if s.get("name") in names or s.get("group") in names]
            unknown = set(names) - {s.get("name") for s in picked} - {s.get("group") for s in picked}
            if unknown:
                raise ArgumentError(
                    f"-a sources: unknown source(s) {', '.join(sorted(unknown))} "
                    "(see crawlers/data/sources.toml)"
                )
        elif feeds or sitemaps:
            picked = []
        else:
            picked = [s for s in table if s.get("group", "default") == "default"]
        self.feeds = feeds + [u for s in picked for u in s.get("feeds", [])]
        self.sitemaps = sitemaps + [u for s in picked for u in s.get("sitemaps", [])]
        self.run_args.update(feeds=",".join(feeds), sitemaps=",".join(sitemaps), sources=",".join(names))
        if self.follow_claims:
            self.run_args["follow_claims"] = "yes"

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._follow_claims, signal=signals.spider_idle)
        return spider

    def _follow_claims(self) -> None:
        """Once the copies are saved, fetch the official originals they name (`follow_claims`)."""
        if not self.follow_claims or self._claims_followed:
            return
        self._claims_followed = True
        state = self.state
        if state is None or not state.available:
            return
        self.wayback_setup(self.settings)
        claims = state.ask_now(_claims_of(self.official_patterns(), self.limit), [])
        requests = list(self.claim_requests(claims))
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests:
            self.logger.info("Following %d claimed originals", len(requests))
            raise DontCloseSpider

    def hosts_to_crawl(self):
        hosts = []
        for url in self.feeds + self.sitemaps:
            host = urlsplit(url).hostname
            if host not in hosts:
                hosts.append(host)
        return hosts

    # Each aggregator host is discovered through all its listed feeds and sitemaps together;
    # it has failed when none of them gave anything.
    def start_sources(self, host):
        requests = []
        for url in self.feeds:
            if urlsplit(url).hostname == host:
                requests.append(self.feed_request(url, host, first=True, method="feed"))
        for url in self.sitemaps:
            if urlsplit(url).hostname == host:
                requests.append(self.sitemap_request(url, host, first=True, method="sitemap"))
        self._disc[host]["pending"] = len(requests)
        return requests

    def discovery_ok(self, host, method):
        st = self._disc.setdefault(host, {"i": 0, "method": "sources"})
        done = st.setdefault("ok_methods", [])
        if method not in done:
            done.append(method)
            st["ok"] = True
            # the stats contract names one method per host: the first that worked; all of them
            # are in dispatches/discovery_methods/<host>
            if len(done) == 1:
                self.crawler.stats.set_value(f"dispatches/discovery/{host}", method)
            self.crawler.stats.set_value(f"dispatches/discovery_methods/{host}", ",".join(done))

    def discovery_failed(self, host, method, why):
        st = self._disc.get(host, {})
        st["pending"] = st.get("pending", 1) - 1
        self.logger.warning("Source %s on %s failed: %s", method, host, why)
        if st["pending"] <= 0 and not st.get("ok"):
            self.crawler.stats.set_value(f"dispatches/discovery_failed/{host}", why)
            self.crawler.stats.set_value(f"dispatches/discovery/{host}", "none")
        return iter(())
