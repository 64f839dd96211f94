"""How fast Datasette answers the pages and canned queries we ship, on a large database.

    python bench/bench_browse.py [--articles 50000] [--copies-per-article 4] [--repeat 5]

Builds a synthetic database with the store's schema (Store(path) migrates it), fills it with
plain SQL (schema only, no cleaning or dedup: this measures reading, not writing), then times each
page through Datasette's test client with the shipped metadata, templates and plugin, as
`scrapy browse` serves it:
first without the indexes browsing asked for (`BROWSE_INDEXES`, in the store since migration
0005_browse_indexes), then with them, on the same file. Prints one table: median ms without, median
ms with, and the speed-up. Datasette stops any single query after 1000 ms by default
(`sql_time_limit_ms`); a table page runs several (rows, count, each facet).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datasette.app import Datasette  # noqa: E402

from crawlers.commands.browse import (  # noqa: E402
    datasette_options,
    drop_missing_columns,
    metadata_for,
    read_schema,
)
from store import Store  # noqa: E402

WORDS = (
    "trafficking persons secretary embassy cooperation security maritime agreement "
    "partners democracy elections sanctions humanitarian assistance visa consular travel "
    "health climate energy trade investment human rights freedom press religious"
).split()
SITES = [
    ("www.state.gov", "original"),
    ("2021-2025.state.gov", "archive"),
    ("mx.usembassy.gov", "embassy"),
    ("ca.usembassy.gov", "embassy"),
    ("news.example", "syndicated"),
    ("wire.example", "syndicated"),
]
SPIDERS = ["state_gov", "usembassy", "syndication", "ingest"]
# What the shipped pages sort, facet and filter on; the store creates them (0005_browse_indexes).
BROWSE_INDEXES = [
    "create index if not exists articles_published on articles(published)",
    "create index if not exists articles_publisher on articles(publisher)",
    "create index if not exists articles_language on articles(language)",
    "create index if not exists articles_first_seen on articles(first_seen)",
    "create index if not exists articles_copies_count on articles(copies_count)",
    "create index if not exists copies_role on copies(role)",
    "create index if not exists copies_match_method on copies(match_method)",
    "create index if not exists copies_similarity on copies(similarity)",
]


def build(path: Path, n_articles: int, per_article: int, seed: int = 7) -> None:
    Store(str(path)).close()
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    with conn:
        for i in range(1, n_articles + 1):
            text = " ".join(rng.choice(WORDS) for _ in range(300))
            if i % 100 == 0:
                text += " Kiribati"  # a word in 1 % of statements, for a selective search
            year = 2010 + i % 16
            published = f"{year}-{1 + i % 12:02d}-{1 + i % 28:02d}"
            first_seen = f"2026-{1 + i % 11:02d}-{1 + i % 28:02d}T10:00:00Z"
            n = 1 + rng.randrange(per_article * 2 - 1)
            sha = f"{i:064x}"
            conn.execute(
                "insert into articles (id, title, text, published, canonical_url, publisher, language,"
                " copies_count, first_seen, updated_at, content_hash) values (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    i,
                    f"Statement {i} on {rng.choice(WORDS)} and {rng.choice(WORDS)}",
                    text,
                    published,
                    f"https://www.state.gov/statement-{i}/",
                    rng.choice(["U.S. Department of State", "U.S. Embassy in Mexico"]),
                    rng.choice(["en", "en", "en", "es", "fr"]),
                    n,
                    first_seen,
                    first_seen,
                    sha,
                ),
            )
            conn.execute(
                "insert into texts (sha256, article_id, text, words) values (?,?,?,?)", (sha, i, text, 300)
            )
            for j in range(n):
                site, role = SITES[j % len(SITES)]
                # most copies carry the official text; one in five a different (near or cut) one
                same = j == 0 or rng.random() < 0.8
                copy_sha = sha if same else f"{i:060x}{j:04x}"
                if not same:
                    words = rng.choice([300, 290, 120])
                    conn.execute(
                        "insert into texts (sha256, article_id, text, words) values (?,?,?,?)",
                        (copy_sha, i, " ".join(text.split()[:words]), words),
                    )
                conn.execute(
                    "insert into copies (article_id, url_key, url, site, role, rank, fetched_at,"
                    " first_fetched_at, http_status, match_method, match_score, similarity, text_sha256,"
                    " crawl_id) values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        i,
                        f"{site}/s-{i}-{j}",
                        f"https://{site}/s-{i}-{j}/",
                        site,
                        role,
                        j,
                        first_seen,
                        first_seen,
                        200,
                        "new"
                        if j == 0
                        else ("exact" if same else rng.choice(["url", "attribution", "near"])),
                        1.0 if same else round(rng.uniform(0.7, 1.0), 3),
                        1.0 if same else round(rng.uniform(0.5, 1.0), 3),
                        copy_sha,
                        # the run that stored it: 400 runs of 4 spiders, spread over the articles
                        1 + (i * 400) // (n_articles + 1),
                    ),
                )
            conn.execute(
                "insert into versions (article_id, text_sha256, text, seen_at, url) values (?,?,?,?,?)",
                (i, f"{i:064x}", text[:200], first_seen, f"https://www.state.gov/statement-{i}/"),
            )
            if i % 50 == 0:
                conn.execute(
                    "insert into versions (article_id, text_sha256, text, seen_at, url) values (?,?,?,?,?)",
                    (
                        i,
                        f"{i:063x}e",
                        text[:180],
                        "2026-11-20T10:00:00Z",
                        f"https://www.state.gov/statement-{i}/",
                    ),
                )
        for k in range(400):
            stats = {
                "pages_fetched": 100,
                "errors": k % 3,
                "soft_blocks": k % 2,
                "discovery": {"www.state.gov": "rest"},
                "discovery_failed": ["ca.usembassy.gov"] if k % 5 == 0 else [],
                "robots_blocked": [],
                "circuit_open": [],
            }
            conn.execute(
                "insert into crawls (spider, started_at, finished_at, status, stats, pages, new_articles,"
                " new_copies, errors, soft_blocks) values (?,?,?,?,?,?,?,?,?,?)",
                (
                    SPIDERS[k % 4],
                    f"2026-{1 + k % 11:02d}-{1 + k % 28:02d}T{k % 24:02d}:00:00Z",
                    None,
                    "ok",
                    json.dumps(stats),
                    100,
                    10,
                    20,
                    k % 3,
                    k % 2,
                ),
            )
            for e in range(20):
                conn.execute(
                    "insert into events (crawl_id, url, stage, reason, detail, at) values (?,?,?,?,?,?)",
                    (
                        k + 1,
                        f"https://news.example/x-{k}-{e}",
                        "clean",
                        rng.choice(["too_short", "soft_block"]),
                        "",
                        "",
                    ),
                )
    conn.close()


async def time_pages(db: Path, urls: list[str], repeat: int) -> dict[str, float]:
    metadata = metadata_for(db)  # as `scrapy browse` serves it
    for note in drop_missing_columns(metadata, read_schema(db)):
        print(f"bench: the schema has no column for {note}; left out", file=sys.stderr)
    ds = Datasette([str(db)], metadata=metadata, **datasette_options())
    out = {}
    for url in urls:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            resp = await ds.client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            if resp.status_code != 200:
                if "SQL Interrupted" in resp.text or "interrupted" in resp.text:
                    times = [float("inf")]  # Datasette's per-query time limit stopped it
                    break
                raise SystemExit(f"bench: {url} answered {resp.status_code}: {resp.text[:200]}")
        out[url] = statistics.median(times)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--copies-per-article", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "dispatches.db"
        t0 = time.perf_counter()
        build(db, args.articles, args.copies_per_article)
        n_copies = sqlite3.connect(db).execute("select count(*) from copies").fetchone()[0]
        print(
            f"built {args.articles} articles, {n_copies} copies in {time.perf_counter() - t0:.1f}s",
            file=sys.stderr,
        )
        d = "/dispatches"
        urls = [
            "/-/versions.json",
            "/",
            f"{d}",
            f"{d}/articles",
            f"{d}/articles?_search=kiribati",
            f"{d}/articles/12345",
            "/-/compare/dispatches/copy/12",
            f"{d}/copies",
            f"{d}/article_copies?article_id=12345",
            f"{d}/crawls",
            f"{d}/most_copied",
            f"{d}/altered_copies",
            f"{d}/edited_statements",
            f"{d}/new_since",
            f"{d}/new_since?since=2026-11-01",
            f"{d}/new_copies_since",
            f"{d}/crawl_health",
            f"{d}/crawl_problems",
            f"{d}/statement_copies?article_id=12345",
            f"{d}/statement_versions?article_id=12345",
            f"{d}/review_list",
        ]
        conn = sqlite3.connect(db)
        for statement in BROWSE_INDEXES:
            conn.execute("drop index if exists " + statement.split(" exists ")[1].split(" on ")[0])
        conn.execute("analyze")
        conn.commit()
        plain = asyncio.run(time_pages(db, urls, args.repeat))
        for statement in BROWSE_INDEXES:
            conn.execute(statement)
        conn.execute("analyze")
        conn.commit()
        conn.close()
        indexed = asyncio.run(time_pages(db, urls, args.repeat))
    print(f"{'page':45} {'without ms':>10} {'with ms':>9} {'speed-up':>9}")
    for url in urls:
        ratio = plain[url] / indexed[url] if indexed[url] != float("inf") else float("nan")
        print(f"{url:45} {plain[url]:10.1f} {indexed[url]:9.1f} {ratio:8.1f}x")  # inf = over the time limit
    return 0


if __name__ == "__main__":
    sys.exit(main())
