"""The Store's public API for re-identifying copies, runs left behind by a dead process, and the
one timestamp form, on real SQLite files."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from sqlite_utils import Database

from cleaners.model import content_hash, parse_timestamp, utc_timestamp
from store import Store, schema
from store.testing import GRANTS, HARBOUR, all_rows, one, page, wrapped

ROOT = Path(__file__).resolve().parents[1]
DAY = date(2024, 3, 1)
OFFICIAL = "https://www.state.gov/harbour-agreement/"
WIRE = "https://wire.example/world/harbour"


def recleaned(doc, text):
    """What today's cleaner makes of the same raw page."""
    return dataclasses.replace(doc, text=text, content_hash=content_hash(text))


# ---------------------------------------------------------------- re-identifying


def test_reidentify_merges_a_copy_its_new_text_now_matches(tmp_path):
    s = Store(tmp_path / "d.db")
    official = s.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    # An older cleaner kept only the aggregator's boilerplate: the copy started its own article.
    doc, raw = page(
        WIRE, "Subscribe to our newsletter for daily world news and comments. " * 3, "Harbour", DAY
    )
    alone = s.save(doc, raw)
    assert alone.outcome == "new" and alone.article_id != official.article_id
    before = s.copy_snapshot(raw)
    assert before and before["article_id"] == alone.article_id

    res = s.save(recleaned(doc, wrapped(HARBOUR)), raw, reidentify=True)

    assert (res.outcome, res.article_id, res.match_method) == ("copy", official.article_id, "near")
    after = s.copy_snapshot(raw)
    assert after and after["article_id"] == official.article_id and after["title"] == "Harbour Agreement"
    assert not s.article_exists(alone.article_id)  # left without copies: folded into the official one
    merged = one(s, "SELECT new_id, reason FROM merged_articles WHERE old_id = ?", (alone.article_id,))
    assert merged["new_id"] == official.article_id
    assert (
        one(s, "SELECT copies_count FROM articles WHERE id = ?", (official.article_id,))["copies_count"] == 2
    )
    # Saving the same again changes nothing more.
    again = s.save(recleaned(doc, wrapped(HARBOUR)), raw, reidentify=True)
    assert (again.outcome, again.article_id) == ("unchanged", official.article_id)
    s.close()


def test_reidentify_splits_a_copy_whose_text_no_longer_matches(tmp_path):
    s = Store(tmp_path / "d.db")
    official = s.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    # An older cleaner took the sidebar's statement instead of the page's own text.
    doc, raw = page("https://wire.example/world/radio", HARBOUR, "Radio grants", DAY)
    joined = s.save(doc, raw)
    assert (joined.article_id, joined.match_method) == (official.article_id, "exact")

    res = s.save(recleaned(doc, GRANTS), raw, reidentify=True)

    assert res.outcome == "new" and res.match_method == "new"
    assert res.article_id != official.article_id and res.copy_id == joined.copy_id
    assert s.article_exists(official.article_id) and s.article_exists(res.article_id)
    split = one(s, "SELECT title, text, copies_count FROM articles WHERE id = ?", (res.article_id,))
    assert (split["title"], split["text"], split["copies_count"]) == ("Radio grants", GRANTS, 1)
    kept = one(s, "SELECT text, copies_count FROM articles WHERE id = ?", (official.article_id,))
    assert (kept["text"], kept["copies_count"]) == (HARBOUR, 1)
    texts = {r["sha256"]: r["article_id"] for r in all_rows(s, "SELECT sha256, article_id FROM texts")}
    assert texts[content_hash(GRANTS)] == res.article_id  # the text went with its copy
    s.close()


def test_plain_save_never_moves_a_known_url(tmp_path):
    """Without `reidentify` the URL rule holds: the copy stays on its article."""
    s = Store(tmp_path / "d.db")
    official = s.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    doc, raw = page("https://wire.example/world/radio", HARBOUR, "Radio grants", DAY)
    s.save(doc, raw)
    res = s.save(recleaned(doc, GRANTS), raw)
    assert (res.outcome, res.article_id) == ("version", official.article_id)
    assert s.article_exists(official.article_id) and not s.article_exists(official.article_id + 10)
    assert s.copy_snapshot(page("https://never.example/x", GRANTS)[1]) is None
    s.close()


