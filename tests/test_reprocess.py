"""`scrapy reprocess`: stored raw pages re-cleaned with today's cleaners; texts updated, copies
merged or split where identity changed, a report with counts and diffs; run twice, nothing more.

The "old cleaner" is simulated by saving Documents that a worse cleaner would have made from
the same raw pages: one kept a cruft line, one missed the attribution and extracted junk, one
got another statement's text. Reprocessing must repair all three.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from cleaners import clean
from cleaners.model import RawPage, content_hash
from store import Store
from store.testing import all_rows
from tests.test_ingest_e2e import FIXTURES, rows, run_in_process, scrapy

DEPUTY_URL = "https://www.state.gov/deputy-secretary-meets-civil-society-leaders-on-labor-rights/"


def text_raw(path: Path, when: str) -> RawPage:
    return RawPage(
        url=None,
        final_url=None,
        status=200,
        headers={"content-type": "text/plain; charset=utf-8"},
        body=path.read_bytes(),
        fetched_at=when,
        spider="ingest",
        discovered_via="file",
        source_path=path.name,
    )


def worse(doc, **changes):
    """What an older cleaner made of the page."""
    if "text" in changes:
        changes["content_hash"] = content_hash(changes["text"])
    return dataclasses.replace(doc, **changes)


@pytest.fixture()
def old_db(tmp_path):
    return build_old_db(tmp_path / "old.db")


def build_old_db(db: Path) -> Path:
    store = Store(str(db))
    try:
        official = RawPage(
            url=DEPUTY_URL,
            final_url=DEPUTY_URL,
            status=200,
            headers={"content-type": "text/html; charset=utf-8"},
            body=(FIXTURES / "html" / "saved_canonical.html").read_bytes(),
            fetched_at="2025-01-01T00:00:00+00:00",
            spider="state_gov",
            discovered_via="sitemap",
        )
        store.save(clean(official), official)
        harbor = text_raw(FIXTURES / "captures" / "harbor_release.txt", "2025-01-02T00:00:00+00:00")
        harbor_doc = clean(harbor)
        store.save(harbor_doc, harbor)
        # 1. Kept a cruft line at the end.
        lantern = text_raw(
            FIXTURES / "captures" / "nested" / "lantern_statement.txt", "2025-01-03T00:00:00+00:00"
        )
        good = clean(lantern)
        store.save(
            worse(good, text=good.text + "\n\nPolitics - DAILY WIRE HUB originally published at Politics"),
            lantern,
        )
        # 2. Missed the attribution and extracted the navigation only: an article of its own.
        synd = text_raw(FIXTURES / "extra" / "deputy_syndicated.txt", "2025-01-04T00:00:00+00:00")
        store.save(
            worse(
                clean(synd),
                claimed_original=None,
                title="World",
                text="World | Politics | Business | Sports | Weather | Contact the wire desk today",
            ),
            synd,
        )
        # 3. Got the harbor release's text: joined that article as an exact duplicate.
        coast = text_raw(FIXTURES / "extra" / "coastal_patrol.txt", "2025-01-05T00:00:00+00:00")
        res = store.save(worse(clean(coast), text=harbor_doc.text, title=harbor_doc.title), coast)
        assert res.match_method == "exact"
    finally:
        store.close()
    return db


def test_reprocess_repairs_texts_merges_and_splits(old_db):
    assert len(rows(old_db, "SELECT id FROM articles")) == 4
    proc = scrapy("reprocess", "--json", "--workers", "0", db=old_db, check=0)
    report = json.loads(proc.stdout)
    assert report["status"] == "ok" and report["pages_fetched"] == 5
    assert report["merged"] == 1 and report["split"] == 1
    assert report["text_changed"] >= 2 and report["articles_removed"] == 1  # the junk article
    diff = "\n".join(ex["diff"] for ex in report["examples"])
    assert "-Politics - DAILY WIRE HUB originally published at Politics" in diff
    assert "Traceback" not in proc.stderr

    articles = {a["title"]: a for a in rows(old_db, "SELECT * FROM articles")}
    assert len(articles) == 4  # junk article folded into the official one, coast guard split out
    deputy = articles["Deputy Secretary Meets Civil Society Leaders on Labor Rights"]
    assert deputy["copies_count"] == 2 and deputy["canonical_url"] == DEPUTY_URL
    assert "World | Politics" not in json.dumps(rows(old_db, "SELECT text FROM articles"))
    coast = next(a for t, a in articles.items() if t.startswith("Coast Guard Cadets"))
    assert coast["copies_count"] == 1 and "boarding" in coast["text"]
    harbor = next(a for t, a in articles.items() if t.startswith("Ambassador Visits"))
    assert harbor["copies_count"] == 1
    lantern = next(a for t, a in articles.items() if "Lantern" in t)
    assert "DAILY WIRE HUB" not in lantern["text"]
    merged = rows(old_db, "SELECT * FROM merged_articles")
    assert len(merged) == 1 and "reprocess" in merged[0]["reason"]
    crawls = rows(old_db, "SELECT spider, status FROM crawls")
    assert crawls == [{"spider": "reprocess", "status": "ok"}]

    # Again: the cleaners are the same, so nothing changes.
    before = rows(old_db, "SELECT id, article_id, text_sha256 FROM copies ORDER BY id")
    again = json.loads(scrapy("reprocess", "--json", "--workers", "0", db=old_db, check=0).stdout)
    assert (again["merged"], again["split"], again["text_changed"], again["meta_changed"]) == (0, 0, 0, 0)
    assert again["unchanged"] == 5
    assert rows(old_db, "SELECT id, article_id, text_sha256 FROM copies ORDER BY id") == before


def test_reprocess_site_filter_and_human_report(old_db):
    proc = scrapy("reprocess", "--site", "www.state.gov", "--workers", "0", db=old_db, check=0)
    assert "raw pages re-cleaned" in proc.stderr and proc.stdout == ""
    assert json.loads(rows(old_db, "SELECT stats FROM crawls")[0]["stats"])["pages_fetched"] == 1


def test_reprocess_usage(tmp_path, monkeypatch, capsys):
    code, _, err = run_in_process(
        monkeypatch, capsys, "reprocess", "somefile", "--db", str(tmp_path / "x.db")
    )
    assert code == 2 and "no paths" in err
    code, _, err = run_in_process(
        monkeypatch, capsys, "reprocess", "--since", "yesterday", "--db", str(tmp_path / "x.db")
    )
    assert code == 2
    code, _, err = run_in_process(monkeypatch, capsys, "reprocess", "--db", str(tmp_path / "x.db"))
    assert code == 1 and "no such database" in err and not (tmp_path / "x.db").exists()


def article_html(path: Path) -> bytes:
    """A plain page around a capture's paragraphs (title = first line)."""
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").split("\n\n") if ln.strip()]
    body = "".join(f"<p>{ln}</p>" for ln in lines[1:])
    return (
        f"<html><head><title>{lines[0]}</title></head><body><article><h1>{lines[0]}</h1>{body}"
        f"</article></body></html>"
    ).encode()


