"""Hostile trees for `scrapy ingest` (cases 75-80, 82 of tests/faults/CASES.md): one run over a tree
holding a symlink out of the root, a symlink loop, a FIFO, a sparse 2 GiB file, binaries and a
gzip bomb named .html, non-UTF-8 text; then the same tree again."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import zlib

import pytest

from tests.faults.faultkit import ROOT, SCRAPY, crawl_env
from tests.faults.faultserver import article_html

SECRET = "OUTSIDE-ROOT-SECRET-5b1e"


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ingest")
    outside = tmp / "outside.html"
    outside.write_text(article_html("outside").replace("Fault case", SECRET))
    root = tmp / "root"
    (root / "sub").mkdir(parents=True)
    (root / "good.html").write_text(article_html("ingest-good"))
    (root / "copy-of-good.html").write_text(article_html("ingest-good"))
    (root / "cp1252.txt").write_bytes(
        (
            "Statement on caf\u00e9 policy. The minister\u2019s remarks on the d\u00e9marche were "
            "welcomed by the delegation, which noted the \u201cconstructive\u201d tone of the talks and "
            "the progress on maritime "
            "cooperation. Both sides agreed to meet again in the autumn. " * 6
        ).encode("cp1252")
    )
    (root / "utf16.html").write_bytes(article_html("ingest-utf16").encode("utf-16"))
    os.symlink(outside, root / "escape.html")
    os.symlink(root, root / "sub" / "loop")
    os.symlink(root / "a-link", root / "b-link")
    os.symlink(root / "b-link", root / "a-link")
    os.mkfifo(root / "pipe.html")
    with open(root / "sparse.html", "wb") as fh:
        fh.truncate(2 << 30)
    (root / "image.html").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16)
    (root / "doc.html").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 16)
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    (root / "bomb.html").write_bytes(
        b"".join([c.compress(b"\0" * (1 << 20)) for _ in range(64)] + [c.flush()])
    )
    (
        root / "bad-\udcff-name.html".encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")
    ).write_text(article_html("ingest-badname"))
    db = tmp / "ingest.db"

    def run():
        return subprocess.run(
            [SCRAPY, "ingest", str(root)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env=crawl_env({"DISPATCHES_DB": str(db), "DISPATCHES_CLEAN_WORKERS": "1"}),
        )

    first = run()
    second = run()
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    yield first, second, con
    con.close()


def _events(con):
    return {(r["url"] or "").rsplit("/", 1)[-1]: r["reason"] for r in con.execute("SELECT * FROM events")}


def test_ingest_finishes_and_reports(ingested):
    first, second, con = ingested
    assert "Traceback" not in first.stderr + second.stderr
    assert first.returncode in (0, 1)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_nothing_outside_the_root_is_read(ingested):
    """Case 75: a symlink to a file outside the root is skipped, its content never stored."""
    _, _, con = ingested
    dump = " ".join(str(tuple(r)) for r in con.execute("SELECT title, text FROM articles"))
    assert SECRET not in dump


def test_loops_fifos_sparse_binaries_and_bombs_skipped(ingested):
    """Cases 76-79: symlink loops end, a FIFO is never opened, a 2 GiB sparse file is skipped by size,
    PNG/PDF/gzip-bomb files named .html are skipped by their magic bytes."""
    _, _, con = ingested
    reasons = " ".join(f"{k}={v}" for k, v in _events(con).items())
    for name in ("pipe.html", "sparse.html", "image.html", "doc.html", "bomb.html"):
        assert name in reasons, reasons
    stored = {r["url_key"].rsplit("/", 1)[-1] for r in con.execute("SELECT url_key FROM copies")}
    assert not stored & {"pipe.html", "sparse.html", "image.html", "doc.html", "bomb.html", "escape.html"}


def test_odd_encodings_and_names_stored(ingested):
    """Case 80: cp1252 text, UTF-16 HTML and a file name with invalid UTF-8 are ingested."""
    _, _, con = ingested
    titles = " ".join(r["title"] or "" for r in con.execute("SELECT title FROM articles"))
    texts = " ".join(r["text"] for r in con.execute("SELECT text FROM articles"))
    assert "caf\u00e9 policy. The minister\u2019s remarks on the d\u00e9marche" in texts
    assert "ingest-utf16" in titles and "ingest-badname" in titles


def test_ingest_is_idempotent(ingested):
    """Case 82: the same tree twice, and one text under two names: one article, one copy per file."""
    _, _, con = ingested
    good = con.execute(
        "SELECT article_id, count(*) n FROM copies WHERE url_key LIKE '%good.html' GROUP BY article_id"
    ).fetchall()
    assert len(good) == 1 and good[0]["n"] == 2
    dup = con.execute(
        "SELECT count(*) FROM (SELECT url_key FROM copies GROUP BY url_key HAVING count(*) > 1)"
    ).fetchone()[0]
    assert dup == 0
