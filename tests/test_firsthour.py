"""A user's first hour: each ordinary failure is one clear line, the documented exit code, no loss.

Every test runs a command the way a user types it (a subprocess from the checkout or from a
subfolder), then checks what it printed, its exit status and that the database kept what it had.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def scrapy(*argv: str, cwd: Path = ROOT, env: dict | None = None, timeout: int = 180):
    full_env = {**os.environ, **(env or {})}
    for name in ("https_proxy", "http_proxy", "HTTPS_PROXY", "HTTP_PROXY"):
        if env is None or name not in env:
            full_env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def crawl_rows(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("select spider, status, stats from crawls order by id").fetchall()
    finally:
        con.close()


# --- network errors ---------------------------------------------------------------------------
HOSTS = [f"h{i:02d}.usembassy.gov" for i in range(24)]


def test_crawl_without_network_is_a_few_lines_per_host_and_says_why(tmp_path):
    """Every host's connection is refused (a proxy on a closed port): no traceback, no robots block."""
    import json

    port = closed_port()
    proxy = f"http://127.0.0.1:{port}"
    db = tmp_path / "d.db"
    proc = scrapy(
        "crawl",
        "usembassy",
        "-a",
        "hosts=" + ",".join(HOSTS),
        "-s",
        f"DISPATCHES_DB={db}",
        "-s",
        f"DISPATCHES_ALLOW_HOSTS=127.0.0.1:{port}",
        "-s",
        "DOWNLOAD_DELAY=0",
        env={"https_proxy": proxy, "http_proxy": proxy},
    )
    err = proc.stderr
    assert proc.returncode == 1, err[-2000:]
    assert "Traceback" not in err
    assert "robots.txt" not in err.replace("/robots.txt", "")  # never described as a robots block
    for host in HOSTS:
        assert f"{host} unreachable (connection refused)" in err
    # Scrapy's banner and stats dump are a fixed cost; what grows with the hosts stays small.
    assert len(err.splitlines()) < 150 + 5 * len(HOSTS)
    assert err.strip().splitlines()[-1] == (
        f"dispatches: crawl usembassy finished: failed: 0 of {len(HOSTS)} hosts reachable (network error)"
    )
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "dispatches: crawl usembassy finished: failed: 0 of 3 hosts reachable (network error)" in readme
    [(spider, status, stats)] = crawl_rows(db)
    stats = json.loads(stats)
    assert (spider, status) == ("usembassy", "failed")
    assert sorted(stats["network_error"]) == HOSTS and stats["robots_blocked"] == []
    assert stats["status_reason"] == f"0 of {len(HOSTS)} hosts reachable (network error)"


def banner_free(err: str) -> bool:
    return "Scrapy 2." not in err and "Traceback" not in err


def file_digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_db(path: Path) -> Path:
    """A real, small database with one finished run in it."""
    from store import Store

    db = Store(str(path))
    crawl_id = db.start_crawl("usembassy", {"hosts": "mx.usembassy.gov"})
    db.finish_crawl(crawl_id, "ok", {"pages_fetched": 0})
    db.close()
    return path


# --- bad arguments and options ---------------------------------------------------------------
@pytest.mark.parametrize(
    "arg, expected",
    [
        ("sinse=2024-01-01", "-a sinse: usembassy takes no such argument; did you mean -a since?"),
        ("bogus=1", "-a bogus: usembassy takes no such argument; it takes hosts, lang, since"),
        ("hosts=", "-a hosts= is empty"),
        ("topic=", "-a topic= is empty"),
    ],
)
def test_bad_spider_argument_is_one_line_exit_2_and_a_crawls_row(tmp_path, arg, expected):
    db = make_db(tmp_path / "d.db")
    proc = scrapy("crawl", "usembassy", "-a", arg, "-s", f"DISPATCHES_DB={db}")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"dispatches: {proc.stderr.strip()[len('dispatches: ') :]}"]
    assert expected in proc.stderr and banner_free(proc.stderr)
    rows = crawl_rows(db)
    assert rows[0][1] == "ok"  # what was there is kept
    spider, status, stats = rows[-1]
    assert (spider, status) == ("usembassy", "failed") and "bad argument: -a " in stats


def test_demo_with_an_unknown_option_is_one_line_exit_2():
    proc = scrapy("demo", "--bogus")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "dispatches: scrapy demo takes no argument '--bogus' (scrapy demo --help lists its options)"
    ]


def test_cleaners_into_a_closed_pipe_has_no_traceback(tmp_path):
    page = tmp_path / "page.html"
    para = "<p>" + "The Secretary met the Foreign Minister to discuss trade and security. " * 40 + "</p>"
    page.write_text(
        f"<html><head><title>Long statement</title></head><body><article>{para * 60}</article></body></html>"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "cleaners", str(page), "--url", "https://www.state.gov/long/"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10)  # like `| head -c 10`: read a little, then go away
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err


