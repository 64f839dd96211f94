"""CleanerPool: real worker processes; a crash and a hang each cost one page, nothing more."""

import os
import signal
import time

import pytest

from cleaners import CleanConfig
from cleaners.model import Document, RawPage, Rejected
from cleaners.pool import CleanerPool

PAGE = (
    b"<html><head><title>Readout of a Meeting - United States Department of State</title></head><body>"
    b"<article><h1>Readout of a Meeting</h1>"
    + b"".join(
        b"<p>Paragraph %d of a readout written for the pool tests; the Secretary and the Minister "
        b"discussed cooperation on trade, migration and the fight against human trafficking.</p>" % i
        for i in range(6)
    )
    + b"</article></body></html>"
)


def raw(url: str, body: bytes = PAGE) -> RawPage:
    return RawPage(url, url, 200, {"content-type": "text/html"}, body, "2024-01-01T00:00:00+00:00")


def misbehave(page: RawPage):
    """Worker function for these tests: crash, hang, report the pid, or clean for real."""
    url = page.url or ""
    if url.endswith("/segv"):
        os.kill(os.getpid(), signal.SIGSEGV)
    if url.endswith("/exit"):
        os._exit(3)
    if url.endswith("/hang"):
        time.sleep(60)
    if url.endswith("/slow"):
        time.sleep(1.2)
        return os.getpid()
    if url.endswith("/pid"):
        return os.getpid()
    if url.endswith("/echo"):
        return page.body
    from cleaners import clean

    return clean(page)


@pytest.fixture(scope="module")
def pool():
    # generous: the test machine is shared, a real clean can take seconds under load
    p = CleanerPool(workers=2, timeout=60, max_tasks_per_child=3, func=misbehave)
    yield p
    p.close()


def test_real_clean_in_workers_returns_documents():
    with CleanerPool(workers=2, timeout=60) as p:
        futures = [p.submit(raw(f"https://www.state.gov/readout-{i}/")) for i in range(4)]
        docs = [f.result(timeout=120) for f in futures]
    assert all(isinstance(d, Document) for d in docs)
    assert docs[0].title == "Readout of a Meeting"
    assert docs[0].publisher == "U.S. Department of State"
    assert "Paragraph 5 of a readout" in docs[3].text


def test_rejection_travels_back_with_its_reason(pool):
    fut = pool.submit(raw("https://example.org/x.pdf", b"%PDF-1.7\n%binary"))
    with pytest.raises(Rejected) as info:
        fut.result(timeout=120)
    assert info.value.reason == "binary_payload"


@pytest.mark.parametrize("kind", ["segv", "exit"])
def test_crashed_worker_costs_one_page(pool, kind):
    bad = pool.submit(raw(f"https://example.org/{kind}"))
    good = [pool.submit(raw(f"https://example.org/after-{kind}-{i}/pid")) for i in range(3)]
    with pytest.raises(Rejected) as info:
        bad.result(timeout=120)
    assert info.value.reason == "worker_crashed"
    assert all(isinstance(f.result(timeout=120), int) for f in good)


def test_hung_worker_is_killed_at_the_timeout():
    with CleanerPool(workers=1, timeout=2, func=misbehave) as p:
        start = time.monotonic()
        bad = p.submit(raw("https://example.org/hang"))
        after = p.submit(raw("https://example.org/after/pid"))
        with pytest.raises(Rejected) as info:
            bad.result(timeout=60)
        elapsed = time.monotonic() - start
        assert info.value.reason == "timeout"
        assert 1.9 <= elapsed < 30
        # the slot got a fresh worker: the next page is done by another process
        assert isinstance(after.result(timeout=60), int)


def test_workers_are_recycled_after_max_tasks(pool):
    pids = [pool.submit(raw(f"https://example.org/{i}/pid")).result(timeout=120) for i in range(8)]
    # 2 workers x 3 tasks each: eight sequential pages need at least three processes
    assert len(set(pids)) >= 3


