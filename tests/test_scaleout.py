"""Distributed crawls: real `scrapy crawl` worker processes sharing jobs through a real redis-server,
one real `scrapy store-writer`, the fixture web on loopback, real SQLite files.

The database the workers and the writer build must equal the one a single process builds from the
same web (same articles, same copies, same merges); the fixture server's request log and its
in-flight counter show that no article was fetched twice and no host got more requests at once
than its limit; `kill -9` of a worker and then of the writer loses and duplicates nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis

from crawlers.scaleout.job import as_text
from crawlers.scaleout.writer import docs_waiting
from tests.fixtures.web.fixtureweb import FixtureWeb
from tests.test_crawl import FAST, article_fetches

ROOT = Path(__file__).resolve().parents[1]
SCRAPY = [sys.executable, "-m", "scrapy"]
JOBS = [
    ("state_gov", ["archives=2021-2025.state.gov"]),
    ("usembassy", ["hosts=mx.usembassy.gov,ca.usembassy.gov"]),
    ("syndication", ["sources=demo"]),
]
LIMIT = 2  # requests at once per host, for the whole job
SETTINGS = {**FAST, "CONCURRENT_REQUESTS_PER_DOMAIN": str(LIMIT)}
SLOW_HOST = "www.state.gov"
JOB = "state_gov?archives=2021-2025.state.gov"  # the job JOBS[0] forms


@pytest.fixture(scope="module")
def web():
    with FixtureWeb(scale=1, phase=1, crawl_delay=0) as w:
        yield w


@pytest.fixture
def redis_url(redis_server):
    redis_server.flush()
    return redis_server.url


def command(web, db, args, settings=None, redis_url=None):
    cmd = [*SCRAPY, *args]
    extra = {**SETTINGS, **(settings or {})}
    if redis_url:
        extra["DISPATCHES_REDIS_URL"] = redis_url
    for k, v in extra.items():
        cmd += ["-s", f"{k}={v}"]
    env = web.env()
    env["DISPATCHES_DB"] = str(db)
    return cmd, env


def start(web, db, args, redis_url=None, settings=None, log=None):
    cmd, env = command(web, db, args, settings, redis_url)
    err = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err, text=True)


def run(web, db, args, redis_url=None, settings=None, timeout=180):
    cmd, env = command(web, db, args, settings, redis_url)
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def crawl_args(spider, args):
    out = ["crawl", spider]
    for a in args:
        out += ["-a", a]
    return out


def snapshot(db) -> dict:
    """What must be equal: articles by content, copies with their roles, which copies share an
    article (the merges). Not `match_method`: which of two copies of one text arrives first (and
    is `new` rather than `exact`) differs between two single-process crawls as well."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        arts = con.execute(
            "select id, canonical_url, title, published, text, copies_count, publisher, language"
            " from articles"
        ).fetchall()
        key = {a[0]: a[1] or hashlib.sha256(a[4].encode()).hexdigest() for a in arts}
        articles = sorted(
            (
                a[1] or "",
                a[2] or "",
                a[3] or "",
                hashlib.sha256(a[4].encode()).hexdigest(),
                a[5],
                a[6] or "",
                a[7] or "",
            )
            for a in arts
        )
        copies = sorted(
            (url, role, key.get(aid, ""), status or 0)
            for url, role, aid, status in con.execute("select url, role, article_id, http_status from copies")
        )
        # which copy first brought a text (its url and role) depends on arrival order, as above
        versions = con.execute("select count(*) from versions").fetchone()[0]
    finally:
        con.close()
    return {"articles": articles, "copies": copies, "versions": versions}


def crawls(db) -> list[dict]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("select spider, status, args, stats from crawls order by id").fetchall()
    finally:
        con.close()
    return [
        {"spider": s, "status": st, "args": json.loads(a or "{}"), "stats": json.loads(x or "{}")}
        for s, st, a, x in rows
    ]


