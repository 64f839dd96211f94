"""Faults of distributed crawls, with real processes, a real redis-server and real SQLite files:
Redis unreachable at start, Redis lost mid-crawl, a page too large for the queue, and Redis
credentials that must appear in no log line and no database row.
"""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.fixtures.web.fixtureweb import FixtureWeb
from tests.redisserver import RedisServer, free_port, redis_binary
from tests.test_scaleout import crawl_args, crawls, db_copies, run, start

pytestmark = pytest.mark.skipif(redis_binary() is None, reason="redis-server is not installed")

SMALL = ("usembassy", ["hosts=mx.usembassy.gov", "limit=4"])
PASSWORD = "s3cret-Pa55"


@pytest.fixture(scope="module")
def web():
    with FixtureWeb(scale=1, phase=1, crawl_delay=0) as w:
        yield w


def test_redis_unreachable_at_start_is_one_line_exit_1_and_nothing_written(web, tmp_path):
    db = tmp_path / "d.db"
    url = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0"
    for args in (crawl_args(*SMALL), ["store-writer", "--idle-exit", "1"], ["job-status"]):
        proc = run(web, db, args, redis_url=url, timeout=60)
        assert proc.returncode == 1, proc.stderr[-2000:]
        lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("dispatches:")]
        assert len(lines) == 1 and "unreachable" in lines[0], proc.stderr[-2000:]
        assert "127.0.0.1" in lines[0] and PASSWORD not in proc.stderr + proc.stdout
        assert "Traceback" not in proc.stderr
    assert not db.exists()


def test_credentials_never_logged_or_stored_and_job_status(web, tmp_path):
    web.reset()
    with RedisServer(tmp_path, password=PASSWORD) as server:
        db = tmp_path / "d.db"
        worker = start(web, db, crawl_args(*SMALL), server.url, log=tmp_path / "worker.log")
        assert worker.wait(timeout=120) == 0, (tmp_path / "worker.log").read_text()[-3000:]
        status = run(web, db, ["job-status"], redis_url=server.url)
        writer = run(web, db, ["store-writer", "--idle-exit", "1"], redis_url=server.url)
        assert writer.returncode == 0, writer.stderr[-3000:]
    shown = json.loads(status.stdout)
    assert shown["documents_waiting"] >= 4  # the writer had not run yet
    assert shown["workers_seen"] == 0 and shown["jobs"] == []  # the job was done and cleared
    logs = (tmp_path / "worker.log").read_text() + writer.stderr + status.stdout + status.stderr
    assert f"127.0.0.1:{server.port}" in logs
    assert PASSWORD not in logs
    rows = crawls(db)
    assert [r["status"] for r in rows] == ["ok"] and rows[0]["stats"]["pages_fetched"] == 4
    assert rows[0]["args"]["worker"] == f"{socket.gethostname()}:{worker.pid}"
    for path in tmp_path.glob("d.db*"):
        assert PASSWORD.encode() not in path.read_bytes()


def test_a_page_too_large_for_the_queue_is_refused_and_counted(web, tmp_path, redis_server):
    redis_server.flush()
    web.reset()
    db = tmp_path / "d.db"
    settings = {"DISPATCHES_REDIS_MAX_DOC_MB": "0.003"}  # ~3 kB: every article page is larger
    proc = run(web, db, crawl_args(*SMALL), redis_url=redis_server.url, settings=settings)
    assert proc.returncode == 0, proc.stderr[-3000:]  # degraded, not failed
    assert "Not queued (too large)" in proc.stderr and "finished: degraded" in proc.stderr
    writer = run(web, db, ["store-writer", "--idle-exit", "1"], redis_url=redis_server.url)
    assert writer.returncode == 0, writer.stderr[-3000:]
    (row,) = crawls(db)
    assert row["stats"]["queue_refused"] == 4 and row["status"] == "degraded", row
    assert db_copies(db) == 0


def test_redis_lost_mid_crawl_stops_the_worker_interrupted_and_keeps_what_was_saved(web, tmp_path):
    web.reset()
    web.fetch(
        "http://fixture.control/slow",
        method="POST",
        data=json.dumps({"host": "*", "path": "*", "delay": 0.3}).encode(),
    )
    spider, args = "state_gov", ["archives=2021-2025.state.gov"]
    db = tmp_path / "d.db"
    server = RedisServer(tmp_path).start()
    try:
        writer = start(web, db, ["store-writer"], server.url, log=tmp_path / "writer.log")
        worker = start(web, db, crawl_args(spider, args), server.url, log=tmp_path / "worker.log")
        deadline = time.monotonic() + 120
        while db_copies(db) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert db_copies(db) >= 5
        server.stop()
        saved = db_copies(db)
        assert worker.wait(timeout=120) == 1
        assert writer.wait(timeout=60) == 1
    finally:
        for p in (writer, worker):
            if p.poll() is None:
                p.kill()
                p.wait()
        server.stop()
    wlog = (tmp_path / "worker.log").read_text()
    assert "Lost Redis" in wlog and "finished: interrupted" in wlog, wlog[-3000:]
    assert "lost Redis" in (tmp_path / "writer.log").read_text()
    assert db_copies(db) >= saved
    # Redis back (empty): the next writer closes the row nobody will finish
    with RedisServer(tmp_path, port=server.port) as again:
        writer = run(web, db, ["store-writer", "--idle-exit", "1"], redis_url=again.url)
        assert writer.returncode == 0, writer.stderr[-3000:]
    assert [r["status"] for r in crawls(db)] == ["interrupted"]
    assert db_copies(db) >= saved
