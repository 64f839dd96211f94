"""Schema of the Dispatches database as sqlite-utils migrations, plus what must hold after them.

Every schema change is a new function appended to `MIGRATIONS` (never edit an applied
one). `migrate()` applies the pending ones inside the caller's `BEGIN IMMEDIATE`
transaction, then re-creates what `Table.transform()` can silently drop: the FTS
triggers on `articles` (and a rebuild of `articles_fts` if it drifted) and the views.
`PRAGMA user_version` is set to `SCHEMA_VERSION` so an older Dispatches can refuse a
newer file.
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from cleaners.model import parse_timestamp, utc_timestamp

MIGRATIONS = Migrations("dispatches")


@MIGRATIONS(name="0001_core")
def _core(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS articles (
            id INTEGER PRIMARY KEY,
            title TEXT,
            text TEXT,
            published TEXT,            -- ISO date, from the official copy when there is one
            modified TEXT,
            canonical_url TEXT,        -- the official original when known
            publisher TEXT,
            speaker TEXT,
            doc_type TEXT,
            language TEXT,
            copies_count INTEGER NOT NULL DEFAULT 0,
            first_seen TEXT,
            updated_at TEXT,
            content_hash TEXT,         -- sha256 of the normalised text (cleaners.model.content_hash)
            removed_count INTEGER NOT NULL DEFAULT 0,
            rep_copy_id INTEGER,       -- the copy whose title/text represent the article
            rep_rank INTEGER,          -- 0 state.gov, 1 embassy, 2 archive/other official, 3 unofficial
            translation_of_article_id INTEGER,
            translation_of_key TEXT    -- normalised URL of the English original, until it is seen
        );
        CREATE TABLE IF NOT EXISTS copies (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id),
            url_key TEXT NOT NULL UNIQUE,   -- normalised URL, or file:<path> for bare files
            url TEXT,                       -- as served, credentials/trackers removed
            site TEXT,
            role TEXT NOT NULL,             -- original, archive, embassy, syndicated, file
            rank INTEGER NOT NULL,
            fetched_at TEXT,
            first_fetched_at TEXT,
            http_status INTEGER,
            etag TEXT,
            last_modified TEXT,
            claimed_original_url TEXT,
            match_method TEXT NOT NULL,     -- url, attribution, exact, near, new
            match_score REAL,
            similarity REAL,                -- containment vs the article's current text
            page_sha256 TEXT,
            text_sha256 TEXT,
            title TEXT,
            published TEXT,
            modified TEXT,
            publisher TEXT,
            speaker TEXT,
            doc_type TEXT,
            language TEXT,
            translation_of TEXT,
            canonical TEXT,
            source_line TEXT,
            removed TEXT,                   -- JSON [{rule, text}] of the cruft the cleaner cut
            removed_count INTEGER NOT NULL DEFAULT 0,
            discovered_via TEXT,
            source_path TEXT,
            spider TEXT,
            crawl_id INTEGER,
            raw_url TEXT,                   -- the URL asked for (redacted)
            final_url TEXT,                 -- after redirects (redacted)
            headers TEXT,                   -- JSON of the response headers (for WARC export)
            meta TEXT,                      -- JSON of RawPage.meta (discovery hints), for reprocess
            gone INTEGER NOT NULL DEFAULT 0 -- 1: moved away (301) or removed
        );
        CREATE INDEX IF NOT EXISTS copies_article ON copies(article_id);
        CREATE INDEX IF NOT EXISTS copies_text ON copies(text_sha256);
        CREATE INDEX IF NOT EXISTS copies_site ON copies(site);
        CREATE INDEX IF NOT EXISTS copies_fetched ON copies(fetched_at);
        CREATE TABLE IF NOT EXISTS versions (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id),
            text_sha256 TEXT NOT NULL,
            text TEXT NOT NULL,
            title TEXT,
            seen_at TEXT,
            url TEXT,
            role TEXT,
            UNIQUE (article_id, text_sha256)
        );
        CREATE TABLE IF NOT EXISTS pages (
            sha256 TEXT PRIMARY KEY,
            content_type TEXT,
            encoding TEXT,                  -- charset declared by the response, if any
            compression TEXT NOT NULL,      -- zstd or zlib
            body BLOB NOT NULL,
            size INTEGER NOT NULL,          -- uncompressed bytes
            stored_at TEXT
        );
        CREATE TABLE IF NOT EXISTS crawls (
            id INTEGER PRIMARY KEY,
            spider TEXT NOT NULL,
            args TEXT,
            started_at TEXT,
            finished_at TEXT,
            status TEXT,
            stats TEXT,
            pages INTEGER,
            new_articles INTEGER,
            new_copies INTEGER,
            errors INTEGER,
            soft_blocks INTEGER
        );
        """
    )


