"""robots.txt the RFC 9309 way, on top of Scrapy's RobotsTxtMiddleware.

Scrapy hands any robots.txt body to the parser, whatever the status, and allows everything
when the download fails (scrapy/scrapy#2443). For government sites we take the RFC's side:

* 2xx: parsed (Protego); `Crawl-delay` is picked up by `PolitenessMiddleware` from the
  `robots_parsed` signal.
* 4xx (404, 410, 403...): "unavailable" -> allow all.
* 5xx, 429: "unreachable" -> the host is not crawled this run; one clear log line;
  `dispatches/robots_blocked/<host>` in stats; every request to it is dropped.
* network errors (DNS, refused, reset, TLS, timeout): the host is skipped the same way, but it
  is described as unreachable, not as blocking us: one line with the host and the reason,
  `dispatches/network_error/<host>` in stats, the traceback only at DEBUG.
"""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawlers.neterrors import network_reason

logger = logging.getLogger(__name__)

__all__ = ["RFCRobotsTxtMiddleware", "RobotsUnreachable"]


class RobotsUnreachable(IgnoreRequest):
    """A request dropped because its host's robots.txt could not be fetched this run."""


class _Unreachable:
    """Parser stand-in for a host whose robots.txt was unreachable: disallow everything."""

    def __init__(self, why: str):
        self.why = why

    def allowed(self, url, user_agent) -> bool:
        return False

    def crawl_delay(self, user_agent):
        return None


class _AllowAll:
    def allowed(self, url, user_agent) -> bool:
        return True

    def crawl_delay(self, user_agent):
        return None


class RFCRobotsTxtMiddleware(RobotsTxtMiddleware):
    async def robot_parser(self, request):
        parser = await self._fetch_parser(request)
        # Scrapy 2.19 with the asyncio reactor: every request after the first that awaited the
        # same pending robots.txt Deferred gets None back (the Deferred's result is consumed by
        # the first waiter), which would mean "allow all". The parser itself is in _parsers.
        current = self._parsers.get(urlparse_cached(request).netloc)
        if current is not None and not isinstance(current, Deferred):
            return current
        return parser

    async def _fetch_parser(self, request):
        """Scrapy's `robot_parser`, with a failed download logged by `_robots_error` alone.

        Scrapy logs every failed robots.txt download at ERROR with its traceback; here the
        traceback goes to DEBUG and `_robots_error` writes the one line a user reads.
        """
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            robotsreq = Request(
                f"{url.scheme}://{netloc}/robots.txt",
                priority=self.DOWNLOAD_PRIORITY,
                meta={"dont_obey_robotstxt": True},
                callback=NO_CALLBACK,
            )
            try:
                resp = await self.crawler.engine.download_async(robotsreq)
                await self._parse_robots(resp, netloc, request)
            except Exception as exc:
                logger.debug("robots.txt of %s could not be fetched", netloc, exc_info=True)
                self._robots_error(exc, netloc)
            self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    async def _parse_robots(self, response, netloc, request):
        status = response.status
        if 200 <= status < 300:
            return await super()._parse_robots(response, netloc, request)
        self._stats.inc_value("robotstxt/response_count")
        self._stats.inc_value(f"robotstxt/response_status_count/{status}")
        if 400 <= status < 500 and status != 429:
            logger.info("robots.txt of %s answered %d: no rules, all allowed", netloc, status)
            self._resolve(netloc, _AllowAll())
        else:
            self._block(netloc, f"robots.txt answered {status}")

    def _robots_error(self, exc, netloc):
        if not isinstance(exc, IgnoreRequest):
            self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        reason = network_reason(exc)
        if reason is not None:
            self._unreachable(netloc, reason, type(exc).__name__)
            return
        self._block(netloc, f"robots.txt could not be fetched ({type(exc).__name__}: {exc})")

    def _unreachable(self, netloc: str, reason: str, error: str) -> None:
        """A network error on robots.txt: the host is skipped (RFC 9309), described as unreachable."""
        host = netloc.split("@")[-1].split(":")[0]
        logger.error("%s unreachable (%s): not crawled this run", host, reason)
        self._stats.set_value(f"dispatches/network_error/{host}", reason)
        self._stats.inc_value(f"dispatches/network_errors/{host}")
        self._resolve(netloc, _Unreachable(f"{host} unreachable ({reason}; {error})"))

    def _block(self, netloc: str, why: str) -> None:
        host = netloc.split("@")[-1].split(":")[0]
        logger.error(
            "%s: %s is not crawled this run (RFC 9309: unreachable robots.txt means disallow)", why, host
        )
        self._stats.set_value(f"dispatches/robots_blocked/{host}", why)
        self._resolve(netloc, _Unreachable(why))

    def _resolve(self, netloc, parser) -> None:
        pending = self._parsers.get(netloc)
        self._parsers[netloc] = parser
        if isinstance(pending, Deferred) and not pending.called:
            pending.callback(parser)

    def process_request_2(self, rp, request):
        if isinstance(rp, _Unreachable):
            self._stats.inc_value("dispatches/robots_blocked_requests")
            raise RobotsUnreachable(f"robots.txt unreachable: {rp.why}")
        return super().process_request_2(rp, request)
