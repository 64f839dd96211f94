"""Store API and the identity cascade, on :memory: and real files."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import date
from typing import Any, cast

import pytest

from cleaners.model import Removal
from cleaners.urls import is_official_host as host_matches
from store import Store, normalise_url, redact_url, role_for, save
from store.testing import GRANTS, HARBOUR, all_rows, national_day, one, page, readout, truncated, wrapped

OFFICIAL = "https://www.state.gov/harbour-agreement/"
DAY = date(2024, 3, 1)


@pytest.fixture
def db():
    s = Store(":memory:")
    yield s
    s.close()


def dump(s: Store, skip=("fetched_at",)) -> dict:
    """Every user table, rows sorted, minus the columns a repeat fetch may change."""
    out = {}
    names = [
        r[0]
        for r in s.db.conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'articles_fts%' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    for name in names:
        cur = s.db.conn.execute(f"SELECT * FROM [{name}]")
        cols = [d[0] for d in cur.description]
        keep = [
            i
            for i, c in enumerate(cols)
            if c not in skip and not (name == "_sqlite_migrations" and c == "applied_at")
        ]
        out[name] = sorted(repr(tuple(r[i] for i in keep)) for r in cur.fetchall())
    return out


# ---------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    "a,b",
    [
        ("http://www.state.gov/x/", "https://state.gov/x"),
        ("https://www.state.gov/x/?utm_source=feed&utm_medium=rss", "https://state.gov/x"),
        ("https://www.state.gov/x/#section-2", "https://state.gov/x"),
        ("https://WWW.STATE.GOV:443/x", "https://state.gov/x"),
        ("https://state.gov/x?b=2&a=1", "https://state.gov/x?a=1&b=2"),
        ("https://user:secret@state.gov/x?token=abc", "https://state.gov/x"),
        ("https://news.example/a?api_key=k1&id=7&fbclid=zz", "https://news.example/a?id=7"),
    ],
)
def test_normalise_url_same_identity(a, b):
    assert normalise_url(a) == normalise_url(b)


def test_normalise_url_keeps_hosts_and_rejects_non_http():
    assert normalise_url("https://2021-2025.state.gov/x/") != normalise_url("https://www.state.gov/x/")
    assert normalise_url("https://state.gov/x?id=1") != normalise_url("https://state.gov/x?id=2")
    assert normalise_url("file:///etc/passwd") is None
    assert normalise_url("javascript:alert(1)") is None
    assert normalise_url("") is None
    assert redact_url("https://u:pw@news.example/a/?token=t&id=3#f") == "https://news.example/a/?id=3"


@pytest.mark.parametrize(
    "url,role",
    [
        ("https://www.state.gov/x/", "original"),
        ("https://state.gov/x/", "original"),
        ("https://2021-2025.state.gov/x/", "archive"),
        ("https://mx.usembassy.gov/x/", "embassy"),
        ("https://evilstate.gov/x/", "syndicated"),
        ("https://state.gov.evil.example/x/", "syndicated"),
        (None, "file"),
    ],
)
def test_roles_by_host(url, role):
    assert role_for(url) == role


def test_official_domain_patterns_match_on_dot_boundary():
    pats = ["state.gov", "*.state.gov", "*.usembassy.gov"]
    assert host_matches("www.state.gov", pats) and host_matches("2021-2025.state.gov", pats)
    assert host_matches("mx.usembassy.gov", pats)
    assert not host_matches("evilstate.gov", pats) and not host_matches("state.gov.evil.example", pats)


# ---------------------------------------------------------------- saving


def test_new_then_same_page_again_changes_only_fetched_at(tmp_path):
    s = Store(tmp_path / "d.db")
    doc, raw = page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY, fetched_at="2024-03-01T10:00:00Z")
    first = s.save(doc, raw)
    assert (first.outcome, first.match_method, first.role) == ("new", "new", "original")
    before = dump(s)
    doc2, raw2 = page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY, fetched_at="2024-03-02T10:00:00Z")
    again = s.save(doc2, raw2)
    assert (again.outcome, again.article_id, again.copy_id) == ("unchanged", first.article_id, first.copy_id)
    assert dump(s) == before
    state = s.copy_state(OFFICIAL)
    assert state and state["fetched_at"] == "2024-03-02T10:00:00Z"
    s.close()


def test_module_level_save(db):
    res = save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY), db)
    assert res.outcome == "new"


def test_archive_host_copy_joins_by_text(db):
    a = db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    b = db.save(*page("https://2021-2025.state.gov/harbour-agreement/", HARBOUR, "Harbour Agreement", DAY))
    assert (b.outcome, b.article_id, b.role, b.match_method, b.match_score) == (
        "copy",
        a.article_id,
        "archive",
        "exact",
        1.0,
    )
    art = one(db, "SELECT * FROM articles WHERE id = ?", (a.article_id,))
    assert art["copies_count"] == 2 and art["canonical_url"] == OFFICIAL


def test_truncated_and_cruft_copies_join_the_official_article(db):
    a = db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    t = db.save(*page("https://wire.example/harbour", truncated(HARBOUR, 0.4), "Harbour deal | Wire", DAY))
    w = db.save(
        *page("https://news.example/2024/harbour", wrapped(HARBOUR), "Harbour Agreement", date(2024, 3, 2))
    )
    for r in (t, w):
        assert (r.outcome, r.article_id, r.match_method, r.role) == (
            "copy",
            a.article_id,
            "near",
            "syndicated",
        )
        assert r.match_score >= 0.8
    sims = dict(db.db.conn.execute("SELECT url, similarity FROM copies"))
    assert sims[OFFICIAL] == 1.0 and all(v >= 0.8 for v in sims.values())


def test_official_copy_takes_over_an_article_started_by_a_syndicated_copy(db):
    s = db.save(*page("https://news.example/harbour", wrapped(HARBOUR), "WORLD NEWS: harbour", DAY))
    art = one(db, "SELECT * FROM articles WHERE id = ?", (s.article_id,))
    assert art["canonical_url"] is None and art["title"] == "WORLD NEWS: harbour"
    o = db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY, publisher="U.S. Department of State"))
    assert o.article_id == s.article_id and o.outcome == "copy"
    art = one(db, "SELECT * FROM articles WHERE id = ?", (s.article_id,))
    assert (art["title"], art["canonical_url"], art["publisher"]) == (
        "Harbour Agreement",
        OFFICIAL,
        "U.S. Department of State",
    )
    assert art["text"] == HARBOUR
    # both texts were the article's text at some point
    assert (
        db.db.conn.execute("SELECT count(*) FROM versions WHERE article_id = ?", (s.article_id,)).fetchone()[
            0
        ]
        == 2
    )


def test_state_gov_outranks_embassy_outranks_archive_whatever_the_order(db):
    emb = "https://mx.usembassy.gov/harbour-agreement/"
    arc = "https://2021-2025.state.gov/harbour-agreement/"
    a = db.save(*page(arc, HARBOUR, "Archive title", DAY))
    db.save(*page(emb, HARBOUR, "Embassy title", DAY))
    assert one(db, "SELECT title FROM articles")["title"] == "Embassy title"
    db.save(*page(OFFICIAL, HARBOUR, "Department title", DAY))
    art = one(db, "SELECT * FROM articles WHERE id = ?", (a.article_id,))
    assert (art["title"], art["canonical_url"], art["copies_count"]) == ("Department title", OFFICIAL, 3)


def test_official_domains_setting_decides_who_represents():
    s = Store(":memory:", official_domains="state.gov,*.state.gov")  # embassies not official here
    a = s.save(*page("https://mx.usembassy.gov/harbour/", HARBOUR, "Embassy title", DAY))
    s.save(*page("https://wire.example/h", HARBOUR, "Wire title", DAY))
    art = one(s, "SELECT * FROM articles WHERE id = ?", (a.article_id,))
    assert art["canonical_url"] is None and art["rep_rank"] == 3
    s.close()


def test_attribution_to_an_original_not_yet_seen(db):
    # the aggregator's rewrite shares little text, but names the original
    blurb = (
        "Norland and Sudmark agreed to reopen a harbour, officials said on Friday, in a deal welcomed abroad."
    )
    s = db.save(*page("https://agg.example/item/9", blurb, "Harbour deal", DAY, claimed=OFFICIAL))
    assert s.outcome == "new"
    assert one(db, "SELECT claimed_key FROM pending_attributions")["claimed_key"] == normalise_url(OFFICIAL)
    o = db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    assert (o.article_id, o.match_method) == (s.article_id, "attribution")
    assert db.db.conn.execute("SELECT count(*) FROM pending_attributions").fetchone()[0] == 0
    art = one(db, "SELECT * FROM articles WHERE id = ?", (s.article_id,))
    assert art["canonical_url"] == OFFICIAL and art["text"] == HARBOUR


def test_attribution_after_the_original(db):
    o = db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    blurb = (
        "Officials confirmed a harbour deal between two neighbours; "
        "the full statement is linked below for readers."
    )
    s = db.save(
        *page(
            "https://agg.example/item/9",
            blurb,
            "Harbour deal",
            DAY,
            claimed="http://state.gov/harbour-agreement?utm_source=agg",
        )
    )
    assert (s.article_id, s.match_method, s.outcome) == (o.article_id, "attribution", "copy")
    assert (
        one(db, "SELECT claimed_original_url FROM copies WHERE id = ?", (s.copy_id,))["claimed_original_url"]
        == "http://state.gov/harbour-agreement"
    )


def test_rel_canonical_to_an_official_host_is_an_attribution(db):
    o = db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    s = db.save(
        *page(
            "https://mirror.example/h",
            "A short note pointing to the statement on the official site.",
            "Harbour",
            DAY,
            canonical=OFFICIAL,
        )
    )
    assert (s.article_id, s.match_method) == (o.article_id, "attribution")


def test_lookalike_national_day_messages_stay_separate_and_are_listed_for_review(db):
    a = db.save(
        *page(
            "https://www.state.gov/norland-national-day/",
            national_day("Norland", "Norlanders", 75, "Ilse Brandt"),
            "Norland National Day",
            date(2024, 5, 1),
        )
    )
    b = db.save(
        *page(
            "https://www.state.gov/sudmark-national-day/",
            national_day("Sudmark", "Sudmarkers", 31, "Tomas Ruiz"),
            "Sudmark National Day",
            date(2024, 5, 3),
        )
    )
    assert b.outcome == "new" and b.article_id != a.article_id
    assert a.article_id in b.review
    rev = one(db, "SELECT * FROM review")
    assert rev["reason"] == "lookalike" and "Sudmark" in rev["detail"] and rev["score"] >= 0.7
    # a syndicated copy of each still finds its own article
    c = db.save(
        *page(
            "https://wire.example/sudmark",
            wrapped(national_day("Sudmark", "Sudmarkers", 31, "Tomas Ruiz")),
            "Sudmark National Day",
            date(2024, 5, 3),
        )
    )
    assert c.article_id == b.article_id


def test_same_country_next_year_is_another_statement(db):
    a = db.save(
        *page(
            "https://www.state.gov/norland-national-day-2023/",
            national_day("Norland", "Norlanders", 74, "Ilse Brandt"),
            "Norland National Day",
            date(2023, 5, 1),
        )
    )
    b = db.save(
        *page(
            "https://www.state.gov/norland-national-day-2024/",
            national_day("Norland", "Norlanders", 75, "Ilse Brandt"),
            "Norland National Day",
            date(2024, 5, 1),
        )
    )
    assert b.article_id != a.article_id


@pytest.mark.parametrize(
    "other,day",
    [
        (("Sudmark", "Tomas Ruiz", "maritime security"), DAY),  # another country and minister
        (("Norland", "Karl Weiss", "maritime security"), DAY),  # same country, new minister
        (("Norland", "Ilse Brandt", "energy cooperation"), date(2024, 3, 20)),  # same people, weeks later
    ],
)
def test_call_readouts_differing_in_country_names_or_date_stay_separate(db, other, day):
    a = db.save(
        *page(
            "https://www.state.gov/call-1/",
            readout("Norland", "Ilse Brandt", "maritime security"),
            "The Secretary's Call",
            DAY,
        )
    )
    b = db.save(*page("https://www.state.gov/call-2/", readout(*other), "The Secretary's Call", day))
    assert b.article_id != a.article_id


def test_text_change_on_an_official_page_is_a_version(db):
    a = db.save(*page(OFFICIAL, HARBOUR, "Harbour agreement", DAY))
    edited = HARBOUR.replace("three years", "almost three years")
    v = db.save(*page(OFFICIAL, edited, "Harbour Agreement", DAY, fetched_at="2024-03-05T00:00:00Z"))
    assert (v.outcome, v.article_id, v.copy_id) == ("version", a.article_id, a.copy_id)
    art = one(db, "SELECT * FROM articles WHERE id = ?", (a.article_id,))
    assert art["text"] == edited and art["title"] == "Harbour Agreement"
    rows = all_rows(
        db, "SELECT text, seen_at, url FROM versions WHERE article_id = ? ORDER BY id", (a.article_id,)
    )
    assert [r["text"] for r in rows] == [HARBOUR, edited]
    assert rows[1]["seen_at"] == "2024-03-05T00:00:00Z" and rows[1]["url"] == OFFICIAL


def test_slug_change_answered_by_301_stays_the_same_article(db):
    a = db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    moved = "https://www.state.gov/harbour-agreement-signed/"
    edited = HARBOUR.replace("tireless work", "tireless and patient work")
    m = db.save(
        *page(
            OFFICIAL,
            edited,
            "Harbour Agreement Signed",
            DAY,
            final_url=moved,
            fetched_at="2024-04-01T00:00:00Z",
        )
    )
    assert (m.article_id, m.match_method, m.outcome) == (a.article_id, "url", "copy")
    assert db.copy_state(OFFICIAL)["gone"] == 1
    art = one(db, "SELECT * FROM articles WHERE id = ?", (a.article_id,))
    assert art["canonical_url"] == moved and art["text"] == edited
    assert one(db, "SELECT to_key FROM redirects")["to_key"] == normalise_url(moved)
    # the new URL crawled directly later is the same copy
    again = db.save(*page(moved, edited, "Harbour Agreement Signed", DAY, fetched_at="2024-04-02T00:00:00Z"))
    assert (again.outcome, again.copy_id) == ("unchanged", m.copy_id)


def test_a_reused_url_with_another_statement_starts_a_new_article(db):
    url = "https://www.state.gov/norland-national-day/"
    a = db.save(
        *page(
            url,
            national_day("Norland", "Norlanders", 74, "Ilse Brandt"),
            "Norland National Day",
            date(2023, 5, 1),
        )
    )
    b = db.save(
        *page(url, GRANTS, "Community Radio Grants", date(2024, 5, 1), fetched_at="2024-05-02T00:00:00Z")
    )
    assert b.outcome == "new" and b.article_id != a.article_id and b.copy_id != a.copy_id
    assert (
        one(db, "SELECT title FROM articles WHERE id = ?", (a.article_id,))["title"] == "Norland National Day"
    )
    assert db.copy_state(url)["article_id"] == b.article_id
    assert list(db.known_urls("www.state.gov")) == [normalise_url(url)]
    # reprocess must not re-save the retired page under the URL
    assert [p.body for p in db.raw_pages()] == [page(url, GRANTS, "Community Radio Grants")[1].body]
    assert len(list(db.raw_pages(include_superseded=True))) == 2


def test_an_old_capture_of_a_reused_url_saved_late_does_not_displace_the_current_page(db):
    url = "https://www.state.gov/norland-national-day/"
    now = db.save(
        *page(url, GRANTS, "Community Radio Grants", date(2024, 5, 1), fetched_at="2024-05-02T00:00:00Z")
    )
    old_doc = page(
        url,
        national_day("Norland", "Norlanders", 74, "Ilse Brandt"),
        "Norland National Day",
        date(2023, 5, 1),
        fetched_at="2023-05-02T00:00:00Z",
    )
    late = db.save(*old_doc)
    assert late.outcome == "new" and late.article_id != now.article_id
    assert db.copy_state(url)["article_id"] == now.article_id
    again = db.save(*old_doc)
    assert (again.outcome, again.copy_id) == ("unchanged", late.copy_id)
    assert (
        db.save(
            *page(url, GRANTS, "Community Radio Grants", date(2024, 5, 1), fetched_at="2024-05-03T00:00:00Z")
        ).outcome
        == "unchanged"
    )


def test_translation_is_its_own_article_linked_to_the_english_one_in_either_order(db):
    es_url = "https://mx.usembassy.gov/es/acuerdo-del-puerto/"
    es_text = (
        "Estados Unidos celebra el acuerdo firmado hoy por los gobiernos de Norland y Sudmark para reabrir "
        "el puerto del norte al transporte civil tras tres años de cierre. Alentamos a ambos gobiernos a "
        "aplicar sin demora el régimen de inspección acordado."
    )
    t = db.save(
        *page(
            es_url,
            es_text,
            "Acuerdo del puerto",
            DAY,
            language="es",
            translation_of=OFFICIAL,
            claimed=OFFICIAL,
        )
    )
    assert (
        one(db, "SELECT translation_of_article_id FROM articles WHERE id = ?", (t.article_id,))[
            "translation_of_article_id"
        ]
        is None
    )
    o = db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    assert o.article_id != t.article_id
    assert (
        one(db, "SELECT translation_of_article_id FROM articles WHERE id = ?", (t.article_id,))[
            "translation_of_article_id"
        ]
        == o.article_id
    )
    t2 = db.save(
        *page(
            "https://ca.usembassy.gov/fr/port/",
            "Les États-Unis saluent l'accord signé aujourd'hui par Norland et "
            "Sudmark pour rouvrir le port du nord au transport civil après trois ans de fermeture.",
            "Accord du port",
            DAY,
            language="fr",
            translation_of=OFFICIAL,
        )
    )
    assert (
        one(db, "SELECT translation_of_article_id FROM articles WHERE id = ?", (t2.article_id,))[
            "translation_of_article_id"
        ]
        == o.article_id
    )


def test_file_without_url_is_a_file_copy_and_joins_by_text(db):
    o = db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    f = db.save(
        *page(
            None,
            wrapped(HARBOUR),
            None,
            None,
            source_path="saved/harbour.txt",
            headers={"content-type": "text/plain"},
        )
    )
    assert (f.role, f.article_id, f.match_method) == ("file", o.article_id, "near")
    again = db.save(
        *page(
            None,
            wrapped(HARBOUR),
            None,
            None,
            source_path="saved/harbour.txt",
            headers={"content-type": "text/plain"},
        )
    )
    assert again.outcome == "unchanged" and again.copy_id == f.copy_id


def test_removed_cruft_is_kept_as_provenance(db):
    r = db.save(
        *page(
            "https://wire.example/h",
            HARBOUR,
            "Harbour",
            DAY,
            removed=(Removal("strip_share_links", "Share on X"), Removal("strip_read_more", "Read more")),
        )
    )
    row = one(db, "SELECT removed, removed_count FROM copies WHERE id = ?", (r.copy_id,))
    assert row["removed_count"] == 2 and json.loads(row["removed"])[0] == {
        "rule": "strip_share_links",
        "text": "Share on X",
    }
    assert one(db, "SELECT removed_count FROM articles")["removed_count"] == 2


# ---------------------------------------------------------------- raw pages, URL state, crawls


def test_raw_pages_stored_once_compressed_and_read_back(tmp_path):
    s = Store(tmp_path / "d.db")
    body = b"<html><body>" + HARBOUR.encode() * 20 + b"</body></html>"
    s.save(
        *page(
            OFFICIAL,
            HARBOUR,
            "Harbour",
            DAY,
            body=body,
            headers={"content-type": "text/html; charset=utf-8", "etag": '"v1"'},
        )
    )
    s.save(*page("https://2021-2025.state.gov/harbour-agreement/", HARBOUR, "Harbour", DAY, body=body))
    row = one(
        s,
        "SELECT count(*) AS n, max(size) AS size, max(length(body)) AS stored, max(encoding) AS enc "
        "FROM pages",
    )
    assert (
        row["n"] == 1 and row["size"] == len(body) and row["stored"] < len(body) / 5 and row["enc"] == "utf-8"
    )
    pages = list(s.raw_pages())
    assert [p.body for p in pages] == [body, body]
    assert pages[0].final_url == OFFICIAL and pages[0].headers["etag"] == '"v1"' and pages[0].status == 200
    assert [p.url for p in s.raw_pages(site="2021-2025.state.gov")] == [
        "https://2021-2025.state.gov/harbour-agreement/"
    ]
    assert list(s.raw_pages(since="2099-01-01")) == []
    s.close()
    s = Store(tmp_path / "n.db", keep_raw=False)
    s.save(*page(OFFICIAL, HARBOUR, "Harbour", DAY, body=body))
    assert one(s, "SELECT count(*) AS n FROM pages")["n"] == 0
    state = s.copy_state(OFFICIAL)
    assert state and state["page_sha256"]
    s.close()


def test_touch_copy_state_known_urls_and_url_state(db):
    assert db.copy_state(OFFICIAL) is None
    assert db.touch(OFFICIAL, "2024-05-01T00:00:00Z") is False
    db.save(
        *page(
            OFFICIAL,
            HARBOUR,
            "Harbour",
            DAY,
            headers={
                "content-type": "text/html",
                "etag": '"abc"',
                "last-modified": "Fri, 01 Mar 2024 10:00:00 GMT",
            },
        )
    )
    before = dump(db)
    assert db.touch("http://state.gov/harbour-agreement", "2024-05-01T00:00:00Z") is True
    st = db.copy_state(OFFICIAL)
    assert st["fetched_at"] == "2024-05-01T00:00:00Z" and st["etag"] == '"abc"' and st["http_status"] == 200
    assert st["last_modified"] == "Fri, 01 Mar 2024 10:00:00 GMT"
    assert dump(db) == before  # a 304 changes fetched_at only
    db.set_url_state(OFFICIAL, lastmod="2024-04-30", modified_gmt="2024-04-30T12:00:00")
    db.set_url_state("https://www.state.gov/not-yet/", lastmod="2024-05-02")
    assert db.copy_state(OFFICIAL)["lastmod"] == "2024-04-30"
    known = db.known_urls("state.gov")
    assert set(known) == {normalise_url(OFFICIAL), "https://state.gov/not-yet"}
    assert (
        known[normalise_url(OFFICIAL)]["article_id"]
        and known["https://state.gov/not-yet"]["lastmod"] == "2024-05-02"
    )
    assert db.known_urls("news.example") == {}
    with pytest.raises(ValueError):
        db.set_url_state(OFFICIAL, colour="red")


def test_discovery_hints_in_raw_meta_are_remembered(db):
    hints = {"lastmod": "2024-02-29", "modified_gmt": "2024-02-29T08:00:00"}
    db.save(*page(OFFICIAL, HARBOUR, "Harbour", DAY, meta=hints))
    st = db.copy_state(OFFICIAL)
    assert (st["lastmod"], st["modified_gmt"]) == ("2024-02-29", "2024-02-29T08:00:00")
    before = dump(db)
    assert (
        db.save(
            *page(OFFICIAL, HARBOUR, "Harbour", DAY, meta=hints, fetched_at="2024-03-09T00:00:00Z")
        ).outcome
        == "unchanged"
    )
    assert dump(db) == before


def test_crawls_and_events(db):
    cid = db.start_crawl(
        "state_gov",
        {"since": "2024-01-01", "api_key": "k-123", "feeds": "https://u:p@feeds.example/f?token=t1"},
    )
    db.save(*page(OFFICIAL, HARBOUR, "Harbour", DAY), crawl_id=cid)
    db.record_event(
        cid, "https://x:pw@www.state.gov/a?token=t2", "fetch", "soft_block", "Technical Difficulties"
    )
    db.record_event(cid, "saved/bad.bin", "ingest", "not_text")
    stats = {
        "pages_fetched": 5,
        "articles_new": 1,
        "copies_new": 1,
        "versions_new": 0,
        "unchanged": 0,
        "not_modified": 2,
        "errors": 1,
        "soft_blocks": 1,
        "rejected": {"too_short": 1},
        "soft_blocks_by_host": {"www.state.gov": 1},
        "discovery": {"www.state.gov": "rest"},
        "discovery_failed": [],
        "robots_blocked": [],
        "circuit_open": [],
        "scrapy": {"log_count/ERROR": 1},
    }
    db.finish_crawl(cid, "degraded", stats)
    row = one(db, "SELECT * FROM crawls WHERE id = ?", (cid,))
    assert (
        row["status"],
        row["pages"],
        row["new_articles"],
        row["new_copies"],
        row["errors"],
        row["soft_blocks"],
    ) == ("degraded", 5, 1, 1, 1, 1)
    assert json.loads(row["stats"])["rejected"] == {"too_short": 1} and row["finished_at"]
    assert "k-123" not in row["args"] and "t1" not in row["args"] and "u:p" not in row["args"]
    events = all_rows(db, "SELECT url, stage, reason FROM events ORDER BY id")
    assert events == [
        {"url": "https://www.state.gov/a", "stage": "fetch", "reason": "soft_block"},
        {"url": "saved/bad.bin", "stage": "ingest", "reason": "not_text"},
    ]
    assert one(db, "SELECT crawl_id FROM copies")["crawl_id"] == cid
    with pytest.raises(ValueError):
        db.finish_crawl(cid, "great", {})


def test_credentials_never_reach_the_database(tmp_path):
    s = Store(tmp_path / "d.db")
    url = "https://editor:hunter2@news.example/harbour?access_token=SEKRIT&id=4&utm_campaign=x"
    s.save(
        *page(
            url,
            wrapped(HARBOUR),
            "Harbour",
            DAY,
            claimed="https://u2:pw2@www.state.gov/harbour-agreement/?token=TOK2",
            headers={"content-type": "text/html", "set-cookie": "session=COOKIE"},
        )
    )
    s.set_url_state("https://a:b@www.state.gov/x?api_key=APIKEY", lastmod="2024-01-01")
    s.close()
    blob = (tmp_path / "d.db").read_bytes()
    for secret in (b"hunter2", b"SEKRIT", b"TOK2", b"pw2", b"APIKEY", b"COOKIE", b"utm_campaign"):
        assert secret not in blob


def test_full_text_search_follows_article_changes(db):
    s = db.save(*page("https://news.example/h", wrapped(HARBOUR), "World news", DAY))
    db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    hits = db.db.conn.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'harbour'").fetchall()
    assert hits == [(s.article_id,)]
    assert (
        db.db.conn.execute(
            "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'title:world'"
        ).fetchone()[0]
        == 0
    )
    db.save(*page("https://www.state.gov/radio/", GRANTS, "Community Radio Grants", DAY))
    assert (
        db.db.conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'radio'").fetchone()[0]
        == 1
    )


def test_views_for_datasette(db):
    db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    db.save(*page("https://wire.example/h", truncated(HARBOUR), "Harbour", DAY))
    rows = all_rows(db, "SELECT * FROM article_copies ORDER BY copy_id")
    assert [r["role"] for r in rows] == ["original", "syndicated"]
    assert set(rows[0]) >= {
        "article_id",
        "title",
        "published",
        "publisher",
        "canonical_url",
        "copy_id",
        "url",
        "site",
        "role",
        "match_method",
        "match_score",
        "similarity",
        "fetched_at",
        "claimed_original_url",
    }
    cols = [d[0] for d in db.db.conn.execute("SELECT * FROM review").description]
    assert {
        "copy_id",
        "article_id",
        "copy_url",
        "article_url",
        "copy_title",
        "article_title",
        "score",
        "reason",
    } <= set(cols)


def test_sql_metacharacters_are_stored_verbatim(db):
    title = "'); DROP TABLE articles;--"
    r = db.save(*page("https://news.example/x?id=1';--", HARBOUR + ' "quoted"', title, DAY))
    assert one(db, "SELECT title FROM articles WHERE id = ?", (r.article_id,))["title"] == title
    assert db.db.conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 1


def test_a_failed_save_leaves_nothing_behind(db):
    before = dump(db, skip=())
    doc, raw = page(OFFICIAL, HARBOUR, "Harbour", DAY)
    # A value SQLite cannot bind: the article row is written, then the copy's INSERT fails.
    bad = dataclasses.replace(doc, speaker=cast(Any, object()))
    with pytest.raises(sqlite3.Error):
        db.save(bad, raw)
    assert not db.db.conn.in_transaction
    assert dump(db, skip=()) == before
    assert db.save(doc, raw).outcome == "new"


def test_sqlite_error_types_are_not_retried(db, caplog):
    with pytest.raises(sqlite3.IntegrityError):
        db.write(
            lambda: db.db.conn.execute(
                "INSERT INTO copies (id, article_id, url_key, role, rank, match_method) "
                "VALUES (1, 1, 'k', 'file', 3, 'new'), (1, 1, 'k2', 'file', 3, 'new')"
            )
        )
    assert "retry" not in caplog.text


def test_two_live_urls_on_one_official_site_are_two_posts_unless_the_text_is_identical(db):
    a = db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    reposted = HARBOUR.replace("We thank the mediators", "We also thank the mediators")
    b = db.save(*page("https://www.state.gov/harbour-agreement-2/", reposted, "Harbour Agreement", DAY))
    assert b.article_id != a.article_id and a.article_id in b.review
    assert one(db, "SELECT reason FROM review")["reason"] == "same_site_duplicate"
    c = db.save(*page("https://www.state.gov/harbour-agreement-3/", HARBOUR, "Harbour Agreement", DAY))
    assert (c.article_id, c.match_method) == (a.article_id, "exact")
    # another official host with the edited text is still joined by its text
    d = db.save(*page("https://2021-2025.state.gov/harbour-agreement-2/", reposted, "Harbour Agreement", DAY))
    assert d.article_id == b.article_id


def test_a_page_quoting_a_whole_statement_and_much_more_is_not_a_copy_of_it(db):
    a = db.save(*page("https://www.state.gov/radio-grants/", GRANTS, "Community Radio Grants", DAY))
    digest = "\n\n".join([GRANTS, HARBOUR, national_day("Norland", "Norlanders", 75, "Ilse Brandt")])
    b = db.save(*page("https://digest.example/this-week", digest, "This week in diplomacy", DAY))
    assert b.article_id != a.article_id
    assert one(db, "SELECT reason FROM review")["reason"] == "holds_candidate"


def test_save_many_is_sequential_saves_in_one_transaction_and_a_bad_page_costs_only_itself(tmp_path):

    pages = [
        page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY),
        page("https://news.example/harbour", wrapped(HARBOUR), "Harbour Agreement", DAY),
        page("https://2021-2025.state.gov/harbour-agreement/", HARBOUR, "Harbour Agreement", DAY),
        page("https://www.state.gov/grants/", GRANTS, "Grants", DAY),
        page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY, fetched_at="2024-03-02T10:00:00Z"),
    ]
    bad_doc, bad_raw = page("https://www.state.gov/bad/", readout("Ghana", "Ama Mensah", "trade"), "Bad", DAY)
    # A value SQLite cannot bind: passes the preparation, fails at the INSERT.
    bad_doc = dataclasses.replace(bad_doc, speaker=cast(Any, object()))
    single, many = Store(tmp_path / "one.db"), Store(tmp_path / "many.db")
    seq = [single.save(d, r) for d, r in pages]
    got = many.save_many(
        [(d, r, None) for d, r in pages[:2]]
        + [(bad_doc, bad_raw, None)]
        + [(d, r, None) for d, r in pages[2:]]
    )
    assert isinstance(got[2], sqlite3.Error)
    assert got[:2] + got[3:] == seq
    assert not many.db.conn.in_transaction
    stamps = ("fetched_at", "updated_at", "stored_at", "created_at")
    assert dump(many, skip=stamps) == dump(single, skip=stamps)  # nothing of the bad page is left
    single.close()
    many.close()


def test_store_writer_runs_calls_in_order_and_batches_saves(tmp_path):
    """The crawl's store thread: calls made back to back are answered in order; pages that
    queue up are saved in one transaction, and a page that fails there fails alone."""
    import threading

    from crawlers.pipelines import StoreWriter

    pages = [
        page(f"https://www.state.gov/readout-{i}/", readout(c, "Ama Mensah", "trade"), f"Readout {c}", DAY)
        for i, c in enumerate(["Ghana", "Kenya", "Peru", "Chile", "Nepal", "Laos"])
    ]
    bad_doc, bad_raw = page("https://www.state.gov/bad/", GRANTS, "Bad", DAY)
    bad_doc = dataclasses.replace(bad_doc, speaker=cast(Any, object()))
    w = StoreWriter(Store(tmp_path / "w.db"))
    try:
        crawl_id = w.call(lambda db: db.start_crawl("test", {})).result()
        gate = threading.Event()
        w.call(lambda db: gate.wait(60))  # the pages below queue up behind it: one batch
        futures = [w.process(r, d, crawl_id=crawl_id) for d, r in pages[:3]]
        futures.append(w.process(bad_raw, bad_doc, crawl_id=crawl_id))
        futures += [w.process(r, d, crawl_id=crawl_id) for d, r in pages[3:]]
        first_url = pages[0][0].url
        assert first_url is not None
        later = w.call(lambda db: db.copy_state(first_url))
        gate.set()
        results = [f.result(timeout=60) for f in futures]
        state = later.result(timeout=60)
    finally:
        w.close()
    saved = results[:3] + results[4:]
    assert results[3].kind == "failed" and results[3].reason == "save_failed"
    assert [r.kind for r in saved] == ["new"] * 6
    ids = [r.result.article_id for r in saved if r.result is not None]
    assert len(ids) == 6 and sorted(ids) == ids  # saved in the order sent
    assert state is not None and state["url"] == first_url  # a later call sees the committed saves
    s = Store(tmp_path / "w.db")
    assert s.db.conn.execute("SELECT count(*) FROM copies").fetchone()[0] == 6
    assert s.db.conn.execute("SELECT count(*) FROM copies WHERE url LIKE '%/bad/'").fetchone()[0] == 0
    events = s.db.conn.execute("SELECT reason FROM events WHERE url LIKE '%/bad/'").fetchall()
    assert events == [("save_failed",)]
    s.close()


def test_one_secret_list_for_every_path():
    """`?code=`, `?session=` and a user's own secret parameter never reach a stored URL."""
    from store.urls import is_secret_param, set_secret_params, strip_secrets

    url = "https://news.example/a/?code=abc&session=s1&dept_pin=p&id=3"
    try:
        set_secret_params(["dept_pin"])
        assert is_secret_param("CODE") and is_secret_param("x-amz-signature")
        assert redact_url(url) == "https://news.example/a/?id=3"
        assert normalise_url(url) == "https://news.example/a?id=3"
        assert strip_secrets("https://u:pw@news.example/a/?dept_pin=p&b=1#top") == (
            "https://news.example/a/?b=1#top"
        )
    finally:
        set_secret_params([])
    assert redact_url(url) == "https://news.example/a/?dept_pin=p&id=3"
