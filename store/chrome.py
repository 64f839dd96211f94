"""Per-site line counts for site chrome (tables `chrome_lines`, `chrome_pages`, `chrome_sites`).

The cleaners decide what chrome is (`cleaners.sitechrome`: a line key standing on enough of a
site's pages); this part keeps the counts that decision needs across runs, one page counted
once however often it is cleaned again:

- `chrome_pages`: the line keys each page (normalised URL) contributed last time, and apart
  the keys of its own text, the only ones whose change can change the page;
- `chrome_lines`: per site and line key, on how many pages it stands, and the line itself once
  it stands on a few (what the official-text guard is asked about);
- `chrome_sites`: per site, how many pages are counted and the chrome set (less the lines the
  guard keeps) last applied to every stored page of the site (`applied`, JSON), so a run can
  tell which sites' stored pages must be cleaned again, also when an official statement stored
  since now protects one of the lines; a run killed half-way leaves the site still to do.

It also answers whether a line stands in a stored official statement (through the articles'
full-text index), the guard that keeps formulaic statement lines out of chrome.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from urllib.parse import urlsplit

from cleaners.model import utc_timestamp
from cleaners.sitechrome import (
    CHROME_MIN_PAGES,
    edge_key,
    fingerprint,
    is_chrome,
    statement_shaped,
    text_lines,
)

from .connection import Connection
from .urls import normalise_url

_TOKEN = re.compile(r"\w+", re.UNICODE)
_DIGIT_RUN = re.compile(r"\b\w*\d\w*\b")  # a word with a digit: folded, so it splits phrases
OFFICIAL_RANK = 2  # articles.rep_rank up to this: the article's text is an official copy's
_CANDIDATES = 200  # official articles read to confirm one line (the full-text match narrows first)


def site_of(url: str | None) -> str | None:
    """The site a page counts for: its normalised URL's host without `www.` (None for files)."""
    key = normalise_url(url) if url else None
    host = urlsplit(key).hostname if key else None
    return host.removeprefix("www.") if host else None


