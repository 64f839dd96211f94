"""`scrapy ingest` end to end, as a user runs it: a subprocess in the project, a real SQLite file.

Covers the seeds (one article per statement, syndicated captures joined to their original),
idempotence, a later crawl of the original joining the same article, saved HTML with and without
--base-url, and every bad input of fault cases 75-82 (tests/faults/CASES.md) in one tree
(skipped, counted, listed in `events`, exit status 1).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cleaners import clean
from cleaners.model import RawPage

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / ".." / "shared" / "seeds"
FIXTURES = REPO / "tests" / "fixtures" / "ingest"
SCRAPY = [sys.executable, "-m", "scrapy.cmdline"]
CRUFT = (
    "Official news published at",
    "originally published at",
    "Previous post",
    "Next post",
    "Share/Save/Bookmark",
    "FAIR USE NOTICE",
    "Home | Columns",
)


def scrapy(*args, db=None, check=None, env=None, prefix=()):
    cmd = [*prefix, *SCRAPY, *args]
    if db is not None:
        cmd += ["--db", str(db)]
    run_env = dict(os.environ, **(env or {}))
    run_env.pop("DISPATCHES_DB", None)
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=180, env=run_env)
    if check is not None:
        assert proc.returncode == check, (proc.returncode, proc.stdout[-2000:], proc.stderr[-4000:])
    return proc


def rows(db, sql, params=()):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def counts(db):
    return {
        t: rows(db, f"SELECT count(*) AS n FROM {t}")[0]["n"]
        for t in ("articles", "copies", "versions", "pages")
    }


def seed_004():
    path = next(SEEDS.glob("004_*.txt"))
    text = path.read_text(encoding="utf-8")
    m = re.search(r"Official news published at (\S+)", text)
    assert m, path
    url = m.group(1)
    return path, text.splitlines()[0].strip(), url


def original_page(url: str, title: str) -> bytes:
    html = (FIXTURES / "original_004.html").read_text(encoding="utf-8")
    return html.replace("{{URL}}", url).replace("{{TITLE}}", title).encode("utf-8")


needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not next to the repository")


@needs_seeds
def test_seeds_give_two_articles_and_the_original_joins_later(tmp_path):
    db = tmp_path / "seeds.db"
    proc = scrapy("ingest", str(SEEDS), "--json", "--workers", "1", db=db, check=0)  # through a CleanerPool
    summary = json.loads(proc.stdout)
    assert summary["articles_new"] == 2 and summary["status"] == "ok"
    assert summary["ignored"] == {"unsupported_type": 1}  # the seeds' README.md
    assert "Ingest" not in proc.stdout  # the human table goes to stderr, JSON alone on stdout

    articles = rows(db, "SELECT * FROM articles ORDER BY id")
    assert len(articles) == 2
    path_004, title_004, url_004 = seed_004()
    a004 = next(a for a in articles if a["canonical_url"] == url_004)
    a000 = next(a for a in articles if a["id"] != a004["id"])
    copy_004 = rows(db, "SELECT * FROM copies WHERE article_id = ?", (a004["id"],))
    assert len(copy_004) == 1
    assert copy_004[0]["claimed_original_url"] == url_004
    assert copy_004[0]["source_path"] == path_004.name
    assert copy_004[0]["role"] == "syndicated", "a capture naming its original is a syndicated copy"
    for cruft in CRUFT:
        assert cruft not in a004["text"] and cruft not in a000["text"], cruft
    assert a000["publisher"] in (
        "U.S. Embassy Mexico City",
        "U.S. Embassy in Mexico City",
        "U.S. Embassy Mexico",
    )
    assert a000["published"] == "2014-04-15"
    crawl = rows(db, "SELECT * FROM crawls")
    assert [(c["spider"], c["status"]) for c in crawl] == [("ingest", "ok")]
    stats = json.loads(crawl[0]["stats"])
    assert stats["articles_new"] == 2 and stats["pages_fetched"] == 2 and stats["errors"] == 0

    # Again: nothing changes (fault case 82).
    before = counts(db)
    again = json.loads(scrapy("ingest", str(SEEDS), "--json", "--workers", "0", db=db, check=0).stdout)
    assert again["articles_new"] == 0 and again["copies_new"] == 0 and again["unchanged"] == 2
    assert counts(db) == before

    # A crawl later fetches the state.gov original: it joins the same article and represents it.
    from store import Store

    raw = RawPage(
        url=url_004,
        final_url=url_004,
        status=200,
        headers={"content-type": "text/html; charset=utf-8"},
        body=original_page(url_004, title_004),
        fetched_at="2026-01-05T09:00:00+00:00",
        spider="state_gov",
        discovered_via="sitemap",
    )
    store = Store(str(db))
    try:
        res = store.save(clean(raw), raw)
    finally:
        store.close()
    assert res.article_id == a004["id"] and res.role == "original"
    after = rows(db, "SELECT * FROM articles WHERE id = ?", (a004["id"],))[0]
    assert after["copies_count"] == 2 and after["canonical_url"] == url_004
    assert "written for the Dispatches tests" in after["text"]  # the official copy's text now
    assert len(rows(db, "SELECT * FROM articles")) == 2


def make_bad_tree(root: Path, outside: Path) -> None:
    """Good captures and one of every bad input, side by side."""
    shutil.copytree(FIXTURES / "captures", root / "captures")
    shutil.copytree(FIXTURES / "html", root / "html")
    shutil.copy(FIXTURES / "captures" / "harbor_release.txt", root / "captures" / "harbor_again.txt")
    (root / "bad").mkdir()
    (root / "bad" / "empty.txt").write_bytes(b"")
    (root / "bad" / "photo.html").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(300))
    (root / "bad" / "report.html").write_bytes(b"%PDF-1.5\n" + os.urandom(300))
    (root / "bad" / "program.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00" + os.urandom(300))
    import gzip

    (root / "bad" / "bomb.html").write_bytes(gzip.compress(b"<p>" + b"\x00" * (8 << 20)))
    with open(root / "bad" / "huge.txt", "wb") as fh:
        fh.truncate(3 << 30)
    (root / "bad" / "noise.txt").write_bytes(bytes(range(1, 9)) * 500)
    (root / "bad" / "locked.txt").write_bytes((FIXTURES / "captures" / "harbor_release.txt").read_bytes())
    os.chmod(root / "bad" / "locked.txt", 0)
    os.mkfifo(root / "bad" / "pipe.txt")
    outside.write_text("a secret that must never be read " * 20)
    os.symlink(outside, root / "bad" / "escape.txt")
    os.symlink("..", root / "bad" / "parent")
    os.symlink("loop2.txt", root / "bad" / "loop1.txt")
    os.symlink("loop1.txt", root / "bad" / "loop2.txt")
    name = os.path.join(os.fsencode(root), b"captures", b"r\xe9sum\xe9 of the week.txt")
    with open(name, "wb") as fh:  # a Latin-1 file name (invalid UTF-8) holding a good capture
        fh.write((FIXTURES / "extra" / "coastal_patrol.txt").read_bytes())


def unprivileged() -> list[str]:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, "--bounding-set=-all", "--inh-caps=-all", "--"] if setpriv else []


def test_tree_with_bad_inputs_is_ingested_and_every_skip_listed(tmp_path):
    root = tmp_path / "captures-root"
    root.mkdir()
    make_bad_tree(root, tmp_path / "outside-secret.txt")
    db = tmp_path / "tree.db"
    prefix = unprivileged()
    proc = scrapy(
        "ingest",
        str(root),
        "--json",
        "--workers",
        "0",
        "--base-url",
        "https://ca.usembassy.gov/",
        db=db,
        check=1,
        prefix=prefix,
    )
    summary = json.loads(proc.stdout)
    expected = {
        "empty": 1,
        "binary": 4,
        "undecodable": 1,
        "too_large": 1,
        "not_regular_file": 1,
        "outside_root": 1,
        "symlink_loop": 3,
    }
    if prefix or os.geteuid() != 0:
        expected["unreadable"] = 1
    assert summary["skipped"] == expected
    assert summary["status"] == "degraded" and summary["errors"] == sum(expected.values())
    assert "Traceback" not in proc.stderr

    # Every skip is an event row with the path and the reason.
    events = rows(db, "SELECT * FROM events WHERE stage = 'read'")
    assert len(events) == sum(expected.values())
    by_path = {os.path.basename(e["url"]): e["reason"] for e in events}
    assert by_path["escape.txt"] == "outside_root" and by_path["pipe.txt"] == "not_regular_file"
    assert by_path["huge.txt"] == "too_large" and by_path["bomb.html"] == "binary"
    assert "secret that must never be read" not in json.dumps(rows(db, "SELECT * FROM copies"))

    copies = rows(db, "SELECT * FROM copies ORDER BY id")
    paths = {c["source_path"]: c for c in copies if c["source_path"]}
    # The same text under two names: one article, two provenance rows.
    assert (
        paths["captures/harbor_release.txt"]["article_id"] == paths["captures/harbor_again.txt"]["article_id"]
    )
    # The Latin-1 name is kept, escaped losslessly.
    latin = [p for p in paths if p.startswith("captures/r%E9sum%E9")]
    assert latin, sorted(paths)
    # Saved HTML: its own canonical URL first, --base-url for a mirror page without one.
    urls = {c["url"]: c for c in copies if c["url"]}
    assert (
        urls["https://www.state.gov/deputy-secretary-meets-civil-society-leaders-on-labor-rights/"]["role"]
        == "original"
    )
    assert urls["https://ca.usembassy.gov/html/mirror/news/"]["role"] == "embassy"
    n_articles = len(rows(db, "SELECT id FROM articles"))
    assert n_articles == 5  # harbor, lantern, coast guard, deputy secretary, consulate workshop

    before = counts(db)
    again = json.loads(
        scrapy(
            "ingest",
            str(root),
            "--json",
            "--workers",
            "0",
            "--base-url",
            "https://ca.usembassy.gov/",
            db=db,
            check=1,
            prefix=prefix,
        ).stdout
    )
    assert again["articles_new"] == 0 and again["copies_new"] == 0 and again["versions_new"] == 0
    assert counts(db) == before
    os.chmod(root / "bad" / "locked.txt", 0o600)


def run_in_process(monkeypatch, capsys, *argv) -> tuple[object, str, str]:
    """`scrapy ARGV` in this process (usage errors end before any work: no need for a child)."""
    from scrapy.cmdline import execute

    monkeypatch.chdir(REPO)
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "crawlers.settings")
    with pytest.raises(SystemExit) as exit_:
        execute(["scrapy", *argv])
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


def test_usage_errors_exit_2_with_one_line(tmp_path, monkeypatch, capsys):
    db = str(tmp_path / "u.db")
    for argv in (
        ["ingest", "--db", db],
        ["ingest", "--db", db, str(tmp_path / "nothing-here")],
        ["ingest", "--db", db, "--max-size", "lots", str(FIXTURES)],
        ["ingest", "--db", db, "--frobnicate", str(FIXTURES)],
        ["ingest", "--db", db, "--base-url", "ftp://x/", str(FIXTURES)],
        ["ingest", "--db", db, "--root", str(tmp_path / "no-such-dir"), str(FIXTURES)],
        ["ingest", "--db", db, "--timeout", "0", str(FIXTURES)],
        ["ingest", "--db", db, "--workers", "-2", str(FIXTURES)],
    ):
        code, out, err = run_in_process(monkeypatch, capsys, *argv)
        assert code == 2, (argv, err)
        assert len(err.strip().splitlines()) == 1 and err.startswith("dispatches: "), err
        assert "Traceback" not in err
    code, out, err = run_in_process(monkeypatch, capsys, "ingest", "--help")
    assert code == 0 and "--base-url" in out and "Exit status" in out
    assert not os.path.exists(db)


def test_busy_or_foreign_database_is_one_line_and_exit_1(tmp_path):
    """A held lock is 75 (try again later), as in every command; a foreign file is 1."""
    db = tmp_path / "u.db"
    from crawlers.runlock import run_lock

    with run_lock(str(db)):
        proc = scrapy("ingest", "--workers", "0", str(FIXTURES / "captures"), db=db)
    assert proc.returncode == 75
    assert "another run is using" in proc.stderr and "Traceback" not in proc.stderr
    assert len([ln for ln in proc.stderr.splitlines() if "dispatches:" in ln]) == 1
    assert not db.exists()

    notdb = tmp_path / "notes.db"
    notdb.write_text("these are my notes, not a database\n" * 100)
    proc = scrapy("ingest", "--workers", "0", str(FIXTURES / "captures"), db=notdb)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert len([ln for ln in proc.stderr.splitlines() if "dispatches:" in ln]) == 1
    assert notdb.read_text().startswith("these are my notes")
