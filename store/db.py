"""`Store`: one SQLite file holding articles, their copies, versions, raw pages and runs.

The one public class of the store. It composes the parts, each owning one job:
`store.connection` (opening safely, migrations, one `BEGIN IMMEDIATE` transaction per write,
retried while another process holds the lock), `store.runs` (runs and events),
`store.urlstate` (what is known about a URL), `store.pages` (raw bodies), `store.index`
(the near-duplicate index), `store.identity` (which article a copy belongs to),
`store.articles` (what represents an article) and `store.copies` (saving a page).
Leaves cleaning to `cleaners`, fetching to `crawlers`, the run lock between processes to
`crawlers.runlock`, Datasette metadata to `store/metadata.yml`.

Translations (`Document.translation_of`) are articles of their own, linked to the English
article through `articles.translation_of_article_id`: a translation shares no text with
the original, and a researcher counts it as its own publication.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from cleaners.model import Document, RawPage
from cleaners.sitechrome import fingerprint
from cleaners.urls import DEFAULT_OFFICIAL_DOMAINS

from .articles import Articles
from .chrome import OFFICIAL_RANK, SiteChrome
from .connection import Connection, StoreError
from .copies import Copies, SaveResult
from .history import History
from .identity import Identity
from .index import NearIndex
from .pages import Pages
from .prepare import Prepared, prepare
from .runs import CRAWL_STATUSES, Runs
from .urls import set_secret_params
from .urlstate import UrlState

__all__ = ["CRAWL_STATUSES", "SaveResult", "Store", "StoreError", "save"]

T = TypeVar("T")


def _official_domains(value: str | Collection[str] | None) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_OFFICIAL_DOMAINS
    if isinstance(value, str):
        value = value.split(",")
    return tuple(v.strip() for v in value if v and v.strip())


class Store:
    """The Dispatches database.

    Args:
        path: a file path or ":memory:". Parent directories are created.
        official_domains: host patterns whose copy is the original (default state.gov,
            *.state.gov, *.usembassy.gov); a list or a comma-separated string.
        keep_raw: store raw bodies (compressed, once per sha256) for reprocess/WARC export.
        secret_params: query parameter names never stored besides the built-in list
            (`DISPATCHES_SECRET_PARAMS`); applies to every URL this process redacts.
        busy_timeout: seconds SQLite waits for another writer's lock (>= 30 in production).
        retry_attempts, retry_seconds: bounds of the retries once that wait has expired
            ("database is locked").
        check: run `PRAGMA quick_check` before opening an existing file.

    Raises:
        StoreError: the file cannot be used (not SQLite, corrupt, newer than this code);
            the file is left as it was.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        official_domains: str | Collection[str] | None = None,
        keep_raw: bool = True,
        *,
        secret_params: Collection[str] | None = None,
        busy_timeout: float = 30.0,
        retry_attempts: int = 5,
        retry_seconds: float = 300.0,
        check: bool = True,
    ) -> None:
        self.official_domains = _official_domains(official_domains)
        if secret_params:
            set_secret_params(secret_params)
        self.cx = Connection(
            path,
            busy_timeout=busy_timeout,
            retry_attempts=retry_attempts,
            retry_seconds=retry_seconds,
            check=check,
        )
        self.path = self.cx.path
        self.db = self.cx.db  # the sqlite-utils Database, for reading
        self.runs = Runs(self.cx)
        self.urls = UrlState(self.cx)
        self.pages = Pages(self.cx, bool(keep_raw))
        index = NearIndex(self.cx)
        articles = Articles(self.cx, index)
        self._articles = articles
        self.history = History(self.cx)  # gone pages, claimed originals, archived captures
        self.chrome = SiteChrome(self.cx)
        # the guard's answers (folded line -> in an official text); cleared when an official copy
        # is saved
        self._official_lines: dict[str, bool] = {}
        self._copies = Copies(
            self.cx, index, articles, Identity(self.cx, index, articles), self.pages, self.urls
        )

    @property
    def keep_raw(self) -> bool:
        return self.pages.keep_raw

    # ---------------------------------------------------------------- saving

    def _prepare(self, doc: Document, raw: RawPage, crawl_id: int | None) -> Prepared:
        return prepare(doc, raw, crawl_id, self.official_domains)

    def save(
        self, doc: Document, raw: RawPage, crawl_id: int | None = None, *, reidentify: bool = False
    ) -> SaveResult:
        """Decide what a cleaned page is and store it, in one transaction.

        Args:
            reidentify: the page is a stored one cleaned again: after saving, ask the
                identity cascade again (without the URL rule) and move the copy to the
                article it now picks (merge), or to a new one when nothing matches (split).
        """
        p = self._prepare(doc, raw, crawl_id)
        step = self._copies.reidentify if reidentify else self._copies.save
        if p.rank <= OFFICIAL_RANK:
            self._official_lines.clear()
        return self.cx.write(step, doc, raw, p)

    def save_many(
        self, pages: Sequence[tuple[Document, RawPage, int | None]]
    ) -> list[SaveResult | Exception]:
        """`save` for several pages in one transaction, each page in a savepoint of its own.

        A page that fails costs only itself; one commit for all. Returns, per page and in
        order, its SaveResult or the exception that stopped it. Nothing is committed if the
        transaction as a whole fails (then it raises, like `save`).
        """
        prepared: list[tuple[Document, RawPage, Prepared] | Exception] = []
        for doc, raw, crawl_id in pages:
            try:
                prepared.append((doc, raw, p := self._prepare(doc, raw, crawl_id)))
                if p.rank <= OFFICIAL_RANK:
                    self._official_lines.clear()
            except Exception as exc:
                prepared.append(exc)
        return self.cx.write(self._copies.save_many, prepared)

    def copy_snapshot(self, raw: RawPage) -> dict[str, Any] | None:
        """The copy a stored raw page belongs to and its article now (ids, match method,
        title, text, published, publisher, canonical_url, language); None if unknown."""
        with self.cx.lock:
            return self._copies.snapshot(raw)

    def article_exists(self, article_id: int | None) -> bool:
        """Whether the article is still there (a merge may have folded it into another)."""
        if article_id is None:
            return False
        with self.cx.lock:
            return self._articles.exists(article_id)

    def raw_pages(
        self, site: str | None = None, since: str | None = None, *, include_superseded: bool = False
    ) -> Iterator[RawPage]:
        """Stored raw pages, for reprocess and WARC export (see `store.pages.Pages.raw_pages`)."""
        return self.pages.raw_pages(site, since, include_superseded=include_superseded)

    # ---------------------------------------------------------------- URL state

    def copy_state(self, url: str) -> dict[str, Any] | None:
        """What is known about a URL (see `store.urlstate.UrlState.copy_state`)."""
        return self.urls.copy_state(url)

    def known_urls(self, host: str | None = None) -> dict[str, dict[str, Any]]:
        """Normalised URL -> state for every known URL, or one host's."""
        return self.urls.known_urls(host)

    def set_url_state(self, url: str, **fields: Any) -> None:
        """Remember discovery hints for a URL (lastmod, modified_gmt, etag, last_modified, gone)."""
        self.urls.set(url, **fields)

    def touch(self, url: str, fetched_at: str, crawl_id: int | None = None, status: int = 304) -> bool:
        """A conditional GET answered 304: refresh `fetched_at` only. False if the URL is unknown."""
        return self.urls.touch(url, fetched_at, crawl_id, status)

    def mark_gone(
        self, url: str, status: int, crawl_id: int | None = None, at: str | None = None, reason: str = ""
    ) -> int | None:
        """A stored URL answered 404/410 or a soft 404: mark its copy gone (see `store.history`)."""
        return self.history.mark_gone(url, status, crawl_id=crawl_id, at=at, reason=reason or None)

    # ---------------------------------------------------------------- runs

    def start_crawl(self, spider: str, args: Mapping[str, Any] | None = None) -> int:
        """Record the start of a spider run or ingest; returns its id."""
        return self.runs.start(spider, args)

    def finish_crawl(self, crawl_id: int, status: str, stats: Mapping[str, Any] | None = None) -> None:
        """Record the end of a run: status (one of CRAWL_STATUSES) and stats."""
        self.runs.finish(crawl_id, status, stats)

    def interrupt_dead_runs(self) -> int:
        """Mark runs left `running` as `interrupted`; call only while holding the run lock.

        Returns how many rows changed.
        """
        return self.runs.interrupt_dead()

    def record_event(
        self, crawl_id: int | None, url_or_path: str | None, stage: str, reason: str, detail: str = ""
    ) -> int:
        """Record a skip or failure (table `events`); URLs are stored redacted."""
        return self.runs.record_event(crawl_id, url_or_path, stage, reason, detail)

    # ---------------------------------------------------------------- site chrome

    def learn_chrome(
        self,
        pages: Sequence[tuple[str, Mapping[int, str]]],
        text_keys: Sequence[Collection[int]] | None = None,
    ) -> list[frozenset[int]]:
        """Count the line keys of pages (URL, keys) for their sites in one transaction, a page
        cleaned again replacing its earlier count; returns each page's site chrome after all
        of them are counted (empty for a URL that names no site). `text_keys`, one per page
        (`cleaners.sitechrome.strip_keys`), narrow which chrome changes clean the page again
        at the end of a run. See `store.chrome`."""
        own: Sequence[Collection[int] | None] = text_keys if text_keys is not None else [None] * len(pages)

        def count() -> list[str | None]:
            return [
                self.chrome.count_page(url, keys, mine) for (url, keys), mine in zip(pages, own, strict=True)
            ]

        sites = self.cx.write(count)
        with self.cx.lock:
            now = {site: self.chrome.chrome(site) for site in set(sites) if site}
        return [now.get(site, frozenset()) if site else frozenset() for site in sites]

    def chrome_stale_sites(self) -> list[str]:
        """Sites whose chrome (less the lines stored official statements hold) changed since
        all their stored pages were last cleaned with it."""
        with self.cx.lock:
            return self.chrome.stale_sites(self.in_official_text)

    def chrome_plan(self, site: str) -> tuple[frozenset[int], set[str]]:
        """The chrome `site`'s pages are cleaned with now (less the lines official statements
        hold), and the pages (normalised URLs) that cleaning again with it cannot change."""
        with self.cx.lock:
            now = self.chrome.effective(site, self.in_official_text)
            return now, self.chrome.unaffected_pages(site, now)

    def chrome_applied(self, site: str, chrome: frozenset[int] | None = None) -> None:
        """Record that every stored page of `site` is now cleaned with `chrome` (the set
        `chrome_plan` gave; None: the site's current chrome)."""
        if chrome is None:
            with self.cx.lock:
                chrome = self.chrome.effective(site, self.in_official_text)
        self.cx.write(self.chrome.mark_applied, site, chrome)

    def in_official_text(self, line: str) -> bool:
        """Whether a line stands in a stored official statement (`store.chrome.SiteChrome`)."""
        key = fingerprint(line)  # the guard compares folded lines: one answer per folded form
        found = self._official_lines.get(key)
        if found is None:
            if len(self._official_lines) >= 100_000:  # bounded: a long run's counters all differ
                self._official_lines.clear()
            with self.cx.lock:
                found = self._official_lines[key] = self.chrome.in_official_text(line)
        return found

    # ---------------------------------------------------------------- maintenance

    def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(*args, **kwargs)` in one write transaction, retried while the file is locked."""
        return self.cx.write(fn, *args, **kwargs)

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close. Safe to call twice."""
        self.cx.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def save(doc: Document, raw: RawPage, db: Store, crawl_id: int | None = None) -> SaveResult:
    """`db.save(doc, raw, crawl_id)`, for code that reads as `store.save(doc, raw, db)`."""
    return db.save(doc, raw, crawl_id)