@MIGRATIONS(name="0002_provenance_and_index")
def _provenance(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS texts (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,    -- cleaners.model.content_hash of the text
            article_id INTEGER NOT NULL,
            text TEXT NOT NULL,
            words INTEGER,
            fp_count INTEGER
        );
        CREATE INDEX IF NOT EXISTS texts_article ON texts(article_id);
        CREATE TABLE IF NOT EXISTS fingerprints (
            hash INTEGER NOT NULL,
            text_id INTEGER NOT NULL,
            PRIMARY KEY (hash, text_id)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS fp_df (   -- boilerplate fingerprints (posting list full) and their count
            hash INTEGER PRIMARY KEY,
            n INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS events (
            id INTEGER PRIMARY KEY,
            crawl_id INTEGER,
            url TEXT,
            stage TEXT,
            reason TEXT,
            detail TEXT,
            at TEXT
        );
        CREATE INDEX IF NOT EXISTS events_crawl ON events(crawl_id);
        CREATE TABLE IF NOT EXISTS url_state (
            url_key TEXT PRIMARY KEY,
            url TEXT,
            lastmod TEXT,
            modified_gmt TEXT,
            etag TEXT,
            last_modified TEXT,
            gone INTEGER NOT NULL DEFAULT 0,
            discovered_via TEXT,
            updated_at TEXT
        );
        CREATE TABLE IF NOT EXISTS redirects (
            from_key TEXT PRIMARY KEY,
            to_key TEXT NOT NULL,
            from_url TEXT,
            to_url TEXT,
            seen_at TEXT
        );
        CREATE INDEX IF NOT EXISTS redirects_to ON redirects(to_key);
        CREATE TABLE IF NOT EXISTS pending_attributions (
            claimed_key TEXT PRIMARY KEY,   -- a claimed original URL not yet crawled
            claimed_url TEXT,
            article_id INTEGER NOT NULL,
            copy_id INTEGER,
            created_at TEXT
        );
        CREATE TABLE IF NOT EXISTS review_pairs (
            id INTEGER PRIMARY KEY,
            copy_id INTEGER NOT NULL,
            article_id INTEGER NOT NULL,    -- the candidate the copy was not merged into
            score REAL,
            reason TEXT,                    -- grey_zone, lookalike, date_mismatch, title_mismatch
            detail TEXT,
            created_at TEXT,
            UNIQUE (copy_id, article_id)
        );
        CREATE TABLE IF NOT EXISTS merged_articles (
            old_id INTEGER PRIMARY KEY,
            new_id INTEGER NOT NULL,
            reason TEXT,
            merged_at TEXT
        );
        """
    )


@MIGRATIONS(name="0003_fts")
def _fts(db: Database) -> None:
    db.table("articles").enable_fts(["title", "text"], create_triggers=True, tokenize="porter")


@MIGRATIONS(name="0004_lookup_indexes")
def _lookup_indexes(db: Database) -> None:
    # Every save resolves translations waiting for its URL: without an index that is a
    # scan of `articles` (texts inline), and saves would slow down as the database grows.
    db.executescript(
        """
        CREATE INDEX IF NOT EXISTS articles_translation_key ON articles(translation_of_key)
            WHERE translation_of_key IS NOT NULL;
        CREATE INDEX IF NOT EXISTS articles_translation_of ON articles(translation_of_article_id)
            WHERE translation_of_article_id IS NOT NULL;
        CREATE INDEX IF NOT EXISTS review_pairs_article ON review_pairs(article_id);
        CREATE INDEX IF NOT EXISTS merged_articles_new ON merged_articles(new_id);
        CREATE INDEX IF NOT EXISTS pending_attributions_article ON pending_attributions(article_id);
        """
    )


@MIGRATIONS(name="0005_browse_indexes")
def _browse_indexes(db: Database) -> None:
    # What the Datasette pages sort and facet by (the statements page sorts by date and
    # facets by publisher, language and year).
    db.executescript(
        """
        CREATE INDEX IF NOT EXISTS articles_published ON articles(published);
        CREATE INDEX IF NOT EXISTS articles_publisher ON articles(publisher);
        CREATE INDEX IF NOT EXISTS articles_language ON articles(language);
        CREATE INDEX IF NOT EXISTS articles_first_seen ON articles(first_seen);
        CREATE INDEX IF NOT EXISTS articles_copies_count ON articles(copies_count);
        CREATE INDEX IF NOT EXISTS copies_role ON copies(role);
        CREATE INDEX IF NOT EXISTS copies_match_method ON copies(match_method);
        CREATE INDEX IF NOT EXISTS copies_similarity ON copies(similarity);
        """
    )


@MIGRATIONS(name="0006_fts_update_of_title_text")
def _fts_update_of(db: Database) -> None:
    narrow_update_trigger(db)


@MIGRATIONS(name="0007_fp_df_boilerplate_only")
def _fp_df_boilerplate_only(db: Database) -> None:
    # fp_df counts only fingerprints whose posting list is full (boilerplate); the lengths
    # of the others are read from `fingerprints` (fewer pages written per save).
    from .neardup import DF_CAP

    db.execute("DELETE FROM fp_df WHERE n <= ?", [DF_CAP])


@MIGRATIONS(name="0008_articles_year")
def _articles_year(db: Database) -> None:
    # A plain column (not a generated one: sqlite-utils' transform() cannot copy those) so
    # Datasette can facet statements by year; the store keeps it in step with `published`.
    db.execute("ALTER TABLE articles ADD COLUMN year INTEGER")
    db.execute(
        "UPDATE articles SET year = CAST(substr(published, 1, 4) AS INTEGER) WHERE published IS NOT NULL"
    )
    db.execute("CREATE INDEX IF NOT EXISTS articles_year ON articles(year)")


# Every column holding a time the store wrote, in the one form `YYYY-MM-DDTHH:MM:SSZ`.
TIMESTAMP_COLUMNS = {
    "articles": ("first_seen", "updated_at"),
    "copies": ("fetched_at", "first_fetched_at"),
    "versions": ("seen_at",),
    "pages": ("stored_at",),
    "crawls": ("started_at", "finished_at"),
    "events": ("at",),
    "url_state": ("updated_at",),
    "redirects": ("seen_at",),
    "pending_attributions": ("created_at",),
    "review_pairs": ("created_at",),
    "merged_articles": ("merged_at",),
}
_CANONICAL_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z"


@MIGRATIONS(name="0009_one_timestamp_form")
def _one_timestamp_form(db: Database) -> None:
    # Times compare as strings only when they share one form: `…+00:00`, fractional seconds
    # and other offsets become `YYYY-MM-DDTHH:MM:SSZ`. A value that is not a time is left.
    for table, columns in TIMESTAMP_COLUMNS.items():
        for col in columns:
            rows = db.execute(
                f"SELECT rowid, [{col}] FROM [{table}] WHERE [{col}] IS NOT NULL AND [{col}] NOT GLOB ?",
                [_CANONICAL_GLOB],
            ).fetchall()
            fixed = []
            for rowid, value in rows:
                try:
                    fixed.append((utc_timestamp(parse_timestamp(value)), rowid))
                except ValueError:
                    continue
            db.conn.executemany(f"UPDATE [{table}] SET [{col}] = ? WHERE rowid = ?", fixed)


@MIGRATIONS(name="0010_moves_and_posts")
def _moves_and_posts(db: Database) -> None:
    # moved_to: where a copy's URL moved (a permanent redirect, or its post's new permalink);
    # guid: the CMS's own id of the post (a WordPress guid), which survives a slug change;
    # republished: the page says it republishes another office's text ("The following
    # statement was released by the Department of State").
    db.execute("ALTER TABLE copies ADD COLUMN moved_to TEXT")
    db.execute("ALTER TABLE copies ADD COLUMN guid TEXT")
    db.execute("ALTER TABLE copies ADD COLUMN republished INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX IF NOT EXISTS copies_guid ON copies(guid) WHERE guid IS NOT NULL")


@MIGRATIONS(name="0011_extraction_record")
def _extraction_record(db: Database) -> None:
    # extraction: which path of the cleaners produced the text (full, fast, region, full+region,
    # fast+region, text), so a
    # user can find the pages a fallback rescued; refused: lines a cruft rule matched but kept
    # because they read as the statement's prose (JSON like `removed`).
    db.execute("ALTER TABLE copies ADD COLUMN extraction TEXT")
    db.execute("ALTER TABLE copies ADD COLUMN refused TEXT")


@MIGRATIONS(name="0012_history_gone_claims_archived")
def _history(db: Database) -> None:
    # Statements that disappear, move or are recovered from a web archive, and the fetch state
    # of the originals that copies claim (see store/history.py).
    for col in ("gone_at", "moved_to", "archived_url", "memento_at"):
        if col not in db["copies"].columns_dict:
            db.execute(f"ALTER TABLE copies ADD COLUMN [{col}] TEXT")
    db.executescript(
        """
        CREATE INDEX IF NOT EXISTS copies_gone_at ON copies(gone_at) WHERE gone_at IS NOT NULL;
        CREATE TABLE IF NOT EXISTS claim_fetches (
            claimed_key TEXT PRIMARY KEY,   -- normalised URL of a claimed original
            claimed_url TEXT,
            tries INTEGER NOT NULL DEFAULT 0,
            status TEXT,                    -- fetched, failed, gone, archived, not_archived
            http_status INTEGER,
            detail TEXT,
            last_tried_at TEXT,
            next_try_at TEXT                -- not asked for again before this time
        );
        CREATE TABLE IF NOT EXISTS gone_events (
            id INTEGER PRIMARY KEY,
            copy_id INTEGER NOT NULL,
            crawl_id INTEGER,
            url TEXT,
            http_status INTEGER,
            reason TEXT,                    -- http_404, http_410, soft_404
            at TEXT
        );
        CREATE INDEX IF NOT EXISTS gone_events_crawl ON gone_events(crawl_id);
        """
    )


@MIGRATIONS(name="0013_site_chrome")
def _site_chrome(db: Database) -> None:
    # Lines an aggregator repeats on many of its pages are its chrome (cleaners/sitechrome.py):
    # per site, on how many pages each line key stands, what each page counted (so a page
    # cleaned again is not counted twice) and the chrome set every stored page was cleaned with.
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS chrome_sites (
            site TEXT PRIMARY KEY,          -- host without www.
            pages INTEGER NOT NULL DEFAULT 0,
            applied TEXT,                   -- JSON list of the line keys last applied to every page
            updated_at TEXT
        );
        CREATE TABLE IF NOT EXISTS chrome_lines (
            site TEXT NOT NULL,
            key INTEGER NOT NULL,           -- cleaners.sitechrome.line_key of a line
            pages INTEGER NOT NULL,         -- pages of the site the line stands on
            line TEXT,                      -- the line (or label), once it stands on a few pages
            PRIMARY KEY (site, key)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS chrome_lines_pages ON chrome_lines(site, pages);
        CREATE TABLE IF NOT EXISTS chrome_pages (
            page_key TEXT PRIMARY KEY,      -- normalised URL
            site TEXT NOT NULL,
            lines TEXT NOT NULL             -- JSON list of the line keys the page counted
        );
        """
    )


@MIGRATIONS(name="0014_chrome_text_keys")
def _chrome_text_keys(db: Database) -> None:
    # The keys of a page's own text (cleaners.sitechrome.strip_keys), apart from the keys of the
    # lines the rules cut from it: only a change among the former can change the page, so the
    # end-of-run pass cleans again only those pages. NULL (pages counted before): all keys.
    if "text_keys" not in db.table("chrome_pages").columns_dict:
        db.table("chrome_pages").add_column("text_keys", str)


SCHEMA_VERSION = len(MIGRATIONS._migrations)
KNOWN = {m.name for m in MIGRATIONS._migrations}

VIEWS = {
    "article_copies": """
        SELECT a.id AS article_id, a.title, a.published, a.publisher, a.canonical_url,
               c.id AS copy_id, c.url, c.site, c.role, c.match_method, c.match_score,
               c.similarity, c.fetched_at, c.claimed_original_url
        FROM copies c JOIN articles a ON a.id = c.article_id
    """,
    "review": """
        SELECT r.id, r.copy_id, c.article_id AS copy_article_id, c.url AS copy_url,
               c.title AS copy_title, r.article_id, a.canonical_url AS article_url,
               a.title AS article_title, r.score, r.reason, r.detail, r.created_at
        FROM review_pairs r
        JOIN copies c ON c.id = r.copy_id
        JOIN articles a ON a.id = r.article_id
    """,
}

FTS_TRIGGERS = ("articles_ai", "articles_ad", "articles_au")


def drop_views(db: Database) -> None:
    for name in VIEWS:
        db.execute(f"DROP VIEW IF EXISTS [{name}]")


def narrow_update_trigger(db: Database) -> None:
    """Re-index an article only when its title or text changes, not on every counter
    update (copies_count changes with each copy saved)."""
    sql = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'articles_au'"
    ).fetchone()
    if sql and "UPDATE OF" not in sql[0].upper():
        db.execute("DROP TRIGGER articles_au")
        db.execute(
            "CREATE TRIGGER [articles_au] AFTER UPDATE OF [title], [text] ON [articles] BEGIN\n"
            "  INSERT INTO [articles_fts] ([articles_fts], rowid, [title], [text]) "
            "VALUES('delete', old.rowid, old.[title], old.[text]);\n"
            "  INSERT INTO [articles_fts] (rowid, [title], [text]) "
            "VALUES (new.rowid, new.[title], new.[text]);\n"
            "END"
        )


def ensure_fts(db: Database) -> None:
    """Re-create the FTS triggers if a migration dropped them (`Table.transform()` does),
    and rebuild the index if it no longer matches `articles` (FTS5 integrity-check
    against the content table)."""
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()}
    if not db["articles_fts"].exists() or not set(FTS_TRIGGERS) <= names:
        db.table("articles").enable_fts(
            ["title", "text"], create_triggers=True, tokenize="porter", replace=True
        )
    else:
        try:
            db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError:
            db.table("articles").rebuild_fts()
    narrow_update_trigger(db)


def migrate(db: Database, migrations: Migrations = MIGRATIONS) -> list[str]:
    """Apply pending migrations (inside the caller's transaction) and restore FTS and views.

    Returns the names applied.
    """
    pending = [m.name for m in migrations.pending(db)]
    if not pending:
        return []
    drop_views(db)
    migrations.apply(db)
    ensure_fts(db)
    for name, sql in VIEWS.items():
        db.execute(f"CREATE VIEW [{name}] AS {sql}")
    db.execute(f"PRAGMA user_version = {max(SCHEMA_VERSION, len(migrations._migrations))}")
    return pending
