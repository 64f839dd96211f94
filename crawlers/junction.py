"""The junction: the one way a page becomes a stored record.

`process(raw, store, clean)` takes a `RawPage` (fetched by a spider, read from disk by
`scrapy ingest`, or replayed from the database by `scrapy reprocess`), cleans it (or takes the
cleaners' answer computed elsewhere, e.g. in a `CleanerPool` worker), saves the Document with
`Store.save` and says what happened as an `Outcome`. Pages that are not saved leave a row in
`events` (why) and, for a conditional GET answered 304, a refreshed `fetched_at`.

Every run counts outcomes the same way: `Outcome.counts` names the stats keys one outcome adds
one to, and `run_stats` turns those counts into the `crawls.stats` contract. The Scrapy
pipeline, the ingest and the reprocess commands are adapters around these three names.

Before a page is saved, the lines its site repeats on many of its pages (its chrome, learned
in the store from the site's own pages) are removed (`strip_site_chrome`), and at the end of a
run the stored pages of sites whose chrome changed are cleaned again (`reclean_site_chrome`).

Owns no I/O of its own besides the store calls; cleaning is `cleaners`', identity and
provenance the store's, deciding what to fetch the spiders'.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from cleaners.model import Document, RawPage, Rejected
from cleaners.sitechrome import chrome_removed, page_keys, strip_chrome, strip_keys
from cleaners.urls import host_of, is_official_host
from crawlers.config import setting_list
from crawlers.discovery import matches_topic
from store.urls import normalise_url

if TYPE_CHECKING:
    from cleaners import CleanConfig
    from store import SaveResult, Store

logger = logging.getLogger(__name__)

__all__ = [
    "FAILED_CLEANING",
    "Cleaned",
    "DatabaseFailing",
    "Outcome",
    "OutcomeKind",
    "needs_cleaning",
    "open_store",
    "process",
    "process_many",
    "reclean_site_chrome",
    "run_stats",
    "strip_site_chrome",
]

#: new, copy, version, unchanged: saved (what `Store.save` decided);
#: not_modified: a 304 answer, the stored copy's `fetched_at` refreshed;
#: refused: the fetch gave no page to clean (soft block, HTTP error, download failed);
#: rejected: the cleaners (or the run's topic) said it is not an article;
#: failed: the save failed (the page is not stored; the run goes on).
OutcomeKind = Literal["new", "copy", "version", "unchanged", "not_modified", "refused", "rejected", "failed"]

# Rejections that mean the cleaner failed, not that the page is not an article.
FAILED_CLEANING = frozenset({"timeout", "worker_crashed", "extraction_error", "error", "crashed"})

#: what a caller hands over as the page's cleaning: the cleaners' answer, a function that
#: gives it, or None for a page that `needs_cleaning` says has nothing to clean
Cleaned = Document | Rejected | Callable[[RawPage], Document] | None


class DatabaseFailing(RuntimeError):
    """Writes to the database fail (disk full, I/O error): the run cannot go on."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one page; `str(outcome)` is "new" or "rejected/too_short" and the like."""

    kind: OutcomeKind
    reason: str = ""  # refused / rejected / failed: a short key (too_short, off_topic, gone, save_failed)
    detail: str = ""  # for people: the exception, the HTTP status
    result: SaveResult | None = None  # saved pages: the store's decision
    chrome: int = 0  # saved pages: lines removed as the site's chrome

    def __str__(self) -> str:
        return f"{self.kind}/{self.reason}" if self.reason else self.kind

    @property
    def saved(self) -> bool:
        return self.result is not None

    @property
    def counts(self) -> tuple[str, ...]:
        """The stats keys this outcome adds one to, a key once per unit it counts (the crawl
        prefixes them with "dispatches/").

        Pages the fetch refused are counted where the refusal happened (the soft-block
        middleware, the spider's errback), so they add nothing here.
        """
        kind = self.kind
        if kind == "refused":
            return ()
        if kind == "not_modified":
            return ("not_modified",)
        if kind == "rejected":
            return ("pages_fetched", f"rejected/{self.reason}")
        if kind == "failed":
            return ("pages_fetched", "errors", "store_errors")
        keys = ["pages_fetched", f"outcome/{kind}"]
        keys += {
            "new": ["copies_new", "articles_new"],
            "copy": ["copies_new", "copies_merged"],
            "version": ["versions_new"],
            "unchanged": ["unchanged"],
        }[kind]
        if self.chrome:  # pages that lost lines to their site's chrome, and how many lines
            keys += ["site_chrome/pages"] + ["site_chrome/lines"] * self.chrome
        return tuple(keys)


