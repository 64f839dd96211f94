"""Which URLs and addresses a crawl may touch: schemes, IP addresses however spelled, local names.

Pure rules, no Scrapy: the request guard, the redirect guard and the resolver of
``crawlers.middlewares.safety`` and ``crawlers.middlewares.resolver`` apply them. Only http and
https; no loopback, private, link-local, CGNAT, ULA, multicast, metadata or unspecified address,
whatever way the IP is spelled (``2130706433``, ``0x7f.1``, ``0177.0.0.1``,
``[::ffff:127.0.0.1]``, percent-encoded); no ``localhost``-style or metadata-service names.
``DISPATCHES_ALLOW_HOSTS`` (``AllowList``) lets test rigs reach named loopback hosts and ports.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from crawlers.config import setting_list

logger = logging.getLogger(__name__)

__all__ = [
    "ALLOWED_SCHEMES",
    "AllowList",
    "address_block_reason",
    "check_url",
    "host_block_reason",
    "parse_ip",
]

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
