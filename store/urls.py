"""URL identity for the store: normalised keys, redaction of secrets, roles by host.

Two forms of a URL live in the database:

* the *key* (`normalise_url`): what identity is computed on. https, no `www.`, no
  userinfo, no fragment, no tracking or secret parameters, sorted query, no trailing
  slash. `http://www.state.gov/x/?utm_source=a#top` and `https://state.gov/x` share a key.
* the *clean URL* (`redact_url`): what a person sees and clicks. Scheme, host and
  path as served, with userinfo, secret and tracking parameters and the fragment removed.

Neither ever contains credentials, so they never reach the database, logs or exports.
Hosts stay distinct: `2021-2025.state.gov/x/` is another copy of `www.state.gov/x/`,
joined by its text, not by its URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from courlan import normalize_url as _courlan_normalize
from courlan import scrub_url as _courlan_scrub
from courlan.clean import TRACKERS_RE

from cleaners.urls import is_official_host, site_key

# Query parameters that carry credentials or session state: never stored, logged or exported,
# and stripped from the requests the crawler sends. The one list of the project: the crawl's safety
# middleware, ingest, the store and the WARC export all read it through `is_secret_param`.
BUILTIN_SECRET_PARAMS = frozenset(
    {
        "token", "access_token", "refresh_token", "id_token", "auth", "auth_token", "authtoken",
        "authorization", "api_key", "apikey", "api-key", "key", "secret", "client_secret",
        "password", "passwd", "pwd", "pass", "session", "sessionid", "session_id", "sid",
        "jsessionid", "phpsessid", "sig", "signature", "awsaccesskeyid", "code", "ticket",
    }
)  # fmt: skip
_SECRET_PREFIXES = ("x-amz-", "x-goog-")  # signed cloud-storage URLs carry their keys in these
_extra_secrets: frozenset[str] = frozenset()


def set_secret_params(names: Iterable[str] | None) -> None:
    """Add `DISPATCHES_SECRET_PARAMS` to the built-in list for this process.

    Redaction is a policy of the whole process (every URL, whichever path it takes, must lose the
    same parameters), so the setting is applied once here by whoever reads the settings: the
    crawl's safety middleware and every `Store` opened with `secret_params`.
    """
    global _extra_secrets
    extra = frozenset(n.strip().lower() for n in names or () if n and n.strip())
    if extra != _extra_secrets:
        _extra_secrets = extra
        redact_url.cache_clear()
        normalise_url.cache_clear()


def is_secret_param(name: str) -> bool:
    """Whether a query parameter (or a run argument) of this name carries a secret."""
    name = str(name).strip().lower()
    return name in BUILTIN_SECRET_PARAMS or name in _extra_secrets or name.startswith(_SECRET_PREFIXES)


def strip_secrets(url: str) -> str:
    """The URL without userinfo and secret query parameters, everything else as it was.

    For requests and log lines, where the URL must still work: unlike `redact_url` it keeps
    tracking parameters, the fragment, the order of parameters and non-http schemes.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1] if "@" in parts.netloc else parts.netloc
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if not is_secret_param(k)]
        if len(kept) != len(pairs):
            query = urlencode(kept)
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


ROLES = ("original", "archive", "embassy", "syndicated", "archived", "file")

# Lower ranks represent the article: state.gov over embassy over archive host over others.
RANK_BY_ROLE = {"original": 0, "embassy": 1, "archive": 2}
OFFICIAL_OTHER_RANK = 2  # a host a user declared official that is not a state.gov/embassy host
UNOFFICIAL_RANK = 3

_PCT = re.compile(r"%[0-9a-fA-F]{2}")


def _strip_params(query: str) -> str:
    pairs = [
        (k, v)
        for k, v in parse_qsl(query, keep_blank_values=True)
        if not is_secret_param(k) and not TRACKERS_RE.search(k.lower())
    ]
    return urlencode(pairs)


def _split(url: str):
    if not url or not isinstance(url, str):
        return None
    url = _courlan_scrub(url.strip())
    if "://" not in url and url.startswith("//"):
        url = "https:" + url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a junk port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return parts


@lru_cache(maxsize=8192)
def redact_url(url: str | None) -> str | None:
    """The URL as served minus userinfo, secret/tracking parameters and fragment.

    Returns None for anything that is not an http(s) URL.
    """
    parts = _split(url or "")
    if parts is None:
        return None
    host = parts.hostname.lower().rstrip(".")
    netloc = host
    port = parts.port
    if port and not (
        (parts.scheme.lower() == "http" and port == 80) or (parts.scheme.lower() == "https" and port == 443)
    ):
        netloc = f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", _strip_params(parts.query), ""))


@lru_cache(maxsize=8192)
def normalise_url(url: str | None) -> str | None:
    """The identity key of a URL (see the module docstring); None if not http(s).

    >>> normalise_url("http://www.State.gov/x/?utm_source=feed&b=2&a=1#top")
    'https://state.gov/x?a=1&b=2'
    """
    clean = redact_url(url)
    if clean is None:
        return None
    try:
        norm = _courlan_normalize(clean, strict=False, trailing_slash=False)
    except (ValueError, AttributeError):
        return None
    parts = urlsplit(norm)
    host = parts.hostname or ""
    if host.startswith("www."):
        host = host[4:]
    netloc = host if parts.port in (None, 80, 443) else f"{host}:{parts.port}"
    path = unquote(parts.path) or "/"
    path = quote(path, safe="/%!=:,-~()@+$;*'")
    path = _PCT.sub(lambda m: m.group(0).upper(), path)
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    return urlunsplit(("https", netloc, path, parts.query, ""))


@lru_cache(maxsize=8192)
def host_of(url: str | None) -> str | None:
    """Lower-case host of a URL (as served, `www.` kept), or None."""
    parts = _split(url or "")
    return parts.hostname.lower().rstrip(".") if parts else None


def key_host(host: str) -> str:
    """A host as it appears in keys (no `www.`)."""
    return site_key(host.lower().rstrip("."))


def role_for(url: str | None) -> str:
    """`original`, `archive`, `embassy`, `syndicated` by host; `file` when there is no URL."""
    host = host_of(url)
    if host is None:
        return "file"
    bare = key_host(host)
    if bare == "state.gov":
        return "original"
    if bare.endswith(".state.gov"):
        return "archive"
    if bare == "usembassy.gov" or bare.endswith(".usembassy.gov"):
        return "embassy"
    return "syndicated"


def rank_for(role: str, host: str | None, official_domains) -> int:
    """0 (represents the article best) .. 3 (never, unless nothing official exists)."""
    if not is_official_host(host, official_domains):
        return UNOFFICIAL_RANK
    return RANK_BY_ROLE.get(role, OFFICIAL_OTHER_RANK)
