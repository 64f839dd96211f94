"""Store durability on real files: WAL, BEGIN IMMEDIATE, lock retries, readers during
writes, crashes, pre-flight refusals, migrations and FTS after them."""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from store import Store, StoreError, schema
from store.testing import GRANTS, HARBOUR, national_day, one, page, wrapped

ROOT = Path(__file__).resolve().parents[1]
DAY = date(2024, 3, 1)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_sql(path: Path, sql: str, params=()) -> None:
    """Change a database file behind the store's back (what an older or newer Dispatches left)."""
    conn = sqlite3.connect(path)
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def refused_untouched(path: Path, match: str | None = None) -> StoreError:
    """Opening `path` raises StoreError (matching `match`) and leaves the file as it was; the error."""
    before = sha(path)
    with pytest.raises(StoreError, match=match) as err:
        Store(path)
    assert sha(path) == before
    return err.value


def filled(path: Path, n: int = 3) -> Path:
    s = Store(path)
    s.save(*page("https://www.state.gov/harbour/", HARBOUR, "Harbour Agreement", DAY))
    s.save(*page("https://www.state.gov/radio/", GRANTS, "Radio Grants", DAY))
    for i in range(n):
        s.save(
            *page(
                f"https://www.state.gov/day-{i}/",
                national_day(f"Land{i}", f"People{i}", 30 + i, f"Minister{i}"),
                f"Land{i} National Day",
                DAY,
            )
        )
    s.close()
    return path