def test_retired_and_gone_copies_are_left_as_they_are(tmp_path):
    """A URL that now holds another statement keeps its old copy retired, and a copy marked gone
    stays gone: re-cleaning is not a fetch."""
    from crawlers.commands.reprocess import Reprocessor

    reused = "https://www.state.gov/reused-slug/"
    moved = "https://www.state.gov/old-home-of-a-statement/"
    db = Store(str(tmp_path / "r.db"))
    try:
        for body, when, url in (
            (
                (FIXTURES / "html" / "mirror" / "news" / "index.html").read_bytes(),
                "2025-01-01T00:00:00+00:00",
                reused,
            ),
            (article_html(FIXTURES / "extra" / "coastal_patrol.txt"), "2025-02-01T00:00:00+00:00", reused),
            (article_html(FIXTURES / "captures" / "harbor_release.txt"), "2025-03-01T00:00:00+00:00", moved),
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
        db.db.conn.execute("UPDATE copies SET gone = 1 WHERE url = ?", (moved,))
        db.db.conn.commit()
        before = [
            dict(r)
            for r in all_rows(db, "SELECT id, article_id, url_key, gone, text_sha256 FROM copies ORDER BY id")
        ]
        assert any("#superseded-" in r["url_key"] for r in before), before
        report = Reprocessor(db).run(None, None, {})
        after = [
            dict(r)
            for r in all_rows(db, "SELECT id, article_id, url_key, gone, text_sha256 FROM copies ORDER BY id")
        ]
    finally:
        db.close()
    assert report.status == "ok" and report.pages == 2  # the store does not offer the retired page
    assert (report.merged, report.split, report.text_changed) == (0, 0, 0)
    assert after == before
