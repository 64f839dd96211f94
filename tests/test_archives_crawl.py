"""Older statements end to end: `scrapy crawl originals`, `scrapy crawl wayback` and the archive
templates, against the fixture web (its mock web.archive.org included) into real SQLite files,
checked against the server's request log."""

from __future__ import annotations

from datetime import date

import pytest

from cleaners import clean
from cleaners.model import RawPage
from store import Store
from store.testing import page
from tests.fixtures.web import archive_web as aw
from tests.fixtures.web.fixtureweb import FixtureWeb
from tests.test_crawl import assert_ok, crawl, last_crawl, q

JOINT = aw.BY_KEY["claimed-joint-statement"]
GONE = aw.BY_KEY["gone-state-statement"]
NEVER = "https://www.state.gov/statement-that-never-existed/"
WIRE = "https://wire.example/world/"


@pytest.fixture(scope="module")
def web():
    with FixtureWeb(scale=1, phase=1, crawl_delay=0) as w:
        yield w


@pytest.fixture
def fresh(web):
    web.reset()
    yield web
    web.reset()


def _claims(db) -> dict[str, int]:
    """Three aggregator copies naming their originals: one live, one removed, one never there."""
    s = Store(db)
    ids = {}
    for slug, url, text in (
        ("joint", JOINT.url, JOINT.text),
        ("hotline", GONE.url, GONE.text),
        ("never", NEVER, aw.BY_KEY["wp-shelter-grants"].text),
    ):
        res = s.save(
            *page(WIRE + slug, text + "\n\nShare this story.", "Copy", date(2020, 1, 1), claimed=url)
        )
        ids[slug] = res.article_id
    s.close()
    return ids


def _archive_requests(web):
    return [r for r in web.requests() if r["host"] == aw.WAYBACK and r["path"] != "/robots.txt"]


def test_originals_fetches_claims_once_and_recovers_gone_ones_from_the_archive(fresh, tmp_path):
    web, db = fresh, tmp_path / "d.db"
    ids = _claims(db)
    # The archive's first CDX answer is a 429 with Retry-After: the look-up waits, then works.
    web.add_fault(aw.WAYBACK, "/cdx/search/cdx", status=429, headers={"Retry-After": "2"}, times=1)
    proc = crawl(web, db, "originals", settings={"CONCURRENT_REQUESTS_PER_DOMAIN": "1"})
    assert_ok(proc)
    # The live original joined the article of the copy that named it, and represents it.
    (joint,) = q(db, "select article_id, role, match_method from copies where url = ?", JOINT.url)
    assert joint == (ids["joint"], "original", "attribution")
    assert q(db, "select title, canonical_url from articles where id = ?", ids["joint"]) == [
        (JOINT.title, JOINT.url)
    ]
    # The removed one came from its newest good capture: role archived, capture URL, memento time.
    capture = f"https://{aw.WAYBACK}/web/20200905153000id_/{GONE.url}"
    (rec,) = q(
        db, "select article_id, role, archived_url, memento_at, url from copies where role = 'archived'"
    )
    assert rec == (ids["hotline"], "archived", capture, "2020-09-05T15:30:00Z", GONE.url)
    art = q(
        db,
        "select a.title, a.text, c.role from articles a join copies c on c.id = a.rep_copy_id where a.id = ?",
        ids["hotline"],
    )
    assert art == [(GONE.title, GONE.text, "archived")]
    # 429 honoured: nothing reached the archive inside the Retry-After window.
    reqs = _archive_requests(web)
    first = next(i for i, r in enumerate(reqs) if r["status"] == 429)
    assert reqs[first + 1 :] and min(r["time"] for r in reqs[first + 1 :]) - reqs[first]["time"] >= 1.9
    states = dict(q(db, "select claimed_url, status from claim_fetches"))
    assert states == {JOINT.url: "fetched", GONE.url: "archived", NEVER: "not_archived"}
    # Fetched once: the next run asks neither www.state.gov nor the archive for any of them.
    web.clear_requests()
    assert_ok(crawl(web, db, "originals"))
    asked = [r for r in web.requests() if r["path"] != "/robots.txt"]
    assert asked == []
    assert q(db, "select count(*) from copies")[0][0] == 5


def test_archive_off_means_no_request_to_it(fresh, tmp_path):
    web, db = fresh, tmp_path / "d.db"
    _claims(db)
    assert_ok(crawl(web, db, "originals", env_extra={"DISPATCHES_WAYBACK": "0"}))
    assert [r for r in web.requests() if r["host"] == aw.WAYBACK] == []
    assert q(db, "select count(*) from copies where role = 'archived'")[0][0] == 0
    assert dict(q(db, "select claimed_url, status from claim_fetches"))[GONE.url] == "gone"
    proc = crawl(web, db, "wayback", ["hosts=mexico.usembassy.gov"], settings={"DISPATCHES_WAYBACK": "0"})
    assert_ok(proc)
    assert "DISPATCHES_WAYBACK is off" in proc.stderr
    assert [r for r in web.requests() if r["host"] == aw.WAYBACK] == []


