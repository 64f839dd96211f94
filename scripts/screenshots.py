"""PNG screenshots of Dispatches in Datasette, taken with headless Chromium (Debian's `chromium`).

    python scripts/screenshots.py [--db data/demo.db] [--out docs/screenshots/]

Starts `scrapy browse` on a free loopback port, then saves:
  start.png         the start page: search, the questions, the tables
  statements.png    the statements list (search box, facets, excerpts, newest first)
  statement.png     one statement: its text, then where it appeared and how each copy differs
  crawl-health.png  the crawl-health question (last run of each spider)
The statement shown is the one with the most copies. Prints the PNG paths on stdout, one a line.
Owns nothing but these pictures; what they show comes from `store/metadata.yml` and the templates,
plugin and stylesheet next to it.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
WIDTH = 1440
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--no-proxy-server",
]


# (file, path on the server, height): heights that show each page down to what it is for (the
# questions, a screenful of statements, a statement's copies under its text).
PAGES = [
    ("start.png", "/", 1250),
    ("statements.png", "/{name}/articles", 1400),
    ("statement.png", "/{name}/articles/{article_id}", 1700),
    ("crawl-health.png", "/{name}/crawl_health", 560),
]


class ScreenshotError(Exception):
    """Something the user must fix; the message is one line."""


def find_chromium(explicit: str | None = None) -> str | None:
    """Path of a Chromium binary: the given one, else `chromium` / `chromium-browser` on PATH."""
    if explicit:
        return explicit if Path(explicit).exists() else shutil.which(explicit)
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def most_copied_article(db_path: Path) -> int:
    """The statement with the most copies, preferring one that a copy changed (the most telling)."""
    try:
        conn = sqlite3.connect(f"file:{db_path.resolve()}?mode=ro", uri=True)
        try:
            row = conn.execute(
                "select c.article_id from copies c join articles a on a.id = c.article_id"
                " group by c.article_id"
                " order by max(c.text_sha256 is not a.content_hash) desc, count(*) desc, c.article_id"
                " limit 1"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise ScreenshotError(
            f"{db_path}: not a Dispatches database ({exc}); run `scrapy demo` and use data/demo.db"
        ) from None
    if row is None:
        raise ScreenshotError(f"{db_path}: no copies to show (is the database empty?)")
    return row[0]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ScreenshotError(f"scrapy browse exited with {proc.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise ScreenshotError(f"Datasette did not answer at {url} within {timeout:.0f}s")


def shoot(chromium: str, url: str, png: Path, profile: Path, height: int, timeout: float = 90.0) -> None:
    """One screenshot of `url` into `png`, `WIDTH` x `height` pixels."""
    argv = [
        chromium,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={WIDTH},{height}",
        f"--screenshot={png}",
        url,
    ]
    try:
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ScreenshotError(f"chromium took more than {timeout:.0f}s on {url}") from None
    if done.returncode != 0 or not png.exists() or png.stat().st_size == 0:
        last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"])[-1]
        raise ScreenshotError(f"chromium failed on {url}: {last}")


def take_screenshots(db_path: Path, out_dir: Path, chromium: str) -> list[Path]:
    """Serve `db_path` with `scrapy browse` and save the PNGs into `out_dir`; return their paths."""
    if not db_path.is_file():
        raise ScreenshotError(f"{db_path}: no such database (run `scrapy demo` first)")
    article_id = most_copied_article(db_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = db_path.stem
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    pages = [
        (filename, path.format(name=name, article_id=article_id), height) for filename, path, height in PAGES
    ]
    log = tempfile.TemporaryFile()
    browse = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scrapy",
            "browse",
            "--db",
            str(db_path.resolve()),
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
        ],
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    saved = []
    try:
        try:
            wait_until_up(f"{base}/-/versions.json", browse)
        except ScreenshotError as exc:
            log.seek(0)
            last = (log.read().decode("utf-8", "replace").strip().splitlines() or [""])[-1]
            raise ScreenshotError(f"{exc}: {last}" if last else str(exc)) from None
        with tempfile.TemporaryDirectory(prefix="dispatches-chromium-") as profile:
            for filename, path, height in pages:
                png = out_dir / filename
                png.unlink(missing_ok=True)
                shoot(chromium, base + path, png, Path(profile), height)
                saved.append(png)
    finally:
        browse.terminate()
        try:
            browse.wait(timeout=15)
        except subprocess.TimeoutExpired:
            browse.kill()
            browse.wait()
        log.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db",
        default="data/demo.db",
        help="database to show (default: data/demo.db, the one `scrapy demo` writes)",
    )
    parser.add_argument(
        "--out", default="docs/screenshots", help="folder for the PNGs (default: docs/screenshots/)"
    )
    parser.add_argument("--chromium", help="Chromium binary (default: chromium on PATH)")
    args = parser.parse_args(argv)
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print("screenshots: chromium not found (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    try:
        for png in take_screenshots(Path(args.db), Path(args.out), chromium):
            print(png)
    except ScreenshotError as exc:
        print(f"screenshots: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