def control(web, path, payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    status, _, body = web.fetch(f"http://fixture.control{path}", method="POST" if data else "GET", data=data)
    assert status == 200, body
    return json.loads(body)


@pytest.fixture(scope="module")
def reference(web, tmp_path_factory):
    """The single-process crawls of JOBS (and of state_gov alone) the distributed ones must equal:
    state_gov first, its snapshot taken, then the other jobs into the same file."""
    out = {}
    db = tmp_path_factory.mktemp("ref") / "ref.db"
    web.reset()
    for i, (spider, args) in enumerate(JOBS):
        proc = run(web, db, crawl_args(spider, args))
        assert proc.returncode == 0, proc.stderr[-3000:]
        if i == 0:
            out["state_gov"] = snapshot(db)
    out["all"] = snapshot(db)
    web.reset()
    assert out["all"]["articles"] and out["all"]["copies"]
    return out


def test_three_workers_and_a_writer_build_the_single_process_database(web, reference, redis_url, tmp_path):
    web.reset()
    control(web, "/slow", {"host": SLOW_HOST, "path": "*", "delay": 0.05})  # requests pile up there
    db = tmp_path / "d.db"
    r = redis.Redis.from_url(redis_url)
    writer = start(web, db, ["store-writer"], redis_url, log=tmp_path / "writer.log")
    try:
        for spider, args in JOBS:
            workers = [
                start(web, db, crawl_args(spider, args), redis_url, log=tmp_path / f"{spider}{i}.log")
                for i in range(3)
            ]
            for i, w in enumerate(workers):
                assert w.wait(timeout=180) == 0, (tmp_path / f"{spider}{i}.log").read_text()[-3000:]
        # SIGTERM once the queue is empty: the writer finishes what it holds and exits 0
        _wait(lambda: docs_waiting(r) == 0, 60, "the writer to empty the queue")
        writer.send_signal(signal.SIGTERM)
        assert writer.wait(timeout=60) == 0, (tmp_path / "writer.log").read_text()[-3000:]
    finally:
        if writer.poll() is None:
            writer.kill()
    assert snapshot(db) == reference["all"]

    fetched = Counter(r["url"] for r in article_fetches(web.requests(), status=None))
    assert fetched and not [u for u, n in fetched.items() if n > 1]
    peaks = control(web, "/inflight")["peak"]
    assert peaks[SLOW_HOST] == LIMIT, peaks  # the limit was used, never exceeded
    assert all(n <= LIMIT for n in peaks.values()), peaks

    rows = crawls(db)
    assert len(rows) == 3 * len(JOBS)
    assert {r["status"] for r in rows} == {"ok"}, rows
    assert all(r["args"]["worker"].rsplit(":", 1)[1].isdigit() for r in rows)
    assert sum(r["stats"]["pages_fetched"] for r in rows) == sum(fetched.values())

    # A distributed re-crawl of the unchanged site fetches no article page in full: the writer
    # published what the database knows (REST modified_gmt, sitemap lastmod, validators).
    web.clear_requests()
    spider, args = JOBS[0]
    workers = [
        start(web, db, crawl_args(spider, args), redis_url, log=tmp_path / f"re{i}.log") for i in range(2)
    ]
    writer = start(web, db, ["store-writer", "--idle-exit", "2"], redis_url, log=tmp_path / "writer2.log")
    for i, w in enumerate(workers):
        assert w.wait(timeout=180) == 0, (tmp_path / f"re{i}.log").read_text()[-3000:]
    assert writer.wait(timeout=60) == 0, (tmp_path / "writer2.log").read_text()[-3000:]
    assert article_fetches(web.requests()) == []
    assert snapshot(db) == reference["all"]


def _wait(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill_9_of_a_worker_and_then_the_writer_loses_and_duplicates_nothing(
    web, reference, redis_url, tmp_path
):
    web.reset()
    control(web, "/slow", {"host": "*", "path": "*", "delay": 0.3})
    db = tmp_path / "d.db"
    r = redis.Redis.from_url(redis_url)
    spider, args = JOBS[0]
    logs = tmp_path
    writer = start(web, db, ["store-writer"], redis_url, log=logs / "writer1.log")
    pair = [start(web, db, crawl_args(spider, args), redis_url, log=logs / f"{n}.log") for n in "ab"]
    procs = [writer, *pair]
    try:
        _wait(lambda: r.get(f"dispatches:job:{JOB}:discovery"), 60, "a worker running discovery")
        discoverer = int(as_text(r.get(f"dispatches:job:{JOB}:discovery")).split(":")[1])
        first, victim = pair if pair[0].pid == discoverer else pair[::-1]
        # the other worker has requests in flight: they are lost with it unless handed back
        _wait(
            lambda: any(r.hlen(k) for k in r.keys(f"dispatches:job:*:inflight:*:{victim.pid}:*")),
            60,
            "requests in flight in the second worker",
        )
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        _wait(lambda: r.llen("dispatches:docs:busy") > 0 or db_copies(db) >= 10, 60, "the writer saving")
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        writer = start(web, db, ["store-writer", "--idle-exit", "2"], redis_url, log=logs / "writer2.log")
        again = start(web, db, crawl_args(spider, args), redis_url, log=logs / "c.log")
        procs += [writer, again]
        for name, p in (("ab"[pair.index(first)], first), ("c", again)):
            assert p.wait(timeout=180) == 0, (logs / f"{name}.log").read_text()[-3000:]
        assert writer.wait(timeout=60) == 0, (logs / "writer2.log").read_text()[-3000:]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert snapshot(db) == reference["state_gov"]
    statuses = Counter(row["status"] for row in crawls(db))
    assert statuses == {"ok": 2, "interrupted": 1}, crawls(db)


def db_copies(db) -> int:
    if not Path(db).exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return con.execute("select count(*) from copies").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def test_a_discovery_worker_killed_mid_discovery_is_replaced(web, reference, redis_url, tmp_path):
    """The next worker runs discovery again; what was already queued is not queued twice."""
    web.reset()
    control(web, "/slow", {"host": SLOW_HOST, "path": "/wp-json/*", "delay": 0.5})
    db = tmp_path / "d.db"
    r = redis.Redis.from_url(redis_url)
    spider, args = JOBS[0]
    discoverer = start(web, db, crawl_args(spider, args), redis_url, log=tmp_path / "a.log")
    procs = [discoverer]
    try:
        _wait(lambda: r.llen(f"dispatches:job:{JOB}:q:{SLOW_HOST}") > 0, 60, "discovery under way")
        os.kill(discoverer.pid, signal.SIGKILL)
        discoverer.wait()
        assert r.get(f"dispatches:job:{JOB}:discovery:done") is None  # killed before it finished
        again = start(web, db, crawl_args(spider, args), redis_url, log=tmp_path / "b.log")
        procs.append(again)
        assert again.wait(timeout=180) == 0, (tmp_path / "b.log").read_text()[-3000:]
        # the writer saves the queue afterwards: started earlier, its idle limit could run out
        # between the kill and the replacement's first heartbeat on a loaded machine
        writer = start(web, db, ["store-writer", "--idle-exit", "2"], redis_url, log=tmp_path / "writer.log")
        procs.append(writer)
        assert writer.wait(timeout=60) == 0, (tmp_path / "writer.log").read_text()[-3000:]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert "runs discovery" in (tmp_path / "b.log").read_text()  # again, or at start after the lock expired
    assert snapshot(db) == reference["state_gov"]