def test_wayback_recovers_a_gone_site_within_a_window(fresh, tmp_path):
    web, db = fresh, tmp_path / "d.db"
    args = ["hosts=mexico.usembassy.gov", "from=2014", "to=2015", "match=press-releases"]
    assert_ok(crawl(web, db, "wayback", args))
    rows = q(
        db,
        "select c.url, c.memento_at, c.archived_url, a.title, a.text from copies c "
        "join articles a on a.id = c.article_id where c.role = 'archived' order by c.url",
    )
    senators, inspectors = aw.BY_KEY["embassy-2014-senators"], aw.BY_KEY["embassy-2015-labor-inspectors"]
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        (senators.url, "2015-06-10T12:00:00Z", senators.title, senators.text),  # the newest good capture
        (inspectors.url, "2015-03-13T10:10:10Z", inspectors.title, inspectors.text),
    ]
    assert all("id_/" in r[2] for r in rows)
    listing = next(r for r in _archive_requests(web) if "matchType=prefix" in r["url"])
    assert "collapse=urlkey" in listing["url"] and "filter=statuscode%3A200" in listing["url"]
    # A second run finds both recovered: one listing, nothing else from the archive.
    web.clear_requests()
    assert_ok(crawl(web, db, "wayback", args))
    assert [r["path"].split("?")[0] for r in _archive_requests(web)] == ["/cdx/search/cdx"]
    # The per-run cap holds: with two requests allowed, the listing and one look-up.
    web.clear_requests()
    assert_ok(
        crawl(web, tmp_path / "e.db", "wayback", args, settings={"DISPATCHES_WAYBACK_MAX_PER_RUN": "2"})
    )
    assert len(_archive_requests(web)) == 2


def test_wayback_bad_arguments_are_one_line(fresh, tmp_path):
    proc = crawl(fresh, tmp_path / "d.db", "wayback", ["hosts=mexico.usembassy.gov", "from=last-year"])
    assert proc.returncode != 0
    assert "-a from='last-year'" in proc.stderr


def _clean_case(case):
    """The Document `clean` makes of an archive case's page, as a crawl would fetch it."""
    return clean(
        RawPage(
            url=case.url,
            final_url=case.url,
            status=200,
            headers={"content-type": "text/html; charset=utf-8"},
            body=aw.render(case).encode(),
            fetched_at="2024-01-01T00:00:00Z",
        )
    )


@pytest.mark.parametrize("case", [c for c in aw.CASES if c.host != aw.LEGACY_2001], ids=lambda c: c.key)
def test_each_archive_template_cleans_to_its_title_and_text(case):
    doc = _clean_case(case)
    assert doc.title == case.title
    assert doc.text == case.text
    assert doc.published == case.published


@pytest.mark.parametrize("case", [c for c in aw.CASES if c.host == aw.LEGACY_2001], ids=lambda c: c.key)
def test_the_2001_2009_table_layout_cleans_to_its_text(case):
    doc = _clean_case(case)
    assert (doc.title, doc.published, doc.text) == (case.title, case.published, case.text)


def test_state_gov_reads_every_archive_host_by_its_own_discovery(fresh, tmp_path):
    web, db = fresh, tmp_path / "d.db"
    hosts = f"{aw.WP_2017},{aw.LEGACY_2009},{aw.LEGACY_2001}"
    assert_ok(crawl(web, db, "state_gov", [f"archives={hosts}", "main=no"]))
    stored = {r[0]: r[1:] for r in q(db, "select url, role, title from copies")}
    older = [c for c in aw.CASES if c.host in (aw.WP_2017, aw.LEGACY_2009, aw.LEGACY_2001)]
    assert set(stored) == {c.url for c in older}
    for c in older:
        assert stored[c.url][0] == "archive"
        if c.host != aw.LEGACY_2001:
            assert stored[c.url][1] == c.title
    status, stats = last_crawl(db)
    assert stats["discovery"] == {aw.WP_2017: "sitemap", aw.LEGACY_2009: "listing", aw.LEGACY_2001: "listing"}
    # The held-apart report pages of those hosts are not statements the crawl reads.
    assert not [r for r in web.requests() if "/reports/" in r["path"]]
    # A window narrows the static archives to the index pages of its months.
    web.clear_requests()
    assert_ok(
        crawl(
            web, tmp_path / "e.db", "state_gov", [f"archives={aw.LEGACY_2009}", "main=no", "since=2015-01-01"]
        )
    )
    paths = [r["path"] for r in web.requests() if r["host"] == aw.LEGACY_2009]
    assert "/r/pa/prs/ps/2014/04/index.htm" not in paths and "/r/pa/prs/ps/2015/09/index.htm" in paths