def clean_config(settings: Any) -> CleanConfig:
    """The cleaners' configuration from the run's settings (`DISPATCHES_OFFICIAL_DOMAINS`)."""
    from cleaners import CleanConfig

    domains = setting_list(settings, "DISPATCHES_OFFICIAL_DOMAINS")
    return CleanConfig(official_domains=tuple(domains)) if domains else CleanConfig()


def open_store(settings: Any, db_path: str, *, check: bool = True) -> Store:
    """The `Store` a run writes into: `db_path` with the settings' official domains and
    `DISPATCHES_KEEP_RAW`; `DISPATCHES_SECRET_PARAMS` joins the secret list for the process.
    `check=False` skips the integrity check of an existing file (already done by the command
    that started the run)."""
    from store import Store

    if db_path != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(db_path)), exist_ok=True)
    return Store(
        db_path,
        official_domains=setting_list(settings, "DISPATCHES_OFFICIAL_DOMAINS") or None,
        keep_raw=settings.getbool("DISPATCHES_KEEP_RAW"),
        secret_params=setting_list(settings, "DISPATCHES_SECRET_PARAMS"),
        check=check,
    )


def needs_cleaning(raw: RawPage) -> bool:
    """Whether the page has a body for the cleaners (a 200 answer that is no soft block)."""
    return raw.status == 200 and not raw.meta.get("soft_block")


def process(
    raw: RawPage,
    store: Store,
    clean: Cleaned,
    *,
    crawl_id: int | None,
    reidentify: bool = False,
    topic: Sequence[str] = (),
) -> Outcome:
    """Clean one page, save it, and say what happened.

    Args:
        raw: the page as fetched or read.
        store: the open database.
        clean: the cleaners' answer for `raw` (a Document or the Rejected they raised), or a
            function that gives it (`cleaners.clean`); None when `needs_cleaning(raw)` is False.
        crawl_id: the run's `crawls` row, recorded with the copy and with events.
        reidentify: a stored copy cleaned again (`scrapy reprocess`): the store asks the
            identity cascade again and moves the copy when the answer changed.
        topic: keywords of a topic-filtered run; a page about none of them is rejected.
    Returns:
        the Outcome; nothing raises for a bad page. `DatabaseFailing` when even the
        `events` row saying why a page was not stored cannot be written.
    """
    verdict = _judge(raw, clean, topic)
    if isinstance(verdict, Outcome):
        return _settle(store, raw, verdict, crawl_id)
    try:
        (verdict,) = strip_site_chrome(store, [(raw, verdict)])
        res = store.save(verdict, raw, crawl_id, reidentify=reidentify)
    except Exception as exc:  # a write that fails costs this page, never the run
        return _settle(store, raw, _save_failed(raw, exc), crawl_id)
    return Outcome(res.outcome, result=res, chrome=chrome_removed(verdict))  # type: ignore[arg-type]


def process_many(
    pages: Iterable[tuple[RawPage, Cleaned]],
    store: Store,
    *,
    crawl_id: int | None,
    topic: Sequence[str] = (),
) -> list[Outcome]:
    """`process` for pages that queued up, their saves in ONE transaction (`Store.save_many`).

    Each page's save has a savepoint of its own, so a page that fails costs only itself; the
    outcomes, in the pages' order, exist only once that transaction has committed.
    """
    pages = list(pages)
    verdicts = [_judge(raw, clean, topic) for raw, clean in pages]
    to_save = [
        (doc, raw, crawl_id)
        for (raw, _), doc in zip(pages, verdicts, strict=True)
        if isinstance(doc, Document)
    ]
    try:
        docs = strip_site_chrome(store, [(raw, doc) for doc, raw, _ in to_save])
        to_save = [(doc, raw, cid) for doc, (_, raw, cid) in zip(docs, to_save, strict=True)]
        results: list[SaveResult | Exception] = store.save_many(to_save) if to_save else []
    except Exception as exc:  # the transaction as a whole failed: none of them is stored
        results = [exc] * len(to_save)
    chrome = iter([chrome_removed(doc) for doc, _, _ in to_save])
    saved = iter(results)
    out = []
    for (raw, _), verdict in zip(pages, verdicts, strict=True):
        if isinstance(verdict, Outcome):
            out.append(_settle(store, raw, verdict, crawl_id))
            continue
        res = next(saved)
        removed = next(chrome)
        if isinstance(res, Exception):
            out.append(_settle(store, raw, _save_failed(raw, res), crawl_id))
        else:
            out.append(Outcome(res.outcome, result=res, chrome=removed))  # type: ignore[arg-type]
    return out


