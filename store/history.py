"""What happened to statements over time: pages that disappeared, moved, or were recovered
from a web archive, and the fetch state of the originals that copies claim.

Owns:

* `mark_gone`: a stored URL that now answers 404/410 (or a "page not found" page served
  with 200) gets `copies.gone = 1` and `copies.gone_at`, and a `gone_events` row for the
  run; its text, versions and article stay. The article is represented by another copy
  when one is left (`store.articles` ranks gone copies last).
* `pending_claims` / `claim_tried`: the claimed originals (`pending_attributions`) that the
  `originals` spider should fetch, each asked for once; one that failed is asked again only
  after a back-off that doubles per try (`CLAIM_RETRY_HOURS`, capped at `CLAIM_RETRY_MAX_DAYS`).
* `archived_key`: the key of a copy read from a web archive (role `archived`): the capture's
  own URL, so a capture never replaces the live copy of the same URL.

Leaves fetching to the crawlers and identity (an archived capture claims its original URL,
so it joins the article of that URL) to `store.identity`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from cleaners.model import utc_timestamp
from cleaners.urls import is_official_host

from .connection import Connection
from .prepare import stamp
from .urls import host_of, normalise_url, redact_url

CLAIM_RETRY_HOURS = 24  # a failed claim waits a day, then two, four... before it is asked again
CLAIM_RETRY_MAX_DAYS = 30
GONE_STATUSES = (404, 410)


def archived_key(archived_url: str | None) -> str | None:
    """The copy key of a capture read from a web archive (its capture URL, normalised)."""
    return normalise_url(archived_url) if archived_url else None


def memento_time(timestamp: str) -> str:
    """A CDX/Wayback timestamp (`YYYYMMDDhhmmss`, shorter ones padded) as the store writes times."""
    digits = "".join(ch for ch in str(timestamp) if ch.isdigit())
    if len(digits) < 4:
        raise ValueError(f"not a capture timestamp: {timestamp!r}")
    digits = (digits + "0101000000")[:14] if len(digits) < 8 else digits.ljust(14, "0")[:14]
    when = datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    return utc_timestamp(when)


def _backoff(tries: int, now: datetime) -> str:
    hours = min(CLAIM_RETRY_HOURS * 2 ** max(tries - 1, 0), CLAIM_RETRY_MAX_DAYS * 24)
    return utc_timestamp(now + timedelta(hours=hours))


class History:
    """The `gone_*`, `moved_to`, `archived_*` columns of `copies` and the `claim_fetches` table."""

    def __init__(self, cx: Connection) -> None:
        self.cx = cx

    # ---------------------------------------------------------------- gone

    def mark_gone(
        self,
        url: str,
        status: int,
        *,
        crawl_id: int | None = None,
        at: str | None = None,
        reason: str | None = None,
    ) -> int | None:
        """Mark the copy stored at `url` gone (in its own transaction); returns its id.

        None when the URL has no live copy (never stored, or already gone: the first time
        it disappeared is the one kept). Nothing is deleted.
        """
        key = normalise_url(url)
        if key is None:
            return None
        when = stamp(at)
        why = reason or f"http_{status}"

        def tx() -> int | None:
            row = self.cx.one("SELECT id, article_id, gone_at FROM copies WHERE url_key = ?", (key,))
            if row is None or row["gone_at"] is not None:
                return None
            self.cx.update("copies", row["id"], {"gone": 1, "gone_at": when})
            self.cx.insert(
                "gone_events",
                {
                    "copy_id": row["id"],
                    "crawl_id": crawl_id,
                    "url": redact_url(url),
                    "http_status": status,
                    "reason": why,
                    "at": when,
                },
            )
            self.cx.db.table("url_state").upsert(
                {"url_key": key, "url": redact_url(url), "gone": 1, "updated_at": utc_timestamp()},
                pk="url_key",
                alter=False,
            )
            self._represent_again(row["article_id"])
            return int(row["id"])

        return self.cx.write(tx)

    def _represent_again(self, aid: int) -> None:
        # The gone copy may have represented its article: let the best live copy take over.
        from .articles import Articles
        from .index import NearIndex

        Articles(self.cx, NearIndex(self.cx)).refresh(aid)

    def gone_copies(self, crawl_id: int | None = None) -> list[dict[str, Any]]:
        """Copies marked gone (by one run, or all), newest first."""
        where, params = ("WHERE g.crawl_id = ?", (crawl_id,)) if crawl_id is not None else ("", ())
        return self.cx.all(
            "SELECT g.copy_id, g.crawl_id, g.url, g.http_status, g.reason, g.at, c.article_id "
            f"FROM gone_events g JOIN copies c ON c.id = g.copy_id {where} ORDER BY g.id DESC",
            params,
        )

    # ---------------------------------------------------------------- claims

    def pending_claims(
        self, official: Iterable[str] | None = None, limit: int | None = None, now: str | None = None
    ) -> list[dict[str, Any]]:
        """Claimed originals to fetch now: not stored, not recovered, not waiting out a back-off.

        Args:
            official: host patterns; only claims on those hosts (None: every host).
            limit: at most this many, oldest claim first.
            now: the time to compare back-offs with (default: now).
        Returns:
            dicts with `url`, `key`, `article_id`, `tries`, `status`.
        """
        when = stamp(now)
        rows = self.cx.all(
            "SELECT p.claimed_key AS key, p.claimed_url AS url, p.article_id, "
            "coalesce(f.tries, 0) AS tries, f.status FROM pending_attributions p "
            "LEFT JOIN claim_fetches f ON f.claimed_key = p.claimed_key "
            "WHERE NOT EXISTS (SELECT 1 FROM copies c WHERE c.url_key = p.claimed_key) "
            "AND NOT EXISTS (SELECT 1 FROM redirects r WHERE r.from_key = p.claimed_key) "
            "AND NOT EXISTS (SELECT 1 FROM copies a WHERE a.role = 'archived' AND a.url = p.claimed_url) "
            "AND (f.next_try_at IS NULL OR f.next_try_at <= ?) "
            "ORDER BY p.created_at, p.claimed_key",
            (when,),
        )
        patterns = tuple(official) if official is not None else None
        out = []
        for r in rows:
            if not r["url"]:
                continue
            if patterns is not None and not is_official_host(host_of(r["url"]), patterns):
                continue
            out.append(r)
            if limit is not None and len(out) >= limit:
                break
        return out

    def claim_tried(
        self,
        url: str,
        status: str,
        *,
        http_status: int | None = None,
        detail: str = "",
        at: str | None = None,
    ) -> dict[str, Any] | None:
        """Record one attempt at a claimed original; returns the claim's fetch row.

        `status` is `fetched`, `archived`, `failed`, `gone` or `not_archived`. A claim whose
        original (or a capture of it) is stored is never asked for again; any other is asked
        again once its back-off has passed.
        """
        key = normalise_url(url)
        if key is None:
            return None
        moment = stamp(at)
        now = datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)

        def tx() -> dict[str, Any] | None:
            row = self.cx.one("SELECT tries FROM claim_fetches WHERE claimed_key = ?", (key,))
            tries = (row["tries"] if row else 0) + 1
            self.cx.db.table("claim_fetches").upsert(
                {
                    "claimed_key": key,
                    "claimed_url": redact_url(url),
                    "tries": tries,
                    "status": status,
                    "http_status": http_status,
                    "detail": detail[:500],
                    "last_tried_at": moment,
                    # Even a fetch that worked waits: if the page was not stored (the cleaners
                    # refused it), it is not asked for again on every run.
                    "next_try_at": _backoff(tries, now),
                },
                pk="claimed_key",
                alter=False,
            )
            return self.cx.one("SELECT * FROM claim_fetches WHERE claimed_key = ?", (key,))

        return self.cx.write(tx)

    # ---------------------------------------------------------------- archive

    def gone_to_recover(self, now: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Official copies that are gone (not moved) and have no capture from a web archive
        yet, and were not looked up in the archive within their back-off."""
        rows = self.cx.all(
            "SELECT c.url_key AS key, c.url, c.article_id, coalesce(f.tries, 0) AS tries FROM copies c "
            "LEFT JOIN claim_fetches f ON f.claimed_key = c.url_key "
            "WHERE c.gone_at IS NOT NULL AND c.moved_to IS NULL AND c.rank <= 2 AND c.role != 'archived' "
            "AND NOT EXISTS (SELECT 1 FROM copies a WHERE a.role = 'archived' AND a.url = c.url) "
            "AND (f.next_try_at IS NULL OR f.next_try_at <= ?) ORDER BY c.gone_at, c.id",
            (stamp(now),),
        )
        return rows[:limit] if limit is not None else rows

    def archived_copies(self) -> list[dict[str, Any]]:
        """Copies recovered from a web archive, with their capture URL and memento time."""
        return self.cx.all(
            "SELECT id, article_id, url, site, archived_url, memento_at, title FROM copies "
            "WHERE role = 'archived' ORDER BY id"
        )
