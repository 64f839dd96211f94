"""The Scrapy add-on that makes a crawl a worker of a shared job when `DISPATCHES_REDIS_URL` is set.

Apart from `crawlers.scaleout.worker` so that every crawl, which loads the add-on, does not
import redis (about 0.15 s) unless it is a worker.
"""

from __future__ import annotations

from scrapy.settings import BaseSettings

__all__ = ["ScaleoutAddon"]


class ScaleoutAddon:
    """Scrapy add-on: worker mode when `DISPATCHES_REDIS_URL` is set, nothing otherwise."""

    def update_settings(self, settings: BaseSettings) -> None:
        if not settings.get("DISPATCHES_REDIS_URL"):
            return
        # "spider" priority: above settings.py, below -s on the command line
        settings.set("SCHEDULER", "crawlers.scaleout.scheduler.SharedScheduler", priority="spider")
        pipelines = dict(settings.getdict("ITEM_PIPELINES"))
        pipelines["crawlers.pipelines.StorePipeline"] = None
        pipelines["crawlers.scaleout.worker.QueuePipeline"] = 300
        settings.set("ITEM_PIPELINES", pipelines, priority="spider")
        extensions = dict(settings.getdict("EXTENSIONS"))
        extensions["crawlers.scaleout.worker.ScaleoutWorker"] = 400
        settings.set("EXTENSIONS", extensions, priority="spider")
        middlewares = dict(settings.getdict("SPIDER_MIDDLEWARES"))
        middlewares["crawlers.scaleout.worker.DiscoveryOnce"] = 10
        settings.set("SPIDER_MIDDLEWARES", middlewares, priority="spider")
