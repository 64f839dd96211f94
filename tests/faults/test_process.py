"""Whole-process faults through the project's `scrapy crawl` command with the real pipeline
(cases 64-69, 93, 94 of tests/faults/CASES.md): SIGTERM, SIGKILL and rerun, two crawls at once,
a failing write, run time limit, unusable databases, listening sockets."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from store import Store
from tests.faults.faultkit import ROOT, SCRAPY, RunningCrawl, crawl_env, run_crawl
from tests.faults.faultserver import article_html


def settings_for(server, db: Path, **extra) -> dict:
    return {
        "DISPATCHES_ALLOW_HOSTS": f"*.fault.test:{server.port}",
        "DISPATCHES_DB": str(db),
        "DOWNLOAD_TIMEOUT": "15",
        "DISPATCHES_CLEAN_WORKERS": "1",
        **extra,
    }


def db_rows(db: Path) -> dict:
    con = sqlite3.connect(db)
    try:
        con.row_factory = sqlite3.Row
        return {
            "articles": con.execute("SELECT count(*) FROM articles").fetchone()[0],
            "copies": con.execute("SELECT count(*) FROM copies").fetchone()[0],
            "dup_urls": con.execute(
                "SELECT count(*) FROM (SELECT url FROM copies GROUP BY url HAVING count(*) > 1)"
            ).fetchone()[0],
            "integrity": con.execute("PRAGMA integrity_check").fetchone()[0],
            "crawls": [dict(r) for r in con.execute("SELECT * FROM crawls ORDER BY id")],
            "events": [dict(r) for r in con.execute("SELECT * FROM events ORDER BY id")],
        }
    finally:
        con.close()


def listening_sockets(pid: int) -> list[int]:
    """TCP ports the process listens on (from /proc: socket inodes of its fds, LISTEN state)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and parts[9] in inodes:
                ports.append(int(parts[1].rsplit(":", 1)[1], 16))
    return ports


def kill_once_stored(run: RunningCrawl, copies: int) -> None:
    """`kill -9` the crawl once `copies` copies are committed, and wait for it to be gone."""
    try:
        assert run.wait_for(lambda: run.copies_stored() >= copies, timeout=60)
        os.kill(run.proc.pid, signal.SIGKILL)
        run.finish(timeout=10)
    finally:
        if run.proc.poll() is None:
            run.proc.kill()


def _urls(server, prefix, n, slow=0.0, slow_n=0):
    urls = [server.url(f"{prefix}", f"/page/{prefix}-{i}") for i in range(n)]
    urls += [server.url(f"{prefix}-slow", f"/slow?s={slow}&name={prefix}-slow-{i}") for i in range(slow_n)]
    return urls


def test_sigterm_finishes_in_flight_pages_and_records_interrupted(fault_server, tmp_path):
    """Cases 65 and 93: SIGTERM mid-crawl: "shutting down gracefully", the in-flight (slow) pages
    still finish and are stored, the crawl row says interrupted (finish reason shutdown), exit
    status non-zero, all within DOWNLOAD_TIMEOUT; the crawler listens on no port meanwhile."""
    s = fault_server
    db = tmp_path / "term.db"
    urls = _urls(s, "term", 4) + _urls(s, "term", 0, slow=6, slow_n=2)
    run = RunningCrawl(urls, tmp_path, settings=settings_for(s, db))
    try:
        slow_seen = run.wait_for(lambda: len(s.requests("term-slow.fault.test")) >= 2, timeout=60)
        assert slow_seen, run.log_path.read_text()[-3000:]
        assert run.wait_for(lambda: run.copies_stored() >= 1, timeout=30)
        assert listening_sockets(run.proc.pid) == []
        os.kill(run.proc.pid, signal.SIGTERM)
        res = run.finish(timeout=60)
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
    assert "Received SIGTERM, shutting down gracefully" in res.log
    assert res.returncode != 0
    rows = db_rows(db)
    assert rows["integrity"] == "ok"
    assert rows["copies"] == 6, rows  # the two slow pages in flight were finished and saved
    crawl = rows["crawls"][-1]
    assert crawl["status"] == "interrupted" and crawl["finished_at"]
    assert '"finish_reason": "shutdown"' in crawl["stats"]


