"""What a crawl may touch: schemes, addresses, credentials, and hosts that keep failing.

Owns the guards that Scrapy 2.19 does not provide by itself:

* ``SafetyMiddleware`` (downloader middleware, before offsite and robots) checks every request,
  including each redirect hop and robots.txt fetches: only http/https; no loopback, private,
  link-local, CGNAT, ULA, multicast, metadata or unspecified address, whatever way the IP is
  spelled (``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``[::ffff:127.0.0.1]``); no
  ``localhost``-style names; userinfo and secret query parameters (``token``, ``api_key``...)
  removed from the URL before the request is fetched, logged or stored.
* ``CircuitBreakerMiddleware`` (just after Scrapy's retry middleware): a host whose attempts
  fail ``DISPATCHES_CIRCUIT_BREAKER`` times in a row is left alone for the rest of the run.
* ``RedirectGuardMiddleware`` (response side, just before Scrapy's redirect middleware) refuses
  a 3xx whose ``Location`` is not http(s) or names a blocked address, and strips credentials
  from ``Location`` so they never reach a log line.
* ``SafeResolver`` (``TWISTED_DNS_RESOLVER``) checks the address a *name* resolves to, at the
  moment the connection is made (so a DNS answer that changes between a check and the connect
  cannot slip through). When a proxy is configured the proxy resolves target names and only the
  proxy's own name passes through here.
* ``BoundedStop`` (extension): when the spider is closing, requests still queued behind
  download delays are dropped, so SIGTERM / CLOSESPIDER_TIMEOUT end within DOWNLOAD_TIMEOUT.
* URLs in requests and log lines lose userinfo and secret parameters through
  ``store.urls.strip_secrets`` (the project's one secret-parameter list).

Left to others: robots.txt fail-closed, Retry-After and Crawl-delay (``robots.py``,
``politeness.py``), extraction time limits (``cleaners/pool.py``), database durability
(``store``). Decompression bounds, offsite-on-redirect and http(s)-only redirects are Scrapy's
own and are verified by ``tests/faults``.

Settings (defaults and the environment in ``crawlers/settings.py``):
``DISPATCHES_ALLOW_HOSTS`` (``host``, ``host:port``, ``*.suffix``, ``*.suffix:port``),
``DISPATCHES_ALLOW_PRIVATE`` (bool, test rigs only), ``DISPATCHES_CIRCUIT_BREAKER`` (int, 0 =
off), ``DISPATCHES_SECRET_PARAMS`` (extra query parameter names to strip).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import urllib.request
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import defer
from twisted.internet.error import DNSLookupError
from twisted.internet.task import LoopingCall

from crawlers.config import setting_list
from store.urls import set_secret_params, strip_secrets

logger = logging.getLogger(__name__)

ALLOWED_SCHEMES = frozenset({"http", "https"})

# Names that mean "this machine" or a cloud metadata service, whatever they resolve to.
BLOCKED_NAMES = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "ip6-localhost",
        "ip6-loopback",
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.com",
    }
)
BLOCKED_SUFFIXES = (".localhost",)

# Addresses of metadata services, named in the reason so a log reader sees what was tried.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# Names the resolver refused, so the middleware can turn the retried DNS error into a reason.
_refused_names: dict[str, str] = {}


def parse_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a URL host stands for, or None when it is a name.

    Accepts every spelling the C resolver accepts for IPv4 (``2130706433``, ``0x7f.1``,
    ``0177.0.0.1``, ``127.1``), since that is how a name like that would be connected to.
    """
    host = host.strip().strip("[]").rstrip(".")
    if "%" in host:  # IPv6 zone id: fe80::1%eth0
        host = host.split("%", 1)[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def address_block_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a crawler must not connect to this address, or None if it is a public one."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_block_reason(embedded)
    if ip in METADATA_ADDRESSES:
        return "metadata"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link_local"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "cgnat"
    if isinstance(ip, ipaddress.IPv6Address) and ip in ipaddress.ip_network("fc00::/7"):
        return "ula"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if ip.is_reserved or not ip.is_global:
        return "reserved"
    return None


def host_block_reason(host: str) -> str | None:
    """Why a URL host is refused before any lookup: a blocked address spelling or name."""
    host = unquote(host or "").lower().rstrip(".")  # %31%32%37.0.0.1 is 127.0.0.1 to some stacks
    if not host:
        return "no_host"
    ip = parse_ip(host)
    if ip is not None:
        return address_block_reason(ip)
    if host in BLOCKED_NAMES or host.endswith(BLOCKED_SUFFIXES):
        return "local_name"
    return None


class AllowList:
    """``DISPATCHES_ALLOW_HOSTS`` entries: ``host``, ``host:port``, ``*.suffix[:port]``."""

    def __init__(self, entries: Iterable[str], allow_private: bool = False):
        self.allow_private = allow_private
        self.rules: list[tuple[str, int | None]] = []
        for entry in entries:
            entry = entry.strip().lower()
            if not entry:
                continue
            host, port = entry, None
            try:
                if entry.startswith("["):  # [::1]:8080
                    end = entry.index("]")
                    host, rest = entry[1:end], entry[end + 1 :]
                    port = int(rest[1:]) if rest.startswith(":") else None
                elif entry.count(":") == 1:
                    host, _, p = entry.partition(":")
                    port = int(p)
            except ValueError:
                logger.error(
                    "DISPATCHES_ALLOW_HOSTS: ignoring %r (expected host, host:port or *.suffix[:port])", entry
                )
                continue
            self.rules.append((host, port))

    def _ports_for(self, host: str) -> list[int | None]:
        """The ports of the rules naming `host` (None = any port); `*.x` matches x and below."""
        host = (host or "").lower().strip("[]").rstrip(".")
        return [
            port
            for rule_host, port in self.rules
            if (
                (host.endswith(rule_host[1:]) or host == rule_host[2:])
                if rule_host.startswith("*.")
                else host == rule_host
            )
        ]

    def allows(self, host: str, port: int | None = None) -> bool:
        if self.allow_private:
            return True
        # A port-pinned rule needs the same port; a rule without a port allows any.
        return any(p is None or (port is not None and p == port) for p in self._ports_for(host))

    def port_pinned(self, host: str, port: int) -> bool:
        """True when this name is allow-listed only on other ports (a pinned test server): the
        resolver would let it through at any port, so the middleware refuses the others."""
        if self.allow_private:
            return False
        ports = self._ports_for(host)
        return bool(ports) and not any(p is None or p == port for p in ports)

    def allows_name(self, host: str) -> bool:
        """Port-agnostic: may this name or literal resolve to / be a private address."""
        return self.allow_private or bool(self._ports_for(host))

    @classmethod
    def from_settings(cls, settings) -> AllowList:
        entries = setting_list(settings, "DISPATCHES_ALLOW_HOSTS")
        return cls(entries, settings.getbool("DISPATCHES_ALLOW_PRIVATE"))


def _port(parsed) -> int:
    try:
        port = parsed.port
    except ValueError:
        port = None
    return port or (443 if parsed.scheme == "https" else 80)


def check_url(url: str, allow: AllowList) -> str | None:
    """The reason this URL must not be fetched, or None. Does not resolve names."""
    try:
        parsed = urlsplit(url)
    except ValueError:
        return "bad_url"
    if parsed.scheme.lower() not in ALLOWED_SCHEMES:
        return "scheme"
    host = parsed.hostname or ""
    port = _port(parsed)
    reason = host_block_reason(host)
    if reason and not allow.allows(host, port):
        return reason
    if not reason and allow.port_pinned(host, port):
        return "port_not_allowed"
    return None


class SafetyMiddleware:
    """Scheme, address and credential guard on every request; per-host circuit breaker.

    Runs before the offsite and robots.txt middlewares so a refused URL costs no robots.txt
    fetch. Refused requests raise ``IgnoreRequest("blocked <reason>: <url>")``, reach the
    request's errback and count under ``safety/blocked/<reason>``.
    """

    def __init__(self, crawler):
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.allow = AllowList.from_settings(settings)
        set_secret_params(setting_list(settings, "DISPATCHES_SECRET_PARAMS"))

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    # --- requests ------------------------------------------------------------------------
    def process_request(self, request, spider=None):
        url = request.url
        reason = check_url(url, self.allow)
        if reason:
            self._block(reason, url)
        host = (urlparse_cached(request).hostname or "").lower()
        if host in _refused_names and not self.allow.allows_name(host):
            self._block(_refused_names[host], url, detail="resolves to a blocked address")
        clean = strip_secrets(url)
        if clean != url:
            self.stats.inc_value("safety/credentials_stripped")
            logger.info("Removed credentials from a URL on %s before fetching it", host)
            return request.replace(url=clean)
        return None

    def _block(self, reason: str, url: str, detail: str = ""):
        shown = strip_secrets(url)
        self.stats.inc_value(f"safety/blocked/{reason}")
        logger.warning("Blocked %s request%s: %r", reason, f" ({detail})" if detail else "", shown)
        raise IgnoreRequest(f"blocked {reason}: {shown}")


class CircuitBreakerMiddleware:
    """Leaves a host alone for the rest of the run after K failed attempts in a row.

    A failed attempt is a 5xx or 429 response or a download exception (timeout, reset,
    refused...), counted on every attempt: register it just after RetryMiddleware (550) so it
    sees each exception before the retry decision. Responses are counted when they arrive
    (``response_downloaded``), before the downloader starts the host's next request, so a
    threshold reached on this answer already stops that request. Any other response resets the
    count. Once open, every request to the host (retries included) raises
    ``IgnoreRequest("circuit open ...")``; the open hosts are in stats ``safety/circuit_open``.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.threshold = crawler.settings.getint("DISPATCHES_CIRCUIT_BREAKER")
        self.failures: dict[str, int] = {}
        self.open_hosts: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        breaker = cls(crawler)
        crawler.signals.connect(breaker.response_downloaded, signal=signals.response_downloaded)
        return breaker

    def process_request(self, request, spider=None):
        host = (urlparse_cached(request).hostname or "").lower()
        if host in self.open_hosts:
            self.stats.inc_value(f"safety/circuit_open_skipped/{host}")
            raise IgnoreRequest(f"circuit open for {host}: {strip_secrets(request.url)}")
        return None

    def response_downloaded(self, response, request, spider=None):
        host = (urlparse_cached(request).hostname or "").lower()
        if response.status >= 500 or response.status == 429:
            self._failed(host, f"HTTP {response.status}")
        else:
            self.failures.pop(host, None)

    def process_exception(self, request, exception, spider=None):
        if isinstance(exception, IgnoreRequest):
            return None
        host = (urlparse_cached(request).hostname or "").lower()
        if host in _refused_names:  # our own SSRF refusal, not the host failing
            return None
        self._failed(host, type(exception).__name__)
        return None

    def _failed(self, host: str, what: str):
        if self.threshold <= 0 or not host:
            return
        n = self.failures.get(host, 0) + 1
        self.failures[host] = n
        if n >= self.threshold and host not in self.open_hosts:
            self.open_hosts.add(host)
            self.stats.set_value("safety/circuit_open", sorted(self.open_hosts))
            logger.error(
                "Circuit breaker: %s failed %d times in a row (last: %s); "
                "leaving it alone for the rest of this run",
                host,
                n,
                what,
            )
            self._drain_queued(host)

    def _drain_queued(self, host: str) -> None:
        """Fail the requests for ``host`` already waiting in a download slot.

        They passed ``process_request`` before the breaker opened and would otherwise still be
        sent (one per DOWNLOAD_DELAY). Uses the downloader's slot queues, which are internal to
        Scrapy: if their shape changes this does nothing and only new requests are refused.
        """

        def match(request) -> bool:
            return (urlparse_cached(request).hostname or "").lower() == host

        def refusal(request) -> IgnoreRequest:
            return IgnoreRequest(f"circuit open for {host}: {strip_secrets(request.url)}")

        n = drain_download_queues(self.crawler, match, refusal)
        if n:
            self.stats.inc_value(f"safety/circuit_open_skipped/{host}", n)
        # Requests already handed to a download task (not yet sent) are stopped by the downloader.
        refuse = getattr(getattr(self.crawler.engine, "downloader", None), "refuse", None)
        if callable(refuse):
            refuse(match, refusal)


def drain_download_queues(crawler, match, make_exc) -> int:
    """Fail requests waiting in the downloader's slot queues (not yet sent) that ``match``.

    Requests pass the downloader middlewares *before* they wait in their host's slot for
    DOWNLOAD_DELAY, so a decision taken later (circuit open, shutdown) would not stop them.
    The slot queues are internal to Scrapy (2.19: deque of (request, Deferred)); if their shape
    changes this does nothing.
    """
    downloader = getattr(getattr(crawler, "engine", None), "downloader", None)
    drained = 0
    for slot in list(getattr(downloader, "slots", {}).values()):
        queue = getattr(slot, "queue", None)
        if not queue:
            continue
        kept = []
        while queue:
            entry = queue.popleft()
            try:
                request, dfd = entry
                hit = match(request) and not dfd.called
            except (TypeError, ValueError):
                hit = False
            if hit:
                drained += 1
                dfd.errback(make_exc(request))
            else:
                kept.append(entry)
        queue.extend(kept)
    return drained


class BoundedStop:
    """Extension: once the spider is closing (SIGTERM, CLOSESPIDER_TIMEOUT, memory limit),
    requests still waiting in a download slot are dropped instead of downloaded one by one.

    Scrapy's graceful stop waits for every request the engine holds, including those queued
    behind DOWNLOAD_DELAY / Crawl-delay (up to CONCURRENT_REQUESTS of them), so a stop could
    take minutes. Only transfers already under way finish (bounded by DOWNLOAD_TIMEOUT); the
    dropped URLs are fetched by the next run (the database, not the queue, is the record).
    Stats: ``safety/dropped_at_stop``.
    """

    def __init__(self, crawler, interval: float = 0.2):
        self.crawler = crawler
        self.interval = interval
        self.loop: LoopingCall | None = None
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("DISPATCHES_BOUNDED_STOP"):
            raise NotConfigured
        return cls(crawler)

    def opened(self, spider=None):
        self.loop = LoopingCall(self.check)
        self.loop.start(self.interval, now=False)

    def check(self):
        slot = getattr(getattr(self.crawler, "engine", None), "_slot", None)
        if slot is None or getattr(slot, "closing", None) is None:
            return
        n = drain_download_queues(
            self.crawler,
            lambda request: True,
            lambda request: IgnoreRequest(f"spider closing: not fetched: {strip_secrets(request.url)}"),
        )
        if n:
            self.crawler.stats.inc_value("safety/dropped_at_stop", n)
            logger.info("Stopping: %d queued request(s) dropped; the next run fetches them", n)

    def closed(self, spider=None, reason=None):
        if self.loop is not None and self.loop.running:
            self.loop.stop()


class RedirectGuardMiddleware:
    """Checks a 3xx ``Location`` before Scrapy's RedirectMiddleware follows or logs it.

    Register with an order just above ``RedirectMiddleware`` (600) so its
    ``process_response`` runs first.
    """

    def __init__(self, crawler):
        self.stats = crawler.stats
        self.allow = AllowList.from_settings(crawler.settings)
        set_secret_params(setting_list(crawler.settings, "DISPATCHES_SECRET_PARAMS"))

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response, spider=None):
        if response.status not in (301, 302, 303, 307, 308) or b"Location" not in response.headers:
            return response
        location = response.headers[b"Location"].decode("latin-1").strip()
        target = response.urljoin(location)
        reason = check_url(target, self.allow)
        if reason:
            shown = strip_secrets(target)
            self.stats.inc_value(f"safety/blocked/{reason}")
            self.stats.inc_value("safety/blocked_redirects")
            logger.warning(
                "Blocked redirect (%s) from %r to %r",
                reason,
                strip_secrets(request.url),
                shown,
            )
            raise IgnoreRequest(f"blocked redirect {reason}: {shown}")
        clean = strip_secrets(target)
        if clean != target:
            self.stats.inc_value("safety/credentials_stripped")
            headers = response.headers.copy()
            headers[b"Location"] = clean.encode("ascii", "ignore")
            return response.replace(headers=headers)
        return response


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
