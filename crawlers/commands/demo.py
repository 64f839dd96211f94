"""`scrapy demo`: the whole pipeline, offline, against the bundled fixture web.

Starts the fixture web of `tests/fixtures/web/` (an HTTP(S) proxy on 127.0.0.1 that serves
www.state.gov, 2021-2025.state.gov, two embassy sites and two aggregators), runs `state_gov`
(with the 2021-2025 archive), `usembassy` (mx and ca) and `syndication` (the two fixture
aggregators) through it, one `scrapy crawl` child after the other, into `data/demo.db`; then
removes one www.state.gov statement (it answers 410 from then on, its 2021-2025 copy stays),
ingests the user's captures (`--seeds`, by default `../shared/seeds` when it is there), fetches
the originals that copies name and rechecks www.state.gov (`originals`), and recovers the 2014
statements of the gone embassy site from the fixture's mock Internet Archive (`wayback`). It
prints a summary on stderr: articles, copies by role, copies merged into an existing article,
cruft removed, originals fetched, archived originals, gone copies, and the command that opens
the result in Datasette.

The fixture web is part of a source checkout, not of an installed wheel: outside one, the
command says so and exits 1.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from scrapy.commands import ScrapyCommand

from crawlers.commands._common import EX_USAGE, new_database, stderr_line
from crawlers.config import project_root as find_project_root

CRAWLS = (
    ("state_gov", {"archives": "2021-2025.state.gov"}),
    ("usembassy", {"hosts": "mx.usembassy.gov,ca.usembassy.gov"}),
    ("syndication", {"sources": "demo"}),
)
# After the seeds are ingested: the originals their copies name, and the embassy statements of
# 2014 that only the (mock) Internet Archive still has.
OLDER_CRAWLS: tuple[tuple[str, dict[str, str]], ...] = (
    ("originals", {"recheck": "www.state.gov"}),
    ("wayback", {"hosts": "mexico.usembassy.gov", "from": "2014", "to": "2014", "match": "press-releases"}),
)
# The user's own captures, next to the checkout when they are there (read, never copied).
SEEDS = Path("..") / "shared" / "seeds"

# The fixture announces the real sites' Crawl-delay; on loopback a tenth of a second is plenty
# to show the delay is applied without making the demo slow.
DEMO_SETTINGS = {
    "DISPATCHES_MAX_CRAWL_DELAY": "0.05",
    "DOWNLOAD_DELAY": "0",  # per-host concurrency holds at 0 (crawlers/downloader.py)
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "4",
    "LOG_LEVEL": "ERROR",
}


def remove_one_statement(web) -> str | None:
    """Make one www.state.gov statement answer 410 from now on, as statements disappear at a
    change of administration; its copy on the 2021-2025 archive stays. Returns its URL."""
    from urllib.parse import urlsplit

    manifest = web.manifest()
    special = set(manifest.get("five_sites", [])) | set(manifest.get("edited", []))
    special |= {m["id"] for m in manifest.get("moved", [])}
    candidates = sorted(
        (
            s
            for s in manifest["statements"]
            if {c["site"] for c in s["copies"]} == {"www.state.gov", "2021-2025.state.gov"}
            and s["id"] not in special
            and not s.get("variant_of")
        ),
        key=lambda s: s["id"],
    )
    if not candidates:
        return None
    url = candidates[0]["official_url"]
    web.add_fault("www.state.gov", urlsplit(url).path, status=410, times=None)
    return url


class DemoError(Exception):
    """Something the user must fix; one line."""


def project_root() -> Path:
    root = find_project_root()
    if not root:
        raise DemoError("run scrapy demo inside the Dispatches checkout (no scrapy.cfg found)")
    return Path(root).resolve()


def fixture_dir(root: Path) -> Path:
    web = root / "tests" / "fixtures" / "web"
    if not (web / "fixtureweb.py").is_file():
        raise DemoError(
            f"the fixture web is missing ({web / 'fixtureweb.py'}); scrapy demo needs a source checkout"
        )
    return web


def summarise(db_path: str) -> dict:
    """Counts for the summary, read straight from the database (read-only)."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:

        def q(sql: str) -> list:
            return con.execute(sql).fetchall()

        out = {
            "articles": q("select count(*) from articles")[0][0],
            "copies": q("select count(*) from copies")[0][0],
        }
        out["by_role"] = dict(q("select role, count(*) from copies group by role order by count(*) desc"))
        out["merged"] = q("select count(*) from copies where coalesce(match_method, 'new') != 'new'")[0][0]
        out["by_method"] = dict(
            q("select match_method, count(*) from copies group by match_method order by count(*) desc")
        )
        cols = {r[1] for r in q("pragma table_info(copies)")}
        out["removed"] = None
        if "removed_count" in cols:
            out["removed"] = q("select coalesce(sum(removed_count), 0) from copies")[0][0]
        if "removed" in cols:
            try:
                out["removed_by_rule"] = dict(
                    q(
                        "select j.value ->> 'rule', count(*) from copies, json_each(copies.removed) j "
                        "where copies.removed is not null group by 1 order by 2 desc limit 6"
                    )
                )
            except sqlite3.Error:  # an SQLite without ->> (before 3.38)
                pass
        out["crawls"] = q("select spider, status from crawls order by id")
        tables = {r[0] for r in q("select name from sqlite_master where type = 'table'")}
        if "claim_fetches" in tables and "gone_at" in cols:
            out["originals_fetched"] = q(
                "select count(*) from copies where spider = 'originals' and role != 'archived'"
            )[0][0]
            out["archived"] = q("select count(*) from copies where role = 'archived'")[0][0]
            out["gone"] = q("select count(*) from copies where gone_at is not null")[0][0]
            out["seeds"] = q(
                "select count(*), coalesce(sum(a.rep_rank <= 2), 0) from copies c "
                "join articles a on a.id = c.article_id where c.spider = 'ingest'"
            )[0]
            # How each capture ended: the official copy that represents it, and what led there.
            out["seed_ends"] = [
                (os.path.basename(path or ""), role, site, "claimed URL" if claimed else "source line")
                for path, role, site, claimed in q(
                    "select c.source_path, r.role, r.site, c.claimed_original_url from copies c "
                    "join articles a on a.id = c.article_id join copies r on r.id = a.rep_copy_id "
                    "where c.spider = 'ingest' and a.rep_rank <= 2 order by c.source_path"
                )
            ]
        return out
    finally:
        con.close()


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--db PATH] [--scale N]"

    def short_desc(self) -> str:
        return "Crawl the bundled fixture web (offline, loopback) into data/demo.db and summarise"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--db",
            metavar="PATH",
            help="database to fill (default: data/demo.db in the project folder)",
        )
        parser.add_argument(
            "--scale", type=int, default=1, help="size of the fixture web (1 = ~50 statements)"
        )
        parser.add_argument(
            "--seeds",
            metavar="DIR",
            default=None,
            help=f"captures to ingest before the originals are fetched (default: {SEEDS} when present)",
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            stderr_line(
                f"dispatches: scrapy demo takes no argument {args[0]!r} "
                "(scrapy demo --help lists its options)"
            )
            self.exitcode = EX_USAGE
            return
        try:
            self.exitcode = self._run(opts)
        except DemoError as exc:
            print(f"dispatches: {exc}", file=sys.stderr)
            self.exitcode = 1

    def _run(self, opts) -> int:
        if opts.scale < 1:
            raise DemoError("--scale must be 1 or more")
        root = project_root()
        fixture_dir(root)
        db_path = os.path.abspath(opts.db) if opts.db else str(root / "data" / "demo.db")
        new_database(db_path, make_folder=True)
        os.makedirs(os.path.dirname(db_path), exist_ok=True)
        try:
            from tests.fixtures.web.fixtureweb import FixtureWeb
        except ImportError as exc:
            raise DemoError(
                f"the fixture web package tests.fixtures.web cannot be imported ({exc}); "
                "scrapy demo needs a source checkout"
            ) from None

        started = time.monotonic()
        print(f"Starting the fixture web (scale {opts.scale}) on loopback...", file=sys.stderr)
        failed: list[str] = []
        seeds = Path(opts.seeds) if opts.seeds else root / SEEDS
        if opts.seeds and not seeds.is_dir():
            raise DemoError(f"--seeds {opts.seeds}: not a folder")
        with FixtureWeb(scale=opts.scale, phase=1, crawl_delay=5) as web:
            env = web.env()
            env["DISPATCHES_DB"] = db_path
            for spider, spider_args in CRAWLS:
                self._child(root, env, spider, spider_args, failed)
            removed = remove_one_statement(web)
            if removed:
                print(f"The fixture web removes {removed} (it now answers 410)...", file=sys.stderr)
            if seeds.is_dir():
                t0 = time.monotonic()
                print(f"Ingesting the captures in {seeds}...", file=sys.stderr)
                proc = subprocess.run(
                    [sys.executable, "-m", "scrapy", "ingest", str(seeds)], cwd=root, env=env
                )
                if proc.returncode != 0:
                    failed.append("ingest")
                    print(f"  ingest exited with status {proc.returncode}", file=sys.stderr)
                else:
                    print(f"  done in {time.monotonic() - t0:.1f} s", file=sys.stderr)
            for spider, spider_args in OLDER_CRAWLS:
                self._child(root, env, spider, spider_args, failed)
        if not os.path.exists(db_path):
            raise DemoError(f"no database was written at {db_path}")
        self._print_summary(db_path, root, time.monotonic() - started)
        return 1 if failed else 0

    def _child(
        self, root: Path, env: dict[str, str], spider: str, spider_args: dict[str, str], failed: list[str]
    ) -> None:
        """One `scrapy crawl` child through the fixture web; a failure is noted, not raised."""
        cmd = [sys.executable, "-m", "scrapy", "crawl", spider]
        for key, value in spider_args.items():
            cmd += ["-a", f"{key}={value}"]
        for key, value in DEMO_SETTINGS.items():
            cmd += ["-s", f"{key}={value}"]
        t0 = time.monotonic()
        print(
            f"Crawling {spider} ({', '.join(f'{k}={v}' for k, v in spider_args.items())})...",
            file=sys.stderr,
        )
        proc = subprocess.run(cmd, cwd=root, env=env)
        if proc.returncode != 0:
            failed.append(spider)
            print(f"  {spider} exited with status {proc.returncode}", file=sys.stderr)
        else:
            print(f"  done in {time.monotonic() - t0:.1f} s", file=sys.stderr)

    def _print_summary(self, db_path: str, root: Path, seconds: float) -> None:
        s = summarise(db_path)
        err = lambda line="": print(line, file=sys.stderr)  # noqa: E731
        err()
        err(f"Demo database: {db_path}  ({seconds:.0f} s)")
        err(f"  articles:                         {s['articles']}")
        err(f"  copies:                           {s['copies']}")
        for role, n in s["by_role"].items():
            err(f"    {role or '?':<30} {n}")
        err(
            f"  copies merged into an article:    {s['merged']}  "
            f"({', '.join(f'{m}: {n}' for m, n in s['by_method'].items() if m and m != 'new')})"
        )
        if s["removed"] is not None:
            rules = s.get("removed_by_rule") or {}
            err(
                f"  cruft removed (spans):            {s['removed']}"
                + (f"  ({', '.join(f'{r}: {n}' for r, n in rules.items())})" if rules else "")
            )
        if "archived" in s:
            err(f"  originals fetched (claims):       {s['originals_fetched']}")
            err(f"  archived originals (Wayback):     {s['archived']}")
            err(f"  gone copies:                      {s['gone']}")
            ingested, whole = s["seeds"]
            if ingested:
                err(f"  captures with an official copy:   {whole} of {ingested}")
                for name, role, site, via in s.get("seed_ends", []):
                    err(f"    {name:<30} {role} copy on {site} (by its {via})")
        err(f"  crawls:                           {', '.join(f'{sp} {st}' for sp, st in s['crawls'])}")
        err()
        rel = os.path.relpath(db_path)
        rel = db_path if rel.startswith("..") else rel
        meta = os.path.relpath(root / "store" / "metadata.yml")
        meta = str(root / "store" / "metadata.yml") if meta.startswith("..") else meta
        err("Browse it:")
        err(f"  scrapy browse --db {rel}")
        if Path(db_path).stem in ("demo", "dispatches"):  # the shipped metadata is keyed by name
            err(f"  (or: datasette {rel} --metadata {meta})")
