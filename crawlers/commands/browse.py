"""`scrapy browse`: open the Dispatches database in Datasette with the metadata we ship.

Owns starting Datasette (a child process running `python -m datasette serve`) with what the `store`
package ships for it: `store/metadata.yml`, fitted to whatever the database file is called
(Datasette keys table settings by the file's stem, and the shipped file knows only `dispatches` and
`demo`), and Datasette's own customisation folders next to it, `store/templates/` (`--template-dir`),
`store/plugins/` (`--plugins-dir`) and `store/static/` (`--static static:...`), which make the start
page, the statements list and a statement's page read like pages. The schema and the views belong
to `store/`.

Datasette always opens the file read-only and never immutable (`-i`) or with `--nolock`: a crawl
may be writing it at the same time, which WAL allows.
"""

from __future__ import annotations

import argparse
import copy
import json
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import yaml
from scrapy.commands import ScrapyCommand

SHIPPED_DATABASE_KEY = "dispatches"

# Long statement texts make the table pages unreadable; the row page still shows them whole.
DATASETTE_SETTINGS = {
    "truncate_cells_html": 160,
    # Suggestions ("facet by text") are noise here and cost a query per column on every table
    # page; the useful facets are configured.
    "suggest_facets": False,
    # The canned queries read the whole archive (altered_copies is ~0.5-0.9 s at 50,000
    # statements, bench/bench_browse.py); Datasette's default 1 s limit would cut them off.
    "sql_time_limit_ms": 3000,
}


# URL prefix of store/static/ (Datasette's own name for it in configuration-directory mode); the
# metadata's `extra_css_urls` point there.
STATIC_MOUNT = "static"


class BrowseFiles(NamedTuple):
    """Datasette's customisation folders shipped in the `store` package."""

    templates: Path
    plugins: Path
    static: Path


def browse_files() -> BrowseFiles:
    """Where the shipped templates, plugin and stylesheet are (a checkout or an installed package)."""
    root = Path(str(resources.files("store")))
    return BrowseFiles(root / "templates", root / "plugins", root / "static")


def datasette_options() -> dict:
    """Keyword arguments for `datasette.app.Datasette` that load the shipped folders, as
    `scrapy browse` does (tests and the benchmark build Datasette in-process with them)."""
    files = browse_files()
    return {
        "template_dir": str(files.templates),
        "plugins_dir": str(files.plugins),
        "static_mounts": [(STATIC_MOUNT, str(files.static))],
        "settings": dict(DATASETTE_SETTINGS),
    }


class BrowseError(Exception):
    """A database Datasette should not be started on; the message is one line for the user."""


