"""A user's first hour: each ordinary failure is one clear line, the documented exit code, no loss.

Every test runs a command the way a user types it (a subprocess from the checkout or from a
subfolder), then checks what it printed, its exit status and that the database kept what it had.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def scrapy(*argv: str, cwd: Path = ROOT, env: dict | None = None, timeout: int = 180):
    full_env = {**os.environ, **(env or {})}
    for name in ("https_proxy", "http_proxy", "HTTPS_PROXY", "HTTP_PROXY"):
        if env is None or name not in env:
            full_env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def crawl_rows(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("select spider, status, stats from crawls order by id").fetchall()
    finally:
        con.close()


# --- network errors ---------------------------------------------------------------------------
HOSTS = [f"h{i:02d}.usembassy.gov" for i in range(24)]


def test_crawl_without_network_is_a_few_lines_per_host_and_says_why(tmp_path):
    """Every host's connection is refused (a proxy on a closed port): no traceback, no robots block."""
    import json

    port = closed_port()
    proxy = f"http://127.0.0.1:{port}"
    db = tmp_path / "d.db"
    proc = scrapy(
        "crawl",
        "usembassy",
        "-a",
        "hosts=" + ",".join(HOSTS),
        "-s",
        f"DISPATCHES_DB={db}",
        "-s",
        f"DISPATCHES_ALLOW_HOSTS=127.0.0.1:{port}",
        "-s",
        "DOWNLOAD_DELAY=0",
        env={"https_proxy": proxy, "http_proxy": proxy},
    )
    err = proc.stderr
    assert proc.returncode == 1, err[-2000:]
    assert "Traceback" not in err
    assert "robots.txt" not in err.replace("/robots.txt", "")  # never described as a robots block
    for host in HOSTS:
        assert f"{host} unreachable (connection refused)" in err
    # Scrapy's banner and stats dump are a fixed cost; what grows with the hosts stays small.
    assert len(err.splitlines()) < 150 + 5 * len(HOSTS)
    assert err.strip().splitlines()[-1] == (
        f"dispatches: crawl usembassy finished: failed: 0 of {len(HOSTS)} hosts reachable (network error)"
    )
    [(spider, status, stats)] = crawl_rows(db)
    stats = json.loads(stats)
    assert (spider, status) == ("usembassy", "failed")
    assert sorted(stats["network_error"]) == HOSTS and stats["robots_blocked"] == []
    assert stats["status_reason"] == f"0 of {len(HOSTS)} hosts reachable (network error)"
