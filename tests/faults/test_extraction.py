"""Extraction faults in the cleaner worker pool (cases 47, 48 of tests/faults/CASES.md)."""

from __future__ import annotations

from concurrent.futures import wait

from cleaners.model import RawPage, Rejected
from cleaners.pool import CleanerPool
from tests.faults.faulthooks import crash_or_clean
from tests.faults.faultserver import article_html


def page(name: str, body: bytes | None = None) -> RawPage:
    url = f"https://www.state.gov/faults/{name}/"
    return RawPage(
        url=url,
        final_url=url,
        status=200,
        headers={"content-type": "text/html; charset=utf-8"},
        body=body if body is not None else article_html(name).encode(),
        fetched_at="2025-03-04T00:00:00+00:00",
        spider="faults",
        discovered_via="link",
    )


def test_crash_and_hang_cost_one_page_each():
    """Case 47: a worker killed by SIGSEGV -> that page is Rejected("worker_crashed"); a hanging
    extraction -> Rejected("timeout") after the time limit; the pool replaces the worker and
    goes on with the next pages."""
    with CleanerPool(workers=2, timeout=6.0, func=crash_or_clean) as pool:
        futures = {
            name: pool.submit(page(name, body))
            for name, body in [
                ("before", None),
                ("crash", b"<html>CRASH</html>"),
                ("hang", b"<html>HANG</html>"),
                ("after-1", None),
                ("after-2", None),
            ]
        }
        _, not_done = wait(futures.values(), timeout=120)

    def reason(name):
        exc = futures[name].exception()
        return exc.reason if isinstance(exc, Rejected) else exc

    assert reason("crash") == "worker_crashed"
    assert reason("hang") == "timeout"
    for name in ("before", "after-1", "after-2"):
        assert futures[name].result().title
    assert not not_done  # the hang cost its time limit, not the rest of the queue


def test_workers_recycled_after_max_tasks():
    """Case 48: memory creep is bounded by recycling workers every `max_tasks_per_child` pages."""
    pids = set()
    with CleanerPool(workers=1, timeout=10.0, max_tasks_per_child=2, func=crash_or_clean) as pool:
        for i in range(4):
            exc = pool.submit(page(f"pid-{i}", b"<html>PID</html>")).exception(timeout=30)
            pids.add(str(exc).split("pid=")[-1])
    assert len(pids) >= 2