def invariants(path: Path) -> None:
    """What must hold after any crash or migration."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert (
            conn.execute(
                "SELECT count(*) FROM copies WHERE article_id NOT IN (SELECT id FROM articles)"
            ).fetchone()[0]
            == 0
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM articles a WHERE copies_count != "
                "(SELECT count(*) FROM copies c WHERE c.article_id = a.id)"
            ).fetchone()[0]
            == 0
        )
        assert (
            conn.execute("SELECT count(*) FROM articles").fetchone()[0]
            == conn.execute("SELECT count(*) FROM articles_fts").fetchone()[0]
        )
    finally:
        conn.close()


# ---------------------------------------------------------------- opening


def test_fresh_file_is_wal_with_a_long_busy_timeout(tmp_path):
    s = Store(tmp_path / "sub" / "d.db")
    assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 30000
    assert s.db.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    s.close()


def test_close_checkpoints_the_wal(tmp_path):
    path = filled(tmp_path / "d.db")
    wal = Path(str(path) + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_reopening_an_up_to_date_file_does_not_write(tmp_path):
    path = filled(tmp_path / "d.db")
    before = sha(path)
    Store(path).close()
    assert sha(path) == before


def test_not_a_database_is_refused_untouched(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 50)
    err = refused_untouched(path, "not a SQLite database")
    assert "\n" not in str(err)
    assert not Path(str(path) + "-wal").exists()


def test_empty_file_becomes_a_database(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    Store(path).close()
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"


def test_directory_is_refused(tmp_path):
    with pytest.raises(StoreError, match="directory"):
        Store(tmp_path)


@pytest.mark.parametrize("damage", ["overwrite", "truncate"])
def test_corrupt_database_is_refused_untouched(tmp_path, damage):
    path = filled(tmp_path / "d.db", n=40)
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    assert len(data) > 6 * page_size
    if damage == "overwrite":
        for p in range(2, len(data) // page_size):
            data[p * page_size + 8 : p * page_size + 200] = os.urandom(192)
        path.write_bytes(bytes(data))
    else:
        path.write_bytes(bytes(data[: 3 * page_size + page_size // 2]))
    err = refused_untouched(path, "corrupt")
    assert "\n" not in str(err) and "backup" in str(err)


def test_newer_schema_is_refused_untouched(tmp_path):
    path = filled(tmp_path / "d.db")
    run_sql(path, f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    refused_untouched(path, "newer")


def test_unknown_migration_is_refused_untouched(tmp_path):
    path = filled(tmp_path / "d.db")
    run_sql(
        path,
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('dispatches', '0999_future', 'x')",
    )
    refused_untouched(path, "0999_future")


# ---------------------------------------------------------------- migrations and FTS


def test_older_schema_is_migrated_in_place_and_fts_covers_old_rows(tmp_path):
    path = tmp_path / "old.db"
    old = Database(path)
    schema.MIGRATIONS.apply(old, stop_before="0003_fts")  # what an older Dispatches left
    old.execute(
        "INSERT INTO articles (id, title, text, copies_count) VALUES (7, 'Old harbour statement', ?, 1)",
        [HARBOUR],
    )
    old.execute(
        "INSERT INTO copies (article_id, url_key, url, role, rank, match_method, text_sha256) "
        "VALUES (7, 'https://state.gov/old', 'https://www.state.gov/old/', 'original', 0, 'new', 'x')"
    )
    old.close()
    s = Store(path)
    assert [m.name for m in schema.MIGRATIONS.pending(s.db)] == []
    assert s.db.conn.execute(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'harbour'"
    ).fetchall() == [(7,)]
    assert s.db.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert {"article_copies", "review"} <= set(s.db.view_names())
    r = s.save(*page("https://www.state.gov/radio/", GRANTS, "Radio", DAY))
    assert s.db.conn.execute(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'radio'"
    ).fetchall() == [(r.article_id,)]
    s.close()
    invariants(path)


def _with_extra(fn, name):
    ms = Migrations("dispatches")
    for m in schema.MIGRATIONS._migrations:
        ms(name=m.name)(m.fn)
    ms(name=name)(fn)
    return ms


def test_a_migration_using_transform_keeps_fts_in_sync(tmp_path):
    path = filled(tmp_path / "d.db")

    def retype(db):  # sqlite-utils' transform() re-creates the table and drops its triggers
        db["articles"].transform(types={"copies_count": int}, column_order=["id", "title"])

    # what transform() alone does: the FTS triggers are gone
    probe = Database(sqlite3.connect(tmp_path / "probe.db"))
    probe.table("articles").insert({"id": 1, "title": "t", "text": "x", "copies_count": 1}, pk="id")
    probe.table("articles").enable_fts(["title", "text"], create_triggers=True)
    retype(probe)
    assert probe.execute("SELECT count(*) FROM sqlite_master WHERE type='trigger'").fetchone()[0] == 0

    s = Store(path)
    applied = s.write(lambda: schema.migrate(s.db, _with_extra(retype, "0100_retype_articles")))
    assert applied == ["0100_retype_articles"]
    triggers = dict(s.db.conn.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger'"))
    assert set(schema.FTS_TRIGGERS) <= set(triggers)
    assert "UPDATE OF [title], [text]" in triggers["articles_au"]  # counters do not re-index the text
    r = s.save(
        *page(
            "https://www.state.gov/lighthouse/",
            "A new lighthouse keeper programme opens on the northern "
            "coast with training for twelve apprentices from fishing villages and harbour towns.",
            "Lighthouse Programme",
            DAY,
        )
    )
    q = "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?"
    assert s.db.conn.execute(q, ["lighthouse"]).fetchall() == [(r.article_id,)]
    s.db.conn.execute("UPDATE articles SET title = 'Renamed beacon' WHERE id = ?", (r.article_id,))
    assert s.db.conn.execute(q, ["beacon"]).fetchall() == [(r.article_id,)]
    s.close()
    invariants(path)


def test_fts_drift_is_repaired_on_migration(tmp_path):
    path = filled(tmp_path / "d.db")
    s = Store(path)

    def drift(db):  # a migration that changed rows with the triggers off, then put them back
        saved = [
            r[0]
            for r in db.execute(
                f"SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN "
                f"{tuple(schema.FTS_TRIGGERS)}"
            )
        ]
        for t in schema.FTS_TRIGGERS:
            db.execute(f"DROP TRIGGER {t}")
        db.execute("UPDATE articles SET title = 'Seaport accord' WHERE title = 'Harbour Agreement'")
        db.execute("DELETE FROM articles WHERE title = 'Radio Grants'")
        for sql in saved:
            db.execute(sql)

    s.write(lambda: schema.migrate(s.db, _with_extra(drift, "0101_drift")))
    s.db.conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
    assert (
        s.db.conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'seaport'").fetchone()[
            0
        ]
        == 1
    )
    assert (
        s.db.conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'radio'").fetchone()[0]
        == 0
    )
    s.close()


# ---------------------------------------------------------------- transactions and locks


def _insert_event(conn, reason):
    conn.execute("INSERT INTO events (stage, reason, at) VALUES ('test', ?, 'now')", (reason,))


def test_deferred_read_then_write_fails_at_once_immediate_waits(tmp_path):
    path = filled(tmp_path / "d.db")
    a = sqlite3.connect(path, timeout=60, isolation_level=None)
    b = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    # DEFERRED: read, another writer commits, then write -> SQLITE_BUSY_SNAPSHOT, no waiting
    a.execute("BEGIN")
    a.execute("SELECT count(*) FROM articles").fetchone()
    b.execute("BEGIN IMMEDIATE")
    _insert_event(b, "other writer")
    b.execute("COMMIT")
    t0 = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _insert_event(a, "deferred")
    assert time.monotonic() - t0 < 30  # SQLite failed without waiting out the 60 s busy timeout
    a.execute("ROLLBACK")
    # IMMEDIATE: waits for the other writer and succeeds
    b.execute("BEGIN IMMEDIATE")
    _insert_event(b, "holder")
    threading.Timer(0.5, lambda: b.execute("COMMIT")).start()
    t0 = time.monotonic()
    a.execute("BEGIN IMMEDIATE")
    a.execute("SELECT count(*) FROM articles").fetchone()
    _insert_event(a, "immediate")
    a.execute("COMMIT")
    assert time.monotonic() - t0 >= 0.4
    assert a.execute("SELECT count(*) FROM events WHERE reason = 'immediate'").fetchone()[0] == 1
    a.close()
    b.close()


def test_save_waits_for_another_writer(tmp_path):
    path = filled(tmp_path / "d.db")
    s = Store(path)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    _insert_event(other, "long batch")
    threading.Timer(1.0, lambda: other.execute("COMMIT")).start()
    t0 = time.monotonic()
    res = s.save(*page("https://wire.example/h", wrapped(HARBOUR), "Harbour", DAY))
    assert time.monotonic() - t0 >= 0.8 and res.match_method == "near"
    s.close()
    other.close()


def test_lock_retries_are_bounded_logged_and_lose_nothing(tmp_path, caplog):
    path = filled(tmp_path / "d.db")
    s = Store(path, busy_timeout=0.2, retry_attempts=3, retry_seconds=30)
    before = one(s, "SELECT count(*) AS n FROM copies")["n"]
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    caplog.set_level(logging.WARNING, logger="dispatches.store")
    doc, raw = page("https://wire.example/h", wrapped(HARBOUR), "Harbour", DAY)
    t0 = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        s.save(doc, raw)
    assert time.monotonic() - t0 < 10
    assert caplog.text.count("database is locked by another writer; retry") == 2  # 3 attempts
    assert not s.db.conn.in_transaction
    # released while retrying: the save goes through on a later attempt
    caplog.clear()
    threading.Timer(0.3, lambda: other.execute("COMMIT")).start()
    assert s.save(doc, raw).outcome == "copy"
    assert "retry" in caplog.text
    assert one(s, "SELECT count(*) AS n FROM copies")["n"] == before + 1
    s.close()
    other.close()


def test_readers_never_fail_while_a_crawl_writes(tmp_path):
    """Datasette's situation: read-only connections querying continuously during saves."""
    path = filled(tmp_path / "d.db")
    s = Store(path)
    errors, stop = [], threading.Event()
    seen: list[list[int]] = [[], []]

    def reader(counts):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            while not stop.is_set():
                try:
                    counts.append(
                        conn.execute(
                            "SELECT count(*) FROM articles a JOIN copies c ON c.article_id = a.id"
                        ).fetchone()[0]
                    )
                    conn.execute(
                        "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'people'"
                    ).fetchone()
                except sqlite3.Error as exc:  # pragma: no cover - the failure this test exists for
                    errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=reader, args=(seen[i],)) for i in range(2)]
    for t in threads:
        t.start()
    for i in range(40):
        s.save(
            *page(
                f"https://www.state.gov/more-{i}/",
                national_day(f"Isle{i}", f"Islanders{i}", 10 + i, f"Chief{i}"),
                f"Isle{i} Day",
                DAY,
            )
        )
    stop.set()
    for t in threads:
        t.join()
    s.close()
    assert errors == []
    for counts in seen:  # each reader only ever saw committed, growing states
        assert counts and counts == sorted(counts)


