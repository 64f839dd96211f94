"""Opening the database file safely and writing to it one transaction at a time.

Owns: read-only pre-flight checks of an existing file (SQLite magic, schema version,
unknown migrations, `quick_check`), WAL set once, the busy timeout, applying pending
migrations, and `Connection.write`, which runs a function in one `BEGIN IMMEDIATE`
transaction and retries it (bounded, with tenacity) while another process holds the write
lock. Leaves what is written to the other modules of the store.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import tenacity
from sqlite_utils import Database

from . import schema

log = logging.getLogger("dispatches.store")

SQLITE_MAGIC = b"SQLite format 3\x00"
T = TypeVar("T")


class StoreError(Exception):
    """The database cannot be used; the message is one line meant for a person."""


def is_locked(exc: BaseException) -> bool:
    """Whether `exc` is SQLite saying another connection holds the lock (worth retrying)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    msg = str(exc).lower()
    return "database is locked" in msg or "database is busy" in msg or "database table is locked" in msg


class Connection:
    """One connection to the database file, shared by the parts of a `Store`.

    Args:
        path: a file path or ":memory:". Parent directories are created.
        busy_timeout: seconds SQLite waits for another writer's lock (>= 30 in production).
        retry_attempts, retry_seconds: bounds of the retries once that wait has expired
            ("database is locked").
        check: run `PRAGMA quick_check` before opening an existing file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float,
        retry_attempts: int,
        retry_seconds: float,
        check: bool,
    ) -> None:
        self.path = str(path)
        self.lock = threading.RLock()
        self.closed = False
        self._retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(is_locked),
            stop=tenacity.stop_after_attempt(retry_attempts) | tenacity.stop_after_delay(retry_seconds),
            wait=tenacity.wait_random_exponential(multiplier=0.1, max=2.0),
            before_sleep=self._log_retry,
            reraise=True,
        )
        self.memory = self.path == ":memory:"
        fresh = self.memory
        if not self.memory:
            p = Path(self.path)
            if p.is_dir():
                raise StoreError(f"{p}: is a directory, not a database file")
            fresh = not p.exists() or p.stat().st_size == 0
            if not fresh:
                preflight(p, check)
            else:
                p.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(self.path, timeout=busy_timeout, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open database: {exc}") from None
        self.db = Database(conn)
        self.conn = conn
        try:
            self.db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            self.db.execute("PRAGMA cache_size = -65536")  # 64 MiB: the fingerprint index stays hot
            if not self.memory:
                self._ensure_wal()
                self.db.execute("PRAGMA synchronous = NORMAL")  # safe in WAL; commits survive crashes
            # Only a file that needs migrating takes the write lock at open (a reader such as
            # the WARC export must not wait for a running crawl's transaction).
            applied = self.write(schema.migrate, self.db) if schema.MIGRATIONS.pending(self.db) else []
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{self.path}: cannot use database: {exc}") from None
        if applied:
            log.info("store %s: applied migrations %s", self.path, ", ".join(applied))

    def _ensure_wal(self) -> None:
        mode = self.db.execute("PRAGMA journal_mode").fetchone()[0]
        if mode.lower() == "wal":
            return
        # Set once, at creation (or the first time this Dispatches opens an old file):
        # switching later while Datasette has the file open can itself hit a lock.
        with self.db.ensure_autocommit_on():
            mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            log.warning("store %s: could not enable WAL (journal_mode=%s)", self.path, mode)

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        log.warning(
            "store %s: database is locked by another writer; retry %d in %.1fs",
            self.path,
            state.attempt_number,
            state.next_action.sleep if state.next_action else 0,
        )

    def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn` in one BEGIN IMMEDIATE transaction; retry (bounded) while locked."""
        for attempt in self._retrying:
            with attempt, self.lock:
                conn = self.conn
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
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        """The first row of a query as a dict, or None."""
        return next(self.db.query(sql, params), None)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Every row of a query as dicts."""
        return list(self.db.query(sql, params))

    # The save path writes a handful of rows per page into tables whose columns it knows.
    # sqlite-utils' Table.insert/update re-read the table list and columns on every call,
    # which measured as a third more CPU per save; these two write the statement directly.

    def insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert one row into a table with an integer `id` (or a rowid); returns the rowid."""
        cols = ", ".join(f"[{k}]" for k in row)
        marks = ", ".join("?" for _ in row)
        cur = self.conn.execute(f"INSERT INTO [{table}] ({cols}) VALUES ({marks})", list(row.values()))
        return int(cur.lastrowid or 0)

    def update(self, table: str, row_id: int, fields: dict[str, Any]) -> None:
        """Change some columns of the row with this `id` (nothing when `fields` is empty)."""
        if fields:
            sets = ", ".join(f"[{k}] = ?" for k in fields)
            self.conn.execute(f"UPDATE [{table}] SET {sets} WHERE id = ?", [*fields.values(), row_id])

    def close(self) -> None:
        """Checkpoint the WAL into the main file (TRUNCATE) and close. Safe to call twice."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
            conn = self.conn
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if not self.memory:
                    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                    if busy:
                        log.info("store %s: WAL checkpoint incomplete (a reader is active)", self.path)
            except sqlite3.Error as exc:
                log.warning("store %s: WAL checkpoint failed: %s", self.path, exc)
            finally:
                conn.close()


def preflight(p: Path, check: bool) -> None:
    """Read-only checks of an existing file; never modifies it. Raises StoreError."""
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
    untouched = "(the file was not modified)"
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > schema.SCHEMA_VERSION:
            raise StoreError(
                f"{p}: schema version {version} is newer than this Dispatches understands "
                f"({schema.SCHEMA_VERSION}); upgrade Dispatches {untouched}"
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
                    f"{', '.join(sorted(unknown))}); upgrade Dispatches {untouched}"
                )
        if check:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
            if rows != ["ok"]:
                raise StoreError(
                    f"{p}: database is corrupt ({'; '.join(rows)[:200]}); "
                    f"restore it from a backup {untouched}"
                )
    except sqlite3.DatabaseError as exc:
        if is_locked(exc):
            raise StoreError(
                f"{p}: database is locked by another process; try again later {untouched}"
            ) from exc
        if "readonly" in str(exc) or "unable to open" in str(exc):
            raise StoreError(
                f"{p}: cannot open the database for writing ({exc}); check the permissions of the "
                f"file and its folder {untouched}"
            ) from None
        raise StoreError(
            f"{p}: database is corrupt or unreadable ({exc}); restore it from a backup {untouched}"
        ) from None
    finally:
        conn.close()
