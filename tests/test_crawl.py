"""The spiders end to end: `scrapy crawl` subprocesses against the fixture web through the proxy
variables, into a real SQLite file, checked against the server's request log and the database.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.web.fixtureweb import FixtureWeb

ROOT = Path(__file__).resolve().parents[1]

FAST = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "DISPATCHES_MAX_CRAWL_DELAY": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "4",
    "RETRY_TIMES": "1",
    "DISPATCHES_RETRY_BACKOFF": "0.2",
    "LOG_LEVEL": "INFO",
    "DISPATCHES_CLEAN_WORKERS": "1",  # scale 1 needs no second worker; saves a trafilatura start-up per crawl
}
STATE = "www.state.gov"
ARCHIVE = "2021-2025.state.gov"


def crawl(web, db, spider, args=(), settings=None, timeout=120, env_extra=None, wait=True):
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider]
    for a in args:
        cmd += ["-a", a]
    for k, v in {**FAST, **(settings or {})}.items():
        cmd += ["-s", f"{k}={v}"]
    env = web.env()
    env["DISPATCHES_DB"] = str(db)
    env.update(env_extra or {})
    if not wait:
        return subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def q(db, sql, *params):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def last_crawl(db):
    spider, status, stats = q(db, "select spider, status, stats from crawls order by id desc limit 1")[0]
    return status, json.loads(stats)


def article_fetches(requests, host=None, status=200):
    """GETs of article pages (not robots, REST, sitemaps, feeds, listings) answered with `status`."""
    out = []
    for r in requests:
        p = r["path"]
        if host and r["host"] != host:
            continue
        if (
            p.startswith(("/robots.txt", "/wp-json", "/press-releases", "/category/", "/rss-feed"))
            or "sitemap" in p
            or p.endswith("/feed/")
            or p == "/"
        ):
            continue
        if status is None or r["status"] == status:
            out.append(r)
    return out


@pytest.fixture(scope="module")
def web():
    with FixtureWeb(scale=1, phase=1, crawl_delay=0) as w:
        yield w


@pytest.fixture
def fresh(web):
    web.reset()
    yield web
    web.reset()


def assert_ok(proc):
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_scrapy_list():
    out = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.split() == ["originals", "state_gov", "syndication", "usembassy", "wayback"]


def test_state_gov_rest_then_incremental_recrawl(fresh, tmp_path):
    web, db = fresh, tmp_path / "d.db"
    proc = crawl(web, db, "state_gov", ["archives=" + ARCHIVE])
    assert_ok(proc)
    status, stats = last_crawl(db)
    assert status == "ok", stats
    assert stats["discovery"] == {STATE: "rest", ARCHIVE: "sitemap"}
    # the cleaner pool's own record: workers started (DISPATCHES_CLEAN_WORKERS, none crashed)
    assert stats["cleaner"]["workers_started"] == 1, stats["cleaner"]
    man = web.manifest()
    official = {c["url"] for s in man["statements"] for c in s["copies"] if c["site"] == STATE}
    stored = {u for (u,) in q(db, "select url from copies where site = ?", STATE)}
    missing = {u for u in official if u not in stored}
    assert not missing, missing
    assert stats["pages_fetched"] >= len(official) and stats["articles_new"] > 0
    # the REST API was paged with _fields and the user agent names the project
    rest = [r for r in web.requests() if r["path"].startswith("/wp-json/wp/v2/state_press_release")]
    assert rest and all("_fields=" in r["url"] for r in rest)
    assert all("Dispatches" in r["headers"].get("user-agent", "") for r in rest)

    # Re-crawl of the unchanged site: REST modified_gmt / sitemap lastmod say nothing changed
    # -> no article page is fetched in full.
    web.clear_requests()
    proc = crawl(web, db, "state_gov", ["archives=" + ARCHIVE])
    assert_ok(proc)
    status, stats2 = last_crawl(db)
    assert status == "ok"
    assert article_fetches(web.requests()) == []
    assert stats2["articles_new"] == 0 and stats2["copies_new"] == 0
    assert q(db, "select count(*) from copies")[0][0] == len(stored) + len(
        {u for (u,) in q(db, "select url from copies where site = ?", ARCHIVE)}
    )


def test_conditional_get_gives_304_and_soft_block_keeps_good_copy(fresh, tmp_path):
    """Listing discovery has no lastmod: known pages are asked for with If-None-Match -> 304."""
    web, db = fresh, tmp_path / "d.db"
    web.add_fault(STATE, "/wp-json/*", status=404, times=None)
    web.add_fault(STATE, "/sitemap_index.xml", status=404, times=None)
    assert_ok(crawl(web, db, "state_gov", ["limit=6"]))
    status, stats = last_crawl(db)
    assert stats["discovery"] == {STATE: "listing"} and stats["pages_fetched"] == 6
    texts = dict(q(db, "select c.url, a.text from copies c join articles a on a.id = c.article_id"))
    victim = sorted(texts)[0]
    from urllib.parse import urlsplit

    web.add_fault(STATE, urlsplit(victim).path, soft_block=True, times=None)
    web.clear_requests()
    assert_ok(crawl(web, db, "state_gov", ["limit=6"]))
    status, stats = last_crawl(db)
    reqs = article_fetches(web.requests(), STATE, status=None)
    conditional = [r for r in reqs if "if-none-match" in r["headers"]]
    assert len(conditional) >= 5
    assert stats["not_modified"] >= 5
    assert stats["soft_blocks_by_host"].get(STATE, 0) >= 1
    assert stats["articles_new"] == 0
    after = dict(q(db, "select c.url, a.text from copies c join articles a on a.id = c.article_id"))
    assert after[victim] == texts[victim]
    events = q(db, "select reason from events where reason like '%soft%'")
    assert events


@pytest.mark.parametrize(
    "faults, expected",
    [
        (
            {
                STATE: [("/wp-json/*", dict(soft_block=True))],
                ARCHIVE: [("/sitemap_index.xml", dict(status=503))],
            },
            {STATE: "sitemap", ARCHIVE: "listing"},
        ),
        (
            {
                STATE: [
                    ("/wp-json/*", dict(status=200, body="<!DOCTYPE html><html><body>Sign in</body></html>")),
                    ("/sitemap_index.xml", dict(status=404)),
                    ("/press-releases/", dict(status=500)),
                ],
                ARCHIVE: [
                    ("/sitemap_index.xml", dict(status=200, body="<html><body>Maintenance</body></html>")),
                    ("/press-releases/", dict(status=404)),
                ],
            },
            {STATE: "feed", ARCHIVE: "feed"},
        ),
    ],
    ids=["rest-soft-block->sitemap,sitemap-503->listing", "rest-html,sitemap-404,listing-500->feed"],
)
def test_discovery_fallbacks(fresh, tmp_path, faults, expected):
    web, db = fresh, tmp_path / "d.db"
    for host, host_faults in faults.items():
        for path, kw in host_faults:
            web.add_fault(host, path, times=None, **kw)
    proc = crawl(web, db, "state_gov", ["archives=" + ARCHIVE, "limit=4"], settings={"RETRY_TIMES": "0"})
    assert_ok(proc)
    status, stats = last_crawl(db)
    assert stats["discovery"] == expected
    assert status == "ok"
    assert q(db, "select count(*) from copies")[0][0] == 4
    assert "falling back to" in proc.stderr


def test_all_discovery_broken_is_a_failed_run(fresh, tmp_path):
    web, db = fresh, tmp_path / "d.db"
    for path in ("/wp-json/*", "/sitemap_index.xml", "/press-releases/*", "/rss-feed/*"):
        web.add_fault(STATE, path, status=500, times=None)
    proc = crawl(web, db, "state_gov", settings={"RETRY_TIMES": "0"})
    assert proc.returncode == 1
    status, stats = last_crawl(db)
    assert status == "failed" and stats["discovery_failed"] == [STATE]


def test_robots_unreachable_means_host_not_crawled(fresh, tmp_path):
    web, db = fresh, tmp_path / "d.db"
    web.add_fault("ca.usembassy.gov", "/robots.txt", status=503, times=None)
    proc = crawl(
        web, db, "usembassy", ["hosts=ca.usembassy.gov,mx.usembassy.gov"], settings={"RETRY_TIMES": "0"}
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ca.usembassy.gov is not crawled this run" in proc.stderr
    ca = [r for r in web.requests() if r["host"] == "ca.usembassy.gov"]
    assert [r["path"] for r in ca] == ["/robots.txt"]
    status, stats = last_crawl(db)
    assert status == "degraded" and stats["robots_blocked"] == ["ca.usembassy.gov"]
    # the other host is crawled in full, translations included (stored as embassy copies)
    assert stats["discovery"] == {"mx.usembassy.gov": "sitemap", "ca.usembassy.gov": "none"}
    man = web.manifest()
    want = {c["url"] for s in man["statements"] for c in s["copies"] if c["site"] == "mx.usembassy.gov"}
    assert {u for (u,) in q(db, "select url from copies")} == want
    assert man["translations"]
    for t in man["translations"]:
        assert q(db, "select role, language, translation_of from copies where url = ?", t["url"]) == [
            ("embassy", t["language"], t["original_url"])
        ]


def test_retry_after_pauses_the_host(fresh, tmp_path):
    web, db = fresh, tmp_path / "d.db"
    man = web.manifest()
    url = next(c["url"] for s in man["statements"] for c in s["copies"] if c["site"] == "worldwire.example")
    from urllib.parse import urlsplit

    path = urlsplit(url).path
    web.add_fault("worldwire.example", path, status=429, headers={"Retry-After": "2"}, times=1)
    # one request at a time, so no request is already in flight when the 429 arrives
    proc = crawl(web, db, "syndication", ["sources=demo"], settings={"CONCURRENT_REQUESTS_PER_DOMAIN": "1"})
    assert_ok(proc)
    reqs = [r for r in web.requests() if r["host"] == "worldwire.example"]
    first = next(i for i, r in enumerate(reqs) if r["path"] == path)
    t429 = reqs[first]["time"]
    assert reqs[first]["status"] == 429
    later = [r for r in reqs[first + 1 :]]
    assert later, "nothing after the 429"
    # nothing reached the host inside the Retry-After window
    assert min(r["time"] for r in later) - t429 >= 1.9
    assert q(db, "select count(*) from copies where url = ?", url)[0][0] == 1
    # both fixture aggregators, through their feeds and sitemaps, stored as syndicated copies
    status, stats = last_crawl(db)
    assert status == "ok" and set(stats["discovery"]) == {"policy-digest.example", "worldwire.example"}
    assert dict(q(db, "select role, count(*) from copies group by role")).keys() <= {
        "syndicated",
        "original",
        "embassy",
        "archive",
    }
    assert q(db, "select count(*) from copies where role = 'syndicated'")[0][0] >= 10


def test_phase2_edit_and_move_picked_up(fresh, tmp_path):
    web, db = fresh, tmp_path / "d.db"
    assert_ok(crawl(web, db, "state_gov"))
    web.set_phase(2)
    man = web.manifest()
    # A stale sitemap still lists the moved page's old URL: the 301 is followed, the old copy
    # is marked gone and the new URL joins the same article.
    stale = "".join(f"<url><loc>{m['old_url']}</loc></url>" for m in man["moved"])
    web.add_fault(
        STATE,
        "/stale-sitemap.xml",
        status=200,
        times=None,
        headers={"Content-Type": "application/xml"},
        body=f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{stale}</urlset>',
    )
    assert_ok(crawl(web, db, "syndication", [f"sitemaps=https://{STATE}/stale-sitemap.xml"]))
    for m in man["moved"]:
        hops = [r for r in web.requests() if r["url"].endswith(m["old_url"].split("://", 1)[1])]
        assert hops and hops[-1]["status"] == 301
        new = q(db, "select article_id, gone from copies where url = ?", m["new_url"])
        old = q(db, "select article_id, gone from copies where url = ?", m["old_url"])
        assert new and new[0][1] == 0
        assert old == [] or (old[0][0] == new[0][0] and old[0][1] == 1), (old, new)
    web.clear_requests()
    assert_ok(crawl(web, db, "state_gov"))
    status, stats = last_crawl(db)
    assert status == "ok"
    assert stats["versions_new"] >= 1 or stats["copies_new"] >= 1
    for sid in man["edited"]:
        s = next(s for s in man["statements"] if s["id"] == sid)
        new_text = man["edited_texts"][sid]["2"].split("\n\n")[-1][:60]
        (text,) = q(
            db,
            "select a.text from articles a join copies c on c.article_id = a.id where c.url = ?",
            s["official_url"],
        )[0]
        assert new_text.split()[0] in text
        assert (
            q(
                db,
                "select count(*) from versions v join copies c on c.article_id = v.article_id "
                "where c.url = ?",
                s["official_url"],
            )[0][0]
            >= 2
        )
    for m in man["moved"]:
        assert q(db, "select count(*) from copies where url = ?", m["new_url"])[0][0] == 1
    for sid in man["phase2_additions"]:
        s = next(s for s in man["statements"] if s["id"] == sid)
        if any(c["site"] == STATE for c in s["copies"]):
            assert q(db, "select count(*) from copies where url = ?", s["official_url"])[0][0] == 1
    # only the changed pages were fetched in full
    full = article_fetches(web.requests(), STATE)
    assert len(full) <= len(man["edited"]) + len(man["moved"]) + len(man["phase2_additions"]) + 2


def test_run_lock_second_run_exits(fresh, tmp_path):
    from crawlers.runlock import run_lock

    db = tmp_path / "d.db"
    with run_lock(db):  # held for the whole second run: a run that waited for it would never end
        proc = crawl(fresh, db, "state_gov", ["limit=1"])
    assert proc.returncode == 75
    assert "another run is using" in proc.stderr
    assert not [r for r in fresh.requests() if r["host"] == STATE]


def test_kill9_mid_run_then_resume(fresh, tmp_path):
    """SIGKILL once some copies are committed; the rerun ends with exactly the set an
    uninterrupted run stores (= the fixture's ground truth, see the first test), no duplicates."""
    web = fresh
    man = web.manifest()
    want = sorted({c["url"] for s in man["statements"] for c in s["copies"] if c["site"] in (STATE, ARCHIVE)})
    db = tmp_path / "d.db"
    slow = {"DOWNLOAD_DELAY": "0.15", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}
    proc = crawl(web, db, "state_gov", ["archives=" + ARCHIVE], settings=slow, wait=False)
    deadline = time.monotonic() + 90
    n = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                n = q(db, "select count(*) from copies")[0][0]
            except sqlite3.OperationalError:
                n = 0
            if n >= 5:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 5 <= n < len(want), (n, len(want))
    assert q(db, "select status from crawls order by id")[-1] == ("running",)
    assert_ok(crawl(web, db, "state_gov", ["archives=" + ARCHIVE]))
    got = [u for (u,) in q(db, "select url from copies order by url")]
    assert got == want  # nothing lost, nothing twice
    for s in man["statements"]:
        urls = [c["url"] for c in s["copies"] if c["site"] in (STATE, ARCHIVE)]
        if urls:
            marks = ",".join("?" * len(urls))
            assert len(q(db, f"select distinct article_id from copies where url in ({marks})", *urls)) == 1, (
                s["id"]
            )
    assert q(db, "select status from crawls order by id")[-1] == ("ok",)


def test_crawl_delay_spacing(tmp_path):
    """robots.txt Crawl-delay: 1 -> consecutive requests to one host at least ~1 s apart."""
    with FixtureWeb(scale=1, phase=1, crawl_delay=1) as web:
        db = tmp_path / "d.db"
        proc = crawl(
            web,
            db,
            "usembassy",
            ["hosts=ca.usembassy.gov", "limit=3"],
            settings={
                "DISPATCHES_MAX_CRAWL_DELAY": "5",
                "CONCURRENT_REQUESTS_PER_DOMAIN": "2",
                # AutoThrottle on, as in production: it must not lower the delay below the floor
                "AUTOTHROTTLE_ENABLED": "True",
                "AUTOTHROTTLE_START_DELAY": "0.1",
            },
        )
        assert_ok(proc)
        times = sorted(r["time"] for r in web.requests() if r["host"] == "ca.usembassy.gov")
        assert len(times) >= 4
        gaps = [b - a for a, b in zip(times[1:], times[2:], strict=False)]  # after robots.txt was read
        assert min(gaps) >= 0.9, gaps


def test_bad_argument_and_bad_database_are_one_line(tmp_path):
    env = dict(os.environ, DISPATCHES_DB=str(tmp_path / "x.db"))
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "state_gov", "-a", "since=last-week"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip().splitlines()[-1]
        == "dispatches: -a since='last-week': expected a date like 2024-01-31"
    )
    assert "Traceback" not in proc.stderr
    bad = tmp_path / "notadb.db"
    bad.write_bytes(b"this is not a database, just text" * 100)
    env["DISPATCHES_DB"] = str(bad)
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "state_gov"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("dispatches: ") and "Traceback" not in proc.stderr
    assert bad.read_bytes().startswith(b"this is not a database")


