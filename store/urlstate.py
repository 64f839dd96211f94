"""What the store knows about a URL, for incremental crawls (tables `url_state` and `copies`).

Owns: discovery hints per URL (sitemap `lastmod`, REST `modified_gmt`, validators, `gone`),
the state a spider asks for before fetching (`copy_state`, `known_urls`), and refreshing a
copy's `fetched_at` when a conditional GET answered 304. Leaves deciding what to fetch to the
crawlers.
"""

from __future__ import annotations

from typing import Any

from cleaners.model import utc_timestamp

from .connection import Connection
from .prepare import stamp
from .urls import key_host, normalise_url, redact_url

URL_STATE_FIELDS = ("lastmod", "modified_gmt", "etag", "last_modified", "gone", "discovered_via")

_COPY_STATE = (
    "url, etag, last_modified, fetched_at, http_status, page_sha256, article_id, gone, id AS copy_id"
)
_HINTS = "url, lastmod, modified_gmt, etag, last_modified, gone"


def _empty() -> dict[str, Any]:
    return {
        "url": None,
        "etag": None,
        "last_modified": None,
        "fetched_at": None,
        "http_status": None,
        "page_sha256": None,
        "article_id": None,
        "copy_id": None,
        "lastmod": None,
        "modified_gmt": None,
        "gone": 0,
    }


class UrlState:
    """Per-URL state: hints remembered from discovery and what the stored copy says."""

    def __init__(self, cx: Connection) -> None:
        self.cx = cx

    def copy_state(self, url: str) -> dict[str, Any] | None:
        """etag, last_modified, fetched_at, http_status, page_sha256, article_id, copy_id,
        lastmod, modified_gmt, gone of a URL (None if never seen)."""
        key = normalise_url(url)
        if key is None:
            return None
        with self.cx.lock:
            copy = self.cx.one(f"SELECT {_COPY_STATE} FROM copies WHERE url_key = ?", (key,))
            hints = self.cx.one(f"SELECT {_HINTS} FROM url_state WHERE url_key = ?", (key,))
        if copy is None and hints is None:
            return None
        out = _empty()
        for src in (hints, copy):  # the copy (what we stored) wins over hints
            if src:
                out.update({k: v for k, v in src.items() if v is not None})
        return out

    def known_urls(self, host: str | None = None) -> dict[str, dict[str, Any]]:
        """Normalised URL -> state (as `copy_state`) for every known URL, or one host's."""
        where = "WHERE 1 = 1"
        params: tuple[str, ...] = ()
        if host:
            prefix = f"https://{key_host(host)}/"
            where, params = "WHERE url_key >= ? AND url_key < ?", (prefix, prefix[:-1] + "0")
        out: dict[str, dict[str, Any]] = {}
        with self.cx.lock:
            for r in self.cx.all(f"SELECT url_key, {_HINTS} FROM url_state {where}", params):
                out[r.pop("url_key")] = {**_empty(), **r}
            # Retired copies (`#superseded-`) are not URLs a spider can fetch.
            for r in self.cx.all(
                f"SELECT url_key, {_COPY_STATE} FROM copies {where} AND instr(url_key, '#') = 0", params
            ):
                st = out.setdefault(r.pop("url_key"), {"lastmod": None, "modified_gmt": None})
                st.update({k: v for k, v in r.items() if v is not None or k not in st})
        return out

    def set(self, url: str, **fields: Any) -> None:
        """Remember discovery hints for a URL (lastmod, modified_gmt, etag, last_modified, gone)."""
        bad = set(fields) - set(URL_STATE_FIELDS)
        if bad:
            raise ValueError(f"unknown url_state fields: {', '.join(sorted(bad))}")
        key = normalise_url(url)
        if key is None:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.cx.write(self.set_key, key, redact_url(url), fields)

    def set_key(self, key: str, url: str | None, fields: dict[str, Any]) -> None:
        """`set` by normalised key, inside the caller's transaction."""
        values = {
            k: (int(bool(v)) if k == "gone" else (str(v) if v is not None else None))
            for k, v in fields.items()
        }
        row = {"url_key": key, "url": url, **values, "updated_at": utc_timestamp()}
        self.cx.db.table("url_state").upsert(row, pk="url_key", alter=False)

    def hints_changed(self, key: str, hints: dict[str, str]) -> bool:
        """Whether the stored hints of `key` differ from `hints` (a repeat save leaves them)."""
        known = self.cx.one(f"SELECT {', '.join(hints)} FROM url_state WHERE url_key = ?", (key,))
        return known != hints

    def touch(self, url: str, fetched_at: str, crawl_id: int | None = None, status: int = 304) -> bool:
        """A conditional GET answered 304: refresh the copy's `fetched_at` only.

        Returns False if the URL has no copy.
        """
        key = normalise_url(url)
        if key is None:
            return False
        when = stamp(fetched_at)

        def tx() -> bool:
            cur = self.cx.db.execute(
                "UPDATE copies SET fetched_at = ? "
                "WHERE url_key = ? AND (fetched_at IS NULL OR fetched_at < ?)",
                (when, key, when),
            )
            return (
                cur.rowcount > 0
                or self.cx.one("SELECT 1 AS x FROM copies WHERE url_key = ?", (key,)) is not None
            )

        return self.cx.write(tx)
