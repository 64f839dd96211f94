"""HTTP-level faults (cases 1-8, 12-14, 16-23, 26, 28, 30 of tests/faults/CASES.md), one crawl.

All cases run in a single `scrapy crawl` over the fault server, each on its own host name
(`<case>.fault.test`, resolved to 127.0.0.1 by the test resolver) so per-host slots, retries
and the circuit breaker of one case do not touch another. The crawl runs the project's item
pipeline into a real database; each test asserts one case's outcome on the wire (the server's
request log, what the spider recorded) and in the database (stored correctly, or nothing stored).
"""

from __future__ import annotations

import pytest

from tests.faults.faultkit import db_text, run_crawl

CASES = {
    "ok": "/page/control",
    "hang": "/hang",
    "drip": "/drip",
    "reset": "/reset",
    "partial": "/partial",
    "badchunk": "/badchunk",
    "badstatus": "/badstatus",
    "garbage": "/garbage",
    "badheader": "/badheader",
    "conflictcl": "/conflict-cl",
    "clte": "/cl-te",
    "flaky": "/flaky/once",
    "loop": "/loop/a",
    "chain": "/chain/1",
    "hugecl": "/huge-cl",
    "endless": "/endless",
    "bomb-gzip": "/bomb/gzip",
    "bomb-deflate": "/bomb/deflate",
    "bomb-rawdeflate": "/bomb/deflate-raw",
    "bomb-br": "/bomb/br",
    "bomb-zstd": "/bomb/zstd",
    "bomb-stacked": "/bomb/stacked",
    "stackedok": "/stacked-ok",
    "gz-truncated": "/gzip-bad/truncated",
    "gz-crc": "/gzip-bad/crc",
    "gz-plain": "/gzip-bad/plain",
    "gz-empty": "/gzip-bad/empty",
    "ct-octet": "/ctype/octet",
    "ct-plain": "/ctype/plain",
    "ct-none": "/ctype/none",
    "s404": "/status/404",
    "s410": "/status/410",
    "long": "/links?set=long",
    "schemes": "/links?set=schemes",
}
BOMBS = [k for k in CASES if k.startswith("bomb-")]
# Hosts whose page arrives whole and is an article: the only ones the database may hold.
STORED_HOSTS = {
    f"{h}.fault.test"
    for h in ("ok", "flaky", "stackedok", "ct-octet", "ct-plain", "ct-none", "long", "schemes")
}


@pytest.fixture(scope="module")
def batch(fault_server, tmp_path_factory):
    s = fault_server
    urls = [s.url(host, path) for host, path in CASES.items()]
    urls.append(f"http://connecthang.fault.test:{s.blackhole}/page/never")
    urls.append(f"http://refused.fault.test:{s.refused}/page/never")
    urls.append(f"http://nosuchhost.invalid:{s.port}/page/never")
    # Redirects to other schemes, by 302 and by meta refresh.
    for i, target in enumerate(
        ["file:///etc/passwd", "data:text/html,<p>owned</p>", "ftp://ftp.fault.test/x"]
    ):
        urls.append(s.url(f"scheme302-{i}", f"/redirect?to={target}"))
        urls.append(s.url(f"schememeta-{i}", f"/meta-refresh?to={target}"))
    allow = ",".join(f"*.fault.test:{p}" for p in (s.port, s.blackhole, s.refused))
    res = run_crawl(
        urls,
        tmp_path_factory.mktemp("http"),
        args={"follow": "1"},
        settings={"DISPATCHES_ALLOW_HOSTS": allow, "RETRY_TIMES": "2", "DOWNLOAD_TIMEOUT": "3"},
        timeout=150,
    )
    return res


def _hits(server, case, path=None):
    return [
        r
        for r in server.requests(f"{case}.fault.test")
        if r["path"] != "/robots.txt" and (path is None or r["path"] == path)
    ]


def test_crawl_finishes_and_control_page_is_stored(batch):
    """The good page among forty faulty ones is stored whole; the run is recorded as degraded
    (pages failed) with its finish reason, and the database is intact."""
    assert batch.returncode == 0, batch.log[-3000:]
    assert batch.reason == "finished"
    assert "Spider error" not in batch.log and not batch.stats.get("spider_exceptions/count")
    assert len(batch.items_for("ok.fault.test")) == 1
    (copy,) = batch.copies_for("ok.fault.test")
    assert copy["a_title"] == "Statement on fault case control"
    assert copy["a_text"].startswith("Fault case control, paragraph 1:")
    assert "paragraph 6" in copy["a_text"]
    crawl = batch.crawl_row()
    assert crawl["status"] == "degraded" and crawl["finished_at"]
    assert crawl["stats"]["finish_reason"] == "finished" and crawl["stats"]["errors"] > 0
    assert batch.integrity() == "ok"


