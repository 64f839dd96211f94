"""Browsing with Datasette: the shipped metadata, canned queries, templates, plugin and `scrapy browse`.

Runs against a database built by `scrapy demo` (the bundled fixture web on loopback), through
Datasette's own test client configured as `scrapy browse` configures it, plus real `scrapy browse`
servers on loopback ports (the README's URLs are opened on one).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path

import markupsafe
import pytest
import yaml
from datasette.app import Datasette

from cleaners.model import Document, RawPage, content_hash
from crawlers.commands.browse import (
    browse_files,
    datasette_argv,
    datasette_options,
    drop_missing_columns,
    metadata_for,
    served_metadata,
)

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "scripts"))
import screenshots  # noqa: E402  (scripts/ is not a package)

METADATA_FILE = PROJECT / "store" / "metadata.yml"
README = PROJECT / "README.md"
TABLES = ["articles", "copies", "versions", "pages", "crawls", "events", "url_state"]
VIEWS = ["article_copies", "review"]
# Keys Datasette 0.65 reads (docs/metadata.rst, docs/sql_queries.rst of 0.65.x).
TOP_KEYS = {
    "extra_css_urls",
    "title",
    "description",
    "description_html",
    "source",
    "source_url",
    "license",
    "license_url",
    "about",
    "about_url",
    "databases",
}
TABLE_KEYS = {
    "title",
    "description",
    "description_html",
    "source",
    "source_url",
    "license",
    "license_url",
    "about",
    "about_url",
    "columns",
    "units",
    "sort",
    "sort_desc",
    "size",
    "sortable_columns",
    "label_column",
    "facets",
    "facet_size",
    "fts_table",
    "fts_pk",
    "searchmode",
    "hidden",
}
QUERY_KEYS = {"sql", "title", "description", "description_html", "hide_sql", "params", "fragment"}


def run_scrapy(*args: str, timeout: float = 240, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(scope="session")
def demo_db(demo_build) -> Path:
    """The database `scrapy demo` built (conftest.py; read-only here: copy it to change it)."""
    assert demo_build.returncode == 0, demo_build.stderr[-2000:]
    return demo_build.path


def copy_db(src_path: Path, path: Path) -> Path:
    """A consistent copy of a (WAL) database through SQLite's backup API, in WAL mode too."""
    src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True)
    dst = sqlite3.connect(path)
    src.backup(dst)
    src.close()
    dst.execute("pragma journal_mode=wal")
    dst.close()
    return path


@pytest.fixture
def writable_db(demo_db, tmp_path) -> Path:
    """A private copy of the demo database, safe to write."""
    return copy_db(demo_db, tmp_path / "dispatches.db")


def fetch(db_path: Path, *paths: str, metadata: dict | None = None) -> list:
    """GET each path through Datasette as `scrapy browse` configures it; return the responses."""
    ds = Datasette([str(db_path)], metadata=metadata or served_metadata(db_path)[0], **datasette_options())

    async def go():
        return [await ds.client.get(p) for p in paths]

    return asyncio.run(go())


def rows(db_path: Path, path: str) -> list[dict]:
    """Rows of a table, view or canned query as dicts (`path` without the database name)."""
    sep = "&" if "?" in path else "?"
    json_path = path.replace("?", ".json?", 1) if "?" in path else path + ".json"
    url = f"/{db_path.stem}/{json_path}{sep}_shape=objects&_size=max"
    (resp,) = fetch(db_path, url)
    assert resp.status_code == 200, (path, resp.text[:500])
    return resp.json()["rows"]


def sql(db_path: Path, query: str, *params) -> list[tuple]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def save_document(db_path: Path, title: str, text: str, url: str) -> int:
    """Store one statement through the store API, as a crawl would; return its article id."""
    raw = RawPage(
        url=url,
        final_url=url,
        status=200,
        headers={"content-type": "text/plain"},
        body=text.encode(),
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        spider="ingest",
        discovered_via="file",
    )
    doc = Document(
        url=url,
        title=title,
        text=text,
        published=date(2024, 5, 1),
        publisher="U.S. Department of State",
        language="en",
        claimed_original=None,
        content_hash=content_hash(text),
    )
    from store import Store

    db = Store(str(db_path))
    try:
        return db.save(doc, raw).article_id
    finally:
        db.close()


# --- the metadata file ---------------------------------------------------------------------


def test_metadata_uses_only_keys_datasette_reads_and_allows_no_writes():
    meta = yaml.safe_load(METADATA_FILE.read_text())
    assert set(meta) <= TOP_KEYS
    assert meta["license"] and meta["source"] and meta["title"]
    dbs = meta["databases"]
    # `datasette data/dispatches.db` and `datasette data/demo.db` both get the block.
    assert dbs["dispatches"] == dbs["demo"]
    block = dbs["dispatches"]
    assert block["title"] and block["description"]
    for name in TABLES + VIEWS:
        assert name in block["tables"], name
        config = block["tables"][name]
        assert set(config) <= TABLE_KEYS, (name, set(config) - TABLE_KEYS)
        assert config["title"] and config["description"], name
        assert "allow" not in config and "allow_sql" not in config
    assert {
        "most_copied",
        "altered_copies",
        "edited_statements",
        "new_since",
        "crawl_health",
        "statement_copies",
        "statement_versions",
        "review_list",
    } <= set(block["queries"])
    for name, query in block["queries"].items():
        assert set(query) <= QUERY_KEYS, (name, set(query) - QUERY_KEYS)
        assert not query.get("write") and "allow" not in query, name
        assert re.match(r"\s*(select|with)\b", query["sql"], re.I), name
    assert "allow" not in block and "allow_sql" not in block and "allow" not in meta