def test_recheck_marks_a_removed_statement_gone_and_keeps_its_text(fresh, tmp_path):
    web, db = fresh, tmp_path / "d.db"
    assert_ok(crawl(web, db, "state_gov"))
    url, aid, title = q(
        db, "select url, article_id, title from copies where site = 'www.state.gov' order by url limit 1"
    )[0]
    from urllib.parse import urlsplit

    web.add_fault("www.state.gov", urlsplit(url).path, status=410, times=None)
    web.clear_requests()
    assert_ok(crawl(web, db, "originals", ["recheck=www.state.gov"]))
    asked = [r for r in web.requests() if r["host"] == "www.state.gov" and r["path"] != "/robots.txt"]
    stored = q(db, "select count(*) from copies where site = 'www.state.gov'")[0][0]
    assert len(asked) == stored  # each stored page asked for once, conditionally
    assert {r["status"] for r in asked} == {304, 410}
    (gone,) = q(db, "select gone, gone_at is not null, title from copies where url = ?", url)
    assert gone == (1, 1, title)
    assert q(db, "select title from articles where id = ?", aid) == [(title,)]
    health = q(db, "select count(*) from gone_events g join crawls c on c.id = g.crawl_id "
                   "where c.spider = 'originals'")  # fmt: skip
    assert health == [(1,)]
    # The removed page is looked up in the archive (which has no capture of it) once: in this
    # run if its 410 was saved before the look-ups were listed, else in the next; then it waits
    # out its back-off.
    assert_ok(crawl(web, db, "originals"))
    lookups = [r for r in web.requests() if r["host"] == aw.WAYBACK and r["path"].startswith("/cdx/")]
    assert len(lookups) == 1 and "limit=-1" in lookups[0]["url"]
    assert q(db, "select claimed_url, status, tries from claim_fetches") == [(url, "not_archived", 1)]


def test_a_claim_on_a_host_that_no_longer_resolves_goes_to_the_archive(fresh, tmp_path):
    web, db = fresh, tmp_path / "d.db"
    inspectors = aw.BY_KEY["embassy-2015-labor-inspectors"]
    s = Store(db)
    aid = s.save(
        *page(WIRE + "inspectors", inspectors.text, "Copy", date(2015, 3, 13), claimed=inspectors.url)
    ).article_id
    s.close()
    # The fixture's proxy answers for the closed embassy host as Squid does.
    status, headers, _ = web.fetch(inspectors.url)
    assert status == 503 and headers["x-squid-error"].startswith("ERR_DNS_FAIL")
    # For https it refuses the CONNECT with the same 503: no tunnel, no reason a client sees.
    with pytest.raises(OSError, match="503"):
        web.fetch(inspectors.url.replace("http:", "https:"))
    web.clear_requests()
    assert_ok(crawl(web, db, "originals"))
    # One answer from the proxy (robots.txt): a name that does not resolve is not retried.
    dead = [r for r in web.requests() if r["host"] == aw.OLD_EMBASSY]
    assert [(r["path"], r["status"]) for r in dead] == [("/robots.txt", 503)]
    _, stats = last_crawl(db)
    assert stats["network_error"] == {aw.OLD_EMBASSY: "DNS lookup failed"}
    (rec,) = q(db, "select article_id, role, archived_url, memento_at from copies where role = 'archived'")
    capture = f"https://{aw.WAYBACK}/web/20150313101010id_/{inspectors.url}"
    assert rec == (aid, "archived", capture, "2015-03-13T10:10:10Z")
    assert q(db, "select status from claim_fetches") == [("archived",)]


def test_one_statement_on_www_and_two_archive_hosts_is_one_article(fresh, tmp_path):
    web, db = fresh, tmp_path / "d.db"
    www, wp, legacy = (aw.BY_KEY[k] for k in aw.ONE_STATEMENT)
    assert_ok(crawl(web, db, "state_gov", [f"archives={aw.WP_2017},{aw.LEGACY_2009}", "main=no"]))
    # The two archive copies, each found by its host's own discovery, are one article already.
    (aid,) = {r[0] for r in q(db, "select article_id from copies where url in (?, ?)", wp.url, legacy.url)}
    # An aggregator's copy names the www.state.gov page as its original; `originals` fetches it.
    s = Store(db)
    s.save(*page(WIRE + "palau", www.text + "\n\nShare this story.", "Copy", www.published, claimed=www.url))
    s.close()
    assert_ok(crawl(web, db, "originals"))
    rows = q(db, "select site, role, url from copies where article_id = ? order by site", aid)
    assert [r[:2] for r in rows] == [
        (aw.LEGACY_2009, "archive"),
        (aw.WP_2017, "archive"),
        ("wire.example", "syndicated"),
        ("www.state.gov", "original"),
    ]
    assert {r[2] for r in rows} >= {www.url, wp.url, legacy.url}
    # The live www.state.gov copy represents it.
    art = q(db, "select title, text, published, canonical_url, copies_count from articles where id = ?", aid)
    assert art == [(www.title, www.text, www.published.isoformat(), www.url, 4)]
