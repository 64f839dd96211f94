"""HTTP-level faults (RELIABILITY.md Part C #1-#8, #12-#14, #16-#23, #26, #28, #30), one crawl.

All cases run in a single `scrapy crawl` over the fault server, each on its own host name
(`<case>.fault.test`, resolved to 127.0.0.1 by the test resolver) so per-host slots, retries
and the circuit breaker of one case do not touch another; each test asserts one case's outcome
from the shared result and from the server's request log.
"""

from __future__ import annotations

import pytest
from faultkit import run_crawl

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


def test_crawl_finishes_and_control_page_is_fetched(batch):
    assert batch.returncode == 0, batch.log[-3000:]
    assert batch.reason == "finished"
    assert "Spider error" not in batch.log and not batch.stats.get("spider_exceptions/count")
    assert len(batch.items_for("ok.fault.test")) == 1
    assert batch.seconds < 60


@pytest.mark.parametrize("case", ["hang", "drip"])
def test_timeouts_are_retried_then_fail(batch, fault_server, case):
    """#1, #2: DOWNLOAD_TIMEOUT covers the whole download, a drip does not reset it."""
    assert not batch.items_for(f"{case}.fault.test")
    errors = batch.errors_for(f"{case}.fault.test")
    assert [e["error"] for e in errors] == ["DownloadTimeoutError"]
    assert len(_hits(fault_server, case)) == 3  # RETRY_TIMES=2: three attempts in all


def _failed_with(errors, name):
    """One failure for the page: the error itself, or robots.txt of that host failing with it
    (the host's robots.txt is fetched first and meets the same fault: RFC 9309 disallow)."""
    assert len(errors) == 1, errors
    assert errors[0]["error"] == name or (
        errors[0]["error"] == "RobotsUnreachable" and name in errors[0]["message"]
    )


def test_connect_that_never_completes_times_out(batch):
    """#3: a listener that never accepts (full backlog) costs a timeout, not a hung crawl."""
    _failed_with(batch.errors_for("connecthang.fault.test"), "DownloadTimeoutError")
    assert batch.stats.get("retry/reason_count/scrapy.exceptions.DownloadTimeoutError", 0) >= 2


def test_connection_refused_is_retried_then_fails(batch):
    """#4"""
    _failed_with(batch.errors_for("refused.fault.test"), "DownloadConnectionRefusedError")
    assert batch.stats.get("retry/reason_count/scrapy.exceptions.DownloadConnectionRefusedError", 0) >= 2


@pytest.mark.parametrize("case", ["reset", "partial", "badchunk"])
def test_truncated_bodies_are_never_items(batch, fault_server, case):
    """#5, #6, #7: data loss is retried and never becomes a (truncated) page."""
    assert not batch.items_for(f"{case}.fault.test")
    errors = batch.errors_for(f"{case}.fault.test")
    assert len(errors) == 1 and errors[0]["error"] in (
        "ResponseDataLossError",
        "ConnectionLost",
        "ResponseFailed",
    )
    assert len(_hits(fault_server, case)) == 3


@pytest.mark.parametrize("case", ["badstatus", "garbage", "conflictcl"])
def test_malformed_responses_fail_cleanly(batch, case):
    """#8: a parse error with the URL, no crash, no page."""
    assert not batch.items_for(f"{case}.fault.test")
    errors = batch.errors_for(f"{case}.fault.test")
    assert len(errors) == 1, errors
    assert f"{case}.fault.test" in errors[0]["url"]


def test_header_without_colon_is_dropped_not_read_as_body(batch):
    """#8: Twisted skips a header line without a colon (it does not fail the request, unlike
    the catalogue's expectation); the body stays the declared 5 bytes, too short to be an
    article, and nothing crashes."""
    items = batch.items_for("badheader.fault.test")
    errors = batch.errors_for("badheader.fault.test")
    assert len(items) + len(errors) == 1
    for item in items:
        assert item["head"] == "hello" and item["size"] == 5


def test_content_length_with_chunked_is_not_misread(batch):
    """#8: both Content-Length and Transfer-Encoding: either refused or decoded as chunked
    (RFC 9112 6.3), never the raw framing as a page body."""
    items = batch.items_for("clte.fault.test")
    errors = batch.errors_for("clte.fault.test")
    assert len(items) + len(errors) == 1
    for item in items:
        assert item["head"] == "hello"


def test_flaky_page_stored_once_and_retry_counted(batch, fault_server):
    """#12"""
    assert len(batch.items_for("flaky.fault.test")) == 1
    assert len(_hits(fault_server, "flaky")) == 2
    assert batch.stats.get("retry/reason_count/500 Internal Server Error", 0) >= 1


def test_redirect_loop_ends(batch, fault_server):
    """#13: the loop ends (dupefilter or REDIRECT_MAX_TIMES), no page."""
    assert not batch.items_for("loop.fault.test")
    assert len(_hits(fault_server, "loop")) <= 6


