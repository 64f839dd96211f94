"""Storage faults against a real SQLite file through `store.Store`
(cases 59, 60, 61, 62, 63, 68, 69, 70, 72 of tests/faults/CASES.md)."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cleaners.model import Document, RawPage, content_hash
from store import Store, StoreError
from tests.faults.faultkit import ROOT, crawl_env
from tests.test_store_durability import (
    refused_untouched,
    run_sql,
)  # the store suite's own checks of a refused file

FAST_STORE: dict[str, Any] = {"busy_timeout": 0.3, "retry_attempts": 3, "retry_seconds": 3.0}


def make(i: int, size: int = 0, host: str = "www.state.gov") -> tuple[Document, RawPage]:
    """A statement of our own words, numbered so every i is a different article."""
    words = " ".join(f"clause{i}x{j}" for j in range(60))
    text = f"Statement number {i} on maritime cooperation. {words}. " + ("Padding sentence. " * (size // 18))
    url = f"https://{host}/releases/statement-{i}/"
    doc = Document(
        url=url,
        title=f"Statement {i}",
        text=text,
        published=date(2025, 3, 3),
        publisher="U.S. Department of State",
        language="en",
        claimed_original=None,
        content_hash=content_hash(text),
    )
    body = f"<html><head><title>Statement {i}</title></head><body><p>{text}</p></body></html>".encode()
    raw = RawPage(
        url=url,
        final_url=url,
        status=200,
        headers={"content-type": "text/html"},
        body=body,
        fetched_at="2025-03-04T00:00:00+00:00",
        spider="faults",
        discovered_via="link",
    )
    return doc, raw


def counts(path) -> dict:
    con = sqlite3.connect(path)
    try:
        out = {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("articles", "copies", "versions")
        }
        out["orphans"] = con.execute(
            "SELECT count(*) FROM copies WHERE article_id NOT IN (SELECT id FROM articles)"
        ).fetchone()[0]
        out["integrity"] = con.execute("PRAGMA integrity_check").fetchone()[0]
        return out
    finally:
        con.close()


@pytest.fixture
def filled(tmp_path) -> Path:
    path = tmp_path / "d.db"
    with Store(path) as db:
        for i in range(5):
            db.save(*make(i))
    return path


def test_disk_full_rolls_back_whole_save(filled):
    """Case 59: SQLITE_FULL mid-save: a clear error, no transaction left open, no half-written
    article; after space is freed the same save goes through."""
    db = Store(filled, **FAST_STORE)
    try:
        pages = db.db.execute("PRAGMA page_count").fetchone()[0]
        db.db.execute(f"PRAGMA max_page_count = {pages + 1}")
        with pytest.raises((sqlite3.OperationalError, StoreError)) as err:
            db.save(*make(100, size=400_000))
        assert "full" in str(err.value).lower()
        assert not db.db.conn.in_transaction
        assert counts(filled)["articles"] == 5
        db.db.execute("PRAGMA max_page_count = 1073741823")
        assert db.save(*make(100, size=400_000)).outcome == "new"
    finally:
        db.close()
    c = counts(filled)
    assert c["articles"] == 6 and c["orphans"] == 0 and c["integrity"] == "ok"


def test_locked_database_waits_then_fails_clearly_and_loses_nothing(filled):
    """Case 60: another writer holds the lock: bounded waits and retries, then one clear error; the
    same save succeeds once the lock is gone."""
    db = Store(filled, **FAST_STORE)
    other = sqlite3.connect(filled, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        t0 = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            db.save(*make(200))
        assert time.monotonic() - t0 < 10
        assert not db.db.conn.in_transaction
        other.execute("ROLLBACK")
        assert db.save(*make(200)).outcome == "new"
    finally:
        other.close()
        db.close()
    assert counts(filled)["articles"] == 6


def test_lock_released_during_wait_save_goes_through(filled):
    """Case 60: a lock held for a moment costs a wait, not an error."""
    db = Store(filled, busy_timeout=5.0)
    other = sqlite3.connect(filled, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(0.8, lambda: other.execute("ROLLBACK")).start()
    try:
        assert db.save(*make(300)).outcome == "new"
    finally:
        db.close()
        time.sleep(0.1)
        other.close()


def test_wal_reader_does_not_block_writer(filled):
    """Cases 60, 61: a long read transaction (Datasette) does not block a save in WAL mode."""
    reader = sqlite3.connect(filled, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM articles").fetchone()
    db = Store(filled, **FAST_STORE)
    try:
        assert db.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.save(*make(400)).outcome == "new"
        # The reader still sees its snapshot; a new read sees the commit.
        assert reader.execute("SELECT count(*) FROM articles").fetchone()[0] == 5
    finally:
        reader.execute("ROLLBACK")
        reader.close()
        db.close()
    assert counts(filled)["articles"] == 6


def test_deferred_read_then_write_fails_at_once_but_store_does_not(filled):
    """Case 62: SQLite's DEFERRED upgrade fails immediately with BUSY_SNAPSHOT (the busy timeout
    does not help); Store's BEGIN IMMEDIATE writers interleave without an error."""
    a = sqlite3.connect(filled, isolation_level=None, timeout=5)
    b = sqlite3.connect(filled, isolation_level=None, timeout=5)
    a.execute("BEGIN")
    a.execute("SELECT count(*) FROM articles").fetchone()
    b.execute("INSERT INTO events (stage, reason) VALUES ('test', 'other writer')")
    t0 = time.monotonic()
    with pytest.raises(sqlite3.OperationalError):
        a.execute("INSERT INTO events (stage, reason) VALUES ('test', 'stale snapshot')")
    assert time.monotonic() - t0 < 1.0
    a.execute("ROLLBACK")
    a.close()
    b.close()

    errors = []

    def writer(offset):
        try:
            with Store(filled) as db:
                for i in range(15):
                    db.save(*make(offset + i))
        except Exception as exc:  # pragma: no cover - the assertion reports it
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(off,)) for off in (1000, 2000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert counts(filled)["articles"] == 5 + 30


CHILD = r"""
import time
from tests.faults.test_storage import make
from store import Store
db = Store({path!r})
for i in range({n}):
    db.save(*make(i, size=20_000))
    with open({marker!r}, "a") as fh:
        fh.write(f"{{i}}\n")
time.sleep(60)
"""


def test_sigkill_mid_write_leaves_whole_articles_and_rerun_completes(tmp_path):
    """Case 63: a writer killed with SIGKILL: on reopen every committed article is whole, nothing is
    half-written, integrity ok; saving the same set again ends with exactly one of each."""
    path, marker = tmp_path / "k.db", tmp_path / "marker"
    code = CHILD.format(path=str(path), n=100, marker=str(marker))
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=crawl_env())
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if marker.exists() and len(marker.read_text().split()) >= 20:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    done = len(marker.read_text().split())
    c = counts(path)
    assert c["integrity"] == "ok" and c["orphans"] == 0
    assert done <= c["articles"] <= done + 1  # the save in flight either committed or not at all
    assert c["copies"] == c["articles"]
    with Store(path) as db:
        for i in range(100):
            db.save(*make(i, size=20_000))
    c = counts(path)
    assert c["articles"] == 100 and c["copies"] == 100 and c["integrity"] == "ok"