def test_metadata_is_rekeyed_to_any_database_name():
    meta = metadata_for("/somewhere/my-archive.db")
    assert list(meta["databases"]) == ["my-archive"]
    assert meta["databases"]["my-archive"]["tables"]["articles"]["label_column"] == "title"


def test_facets_on_missing_columns_are_dropped_not_fatal():
    meta = metadata_for("x.db")
    schema = {"articles": {"id", "title", "publisher", "published"}, "copies": {"id", "url", "site"}}
    notes = drop_missing_columns(meta, schema)
    assert notes == [
        "articles.facets=language",
        "articles.facets=year",
        "articles.fts_table=articles_fts",
        "copies.facets=role",
        "copies.facets=match_method",
        "copies.sort_desc=fetched_at",
    ]
    articles = meta["databases"]["x"]["tables"]["articles"]
    assert articles["facets"] == ["publisher"]
    assert "fts_table" not in articles and "fts_pk" not in articles


def test_statements_facet_by_year_kept_in_step_with_published(demo_db):
    meta, _ = served_metadata(demo_db)
    assert meta["databases"]["demo"]["tables"]["articles"]["facets"] == ["publisher", "language", "year"]
    conn = sqlite3.connect(demo_db)
    rows = conn.execute("select published, year from articles").fetchall()
    assert rows and all(y == (int(p[:4]) if p else None) for p, y in rows)


# --- Datasette on the demo database ---------------------------------------------------------


def test_every_configured_facet_and_sort_column_exists_in_the_demo_schema(demo_db):
    assert served_metadata(demo_db)[1] == []


def test_every_table_and_view_of_the_demo_has_a_title_and_description(demo_db):
    tables = metadata_for(demo_db)["databases"]["demo"]["tables"]
    names = [
        r[0]
        for r in sql(
            demo_db,
            "select name from sqlite_master where type in ('table', 'view') "
            "and name not like 'articles_fts%' and name not like 'sqlite_%'",
        )
    ]
    missing = [n for n in names if not (tables.get(n, {}).get("title") and tables[n].get("description"))]
    assert missing == [], "tables without a title and description in store/metadata.yml"


def test_documented_datasette_command_applies_the_shipped_file(demo_db, tmp_path):
    # datasette data/dispatches.db --metadata store/metadata.yml
    path = tmp_path / "dispatches.db"
    copy_db(demo_db, path)
    meta = yaml.safe_load(METADATA_FILE.read_text())
    home, table = fetch(path, "/dispatches", "/dispatches/articles", metadata=meta)
    assert home.status_code == 200 and "Statements with the most copies" in home.text
    assert table.status_code == 200 and "<h1>" in table.text and "Statements" in table.text


@pytest.mark.parametrize("name", TABLES + VIEWS)
def test_every_table_and_view_page_renders(demo_db, name):
    html, data = fetch(demo_db, f"/demo/{name}", f"/demo/{name}.json?_shape=objects")
    assert html.status_code == 200, html.text[:500]
    assert data.status_code == 200
    if name in ("articles", "copies", "versions", "crawls", "article_copies"):
        assert data.json()["rows"], f"{name} is empty in the demo database"


def test_home_and_database_pages_show_titles_and_queries(demo_db):
    home, database = fetch(demo_db, "/", "/demo")
    assert home.status_code == 200 and "Dispatches" in home.text
    assert database.status_code == 200
    for title in (
        "Statements with the most copies",
        "Crawl health (last run of each spider)",
        "Copies whose text differs from the official text",
        "Review list of borderline matches",
    ):
        assert title in database.text
    # internal tables are hidden from the list, not from the URL space
    assert "Raw pages (internal)" not in database.text.split("hidden tables")[0]


def test_articles_are_newest_first_searchable_and_faceted(demo_db):
    data = fetch(demo_db, "/demo/articles.json?_shape=objects&_size=max")[0].json()
    published = [r["published"] for r in data["rows"] if r["published"]]
    assert published == sorted(published, reverse=True)
    assert set(data["facet_results"]) >= {"publisher", "language", "year"}
    publishers = {f["value"]: f["count"] for f in data["facet_results"]["publisher"]["results"]}
    assert sum(publishers.values()) == sum(1 for r in data["rows"] if r["publisher"])
    years = {f["value"]: f["count"] for f in data["facet_results"]["year"]["results"]}
    assert sum(years.values()) == sum(1 for r in data["rows"] if r["published"])