# --- locks ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ("crawl", "usembassy", "-a", "hosts=mx.usembassy.gov"),
        ("ingest", "--workers", "0", "README.md", "--db", "{db}"),
        ("reprocess", "--workers", "0", "--db", "{db}"),
    ],
    ids=["crawl", "ingest", "reprocess"],
)
def test_locked_database_is_exit_75_in_every_command(tmp_path, argv):
    from crawlers.runlock import run_lock

    db = make_db(tmp_path / "d.db")
    argv = tuple(a.replace("{db}", str(db)) for a in argv)
    with run_lock(str(db)):
        before = len(crawl_rows(db))
        proc = scrapy(*argv, "-s", f"DISPATCHES_DB={db}")
    assert proc.returncode == 75, proc.stderr[-2000:]
    assert "another run is using" in proc.stderr and "Traceback" not in proc.stderr
    rows = crawl_rows(db)
    assert len(rows) == before + 1 and rows[-1][1] == "failed" and "lock held" in rows[-1][2]


# --- read-only database or folder ----------------------------------------------------------
def without_root_powers():
    """For a child of a root test run: drop the capabilities that let root ignore file modes
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so a read-only file is read-only to it."""
    if os.geteuid() != 0:
        return None

    def drop():
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (1, 2):  # PR_CAPBSET_DROP of CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            if libc.prctl(24, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    return drop


@pytest.fixture
def readonly(tmp_path):
    """A database whose file ("file") or folder ("folder") the command cannot write."""

    def build(kind: str) -> Path:
        folder = tmp_path / "ro"
        folder.mkdir()
        db = make_db(folder / "d.db")
        if kind == "file":
            db.chmod(0o444)
        else:
            folder.chmod(0o555)
        return db

    yield build
    (tmp_path / "ro").chmod(0o755)


@pytest.mark.parametrize("kind", ["file", "folder"])
@pytest.mark.parametrize(
    "argv",
    [
        ("crawl", "usembassy", "-a", "hosts=mx.usembassy.gov"),
        ("ingest", "--workers", "0", "README.md", "--db", "{db}"),
        ("reprocess", "--workers", "0", "--db", "{db}"),
        ("export-warc", "--db", "{db}", "/tmp/dispatches-never-written.warc.gz"),
    ],
    ids=["crawl", "ingest", "reprocess", "export-warc"],
)
def test_read_only_database_or_folder_is_one_line_and_nothing_lost(readonly, kind, argv):
    db = readonly(kind)
    digest = file_digest(db)
    argv = tuple(a.replace("{db}", str(db)) for a in argv)
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", *argv, "-s", f"DISPATCHES_DB={db}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=without_root_powers(),
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("dispatches:")]
    assert len(lines) == 1 and banner_free(proc.stderr), proc.stderr[-2000:]
    assert "read-only" in lines[0] and "corrupt" not in lines[0] and "backup" not in lines[0]
    assert file_digest(db) == digest and not Path("/tmp/dispatches-never-written.warc.gz").exists()


# --- WARC -------------------------------------------------------------------------------------
def warc_record(url: str, title: str) -> bytes:
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=False)
    words = " ".join(
        f"{title} said the talks covered trade, health and security number {i}." for i in range(40)
    )
    body = (
        f"<html><head><title>{title}</title></head>"
        f"<body><article><h1>{title}</h1><p>{words}</p></article></body></html>"
    )
    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
    record = writer.create_warc_record(
        url, "response", payload=io.BytesIO(body.encode()), http_headers=headers
    )
    writer.write_record(record)
    return buf.getvalue()


def test_malformed_warc_record_is_one_line_and_the_rest_is_ingested(tmp_path):
    first = warc_record("https://www.state.gov/first-statement/", "Alpha statement on trade")
    # a record without Content-Length
    bad = b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://www.state.gov/bad/\r\n\r\nx\r\n\r\n"
    last = warc_record("https://www.state.gov/last-statement/", "Gamma statement on health")
    warc = tmp_path / "m.warc"
    warc.write_bytes(first + bad + last)
    db = tmp_path / "d.db"
    proc = scrapy("ingest", "--workers", "0", "--db", str(db), str(warc))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "NoneType" not in proc.stderr
    [line] = [ln for ln in proc.stderr.splitlines() if "skipped" in ln and "m.warc" in ln]
    assert f"record at offset {len(first)}" in line and "warc_corrupt" in line
    con = sqlite3.connect(db)
    urls = sorted(r[0] for r in con.execute("select url from copies"))
    con.close()
    assert urls == ["https://www.state.gov/first-statement/", "https://www.state.gov/last-statement/"]


