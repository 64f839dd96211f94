"""`scrapy export-warc` end to end: valid WARC/1.1 (warcio, digests), filters, and the round trip
export -> `scrapy ingest` into a new database -> the same articles."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.test_ingest_e2e import FIXTURES, REPO, SCRAPY, rows, run_in_process, scrapy


@pytest.fixture(scope="module")
def source_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("warc") / "source.db"
    scrapy(
        "ingest",
        "--workers",
        "0",
        "--base-url",
        "https://ca.usembassy.gov/",
        str(FIXTURES / "captures"),
        str(FIXTURES / "html"),
        str(FIXTURES / "extra"),
        db=db,
        check=0,
    )
    return db


def article_set(db):
    return sorted(
        (a["title"], a["text"], a["canonical_url"], a["published"], a["publisher"], a["copies_count"])
        for a in rows(db, "SELECT * FROM articles")
    )


def copy_set(db):
    return sorted(
        (c["url"] or "", c["source_path"] or "", c["role"], c["page_sha256"])
        for c in rows(db, "SELECT * FROM copies")
    )


def test_export_is_valid_warc_and_ingests_back_to_the_same_articles(source_db, tmp_path):
    out = tmp_path / "export.warc.gz"
    proc = scrapy("export-warc", str(out), "--json", db=source_db, check=0)
    n_copies = len(rows(source_db, "SELECT id FROM copies"))
    assert json.loads(proc.stdout)["records"] == n_copies
    assert not list(tmp_path.glob(".export-*"))  # no temporary file left behind

    with open(out, "rb") as fh:
        records = list(ArchiveIterator(fh, check_digests=True))
    assert records[0].rec_type == "warcinfo"
    assert {r.rec_headers.protocol for r in records} == {"WARC/1.1"}
    pages = records[1:]
    assert len(pages) == n_copies
    with open(out, "rb") as fh:
        for rec in ArchiveIterator(fh, check_digests="raise"):  # raises on a wrong digest
            rec.content_stream().read()
    for rec in pages:
        assert rec.rec_headers.get_header("WARC-Payload-Digest").startswith("sha1:")
        assert rec.rec_headers.get_header("WARC-Date").endswith("Z")
    responses = {r.rec_headers.get_header("WARC-Target-URI"): r for r in pages if r.rec_type == "response"}
    assert "https://www.state.gov/deputy-secretary-meets-civil-society-leaders-on-labor-rights/" in responses
    resources = [r for r in pages if r.rec_type == "resource"]
    assert {r.rec_headers.get_header("WARC-Target-URI") for r in resources} >= {
        "urn:dispatches:file:harbor_release.txt"
    }  # relative to its argument

    copy_db = tmp_path / "copy.db"
    back = json.loads(scrapy("ingest", str(out), "--json", "--workers", "0", db=copy_db, check=0).stdout)
    assert back["pages_fetched"] == n_copies and back["skipped"] == {}
    assert article_set(copy_db) == article_set(source_db)
    assert copy_set(copy_db) == copy_set(source_db)
    # The dates travel too.
    src = {c["url"] or c["source_path"]: c["fetched_at"] for c in rows(source_db, "SELECT * FROM copies")}
    dst = {c["url"] or c["source_path"]: c["fetched_at"] for c in rows(copy_db, "SELECT * FROM copies")}
    assert src == dst


def test_export_filters_and_replace(source_db, tmp_path, monkeypatch, capsys):
    site = tmp_path / "site.warc"
    code, out, _ = run_in_process(
        monkeypatch,
        capsys,
        "export-warc",
        str(site),
        "--site",
        "www.state.gov",
        "--json",
        "--db",
        str(source_db),
    )
    assert code == 0 and json.loads(out)["records"] == 1
    with open(site, "rb") as fh:
        uris = [
            r.rec_headers.get_header("WARC-Target-URI")
            for r in ArchiveIterator(fh)
            if r.rec_type != "warcinfo"
        ]
    assert uris == ["https://www.state.gov/deputy-secretary-meets-civil-society-leaders-on-labor-rights/"]

    future = tmp_path / "future.warc.gz"
    code, out, _ = run_in_process(
        monkeypatch,
        capsys,
        "export-warc",
        str(future),
        "--since",
        "2999-01-01",
        "--json",
        "--db",
        str(source_db),
    )
    assert code == 0 and json.loads(out)["records"] == 0
    code, _, err = run_in_process(
        monkeypatch, capsys, "export-warc", str(site), "--force", "--db", str(source_db)
    )
    n_copies = len(rows(source_db, "SELECT id FROM copies"))
    assert code == 0 and f"Wrote {n_copies} page records" in err  # everything, replacing the --site export


def test_export_usage_errors(source_db, tmp_path, monkeypatch, capsys):
    site = tmp_path / "exists.warc"
    site.write_bytes(b"keep me")
    code, _, err = run_in_process(monkeypatch, capsys, "export-warc", str(site), "--db", str(source_db))
    assert code == 2 and "--force" in err and site.read_bytes() == b"keep me"
    code, _, err = run_in_process(
        monkeypatch,
        capsys,
        "export-warc",
        str(tmp_path / "x.warc"),
        "--since",
        "last tuesday",
        "--db",
        str(source_db),
    )
    assert code == 2 and "--since" in err
    code, _, err = run_in_process(monkeypatch, capsys, "export-warc", "--db", str(source_db))
    assert code == 2
    code, _, err = run_in_process(
        monkeypatch, capsys, "export-warc", str(tmp_path / "y.warc"), "--db", str(tmp_path / "missing.db")
    )
    assert code == 1 and "no such database" in err
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "y.warc").exists()


def fixture_web_warc(path: Path, n: int) -> int:
    """A WARC of `n` article pages of the fixture web (state.gov, embassy and aggregator copies)."""
    from cleaners.model import RawPage
    from crawlers.warc import write_warc
    from tests.fixtures.web.generate import build_site

    site = build_site(scale=max(1, n // 80), phase=1, crawl_delay=0)
    urls = [c["url"] for s in site.manifest["statements"] for c in s["copies"]][:n]
    pages = []
    for url in urls:
        host, rest = url.split("://", 1)[1].split("/", 1)
        res = site[(host, "/" + rest)]
        pages.append(
            RawPage(
                url=url,
                final_url=url,
                status=200,
                body=res.body,
                fetched_at="2026-01-01T00:00:00+00:00",
                headers={k.lower(): v for k, v in res.headers.items()},
            )
        )
    with open(path, "wb") as fh:
        return write_warc(fh, pages)


def test_sigterm_mid_ingest_keeps_whole_pages_and_a_rerun_finishes(tmp_path):
    warc = tmp_path / "web.warc.gz"
    total = fixture_web_warc(warc, 40)
    db = tmp_path / "term.db"
    cmd = [*SCRAPY, "ingest", str(warc), "--workers", "0", "--json", "--db", str(db)]
    env = {k: v for k, v in os.environ.items() if k != "DISPATCHES_DB"}
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    saved = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            saved = rows(db, "SELECT count(*) AS n FROM copies")[0]["n"]
        except sqlite3.Error:
            saved = 0
        if saved >= 10:
            proc.send_signal(signal.SIGSTOP)  # hold it mid-run, whatever the machine's speed
            break
        time.sleep(0.02)
    assert proc.poll() is None, "ingest finished before it could be interrupted"
    proc.send_signal(signal.SIGTERM)
    proc.send_signal(signal.SIGCONT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err and "Traceback" not in err
    assert rows(db, "PRAGMA integrity_check")[0]["integrity_check"] == "ok"
    crawl = rows(db, "SELECT status, stats FROM crawls")
    assert [c["status"] for c in crawl] == ["interrupted"]
    done = rows(db, "SELECT count(*) AS n FROM copies")[0]["n"]
    assert saved <= done < total
    assert json.loads(crawl[0]["stats"])["pages_fetched"] >= done

    again = json.loads(scrapy("ingest", str(warc), "--workers", "0", "--json", db=db, check=0).stdout)
    assert again["status"] == "ok" and again["unchanged"] == done
    assert rows(db, "SELECT count(*) AS n FROM copies")[0]["n"] == total
    assert rows(db, "SELECT count(DISTINCT url) AS n FROM copies")[0]["n"] == total


def test_disk_full_stops_with_one_line_and_a_rerun_completes(tmp_path):
    """Fault case 59 from ingest's side: writes fail (RLIMIT_FSIZE; Python ignores SIGXFSZ),
    the run stops with one clear line and exit 1, nothing half-written, a rerun finishes."""
    import resource

    warc = tmp_path / "web.warc.gz"
    total = fixture_web_warc(warc, 30)
    db = tmp_path / "full.db"

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))

    env = {k: v for k, v in os.environ.items() if k != "DISPATCHES_DB"}
    proc = subprocess.run(
        [*SCRAPY, "ingest", str(warc), "--workers", "0", "--db", str(db)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        preexec_fn=small_files,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert len([ln for ln in proc.stderr.splitlines() if ln.startswith("dispatches:")]) == 1
    assert rows(db, "PRAGMA integrity_check")[0]["integrity_check"] == "ok"
    stored = rows(db, "SELECT count(*) AS n FROM copies")[0]["n"]
    assert stored < total
    again = json.loads(scrapy("ingest", str(warc), "--workers", "0", "--json", db=db, check=0).stdout)
    assert again["status"] == "ok"
    assert rows(db, "SELECT count(DISTINCT url) AS n FROM copies")[0]["n"] == total
    assert rows(db, "SELECT count(*) AS n FROM copies")[0]["n"] == total


def test_a_reused_url_exports_both_pages_and_ingests_back_alike(tmp_path, monkeypatch, capsys):
    """A URL that held one statement and now holds another: the WARC keeps both captures, in
    order, and ingesting it rebuilds the same two articles (the old copy retired)."""
    from cleaners import clean
    from cleaners.model import RawPage
    from crawlers.commands.ingest import Ingester
    from crawlers.diskinput import DiskReader
    from store import Store
    from tests.test_reprocess import article_html

    url = "https://www.state.gov/reused-slug/"
    src = tmp_path / "src.db"
    db = Store(str(src))
    try:
        for body, when in (
            (
                (FIXTURES / "html" / "mirror" / "news" / "index.html").read_bytes(),
                "2025-01-01T00:00:00+00:00",
            ),
            (article_html(FIXTURES / "extra" / "coastal_patrol.txt"), "2025-02-01T00:00:00+00:00"),
        ):
            raw = RawPage(
                url=url,
                final_url=url,
                status=200,
                headers={"content-type": "text/html; charset=utf-8"},
                body=body,
                fetched_at=when,
                spider="state_gov",
            )
            db.save(clean(raw), raw)
    finally:
        db.close()
    out = tmp_path / "reused.warc.gz"
    code, stdout, _ = run_in_process(monkeypatch, capsys, "export-warc", str(out), "--json", "--db", str(src))
    assert code == 0 and json.loads(stdout)["records"] == 2
    dst = Store(str(tmp_path / "dst.db"))
    try:
        summary = Ingester(dst).run(DiskReader(), [str(out)], {})
    finally:
        dst.close()
    assert summary.articles_new == 2 and summary.failures == 0

    def shape(path):
        return sorted(
            (
                c["url_key"].split("#")[1][:10] if "#" in c["url_key"] else "current",
                c["fetched_at"],
                a["title"],
            )
            for c in rows(path, "SELECT * FROM copies")
            for a in rows(path, "SELECT title FROM articles WHERE id = ?", (c["article_id"],))
        )

    assert shape(tmp_path / "dst.db") == shape(src)