def test_full_text_search_finds_an_article_by_a_word_of_its_text(demo_db):
    article_id, text = sql(demo_db, "select id, text from articles order by length(text) desc limit 1")[0]
    words = [w for w in re.findall(r"[A-Za-z]{7,}", text)]
    counts = {
        w: sql(demo_db, "select count(*) from articles where text like ?", f"%{w}%")[0][0] for w in words
    }
    word = min(words, key=lambda w: counts[w])  # the rarest long word of that text
    found = rows(demo_db, f"articles?_search={word}")
    assert article_id in {r["id"] for r in found}
    assert len(found) <= counts[word]
    assert rows(demo_db, "articles?_search=zzqxnotaword") == []


def test_copies_facets_and_article_label(demo_db):
    (resp,) = fetch(demo_db, "/demo/copies.json?_size=1")
    facets = resp.json()["facet_results"]
    assert set(facets) >= {"site", "role", "match_method"}
    roles = {f["value"] for f in facets["role"]["results"]}
    assert roles <= {"original", "archive", "embassy", "syndicated", "archived", "file"}
    assert "original" in roles
    # the foreign key shows the article's title instead of its bare id
    (resp,) = fetch(demo_db, "/demo/copies.json?_labels=on&_shape=objects&_size=max")
    titles = dict(sql(demo_db, "select id, title from articles"))
    for row in resp.json()["rows"]:
        assert row["article_id"]["label"] == titles[row["article_id"]["value"]]


def test_article_page_links_to_its_copies(demo_db):
    article_id, n = sql(
        demo_db, "select article_id, count(*) from copies group by article_id order by count(*) desc limit 1"
    )[0]
    assert n >= 2
    html, data = fetch(
        demo_db,
        f"/demo/articles/{article_id}",
        f"/demo/articles/{article_id}.json?_extras=foreign_key_tables",
    )
    assert html.status_code == 200
    assert f"/demo/copies?article_id={article_id}" in html.text
    assert f"/demo/statement_copies?article_id={article_id}" in html.text
    tables = {t["other_table"]: t["count"] for t in data.json()["foreign_key_tables"]}
    assert tables["copies"] == n
    assert len(rows(demo_db, f"copies?article_id={article_id}")) == n
    listed = rows(demo_db, f"statement_copies?article_id={article_id}")
    assert len(listed) == n
    assert listed[0]["role"] in ("original", "archive", "embassy")


# --- canned queries --------------------------------------------------------------------------


def test_every_canned_query_runs(demo_db):
    names = list(metadata_for(demo_db)["databases"]["demo"]["queries"])
    pages = fetch(demo_db, *[f"/demo/{n}" for n in names], *[f"/demo/{n}.json" for n in names])
    for name, html, data in zip(names, pages[: len(names)], pages[len(names) :], strict=True):
        assert html.status_code == 200, (name, html.text[:300])
        assert data.status_code == 200 and data.json()["ok"] is True, (name, data.text[:300])


def test_most_copied_matches_the_copies_table(demo_db):
    found = rows(demo_db, "most_copied")
    # the query reads the store's articles.copies_count: it must agree with the copies themselves
    expected = sql(
        demo_db, "select article_id, count(*) from copies group by article_id having count(*) >= 2"
    )
    assert found, "the demo has statements with several copies"
    assert {(r["article_id"], r["copies"]) for r in found} == set(expected)
    assert [r["copies"] for r in found] == sorted((r["copies"] for r in found), reverse=True)
    assert (
        len(rows(demo_db, "most_copied?min_copies=1"))
        == sql(demo_db, "select count(distinct article_id) from copies")[0][0]
    )


def fixture_manifest() -> dict:
    """Ground truth of the fixture web `scrapy demo` crawls (scale 1, phase 1), built offline."""
    from tests.fixtures.web import generate

    return generate.build_site(scale=1, phase=1).manifest


def test_altered_copies_are_exactly_the_truncated_syndication(demo_db):
    manifest = fixture_manifest()
    truncated = {c["url"] for s in manifest["statements"] for c in s["copies"] if c["kind"] == "truncated"}
    assert truncated, "the fixture web has a truncated republication"
    # the user's own captures (ingested when they are next to the checkout) are not the fixture's
    captures = _ingested(demo_db)
    found = {r["url"]: r for r in rows(demo_db, "altered_copies") if r["copy_id"] not in captures}
    # copies that only carried cruft are the same text once cleaned: not listed
    assert set(found) == truncated
    for url in truncated:
        assert found[url]["difference"] == "truncated"
        assert found[url]["length_ratio"] < 0.9 and found[url]["role"] == "syndicated"


def test_most_copied_puts_the_five_site_statement_first(demo_db):
    manifest = fixture_manifest()
    (widest,) = [s for s in manifest["statements"] if s["id"] in manifest["five_sites"]]
    # a translation is its own statement, linked to the English one, not a copy of it
    sites = {c["site"] for c in widest["copies"] if c["kind"] != "translation"}
    top = rows(demo_db, "most_copied")[0]
    assert top["canonical_url"] == widest["official_url"]
    assert top["sites"] == len(sites) >= 5


