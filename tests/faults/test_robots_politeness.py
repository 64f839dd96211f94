"""robots.txt failures, Crawl-delay and Retry-After (cases 9, 10, 31-35 of tests/faults/CASES.md).

These exercise `crawlers/middlewares/robots.py` and `politeness.py` through the project's
settings and item pipeline, against the fault server: what reaches the server, and what the
database holds afterwards (the pages robots.txt allows, nothing of a host it closes).
"""

from __future__ import annotations

import pytest

from tests.faults.faultkit import run_crawl

UNREACHABLE = ["robots-503", "robots-500html", "robots-hang", "robots-reset"]
# robots.txt answered 5xx: the host blocks us this run; it timed out or was reset: a network error.
ANSWERED = ["robots-503", "robots-500html"]
NETWORK = ["robots-hang", "robots-reset"]
ALLOWING = ["robots-404", "robots-410", "robots-html", "robots-binary"]


@pytest.fixture(scope="module")
def robots(fault_server, tmp_path_factory):
    s = fault_server
    urls = []
    for host in UNREACHABLE + ALLOWING + ["robots-huge", "robots-redirect"]:
        urls += [s.url(host, "/page/a"), s.url(host, "/private/b")]
    res = run_crawl(
        urls,
        tmp_path_factory.mktemp("robots"),
        settings={
            "DISPATCHES_ALLOW_HOSTS": f"*.fault.test:{s.port}",
            "DOWNLOAD_MAXSIZE": str(32 << 20),
            "DOWNLOAD_TIMEOUT": "3",
            "RETRY_TIMES": "1",
        },
    )
    return res


def _pages(server, host):
    return [r["path"] for r in server.requests(f"{host}.fault.test") if r["path"] != "/robots.txt"]


@pytest.mark.parametrize("host", UNREACHABLE)
def test_unreachable_robots_means_no_page_request(robots, fault_server, host):
    """Case 31: 5xx (plain or an HTML error page), a timeout or a reset: the host is not crawled."""
    assert robots.returncode == 0 and robots.reason == "finished"
    assert _pages(fault_server, host) == []
    errors = robots.errors_for(f"{host}.fault.test")
    assert len(errors) == 2 and all(e["error"] == "RobotsUnreachable" for e in errors)
    assert robots.nothing_stored(f"{host}.fault.test")
    stats = robots.crawl_row()["stats"]
    if host in NETWORK:
        assert f"{host}.fault.test unreachable (" in robots.log
        assert f"{host}.fault.test" in stats["network_error"]
        assert f"{host}.fault.test" not in stats["robots_blocked"]
    else:
        assert f"{host}.fault.test is not crawled this run" in robots.log
        assert f"{host}.fault.test" in stats["robots_blocked"]


@pytest.mark.parametrize("host", ALLOWING)
def test_missing_or_garbage_robots_allows(robots, fault_server, host):
    """Cases 32, 33: 404/410 mean allow all; an HTML or binary robots.txt has no rules."""
    assert sorted(_pages(fault_server, host)) == ["/page/a", "/private/b"]
    assert len(robots.items_for(f"{host}.fault.test")) == 2
    assert _stored(robots, host) == ["a", "b"]


def _stored(res, host) -> list[str]:
    """Last path segments of the stored copies of a host."""
    return sorted(c["url"].rsplit("/", 1)[-1] for c in res.copies_for(f"{host}.fault.test"))


def test_robots_run_recorded_degraded_with_blocked_hosts(robots):
    """Case 31: a run with hosts closed by robots.txt is recorded as degraded, naming them."""
    crawl = robots.crawl_row()
    assert crawl["status"] == "degraded" and crawl["finished_at"]
    assert set(crawl["stats"]["robots_blocked"]) == {f"{h}.fault.test" for h in ANSWERED}
    assert set(crawl["stats"]["network_error"]) == {f"{h}.fault.test" for h in NETWORK}


def test_huge_robots_parsed_without_memory_spike(robots, fault_server):
    """Case 33: a 10 MiB robots.txt: the rules it starts with apply; memory stays flat."""
    assert _pages(fault_server, "robots-huge") == ["/page/a"]
    assert robots.stats["memusage/max"] < 400 * 1024 * 1024
    assert _stored(robots, "robots-huge") == ["a"]


def test_robots_redirect_to_other_host_decided_and_logged(robots, fault_server):
    """Case 35: a robots.txt 301 to another host is followed within the redirect limits (Scrapy's
    choice, RFC 9309 2.3.1.2 allows five hops); the other host's allow-all applies."""
    assert "/robots.txt" in [r["path"] for r in fault_server.requests("other.fault.test")]
    assert sorted(_pages(fault_server, "robots-redirect")) == ["/page/a", "/private/b"]
    assert _stored(robots, "robots-redirect") == ["a", "b"]


def test_disallow_with_several_waiting_requests(fault_server, tmp_path):
    """Case 34: several requests queued behind one robots.txt fetch all obey its Disallow."""
    s = fault_server
    urls = [s.url("robots-disallow2", f"/page/w{i}") for i in range(2)] + [
        s.url("robots-disallow2", f"/private/w{i}") for i in range(3)
    ]
    res = run_crawl(urls, tmp_path, settings={"DISPATCHES_ALLOW_HOSTS": f"*.fault.test:{s.port}"})
    paths = [r["path"] for r in s.requests("robots-disallow2.fault.test") if r["path"] != "/robots.txt"]
    assert not [p for p in paths if p.startswith("/private/")], paths
    assert _stored(res, "robots-disallow2") == ["w0", "w1"]