def test_second_sigterm_forces_exit(fault_server, tmp_path):
    """Case 65: a second SIGTERM stops at once; what was committed stays intact."""
    s = fault_server
    db = tmp_path / "term2.db"
    urls = _urls(s, "termtwo", 3) + _urls(s, "termtwo", 0, slow=20, slow_n=1)
    run = RunningCrawl(urls, tmp_path, settings=settings_for(s, db, DOWNLOAD_TIMEOUT="30"))
    try:
        assert run.wait_for(lambda: run.copies_stored() >= 3, timeout=60)
        assert run.wait_for(lambda: len(s.requests("termtwo-slow.fault.test")) >= 1, timeout=10)
        os.kill(run.proc.pid, signal.SIGTERM)
        time.sleep(0.5)
        os.kill(run.proc.pid, signal.SIGTERM)
        res = run.finish(timeout=15)  # the slow page takes 20 s: an exit before it is a forced one
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
    assert "forcing unclean shutdown" in res.log
    rows = db_rows(db)
    assert rows["integrity"] == "ok" and rows["copies"] == 3  # the slow page is for the next run (case 64)


def test_sigkill_mid_crawl_then_rerun_gives_the_full_set_once(fault_server, tmp_path):
    """Case 64: kill -9 while pages are being saved; the run lock dies with the process; the rerun
    ends with exactly one article per page, no duplicates, integrity ok."""
    s = fault_server
    db = tmp_path / "kill.db"
    urls = _urls(s, "kill", 12, slow=2, slow_n=2)
    kill_once_stored(RunningCrawl(urls, tmp_path, settings=settings_for(s, db)), 5)
    first = db_rows(db)
    assert first["integrity"] == "ok" and first["copies"] >= 5
    killed = first["crawls"][-1]
    assert killed["status"] == "running" and killed["finished_at"] is None  # nobody could close it
    again = run_crawl(urls, tmp_path, settings=settings_for(s, db))
    assert again.returncode == 0, again.log[-3000:]
    rows = db_rows(db)
    assert rows["articles"] == 14 and rows["copies"] == 14 and rows["dup_urls"] == 0
    assert rows["integrity"] == "ok"
    assert rows["crawls"][-1]["status"] == "ok"
    # The rerun, holding the run lock, knew no live process owned the killed run's row.
    noticed = rows["crawls"][0]
    assert noticed["id"] == killed["id"] and noticed["status"] == "interrupted"
    assert killed["started_at"] <= noticed["finished_at"] <= rows["crawls"][-1]["started_at"]
    assert json.loads(noticed["stats"])["finish_reason"] == "process_died"
    assert "marked 1 run(s) left 'running' by a process that died as interrupted" in again.log


def crawl_health(db: Path) -> dict[str, dict]:
    """The `crawl_health` canned query of store/metadata.yml on `db`: {spider: row}."""
    meta = yaml.safe_load((ROOT / "store" / "metadata.yml").read_text(encoding="utf-8"))
    sql = meta["databases"]["dispatches"]["queries"]["crawl_health"]["sql"]
    con = sqlite3.connect(db)
    try:
        con.row_factory = sqlite3.Row
        return {r["spider"]: dict(r) for r in con.execute(sql)}
    finally:
        con.close()


