"""`usembassy`: news of the `*.usembassy.gov` sites, English pages and their translations.

The hosts come from the bundled `crawlers/data/embassies.csv` (host, country); `-a hosts=`
picks some (any `*.usembassy.gov` host is accepted). Discovery per host: the sitemap index
(its child sitemaps include the translations' ones, e.g. `/es/post-sitemap.xml`), then the
`/feed/` RSS. A translation (a path under `/es/`, `/fr/`...) is fetched with its language and
the URL of the English page it names (`hreflang` alternate) in `RawPage.meta`.

    scrapy crawl usembassy -a hosts=mx.usembassy.gov,ca.usembassy.gov -a lang=en
"""

from __future__ import annotations

import csv
import re
from importlib import resources
from urllib.parse import urljoin, urlsplit

from crawlers.config import comma_list
from crawlers.discovery import Found
from crawlers.spiders.base import ArgumentError, DispatchesSpider

_LANG_PREFIX = re.compile(r"^/([a-z]{2}(?:-[a-z]{2})?)/", re.I)
_HOST = re.compile(r"^[a-z0-9-]+\.usembassy\.gov$")


def load_embassies() -> dict[str, str]:
    """host -> country, from the bundled data file."""
    text = resources.files("crawlers").joinpath("data/embassies.csv").read_text(encoding="utf-8")
    return {
        row["host"].strip(): row["country"].strip()
        for row in csv.DictReader(text.splitlines())
        if row.get("host")
    }


def path_language(url: str) -> str | None:
    """The language a URL's path prefix names (`/es/...` -> "es"), or None for English."""
    m = _LANG_PREFIX.match(urlsplit(url).path)
    if not m:
        return None
    code = m.group(1).lower()
    return None if code == "en" else code


class UsEmbassySpider(DispatchesSpider):
    name = "usembassy"
    role_hint = "embassy"
    discovery_order = ("sitemap", "feed")

    def __init__(self, hosts=None, lang=None, **kwargs):
        super().__init__(**kwargs)
        self.embassies = load_embassies()
        chosen = comma_list(hosts)
        for host in chosen:
            if not _HOST.match(host.lower()):
                raise ArgumentError(f"-a hosts: {host!r} is not a *.usembassy.gov host")
        self.hosts = [h.lower() for h in chosen] or sorted(self.embassies)
        self.lang = (lang or "all").lower()
        if not re.fullmatch(r"all|[a-z]{2}(-[a-z]{2})?", self.lang):
            raise ArgumentError(f"-a lang={lang!r}: expected a language code like en or es, or all")
        self.run_args.update(hosts=hosts, lang=lang)

    def hosts_to_crawl(self):
        return self.hosts

    @property
    def filtered(self) -> bool:
        return super().filtered or self.lang != "all"

    def wanted(self, found: Found) -> bool:
        if self.lang != "all":
            lang = path_language(found.url) or "en"
            if lang != self.lang:
                return False
        return super().wanted(found)

    def start_feed(self, host):
        feeds = [self.feed_request(f"https://{host}/feed/", host, first=True)]
        return feeds

    def page_hints(self, response) -> dict:
        hints = {"country": self.embassies.get(urlsplit(response.url).hostname or "")}
        lang = path_language(response.url)
        html_lang = response.xpath("/html/@lang").get()
        if lang or (html_lang and not html_lang.lower().startswith("en")):
            hints["lang"] = lang or html_lang.split("-")[0].lower()
            english = response.xpath(
                '//link[@rel="alternate"][starts-with(@hreflang, "en") or @hreflang="x-default"]/@href'
            ).get()
            if english:
                hints["translation_of"] = urljoin(response.url, english)
        else:
            hints["lang"] = "en"
        return {k: v for k, v in hints.items() if v}
