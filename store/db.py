"""`Store`: one SQLite file holding articles, their copies, versions, raw pages and crawls.

What this module owns: opening the file safely (pre-flight checks, WAL once, busy
timeout, migrations), the identity cascade that decides what a saved page is, and every
write, each in one `BEGIN IMMEDIATE` transaction retried (bounded) while another writer
holds the lock. What it leaves to others: cleaning (`cleaners`), fetching (`crawlers`),
the run lock between processes (`crawlers.runlock`), Datasette metadata
(`store/metadata.yml`).

The identity cascade, strongest first (DESIGN.md):

1. URL: the same normalised URL is the same copy; a copy reached through a redirect
   (RawPage.url != final_url, or a redirect seen before) joins the article of the URL
   it moved from, and the old copy is marked `gone`.
2. Attribution: "Official news published at <url>" / rel=canonical to an official host
   -> the article of that URL; if that URL was not seen yet, the claim is remembered in
   `pending_attributions` and the original joins this article when it is crawled.
3. Exact: the same normalised text (`cleaners.model.content_hash`) -> that article.
4. Near: candidates from the fingerprint index (`store.neardup`), confirmed by
   containment with look-alike, date and title checks. Pairs in the grey zone are not
   merged but listed in `review_pairs` (view `review`), with a reason: `grey_zone`,
   `lookalike` (names or numbers replaced), `date_mismatch`, `title_mismatch`,
   `same_site_duplicate` (two live URLs of one official site: two posts),
   `holds_candidate` / `contained_official` (a page quoting a whole statement).

An official copy also gathers the unofficial-only articles its text confirms (a
truncated excerpt and a claim that arrived before it and matched nothing else), so the
articles do not depend on the order pages arrive in (property-tested).

The same URL with a text that shares little with the stored one is another statement
(state.gov re-uses slugs for yearly messages): the older copy is retired under
`<key>#superseded-<n>` and keeps its article; the newer page starts afresh.

The best-ranked copy represents the article (state.gov, then embassy, then archive
host, then anything else; the first to arrive among equals): title, text, published,
canonical_url. Every distinct representative or official text is kept in `versions`.
Translations (Document.translation_of) are articles of their own, linked to the English
article through `articles.translation_of_article_id` (a translation shares no text
with the original, and a researcher counts it as its own publication; the link keeps
them together).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import tenacity
import zstandard
from sqlite_utils import Database

from cleaners.model import Document, RawPage, content_hash

from . import neardup, schema
from .urls import (
    DEFAULT_OFFICIAL,
    SECRET_PARAMS,
    host_of,
    key_host,
    normalise_url,
    rank_for,
    redact_url,
    role_for,
)

log = logging.getLogger("dispatches.store")

CRAWL_STATUSES = ("running", "ok", "degraded", "failed", "interrupted")
URL_STATE_FIELDS = ("lastmod", "modified_gmt", "etag", "last_modified", "gone", "discovered_via")
SQLITE_MAGIC = b"SQLite format 3\x00"
OUTCOMES = ("new", "copy", "version", "unchanged")
OFFICIAL_SIZE_RATIO = 0.6  # official vs official: the smaller must be this share of the larger
REUSED_URL_BELOW = 0.6  # a URL whose new text scores below this against the old is a new statement


def _year(published: str | None) -> int | None:
    """The year of an ISO date, for Datasette's year facet."""
    try:
        return int(published[:4]) if published else None
    except ValueError:
        return None