def test_endless_redirect_chain_stops_at_max(batch, fault_server):
    """#14: REDIRECT_MAX_TIMES=5."""
    assert not batch.items_for("chain.fault.test")
    assert len(_hits(fault_server, "chain")) == 6
    errors = batch.errors_for("chain.fault.test")
    assert errors and "max redirections" in errors[0]["message"]


def test_redirects_to_other_schemes_not_followed(batch):
    """#16: file:, data:, ftp: by 302 are refused with a reason; by meta refresh they are not
    followed (the page itself is what it is); nothing from /etc/passwd anywhere."""
    for i in range(3):
        errors = batch.errors_for(f"scheme302-{i}.fault.test")
        assert len(errors) == 1 and "blocked redirect scheme" in errors[0]["message"]
        for item in batch.items_for(f"schememeta-{i}.fault.test"):
            assert "meta-refresh" in item["final_url"]
    assert "root:x:0:0" not in batch.log
    assert not any("root:x:0:0" in i["head"] for i in batch.items)
    assert batch.stats.get("safety/blocked/scheme", 0) >= 3


def test_huge_declared_body_cancelled_before_download(batch, fault_server):
    """#17"""
    assert not batch.items_for("hugecl.fault.test")
    assert batch.errors_for("hugecl.fault.test")
    assert "hugecl.fault.test" in batch.log and "larger than download max size" in batch.log


def test_endless_chunked_body_aborted_at_maxsize(batch):
    """#18: aborted at DOWNLOAD_MAXSIZE, warned at DOWNLOAD_WARNSIZE."""
    assert not batch.items_for("endless.fault.test")
    assert batch.errors_for("endless.fault.test")
    assert "larger than download warn size (262144) in request <GET http://endless.fault.test" in batch.log
    assert "larger than download max size (1048576) in request <GET http://endless.fault.test" in batch.log


@pytest.mark.parametrize("case", BOMBS)
def test_decompression_bombs_dropped(batch, case):
    """#19, #20, #21: every codec and a stacked bomb is dropped during decompression."""
    assert not batch.items_for(f"{case}.fault.test")
    errors = batch.errors_for(f"{case}.fault.test")
    assert len(errors) == 1 and "exceeded DOWNLOAD_MAXSIZE" in errors[0]["message"], errors


def test_bombs_keep_memory_low(batch):
    """#19: 64 MiB of zeros per bomb against a 1 MiB limit: the process never inflates one."""
    assert batch.stats["memusage/max"] < 400 * 1024 * 1024


def test_stacked_encodings_decoded_in_order(batch):
    """#21: gzip, deflate, gzip decoded back to the page."""
    items = batch.items_for("stackedok.fault.test")
    assert len(items) == 1 and items[0]["head"].startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("case", ["gz-truncated", "gz-crc", "gz-plain", "gz-empty"])
def test_broken_gzip_never_stored_as_garbage(batch, case):
    """#22: truncated, CRC-broken, or not-gzip bodies labelled gzip: failed with a reason, or (for
    an empty body) an empty page; never compressed bytes passed on as text."""
    items = batch.items_for(f"{case}.fault.test")
    errors = batch.errors_for(f"{case}.fault.test")
    assert len(items) + len(errors) == 1, (items, errors)
    for item in items:
        assert "\x1f\x8b" not in item["head"]


@pytest.mark.parametrize("case", ["ct-octet", "ct-plain", "ct-none"])
def test_html_with_wrong_content_type_is_fetched(batch, case):
    """#23: the page arrives with its declared type recorded; sniffing is the cleaner's job."""
    items = batch.items_for(f"{case}.fault.test")
    assert len(items) == 1 and items[0]["head"].startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("case", ["s404", "s410"])
def test_gone_pages_not_retried(batch, fault_server, case):
    """#26: 404/410 reach the errback once (HttpError), no retry."""
    assert not batch.items_for(f"{case}.fault.test")
    errors = batch.errors_for(f"{case}.fault.test")
    assert len(errors) == 1 and errors[0]["error"] == "HttpError"
    assert len(_hits(fault_server, case)) == 1


def test_dns_failure_fails_that_host_only(batch):
    """#28"""
    _failed_with(batch.errors_for("nosuchhost.invalid"), "CannotResolveHostError")
    assert batch.items_for("ok.fault.test")


def test_overlong_urls_dropped(batch, fault_server):
    """#30: a 3000-character link is dropped by URLLENGTH_LIMIT; the normal one is followed."""
    paths = [r["path"] for r in _hits(fault_server, "long")]
    assert "/page/short-enough" in paths
    assert not any(len(p) > 2083 for p in paths)
    assert batch.stats.get("urllength/request_ignored_count", 0) == 1


def test_links_with_other_schemes_dropped(batch, fault_server):
    """#46: javascript:, mailto:, tel:, file:, data:, ftp: links are never fetched."""
    paths = [r["path"] for r in _hits(fault_server, "schemes")]
    assert "/page/in-scope" in paths
    assert batch.stats.get("safety/blocked/scheme", 0) >= 3
    assert not any(i["url"].startswith(("file:", "data:", "ftp:")) for i in batch.items)