def test_only_the_pages_that_arrived_whole_are_stored(batch):
    """Across every case of the batch, the database holds copies of exactly the hosts whose page
    arrived whole and is an article; every other host left nothing behind."""
    assert batch.stored_hosts() - {"gz-truncated.fault.test", "gz-crc.fault.test"} == STORED_HOSTS


def _gave_up(batch, host: str, error: str) -> None:
    """Nothing stored for the host, and the failure is on record in the database."""
    assert batch.nothing_stored(host)
    events = batch.events_for(host)
    assert len(events) == 1 and error in events[0]["detail"], events


@pytest.mark.parametrize("case", ["hang", "drip"])
def test_timeouts_are_retried_then_fail(batch, fault_server, case):
    """Cases 1, 2: DOWNLOAD_TIMEOUT covers the whole download, a drip does not reset it."""
    assert not batch.items_for(f"{case}.fault.test")
    errors = batch.errors_for(f"{case}.fault.test")
    assert [e["error"] for e in errors] == ["DownloadTimeoutError"]
    assert len(_hits(fault_server, case)) == 3  # RETRY_TIMES=2: three attempts in all
    _gave_up(batch, f"{case}.fault.test", "DownloadTimeoutError")


def _failed_with(errors, name):
    """One failure for the page: the error itself, or robots.txt of that host failing with it
    (the host's robots.txt is fetched first and meets the same fault: RFC 9309 disallow)."""
    assert len(errors) == 1, errors
    assert errors[0]["error"] == name or (
        errors[0]["error"] == "RobotsUnreachable" and name in errors[0]["message"]
    )


def test_connect_that_never_completes_times_out(batch):
    """Case 3: a listener that never accepts (full backlog) costs a timeout, not a hung crawl."""
    _failed_with(batch.errors_for("connecthang.fault.test"), "DownloadTimeoutError")
    assert batch.stats.get("retry/reason_count/scrapy.exceptions.DownloadTimeoutError", 0) >= 2
    assert batch.nothing_stored("connecthang.fault.test")


def test_connection_refused_is_retried_then_fails(batch):
    """Case 4"""
    _failed_with(batch.errors_for("refused.fault.test"), "DownloadConnectionRefusedError")
    assert batch.stats.get("retry/reason_count/scrapy.exceptions.DownloadConnectionRefusedError", 0) >= 2
    assert batch.nothing_stored("refused.fault.test")


@pytest.mark.parametrize("case", ["reset", "partial", "badchunk"])
def test_truncated_bodies_are_never_items(batch, fault_server, case):
    """Cases 5, 6, 7: data loss is retried and never becomes a (truncated) page."""
    assert not batch.items_for(f"{case}.fault.test")
    errors = batch.errors_for(f"{case}.fault.test")
    assert len(errors) == 1 and errors[0]["error"] in (
        "ResponseDataLossError",
        "ConnectionLost",
        "ResponseFailed",
    )
    assert len(_hits(fault_server, case)) == 3
    _gave_up(batch, f"{case}.fault.test", errors[0]["error"])


@pytest.mark.parametrize("case", ["badstatus", "garbage", "conflictcl"])
def test_malformed_responses_fail_cleanly(batch, case):
    """Case 8: a parse error with the URL, no crash, no page."""
    assert not batch.items_for(f"{case}.fault.test")
    errors = batch.errors_for(f"{case}.fault.test")
    assert len(errors) == 1, errors
    assert f"{case}.fault.test" in errors[0]["url"]
    _gave_up(batch, f"{case}.fault.test", errors[0]["error"])


def test_header_without_colon_is_dropped_not_read_as_body(batch):
    """Case 8: Twisted skips a header line without a colon (it does not fail the request, unlike
    the catalogue's expectation); the body stays the declared 5 bytes, too short to be an
    article: nothing stored, and nothing crashes."""
    items = batch.items_for("badheader.fault.test")
    errors = batch.errors_for("badheader.fault.test")
    assert len(items) + len(errors) == 1
    for item in items:
        assert item["head"] == "hello" and item["size"] == 5
    assert batch.nothing_stored("badheader.fault.test")
    assert len(batch.events_for("badheader.fault.test")) == 1


def test_content_length_with_chunked_is_not_misread(batch):
    """Case 8: both Content-Length and Transfer-Encoding: either refused or decoded as chunked
    (RFC 9112 6.3), never the raw framing as a page body; "hello" is no article: nothing stored."""
    items = batch.items_for("clte.fault.test")
    errors = batch.errors_for("clte.fault.test")
    assert len(items) + len(errors) == 1
    for item in items:
        assert item["head"] == "hello"
    assert batch.nothing_stored("clte.fault.test")


