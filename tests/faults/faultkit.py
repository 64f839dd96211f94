"""Helpers of the fault suite: the fault server subprocess, `scrapy crawl` runners, and what a
crawl left behind: the spider's record of what reached the pipeline, and the database it wrote.

Every crawl runs the project's item pipeline into a real SQLite file, so a test checks both
halves of a fault: what the crawler did on the wire, and what was (or was not) stored. The
database is read only through its public tables (`copies`, `articles`, `versions`, `events`,
`crawls`), never through the store's code.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENV_BIN = Path(sys.executable).parent
SCRAPY = str(VENV_BIN / "scrapy")

# Short limits so the whole suite stays fast; the production values live in crawlers/settings.py.
# Note: with DOWNLOAD_DELAY=0 Scrapy 2.19 does not enforce CONCURRENT_REQUESTS_PER_DOMAIN (the
# downloader pops every queued request before the first one counts as transferring); tests that
# need one request at a time set a small DOWNLOAD_DELAY.
FAST = {
    "DOWNLOAD_TIMEOUT": "8",  # the hang/drip cases set their own, shorter one
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "0",
    "CONCURRENT_REQUESTS": "64",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "DOWNLOAD_MAXSIZE": str(1 << 20),
    "DOWNLOAD_WARNSIZE": str(256 << 10),
    "DNS_TIMEOUT": "5",
    "LOG_LEVEL": "INFO",
    "TWISTED_DNS_RESOLVER": "tests.faults.faultspider.FakeResolver",
    "MEMUSAGE_CHECK_INTERVAL_SECONDS": "2",
}


class FaultServer:
    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "faultserver.py"), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("fault server did not start: " + self.proc.stderr.read())
        info = json.loads(line)
        self.port, self.canary = info["port"], info["canary"]
        self.blackhole, self.refused = info["blackhole"], info["refused"]
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def url(self, host: str, path: str) -> str:
        return (
            f"http://{host}.fault.test:{self.port}{path}"
            if "." not in host
            else f"http://{host}:{self.port}{path}"
        )

    def _get(self, path):
        with self._opener.open(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return json.loads(r.read())

    def requests(self, host: str | None = None) -> list[dict]:
        reqs = self._get("/_requests")["requests"]
        return [r for r in reqs if host is None or r["host"] == host or r["host"].startswith(host + ".")]

    def canary_hits(self) -> list[dict]:
        return self._get("/_requests")["canary"]

    def close(self):
        self.proc.kill()
        self.proc.wait(10)


def _host(url: str | None) -> str | None:
    try:
        return urlsplit(url or "").hostname
    except ValueError:
        return None


def read_db(db: Path, sql: str, params: tuple = ()) -> list[dict]:
    """Rows of a query on a read-only connection (a crawl may still be writing: WAL readers never
    block it and see only committed rows); [] when the file or the table does not exist yet."""
    if not db.exists():
        return []
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute(sql, params)]
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    finally:
        con.close()


def stored_copies(db: Path) -> list[dict]:
    """Every stored copy with its article's title and text (``a_title``, ``a_text``)."""
    return read_db(
        db,
        "SELECT c.*, a.title AS a_title, a.text AS a_text, a.canonical_url AS a_canonical_url "
        "FROM copies c JOIN articles a ON a.id = c.article_id ORDER BY c.id",
    )


def db_text(db: Path) -> str:
    """Every value of every table, one row a line: for "this string is stored nowhere" checks."""
    tables = [r["name"] for r in read_db(db, "SELECT name FROM sqlite_master WHERE type = 'table'")]
    lines = []
    for table in tables:
        for row in read_db(db, f'SELECT * FROM "{table}"'):
            lines.append(" | ".join(str(v) for v in row.values() if not isinstance(v, bytes)))
    return "\n".join(lines)