# --- the right database ----------------------------------------------------------------------
def test_relative_dispatches_db_is_taken_from_the_project_root(tmp_path):
    rel = os.path.relpath(tmp_path / "sub" / "r.db", ROOT)
    port = closed_port()
    proxy = f"http://127.0.0.1:{port}"
    proc = scrapy(
        "crawl",
        "usembassy",
        "-a",
        "hosts=mx.usembassy.gov",
        "-s",
        f"DISPATCHES_ALLOW_HOSTS=127.0.0.1:{port}",
        cwd=ROOT / "crawlers",
        env={"DISPATCHES_DB": rel, "https_proxy": proxy, "http_proxy": proxy},
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert f"creating a new database at {tmp_path / 'sub' / 'r.db'}" in proc.stderr
    assert (tmp_path / "sub" / "r.db").is_file()
    assert not (ROOT / "crawlers" / rel).exists()
    assert not (ROOT / "crawlers" / "data" / "dispatches.db").exists()


def test_ingest_into_a_folder_that_does_not_exist_is_an_error(tmp_path):
    db = tmp_path / "typo" / "d.db"
    proc = scrapy("ingest", "--workers", "0", "--db", str(db), "README.md")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"dispatches: {tmp_path / 'typo'}: no such folder for the database (check --db or DISPATCHES_DB)"
    ]
    assert not (tmp_path / "typo").exists()


def test_reprocess_site_takes_a_url_or_says_nothing_matched(demo_build, tmp_path):
    import json
    import shutil

    assert demo_build.returncode == 0, demo_build.stderr[-2000:]
    db = tmp_path / "demo.db"
    shutil.copy(demo_build.path, db)
    articles = crawl_rows(db)
    proc = scrapy(
        "reprocess", "--workers", "0", "--json", "--db", str(db), "--site", "https://2021-2025.state.gov/"
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["pages_fetched"] > 0
    proc = scrapy("reprocess", "--workers", "0", "--db", str(db), "--site", "https://nowhere.example/")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "dispatches: no stored raw pages of nowhere.example; nothing reprocessed"
    )
    assert crawl_rows(db)[: len(articles)] == articles


def test_crawl_health_says_why_a_run_failed_and_which_hosts_were_unreachable(tmp_path):
    """A refused run and an unreachable host, as a user of `scrapy browse` sees them."""
    import json

    from store import Store

    db = make_db(tmp_path / "dispatches.db")
    store = Store(str(db))
    crawl_id = store.start_crawl("usembassy", {})
    store.finish_crawl(
        crawl_id,
        "failed",
        {
            "pages_fetched": 0,
            "network_error": {"mx.usembassy.gov": "DNS lookup failed"},
            "status_reason": "0 of 1 hosts reachable (network error)",
        },
    )
    store.close()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "datasette",
            str(db),
            "--metadata",
            str(ROOT / "store" / "metadata.yml"),
            "--get",
            "/dispatches/crawl_health.json?_shape=objects",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    [row] = json.loads(proc.stdout)["rows"]
    assert row["why"] == "0 of 1 hosts reachable (network error)"
    assert row["unreachable"] == "mx.usembassy.gov (DNS lookup failed)"


def test_status_reason_names_each_cause_once_per_host():
    from crawlers.junction import run_stats
    from crawlers.pipelines import crawl_status, status_reason

    stats = run_stats(
        {},
        discovery={"a.gov": "sitemap", "b.gov": "none", "c.gov": "none"},
        network_error={"b.gov": "connection refused"},
        robots_blocked=["c.gov"],
        deferred=[],
        finish_reason="finished",
    )
    status = crawl_status("finished", stats)
    assert status == "degraded"
    assert status_reason(status, stats) == (
        "1 of 3 hosts crawled (network error: 1, robots.txt unreachable: 1)"
    )
    assert status_reason("ok", stats) == ""


@pytest.mark.parametrize(
    "exc, reason",
    [
        ("twisted.internet.error.DNSLookupError", "DNS lookup failed"),
        ("scrapy.exceptions.CannotResolveHostError", "DNS lookup failed"),
        ("twisted.internet.error.ConnectionRefusedError", "connection refused"),
        ("twisted.internet.error.TCPTimedOutError", "timed out"),
        ("scrapy.exceptions.DownloadTimeoutError", "timed out"),
        ("twisted.internet.error.ConnectionLost", "connection reset"),
        ("OpenSSL.SSL.Error", "TLS error"),
        ("scrapy.exceptions.IgnoreRequest", None),
        ("ValueError", None),
    ],
)
def test_network_reason_of_download_errors(exc, reason):
    import builtins
    import importlib

    from crawlers.neterrors import network_reason

    module, _, name = exc.rpartition(".")
    cls = getattr(importlib.import_module(module) if module else builtins, name)
    assert network_reason(cls("boom")) == reason


@pytest.mark.parametrize(
    "argv",
    [["ingest", "--bogus"], ["reprocess", "--workers", "x"], ["export-warc"], ["reprocess", "--since", "x"]],
)
def test_a_usage_error_is_one_line_and_exit_2(argv):
    """Bad flags and values: one line that says what is wrong and where the options are."""
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", *argv], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dispatches: "), proc.stderr
    assert "--help lists the options" in lines[0] and "Traceback" not in proc.stderr