def test_flaky_page_stored_once_and_retry_counted(batch, fault_server):
    """Case 12: one copy of one article, the 500 page never stored; the retry counted in the stats."""
    assert len(batch.items_for("flaky.fault.test")) == 1
    assert len(_hits(fault_server, "flaky")) == 2
    assert batch.stats.get("retry/reason_count/500 Internal Server Error", 0) >= 1
    (copy,) = batch.copies_for("flaky.fault.test")
    assert copy["a_title"] == "Statement on fault case once" and "try again" not in copy["a_text"]
    assert copy["http_status"] == 200
    assert batch.crawl_row()["stats"]["scrapy"]["retry/reason_count/500 Internal Server Error"] >= 1


def test_redirect_loop_ends(batch, fault_server):
    """Case 13: the loop ends (dupefilter or REDIRECT_MAX_TIMES), no page."""
    assert not batch.items_for("loop.fault.test")
    assert len(_hits(fault_server, "loop")) <= 6
    assert batch.nothing_stored("loop.fault.test")


def test_endless_redirect_chain_stops_at_max(batch, fault_server):
    """Case 14: REDIRECT_MAX_TIMES=5."""
    assert not batch.items_for("chain.fault.test")
    assert len(_hits(fault_server, "chain")) == 6
    errors = batch.errors_for("chain.fault.test")
    assert errors and "max redirections" in errors[0]["message"]
    assert batch.nothing_stored("chain.fault.test")


def test_redirects_to_other_schemes_not_followed(batch):
    """Case 16: file:, data:, ftp: by 302 are refused with a reason; by meta refresh they are not
    followed (the page itself is what it is); nothing from /etc/passwd anywhere, the database
    included; the meta-refresh pages ("moved") are no articles and are not stored."""
    for i in range(3):
        errors = batch.errors_for(f"scheme302-{i}.fault.test")
        assert len(errors) == 1 and "blocked redirect scheme" in errors[0]["message"]
        for item in batch.items_for(f"schememeta-{i}.fault.test"):
            assert "meta-refresh" in item["final_url"]
    assert "root:x:0:0" not in batch.log
    assert not any("root:x:0:0" in i["head"] for i in batch.items)
    assert batch.stats.get("safety/blocked/scheme", 0) >= 3
    assert "root:x:0:0" not in db_text(batch.db)
    for i in range(3):
        assert batch.nothing_stored(f"scheme302-{i}.fault.test")
        assert batch.nothing_stored(f"schememeta-{i}.fault.test")


def test_huge_declared_body_cancelled_before_download(batch, fault_server):
    """Case 17"""
    assert not batch.items_for("hugecl.fault.test")
    assert batch.errors_for("hugecl.fault.test")
    assert "hugecl.fault.test" in batch.log and "larger than download max size" in batch.log
    assert batch.nothing_stored("hugecl.fault.test")


def test_endless_chunked_body_aborted_at_maxsize(batch):
    """Case 18: aborted at DOWNLOAD_MAXSIZE, warned at DOWNLOAD_WARNSIZE."""
    assert not batch.items_for("endless.fault.test")
    assert batch.errors_for("endless.fault.test")
    assert "larger than download warn size (262144) in request <GET http://endless.fault.test" in batch.log
    assert "larger than download max size (1048576) in request <GET http://endless.fault.test" in batch.log
    assert batch.nothing_stored("endless.fault.test")


@pytest.mark.parametrize("case", BOMBS)
def test_decompression_bombs_dropped(batch, case):
    """Cases 19, 20, 21: every codec and a stacked bomb is dropped during decompression."""
    assert not batch.items_for(f"{case}.fault.test")
    errors = batch.errors_for(f"{case}.fault.test")
    assert len(errors) == 1 and "exceeded DOWNLOAD_MAXSIZE" in errors[0]["message"], errors
    assert batch.nothing_stored(f"{case}.fault.test")


def test_bombs_keep_memory_low(batch):
    """Case 19: 64 MiB of zeros per bomb against a 1 MiB limit: the process never inflates one."""
    assert batch.stats["memusage/max"] < 400 * 1024 * 1024


def test_stacked_encodings_decoded_in_order(batch):
    """Case 21: gzip, deflate, gzip decoded back to the page, which is stored as an article."""
    items = batch.items_for("stackedok.fault.test")
    assert len(items) == 1 and items[0]["head"].startswith("<!DOCTYPE html>")
    (copy,) = batch.copies_for("stackedok.fault.test")
    assert copy["a_title"] == "Statement on fault case stacked-ok"


