"""CleanerPool: real worker processes; a crash and a hang each cost one page, nothing more.

Every test runs on both ways of starting workers (forked from the zygote, and one interpreter
each) where the platform has both.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cleaners import CleanConfig
from cleaners._launch import default_start_method
from cleaners.model import Document, RawPage, Rejected
from cleaners.pool import CleanerPool

METHODS = ["zygote", "spawn"] if default_start_method() == "zygote" else ["spawn"]

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


@pytest.fixture(scope="module", params=METHODS)
def method(request):
    return request.param


@pytest.fixture(scope="module")
def pool(method):
    # generous: the test machine is shared, a real clean can take seconds under load
    p = CleanerPool(workers=2, timeout=60, max_tasks_per_child=3, func=misbehave, start_method=method)
    yield p
    p.close()


def test_real_clean_in_workers_returns_documents(method):
    with CleanerPool(workers=2, timeout=60, start_method=method) as p:
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


def test_hung_worker_is_killed_at_the_timeout(method):
    with CleanerPool(workers=1, timeout=2, func=misbehave, start_method=method) as p:
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


def test_close_without_wait_cancels_pending(method):
    p = CleanerPool(workers=1, timeout=5, func=misbehave, start_method=method)
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


def test_pages_queued_behind_a_crash_on_one_worker_are_not_lost(method):
    # one worker, two pages in its pipe at a time: the page behind the crash goes to the fresh worker
    with CleanerPool(workers=1, timeout=60, func=misbehave, start_method=method) as p:
        bad = p.submit(raw("https://example.org/exit"))
        good = [p.submit(raw(f"https://example.org/behind-{i}/pid")) for i in range(3)]
        with pytest.raises(Rejected) as info:
            bad.result(timeout=120)
        assert info.value.reason == "worker_crashed"
        assert all(isinstance(f.result(timeout=120), int) for f in good)
        assert p.stats["worker_crashed"] == 1


def test_time_limit_starts_when_a_page_reaches_the_head_of_its_worker(method):
    # 1.2 s per page, 2 s limit, two pages sent at once: timed from sending, the second would fail
    with CleanerPool(workers=1, timeout=2, func=misbehave, start_method=method) as p:
        futures = [p.submit(raw(f"https://example.org/{i}/slow")) for i in range(3)]
        pids = [f.result(timeout=60) for f in futures]
    assert len(set(pids)) == 1  # one worker did all three: nothing timed out


def test_prefetch_keeps_order_of_answers_per_worker(method):
    with CleanerPool(workers=2, timeout=60, prefetch=3, func=misbehave, start_method=method) as p:
        futures = [p.submit(raw(f"https://www.state.gov/readout-{i}/")) for i in range(12)]
        docs = [f.result(timeout=120) for f in futures]
    # each future got its own page's document, whatever worker and queue position it had
    assert [d.url for d in docs] == [f"https://www.state.gov/readout-{i}/" for i in range(12)]


def test_pages_larger_than_the_pipe_do_not_deadlock_the_dispatcher(method):
    # a 3 MiB page cannot wait in a worker's pipe: it is sent only when the worker is free
    # (a blocking send would keep the dispatcher from reading the 3 MiB answer the worker is writing)
    big = b"x" * (3 << 20)
    with CleanerPool(workers=1, timeout=60, func=misbehave, start_method=method) as p:
        futures = [p.submit(raw(f"https://example.org/big-{i}/echo", big + bytes([i]))) for i in range(3)]
        answers = [f.result(timeout=60) for f in futures]
    assert [a[-1] for a in answers] == [0, 1, 2] and all(len(a) == len(big) + 1 for a in answers)


def test_config_reaches_the_workers(method):
    page = raw("https://www.state.gov/readout-of-a-meeting/")
    elsewhere = CleanConfig(official_domains=("*.example.gov",))
    with CleanerPool(workers=1, timeout=60, config=elsewhere, start_method=method) as p:
        doc = p.submit(page).result(timeout=120)
    # in the default pool (test above) this page is the State Department's own
    assert doc.title == "Readout of a Meeting" and doc.publisher != "U.S. Department of State"


def test_every_config_field_reaches_the_workers(method):
    """The extraction path too: a worker cleans exactly as `clean(raw, config)` in this process."""
    from cleaners import clean

    page = raw("https://www.state.gov/readout-of-a-meeting/")
    fast = CleanConfig(extraction="fast")
    with CleanerPool(workers=1, timeout=60, config=fast, start_method=method) as p:
        doc = p.submit(page).result(timeout=120)
    assert doc == clean(page, fast)
    assert doc.extraction == clean(page, fast).extraction


@pytest.mark.parametrize("kind,code", [("exit", 3), ("segv", -signal.SIGSEGV)])
def test_a_crashed_workers_exit_code_is_reported(method, kind, code):
    with CleanerPool(workers=1, timeout=60, func=misbehave, start_method=method) as p:
        with pytest.raises(Rejected) as info:
            p.submit(raw(f"https://example.org/{kind}")).result(timeout=120)
    assert info.value.reason == "worker_crashed"
    assert info.value.detail == f"exit code {code}"


def test_after_a_time_limit_kill_the_next_page_is_cleaned(method):
    with CleanerPool(workers=1, timeout=2, func=misbehave, start_method=method) as p:
        bad = p.submit(raw("https://example.org/hang"))
        after = p.submit(raw("https://www.state.gov/readout-after-a-hang/"))
        with pytest.raises(Rejected) as info:
            bad.result(timeout=60)
        doc = after.result(timeout=120)
    assert info.value.reason == "timeout"
    assert isinstance(doc, Document) and doc.title == "Readout of a Meeting"


def test_workers_that_cannot_start_break_the_pool_with_a_clear_error(method, monkeypatch):
    monkeypatch.setattr(sys, "executable", "/bin/false")  # the worker (or zygote) exits at once
    p = CleanerPool(workers=1, timeout=60, func=misbehave, start_method=method)
    try:
        # the page waits for a worker until the third failed start breaks the pool
        with pytest.raises(RuntimeError, match="cleaner workers cannot start"):
            p.submit(raw("https://example.org/1/pid")).result(timeout=120)
        assert p.stats["workers_started"] == CleanerPool.MAX_START_FAILURES
    finally:
        p.close(wait=False)


@pytest.mark.skipif("zygote" not in METHODS, reason="no zygote on this platform")
def test_a_dead_zygote_is_replaced_and_its_workers_go_on():
    with CleanerPool(workers=1, timeout=60, func=misbehave, start_method="zygote") as p:
        first = p.submit(raw("https://example.org/first/pid")).result(timeout=120)
        zygote = p.processes()[-1]
        os.kill(zygote, signal.SIGKILL)
        # the worker forked before still answers; the one after its crash comes from a new zygote
        assert p.submit(raw("https://example.org/again/pid")).result(timeout=120) == first
        with pytest.raises(Rejected):
            p.submit(raw("https://example.org/exit")).result(timeout=120)
        assert isinstance(p.submit(raw("https://example.org/new/pid")).result(timeout=120), int)
        assert p.stats["zygotes_started"] == 2


PARENT = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from test_cleaners_pool import misbehave, raw
from cleaners.pool import CleanerPool
pool = CleanerPool(workers=2, timeout=600, func=misbehave, start_method=sys.argv[2])
pids = [pool.submit(raw(f"https://example.org/{i}/pid")).result(timeout=120) for i in range(4)]
if sys.argv[2] == "zygote":  # a worker busy with a page when the parent dies: the zygote kills it
    pool.submit(raw("https://example.org/hang"))
time.sleep(0.5)
print(json.dumps(pool.processes()), flush=True)
time.sleep(600)
"""


