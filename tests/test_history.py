"""Gone pages, claimed originals and archived captures in the store, on real SQLite files and
through the one junction (`crawlers.junction.process`)."""

from __future__ import annotations

from datetime import date

from cleaners.model import RawPage
from crawlers.junction import process
from store import Store
from store.history import memento_time
from store.testing import GRANTS, HARBOUR, all_rows, one, page

DAY = date(2024, 3, 1)
OFFICIAL = "https://www.state.gov/harbour-agreement/"
WIRE = "https://wire.example/world/harbour"
EMBASSY = "https://mexico.usembassy.gov/press-releases/ep140415.html"
CAPTURE = f"https://web.archive.org/web/20140421083000id_/{EMBASSY}"


def _gone(url: str, status: int = 404) -> RawPage:
    return RawPage(
        url=url,
        final_url=url,
        status=status,
        headers={},
        body=b"",
        fetched_at="2024-05-01T08:00:00Z",
        spider="test",
        meta={},
    )


def test_a_gone_page_is_marked_not_deleted(tmp_path):
    s = Store(tmp_path / "d.db")
    first = s.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    crawl = s.start_crawl("state_gov")
    out = process(_gone(OFFICIAL, 410), s, None, crawl_id=crawl)
    assert str(out) == "refused/gone"
    row = one(s, "SELECT gone, gone_at, title FROM copies WHERE id = ?", (first.copy_id,))
    assert row == {"gone": 1, "gone_at": "2024-05-01T08:00:00Z", "title": "Harbour Agreement"}
    art = one(s, "SELECT title, text FROM articles WHERE id = ?", (first.article_id,))
    assert art["title"] == "Harbour Agreement" and art["text"] == HARBOUR
    assert len(all_rows(s, "SELECT * FROM versions")) == 1
    events = s.history.gone_copies(crawl)
    assert [(e["copy_id"], e["http_status"], e["reason"]) for e in events] == [
        (first.copy_id, 410, "http_410")
    ]
    # A second 404 of the same page keeps the first time it disappeared.
    process(_gone(OFFICIAL), s, None, crawl_id=crawl)
    assert (
        one(s, "SELECT gone_at FROM copies WHERE id = ?", (first.copy_id,))["gone_at"]
        == "2024-05-01T08:00:00Z"
    )
    assert len(s.history.gone_copies()) == 1
    # A URL never stored is only an event.
    process(_gone("https://www.state.gov/never-seen/"), s, None, crawl_id=crawl)
    assert len(s.history.gone_copies()) == 1
    s.close()


def test_a_claim_is_pending_until_fetched_and_backs_off_when_it_fails(tmp_path):
    s = Store(tmp_path / "d.db")
    s.save(*page(WIRE, HARBOUR, "Harbour Agreement", DAY, claimed=OFFICIAL))
    s.save(*page("https://blog.example/x", GRANTS, "Grants", DAY, claimed="https://blog.example/original"))
    pending = s.history.pending_claims(official=("state.gov", "*.state.gov"))
    assert [c["url"] for c in pending] == [OFFICIAL]
    assert len(s.history.pending_claims()) == 2  # every host when no official list is given
    row = s.history.claim_tried(OFFICIAL, "failed", http_status=503, at="2024-05-01T08:00:00Z")
    assert row is not None and row["tries"] == 1 and row["next_try_at"] == "2024-05-02T08:00:00Z"
    assert s.history.pending_claims(now="2024-05-01T20:00:00Z", official=("*.state.gov",)) == []
    again = s.history.pending_claims(now="2024-05-02T09:00:00Z", official=("*.state.gov",))
    assert [c["url"] for c in again] == [OFFICIAL]
    row = s.history.claim_tried(OFFICIAL, "failed", at="2024-05-02T09:00:00Z")
    assert row is not None and row["next_try_at"] == "2024-05-04T09:00:00Z"  # doubled
    # Fetched: the original joins the article of the copy that claimed it and represents it.
    res = s.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    assert res.match_method in ("attribution", "exact")
    s.history.claim_tried(OFFICIAL, "fetched", http_status=200)
    assert s.history.pending_claims(now="2030-01-01T00:00:00Z", official=("*.state.gov",)) == []
    art = one(s, "SELECT canonical_url, copies_count FROM articles WHERE id = ?", (res.article_id,))
    assert art == {"canonical_url": OFFICIAL, "copies_count": 2}
    s.close()


def test_an_archived_capture_becomes_the_official_copy_with_its_memento_time(tmp_path):
    s = Store(tmp_path / "d.db")
    wire = s.save(*page(WIRE, HARBOUR + " Share this story.", "Harbour Agreement", DAY, claimed=EMBASSY))
    doc, raw = page(
        EMBASSY,
        HARBOUR,
        "Harbour Agreement",
        DAY,
        meta={"archived_url": CAPTURE, "memento_at": memento_time("20140421083000")},
    )
    res = s.save(doc, raw)
    assert res.article_id == wire.article_id and res.role == "archived"
    row = one(
        s, "SELECT url, site, role, rank, archived_url, memento_at FROM copies WHERE id = ?", (res.copy_id,)
    )
    assert row == {
        "url": EMBASSY,
        "site": "mexico.usembassy.gov",
        "role": "archived",
        "rank": 2,
        "archived_url": CAPTURE,
        "memento_at": "2014-04-21T08:30:00Z",
    }
    art = one(s, "SELECT rep_copy_id, text, canonical_url FROM articles WHERE id = ?", (res.article_id,))
    assert art == {"rep_copy_id": res.copy_id, "text": HARBOUR, "canonical_url": EMBASSY}
    assert [c["id"] for c in s.history.archived_copies()] == [res.copy_id]
    # The live page, if it comes back, is a copy of its own beside the capture.
    live = s.save(*page(EMBASSY, HARBOUR, "Harbour Agreement", DAY))
    assert live.article_id == wire.article_id and live.copy_id != res.copy_id
    s.close()


def test_a_move_records_where_the_page_went(tmp_path):
    s = Store(tmp_path / "d.db")
    old = s.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    moved = "https://2021-2025.state.gov/harbour-agreement/"
    s.save(
        *page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY, final_url=moved, fetched_at="2025-02-01T00:00:00Z")
    )
    row = one(s, "SELECT gone, moved_to FROM copies WHERE id = ?", (old.copy_id,))
    assert row == {"gone": 1, "moved_to": moved}
    s.close()


def test_memento_time_reads_cdx_timestamps():
    assert memento_time("20140421083000") == "2014-04-21T08:30:00Z"
    assert memento_time("2014") == "2014-01-01T00:00:00Z"