def load_metadata() -> dict:
    """The metadata shipped in `store/metadata.yml`, as a dict."""
    text = resources.files("store").joinpath("metadata.yml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def metadata_for(db_path: str | Path, metadata: dict | None = None) -> dict:
    """The shipped metadata with its database block under the name Datasette gives `db_path`.

    Args:
        db_path: the SQLite file; Datasette names the database after its stem.
        metadata: metadata to adapt (default: the shipped file).
    """
    metadata = copy.deepcopy(metadata if metadata is not None else load_metadata())
    databases = metadata.get("databases") or {}
    block = databases.get(SHIPPED_DATABASE_KEY) or {}
    metadata["databases"] = {Path(db_path).stem: block}
    return metadata


def served_metadata(db_path: str | Path) -> tuple[dict, list[str]]:
    """The metadata `scrapy browse` serves for `db_path`, and notes on what was left out."""
    metadata = metadata_for(db_path)
    return metadata, drop_missing_columns(metadata, read_schema(db_path))


def drop_missing_columns(metadata: dict, schema: dict[str, set[str]]) -> list[str]:
    """Remove facets, sorts and label/FTS settings naming columns or tables the database lacks.

    Datasette answers a whole table page with an error when one configured facet names a missing
    column, so an older or newer schema would lose the page, not just the facet.

    Args:
        metadata: metadata as returned by `metadata_for` (changed in place).
        schema: table or view name -> its column names.
    Returns:
        One "table.key=value" note per removed setting.
    """
    dropped = []
    for block in (metadata.get("databases") or {}).values():
        for table, config in (block.get("tables") or {}).items():
            columns = schema.get(table)
            if columns is None:
                continue
            facets = []
            for facet in config.get("facets") or []:
                column = facet if isinstance(facet, str) else next(iter(facet.values()), None)
                if column in columns:
                    facets.append(facet)
                else:
                    dropped.append(f"{table}.facets={column}")
            if "facets" in config:
                config["facets"] = facets
            for key in ("sort", "sort_desc", "label_column"):
                if key in config and config[key] not in columns:
                    dropped.append(f"{table}.{key}={config.pop(key)}")
            if "fts_table" in config and config["fts_table"] not in schema:
                dropped.append(f"{table}.fts_table={config.pop('fts_table')}")
                config.pop("fts_pk", None)
    return dropped


def read_schema(db_path: str | Path) -> dict[str, set[str]]:
    """Table and view names of `db_path` -> their column names (read-only)."""
    conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
    try:
        names = [
            row[0] for row in conn.execute("select name from sqlite_master where type in ('table', 'view')")
        ]
        return {
            name: {row[1] for row in conn.execute("select * from pragma_table_xinfo(?)", (name,))}
            for name in names
        }
    finally:
        conn.close()


def check_database(db_path: str | Path) -> str:
    """Check that `db_path` is a Dispatches database Datasette can read; return its journal mode.

    Raises:
        BrowseError: missing, unreadable, not SQLite, or not a Dispatches database.
    """
    path = Path(db_path)
    if not path.exists():
        raise BrowseError(f"{path}: no such database (run `scrapy demo` or `scrapy crawl ...` first)")
    if not path.is_file():
        raise BrowseError(f"{path}: not a file")
    try:
        conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BrowseError(f"{path}: cannot open: {exc}") from None
    try:
        tables = {
            row[0] for row in conn.execute("select name from sqlite_master where type in ('table', 'view')")
        }
        mode = conn.execute("pragma journal_mode").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BrowseError(f"{path}: not a readable SQLite database: {exc}") from None
    finally:
        conn.close()
    if "articles" not in tables:
        raise BrowseError(f"{path}: not a Dispatches database (no `articles` table)")
    if mode == "wal":
        shm = path.with_name(path.name + "-shm")
        if not shm.exists() and not _writable_dir(path.parent):
            # A reader of a WAL database must create -shm unless it exists (sqlite.org/wal.html).
            raise BrowseError(f"{path}: WAL database in a read-only directory without {shm.name}")
    return mode


def _writable_dir(path: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=path):
            return True
    except OSError:
        return False


def datasette_argv(db_path: str | Path, metadata_path: str | Path, host: str, port: int) -> list[str]:
    """The `datasette serve` command line: read-only, never immutable, never --nolock."""
    files = browse_files()
    argv = [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        str(db_path),
        "--metadata",
        str(metadata_path),
        "--host",
        host,
        "--port",
        str(port),
        "--template-dir",
        str(files.templates),
        "--plugins-dir",
        str(files.plugins),
        "--static",
        f"{STATIC_MOUNT}:{files.static}",
    ]
    for name, value in DATASETTE_SETTINGS.items():
        shown = ("on" if value else "off") if isinstance(value, bool) else str(value)
        argv += ["--setting", name, shown]
    return argv


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--db PATH] [--port N] [--host HOST]"

    def short_desc(self) -> str:
        return "Browse the database in Datasette with the shipped metadata and queries"

    def long_desc(self) -> str:
        return (
            "Start Datasette on the Dispatches database (default: the DISPATCHES_DB setting) with "
            "store/metadata.yml and the templates, plugin and stylesheet shipped next to it: a start "
            "page with search and questions, a statements list, a page per statement with every "
            "place it appeared, full-text search and facets. "
            "Safe while a crawl writes the same file (WAL, read-only). Ctrl-C stops it."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--db", metavar="PATH", help="SQLite database (default: DISPATCHES_DB setting)")
        parser.add_argument(
            "--port", type=int, default=8001, help="port to listen on (default: 8001; 0 = any free port)"
        )
        parser.add_argument(
            "--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)"
        )

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        from crawlers.config import database_path

        db_path = Path(database_path(self.settings, opts.db))
        try:
            mode = check_database(db_path)
        except BrowseError as exc:
            print(f"browse: {exc}", file=sys.stderr)
            self.exitcode = 2
            return
        if opts.port and not _port_free(opts.host, opts.port):
            print(
                f"browse: {opts.host}:{opts.port} is already in use (another scrapy browse or datasette?); "
                "pick another with --port",
                file=sys.stderr,
            )
            self.exitcode = 2
            return
        if mode != "wal":
            print(
                f"browse: warning: {db_path} is not in WAL mode ({mode}); a crawl writing it "
                "at the same time may see 'database is locked'",
                file=sys.stderr,
            )
        if opts.host not in ("127.0.0.1", "localhost", "::1"):
            print(
                f"browse: warning: listening on {opts.host}: anyone who can reach it can read the whole "
                "database and run read-only SQL",
                file=sys.stderr,
            )
        metadata, notes = served_metadata(db_path)
        for note in notes:
            print(f"browse: warning: the database has no column for {note}; left out", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="dispatches-browse-") as tmp:
            metadata_path = Path(tmp) / "metadata.json"
            metadata_path.write_text(json.dumps(metadata, indent=2), encoding="utf-8")
            argv = datasette_argv(db_path, metadata_path, opts.host, opts.port)
            shown = f"http://{opts.host}:{opts.port}/" if opts.port else f"{opts.host} (a free port)"
            print(f"browse: serving {db_path} at {shown} (Ctrl-C to stop)", file=sys.stderr)
            self.exitcode = _run_child(argv)


def _port_free(host: str, port: int) -> bool:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return True  # let Datasette report a bad --host in its own words
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            sock.bind(address)
        except OSError:
            return False
    return True


def _run_child(argv: list[str]) -> int:
    """Run Datasette in the foreground; SIGTERM and Ctrl-C stop it cleanly; return its exit code."""
    proc = subprocess.Popen(argv)

    def forward(signum, frame):
        proc.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        while True:
            try:
                code = proc.wait()
                break
            except KeyboardInterrupt:
                # The terminal sent SIGINT to the whole process group; Datasette shuts down on it.
                continue
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
    # A stop by signal is how one ends a server: not an error.
    return 0 if code in (-signal.SIGINT, -signal.SIGTERM) else code