def test_a_crawl_killed_then_an_ingest_shows_the_crawl_interrupted_in_crawl_health(fault_server, tmp_path):
    """kill -9 leaves the crawl's row `running`, and crawl health would show a run that never
    ends; the next run of any kind (here an ingest) marks it interrupted, finished when noticed."""
    s = fault_server
    db = tmp_path / "killed-then-ingest.db"
    urls = _urls(s, "health", 4, slow=30, slow_n=1)
    kill_once_stored(RunningCrawl(urls, tmp_path, settings=settings_for(s, db)), 2)
    assert crawl_health(db)["faults"]["health"] == "running"

    captures = tmp_path / "captures"
    captures.mkdir()
    (captures / "one.html").write_text(article_html("after-the-kill"), encoding="utf-8")
    proc = subprocess.run(
        [SCRAPY, "ingest", str(captures), "--db", str(db), "--workers", "0"],
        cwd=ROOT,
        env=crawl_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    health = crawl_health(db)
    assert health["faults"]["status"] == "interrupted" and health["faults"]["health"] == "interrupted"
    assert health["faults"]["finished_at"] >= health["faults"]["started_at"]
    assert health["ingest"]["status"] == "ok"


def test_two_crawls_on_one_database(fault_server, tmp_path):
    """Case 67: the second run sees the run lock and exits at once with one clear line; the first
    finishes normally; nothing interleaves."""
    s = fault_server
    db = tmp_path / "two.db"
    first = RunningCrawl(_urls(s, "twoa", 2, slow=3, slow_n=1), tmp_path, settings=settings_for(s, db))
    try:
        assert first.wait_for(lambda: len(s.requests("twoa-slow.fault.test")) >= 1, timeout=60)
        second = run_crawl(_urls(s, "twob", 2), tmp_path, settings=settings_for(s, db))
        res = first.finish(timeout=60)
    finally:
        if first.proc.poll() is None:
            first.proc.kill()
    assert second.returncode == 75
    lines = [line for line in second.log.splitlines() if line.startswith("dispatches:")]
    assert len(lines) == 1 and "lock" in lines[0].lower()
    assert "Traceback" not in second.log
    assert res.returncode == 0
    rows = db_rows(db)
    assert rows["copies"] == 3 and rows["integrity"] == "ok"
    # the refused run is a finished row of its own, with its reason; the first run's is intact
    statuses = sorted(row["status"] for row in rows["crawls"])
    assert len(rows["crawls"]) == 2 and statuses == ["failed", "ok"]
    assert any("lock held" in (row["stats"] or "") for row in rows["crawls"])


def test_failed_write_is_recorded_not_silently_dropped(fault_server, tmp_path):
    """Case 66: a write that fails (a trigger aborting inserts for one host) becomes an event, a
    counted error and a degraded run; the other pages are stored."""
    s = fault_server
    db = tmp_path / "boom.db"
    Store(db).close()
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON copies WHEN NEW.url LIKE '%//boom.fault.test%' "
        "BEGIN SELECT RAISE(ABORT, 'injected write failure'); END"
    )
    con.commit()
    con.close()
    res = run_crawl(_urls(s, "boom", 2) + _urls(s, "fine", 3), tmp_path, settings=settings_for(s, db))
    rows = db_rows(db)
    assert rows["copies"] == 3 and rows["integrity"] == "ok"
    failed = [e for e in rows["events"] if "boom.fault.test" in (e["url"] or "")]
    assert len(failed) == 2 and all(e["reason"] == "save_failed" for e in failed)
    assert "injected write failure" in failed[0]["detail"]
    assert rows["crawls"][-1]["status"] in ("degraded", "failed")
    assert '"store_errors": 2' in rows["crawls"][-1]["stats"]
    assert res.returncode in (0, 1)


def test_closespider_timeout_ends_run_cleanly(fault_server, tmp_path):
    """Case 94: a run longer than its budget stops cleanly (finish reason closespider_timeout)."""
    s = fault_server
    db = tmp_path / "slow.db"
    urls = [s.url("budget", f"/slow?s=1&name=budget-{i}") for i in range(30)]
    res = run_crawl(
        urls,
        tmp_path,
        settings=settings_for(
            s, db, CLOSESPIDER_TIMEOUT="3", CONCURRENT_REQUESTS_PER_DOMAIN="1", DOWNLOAD_DELAY="0.05"
        ),
    )
    assert res.reason == "closespider_timeout"
    assert res.seconds < 20
    rows = db_rows(db)
    assert 1 <= rows["copies"] < 30 and rows["integrity"] == "ok"
    assert rows["crawls"][-1]["finished_at"]