def test_disallow_and_crawl_delay(fault_server, tmp_path):
    """Case 34: disallowed paths are never requested; requests to the host are >= Crawl-delay (2 s)
    apart."""
    s = fault_server
    # The disallowed URL first: it is the request that triggers the robots.txt fetch (the test
    # above covers the requests that wait behind it).
    urls = [s.url("robots-disallow", "/private/x")] + [
        s.url("robots-disallow", f"/page/d{i}") for i in range(2)
    ]
    res = run_crawl(urls, tmp_path, settings={"DISPATCHES_ALLOW_HOSTS": f"*.fault.test:{s.port}"})
    reqs = [r for r in s.requests("robots-disallow.fault.test") if r["path"] != "/robots.txt"]
    assert sorted(r["path"] for r in reqs) == ["/page/d0", "/page/d1"]
    times = sorted(r["time"] for r in reqs)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 1.9, gaps
    assert res.stats.get("dispatches/crawl_delay/robots-disallow.fault.test") == 2
    assert _stored(res, "robots-disallow") == ["d0", "d1"]
    assert res.crawl_row()["stats"]["crawl_delay"] == {"robots-disallow.fault.test": 2}


@pytest.fixture(scope="module")
def retry_after(fault_server, tmp_path_factory):
    """One crawl, three hosts: Retry-After in seconds, as an HTTP date, and garbage."""
    s = fault_server
    first = {
        "ra-seconds": "/ratelimit/s?retry_after=3",
        "ra-httpdate": "/ratelimit/d?retry_after_date=4",
        "ra-garbage": "/ratelimit/g?retry_after=soon-ish",
    }
    urls = []
    for host, path in first.items():
        urls += [s.url(host, path)] + [s.url(host, f"/page/{host}-after-{i}") for i in range(2)]
    # DOWNLOAD_DELAY 0.5: without a pause the next request to a host would follow within 0.5 s.
    res = run_crawl(
        urls,
        tmp_path_factory.mktemp("retry_after"),
        settings={
            "DISPATCHES_ALLOW_HOSTS": f"*.fault.test:{s.port}",
            "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
            "DOWNLOAD_DELAY": "0.5",
            "DISPATCHES_RETRY_BACKOFF": "1.5",
        },
    )
    return res


def _gap_after_first(server, host) -> float:
    reqs = sorted(
        (r for r in server.requests(f"{host}.fault.test") if r["path"] != "/robots.txt"),
        key=lambda r: r["time"],
    )
    first = next(r for r in reqs if r["path"].startswith("/ratelimit/"))
    later = [r["time"] for r in reqs if r["time"] > first["time"]]
    assert later, reqs
    return min(later) - first["time"]


@pytest.mark.parametrize("host,at_least", [("ra-seconds", 2.9), ("ra-httpdate", 2.0)])
def test_retry_after_pauses_the_host(retry_after, fault_server, host, at_least):
    """Cases 9, 10: after a 429 with Retry-After (seconds, or an HTTP date), no request reaches that
    host inside the window; then the page and the others are fetched once each."""
    assert _gap_after_first(fault_server, host) >= at_least
    assert len(retry_after.items_for(f"{host}.fault.test")) == 3
    _three_pages_stored_not_the_429(retry_after, host)


def _three_pages_stored_not_the_429(res, host) -> None:
    copies = res.copies_for(f"{host}.fault.test")
    assert len(copies) == 3 and all(c["http_status"] == 200 for c in copies)
    assert not [c for c in copies if "slow down" in c["a_text"]]


def test_garbage_retry_after_backs_off_without_crash(retry_after, fault_server):
    """Case 10: an unusable Retry-After is logged and replaced by the default backoff, never 0."""
    assert "Unusable Retry-After" in retry_after.log
    assert _gap_after_first(fault_server, "ra-garbage") >= 1.4
    assert len(retry_after.items_for("ra-garbage.fault.test")) == 3
    _three_pages_stored_not_the_429(retry_after, "ra-garbage")


def test_retry_after_beyond_cap_defers_host(fault_server, tmp_path):
    """Case 9: Retry-After above DISPATCHES_MAX_RETRY_AFTER: the host is left for the next run."""
    s = fault_server
    urls = [s.url("ra-long", "/ratelimit/long?retry_after=120")] + [
        s.url("ra-long", f"/page/x{i}") for i in range(3)
    ]
    res = run_crawl(
        urls,
        tmp_path,
        settings={
            "DISPATCHES_ALLOW_HOSTS": f"*.fault.test:{s.port}",
            "CONCURRENT_REQUESTS": "1",
            "DISPATCHES_MAX_RETRY_AFTER": "10",
        },
    )
    reqs = [r for r in s.requests("ra-long.fault.test") if r["path"] != "/robots.txt"]
    assert [r["path"] for r in reqs] == ["/ratelimit/long"]
    assert res.seconds < 30
    assert "deferred to the next run" in res.log
    assert res.nothing_stored("ra-long.fault.test")
    crawl = res.crawl_row()
    assert crawl["status"] == "degraded" and crawl["stats"]["deferred"] == ["ra-long.fault.test"]