def _judge(raw: RawPage, clean: Cleaned, topic: Sequence[str]) -> Document | Outcome:
    """The Document to save, or the Outcome of a page that will not be saved (no database)."""
    soft = raw.meta.get("soft_block")
    if soft:
        return Outcome("refused", "soft_block", str(soft))
    if raw.status == 304:
        return Outcome("not_modified")
    if raw.status == 0:
        return Outcome("refused", "fetch_failed", str(raw.meta.get("fetch_error", "")))
    if raw.status != 200:
        reason = "gone" if raw.status in (404, 410) else f"http_{raw.status}"
        return Outcome("refused", reason, f"HTTP {raw.status}")
    try:
        doc = clean(raw) if callable(clean) else clean
        if isinstance(doc, Rejected):
            raise doc
    except Rejected as exc:
        return Outcome("rejected", exc.reason, exc.detail)
    except Exception as exc:  # a cleaner bug costs this page, never the run
        return Outcome("rejected", "error", f"{type(exc).__name__}: {exc}")
    if not isinstance(doc, Document):
        return Outcome("rejected", "error", f"the cleaners gave {type(doc).__name__}, not a Document")
    if topic and not matches_topic(topic, doc.title, doc.text, raw.where):
        return Outcome("rejected", "off_topic", ",".join(topic))
    return doc


def _save_failed(raw: RawPage, exc: BaseException) -> Outcome:
    detail = f"{type(exc).__name__}: {exc}"
    logger.error("Could not save %s: %s", raw.where, detail)
    return Outcome("failed", "save_failed", detail)


STAGES = {"refused": "fetch", "rejected": "clean", "failed": "store"}
# Outcome reasons that mean the page is gone (404/410, or a "page not found" page with a 200),
# and the reason `gone_events` records (empty: the HTTP status).
GONE_REASONS = {"gone": "", "not_found": "soft_404"}


def _settle(store: Store, raw: RawPage, outcome: Outcome, crawl_id: int | None) -> Outcome:
    """Record what the database keeps of a page that was not saved, then hand `outcome` on."""
    try:
        if outcome.kind == "not_modified":
            store.touch(raw.url or raw.where, raw.fetched_at, crawl_id=crawl_id, status=304)
        else:
            store.record_event(crawl_id, raw.where, STAGES[outcome.kind], outcome.reason, outcome.detail)
        if outcome.kind == "not_modified" or outcome.reason == "off_topic":
            _remember(store, raw)
        if outcome.reason in GONE_REASONS and (raw.final_url or raw.url):
            # The statement is no longer at this URL: its stored copy is marked, never deleted.
            store.mark_gone(
                raw.final_url or raw.url or "",
                raw.status,
                crawl_id=crawl_id,
                at=raw.fetched_at,
                reason=GONE_REASONS[outcome.reason] or f"http_{raw.status}",
            )
    except Exception as exc:  # the database itself is failing (disk full, I/O error)
        raise DatabaseFailing(f"cannot write to the database ({type(exc).__name__}: {exc}); stopped") from exc
    return outcome


def _remember(store: Store, raw: RawPage) -> None:
    """Keep discovery hints (sitemap lastmod, REST modified_gmt) for the next run's decision.

    A saved page keeps them in its own transaction; a page that was not (re)stored keeps
    them here, so the next run need not fetch it again to learn it has not changed.
    """
    hints = {k: raw.meta.get(k) for k in ("lastmod", "modified_gmt") if raw.meta.get(k)}
    if hints and raw.url:
        store.set_url_state(raw.url, **hints)


