"""Never more requests in flight per host than the per-host limit, whatever the download delay.

Real `scrapy crawl state_gov` subprocesses go through the fixture proxy to a www.state.gov that
answers every request after a pause, so requests pile up in the host's download slot. The fixture
server counts the requests it is answering per host; the most at once is compared with the limit.
A request counts from its arrival until its answer starts, so the server never sees more than
the crawler has in flight.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crawlers.settings import CONCURRENT_REQUESTS_PER_DOMAIN
from tests.fixtures.web.fixtureweb import FixtureWeb

ROOT = Path(__file__).resolve().parents[1]

HOST = "www.state.gov"
PAUSE = 0.2  # seconds before each answer of HOST: long enough for requests to queue up
MIN_PAGES = 40
STOCK_DOWNLOADER = "scrapy.core.downloader.Downloader"
# How `scrapy demo`, the crawl tests and the benchmarks run: AutoThrottle would otherwise keep a
# delay of about one answer time, which also starts one request at a time.
NO_DELAY = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False"}


@pytest.fixture(scope="module")
def web():
    with FixtureWeb(scale=1, phase=1, crawl_delay=0) as w:
        yield w


def control(web: FixtureWeb, path: str, payload: object = None) -> object:
    data = None if payload is None else json.dumps(payload).encode()
    status, _, body = web.fetch(f"http://fixture.control{path}", method="POST" if data else "GET", data=data)
    assert status == 200, body
    return json.loads(body)


def crawl_peak(web: FixtureWeb, db: Path, settings: dict[str, str], limit: int | None = None) -> int:
    """Crawl www.state.gov with `settings` over the project's (at most `limit` articles); the most
    requests the host answered at once."""
    web.reset()
    control(web, "/slow", {"host": HOST, "path": "*", "delay": PAUSE})
    cmd = [sys.executable, "-m", "scrapy", "crawl", "state_gov"]
    if limit is not None:
        cmd += ["-a", f"limit={limit}"]
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    env = web.env()
    env["DISPATCHES_DB"] = str(db)
    env.pop("DISPATCHES_DOWNLOAD_DELAY", None)  # "the defaults" means settings.py's, not the caller's
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    pages = [r for r in web.requests() if r["host"] == HOST and r["status"] == 200]
    assert len(pages) >= min(MIN_PAGES, limit or MIN_PAGES), f"only {len(pages)} pages of {HOST} fetched"
    counts = control(web, "/inflight")
    assert isinstance(counts, dict) and counts["now"].get(HOST) == 0, counts
    return int(counts["peak"][HOST])


@pytest.mark.parametrize(
    ("settings", "limit", "reached"),
    [
        pytest.param(NO_DELAY, CONCURRENT_REQUESTS_PER_DOMAIN, True, id="delay-0"),
        pytest.param({**NO_DELAY, "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}, 1, True, id="one-per-host"),
        pytest.param(
            {**NO_DELAY, "DOWNLOAD_SLOTS": json.dumps({HOST: {"concurrency": 3}})},
            3,
            True,
            id="download-slots",
        ),
        # 1 s delay and AutoThrottle: the host sees one request at a time, not necessarily the
        # limit. A second apiece, so a dozen articles show it (the others need the queue full).
        pytest.param({}, CONCURRENT_REQUESTS_PER_DOMAIN, False, id="defaults"),
    ],
)
def test_requests_in_flight_per_host_stay_within_the_limit(web, tmp_path, settings, limit, reached):
    peak = crawl_peak(web, tmp_path / "d.db", settings, limit=None if settings else 12)
    assert peak <= limit, f"{peak} requests in flight at {HOST} at once (limit {limit})"
    if reached:  # with no delay the queue is full: the limit is used, not undercut
        assert peak == limit


def test_scrapys_own_downloader_still_overshoots(web, tmp_path):
    """The same crawl with Scrapy's downloader shows the bug our DOWNLOADER works around.

    When this fails after a Scrapy upgrade, Scrapy counts requests before it starts them:
    drop the DOWNLOADER line of crawlers/settings.py and crawlers/downloader.py
    (docs/scrapy-inflight.md).
    """
    peak = crawl_peak(web, tmp_path / "d.db", {**NO_DELAY, "DOWNLOADER": STOCK_DOWNLOADER})
    assert peak > CONCURRENT_REQUESTS_PER_DOMAIN, (
        f"Scrapy's downloader kept {HOST} to {peak} request(s) at once: the upstream bug seems fixed"
    )