def _corrupt(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "overwrite":
        page = 4096
        data[page * 2 : page * 2 + 2048] = os.urandom(2048)
        data[page * 4 : page * 4 + 2048] = os.urandom(2048)
    else:
        data = data[: len(data) // 2 + 100]
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["overwrite", "truncate"])
def test_corrupt_database_refused_untouched(filled, how):
    """Case 68: one clear error naming the file; the file is not modified or recreated."""
    with Store(filled) as db:  # a few more pages so the damage lands inside tables
        for i in range(10, 40):
            db.save(*make(i, size=3000))
    _corrupt(filled, how)
    err = refused_untouched(filled)
    assert str(filled) in str(err) and "corrupt" in str(err)
    assert "\n" not in str(err)


def test_not_a_database_refused_untouched(tmp_path):
    """Case 69"""
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 50)
    refused_untouched(path, "not a SQLite database")


def test_newer_schema_refused_untouched(filled):
    """Case 72: a file from a newer Dispatches: refuse to write, no downgrade."""
    run_sql(filled, "PRAGMA user_version = 999")
    refused_untouched(filled, "newer")


def test_nothing_deletes_wal_or_shm_files():
    """Case 70: no code of ours removes a database's -wal/-shm files (deleting a hot WAL corrupts)."""
    pattern = re.compile(r"""(unlink|remove|rmtree)\([^)]*(-wal|-shm|\*\.db-)""")
    offenders = []
    for pkg in ("crawlers", "store", "cleaners"):
        for f in (ROOT / pkg).rglob("*.py"):
            text = f.read_text(encoding="utf-8")
            if pattern.search(text):
                offenders.append(str(f))
            for m in re.finditer(r"(\w+)\s*=\s*[^\n]*(\"-wal\"|\"-shm\"|'-wal'|'-shm')", text):
                if re.search(rf"{m.group(1)}\.unlink\(|os\.(unlink|remove)\({m.group(1)}\b", text):
                    offenders.append(f"{f}: {m.group(1)}")
    assert offenders == []
