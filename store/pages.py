"""Raw pages: the bodies kept (zstd, once per sha256) for `scrapy reprocess` and WARC export.

Owns compressing and storing a body, and reading stored pages back as `RawPage`s with what
their copies recorded (URL, headers, status, fetched_at, discovery meta). Leaves what a page
means to the rest of the store.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any

import zstandard

from cleaners.model import RawPage, parse_timestamp, utc_timestamp

from .connection import Connection
from .urls import key_host


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        k, _, v = part.strip().partition("=")
        if k.lower() == "charset":
            return v.strip().strip('"') or None
    return None


class Pages:
    """The `pages` table."""

    def __init__(self, cx: Connection, keep_raw: bool) -> None:
        self.cx = cx
        self.keep_raw = keep_raw
        self._zc = zstandard.ZstdCompressor(level=3)
        self._zd = zstandard.ZstdDecompressor()

    def add(self, sha: str | None, raw: RawPage) -> None:
        """Keep the body of `raw` under its sha256 (inside the caller's transaction)."""
        if not self.keep_raw or not raw.body or sha is None:
            return
        if self.cx.one("SELECT 1 AS x FROM pages WHERE sha256 = ?", (sha,)):
            return
        row = {
            "sha256": sha,
            "content_type": raw.content_type or None,
            "encoding": _charset(raw.headers.get("content-type") or ""),
            "compression": "zstd",
            "body": self._zc.compress(raw.body),
            "size": len(raw.body),
            "stored_at": utc_timestamp(),
        }
        self.cx.insert("pages", row)

    def body(self, row: dict[str, Any]) -> bytes:
        if row["compression"] == "zstd":
            return bytes(self._zd.decompress(row["body"]))
        if row["compression"] == "zlib":
            return zlib.decompress(row["body"])
        return bytes(row["body"])

    def raw_pages(
        self, site: str | None = None, since: str | None = None, *, include_superseded: bool = False
    ) -> Iterator[RawPage]:
        """Stored raw pages (one per copy that has one), oldest copy first.

        Pages of a URL that now holds another statement (`#superseded-` copies) are left out
        unless asked for: re-saving them under their URL would displace the current page
        (WARC export may want them; reprocess must not).
        """
        where, params = ["1 = 1"], []
        if not include_superseded:
            where.append("instr(c.url_key, '#') = 0")
        if site:
            where.append("(c.site = ? OR c.site = ?)")
            params += [site.lower(), "www." + key_host(site)]
        if since:
            where.append("c.fetched_at >= ?")
            params.append(utc_timestamp(parse_timestamp(since)))  # ValueError: not a time
        join = "FROM copies c JOIN pages p ON p.sha256 = c.page_sha256"
        with self.cx.lock:
            ids = [
                r["id"]
                for r in self.cx.all(f"SELECT c.id {join} WHERE {' AND '.join(where)} ORDER BY c.id", params)
            ]
        # One row at a time, without holding the lock: a long export never blocks saves.
        for cid in ids:
            with self.cx.lock:
                row = self.cx.one(f"SELECT c.*, p.body, p.compression {join} WHERE c.id = ?", (cid,))
            if row is None:
                continue
            meta = json.loads(row["meta"] or "{}")
            meta.update({"copy_id": row["id"], "article_id": row["article_id"]})
            yield RawPage(
                url=row["raw_url"] or row["url"],
                final_url=row["final_url"] or row["url"],
                status=row["http_status"] or 200,
                headers=json.loads(row["headers"] or "{}"),
                body=self.body(row),
                fetched_at=row["fetched_at"],
                spider=row["spider"],
                discovered_via=row["discovered_via"],
                source_path=row["source_path"],
                meta=meta,
            )
