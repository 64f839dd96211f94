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

import fnmatch
import re
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from courlan import normalize_url as _courlan_normalize
from courlan import scrub_url as _courlan_scrub
from courlan.clean import TRACKERS_RE

# Query parameters that carry credentials: dropped before anything is stored.
SECRET_PARAMS = re.compile(
    r"^(?:token|access_token|refresh_token|id_token|auth|authorization|api_?key|apikey|key|"
    r"secret|client_secret|password|passwd|pwd|sig|signature|session_?id|sid|jsessionid|"
    r"x-amz-[a-z-]+|x-goog-[a-z-]+)$",
    re.I,
)

ROLES = ("original", "archive", "embassy", "syndicated", "file")
DEFAULT_OFFICIAL = ("state.gov", "*.state.gov", "*.usembassy.gov")

# Lower ranks represent the article: state.gov over embassy over archive host over others.
RANK_BY_ROLE = {"original": 0, "embassy": 1, "archive": 2}
OFFICIAL_OTHER_RANK = 2  # a host a user declared official that is not a state.gov/embassy host
UNOFFICIAL_RANK = 3

_PCT = re.compile(r"%[0-9a-fA-F]{2}")


def _strip_params(query: str) -> str:
    pairs = [
        (k, v)
        for k, v in parse_qsl(query, keep_blank_values=True)
        if not SECRET_PARAMS.match(k) and not TRACKERS_RE.search(k.lower())
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
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


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


def host_matches(host: str | None, patterns) -> bool:
    """Whether `host` matches one of the `DISPATCHES_OFFICIAL_DOMAINS` patterns.

    `state.gov` matches itself and `www.state.gov`; `*.state.gov` matches any sub-domain
    (on a dot boundary, so `evilstate.gov` never matches).
    """
    if not host:
        return False
    host = host.lower().rstrip(".")
    bare = key_host(host)
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
        elif bare == key_host(pattern):
            return True
    return False


def rank_for(role: str, host: str | None, official_domains) -> int:
    """0 (represents the article best) .. 3 (never, unless nothing official exists)."""
    if not host_matches(host, official_domains):
        return UNOFFICIAL_RANK
    return RANK_BY_ROLE.get(role, OFFICIAL_OTHER_RANK)