CRASH_WRITER = textwrap.dedent("""
    import sys
    from datetime import date
    sys.path.insert(0, {root!r})
    from store import Store
    from store.testing import national_day, page
    s = Store({path!r})
    i = 0
    while True:
        text = national_day(f"Crashland{{i}}", f"Folk{{i}}", i, f"Envoy{{i}}")
        s.save(*page(f"https://www.state.gov/crash-{{i}}/", text, f"Day {{i}}", date(2024, 1, 1)))
        print(i, flush=True)
        i += 1
""")


def test_kill_9_mid_write_leaves_a_consistent_file_and_rerun_is_idempotent(tmp_path):
    path = filled(tmp_path / "d.db")
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH_WRITER.format(root=str(ROOT), path=str(path))],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        done = -1
        deadline = time.monotonic() + 60
        while done < 15 and time.monotonic() < deadline:
            assert proc.stdout is not None
            done = int(proc.stdout.readline())
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert done >= 15
    invariants(path)
    s = Store(path)
    saved = one(s, "SELECT count(*) AS n FROM copies WHERE url_key LIKE 'https://state.gov/crash-%'")["n"]
    assert saved >= done + 1  # every save reported was committed; an unreported one may be too
    outcomes = [
        s.save(
            *page(
                f"https://www.state.gov/crash-{i}/",
                national_day(f"Crashland{i}", f"Folk{i}", i, f"Envoy{i}"),
                f"Day {i}",
                date(2024, 1, 1),
            )
        ).outcome
        for i in range(saved + 2)
    ]
    assert outcomes == ["unchanged"] * saved + ["new", "new"]
    s.close()
    invariants(path)