@dataclass
class CrawlResult:
    returncode: int
    log: str
    db: Path
    items: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    reason: str | None = None
    seconds: float = 0.0

    # --- what the spider handed to the pipeline, and what failed before it -------------------
    def items_for(self, host: str) -> list[dict]:
        """RawPages the spider yielded whose URL (or final URL) is on exactly this host."""
        return [i for i in self.items if _host(i["url"]) == host or _host(i["final_url"]) == host]

    def errors_for(self, host: str) -> list[dict]:
        return [e for e in self.errors if _host(e["url"]) == host]

    # --- what the pipeline made of it: the database -------------------------------------------
    def copies_for(self, host: str) -> list[dict]:
        """Stored copies (with their article's ``a_title`` / ``a_text``) whose URL as served,
        as asked for, or after redirects is on this host."""
        return [
            c
            for c in stored_copies(self.db)
            if host in (_host(c.get("url")), _host(c.get("raw_url")), _host(c.get("final_url")))
        ]

    def stored_hosts(self) -> set[str | None]:
        """Hosts of every stored copy and version, and of every article's canonical URL."""
        hosts = {_host(c.get(k)) for c in stored_copies(self.db) for k in ("url", "raw_url", "final_url")}
        hosts |= {_host(v["url"]) for v in read_db(self.db, "SELECT url FROM versions")}
        hosts |= {_host(a["canonical_url"]) for a in read_db(self.db, "SELECT canonical_url FROM articles")}
        return hosts - {None}

    def nothing_stored(self, host: str) -> bool:
        """No copy, version or article of this host in the database."""
        return host not in self.stored_hosts()

    def events_for(self, host: str) -> list[dict]:
        """The database's record of pages that were not stored (stage, reason, detail)."""
        return [e for e in read_db(self.db, "SELECT * FROM events ORDER BY id") if _host(e["url"]) == host]

    def crawl_row(self) -> dict:
        """The run's `crawls` row, its stats decoded."""
        rows = read_db(self.db, "SELECT * FROM crawls ORDER BY id")
        assert rows, f"no crawls row in {self.db}"
        row = rows[-1]
        row["stats"] = json.loads(row["stats"] or "{}")
        return row

    def integrity(self) -> str:
        return read_db(self.db, "PRAGMA integrity_check")[0]["integrity_check"]


def crawl_env(extra: dict | None = None) -> dict:
    """This environment without proxy variables (every fault host is on loopback), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(extra or {})
    return env


def crawl_command(urls, out: Path, spider="faults", settings: dict | None = None, args: dict | None = None):
    """`scrapy crawl` as a user types it, with the project's settings, middlewares and item
    pipeline; the fault suite's own spider (``faults``) comes from ``tests.faults.faultspider``.

    The pipeline writes into ``DISPATCHES_DB``: the given one, or a new file next to ``out``.
    """
    cmd = [SCRAPY, "crawl", spider]
    if spider == "faults":
        cmd += ["-a", f"out={out}", "-s", "SPIDER_MODULES=tests.faults.faultspider"]
    if urls:
        listing = out.with_suffix(".urls")
        listing.write_text("\n".join(urls) + "\n", encoding="utf-8")
        cmd += ["-a", f"urls=@{listing}"]
    for k, v in (args or {}).items():
        cmd += ["-a", f"{k}={v}"]
    merged = {**FAST, "DISPATCHES_DB": str(out.with_suffix(".db")), **(settings or {})}
    for k, v in merged.items():
        cmd += ["-s", f"{k}={v}"]
    return cmd


def read_results(out: Path, db: Path, proc_rc: int, log: str, seconds: float) -> CrawlResult:
    res = CrawlResult(returncode=proc_rc, log=log, db=db, seconds=seconds)
    if out.exists():
        for line in out.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if rec["kind"] == "item":
                res.items.append(rec)
            elif rec["kind"] == "error":
                res.errors.append(rec)
            elif rec["kind"] == "stats":
                res.stats, res.reason = rec["stats"], rec["reason"]
    return res


def _db_of(out: Path, settings: dict | None) -> Path:
    return Path((settings or {}).get("DISPATCHES_DB") or out.with_suffix(".db"))


class RunningCrawl:
    """A crawl started in the background (for signals, overlaps and kills)."""

    def __init__(self, urls, tmp: Path, *, spider="faults", settings=None, args=None, env=None):
        self.out = tmp / f"out-{time.monotonic_ns()}.jsonl"
        self.db = _db_of(self.out, settings)
        self.log_path = self.out.with_suffix(".log")
        cmd = crawl_command(urls, self.out, spider, settings, args)
        self.t0 = time.monotonic()
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=crawl_env(env),
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            text=True,
            start_new_session=True,
        )

    def copies_stored(self) -> int:
        """Copies committed so far (read while the crawl writes)."""
        return len(read_db(self.db, "SELECT id FROM copies"))

    def wait_for(self, predicate, timeout=60.0, poll=0.05) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            if self.proc.poll() is not None:
                return predicate()
            time.sleep(poll)
        return False

    def finish(self, timeout=60.0) -> CrawlResult:
        try:
            rc = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)
            self._log.close()
        return read_results(
            self.out,
            self.db,
            rc,
            self.log_path.read_text(encoding="utf-8", errors="replace"),
            time.monotonic() - self.t0,
        )


def run_crawl(
    urls, tmp: Path, *, spider="faults", settings=None, args=None, env=None, timeout=120
) -> CrawlResult:
    """Run one `scrapy crawl` as a subprocess from the project root and collect what it left."""
    out = tmp / f"out-{time.monotonic_ns()}.jsonl"
    cmd = crawl_command(urls, out, spider, settings, args)
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=crawl_env(env), capture_output=True, text=True, timeout=timeout)
    return read_results(out, _db_of(out, settings), proc.returncode, proc.stderr, time.monotonic() - t0)