def _ingested(db) -> set[int]:
    """Copies of the user's captures the demo ingests when they are next to the checkout."""
    return {r[0] for r in sql(db, "select id from copies where spider = 'ingest'")}


def test_altered_copies_threshold_is_a_parameter(demo_db):
    differing = sql(
        demo_db,
        "select count(*) from copies c join articles a on a.id = c.article_id "
        "where c.text_sha256 is not a.content_hash",
    )[0][0]
    assert differing, "the demo has a copy whose text is not the official one"
    assert len(rows(demo_db, "altered_copies?threshold=1.01")) == differing
    captures = _ingested(demo_db)
    assert [r for r in rows(demo_db, "altered_copies?threshold=0.1") if r["copy_id"] not in captures] == []
    assert all(
        r["similarity"] < 0.5 or r["length_ratio"] < 0.5
        for r in rows(demo_db, "altered_copies?threshold=0.5")
    )


def test_edited_statements_come_from_versions(demo_db, writable_db):
    expected = {
        r[0] for r in sql(demo_db, "select article_id from versions group by article_id having count(*) > 1")
    }
    assert {r["article_id"] for r in rows(demo_db, "edited_statements")} == expected
    # an edit stored through the store API shows up
    url = "https://www.state.gov/browse-test-edited-statement/"
    first = "The Department welcomes the agreement reached today between the parties. " * 8
    article_id = save_document(writable_db, "Agreement welcomed", first, url)
    save_document(writable_db, "Agreement welcomed", first + "Updated with a correction to the date.", url)
    edited = {r["article_id"]: r for r in rows(writable_db, "edited_statements")}
    assert edited[article_id]["versions"] == 2


def test_new_since_a_date_and_since_the_last_crawl(demo_db):
    everything = rows(demo_db, "new_since?since=1900-01-01")
    assert len(everything) == sql(demo_db, "select count(*) from articles")[0][0]
    assert rows(demo_db, "new_since?since=2999-01-01") == []
    # Right after the demo (three spiders, one run each) "since the last crawl" is everything the
    # demo found, not only what its last run (syndication, no new statement) added.
    assert sql(demo_db, "select count(*) from crawls")[0][0] == len(
        {r[0] for r in sql(demo_db, "select spider from crawls")}
    )
    found = rows(demo_db, "new_since")
    assert {r["article_id"] for r in found} == {r["article_id"] for r in everything}
    # (and the older statements: the captures ingested, the originals they name, the archive's)
    assert all(
        r["found_by"].split()[0] in ("state_gov", "usembassy", "ingest", "originals", "wayback")
        for r in found
    )


def test_new_since_the_last_crawl_after_a_rerun_lists_what_the_rerun_added(writable_db):
    from store import Store

    before = {r["article_id"] for r in rows(writable_db, "new_since")}
    db = Store(str(writable_db))
    crawl_id = db.start_crawl("state_gov", {})
    db.close()
    # the re-run of state_gov found one new statement; the other spiders' last runs are unchanged
    text = "The Secretary met the Foreign Minister of Palau to discuss fisheries and shipping. " * 5
    url = "https://www.state.gov/browse-test-rerun/"
    raw = RawPage(
        url=url,
        final_url=url,
        status=200,
        headers={"content-type": "text/plain"},
        body=text.encode(),
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        spider="state_gov",
        discovered_via="file",
    )
    doc = Document(
        url=url,
        title="Meeting with the Foreign Minister of Palau",
        text=text,
        published=date(2025, 4, 1),
        publisher="U.S. Department of State",
        language="en",
        claimed_original=None,
        content_hash=content_hash(text),
    )
    db = Store(str(writable_db))
    new_id = db.save(doc, raw, crawl_id).article_id
    db.finish_crawl(crawl_id, "ok", {})
    db.close()
    after = {r["article_id"]: r for r in rows(writable_db, "new_since")}
    first_by_the_others = {
        r[0]
        for r in sql(
            writable_db,
            "select article_id from copies group by article_id having min(crawl_id) in "
            "(select max(id) from crawls where spider != 'state_gov' group by spider)",
        )
    }
    assert set(after) == first_by_the_others | {new_id}
    assert after[new_id]["found_by"] == f"state_gov run {crawl_id}"
    assert set(after) < before | {new_id}


def test_new_copies_since_a_date_and_since_the_last_crawl(demo_db):
    assert (
        len(rows(demo_db, "new_copies_since?since=1900-01-01"))
        == sql(demo_db, "select count(*) from copies")[0][0]
    )
    found = rows(demo_db, "new_copies_since")
    # one run per spider in the demo: every copy was stored by the last run of its spider
    assert len(found) == sql(demo_db, "select count(*) from copies")[0][0]
    assert {r["role"] for r in found} >= {"original", "syndicated"}
    assert rows(demo_db, "new_copies_since?since=2999-01-01") == []