def test_datasette_reads_while_the_store_writes(tmp_path):
    """Datasette (in process, its own read-only connections) queries the file continuously
    while saves commit: neither side ever fails."""
    import asyncio

    from datasette.app import Datasette

    path = filled(tmp_path / "live.db")
    s = Store(path)
    writer_errors, done = [], threading.Event()

    def writer():
        try:
            for i in range(30):
                s.save(
                    *page(
                        f"https://www.state.gov/live-{i}/",
                        national_day(f"Live{i}", f"Livers{i}", 20 + i, f"Head{i}"),
                        f"Live{i} Day",
                        DAY,
                    )
                )
        except Exception as exc:  # pragma: no cover - the failure this test exists for
            writer_errors.append(exc)
        finally:
            done.set()

    async def read():
        ds = Datasette([str(path)])
        statuses, counts = [], []
        t = threading.Thread(target=writer)
        t.start()
        while not done.is_set():
            r = await ds.client.get("/live/articles.json?_shape=array&_size=5&_sort_desc=id")
            statuses.append(r.status_code)
            c = await ds.client.get("/live.json?sql=select+count(*)+as+n+from+article_copies&_shape=array")
            statuses.append(c.status_code)
            counts.append(c.json()[0]["n"])
            await ds.client.get("/live/articles.json?_search=people&_shape=array")
        t.join()
        return statuses, counts

    statuses, counts = asyncio.run(read())
    s.close()
    assert writer_errors == []
    assert statuses and set(statuses) == {200}
    assert counts == sorted(counts)
    invariants(path)


def test_opening_an_up_to_date_file_does_not_wait_for_a_writer(tmp_path):
    path = filled(tmp_path / "d.db")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    _insert_event(other, "a long crawl transaction")
    t0 = time.monotonic()
    s = Store(path, busy_timeout=60)
    assert time.monotonic() - t0 < 30  # not the 60 s busy timeout: opening took no write lock
    state = s.copy_state("https://www.state.gov/harbour/")
    assert state and state["article_id"]
    other.execute("COMMIT")
    s.close()
    other.close()