# ---------------------------------------------------------------- runs left by a dead process

DEAD_RUN = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from store import Store
    s = Store({path!r})
    print(s.start_crawl("state_gov", {{"since": "2024-01-01"}}), flush=True)
    time.sleep(600)
""")


def test_interrupt_dead_runs_marks_what_a_killed_run_left_running(tmp_path):
    path = tmp_path / "d.db"
    s = Store(path)
    done = s.start_crawl("usembassy")
    s.finish_crawl(done, "ok", {"pages_fetched": 3})
    s.close()
    proc = subprocess.Popen(
        [sys.executable, "-c", DEAD_RUN.format(root=str(ROOT), path=str(path))],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        dead = int(proc.stdout.readline())
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    s = Store(path)
    assert one(s, "SELECT status FROM crawls WHERE id = ?", (dead,))["status"] == "running"
    assert s.interrupt_dead_runs() == 1
    row = one(s, "SELECT * FROM crawls WHERE id = ?", (dead,))
    assert row["status"] == "interrupted"
    assert parse_timestamp(row["finished_at"]) >= parse_timestamp(row["started_at"])
    assert utc_timestamp(parse_timestamp(row["finished_at"])) == row["finished_at"]
    assert json.loads(row["stats"])["finish_reason"] == "process_died"
    ok = one(s, "SELECT status, stats FROM crawls WHERE id = ?", (done,))
    assert ok["status"] == "ok" and json.loads(ok["stats"]) == {"pages_fetched": 3}
    assert s.interrupt_dead_runs() == 0  # nothing left running
    # Crawl health (the canned Datasette query) shows the run as interrupted.
    meta = yaml.safe_load((ROOT / "store" / "metadata.yml").read_text())
    sql = meta["databases"]["dispatches"]["queries"]["crawl_health"]["sql"]
    health = {r["crawl_id"]: r for r in all_rows(s, sql)}
    assert health[dead]["status"] == "interrupted"
    s.close()


# ---------------------------------------------------------------- one timestamp form


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2024-03-01T10:00:00Z", "2024-03-01T10:00:00Z"),
        ("2024-03-01T10:00:00+00:00", "2024-03-01T10:00:00Z"),
        ("2024-03-01T10:00:00.734+00:00", "2024-03-01T10:00:00Z"),
        ("2024-03-01T05:00:00-05:00", "2024-03-01T10:00:00Z"),
        ("2024-03-01T10:00:00", "2024-03-01T10:00:00Z"),
        ("2024-03-01", "2024-03-01T00:00:00Z"),
    ],
)
def test_the_store_writes_one_timestamp_form(given, stored):
    assert utc_timestamp(parse_timestamp(given)) == stored
    s = Store(":memory:")
    s.save(*page(OFFICIAL, HARBOUR, "Harbour", DAY, fetched_at=given))
    state = s.copy_state(OFFICIAL)
    assert state and state["fetched_at"] == stored
    s.close()


def test_unreadable_times_are_refused_by_the_parser_and_replaced_by_the_saving_time():
    with pytest.raises(ValueError, match="not an ISO 8601 time"):
        parse_timestamp("last Tuesday")
    assert utc_timestamp(datetime(2024, 3, 1, 10, 0, 0, 999999)) == "2024-03-01T10:00:00Z"
    s = Store(":memory:")
    before = datetime.now(UTC).replace(microsecond=0)
    s.save(*page(OFFICIAL, HARBOUR, "Harbour", DAY, fetched_at="last Tuesday"))
    state = s.copy_state(OFFICIAL)
    assert state and parse_timestamp(state["fetched_at"]) >= before
    s.close()


def test_times_compare_as_times_whatever_form_they_came_in():
    s = Store(":memory:")
    s.save(*page(OFFICIAL, HARBOUR, "Harbour", DAY, fetched_at="2024-03-02T10:00:00Z"))
    # 08:00 at UTC-5 is 13:00 UTC: later, although "08" sorts before "10" as text.
    assert s.touch(OFFICIAL, "2024-03-02T08:00:00-05:00")
    state = s.copy_state(OFFICIAL)
    assert state and state["fetched_at"] == "2024-03-02T13:00:00Z"
    # 11:00 at UTC+2 is 09:00 UTC: earlier, although "11" sorts after "10".
    s.save(*page(OFFICIAL, HARBOUR, "Harbour", DAY, fetched_at="2024-03-02T11:00:00+02:00"))
    state = s.copy_state(OFFICIAL)
    assert state and state["fetched_at"] == "2024-03-02T13:00:00Z"
    assert [r.fetched_at for r in s.raw_pages(since="2024-03-02T14:00:00+02:00")] == ["2024-03-02T13:00:00Z"]
    assert list(s.raw_pages(since="2024-03-02T09:00:00-05:00")) == []
    s.close()


def test_the_migration_rewrites_old_rows_to_the_one_form(tmp_path):
    path = tmp_path / "old.db"
    s = Store(path)
    s.save(*page(OFFICIAL, HARBOUR, "Harbour", DAY))
    crawl = s.start_crawl("state_gov")
    s.record_event(crawl, OFFICIAL, "fetch", "timeout")
    s.close()
    old = Database(path)
    # What an older Dispatches wrote: offsets, fractions, and one value that is not a time.
    old.execute(
        "UPDATE copies SET fetched_at = '2024-03-01T10:00:00+00:00', "
        "first_fetched_at = '2024-03-01T09:59:59.123456+00:00'"
    )
    old.execute("UPDATE articles SET first_seen = '2024-03-01T09:59:59.123456+00:00', updated_at = 'soon'")
    old.execute("UPDATE versions SET seen_at = '2024-03-01T12:00:00+02:00'")
    old.execute("UPDATE crawls SET started_at = '2024-02-29T23:30:00-01:00'")
    old.execute("UPDATE events SET at = '2024-03-01T00:30:00.5+00:00'")
    old.execute("DELETE FROM _sqlite_migrations WHERE name = '0009_one_timestamp_form'")
    old.execute("PRAGMA user_version = 8")
    old.close()

    s = Store(path)
    assert one(s, "SELECT fetched_at, first_fetched_at FROM copies") == {
        "fetched_at": "2024-03-01T10:00:00Z",
        "first_fetched_at": "2024-03-01T09:59:59Z",
    }
    assert one(s, "SELECT first_seen, updated_at FROM articles") == {
        "first_seen": "2024-03-01T09:59:59Z",
        "updated_at": "soon",  # not a time: left as it was, never lost
    }
    assert one(s, "SELECT seen_at FROM versions")["seen_at"] == "2024-03-01T10:00:00Z"
    assert one(s, "SELECT started_at FROM crawls")["started_at"] == "2024-03-01T00:30:00Z"
    assert one(s, "SELECT at FROM events")["at"] == "2024-03-01T00:30:00Z"
    assert s.db.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    # Every time the store wrote now has the one form (except the value that is not a time).
    for table, columns in schema.TIMESTAMP_COLUMNS.items():
        for col in columns:
            for r in all_rows(s, f"SELECT [{col}] AS v FROM [{table}] WHERE [{col}] IS NOT NULL"):
                assert r["v"] == "soon" or utc_timestamp(parse_timestamp(r["v"])) == r["v"], (table, col)
    s.close()


def test_the_copy_records_which_extraction_path_made_its_text_and_what_rules_kept():
    """`copies.extraction` and `copies.refused` carry the cleaners' record to the user."""
    from cleaners.model import Removal

    doc, raw = page("https://www.state.gov/recorded/", GRANTS, "Recorded", DAY)
    doc = dataclasses.replace(
        doc, extraction="region", refused=(Removal(rule="previous_post", text="my previous article"),)
    )
    with Store() as s:
        s.save(doc, raw)
        row = one(s, "SELECT extraction, refused FROM copies")
    assert row is not None and row["extraction"] == "region"
    assert json.loads(row["refused"]) == [{"rule": "previous_post", "text": "my previous article"}]