def test_crawl_health_shows_the_last_run_of_each_spider(demo_db):
    found = rows(demo_db, "crawl_health")
    spiders = {r[0] for r in sql(demo_db, "select distinct spider from crawls")}
    assert {r["spider"] for r in found} == spiders and len(found) == len(spiders)
    for r in found:
        last = sql(demo_db, "select max(id) from crawls where spider = ?", r["spider"])[0][0]
        assert r["crawl_id"] == last
        assert r["health"] in ("healthy", "check", "failing", "running")
        for key in ("pages", "new_articles", "errors", "soft_blocks", "discovery_failed", "discovery"):
            assert key in r


def test_crawl_health_lists_failed_discovery_from_the_stats_json(writable_db):
    from store import Store

    db = Store(str(writable_db))
    crawl_id = db.start_crawl("usembassy", {"hosts": "ca.usembassy.gov"})
    db.finish_crawl(
        crawl_id,
        "degraded",
        {
            "pages_fetched": 3,
            "articles_new": 0,
            "copies_new": 0,
            "versions_new": 0,
            "unchanged": 0,
            "not_modified": 0,
            "errors": 2,
            "soft_blocks": 1,
            "rejected": {},
            "soft_blocks_by_host": {"ca.usembassy.gov": 1},
            "discovery": {"ca.usembassy.gov": "none"},
            "discovery_failed": ["ca.usembassy.gov"],
            "robots_blocked": [],
            "circuit_open": ["ca.usembassy.gov"],
            "scrapy": {},
        },
    )
    db.close()
    health = {r["spider"]: r for r in rows(writable_db, "crawl_health")}["usembassy"]
    assert health["crawl_id"] == crawl_id
    assert health["status"] == "degraded" and health["health"] == "check"
    assert health["discovery_failed"] == "ca.usembassy.gov"
    assert health["gave_up_on"] == "ca.usembassy.gov"
    assert health["errors"] == 2 and health["soft_blocks"] == 1 and health["pages"] == 3


def test_review_list_matches_the_review_view(demo_db):
    assert len(rows(demo_db, "review_list")) == sql(demo_db, "select count(*) from review")[0][0]


def test_crawl_problems_groups_events_of_the_last_run(demo_db):
    last = sql(demo_db, "select max(id) from crawls")[0][0]
    expected = sql(demo_db, "select count(*) from events where crawl_id = ?", last)[0][0]
    assert sum(r["times"] for r in rows(demo_db, "crawl_problems")) == expected


# --- the reading pages (templates and plugin shipped in store/) --------------------------------


def changed_copy(db_path: Path) -> tuple[int, int]:
    """(article id, copy id) of a copy whose text differs from its statement's official text."""
    return sql(
        db_path,
        "select c.article_id, c.id from copies c join articles a on a.id = c.article_id "
        "where c.text_sha256 is not a.content_hash order by c.id limit 1",
    )[0]


def test_the_shipped_folders_exist_and_scrapy_browse_loads_them(tmp_path):
    files = browse_files()
    assert (files.templates / "row.html").is_file() and (files.templates / "table.html").is_file()
    assert list(files.plugins.glob("*.py")) and (files.static / "dispatches.css").is_file()
    argv = datasette_argv(tmp_path / "d.db", tmp_path / "m.json", "127.0.0.1", 8001)
    assert argv[argv.index("--template-dir") + 1] == str(files.templates)
    assert argv[argv.index("--plugins-dir") + 1] == str(files.plugins)
    assert argv[argv.index("--static") + 1] == f"static:{files.static}"
    meta = yaml.safe_load(METADATA_FILE.read_text())
    assert meta["extra_css_urls"] == ["/static/dispatches.css"]


def test_start_page_leads_with_search_and_the_questions(demo_db):
    home, database, css = fetch(demo_db, "/", "/demo", "/static/dispatches.css")
    assert css.status_code == 200 and ".statement-text" in css.text
    queries = metadata_for(demo_db)["databases"]["demo"]["queries"]
    for page in (home, database):
        assert page.status_code == 200
        html = page.text
        search = html.index('name="_search"')
        assert 'action="/demo/articles"' in html
        assert 'id="sql-editor"' not in html  # the SQL box is one link away, not the first thing
        for name, query in queries.items():
            if name in ("statement_copies", "statement_versions"):
                continue  # per statement: reached from a statement's page
            assert html.index(f'href="/demo/{name}"') > search, name
            assert query["title"] in html
        assert "Statements" in html and "Copies (provenance)" in html
        assert "Raw pages (internal)" not in html
        assert "/demo?_show_hidden=1" in html
    (everything,) = fetch(demo_db, "/demo?_show_hidden=1")
    assert 'id="sql-editor"' in everything.text and "pages" in everything.text