def _gone(pid: int) -> bool:
    """No such process, or only its zombie (an orphan init has not reaped yet)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return fields[0] in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_parent_killed_with_sigkill_leaves_no_worker_behind(method):
    # idle workers see EOF on their pipe and exit; the zygote sees EOF on its socket, kills what
    # is left (a worker in the middle of a page) and exits. A worker started as its own
    # interpreter that is busy with a page outlives its parent until the page ends.
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(Path(__file__).parent), method],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p)),
    )
    try:
        line = parent.stdout.readline() if parent.stdout else ""
        pids = json.loads(line)
        assert len(pids) == (3 if method == "zygote" else 2)
        assert not any(_gone(pid) for pid in pids)
        parent.kill()
        parent.wait(60)
        deadline = time.monotonic() + 60
        while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [pid for pid in pids if not _gone(pid)]
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    for pid in left:  # do not leave them to the rest of the suite
        os.kill(pid, signal.SIGKILL)
    assert left == []


def test_workers_start_without_numpy_and_still_tell_spanish_from_english():
    """A worker's start imports the cleaners and cleans a page; trafilatura's language filter
    (py3langid, and numpy with it) is not part of that, yet a Spanish page still gets its
    language."""
    code = (
        "import sys\n"
        "from cleaners._zygote import warm_up\n"
        "warm_up()\n"
        "print('numpy' in sys.modules, 'py3langid' in sys.modules)\n"
        "from test_cleaners_pool import SPANISH, raw\n"
        "from cleaners import clean\n"
        "print(clean(raw('https://mx.usembassy.gov/es/declaracion/', SPANISH)).language)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.getcwd()])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "False", "es"]


SPANISH = (
    "<html><head><title>Declaración de la Embajada</title></head><body><article>"
    "<h1>Declaración de la Embajada</h1>"
    "<p>La Embajada de los Estados Unidos anuncia hoy un programa de cooperación con el gobierno "
    "para combatir la trata de personas en la región fronteriza.</p>"
    "<p>El embajador se reunió con las autoridades locales y con organizaciones de la sociedad "
    "civil que atienden a las víctimas en los albergues de la ciudad.</p>"
    "<p>Ambos gobiernos acordaron compartir información y capacitar a los fiscales que llevan "
    "estos casos ante los tribunales durante el próximo año.</p>"
    "</article></body></html>"
).encode()
