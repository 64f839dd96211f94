"""Secret query parameters never reach the database, whichever way a page comes in.

A WARC ingested with `scrapy ingest` and a crawl with `scrapy crawl` both carry URLs with
`?code=...` and `?session=...` (built-in secret names) and `?dept_pin=...` (a name given with
`DISPATCHES_SECRET_PARAMS`). Afterwards no table holds any of those values: every value of every
table is read, and the database file's bytes are searched too. The pages themselves are stored,
with their other parameters kept. Without the setting, the `dept_pin` value is stored, so the
setting is what removes it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.faults.faultkit import ROOT, SCRAPY, crawl_env, db_text, read_db, run_crawl
from tests.faults.faultserver import article_html
from tests.test_warc import foreign_warc, http

VALUES = {
    "code": "CODE-VALUE-9d41c7",
    "session": "SESSION-VALUE-2e8b05",
    "dept_pin": "PIN-VALUE-7f3a66",
}
WARC_URLS = [
    f"https://www.state.gov/redact-code/?code={VALUES['code']}&id=1",
    f"https://www.state.gov/redact-session/?session={VALUES['session']}",
    f"https://mx.usembassy.gov/redact-pin/?lang=es&dept_pin={VALUES['dept_pin']}",
]


def stored_values(db: Path) -> set[str]:
    """The secret values found anywhere in the database: any table's text, or the file's bytes
    (the WAL is checkpointed into the file when a run closes the store)."""
    text = db_text(db)
    raw = b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal")) if p.exists())
    return {v for v in VALUES.values() if v in text or v.encode() in raw}


def ingest(warc: Path, db: Path, *settings: str) -> dict:
    argv = [SCRAPY, "ingest", str(warc), "--db", str(db), "--workers", "0", "--json"]
    for setting in settings:
        argv += ["-s", setting]
    proc = subprocess.run(argv, cwd=ROOT, env=crawl_env(), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def warc(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("redaction") / "secrets.warc.gz"
    records = []
    for url in WARC_URLS:
        body = article_html(url.split("/")[3]).encode()
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
        records.append(("response", url, http("200 OK", headers, body)))
    foreign_warc(path, records)
    return path


def test_an_ingested_warc_stores_no_secret_value(warc, tmp_path):
    db = tmp_path / "ingest.db"
    summary = ingest(warc, db, "DISPATCHES_SECRET_PARAMS=dept_pin")
    assert summary["skipped"] == {}
    urls = sorted(c["url"] for c in read_db(db, "SELECT url FROM copies"))
    assert urls == [
        "https://mx.usembassy.gov/redact-pin/?lang=es",
        "https://www.state.gov/redact-code/?id=1",
        "https://www.state.gov/redact-session/",
    ]
    assert stored_values(db) == set()


def test_without_the_setting_the_named_parameter_is_kept(warc, tmp_path):
    db = tmp_path / "control.db"
    ingest(warc, db)
    assert stored_values(db) == {VALUES["dept_pin"]}  # code and session are always secret


def test_a_crawl_sends_and_stores_no_secret_value(fault_server, tmp_path):
    s = fault_server
    urls = [
        s.url("redact", f"/page/redact-code?code={VALUES['code']}&id=1"),
        s.url("redact", f"/page/redact-session?session={VALUES['session']}"),
        s.url("redact", f"/page/redact-pin?lang=es&dept_pin={VALUES['dept_pin']}"),
    ]
    db = tmp_path / "crawl.db"
    settings = {"DISPATCHES_ALLOW_HOSTS": f"*.fault.test:{s.port}", "DISPATCHES_DB": str(db)}
    # The extra name from the environment this time; -s is the ingest test's way.
    res = run_crawl(urls, tmp_path, settings=settings, env={"DISPATCHES_SECRET_PARAMS": "dept_pin"})
    assert res.returncode == 0, res.log[-3000:]
    sent = [r["target"] for r in s.requests("redact.fault.test") if r["path"].startswith("/page/")]
    assert sorted(sent) == ["/page/redact-code?id=1", "/page/redact-pin?lang=es", "/page/redact-session"]
    stored = sorted(c["url"].split(str(s.port), 1)[1] for c in read_db(db, "SELECT url FROM copies"))
    assert stored == sorted(sent)
    assert stored_values(db) == set()
    assert not [v for v in VALUES.values() if v in res.log]