@pytest.mark.parametrize("kind", ["corrupt", "notadb", "newer"])
def test_unusable_database_is_one_line_and_untouched(fault_server, tmp_path, kind):
    """Cases 68, 69, 72 through `scrapy crawl`: exit non-zero, one line, no traceback, file unchanged."""
    s = fault_server
    db = tmp_path / f"{kind}.db"
    if kind == "notadb":
        db.write_text("not a database\n" * 100)
    else:
        with Store(db) as store:
            store.start_crawl("faults", {})
        con = sqlite3.connect(db)
        if kind == "newer":
            con.execute("PRAGMA user_version = 999")
        con.commit()
        con.close()
        if kind == "corrupt":
            data = bytearray(db.read_bytes())
            data[4096:8192] = os.urandom(4096)
            db.write_bytes(bytes(data))
    before = db.read_bytes()
    res = run_crawl(_urls(s, f"bad{kind}", 1), tmp_path, settings=settings_for(s, db))
    assert res.returncode != 0
    assert "Traceback" not in res.log
    lines = [line for line in res.log.splitlines() if line.startswith("dispatches:")]
    assert len(lines) == 1 and str(db) in lines[0]
    assert db.read_bytes() == before
    assert s.requests(f"bad{kind}.fault.test") == []


def test_readers_during_a_crawl_never_see_locks_and_wal_is_truncated(fault_server, tmp_path):
    """Case 61: Datasette-style read-only connections querying all through a crawl get no lock
    errors and only committed rows; the end-of-run checkpoint truncates the WAL."""
    import threading

    s = fault_server
    db = tmp_path / "read.db"
    Store(db).close()
    errors, counts, stop = [], [], threading.Event()

    def reader():
        uri = db.resolve().as_uri() + "?mode=ro"
        while not stop.is_set():
            try:
                con = sqlite3.connect(uri, uri=True, timeout=1)
                con.execute("BEGIN")
                n = con.execute("SELECT count(*) FROM articles").fetchone()[0]
                orphans = con.execute(
                    "SELECT count(*) FROM copies WHERE article_id NOT IN (SELECT id FROM articles)"
                ).fetchone()[0]
                con.execute("COMMIT")
                con.close()
                counts.append(n)
                if orphans:
                    errors.append(f"{orphans} copies without their article")
            except sqlite3.Error as exc:
                errors.append(str(exc))
            time.sleep(0.02)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        res = run_crawl(_urls(s, "readers", 10), tmp_path, settings=settings_for(s, db))
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert res.returncode == 0, res.log[-2000:]
    assert errors == []
    assert counts and counts == sorted(counts) and max(counts) <= 10
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_memory_limit_closes_the_run(fault_server, tmp_path):
    """Case 48, the last resort: over MEMUSAGE_LIMIT_MB the run closes (memusage_exceeded) and is
    recorded as interrupted."""
    s = fault_server
    db = tmp_path / "mem.db"
    urls = [s.url("mem", f"/slow?s=2&name=mem-{i}") for i in range(20)]
    res = run_crawl(
        urls,
        tmp_path,
        settings=settings_for(
            s, db, MEMUSAGE_LIMIT_MB="40", MEMUSAGE_WARNING_MB="0", MEMUSAGE_CHECK_INTERVAL_SECONDS="1"
        ),
    )
    assert res.reason == "memusage_exceeded"
    assert res.returncode != 0
    crawl = db_rows(db)["crawls"][-1]
    assert crawl["status"] == "interrupted"
