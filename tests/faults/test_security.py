"""SSRF, DNS rebinding, offsite tricks, credentials in URLs, circuit breaker, control surfaces
(cases 11, 15, 87-90, 93 of tests/faults/CASES.md), plus unit checks of the guard's parsing.

The crawls run the project's item pipeline into a real database: a blocked target, hop or host
leaves nothing in it, the control pages next to them are stored.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import quote

import pytest

from crawlers.middlewares.addresses import AllowList, check_url, host_block_reason, parse_ip
from store.urls import strip_secrets as redact_url
from tests.faults.faultkit import db_text, run_crawl


# --- unit: what counts as a blocked address -----------------------------------------------------
@pytest.mark.parametrize(
    "host,reason",
    [
        ("127.0.0.1", "loopback"),
        ("2130706433", "loopback"),
        ("0x7f000001", "loopback"),
        ("017700000001", "loopback"),
        ("0177.0.0.1", "loopback"),
        ("127.1", "loopback"),
        ("[::1]", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:7f00:1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("0", "unspecified"),
        ("[::]", "unspecified"),
        ("169.254.169.254", "metadata"),
        ("[fd00:ec2::254]", "metadata"),
        ("169.254.1.1", "link_local"),
        ("fe80::1%25eth0", "link_local"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "cgnat"),
        ("fd12:3456::1", "ula"),
        ("224.0.0.251", "multicast"),
        ("64:ff9b::a00:1", "private"),
        ("2002:a00:1::", "private"),
        ("localhost", "local_name"),
        ("LOCALHOST.", "local_name"),
        ("x.localhost", "local_name"),
        ("metadata.google.internal", "local_name"),
        ("%31%32%37.0.0.1", "loopback"),
        ("127.000.000.001", "loopback"),
        ("0x7f.0x0.0x0.0x1", "loopback"),
        ("[0:0:0:0:0:ffff:127.0.0.1]", "loopback"),
    ],
)
def test_blocked_hosts(host, reason):
    assert host_block_reason(host.replace("%25", "%")) == reason


@pytest.mark.parametrize(
    "host",
    [
        "www.state.gov",
        "8.8.8.8",
        "[2001:4860:4860::8888]",
        "1.1.1.1",
        "mx.usembassy.gov",
        "127.0.0.1.nip.example",
        "0x7f.example",
    ],
)
def test_public_hosts_pass(host):
    assert host_block_reason(host) is None


def test_ip_spellings_match_the_c_resolver():
    assert parse_ip("0x7f.1") == ipaddress.ip_address("127.0.0.1")
    assert parse_ip("10.1") == ipaddress.ip_address("10.0.0.1")
    assert parse_ip("state.gov") is None


@pytest.mark.parametrize(
    "url,reason",
    [
        ("file:///etc/passwd", "scheme"),
        ("data:text/html,hi", "scheme"),
        ("ftp://x.test/", "scheme"),
        ("gopher://x.test/", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("http://user:pw@127.0.0.1/", "loopback"),
        ("https://[::1]:8443/", "loopback"),
        ("http://www.state.gov/", None),
        ("https://state.gov@evil.test/", None),
    ],
)
def test_check_url(url, reason):
    assert check_url(url, AllowList(())) == reason


def test_allow_list_is_port_pinned():
    allow = AllowList(["127.0.0.1:8080", "*.fault.test:8080"])
    assert check_url("http://127.0.0.1:8080/", allow) is None
    assert check_url("http://127.0.0.1:8081/", allow) == "loopback"
    assert check_url("http://a.fault.test:8080/", allow) is None
    assert check_url("http://a.fault.test:8081/", allow) == "port_not_allowed"
    assert AllowList([], allow_private=True).allows("10.0.0.1", 80)
    assert AllowList(["127.0.0.1:http", "[::1"]).rules == []  # bad entries are ignored, logged


@pytest.mark.parametrize(
    "url,clean",
    [
        ("https://user:pass@www.state.gov/a", "https://www.state.gov/a"),
        ("https://www.state.gov/a?id=3&token=abc&API_KEY=k#top", "https://www.state.gov/a?id=3#top"),
        ("https://www.state.gov/a?utm_source=x", "https://www.state.gov/a?utm_source=x"),
        ("https://www.state.gov/a?X-Amz-Signature=1&b=2", "https://www.state.gov/a?b=2"),
    ],
)
def test_redact_url(url, clean):
    assert redact_url(url) == clean


# --- crawls -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ssrf(fault_server, tmp_path_factory):
    """Cases 87, 88: seeds and redirects aimed at loopback (another port), metadata, private ranges,
    every IPv4 spelling, IPv6 loopback, and a name the resolver maps to 127.0.0.1."""
    s = fault_server
    c = s.canary
    targets = [
        f"http://127.0.0.1:{c}/",
        f"http://[::1]:{c}/",
        f"http://0.0.0.0:{c}/",
        f"http://2130706433:{c}/",
        f"http://0x7f.1:{c}/",
        f"http://0177.0.0.1:{c}/",
        f"http://[::ffff:127.0.0.1]:{c}/",
        "http://169.254.169.254/latest/meta-data/",
        f"http://localhost:{c}/",
        "http://10.0.0.1/",
        "http://100.64.0.1/",
        "http://[fd00::1]/",
        f"http://127.0.0.1:{s.port}/page/allowed-name-only",
        f"http://rebind.example:{c}/",
        f"http://rebind.example:{s.port}/page/rebind",
        f"http://www.fault.test:{c}/page/pinned-port",
    ]
    urls = list(targets)
    for i, t in enumerate(targets):
        urls.append(s.url(f"r{i}", f"/redirect?to={quote(t + '?via=redirect', safe='')}"))
    urls.append(s.url("meta", f"/meta-refresh?to=http://127.0.0.1:{c}/"))
    urls.append(s.url("ok", "/page/ssrf-control"))
    res = run_crawl(
        urls,
        tmp_path_factory.mktemp("ssrf"),
        settings={"DISPATCHES_ALLOW_HOSTS": f"*.fault.test:{s.port}"},
        env={"FAULT_DNS": "rebind.example=127.0.0.1"},
    )
    return res, targets


def test_ssrf_targets_never_connected(ssrf, fault_server):
    res, targets = ssrf
    assert res.returncode == 0 and res.reason == "finished", res.log[-2000:]
    assert fault_server.canary_hits() == []
    assert not [r for r in fault_server.requests() if r["host"] in ("rebind.example", "127.0.0.1")]
    assert len(res.items_for("ok.fault.test")) == 1
    assert not [i for i in res.items if "fault.test" not in (i["final_url"] or "")]


def test_ssrf_only_the_control_page_is_stored(ssrf):
    """Cases 87, 88: no blocked seed, and no redirect to a blocked address, stored anything; the
    control page is stored whole. (The meta-refresh page, "moved", is no article.)"""
    res, _ = ssrf
    assert res.stored_hosts() == {"ok.fault.test"}
    (copy,) = res.copies_for("ok.fault.test")
    assert copy["a_title"] == "Statement on fault case ssrf-control"


def test_ssrf_every_seed_and_hop_refused_with_reason(ssrf):
    res, targets = ssrf
    for i, target in enumerate(targets):
        direct = [e for e in res.errors if e["url"] == target or e["url"].rstrip("/") == target.rstrip("/")]
        assert direct, f"no failure recorded for seed {target}"
        assert (
            "blocked" in direct[0]["message"]
            or "resolves to a blocked address" in direct[0]["message"]
            or direct[0]["error"] in ("RobotsUnreachable", "IgnoreRequest", "CannotResolveHostError")
        ), direct
        hop = res.errors_for(f"r{i}.fault.test") + [
            e for e in res.errors if e["url"] == target + "?via=redirect"
        ]
        assert hop and (
            "blocked" in hop[0]["message"]
            or "Unreachable" in hop[0]["error"]
            or "resolve" in hop[0]["message"]
        ), (target, hop)
    assert res.stats.get("safety/blocked/loopback", 0) >= 10
    assert res.stats.get("safety/blocked/metadata", 0) >= 2


def test_dns_rebinding_checked_on_resolved_address(ssrf, fault_server):
    """Case 88: a name answering 127.0.0.1 is refused at connect time; the fault server (which is on
    127.0.0.1) sees no request for that name, robots.txt included."""
    res, _ = ssrf
    assert not [r for r in fault_server.requests() if r["host"] == "rebind.example"]
    assert "Refused to connect to rebind.example: it resolves to 127.0.0.1 (loopback)" in res.log


def test_meta_refresh_to_loopback_refused(ssrf):
    res, _ = ssrf
    assert res.stats.get("safety/blocked/loopback", 0) >= 1
    assert fault_server_not_hit_by_meta(res)


def fault_server_not_hit_by_meta(res):
    return not [i for i in res.items if "127.0.0.1" in (i["final_url"] or "")]


def test_offsite_redirects_and_host_tricks_dropped(fault_server, tmp_path):
    """Cases 15, 89: with allowed_domains, a redirect to another host and the userinfo / suffix /
    prefix tricks are dropped; the server never sees those hosts."""
    s = fault_server
    urls = [
        s.url("offsite", "/links?set=offsite"),
        s.url("offsite", f"/redirect?to=http://evil.test:{s.port}/page/x"),
    ]
    res = run_crawl(
        urls,
        tmp_path,
        args={"follow": "1", "allowed": "fault.test"},
        settings={"DISPATCHES_ALLOW_HOSTS": f"*.fault.test:{s.port},*.test:{s.port}"},
    )
    hosts = {r["host"] for r in s.requests()}
    assert not hosts & {"evil.test", "evilfault.test", "fault.test.evil.test"}
    assert "/page/in-scope" in [r["path"] for r in s.requests("offsite.fault.test")]
    assert res.stats.get("offsite/filtered", 0) >= 3
    assert res.stored_hosts() == {"offsite.fault.test"}
    assert [c["url"].rsplit("/", 1)[-1] for c in res.copies_for("offsite.fault.test")] == ["in-scope"]


def test_credentials_stripped_before_fetch_log_and_store(fault_server, tmp_path):
    """Case 90: userinfo and token/api_key parameters never reach the server, the log, an item or
    the database (every table, every column); both pages are stored under their clean URLs."""
    s = fault_server
    res = run_crawl(
        [s.url("creds", "/links?set=creds")],
        tmp_path,
        args={"follow": "1"},
        settings={"DISPATCHES_ALLOW_HOSTS": f"*.fault.test:{s.port}", "LOG_LEVEL": "DEBUG"},
    )
    reqs = s.requests("creds.fault.test")
    paths = {r["target"] for r in reqs}
    assert "/page/with-userinfo" in paths and "/page/with-token?id=7" in paths
    for r in reqs:
        assert "authorization" not in r["headers"]
        assert "hunter2" not in r["target"] and "s3cr3t" not in r["target"]
        assert "hunter2" not in r["headers"].get("referer", "")
    # DEBUG item dumps contain the page body (with its links); every other line must be clean.
    lines = [line for line in res.log.splitlines() if "RawPage(" not in line]
    assert not [line for line in lines if "hunter2" in line or "s3cr3t" in line]
    for item in res.items:
        assert (
            "hunter2" not in item["url"] and "s3cr3t" not in item["url"] and "s3cr3t" not in item["final_url"]
        )
    assert res.stats["safety/credentials_stripped"] == 2
    stored = db_text(res.db)
    assert "hunter2" not in stored and "s3cr3t" not in stored
    urls = sorted(c["url"] for c in res.copies_for("creds.fault.test"))
    assert [u.rsplit("/", 1)[-1] for u in urls] == ["with-token?id=7", "with-userinfo"]


def test_5xx_storm_opens_circuit_other_hosts_continue(fault_server, tmp_path):
    """Case 11: every page on a host answers 503: at most 3 requests per page, the host is left alone
    after K=6 failed attempts in a row, the stats name it; another host is crawled as usual."""
    s = fault_server
    urls = [s.url("storm", f"/storm/{i}") for i in range(12)] + [
        s.url("calm", f"/page/calm-{i}") for i in range(3)
    ]
    res = run_crawl(
        urls,
        tmp_path,
        settings={
            "DISPATCHES_ALLOW_HOSTS": f"*.fault.test:{s.port}",
            "DISPATCHES_CIRCUIT_BREAKER": "6",
            "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
            "DOWNLOAD_DELAY": "0.05",
            "DISPATCHES_RETRY_BACKOFF": "0.05",
        },
    )
    storm = [r for r in s.requests("storm.fault.test") if r["path"] != "/robots.txt"]
    per_page: dict[str, int] = {}
    for r in storm:
        per_page[r["path"]] = per_page.get(r["path"], 0) + 1
    assert max(per_page.values()) <= 3
    # One request at a time: exactly K attempts, then nothing. (With concurrency, what already
    # sat in the host's download slot when the breaker opened still goes out, once.)
    assert len(storm) == 6
    assert res.stats["safety/circuit_open"] == ["storm.fault.test"]
    assert sum(1 for e in res.errors_for("storm.fault.test") if "circuit open" in e["message"]) >= 6
    assert len(res.items_for("calm.fault.test")) == 3
    assert "Circuit breaker: storm.fault.test failed 6 times in a row" in res.log
    assert res.stored_hosts() == {"calm.fault.test"} and len(res.copies_for("calm.fault.test")) == 3
    crawl = res.crawl_row()
    assert crawl["status"] == "degraded" and crawl["stats"]["circuit_open"] == ["storm.fault.test"]


def test_no_local_control_surfaces(fault_server, tmp_path):
    """Case 93: telnet console and remote control are off in the project settings."""
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    assert settings.getbool("TELNETCONSOLE_ENABLED") is False
    assert settings.getbool("REMOTE_CONTROL_ENABLED") is False
    assert set(settings.getdict("DOWNLOAD_HANDLERS")) >= {"file", "data", "ftp", "s3"}
    assert all(
        v is None
        for k, v in settings.getdict("DOWNLOAD_HANDLERS").items()
        if k in ("file", "data", "ftp", "s3")
    )


def test_resolver_lets_the_proxy_host_through(monkeypatch):
    """With a proxy the proxy resolves target names; its own name (often a private address)
    must pass the resolver's check."""
    from types import SimpleNamespace

    from scrapy.settings import Settings
    from twisted.internet import reactor

    from crawlers.middlewares.resolver import SafeResolver

    monkeypatch.setenv("https_proxy", "http://proxy.internal.example:3128")
    crawler = SimpleNamespace(settings=Settings({"DNSCACHE_ENABLED": False, "DNS_TIMEOUT": 5}))
    resolver = SafeResolver.from_crawler(crawler, reactor)
    assert resolver.allow.allows_name("proxy.internal.example")
    assert not resolver.allow.allows_name("www.state.gov.internal.example")
    assert resolver._check("10.1.2.3", "proxy.internal.example") == "10.1.2.3"
    with pytest.raises(Exception, match="blocked address"):
        resolver._check("10.1.2.3", "elsewhere.example")