def test_close_without_wait_cancels_pending():
    p = CleanerPool(workers=1, timeout=5, func=misbehave)
    first = p.submit(raw("https://example.org/hang"))
    queued = [p.submit(raw(f"https://example.org/{i}/pid")) for i in range(3)]
    time.sleep(0.2)
    p.close(wait=False)
    # a page already waiting in the worker's pipe (prefetch) is failed, the others cancelled;
    # none is left pending
    for f in queued:
        assert f.cancelled() or isinstance(f.exception(timeout=0), Rejected)
    assert first.done()
    with pytest.raises(RuntimeError):
        p.submit(raw("https://example.org/late"))


def test_unpicklable_meta_is_dropped_not_fatal(pool):
    page = RawPage(
        "https://www.state.gov/x/",
        None,
        200,
        {"content-type": "text/html"},
        PAGE,
        "",
        meta={"lastmod": "2024-01-01", "callback": lambda r: r},
    )
    doc = pool.submit(page).result(timeout=120)
    assert isinstance(doc, Document) and doc.title == "Readout of a Meeting"


def test_pages_queued_behind_a_crash_on_one_worker_are_not_lost():
    # one worker, two pages in its pipe at a time: the page behind the crash goes to the fresh worker
    with CleanerPool(workers=1, timeout=60, func=misbehave) as p:
        bad = p.submit(raw("https://example.org/exit"))
        good = [p.submit(raw(f"https://example.org/behind-{i}/pid")) for i in range(3)]
        with pytest.raises(Rejected) as info:
            bad.result(timeout=120)
        assert info.value.reason == "worker_crashed"
        assert all(isinstance(f.result(timeout=120), int) for f in good)
        assert p.stats["worker_crashed"] == 1


def test_time_limit_starts_when_a_page_reaches_the_head_of_its_worker():
    # 1.2 s per page, 2 s limit, two pages sent at once: timed from sending, the second would fail
    with CleanerPool(workers=1, timeout=2, func=misbehave) as p:
        futures = [p.submit(raw(f"https://example.org/{i}/slow")) for i in range(3)]
        pids = [f.result(timeout=60) for f in futures]
    assert len(set(pids)) == 1  # one worker did all three: nothing timed out


def test_prefetch_keeps_order_of_answers_per_worker():
    with CleanerPool(workers=2, timeout=60, prefetch=3, func=misbehave) as p:
        futures = [p.submit(raw(f"https://www.state.gov/readout-{i}/")) for i in range(12)]
        docs = [f.result(timeout=120) for f in futures]
    # each future got its own page's document, whatever worker and queue position it had
    assert [d.url for d in docs] == [f"https://www.state.gov/readout-{i}/" for i in range(12)]


def test_pages_larger_than_the_pipe_do_not_deadlock_the_dispatcher():
    # a 3 MiB page cannot wait in a worker's pipe: it is sent only when the worker is free
    # (a blocking send would keep the dispatcher from reading the 3 MiB answer the worker is writing)
    big = b"x" * (3 << 20)
    with CleanerPool(workers=1, timeout=60, func=misbehave) as p:
        futures = [p.submit(raw(f"https://example.org/big-{i}/echo", big + bytes([i]))) for i in range(3)]
        answers = [f.result(timeout=60) for f in futures]
    assert [a[-1] for a in answers] == [0, 1, 2] and all(len(a) == len(big) + 1 for a in answers)


def test_config_reaches_the_workers():
    page = raw("https://www.state.gov/readout-of-a-meeting/")
    elsewhere = CleanConfig(official_domains=("*.example.gov",))
    with CleanerPool(workers=1, timeout=60, config=elsewhere) as p:
        doc = p.submit(page).result(timeout=120)
    # in the default pool (test above) this page is the State Department's own
    assert doc.title == "Readout of a Meeting" and doc.publisher != "U.S. Department of State"


def test_every_config_field_reaches_the_workers():
    """The extraction path too: a worker cleans exactly as `clean(raw, config)` in this process."""
    from cleaners import clean

    page = raw("https://www.state.gov/readout-of-a-meeting/")
    fast = CleanConfig(extraction="fast")
    with CleanerPool(workers=1, timeout=60, config=fast) as p:
        doc = p.submit(page).result(timeout=120)
    assert doc == clean(page, fast)
    assert doc.extraction == clean(page, fast).extraction