def test_statements_list_shows_title_excerpt_and_no_internal_columns(demo_db):
    (page,) = fetch(demo_db, "/demo/articles")
    assert page.status_code == 200
    html = page.text
    for title, text in sql(demo_db, "select title, text from articles order by published desc limit 5"):
        assert str(markupsafe.escape(title)) in html
        opening = " ".join(text.split()[:8])
        assert str(markupsafe.escape(opening)) in " ".join(html.split())
    n = sql(demo_db, "select count(*) from articles")[0][0]
    assert f"{n} statements" in html
    # whole texts are on the statement pages, not in the list
    longest = sql(demo_db, "select text from articles order by length(text) desc limit 1")[0][0]
    assert str(markupsafe.escape(longest.split("\n")[-1].strip())) not in html
    for internal in ("content_hash", "rep_rank", "rep_copy_id", "translation_of_key", "removed_count"):
        assert internal not in html, internal
    # facets stay, and every column is one link away
    assert 'data-column="publisher"' in html and 'data-column="year"' in html
    (all_columns,) = fetch(demo_db, "/demo/articles?_all_columns=1")
    assert "content_hash" in all_columns.text
    # searching keeps a facet selection
    (found,) = fetch(demo_db, "/demo/articles?_search=trafficking&language=en")
    assert 'name="language" value="en"' in found.text


def test_statement_page_reads_like_the_statement_then_copies_then_versions(demo_db):
    article_id, copy_id = changed_copy(demo_db)
    (a,) = [
        dict(zip(("title", "text", "published", "publisher"), r, strict=True))
        for r in sql(
            demo_db, "select title, text, published, publisher from articles where id = ?", article_id
        )
    ]
    (page,) = fetch(demo_db, f"/demo/articles/{article_id}")
    assert page.status_code == 200
    html = page.text
    flat = " ".join(html.split())
    assert f"<h1>{markupsafe.escape(a['title'])}</h1>" in flat
    assert a["published"] in html and str(markupsafe.escape(a["publisher"])) in html
    for paragraph in a["text"].split("\n\n"):
        assert str(markupsafe.escape(" ".join(paragraph.split()))) in flat
    # title, then the text, then where it appeared, then the versions
    title_at = flat.index(f"<h1>{markupsafe.escape(a['title'])}</h1>")
    text_at = flat.index(str(markupsafe.escape(" ".join(a["text"].split()[:6]))))
    copies_at, versions_at = flat.index('id="where-it-appeared"'), flat.index('id="versions"')
    assert title_at < text_at < copies_at < versions_at
    html = flat
    copies = sql(demo_db, "select site from copies where article_id = ?", article_id)
    section = html[copies_at:versions_at]
    for (site,) in copies:
        assert site in section
    assert "first copy seen" in section  # match_method new, in words
    assert ">new<" not in section and ">exact<" not in section
    assert "official original" in section
    assert f"/-/compare/demo/copy/{copy_id}" in section
    assert f"{len(copies)} copies on {len({c[0] for c in copies})} sites" in section


def test_compare_page_shows_what_a_copy_left_out(demo_db):
    article_id, copy_id = changed_copy(demo_db)
    official, copy_text = sql(
        demo_db,
        "select a.text, t.text from copies c join articles a on a.id = c.article_id "
        "join texts t on t.sha256 = c.text_sha256 where c.id = ?",
        copy_id,
    )[0]
    left_out = [p for p in official.split("\n\n") if " ".join(p.split()) not in " ".join(copy_text.split())]
    assert left_out, "the demo's changed copy is a truncation"
    page, missing, other = fetch(
        demo_db, f"/-/compare/demo/copy/{copy_id}", "/-/compare/demo/copy/999999", "/-/compare/nodb/copy/1"
    )
    assert page.status_code == 200
    assert f'href="/demo/articles/{article_id}"' in page.text
    deleted = " ".join(re.findall(r"<del>(.*?)</del>", page.text, re.S))
    assert str(markupsafe.escape(" ".join(left_out[-1].split()))) in " ".join(deleted.split())
    assert "<ins>" not in page.text.split("compare-text")[1]  # nothing added by a truncation
    assert missing.status_code == 404 and other.status_code == 404


def test_statement_copies_query_labels_in_plain_words(demo_db):
    for (article_id,) in sql(demo_db, "select distinct article_id from copies where match_method = 'new'"):
        for r in rows(demo_db, f"statement_copies?article_id={article_id}"):
            assert r["how_matched"] in (
                "first copy seen",
                "same address",
                "names this statement as its source",
                "same text",
                "nearly the same text",
            )
            assert r["kind_of_copy"] in (
                "official original",
                "official archive",
                "embassy website",
                "republished by another site",
                "web archive capture",
                "file from disk",
            )
            if r["match_method"] == "new":
                assert r["how_matched"] == "first copy seen"
            assert r["what_it_changed"] == "nothing" or r["how_close"] != "identical"


def test_question_results_link_titles_to_the_statement(demo_db):
    (page,) = fetch(demo_db, "/demo/most_copied")
    top = rows(demo_db, "most_copied")[0]
    assert f'<a href="/demo/articles/{top["article_id"]}">{markupsafe.escape(top["title"])}</a>' in page.text


def test_the_plugin_leaves_other_databases_alone(tmp_path):
    other = tmp_path / "notes.db"
    conn = sqlite3.connect(other)
    conn.execute("create table articles (id integer primary key, title text)")
    conn.execute("insert into articles values (1, 'a note')")
    conn.commit()
    conn.close()
    ds = Datasette([str(other)], **datasette_options())

    async def go():
        return [await ds.client.get(p) for p in ("/", "/notes", "/notes/articles", "/notes/articles/1")]

    home, database, table, row = asyncio.run(go())
    assert all(r.status_code == 200 for r in (home, database, table, row))
    assert "Search the statements" not in home.text and 'id="sql-editor"' in database.text
    assert "a note" in table.text and "Where it appeared" not in row.text


