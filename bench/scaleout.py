"""Distributed crawl benchmark: pages/s with 1, 2 and 3 workers sharing each job through a real
redis-server, one `scrapy store-writer`, and the writer's ceiling measured alone.

For N in (1, 2, 3): a fresh Redis database and SQLite file; the writer starts, then the three
jobs (state_gov + its archive, usembassy mx + ca, syndication) run one after the other, each with
N `scrapy crawl` worker processes. Reported: article pages queued by the workers per second of
crawl wall time (first worker start to last worker exit, all jobs), the writer's saves per second
while it had work, the deepest the document queue got, and the wall time until everything was
saved. Then the writer's ceiling: the queue filled by workers with no writer running, then one
writer started on a fresh database, timed from its first save to an empty queue.

Each job has two content hosts and a host is fetched by one worker at a time (politeness holds per
host across workers), so a third worker has no host of its own in a job; on two shared cores the
cleaning of every worker competes for the same CPU. The numbers say what this machine can show.

    python bench/scaleout.py [--scale 24] [--workers 1,2,3]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "DISPATCHES_MAX_CRAWL_DELAY": 0,
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "LOG_LEVEL": "WARNING",
    "CLOSESPIDER_TIMEOUT": 0,
}
JOBS = [
    ("state_gov", ["archives=2021-2025.state.gov"]),
    ("usembassy", ["hosts=mx.usembassy.gov,ca.usembassy.gov"]),
    ("syndication", ["sources=demo"]),
]


def cmd(args: list[str], url: str) -> list[str]:
    out = [sys.executable, "-m", "scrapy", *args]
    for k, v in {**SETTINGS, "DISPATCHES_REDIS_URL": url}.items():
        out += ["-s", f"{k}={v}"]
    return out


def crawl_args(spider: str, args: list[str]) -> list[str]:
    out = ["crawl", spider]
    for a in args:
        out += ["-a", a]
    return out


class Depth(threading.Thread):
    """Samples the document queue's length every 0.1 s."""

    def __init__(self, client):
        super().__init__(daemon=True)
        self.client = client
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        from crawlers.scaleout.writer import docs_waiting

        while not self.stop.is_set():
            self.peak = max(self.peak, docs_waiting(self.client))
            time.sleep(0.1)


def run_workers(web, url: str, db: Path, n: int) -> float:
    env = web.env()
    env["DISPATCHES_DB"] = str(db)
    t0 = time.perf_counter()
    for spider, args in JOBS:
        procs = [
            subprocess.Popen(
                cmd(crawl_args(spider, args), url), cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
            )
            for _ in range(n)
        ]
        for p in procs:
            _, err = p.communicate()
            if p.returncode != 0:
                sys.stderr.write(err[-3000:])
                raise SystemExit(f"a {spider} worker failed with status {p.returncode}")
    return time.perf_counter() - t0


def pages_queued(db: Path) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return sum(
            json.loads(s or "{}").get("pages_fetched", 0) for (s,) in con.execute("select stats from crawls")
        )
    finally:
        con.close()


def writer_proc(web, url: str, db: Path, idle: float | None = None) -> subprocess.Popen:
    env = web.env()
    env["DISPATCHES_DB"] = str(db)
    extra = ["--idle-exit", str(idle)] if idle is not None else []
    return subprocess.Popen(
        cmd(["store-writer", *extra], url), cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )


def drain(client, writer: subprocess.Popen) -> tuple[float, float]:
    """Wait until the writer has saved everything; (seconds from its first save, seconds waited)."""
    from crawlers.scaleout.writer import docs_waiting

    t0 = time.perf_counter()
    start = docs_waiting(client)
    first = None
    while True:
        left = docs_waiting(client)
        if first is None and left < start:
            first = time.perf_counter()
        if left == 0:
            break
        if writer.poll() is not None:
            raise SystemExit(f"the writer exited: {writer.stderr.read()[-2000:] if writer.stderr else ''}")
        time.sleep(0.05)
    end = time.perf_counter()
    return end - (first or t0), end - t0


def saving_seconds(stderr: str) -> float:
    """The writer's own account of the seconds it spent saving (its last line)."""
    import re

    found = re.search(r"pages saved in ([0-9.]+) s of saving", stderr)
    if not found:
        raise SystemExit(f"no summary from the writer: {stderr[-2000:]}")
    return max(float(found.group(1)), 1e-3)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=int, default=24, help="fixture web scale (1 = the hand-written web)")
    ap.add_argument("--workers", default="1,2,3", help="worker counts to measure")
    args = ap.parse_args()

    import redis

    from crawlers.scaleout.writer import docs_waiting
    from tests.fixtures.web.fixtureweb import FixtureWeb
    from tests.redisserver import RedisServer, redis_binary

    if redis_binary() is None:
        print("redis-server is not installed; nothing to measure", file=sys.stderr)
        return 0
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        RedisServer(Path(tmp)) as server,
        FixtureWeb(scale=args.scale, phase=1, crawl_delay=0, startup_timeout=300) as web,
    ):
        client = redis.Redis.from_url(server.url)
        for n in [int(x) for x in args.workers.split(",")]:
            server.flush()
            web.reset()
            db = Path(tmp) / f"w{n}.db"
            writer = writer_proc(web, server.url, db)
            depth = Depth(client)
            depth.start()
            took = run_workers(web, server.url, db, n)
            drain(client, writer)
            depth.stop.set()
            writer.terminate()
            _, err = writer.communicate()
            busy = saving_seconds(err)
            pages = pages_queued(db)
            rows.append((n, pages, took, pages / took, pages / busy, depth.peak))
            print(
                f"{n} worker(s): {pages} pages in {took:.1f} s = {pages / took:.1f} pages/s; "
                f"writer {pages / busy:.1f} saves/s while busy; queue depth peak {depth.peak}",
                file=sys.stderr,
            )
        # the writer's ceiling: a full queue, one writer, a fresh database
        server.flush()
        web.reset()
        run_workers(web, server.url, Path(tmp) / "unused.db", 2)
        queued = docs_waiting(client)
        db = Path(tmp) / "ceiling.db"
        writer = writer_proc(web, server.url, db)
        busy, waited = drain(client, writer)
        writer.terminate()
        writer.communicate()
        print(
            f"writer alone: {queued} queued messages saved in {busy:.1f} s = {queued / busy:.1f} docs/s "
            f"({waited:.1f} s with start-up)",
            file=sys.stderr,
        )
    print("| workers | pages | crawl s | pages/s | writer saves/s | queue peak |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n, pages, took, rate, saves, peak in rows:
        print(f"| {n} | {pages} | {took:.1f} | {rate:.1f} | {saves:.1f} | {peak} |")
    print(f"\nwriter ceiling: {queued / busy:.1f} docs/s ({queued} messages)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