def run_stats(counts: Mapping[str, Any], **own: Any) -> dict:
    """The `crawls.stats` contract from a run's counts (the keys `Outcome.counts` names).

    Keys every run has, whatever it reads; then the run's `own` keys (a crawl's discovery
    and politeness records, ingest's files, reprocess's moves), which may replace a default.
    """

    def n(key: str) -> int:
        return int(counts.get(key, 0) or 0)

    return {
        "pages_fetched": n("pages_fetched"),
        "articles_new": n("articles_new"),
        "copies_new": n("copies_new"),
        "copies_merged": n("copies_merged"),
        "versions_new": n("versions_new"),
        "unchanged": n("unchanged"),
        "not_modified": n("not_modified"),
        "errors": n("errors"),
        "store_errors": n("store_errors"),
        "soft_blocks": n("soft_blocks"),
        "rejected": under(counts, "rejected/"),
        "outcomes": under(counts, "outcome/"),
        "soft_blocks_by_host": {},
        "discovery": {},
        "discovery_failed": [],
        "robots_blocked": [],
        "network_error": {},
        "circuit_open": [],
        "site_chrome": under(counts, "site_chrome/"),
        **own,
    }


# --- site chrome: lines a non-official site repeats on many of its pages ------------------------


def strip_site_chrome(store: Store, pages: Sequence[tuple[RawPage, Document]]) -> list[Document]:
    """The Documents without their site's chrome (`cleaners.sitechrome`), after counting their
    lines for their sites in the store. Pages of official hosts are neither counted nor
    changed; a line that stands in a stored official statement is never removed."""

    def where(raw: RawPage, doc: Document) -> str | None:
        url = str(raw.meta.get("archived_url") or "") or doc.url
        return None if is_official_host(host_of(url), store.official_domains) else url

    counted = [(i, url, doc) for i, (raw, doc) in enumerate(pages) if (url := where(raw, doc))]
    if not counted:
        return [doc for _, doc in pages]
    learnt = store.learn_chrome(
        [(url, page_keys(doc)) for _, url, doc in counted], [strip_keys(doc) for _, _, doc in counted]
    )
    chrome = dict(zip((i for i, _, _ in counted), learnt, strict=True))
    return [
        strip_chrome(doc, chrome[i], store.in_official_text) if i in chrome else doc
        for i, (_, doc) in enumerate(pages)
    ]


def reclean_site_chrome(
    store: Store, clean: Callable[[RawPage], Document], *, crawl_id: int | None
) -> Counter:
    """Clean again, through `process` as `scrapy reprocess` does, the stored pages of every site
    whose chrome changed since its pages were last cleaned with it; the end of a run's pass.

    A site is marked done only once all its pages went through, so a run killed half-way
    leaves it for the next run's pass, which ends where this one would have. Only pages holding
    a line whose chrome status changed are cleaned again (a big site that gains one rotating
    line does not cost a clean of every page each run). Returns the counts: `sites` cleaned
    again, `recleaned` pages, of them `unchanged` (the store found nothing new) and `failed`
    (not cleaned or not saved; the stored copy stays as it was), and `untouched` pages skipped.
    """
    counts: Counter = Counter()
    for _ in range(3):  # cleaning again may itself change a site's counts; settle, with a bound
        stale = store.chrome_stale_sites()
        if not stale:
            break
        for site in stale:
            counts["sites"] += 1
            chrome, unaffected = store.chrome_plan(site)
            for raw in store.raw_pages(site=site):
                if normalise_url(str(raw.meta.get("archived_url") or "") or raw.url) in unaffected:
                    counts["untouched"] += 1
                    continue
                outcome = process(raw, store, clean, crawl_id=crawl_id, reidentify=True)
                counts["recleaned"] += 1
                counts["failed"] += outcome.kind in ("failed", "rejected")
                counts["unchanged"] += outcome.kind == "unchanged"
            # the set the pages were cleaned with: a change made by cleaning them again leaves
            # the site stale for the next round
            store.chrome_applied(site, chrome)
    return counts


def under(counts: Mapping[str, Any], prefix: str) -> dict:
    """The entries of `counts` whose key starts with `prefix`, keyed by the rest of the key."""
    return {k[len(prefix) :]: v for k, v in counts.items() if k.startswith(prefix)}