@pytest.mark.parametrize("case", ["gz-truncated", "gz-crc", "gz-plain", "gz-empty"])
def test_broken_gzip_never_passed_on_as_compressed_bytes(batch, case):
    """Case 22: truncated, CRC-broken, or not-gzip bodies labelled gzip: failed with a reason, or a
    page; never compressed bytes passed on as text."""
    items = batch.items_for(f"{case}.fault.test")
    errors = batch.errors_for(f"{case}.fault.test")
    assert len(items) + len(errors) == 1, (items, errors)
    for item in items:
        assert "\x1f\x8b" not in item["head"]


@pytest.mark.parametrize(
    "case",
    [
        "gz-truncated",
        "gz-crc",
        "gz-plain",
        "gz-empty",
    ],
)
def test_broken_gzip_stores_nothing(batch, case):
    """Case 22: a body whose gzip stream is broken is not the page: nothing of it is stored."""
    assert batch.nothing_stored(f"{case}.fault.test")


@pytest.mark.parametrize("case", ["ct-octet", "ct-plain", "ct-none"])
def test_html_with_wrong_content_type_is_fetched(batch, case):
    """Case 23: the page arrives with its declared type; the cleaner sniffs it as HTML and it is
    stored as the article it is."""
    items = batch.items_for(f"{case}.fault.test")
    assert len(items) == 1 and items[0]["head"].startswith("<!DOCTYPE html>")
    (copy,) = batch.copies_for(f"{case}.fault.test")
    assert copy["a_title"] == f"Statement on fault case ctype-{case.split('-', 1)[1]}"
    assert "paragraph 1" in copy["a_text"]


@pytest.mark.parametrize("case", ["s404", "s410"])
def test_gone_pages_not_retried_and_recorded_as_gone(batch, fault_server, case):
    """Case 26: a 404/410 is requested once (no retry) and reaches the pipeline as what it is (the
    project's article requests accept these statuses); the error page is not stored, the
    database records the URL as gone."""
    (item,) = batch.items_for(f"{case}.fault.test")
    assert item["status"] == int(case[1:]) and item["size"] == 0
    assert len(_hits(fault_server, case)) == 1
    assert batch.nothing_stored(f"{case}.fault.test")
    (event,) = batch.events_for(f"{case}.fault.test")
    assert event["reason"] == "gone" and case[1:] in event["detail"]


def test_dns_failure_fails_that_host_only(batch):
    """Case 28"""
    _failed_with(batch.errors_for("nosuchhost.invalid"), "CannotResolveHostError")
    assert batch.nothing_stored("nosuchhost.invalid")
    assert len(batch.copies_for("ok.fault.test")) == 1


def test_overlong_urls_dropped(batch, fault_server):
    """Case 30: a 3000-character link is dropped by URLLENGTH_LIMIT; the normal one is followed."""
    paths = [r["path"] for r in _hits(fault_server, "long")]
    assert "/page/short-enough" in paths
    assert not any(len(p) > 2083 for p in paths)
    assert batch.stats.get("urllength/request_ignored_count", 0) == 1
    stored = [c["url"] for c in batch.copies_for("long.fault.test")]
    assert [u.rsplit("/", 1)[-1] for u in stored] == ["short-enough"]


def test_links_with_other_schemes_dropped(batch, fault_server):
    """Case 46: javascript:, mailto:, tel:, file:, data:, ftp: links are never fetched."""
    paths = [r["path"] for r in _hits(fault_server, "schemes")]
    assert "/page/in-scope" in paths
    assert batch.stats.get("safety/blocked/scheme", 0) >= 3
    assert not any(i["url"].startswith(("file:", "data:", "ftp:")) for i in batch.items)
    stored = [c["url"] for c in batch.copies_for("schemes.fault.test")]
    assert [u.rsplit("/", 1)[-1] for u in stored] == ["in-scope"]


def test_gzip_check_knows_whole_bodies_from_broken_ones():
    """Several gzip members (which some servers send) are whole; a cut or corrupted one is not."""
    import gzip

    from crawlers.middlewares.integrity import gzip_is_whole

    page = b"<html><body>" + b"<p>statement text</p>" * 500 + b"</body></html>"
    one = gzip.compress(page)
    two = gzip.compress(page[:3000]) + gzip.compress(page[3000:])
    assert gzip_is_whole(one) and gzip_is_whole(two)
    assert not gzip_is_whole(one[: len(one) // 2])
    assert not gzip_is_whole(one[:-8] + bytes(8))  # trailer CRC and size zeroed