class SiteChrome:
    """The chrome counts of every non-official site in one database."""

    def __init__(self, cx: Connection) -> None:
        self.cx = cx

    # ------------------------------------------------------------------ counting (write)

    def count_page(
        self, url: str, keys: Mapping[int, str], text_keys: Collection[int] | None = None
    ) -> str | None:
        """Count one page's distinct line keys (each with its line) for its site, replacing
        what the same page counted before (a page cleaned again is not counted twice). A key
        keeps its line once it stands on `CHROME_MIN_PAGES` pages, so the guard can be asked
        about it later. `text_keys` (`cleaners.sitechrome.strip_keys`) are the keys a chrome
        change must meet to change this page; None: all of `keys`. Call inside a write
        transaction. Returns the site, or None when the URL names none."""
        site = site_of(url)
        page = normalise_url(url)
        if site is None or page is None:
            return None
        new = sorted(keys)
        own = None if text_keys is None else json.dumps(sorted(text_keys))
        old_row = self.cx.one("SELECT site, lines, text_keys FROM chrome_pages WHERE page_key = ?", (page,))
        old = json.loads(old_row["lines"]) if old_row else []
        if old_row and old_row["site"] == site and old == new:
            if old_row["text_keys"] != own:
                self.cx.conn.execute("UPDATE chrome_pages SET text_keys = ? WHERE page_key = ?", (own, page))
            return site
        if old_row and old_row["site"] != site:  # the URL now counts for another site
            self._uncount(old_row["site"], old)
            old, old_row = [], None
        delta: Counter[int] = Counter(new)
        delta.subtract(old)
        conn = self.cx.conn
        if old_row is None:
            conn.execute(
                "INSERT INTO chrome_sites (site, pages, updated_at) VALUES (?, 1, ?) "
                "ON CONFLICT(site) DO UPDATE SET pages = pages + 1, updated_at = excluded.updated_at",
                (site, utc_timestamp()),
            )
        conn.executemany(
            "INSERT INTO chrome_lines (site, key, pages, line) VALUES (?1, ?2, ?3, NULL) "
            "ON CONFLICT(site, key) DO UPDATE SET pages = pages + excluded.pages, "
            "line = coalesce(line, CASE WHEN pages + excluded.pages >= ?5 THEN ?4 END)",
            [(site, k, d, keys[k], CHROME_MIN_PAGES) for k, d in delta.items() if d > 0],
        )
        self._uncount(site, [k for k, d in delta.items() if d < 0], pages=0)
        conn.execute(
            "INSERT OR REPLACE INTO chrome_pages (page_key, site, lines, text_keys) VALUES (?, ?, ?, ?)",
            (page, site, json.dumps(new), own),
        )
        return site

    def _uncount(self, site: str, keys: Collection[int], pages: int = 1) -> None:
        """Take one page's `keys` off `site`'s counts (and the page itself when `pages`)."""
        conn = self.cx.conn
        conn.executemany(
            "UPDATE chrome_lines SET pages = pages - 1 WHERE site = ? AND key = ?", [(site, k) for k in keys]
        )
        conn.execute("DELETE FROM chrome_lines WHERE site = ? AND pages <= 0", (site,))
        if pages:
            conn.execute("UPDATE chrome_sites SET pages = pages - ? WHERE site = ?", (pages, site))

    def unaffected_pages(self, site: str, chrome: Collection[int]) -> set[str]:
        """The pages (normalised URLs) of `site` that cleaning again with `chrome` cannot change:
        none of the keys of their text (`text_keys`; all the keys they counted when that is not
        recorded) is a key, or the edge form of a key, whose membership differs between `chrome`
        and the set last applied to the site. A key that changed among the lines the rules cut
        from a page leaves that page as it is."""
        row = self.cx.one("SELECT applied FROM chrome_sites WHERE site = ?", (site,))
        applied = frozenset(json.loads(row["applied"] or "[]")) if row else frozenset()
        changed = {k for c in applied.symmetric_difference(chrome) for k in (c, edge_key(c))}
        rows = self.cx.conn.execute(
            "SELECT page_key, coalesce(text_keys, lines) FROM chrome_pages WHERE site = ?", (site,)
        )
        return {page for page, keys in rows if changed.isdisjoint(json.loads(keys))}

    def mark_applied(self, site: str, chrome: Collection[int]) -> None:
        """Record that every stored page of `site` has been cleaned with `chrome`."""
        self.cx.conn.execute(
            "UPDATE chrome_sites SET applied = ?, updated_at = ? WHERE site = ?",
            (json.dumps(sorted(chrome)), utc_timestamp(), site),
        )

    # ------------------------------------------------------------------ reading

    def _rows(self, site: str | None) -> list[tuple[int, str | None]]:
        """(key, line) of the chrome of `site` now (`cleaners.sitechrome.is_chrome`), and
        (edge key, line) of the lines on fewer of its pages but on `CHROME_MIN_PAGES` at least,
        chrome at the edges of a text only (`cleaners.sitechrome.edge_key`)."""
        if not site:
            return []
        row = self.cx.one("SELECT pages FROM chrome_sites WHERE site = ?", (site,))
        if row is None:
            return []
        rows = self.cx.conn.execute(
            "SELECT key, pages, line FROM chrome_lines WHERE site = ? AND pages >= ?",
            (site, CHROME_MIN_PAGES),
        ).fetchall()
        # a line shaped like a statement's is never cut at an edge: its edge key would only
        # make the site look changed
        return [
            (k, line) if is_chrome(n, row["pages"]) else (edge_key(k), line)
            for k, n, line in rows
            if is_chrome(n, row["pages"]) or not (line and statement_shaped(line))
        ]

    def chrome(self, site: str | None) -> frozenset[int]:
        """The line keys that are chrome of `site` now, with the edge keys."""
        return frozenset(k for k, _ in self._rows(site))

    def effective(self, site: str, protected: Callable[[str], bool]) -> frozenset[int]:
        """The chrome of `site` less the keys whose line `protected` says must stay."""
        return frozenset(k for k, line in self._rows(site) if not (line and protected(line)))

    def stale_sites(self, protected: Callable[[str], bool]) -> list[str]:
        """Sites whose chrome (less what `protected` keeps) differs from the set last applied
        to all their stored pages."""
        rows = self.cx.conn.execute("SELECT site, applied FROM chrome_sites ORDER BY site").fetchall()
        return [
            site
            for site, applied in rows
            if frozenset(json.loads(applied or "[]")) != self.effective(site, protected)
        ]

    def in_official_text(self, line: str) -> bool:
        """Whether `line` stands (folded as `cleaners.sitechrome.fingerprint` folds it) as a line
        of a stored official statement, or inside one when it has four words or more.

        The articles' full-text index finds the candidates: each run of the line's words
        between numbers as a phrase (numbers are folded, so they are left out); a line
        without such words is never protected."""
        runs = [run.split() for run in _DIGIT_RUN.split(" ".join(_TOKEN.findall(line.lower())))]
        phrases = [" ".join(run) for run in runs if run]
        if not phrases:
            return False
        match = " ".join(f'"{p}"' for p in phrases)
        want = fingerprint(line)
        inside = sum(map(len, runs)) >= 4
        rows = self.cx.conn.execute(
            "SELECT a.text FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
            "WHERE articles_fts MATCH ? AND a.rep_rank <= ? LIMIT ?",
            (match, OFFICIAL_RANK, _CANDIDATES),
        ).fetchall()
        for (text,) in rows:
            if any(fingerprint(ln) == want for ln in text_lines(text or "")):
                return True
            if inside and want in fingerprint(text or ""):
                return True
        return False
