"""The DNS resolver of a crawl: a name is checked on the address it resolves to, at connect time.

``SafeResolver`` (``TWISTED_DNS_RESOLVER``) is Scrapy's caching resolver refusing names that
resolve to a blocked address (the rules of ``crawlers.middlewares.addresses``). The check is on
the address Twisted will connect to, so a DNS answer that changes between a check and the
connect cannot slip through. When a proxy is configured the proxy resolves target names and only
the proxy's own name passes through here.

A refused name is remembered (``refused_reason``) so the request guard can name the reason when
the request is retried, and the circuit breaker does not count our own refusal as the host
failing.
"""

from __future__ import annotations

import logging
import urllib.request
from urllib.parse import urlsplit

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from crawlers.middlewares.addresses import AllowList, address_block_reason, parse_ip

logger = logging.getLogger(__name__)

__all__ = ["SafeResolver", "refused_reason"]

# Names the resolver refused, with the reason, for the middlewares of the same process.
_refused_names: dict[str, str] = {}


def refused_reason(host: str) -> str | None:
    """Why the resolver refused `host` (lower-case name) in this process, or None."""
    return _refused_names.get(host)


class SafeResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing names that resolve to a blocked address.

    The check happens on the address Twisted will connect to, so a name that answered a
    public address to an earlier check and a private one now is still refused. Names in
    ``DISPATCHES_ALLOW_HOSTS`` and the configured proxies' hosts pass.
    """

    def __init__(self, reactor, cache_size, timeout, allow: AllowList | None = None):
        super().__init__(reactor, cache_size, timeout)
        self.allow = allow or AllowList(())

    @classmethod
    def from_crawler(cls, crawler, reactor):
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        allow = AllowList.from_settings(settings)
        # The proxy's own name (http_proxy=http://proxy.internal:3128) is ours to connect to.
        for proxy_url in urllib.request.getproxies().values():
            try:
                proxy_host = urlsplit(proxy_url if "//" in proxy_url else f"//{proxy_url}").hostname
            except ValueError:
                proxy_host = None
            if proxy_host:
                allow.rules.append((proxy_host.lower(), None))
        return cls(reactor, cache_size, settings.getfloat("DNS_TIMEOUT"), allow)

    def lookup(self, name: str, timeout) -> defer.Deferred:
        """The plain resolution; tests replace this with a fixed table."""
        return CachingThreadedResolver.getHostByName(self, name, timeout)

    def getHostByName(self, name: str, timeout=()):
        literal = parse_ip(name)
        if literal is not None:
            reason = address_block_reason(literal)
            if reason and not self.allow.allows_name(name):
                return defer.fail(self._refuse(name, str(literal), reason))
            return defer.succeed(str(literal))
        d = self.lookup(name, timeout)
        d.addCallback(self._check, name)
        return d

    def _check(self, address: str, name: str) -> str:
        ip = parse_ip(address)
        reason = address_block_reason(ip) if ip is not None else "unparseable_address"
        if reason and not self.allow.allows_name(name):
            raise self._refuse(name, address, reason)
        return address

    def _refuse(self, name: str, address: str, reason: str) -> DNSLookupError:
        _refused_names[name.lower()] = reason
        logger.warning("Refused to connect to %s: it resolves to %s (%s)", name, address, reason)
        return DNSLookupError(f"{name} resolves to a blocked address ({reason})")