# --- safety ---------------------------------------------------------------------------------


def test_script_in_an_article_is_shown_as_text(writable_db):
    text = (
        "Remarks on <script>alert('dispatches')</script> and <img src=x onerror=alert(1)> in "
        "a statement about maritime security cooperation in the region. "
    ) * 4
    article_id = save_document(
        writable_db,
        "<script>alert(1)</script> Maritime security",
        text,
        "https://www.state.gov/browse-test-script/",
    )
    pages = fetch(
        writable_db,
        f"/dispatches/articles/{article_id}",
        "/dispatches/articles?_search=maritime",
        "/dispatches/new_since?since=1900-01-01",  # a question: the plugin writes the title link
    )
    for resp in pages:
        assert resp.status_code == 200
        assert "<script>alert" not in resp.text
        assert "<img src=x" not in resp.text
        assert "&lt;script&gt;alert" in resp.text
    # a value that is a javascript: URL stays text (Datasette links only http and https)
    js = save_document(
        writable_db,
        "javascript:alert(document.cookie)",
        "javascript:alert(document.cookie) The Secretary spoke with the Foreign Minister of "
        "Iceland about Arctic fisheries, search and rescue and shipping lanes. " * 3,
        "https://www.state.gov/browse-test-javascript/",
    )
    (row,) = fetch(writable_db, f"/dispatches/articles/{js}")
    assert "javascript:alert(document.cookie)" in row.text
    assert 'href="javascript' not in row.text.lower()


def test_canned_queries_cannot_write(demo_db):
    (resp,) = fetch(demo_db, "/demo.json?sql=delete+from+articles")
    assert resp.status_code in (400, 403)
    assert sql(demo_db, "select count(*) from articles")[0][0] > 0


# --- reading while a crawl writes ----------------------------------------------------------

WRITER = """
import random, sys
from datetime import date, datetime, timezone
from cleaners.model import Document, RawPage, content_hash
from store import Store
db = Store(sys.argv[1])
for i in range(int(sys.argv[2])):
    url = f"https://www.state.gov/browse-test-writer-{i}/"
    # distinct vocabulary per statement, so that no two are near-duplicates
    rng = random.Random(i)
    vocab = [f"{a}{b}" for a in ("con", "pro", "tra", "dis", "re", "in", "ex", "sub") for b in
             ("sular", "vision", "ference", "mission", "lation", "tection", "change", "sidy", "port",
              "trict")]
    text = " ".join(rng.choice(vocab) for _ in range(120)) + "."
    raw = RawPage(url=url, final_url=url, status=200, headers={"content-type": "text/plain"},
                  body=text.encode(), fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  spider="ingest", discovered_via="file")
    doc = Document(url=url, title=f"Consular services {i}", text=text, published=date(2024, 6, 1),
                   publisher="U.S. Department of State", language="en", claimed_original=None,
                   content_hash=content_hash(text))
    db.save(doc, raw)
    print(i, flush=True)
db.close()
"""


def test_datasette_reads_while_another_process_writes(writable_db):
    n = 60
    before = sql(writable_db, "select count(*) from articles")[0][0]
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(writable_db), str(n)],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ds = Datasette([str(writable_db)], metadata=metadata_for(writable_db))
    seen = []

    async def read_until_done():
        while True:
            done = writer.poll() is not None
            resp = await ds.client.get("/dispatches/articles.json?_size=1&_nofacet=1")
            assert resp.status_code == 200, resp.text[:300]
            seen.append(resp.json()["filtered_table_rows_count"])
            for path in ("/dispatches/crawl_health.json", "/dispatches/copies.json?_size=5"):
                assert (await ds.client.get(path)).status_code == 200
            if done:
                return
            await asyncio.sleep(0.01)

    asyncio.run(read_until_done())
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err[-2000:]
    assert seen == sorted(seen), "a reader saw rows disappear"
    assert len(seen) > 3
    assert seen[-1] == before + n


