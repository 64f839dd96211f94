"""Helpers of the fault suite: the fault server subprocess and `scrapy` crawl runners.

(A module of its own, not conftest.py, so test modules import it by a name no other test
directory uses.)
"""

from __future__ import annotations

import json
import os
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
    "TWISTED_DNS_RESOLVER": "faultspider.FakeResolver",
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


@dataclass
class CrawlResult:
    returncode: int
    log: str
    items: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    reason: str | None = None
    seconds: float = 0.0
    max_rss_kb: int = 0

    def items_for(self, host: str) -> list[dict]:
        """Items whose URL (or final URL) is on exactly this host."""
        return [i for i in self.items if _host(i["url"]) == host or _host(i["final_url"]) == host]

    def errors_for(self, host: str) -> list[dict]:
        return [e for e in self.errors if _host(e["url"]) == host]


def _host(url: str | None) -> str | None:
    try:
        return urlsplit(url or "").hostname
    except ValueError:
        return None


def crawl_env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT), env.get("PYTHONPATH", "")])
    env.update(extra or {})
    return env


SPIDER_FILES = {"faults": HERE / "faultspider.py"}


def crawl_command(
    urls,
    out: Path,
    spider="faults",
    settings: dict | None = None,
    args: dict | None = None,
    via_crawl: bool = False,
):
    """`scrapy runspider` of a test spider (project settings apply; the project's own `crawl`
    command and spiders are not involved), or, with ``via_crawl``, the project's `scrapy crawl`
    command (run lock, database checks, exit status) running the test spider."""
    if via_crawl:
        cmd = [SCRAPY, "crawl", spider, "-a", f"out={out}", "-s", "SPIDER_MODULES=faultspider"]
    elif spider in SPIDER_FILES:
        cmd = [SCRAPY, "runspider", str(SPIDER_FILES[spider]), "-a", f"out={out}"]
    else:
        cmd = [SCRAPY, "crawl", spider]  # a project spider: results are in its database
    if urls:
        listing = out.with_suffix(".urls")
        listing.write_text("\n".join(urls) + "\n", encoding="utf-8")
        cmd += ["-a", f"urls=@{listing}"]
    for k, v in (args or {}).items():
        cmd += ["-a", f"{k}={v}"]
    for k, v in {**FAST, **(settings or {})}.items():
        cmd += ["-s", f"{k}={v}"]
    return cmd


def read_results(out: Path, proc_rc: int, log: str, seconds: float) -> CrawlResult:
    res = CrawlResult(returncode=proc_rc, log=log, seconds=seconds)
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


class RunningCrawl:
    """A crawl started in the background (for signals, overlaps and kills)."""

    def __init__(
        self, urls, tmp: Path, *, spider="faults", settings=None, args=None, env=None, via_crawl=True
    ):
        self.out = tmp / f"out-{time.monotonic_ns()}.jsonl"
        self.log_path = self.out.with_suffix(".log")
        cmd = crawl_command(urls, self.out, spider, settings, args, via_crawl=via_crawl)
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

    def items_recorded(self) -> int:
        if not self.out.exists():
            return 0
        return sum(
            1 for line in self.out.read_text(encoding="utf-8").splitlines() if '"kind": "item"' in line
        )

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
            rc,
            self.log_path.read_text(encoding="utf-8", errors="replace"),
            time.monotonic() - self.t0,
        )


def run_crawl(
    urls, tmp: Path, *, spider="faults", settings=None, args=None, env=None, timeout=120, via_crawl=False
) -> CrawlResult:
    """Run one crawl as a subprocess from the project root and collect what it recorded."""
    out = tmp / f"out-{time.monotonic_ns()}.jsonl"
    cmd = crawl_command(urls, out, spider, settings, args, via_crawl=via_crawl)
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=crawl_env(env), capture_output=True, text=True, timeout=timeout)
    return read_results(out, proc.returncode, proc.stderr, time.monotonic() - t0)
