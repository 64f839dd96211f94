"""Which download failures are network errors, and the few words a log line gives each.

A network error (the name does not resolve, the connection is refused, reset or times out, TLS
fails) says that a host could not be reached, not that it refused us: a crawl logs it once per
host and counts it under ``dispatches/network_error/<host>``, never as a robots.txt block. The
exception types are Scrapy's and Twisted's download errors; which of them a download raises
depends on the download handler, so both families are listed. `count_network_error` is how a
spider counts and logs one.
"""

from __future__ import annotations

from typing import Any

from scrapy import exceptions as scrapy_errors
from twisted.internet import error as tx_errors
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

__all__ = ["count_network_error", "network_reason"]

# Most specific first: the first match names the reason.
_REASONS: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((tx_errors.DNSLookupError, scrapy_errors.CannotResolveHostError), "DNS lookup failed"),
    ((tx_errors.ConnectionRefusedError, scrapy_errors.DownloadConnectionRefusedError), "connection refused"),
    (
        (
            tx_errors.TimeoutError,
            tx_errors.TCPTimedOutError,
            scrapy_errors.DownloadTimeoutError,
            TimeoutError,
        ),
        "timed out",
    ),
    (
        (
            tx_errors.ConnectionLost,
            tx_errors.ConnectionDone,
            ResponseNeverReceived,
            ResponseFailed,
            scrapy_errors.ResponseDataLossError,
            ConnectionResetError,
        ),
        "connection reset",
    ),
    ((tx_errors.ConnectError, scrapy_errors.DownloadFailedError, OSError), "connection failed"),
)


def _tls_error(exc: BaseException) -> bool:
    name = type(exc).__module__ + "." + type(exc).__name__
    text = str(exc)
    return name.startswith("OpenSSL.") or "SSL" in name or "SSL routines" in text or "TLS" in name


def network_reason(exc: BaseException) -> str | None:
    """A short reason ("DNS lookup failed", "connection refused", "TLS error"...) or None.

    None means `exc` is not a network error (an HTTP status, a refusal of our own, a bug).
    The address guard refuses a name that resolves to a private address with a
    ``DNSLookupError`` too; that is our refusal, not the host's failure.
    """
    if isinstance(exc, tx_errors.DNSLookupError) and "blocked address" in str(exc):
        return None
    if _tls_error(exc) or any(_tls_error(sub) for sub in _reasons_inside(exc)):
        return "TLS error"
    for types, reason in _REASONS:
        if isinstance(exc, types):
            return reason
    return None


def _reasons_inside(exc: BaseException) -> list[BaseException]:
    """The failures a ResponseFailed/ResponseNeverReceived wraps (TLS errors hide there)."""
    inner = getattr(exc, "reasons", None) or []
    return [getattr(f, "value", f) for f in inner if isinstance(getattr(f, "value", f), BaseException)]


def count_network_error(stats: Any, log: Any, host: str, exc: BaseException, *, whole_host: bool) -> bool:
    """Count a network error of `host`; the first of the host is one log line, the rest DEBUG.

    Every such failed request counts in `dispatches/network_errors/<host>`; `whole_host`
    (the host's first discovery document failed, so nothing of it can be crawled) also
    puts the host under `dispatches/network_error/<host>` with the reason.

    Args:
        stats: the crawl's stats collector.
        log: the logger (or a spider's logger adapter) the line goes to.
    Returns:
        False when `exc` is not a network error (the caller reports it its own way).
    """
    reason = network_reason(exc)
    if reason is None:
        return False
    stats.inc_value(f"dispatches/network_errors/{host}")
    if whole_host:
        stats.set_value(f"dispatches/network_error/{host}", reason)
    if stats.get_value(f"dispatches/network_errors/{host}") == 1:
        log.error("%s unreachable (%s)", host, reason)
    else:
        log.debug("%s unreachable again (%s: %s)", host, type(exc).__name__, exc)
    return True