# --- the scrapy browse command ----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def browse_server(db: Path):
    """`scrapy browse --db DB` on a free loopback port, as a user starts it; yields its base URL."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "scrapy", "browse", "--db", str(db), "--port", str(port)],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[1][-2000:]
            try:
                with urllib.request.urlopen(f"{base}/-/versions.json", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "scrapy browse did not start"
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err


def test_scrapy_browse_serves_the_database_over_http(demo_db, tmp_path):
    db = tmp_path / "my-archive.db"  # a name the shipped file does not know
    copy_db(demo_db, db)
    with browse_server(db) as base:
        with urllib.request.urlopen(f"{base}/my-archive/articles", timeout=10) as resp:
            page = resp.read().decode()
        assert "Statements</h1>" in page and 'class="excerpt"' in page
        with urllib.request.urlopen(f"{base}/", timeout=10) as resp:
            assert "Search the statements" in resp.read().decode()
        with urllib.request.urlopen(f"{base}/static/dispatches.css", timeout=10) as resp:
            assert resp.status == 200
        with urllib.request.urlopen(f"{base}/-/databases.json", timeout=10) as resp:
            (info,) = json.load(resp)
        assert info["is_mutable"] is True  # never immutable mode on a file a crawl may write
        with urllib.request.urlopen(
            f"{base}/my-archive/crawl_health.json?_shape=objects", timeout=10
        ) as resp:
            assert json.load(resp)["rows"]


README_URL = re.compile(r"http://127\.0\.0\.1:8001(/[^\s<>()`]*)?")


def test_every_readme_browse_url_answers_on_the_demo_database(demo_db, tmp_path):
    # The README tells users to run `scrapy demo`, then `scrapy browse --db data/demo.db`.
    paths = sorted({m.group(1) or "/" for m in README_URL.finditer(README.read_text())})
    assert len(paths) >= 15 and "/" in paths
    assert all(p == "/" or p.startswith("/demo/") for p in paths), paths
    db = copy_db(demo_db, tmp_path / "demo.db")
    with browse_server(db) as base:
        for path in paths:
            with urllib.request.urlopen(base + path, timeout=30) as resp:
                assert resp.status == 200, path
                body = resp.read().decode()
            assert "Error" not in body.split("</title>")[0], path


def test_datasette_is_never_started_immutable_or_without_locks(tmp_path):
    argv = datasette_argv(tmp_path / "dispatches.db", tmp_path / "metadata.json", "127.0.0.1", 8001)
    assert argv[1:4] == ["-m", "datasette", "serve"]
    assert not {"-i", "--immutable", "--nolock", "--root", "--crossdb"} & set(argv)
    assert argv[argv.index("--host") + 1] == "127.0.0.1"


def scrapy_in_process(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run `scrapy ARGS` through Scrapy's own entry point in this process (no start-up cost)."""
    from scrapy.cmdline import execute

    monkeypatch.chdir(PROJECT)
    saved = dict(os.environ)
    try:
        execute(["scrapy", *args])
        code = 0
    except SystemExit as exc:
        # sys.exit("message") exits 1 with the message on stderr
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    out, err = capsys.readouterr()
    return code, out, err


def test_scrapy_browse_help_and_bad_databases_in_one_line(tmp_path, monkeypatch, capsys):
    code, out, _ = scrapy_in_process(monkeypatch, capsys, "browse", "--help")
    assert code == 0
    for option in ("--db", "--port", "--host"):
        assert option in out
    # the README's examples use only options that exist
    section = README.read_text().split("<!-- section: browse -->")[1].split("<!-- section:")[0]
    examples = [line for line in section.splitlines() if line.startswith("scrapy browse")]
    assert examples
    for line in examples:
        for option in re.findall(r"\s(--[a-z-]+)", line.split("#")[0]):
            assert option in out, line

    notdb = tmp_path / "notes.db"
    notdb.write_text("these are my notes, not a database\n" * 100)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("create table t (x)").connection.close()
    good = tmp_path / "dispatches.db"
    sqlite3.connect(good).execute("create table articles (id integer primary key)").connection.close()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        runs = [["--db", str(p)] for p in (tmp_path / "none.db", notdb, other)]
        runs.append(["--db", str(good), "--port", str(busy.getsockname()[1])])
        for args in runs:
            code, _, err = scrapy_in_process(monkeypatch, capsys, "browse", *args)
            assert code == 2, args
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("browse: "), err
            assert "Traceback" not in err


# --- screenshots ------------------------------------------------------------------------------


def test_screenshot_script_names_a_bad_database_in_one_line(tmp_path):
    notdb = tmp_path / "notes.db"
    notdb.write_text("these are my notes, not a database\n" * 100)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("create table t (x)").connection.close()
    for db in (notdb, other, tmp_path / "missing.db"):
        done = subprocess.run(
            [
                sys.executable,
                str(PROJECT / "scripts" / "screenshots.py"),
                "--db",
                str(db),
                "--out",
                str(tmp_path / "shots"),
                "--chromium",
                sys.executable,  # never started: the database is checked first
            ],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"screenshots: {db}"), done.stderr
        assert not (tmp_path / "shots").exists()


@pytest.mark.skipif(
    shutil.which("chromium") is None and shutil.which("chromium-browser") is None,
    reason="Debian's chromium package is not installed",
)
def test_screenshot_script_saves_readable_pngs(demo_db, tmp_path):
    out = tmp_path / "shots"
    done = subprocess.run(
        [
            sys.executable,
            str(PROJECT / "scripts" / "screenshots.py"),
            "--db",
            str(demo_db),
            "--out",
            str(out),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = [Path(p).name for p in done.stdout.split()]
    assert names == [name for name, _, _ in screenshots.PAGES]
    for name, (_, _, height) in zip(names, screenshots.PAGES, strict=True):
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (1440, height)
        assert len(data) > 20_000, f"{name} looks blank"
