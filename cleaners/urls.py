"""Hosts of URLs and the one rule for which hosts are official.

`host_of` reads the host out of a URL; `is_official_host` says whether a host matches the
official patterns (`DISPATCHES_OFFICIAL_DOMAINS`), whose copy of a statement is the original.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_OFFICIAL_DOMAINS: tuple[str, ...] = ("state.gov", "*.state.gov", "*.usembassy.gov")


def host_of(url: str | None) -> str | None:
    """Lower-case host of a URL (as served, `www.` kept, no trailing dot), or None."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    host = host.rstrip(".") if host else None
    return host.lower() if host else None


def site_key(host: str | None) -> str:
    """A host without `www.`: `www.example.org` and `example.org` are one site."""
    return (host or "").removeprefix("www.")


def is_official_host(host: str | None, patterns: Iterable[str] = DEFAULT_OFFICIAL_DOMAINS) -> bool:
    """Whether `host` matches one of the official `patterns`.

    `example.org` matches itself and `www.example.org`; `*.example.org` matches any sub-domain
    (on a dot boundary, so `badexample.org` never does); other patterns with `*` or `?` are
    shell-style globs over the whole host.
    """
    if not host:
        return False
    host = host.lower().rstrip(".")
    bare = site_key(host)
    for pattern in patterns:
        pattern = pattern.strip().lower()
        if not pattern:
            continue
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) or bare.endswith(pattern[1:]):
                return True
        elif "*" in pattern or "?" in pattern:
            if fnmatch.fnmatchcase(host, pattern):
                return True
        elif bare == site_key(pattern.rstrip(".")):
            return True
    return False