class StoreError(Exception):
    """The database cannot be used; the message is one line meant for a person."""


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What `Store.save` decided about one page."""

    outcome: str  # new | copy | version | unchanged
    article_id: int
    copy_id: int
    role: str
    match_method: str  # url | attribution | exact | near | new
    match_score: float | None
    merged: tuple[int, ...] = ()  # articles folded into article_id by this save
    review: tuple[int, ...] = ()  # candidate articles listed for review, not merged


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _date(s: str | None) -> date | None:
    if not s:
        return None
    try:
        return date.fromisoformat(str(s)[:10])
    except ValueError:
        return None


def _is_locked(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    msg = str(exc).lower()
    return "database is locked" in msg or "database is busy" in msg or "database table is locked" in msg


def _official_domains(value) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_OFFICIAL
    if isinstance(value, str):
        value = value.split(",")
    return tuple(v.strip() for v in value if v and v.strip())


def _redact_arg(key: str, value: Any) -> Any:
    if SECRET_PARAMS.match(str(key)):
        return "***"
    if isinstance(value, str) and "://" in value:
        return ",".join(redact_url(v) or v.split("?")[0] for v in value.split(","))
    return value


class Store:
    """The Dispatches database. See the module docstring; API in DESIGN.md / common brief.

    Args:
        path: a file path or ":memory:". Parent directories are created.
        official_domains: host patterns whose copy is the original (default state.gov,
            *.state.gov, *.usembassy.gov); a list or a comma-separated string.
        keep_raw: store raw bodies (compressed, once per sha256) for reprocess/WARC export.
        busy_timeout: seconds SQLite waits for another writer's lock (>= 30 in production).
        retry_attempts, retry_seconds: bounds of the tenacity retries once that wait
            has expired ("database is locked").
        check: run `PRAGMA quick_check` before opening an existing file.
    """

    def __init__(
        self,
        path: str | os.PathLike = ":memory:",
        official_domains=None,
        keep_raw: bool = True,
        *,
        busy_timeout: float = 30.0,
        retry_attempts: int = 5,
        retry_seconds: float = 300.0,
        check: bool = True,
    ):
        self.path = str(path)
        self.official_domains = _official_domains(official_domains)
        self.keep_raw = bool(keep_raw)
        self._lock = threading.RLock()
        self._zc = zstandard.ZstdCompressor(level=3)
        self._zd = zstandard.ZstdDecompressor()
        self._tcache: OrderedDict[str, neardup.Text] = OrderedDict()  # sha256 -> prepared text
        self._retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_is_locked),
            stop=tenacity.stop_after_attempt(retry_attempts) | tenacity.stop_after_delay(retry_seconds),
            wait=tenacity.wait_random_exponential(multiplier=0.1, max=2.0),
            before_sleep=self._log_retry,
            reraise=True,
        )
        memory = self.path == ":memory:"
        fresh = memory
        if not memory:
            p = Path(self.path)
            if p.is_dir():
                raise StoreError(f"{p}: is a directory, not a database file")
            fresh = not p.exists() or p.stat().st_size == 0
            if not fresh:
                self._preflight(p, check)
            else:
                p.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(self.path, timeout=busy_timeout, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open database: {exc}") from None
        self.db = Database(conn)
        try:
            self.db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            self.db.execute("PRAGMA cache_size = -65536")  # 64 MiB: the fingerprint index stays hot
            if not memory:
                self._ensure_wal(fresh)
                self.db.execute("PRAGMA synchronous = NORMAL")  # safe in WAL; commits survive crashes
            # Only a file that needs migrating takes the write lock at open (a reader such as
            # the WARC export must not wait for a running crawl's transaction).
            applied = (
                self._write(lambda: schema.migrate(self.db)) if schema.MIGRATIONS.pending(self.db) else []
            )
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{self.path}: cannot use database: {exc}") from None
        if applied:
            log.info("store %s: applied migrations %s", self.path, ", ".join(applied))

    # ------------------------------------------------------------------ opening

    @staticmethod
    def _preflight(p: Path, check: bool) -> None:
        """Read-only checks of an existing file; never modifies it."""
        try:
            with open(p, "rb") as fh:
                head = fh.read(16)
        except OSError as exc:
            raise StoreError(f"{p}: cannot read: {exc.strerror}") from None
        if head != SQLITE_MAGIC:
            raise StoreError(f"{p}: file is not a SQLite database (refusing to touch it)")
        try:
            uri = Path(p).resolve().as_uri() + "?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=30)
        except sqlite3.Error as exc:
            raise StoreError(f"{p}: cannot open database read-only: {exc}") from None
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > schema.SCHEMA_VERSION:
                raise StoreError(
                    f"{p}: schema version {version} is newer than this Dispatches understands "
                    f"({schema.SCHEMA_VERSION}); upgrade Dispatches (the file was not modified)"
                )
            has_mig = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='_sqlite_migrations'"
            ).fetchone()
            if has_mig:
                names = {
                    r[0]
                    for r in conn.execute(
                        "SELECT name FROM _sqlite_migrations WHERE migration_set = 'dispatches'"
                    )
                }
                unknown = names - schema.KNOWN
                if unknown:
                    raise StoreError(
                        f"{p}: written by a newer Dispatches (unknown migrations: "
                        f"{', '.join(sorted(unknown))}); upgrade Dispatches (the file was not modified)"
                    )
            if check:
                rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
                if rows != ["ok"]:
                    raise StoreError(
                        f"{p}: database is corrupt ({'; '.join(rows)[:200]}); restore it from a "
                        f"backup (the file was not modified)"
                    )
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{p}: database is corrupt or unreadable ({exc}); restore it from a backup "
                f"(the file was not modified)"
            ) from None
        finally:
            conn.close()

    def _ensure_wal(self, fresh: bool) -> None:
        mode = self.db.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() == "wal":
            return
        # Set once, at creation (or the first time this Dispatches opens an old file):
        # switching later while Datasette has the file open can itself hit a lock.
        with self.db.ensure_autocommit_on():
            mode = self.db.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            log.warning("store %s: could not enable WAL (journal_mode=%s)", self.path, mode)

    # ------------------------------------------------------------------ transactions

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        log.warning(
            "store %s: database is locked by another writer; retry %d in %.1fs",
            self.path,
            state.attempt_number,
            state.next_action.sleep if state.next_action else 0,
        )

    def _write(self, fn, *args, **kwargs):
        """Run `fn` in one BEGIN IMMEDIATE transaction; retry (bounded) while locked."""
        for attempt in self._retrying:
            with attempt, self._lock:
                conn = self.db.conn
                if conn.in_transaction:  # never write inside someone else's transaction
                    raise StoreError("store: a transaction is already open on this connection")
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(*args, **kwargs)
                    conn.execute("COMMIT")
                except BaseException:
                    # SQLITE_FULL/IOERR/BUSY may already have rolled back: check, don't assume.
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                return result

    def _one(self, sql: str, params=()) -> dict | None:
        cur = self.db.conn.execute(sql, params)
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row))

    def _all(self, sql: str, params=()) -> list[dict]:
        cur = self.db.conn.execute(sql, params)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def _insert(self, table: str, row: dict) -> int:
        cols = ", ".join(f"[{k}]" for k in row)
        marks = ", ".join("?" for _ in row)
        cur = self.db.conn.execute(f"INSERT INTO [{table}] ({cols}) VALUES ({marks})", list(row.values()))
        return cur.lastrowid

    def _update(self, table: str, row_id: int, fields: dict) -> None:
        if not fields:
            return
        sets = ", ".join(f"[{k}] = ?" for k in fields)
        self.db.conn.execute(f"UPDATE [{table}] SET {sets} WHERE id = ?", [*fields.values(), row_id])

    # ------------------------------------------------------------------ crawls and events

    def start_crawl(self, spider: str, args: Mapping | None = None) -> int:
        """Record the start of a spider run or ingest; returns its id."""
        safe = {str(k): _redact_arg(k, v) for k, v in dict(args or {}).items()}
        row = {
            "spider": spider,
            "args": json.dumps(safe, default=str),
            "started_at": _now(),
            "status": "running",
        }
        return self._write(self._insert, "crawls", row)

    def finish_crawl(self, crawl_id: int, status: str, stats: Mapping | None = None) -> None:
        """Record the end of a run: status (running/ok/degraded/failed/interrupted) and stats."""
        if status not in CRAWL_STATUSES:
            raise ValueError(f"crawl status must be one of {', '.join(CRAWL_STATUSES)}, not {status!r}")
        stats = dict(stats or {})

        def as_int(key):
            v = stats.get(key)
            return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

        fields = {
            "finished_at": _now(),
            "status": status,
            "stats": json.dumps(stats, default=str, sort_keys=True),
            "pages": as_int("pages_fetched"),
            "new_articles": as_int("articles_new"),
            "new_copies": as_int("copies_new"),
            "errors": as_int("errors"),
            "soft_blocks": as_int("soft_blocks"),
        }
        self._write(self._update, "crawls", crawl_id, fields)

    def record_event(
        self, crawl_id: int | None, url_or_path: str | None, stage: str, reason: str, detail: str = ""
    ) -> int:
        """Record a skip or failure (table `events`); URLs are stored redacted."""
        where = url_or_path
        if where and "://" in where:
            where = redact_url(where) or where.split("?")[0]
        row = {
            "crawl_id": crawl_id,
            "url": where,
            "stage": stage,
            "reason": reason,
            "detail": (detail or "")[:4000],
            "at": _now(),
        }
        return self._write(self._insert, "events", row)

    # ------------------------------------------------------------------ URL state

    def _state_of(self, key: str) -> dict | None:
        copy = self._one(
            "SELECT url, etag, last_modified, fetched_at, http_status, page_sha256, article_id, gone, id AS copy_id "
            "FROM copies WHERE url_key = ?",
            (key,),
        )
        st = self._one(
            "SELECT url, lastmod, modified_gmt, etag, last_modified, gone FROM url_state WHERE url_key = ?",
            (key,),
        )
        if copy is None and st is None:
            return None
        out = {
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
        for src in (st, copy):  # the copy (what we stored) wins over hints
            if src:
                out.update({k: v for k, v in src.items() if v is not None})
        return out

    def copy_state(self, url: str) -> dict | None:
        """What we know about a URL: etag, last_modified, fetched_at, http_status,
        page_sha256, article_id, lastmod, modified_gmt (None if never seen)."""
        key = normalise_url(url)
        if key is None:
            return None
        with self._lock:
            return self._state_of(key)

    def known_urls(self, host: str | None = None) -> dict[str, dict]:
        """normalised URL -> state dict (as `copy_state`) for every known URL, or one host's."""
        where, params = "", ()
        if host:
            prefix = f"https://{key_host(host)}/"
            where, params = "WHERE url_key >= ? AND url_key < ?", (prefix, prefix[:-1] + "0")
        with self._lock:
            out: dict[str, dict] = {}
            for r in self._all(
                f"SELECT url_key, url, lastmod, modified_gmt, etag, last_modified, gone FROM url_state {where}",
                params,
            ):
                key = r.pop("url_key")
                out[key] = {
                    "url": r["url"],
                    "etag": r["etag"],
                    "last_modified": r["last_modified"],
                    "fetched_at": None,
                    "http_status": None,
                    "page_sha256": None,
                    "article_id": None,
                    "copy_id": None,
                    "lastmod": r["lastmod"],
                    "modified_gmt": r["modified_gmt"],
                    "gone": r["gone"],
                }
            for r in self._all(
                "SELECT url_key, url, etag, last_modified, fetched_at, http_status, page_sha256, article_id, gone, "
                f"id AS copy_id FROM copies {where or 'WHERE 1 = 1'} AND instr(url_key, '#') = 0",
                params,
            ):
                key = r.pop("url_key")
                st = out.setdefault(key, {"lastmod": None, "modified_gmt": None})
                st.update({k: v for k, v in r.items() if v is not None or k not in st})
            return out

    def set_url_state(self, url: str, **fields) -> None:
        """Remember discovery hints for a URL (lastmod, modified_gmt, etag, last_modified, gone)."""
        bad = set(fields) - set(URL_STATE_FIELDS)
        if bad:
            raise ValueError(f"unknown url_state fields: {', '.join(sorted(bad))}")
        key = normalise_url(url)
        if key is None:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self._write(self._set_url_state, key, redact_url(url), fields)

    def _set_url_state(self, key: str, url: str | None, fields: dict) -> None:
        fields = {
            k: (int(bool(v)) if k == "gone" else (str(v) if v is not None else None))
            for k, v in fields.items()
        }
        row = {"url_key": key, "url": url, **fields, "updated_at": _now()}
        cols = ", ".join(f"[{k}]" for k in row)
        marks = ", ".join("?" for _ in row)
        updates = ", ".join(f"[{k}] = excluded.[{k}]" for k in row if k != "url_key")
        self.db.conn.execute(
            f"INSERT INTO url_state ({cols}) VALUES ({marks}) ON CONFLICT(url_key) DO UPDATE SET {updates}",
            list(row.values()),
        )

    def touch(self, url: str, fetched_at: str, crawl_id: int | None = None, status: int = 304) -> bool:
        """A conditional GET answered 304: refresh `fetched_at` only. Returns False if unknown."""
        key = normalise_url(url)
        if key is None:
            return False

        def tx():
            cur = self.db.conn.execute(
                "UPDATE copies SET fetched_at = ? WHERE url_key = ? AND (fetched_at IS NULL OR fetched_at < ?)",
                (fetched_at, key, fetched_at),
            )
            return (
                cur.rowcount > 0
                or self._one("SELECT 1 AS x FROM copies WHERE url_key = ?", (key,)) is not None
            )

        return self._write(tx)

    # ------------------------------------------------------------------ raw pages

    def _store_page(self, sha: str, raw: RawPage) -> None:
        if not self.keep_raw or not raw.body:
            return
        if self._one("SELECT 1 AS x FROM pages WHERE sha256 = ?", (sha,)):
            return
        ctype = raw.headers.get("content-type") or ""
        charset = None
        for part in ctype.split(";")[1:]:
            k, _, v = part.strip().partition("=")
            if k.lower() == "charset":
                charset = v.strip().strip('"') or None
        self._insert(
            "pages",
            {
                "sha256": sha,
                "content_type": raw.content_type or None,
                "encoding": charset,
                "compression": "zstd",
                "body": self._zc.compress(raw.body),
                "size": len(raw.body),
                "stored_at": _now(),
            },
        )

    def _body(self, row: dict) -> bytes:
        if row["compression"] == "zstd":
            return self._zd.decompress(row["body"])
        if row["compression"] == "zlib":
            return zlib.decompress(row["body"])
        return bytes(row["body"])

    def raw_pages(
        self, site: str | None = None, since: str | None = None, *, include_superseded: bool = False
    ) -> Iterator[RawPage]:
        """Stored raw pages (one per copy that has one), for reprocess and WARC export.

        Pages of a URL that now holds another statement (`#superseded-` copies) are left
        out unless asked for: re-saving them under their URL would displace the current
        page (WARC export may want them; reprocess must not).
        """
        where, params = ["1 = 1"], []
        if not include_superseded:
            where.append("instr(c.url_key, '#') = 0")
        if site:
            where.append("(c.site = ? OR c.site = ?)")
            params += [site.lower(), "www." + key_host(site)]
        if since:
            where.append("c.fetched_at >= ?")
            params.append(since)
        with self._lock:
            ids = [
                r[0]
                for r in self.db.conn.execute(
                    f"SELECT c.id FROM copies c JOIN pages p ON p.sha256 = c.page_sha256 WHERE {' AND '.join(where)} ORDER BY c.id",
                    params,
                )
            ]
        for cid in ids:
            with self._lock:
                row = self._one(
                    "SELECT c.*, p.body, p.compression FROM copies c JOIN pages p ON p.sha256 = c.page_sha256 WHERE c.id = ?",
                    (cid,),
                )
            if row is None:
                continue
            meta = json.loads(row["meta"] or "{}")
            meta.update({"copy_id": row["id"], "article_id": row["article_id"]})
            yield RawPage(
                url=row["raw_url"] or row["url"],
                final_url=row["final_url"] or row["url"],
                status=row["http_status"] or 200,
                headers=json.loads(row["headers"] or "{}"),
                body=self._body(row),
                fetched_at=row["fetched_at"],
                spider=row["spider"],
                discovered_via=row["discovered_via"],
                source_path=row["source_path"],
                meta=meta,
            )

    # ------------------------------------------------------------------ save

    def save(
        self, doc: Document, raw: RawPage, crawl_id: int | None = None, *, reidentify: bool = False
    ) -> SaveResult:
        """Decide what a cleaned page is and store it (one transaction). See module docstring.

        `reidentify=True` (a stored copy cleaned again) asks the identity cascade again and
        moves the copy where it now points (`store.reprocess.resave`).
        """
        if reidentify:
            from .reprocess import resave

            return resave(self, doc, raw, crawl_id=crawl_id)
        prepared = self._prepare(doc, raw, crawl_id)
        return self._write(self._save_tx, doc, raw, prepared)

    def copy_snapshot(self, raw: RawPage) -> dict | None:
        """The stored copy of `raw` and its article now (`store.reprocess.snapshot`)."""
        from .reprocess import snapshot

        return snapshot(self, raw)

    def article_exists(self, article_id: int | None) -> bool:
        """Whether the article is still there (a move may have folded it into another)."""
        from .reprocess import article_exists

        return article_exists(self, article_id)

    def save_many(self, pages: list[tuple[Document, RawPage, int | None]]) -> list[SaveResult | Exception]:
        """`save` for several pages in ONE transaction: each page in a savepoint of its own,
        so a page that fails costs only itself; one commit for all (a crawl's store process
        saves what has queued up while it was busy). Returns, per page and in order, its
        SaveResult or the exception that stopped it. Nothing is committed if the
        transaction as a whole fails (then it raises, like `save`)."""
        prepared: list[Any] = []
        for doc, raw, crawl_id in pages:
            try:
                prepared.append((doc, raw, self._prepare(doc, raw, crawl_id)))
            except Exception as exc:
                prepared.append(exc)
        return self._write(self._save_many_tx, prepared)

    def _save_many_tx(self, prepared: list[Any]) -> list[SaveResult | Exception]:
        conn = self.db.conn
        out: list[SaveResult | Exception] = []
        for entry in prepared:
            if isinstance(entry, Exception):
                out.append(entry)
                continue
            conn.execute("SAVEPOINT dispatches_save")
            try:
                out.append(self._save_tx(*entry))
            except Exception as exc:
                if _is_locked(exc) or not conn.in_transaction:
                    raise  # the whole transaction is gone (or must be retried): nothing committed
                conn.execute("ROLLBACK TO dispatches_save")
                out.append(exc)
            conn.execute("RELEASE dispatches_save")
        return out

    def _prepare(self, doc: Document, raw: RawPage, crawl_id: int | None) -> dict:
        """Everything that needs no database: keys, role, hashes, shingles."""
        served = raw.final_url or raw.url or doc.url
        key = normalise_url(served)
        url = redact_url(served) if key else None
        if key is None:
            where = raw.source_path or served or hashlib.sha256(raw.body).hexdigest()
            key = f"file:{where}"
            # A capture naming its official original was republished by someone (issue 6: seed 004).
            role, host = ("syndicated" if doc.claimed_original else "file"), None
        else:
            host = host_of(served)
            role = role_for(served)
        asked = normalise_url(raw.url) if raw.url else None
        rank = rank_for(role, host, self.official_domains)
        text = doc.text or ""
        headers = {
            k.lower(): v
            for k, v in dict(raw.headers).items()
            if k.lower() not in ("set-cookie", "authorization")
        }
        meta = {k: v for k, v in dict(raw.meta or {}).items()}
        claims = []
        if not doc.translation_of:
            if doc.claimed_original:
                claims.append(doc.claimed_original)
            if (
                doc.canonical
                and host_of(doc.canonical)
                and rank_for(role_for(doc.canonical), host_of(doc.canonical), self.official_domains) < 3
            ):
                claims.append(doc.canonical)
        claim_keys = []
        for c in claims:
            ck = normalise_url(c)
            if ck and ck != key and ck not in [k for k, _ in claim_keys]:
                claim_keys.append((ck, redact_url(c)))
        copy = {
            "url_key": key,
            "url": url,
            "site": host,
            "role": role,
            "rank": rank,
            "fetched_at": raw.fetched_at,
            "http_status": raw.status,
            "etag": headers.get("etag"),
            "last_modified": headers.get("last-modified"),
            "claimed_original_url": redact_url(doc.claimed_original) if doc.claimed_original else None,
            "page_sha256": hashlib.sha256(raw.body).hexdigest() if raw.body is not None else None,
            "text_sha256": doc.content_hash or content_hash(text),
            "title": doc.title,
            "published": _iso(doc.published),
            "modified": _iso(doc.modified),
            "publisher": doc.publisher,
            "speaker": doc.speaker,
            "doc_type": doc.doc_type,
            "language": doc.language,
            "translation_of": redact_url(doc.translation_of) if doc.translation_of else None,
            "canonical": redact_url(doc.canonical) if doc.canonical else None,
            "source_line": doc.source_line,
            "removed": json.dumps(
                [{"rule": r.rule, "text": r.text} for r in doc.removed], ensure_ascii=False
            ),
            "removed_count": len(doc.removed),
            "discovered_via": raw.discovered_via,
            "source_path": raw.source_path,
            "spider": raw.spider,
            "crawl_id": crawl_id,
            "raw_url": redact_url(raw.url) if raw.url else None,
            "final_url": redact_url(raw.final_url) if raw.final_url else None,
            "headers": json.dumps(headers, ensure_ascii=False, sort_keys=True),
            "meta": json.dumps(meta, default=str, ensure_ascii=False, sort_keys=True),
        }
        return {
            "key": key,
            "asked": asked if asked != key else None,
            "rank": rank,
            "role": role,
            "text": text,
            "textobj": neardup.Text.of(text),
            "claims": claim_keys,
            "copy": copy,
            "translation_key": normalise_url(doc.translation_of) if doc.translation_of else None,
            "hints": {k: str(meta[k]) for k in ("lastmod", "modified_gmt") if meta.get(k)},
        }

    def _save_tx(self, doc: Document, raw: RawPage, p: dict) -> SaveResult:
        now = _now()
        existing = self._one("SELECT * FROM copies WHERE url_key = ?", (p["key"],))
        if existing:
            result = self._resave(existing, doc, raw, p, now)
        else:
            result = self._save_new(doc, raw, p, now)
        if p["hints"]:
            known = self._one(f"SELECT {', '.join(p['hints'])} FROM url_state WHERE url_key = ?", (p["key"],))
            if known != p["hints"]:  # a repeat save leaves url_state alone
                self._set_url_state(p["key"], p["copy"]["url"], p["hints"])
        return result

    def _resave(self, old: dict, doc: Document, raw: RawPage, p: dict, now: str) -> SaveResult:
        new = p["copy"]
        aid = old["article_id"]
        res = dict(
            article_id=aid,
            copy_id=old["id"],
            role=old["role"],
            match_method=old["match_method"],
            match_score=old["match_score"],
        )
        if old["page_sha256"] == new["page_sha256"] and old["text_sha256"] == new["text_sha256"]:
            fields = {}
            if new["fetched_at"] and (old["fetched_at"] is None or new["fetched_at"] > old["fetched_at"]):
                fields["fetched_at"] = new["fetched_at"]
            for k in ("etag", "last_modified"):
                if new[k] and new[k] != old[k]:
                    fields[k] = new[k]
            if old["gone"]:
                fields["gone"] = 0
            self._update("copies", old["id"], fields)
            return SaveResult("unchanged", **res)
        # Same bytes, new text: the cleaners changed (scrapy reprocess), not the page at this URL.
        if old["text_sha256"] != new["text_sha256"] and old["page_sha256"] != new["page_sha256"]:
            prev = self._one("SELECT text FROM texts WHERE sha256 = ?", (old["text_sha256"],))
            if prev is not None:
                v = neardup.compare(p["textobj"], self._text(old["text_sha256"], prev["text"]))
                if v.score < REUSED_URL_BELOW and p["textobj"].size >= neardup.MIN_SHINGLES:
                    # state.gov re-uses slugs (yearly national-day messages, "-15" call
                    # readouts): a different statement lives at this URL. The older of the
                    # two keeps its article under a retired key (`#superseded-`), so an old
                    # capture ingested late never displaces the current page.
                    if new["fetched_at"] and old["fetched_at"] and new["fetched_at"] < old["fetched_at"]:
                        retired = f"{p['key']}#superseded-{(new['page_sha256'] or new['text_sha256'])[:16]}"
                        again = self._one("SELECT * FROM copies WHERE url_key = ?", (retired,))
                        if again:
                            return SaveResult(
                                "unchanged",
                                again["article_id"],
                                again["id"],
                                again["role"],
                                again["match_method"],
                                again["match_score"],
                            )
                        q = dict(p, key=retired, asked=None, copy=dict(new, url_key=retired, gone=1))
                        return self._save_new(doc, raw, q, now)
                    self.db.conn.execute(
                        "UPDATE copies SET url_key = ?, gone = 1 WHERE id = ?",
                        (f"{old['url_key']}#superseded-{old['id']}", old["id"]),
                    )
                    return self._save_new(doc, raw, p, now)
        # The page changed: take everything from the new fetch, keep identity and provenance.
        fields = {
            k: v
            for k, v in new.items()
            if k not in ("url_key", "crawl_id", "match_method", "match_score") and v != old.get(k)
        }
        if old["fetched_at"] and new["fetched_at"] and new["fetched_at"] < old["fetched_at"]:
            fields.pop("fetched_at", None)
        fields["gone"] = 0
        self._update("copies", old["id"], fields)
        self._store_page(new["page_sha256"], raw)
        text_changed = old["text_sha256"] != new["text_sha256"]
        if text_changed:
            self._add_text(new["text_sha256"], p["text"], p, aid)
            if p["rank"] <= 2:
                self._add_version(
                    aid, new["text_sha256"], p["text"], new["title"], new["fetched_at"], new["url"], p["role"]
                )
        self._refresh_article(aid, now)
        self._set_similarity(old["id"], p["textobj"], aid)
        return SaveResult("version" if text_changed else "unchanged", **res)

    def _save_new(self, doc: Document, raw: RawPage, p: dict, now: str) -> SaveResult:
        c = p["copy"]
        aid, method, score, moved = self._by_url(p)
        pending_claims: list[tuple[str, str | None]] = []
        if aid is None:
            aid, method, score, pending_claims = self._by_attribution(p)
        merged: list[int] = []
        reviews: list[tuple[int, neardup.Verdict]] = []
        if aid is None:
            aid, method, score = self._by_exact(p, doc)
        if aid is None:
            aid, score, merged, reviews = self._by_near(p, doc)
            method = "near" if aid is not None else "new"
        else:
            aid, merged = self._bridged(p, doc, aid)
        outcome = "copy"
        if aid is None:
            outcome = "new"
            # title and text go in with the row: the FTS insert trigger indexes them once
            aid = self._insert(
                "articles",
                {
                    "first_seen": c["fetched_at"],
                    "updated_at": now,
                    "copies_count": 0,
                    "title": c["title"],
                    "text": p["text"],
                },
            )
            if p["translation_key"]:
                tr = self._one("SELECT article_id FROM copies WHERE url_key = ?", (p["translation_key"],))
                self._update(
                    "articles",
                    aid,
                    {
                        "translation_of_key": p["translation_key"],
                        "translation_of_article_id": tr["article_id"] if tr else None,
                    },
                )
        row = dict(
            c, article_id=aid, match_method=method, match_score=score, first_fetched_at=c["fetched_at"]
        )
        copy_id = self._insert("copies", row)
        if moved:
            self.db.conn.execute("UPDATE copies SET gone = 1 WHERE id = ?", (moved,))
        self._add_text(c["text_sha256"], p["text"], p, aid)
        if p["rank"] <= 2:
            self._add_version(
                aid, c["text_sha256"], p["text"], c["title"], c["fetched_at"], c["url"], p["role"]
            )
        self._store_page(c["page_sha256"], raw)
        # Claims on URLs not seen yet: the original joins this article when it is crawled.
        for ck, curl in pending_claims:
            self.db.conn.execute(
                "INSERT OR IGNORE INTO pending_attributions (claimed_key, claimed_url, article_id, copy_id, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (ck, curl, aid, copy_id, now),
            )
        self.db.conn.execute("DELETE FROM pending_attributions WHERE claimed_key = ?", (p["key"],))
        # Translations that were waiting for this English original.
        self.db.conn.execute(
            "UPDATE articles SET translation_of_article_id = ? WHERE translation_of_key = ? AND translation_of_article_id IS NULL",
            (aid, p["key"]),
        )
        for other in merged:
            self._merge(aid, other, "bridged by copy %d" % copy_id, now)
        for cand, verdict in reviews:
            if cand == aid or cand in merged:
                continue
            self.db.conn.execute(
                "INSERT OR IGNORE INTO review_pairs (copy_id, article_id, score, reason, detail, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (copy_id, cand, round(verdict.score, 4), verdict.review, verdict.detail[:1000], now),
            )
        self._refresh_article(aid, now)
        self._set_similarity(copy_id, p["textobj"], aid)
        return SaveResult(
            outcome,
            aid,
            copy_id,
            p["role"],
            method,
            score,
            tuple(merged),
            tuple(cand for cand, _ in reviews if cand != aid and cand not in merged),
        )

    # ------------------------------------------------------------------ the cascade

    def _by_url(self, p: dict):
        froms = []
        if p["asked"]:
            froms.append(p["asked"])
            self.db.conn.execute(
                "INSERT INTO redirects (from_key, to_key, from_url, to_url, seen_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(from_key) DO UPDATE SET to_key = excluded.to_key, to_url = excluded.to_url, seen_at = excluded.seen_at",
                (p["asked"], p["key"], p["copy"]["raw_url"], p["copy"]["url"], p["copy"]["fetched_at"]),
            )
        froms += [
            r[0] for r in self.db.conn.execute("SELECT from_key FROM redirects WHERE to_key = ?", (p["key"],))
        ]
        for fk in froms:
            row = self._one("SELECT id, article_id FROM copies WHERE url_key = ?", (fk,))
            if row:
                return row["article_id"], "url", 1.0, row["id"]
        return None, "new", None, None

    def _by_attribution(self, p: dict):
        """Article of a claimed original URL; or of a pending claim on this very URL."""
        pend = self._one("SELECT article_id FROM pending_attributions WHERE claimed_key = ?", (p["key"],))
        if pend and self._article_exists(pend["article_id"]):
            return pend["article_id"], "attribution", 1.0, []
        unresolved = []
        for ck, curl in p["claims"]:
            row = self._one("SELECT article_id FROM copies WHERE url_key = ?", (ck,))
            if row is None:
                red = self._one("SELECT to_key FROM redirects WHERE from_key = ?", (ck,))
                if red:
                    row = self._one("SELECT article_id FROM copies WHERE url_key = ?", (red["to_key"],))
            if row is None:
                row = self._one("SELECT article_id FROM pending_attributions WHERE claimed_key = ?", (ck,))
                if row and not self._article_exists(row["article_id"]):
                    row = None
            if row:
                return row["article_id"], "attribution", 1.0, []
            unresolved.append((ck, curl))
        return None, "new", None, unresolved

    def _article_exists(self, aid: int) -> bool:
        return self._one("SELECT 1 AS x FROM articles WHERE id = ?", (aid,)) is not None

    def _lang_ok(self, doc: Document, aid: int) -> bool:
        if not doc.language:
            return True
        row = self._one("SELECT language FROM articles WHERE id = ?", (aid,))
        return not row or not row["language"] or row["language"] == doc.language

    def _by_exact(self, p: dict, doc: Document):
        if not p["text"].strip():
            return None, "new", None
        row = self._one("SELECT article_id FROM texts WHERE sha256 = ?", (p["copy"]["text_sha256"],))
        if row and self._article_exists(row["article_id"]) and self._lang_ok(doc, row["article_id"]):
            return row["article_id"], "exact", 1.0
        return None, "new", None

    def _candidates(self, p: dict, unofficial_only: bool = False) -> list[dict]:
        """Texts sharing rare fingerprints with the new text, best first (index lookups only);
        with `unofficial_only`, only texts of articles no official copy represents."""
        usable = [h for h, n in self._postings_of(p).items() if n < neardup.DF_CAP]
        if not usable:
            return []
        need = 1 if len(usable) <= 4 else 2
        marks = ",".join("?" * len(usable))
        only = (
            (
                "JOIN texts tt ON tt.id = f.text_id JOIN articles a ON a.id = tt.article_id "
                "AND (a.rep_rank IS NULL OR a.rep_rank >= 3) "
            )
            if unofficial_only
            else ""
        )
        rows = self._all(
            f"SELECT t.id, t.sha256, t.article_id, t.fp_count, h.hits FROM "
            f"(SELECT f.text_id, count(*) AS hits FROM fingerprints f {only}WHERE f.hash IN ({marks}) "
            f" GROUP BY f.text_id HAVING hits >= ? ORDER BY hits DESC, f.text_id LIMIT 8) h "
            f"JOIN texts t ON t.id = h.text_id ORDER BY h.hits DESC, h.text_id",
            [*usable, need],
        )
        # a loose estimate of containment; the confirmation decides
        out = [t for t in rows if t["hits"] / max(1, min(len(usable), t["fp_count"] or 1)) >= 0.2]
        return out[:5]

    def _fps(self, p: dict) -> list[int]:
        """The new text's sampled fingerprints (once per save)."""
        if "fps" not in p:
            obj: neardup.Text = p["textobj"]
            p["fps"] = neardup.fingerprints(obj.hashes) if obj.size >= neardup.MIN_SHINGLES else []
        return p["fps"]

    def _postings_of(self, p: dict) -> dict[int, int]:
        """Posting-list lengths of the new text's fingerprints, read once per save: the
        cascade's candidate search and the index insert ask the same question."""
        if "postings" not in p:
            fps = self._fps(p)
            p["postings"] = self._postings(fps) if fps else {}
        return p["postings"]

    def _near(self, p: dict, doc: Document, unofficial_only: bool = False) -> dict[int, neardup.Verdict]:
        """Best verdict per candidate article from the fingerprint index (see `_candidates`)."""
        obj: neardup.Text = p["textobj"]
        best: dict[int, neardup.Verdict] = {}
        if obj.size < neardup.MIN_SHINGLES:
            return best
        for t in self._candidates(p, unofficial_only):
            aid = t["article_id"]
            art = self._one(
                "SELECT id, title, published, language, rep_rank FROM articles WHERE id = ?", (aid,)
            )
            if art is None:
                continue
            if doc.language and art["language"] and art["language"] != doc.language:
                continue
            old = self._tcache.get(t["sha256"]) or self._text(
                t["sha256"],
                self.db.conn.execute("SELECT text FROM texts WHERE id = ?", (t["id"],)).fetchone()[0],
            )
            both_official = p["rank"] <= 2 and self._rank_of(art) <= 2
            v = neardup.compare(
                obj,
                old,
                new_title=doc.title,
                old_title=art["title"],
                new_date=doc.published,
                old_date=_date(art["published"]),
                edges_ok=not both_official,
                old_official=self._rank_of(art) <= 2,
            )
            if v.same and both_official:
                # Two official pages where one holds the other (a briefing quoting a
                # statement): never one article by text alone.
                if min(obj.size, old.size) / max(obj.size, old.size, 1) < OFFICIAL_SIZE_RATIO:
                    v = neardup.Verdict(
                        False, v.score, "contained_official", f"{obj.size} / {old.size} shingles"
                    )
            if (
                v.same
                and p["rank"] <= 2
                and p["copy"]["site"]
                and self._one(
                    "SELECT 1 AS x FROM copies WHERE article_id = ? AND site = ? AND gone = 0 AND url_key != ? LIMIT 1",
                    (aid, p["copy"]["site"], p["key"]),
                )
            ):
                # Two live URLs of one official site are two posts (state.gov re-posts a
                # statement under "-2" with small edits, and counts it as another release);
                # a moved page answers with a 301 (URL rule) or keeps its text (exact).
                v = neardup.Verdict(False, v.score, "same_site_duplicate", p["copy"]["site"])
            prev = best.get(aid)
            if prev is None or (v.same, v.score) > (prev.same, prev.score):
                best[aid] = v
        return best

    @staticmethod
    def _rank_of(art: dict | None) -> int:
        return 3 if not art or art.get("rep_rank") is None else art["rep_rank"]

    def _unofficial_only(self, aid: int) -> bool:
        return self._rank_of(self._one("SELECT rep_rank FROM articles WHERE id = ?", (aid,))) >= 3

    def _by_near(self, p: dict, doc: Document):
        """(article, score, unofficial-only articles to fold into it, review pairs)."""
        best = self._near(p, doc)
        same = sorted((a for a, v in best.items() if v.same), key=lambda a: (-best[a].score, a))
        reviews = [(a, v) for a, v in best.items() if not v.same and v.review]
        if not same:
            top = max((v.score for v in best.values()), default=None)
            return None, (round(top, 4) if top else None), [], reviews
        primary = same[0]
        merged = []
        if p["rank"] <= 2 and len(same) > 1:
            # An official copy containing several unofficial-only articles (a truncated
            # excerpt and a cruft-wrapped copy that arrived before it) joins them.
            merged = [other for other in same[1:] if self._unofficial_only(other)]
            if merged and self._unofficial_only(primary):
                ids = sorted([primary, *merged])  # keep the oldest id so links stay stable
                primary, merged = ids[0], ids[1:]
        return primary, round(best[same[0]].score, 4), merged, reviews

    def _bridged(self, p: dict, doc: Document, aid: int) -> tuple[int, list[int]]:
        """An official copy that joined `aid` by URL, attribution or exact text also
        gathers the unofficial-only articles its text confirms (copies that arrived before
        it and matched nothing else), so the order of arrival does not matter. When `aid`
        itself is unofficial-only (an aggregator's claim) and the text confirms exactly one
        official article, that article is the one kept."""
        if p["rank"] > 2:
            return aid, []
        # Joined to an official article, only unofficial-only articles can be gathered: the
        # search skips the others (most of an official crawl's copies compare with nothing).
        unofficial_aid = self._unofficial_only(aid)
        same = {
            a
            for a, v in self._near(p, doc, unofficial_only=not unofficial_aid).items()
            if v.same and a != aid
        }
        if not same:
            return aid, []
        officials = sorted(a for a in same if not self._unofficial_only(a))
        primary = aid
        if unofficial_aid and len(officials) == 1:
            primary = officials[0]
        merged = sorted(a for a in ({aid} | same) if a != primary and self._unofficial_only(a))
        return primary, merged

    # ------------------------------------------------------------------ texts, versions, articles

    def _text(self, sha: str, text: str | None) -> neardup.Text:
        """Prepared text by sha256 (texts never change under their hash: a small LRU)."""
        obj = self._tcache.get(sha)
        if obj is None:
            obj = neardup.Text.of(text or "")
            self._tcache[sha] = obj
            if len(self._tcache) > 512:
                self._tcache.popitem(last=False)
        else:
            self._tcache.move_to_end(sha)
        return obj

    def _add_text(self, sha: str, text: str, p: dict, aid: int) -> None:
        if self._one("SELECT 1 AS x FROM texts WHERE sha256 = ?", (sha,)):
            return
        obj: neardup.Text = p["textobj"]
        fps = self._fps(p)
        tid = self._insert(
            "texts",
            {"sha256": sha, "article_id": aid, "text": text, "words": len(obj.words), "fp_count": len(fps)},
        )
        if not fps:
            return
        have = self._postings_of(p)
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO fingerprints (hash, text_id) VALUES (?, ?)",
            [(h, tid) for h in fps if have.get(h, 0) < neardup.DF_CAP],
        )
        # Boilerplate (posting list full): only counted, in a small table that stays hot.
        self.db.conn.executemany(
            f"INSERT INTO fp_df (hash, n) VALUES (?, {neardup.DF_CAP + 1}) ON CONFLICT(hash) DO UPDATE SET n = n + 1",
            [(h,) for h in fps if have.get(h, 0) >= neardup.DF_CAP],
        )

    def _postings(self, fps: list[int]) -> dict[int, int]:
        """Posting-list lengths of fingerprints (each at most DF_CAP: an index range scan)."""
        marks = ",".join("?" * len(fps))
        return dict(
            self.db.conn.execute(
                f"SELECT hash, count(*) FROM fingerprints WHERE hash IN ({marks}) GROUP BY hash", fps
            ).fetchall()
        )

    def _add_version(self, aid, sha, text, title, seen_at, url, role) -> None:
        self.db.conn.execute(
            "INSERT OR IGNORE INTO versions (article_id, text_sha256, text, title, seen_at, url, role) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (aid, sha, text, title, seen_at, url, role),
        )

    def _set_similarity(self, copy_id: int, obj: neardup.Text, aid: int) -> None:
        art = self._one(
            "SELECT a.content_hash, a.text, c.text_sha256 FROM articles a, copies c WHERE a.id = ? AND c.id = ?",
            (aid, copy_id),
        )
        if art is None:
            return
        if art["content_hash"] == art["text_sha256"]:
            sim = 1.0
        else:
            sim = round(neardup.containment(obj, self._text(art["content_hash"], art["text"])), 4)
        self.db.conn.execute(
            "UPDATE copies SET similarity = ? WHERE id = ? AND similarity IS NOT ?", (sim, copy_id, sim)
        )

    _REP_FIELDS = (
        "title",
        "text",
        "published",
        "modified",
        "canonical_url",
        "publisher",
        "speaker",
        "doc_type",
        "language",
        "copies_count",
        "first_seen",
        "content_hash",
        "removed_count",
        "rep_copy_id",
        "rep_rank",
        "year",
    )

    def _refresh_article(self, aid: int, now: str) -> None:
        """Make the best-ranked copy (first among equals) represent the article."""
        rep = self._one("SELECT * FROM copies WHERE article_id = ? ORDER BY gone, rank, id LIMIT 1", (aid,))
        if rep is None:
            return
        text_row = self._one("SELECT text FROM texts WHERE sha256 = ?", (rep["text_sha256"],))
        agg = self._one(
            "SELECT count(*) AS n, min(first_fetched_at) AS first_seen, sum(removed_count) AS removed, "
            "min(published) AS published FROM copies WHERE article_id = ?",
            (aid,),
        )
        canonical = rep["url"] if rep["rank"] <= 2 else None
        if canonical is None:
            claim = self._one(
                "SELECT claimed_original_url FROM copies WHERE article_id = ? AND claimed_original_url IS NOT NULL "
                "ORDER BY rank, id LIMIT 1",
                (aid,),
            )
            canonical = claim["claimed_original_url"] if claim else None
        new = {
            "title": rep["title"],
            "text": text_row["text"] if text_row else "",
            "published": rep["published"] or agg["published"],
            "modified": rep["modified"],
            "canonical_url": canonical,
            "publisher": rep["publisher"],
            "speaker": rep["speaker"],
            "doc_type": rep["doc_type"],
            "language": rep["language"],
            "copies_count": agg["n"],
            "first_seen": agg["first_seen"],
            "content_hash": rep["text_sha256"],
            "removed_count": agg["removed"] or 0,
            "rep_copy_id": rep["id"],
            "rep_rank": rep["rank"],
        }
        new["year"] = _year(new["published"])
        old = self._one(f"SELECT {', '.join(self._REP_FIELDS)} FROM articles WHERE id = ?", (aid,)) or {}
        changed = {k: v for k, v in new.items() if old.get(k) != v}
        if not changed:
            return
        if set(changed) - {"copies_count", "removed_count", "rep_copy_id", "first_seen", "year"}:
            changed["updated_at"] = now
        self._update("articles", aid, changed)
        if "content_hash" in changed:
            self._add_version(
                aid, rep["text_sha256"], new["text"], rep["title"], rep["fetched_at"], rep["url"], rep["role"]
            )
            if old.get("content_hash") is not None:
                art = self._text(rep["text_sha256"], new["text"])
                for c in self._all(
                    "SELECT c.id, c.text_sha256, t.text FROM copies c LEFT JOIN texts t ON t.sha256 = c.text_sha256 "
                    "WHERE c.article_id = ?",
                    (aid,),
                ):
                    sim = (
                        1.0
                        if c["text_sha256"] == rep["text_sha256"]
                        else round(neardup.containment(self._text(c["text_sha256"], c["text"]), art), 4)
                    )
                    self.db.conn.execute("UPDATE copies SET similarity = ? WHERE id = ?", (sim, c["id"]))

    def _merge(self, keep: int, drop: int, reason: str, now: str) -> None:
        """Fold article `drop` into `keep` (copies, texts, versions, claims, reviews)."""
        if keep == drop:
            return
        x = self.db.conn.execute
        x("UPDATE copies SET article_id = ? WHERE article_id = ?", (keep, drop))
        x("UPDATE texts SET article_id = ? WHERE article_id = ?", (keep, drop))
        x(
            "INSERT OR IGNORE INTO versions (article_id, text_sha256, text, title, seen_at, url, role) "
            "SELECT ?, text_sha256, text, title, seen_at, url, role FROM versions WHERE article_id = ?",
            (keep, drop),
        )
        x("DELETE FROM versions WHERE article_id = ?", (drop,))
        x("UPDATE pending_attributions SET article_id = ? WHERE article_id = ?", (keep, drop))
        x("UPDATE OR IGNORE review_pairs SET article_id = ? WHERE article_id = ?", (keep, drop))
        x("DELETE FROM review_pairs WHERE article_id = ?", (drop,))
        x(
            "DELETE FROM review_pairs WHERE article_id = (SELECT article_id FROM copies WHERE copies.id = review_pairs.copy_id)"
        )
        x(
            "UPDATE articles SET translation_of_article_id = ? WHERE translation_of_article_id = ?",
            (keep, drop),
        )
        x("UPDATE merged_articles SET new_id = ? WHERE new_id = ?", (keep, drop))
        x(
            "INSERT OR REPLACE INTO merged_articles (old_id, new_id, reason, merged_at) VALUES (?, ?, ?, ?)",
            (drop, keep, reason, now),
        )
        x("DELETE FROM articles WHERE id = ?", (drop,))
        self._refresh_article(keep, now)

    # ------------------------------------------------------------------ bulk (benchmarks)

    def _bulk_load(self, items, *, batch: int = 10000, progress=None) -> int:
        """Fast path for building large benchmark databases: every (doc, raw) becomes a NEW
        article with one copy, without the identity cascade, with FTS rebuilt once at the
        end. Not for real data: nothing is deduplicated."""
        x = self.db.conn
        start = self._one(
            "SELECT (SELECT ifnull(max(id), 0) FROM articles) AS a, (SELECT ifnull(max(id), 0) FROM copies) AS c, "
            "(SELECT ifnull(max(id), 0) FROM texts) AS t"
        )
        aid, cid, tid = start["a"], start["c"], start["t"]
        df = dict(x.execute("SELECT hash, count(*) FROM fingerprints GROUP BY hash"))
        df.update(x.execute("SELECT hash, n FROM fp_df"))
        seen_texts = set()
        n = 0
        buf = {"articles": [], "copies": [], "texts": [], "versions": [], "fingerprints": []}
        acols = (
            "id",
            "title",
            "text",
            "published",
            "canonical_url",
            "language",
            "copies_count",
            "first_seen",
            "updated_at",
            "content_hash",
            "rep_rank",
            "rep_copy_id",
        )
        ccols = None

        def flush():
            def tx():
                for table, rows in buf.items():
                    if not rows:
                        continue
                    cols = {
                        "articles": acols,
                        "copies": ccols,
                        "texts": ("id", "sha256", "article_id", "text", "words", "fp_count"),
                        "versions": ("article_id", "text_sha256", "text", "title", "seen_at", "url", "role"),
                        "fingerprints": ("hash", "text_id"),
                    }[table]
                    verb = "INSERT OR IGNORE" if table in ("versions", "fingerprints") else "INSERT"
                    x.executemany(
                        f"{verb} INTO [{table}] ({', '.join(f'[{c}]' for c in cols)}) "
                        f"VALUES ({', '.join('?' * len(cols))})",
                        rows,
                    )

            self._write(tx)
            for rows in buf.values():
                rows.clear()

        for t in schema.FTS_TRIGGERS:
            self._write(lambda t=t: x.execute(f"DROP TRIGGER IF EXISTS [{t}]"))
        try:
            for doc, raw in items:
                p = self._prepare(doc, raw, None)
                c = p["copy"]
                if c["text_sha256"] in seen_texts:
                    continue
                seen_texts.add(c["text_sha256"])
                aid, cid, tid = aid + 1, cid + 1, tid + 1
                buf["articles"].append(
                    (
                        aid,
                        c["title"],
                        p["text"],
                        c["published"],
                        c["url"] if p["rank"] <= 2 else None,
                        c["language"],
                        1,
                        c["fetched_at"],
                        c["fetched_at"],
                        c["text_sha256"],
                        p["rank"],
                        cid,
                    )
                )
                row = dict(
                    c,
                    id=cid,
                    article_id=aid,
                    match_method="new",
                    match_score=None,
                    first_fetched_at=c["fetched_at"],
                    similarity=1.0,
                )
                ccols = ccols or tuple(row)
                buf["copies"].append(tuple(row[k] for k in ccols))
                obj = p["textobj"]
                fps = self._fps(p)
                buf["texts"].append((tid, c["text_sha256"], aid, p["text"], len(obj.words), len(fps)))
                buf["versions"].append(
                    (aid, c["text_sha256"], p["text"], c["title"], c["fetched_at"], c["url"], p["role"])
                )
                for h in fps:
                    k = df.get(h, 0)
                    if k < neardup.DF_CAP:
                        buf["fingerprints"].append((h, tid))
                    df[h] = k + 1
                n += 1
                if len(buf["articles"]) >= batch:
                    flush()
                    if progress:
                        progress(n)
            flush()
            self._write(
                lambda: x.executemany(
                    "INSERT OR REPLACE INTO fp_df (hash, n) VALUES (?, ?)",
                    ((h, k) for h, k in df.items() if k > neardup.DF_CAP),
                )
            )
        finally:

            def fts():
                self.db["articles"].enable_fts(
                    ["title", "text"], create_triggers=True, tokenize="porter", replace=True
                )
                schema._narrow_update_trigger(self.db)

            self._write(fts)
        return n

    # ------------------------------------------------------------------ closing

    def close(self) -> None:
        """Checkpoint the WAL into the main file (TRUNCATE) and close. Safe to call twice."""
        with self._lock:
            if getattr(self, "_closed", False):
                return
            self._closed = True
            conn = self.db.conn
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if self.path != ":memory:":
                    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                    if busy:
                        log.info("store %s: WAL checkpoint incomplete (a reader is active)", self.path)
            except sqlite3.Error as exc:
                log.warning("store %s: WAL checkpoint failed: %s", self.path, exc)
            finally:
                conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def save(doc: Document, raw: RawPage, db: Store, crawl_id: int | None = None) -> SaveResult:
    """Module-level convenience: `db.save(doc, raw, crawl_id)`."""
    return db.save(doc, raw, crawl_id)