def test_sigterm_mid_run_is_interrupted_and_nonzero(fresh, tmp_path):
    """SIGTERM (cron timeout, systemd stop): in-flight pages finish, the crawls row says
    interrupted, the exit status is non-zero, and the next run completes the work."""
    web, db = fresh, tmp_path / "d.db"
    # Slow enough that pages still arrive one by one after the cleaner processes have started
    # (pages that queue up meanwhile are saved together, in one transaction).
    slow = {"DOWNLOAD_DELAY": "1", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"}
    proc = crawl(web, db, "usembassy", ["hosts=mx.usembassy.gov"], settings=slow, wait=False)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if db.exists() and q(db, "select count(*) from copies")[0][0] >= 2:
                break
        except sqlite3.OperationalError:
            pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 1, err[-2000:]
    status, stats = last_crawl(db)
    assert status == "interrupted" and stats["finish_reason"] == "shutdown"
    assert_ok(crawl(web, db, "usembassy", ["hosts=mx.usembassy.gov"]))
    assert last_crawl(db)[0] == "ok"
    man = web.manifest()
    want = {c["url"] for s in man["statements"] for c in s["copies"] if c["site"] == "mx.usembassy.gov"}
    assert {u for (u,) in q(db, "select url from copies")} == want


def test_topic_and_since_narrow_the_crawl(fresh, tmp_path):
    web, db = fresh, tmp_path / "d.db"
    man = web.manifest()
    on_state = [s for s in man["statements"] if any(c["site"] == STATE for c in s["copies"])]
    since = sorted(s["published"] for s in on_state)[len(on_state) // 3]
    assert_ok(crawl(web, db, "state_gov", ["topic=trafficking,forced labor", f"since={since}"]))
    rows = q(db, "select a.title, a.text, a.published from copies c join articles a on a.id = c.article_id")
    assert rows
    for title, text, published in rows:
        assert "traffick" in (title + text).lower() or "forced labor" in (title + text).lower()
        assert published is None or published >= since
    expected = {
        s["official_url"]
        for s in on_state
        if s["published"] >= since
        and ("traffick" in s["title"].lower() or "forced labor" in s["title"].lower())
    }
    stored = {u for (u,) in q(db, "select url from copies")}
    assert expected <= stored
    status, stats = last_crawl(db)
    assert status == "ok"
    assert json.loads(q(db, "select args from crawls")[0][0])["topic"] == "trafficking,forced labor"


def test_robots_disallow_holds_for_every_request_waiting_on_it(fresh, tmp_path):
    """Feed and sitemap requests start together and wait on one robots.txt fetch: all obey it
    (Scrapy 2.19 + asyncio hands None = allow-all to all but the first waiter; robots.py fixes it)."""
    web, db = fresh, tmp_path / "d.db"
    web.add_fault(
        "worldwire.example",
        "/robots.txt",
        status=200,
        times=None,
        headers={"Content-Type": "text/plain"},
        body="User-agent: *\nDisallow: /feed/\nDisallow: /sitemap.xml\n",
        delay=0.5,
    )
    crawl(
        web,
        db,
        "syndication",
        [
            "feeds=https://worldwire.example/feed/,https://worldwire.example/feed/?a=1",
            "sitemaps=https://worldwire.example/sitemap.xml",
        ],
    )
    paths = [r["path"] for r in web.requests() if r["host"] == "worldwire.example"]
    assert paths == ["/robots.txt"], paths
