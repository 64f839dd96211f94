"""Scrapy's own SitemapSpider under the fault suite's recording (sitemap bombs, XXE, loops)."""

from __future__ import annotations

from scrapy.spiders import SitemapSpider

from faultspider import RecordPipeline, _Recording, read_urls, to_rawpage


class FaultSitemapSpider(_Recording, SitemapSpider):
    """Scrapy's own SitemapSpider, for the sitemap bomb / XXE / loop cases."""

    name = "fault_sitemaps"
    custom_settings = {"ITEM_PIPELINES": {RecordPipeline: 900}}

    def __init__(self, urls="", out="faults.jsonl", **kw):
        self.sitemap_urls = read_urls(urls)
        super().__init__(**kw)
        self.out = out

    def parse(self, response):
        yield to_rawpage(response, via="sitemap")
