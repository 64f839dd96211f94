"""Runs of a spider or an ingest (table `crawls`) and the skips and failures within them (`events`).

Owns: starting and finishing a run row, marking rows left `running` by a process that died,
and recording events with their URLs redacted. Leaves the run lock between processes, which
tells whether a `running` row still has a live owner, to the caller.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cleaners.model import utc_timestamp

from .connection import Connection
from .urls import is_secret_param, redact_url

CRAWL_STATUSES = ("running", "ok", "degraded", "failed", "interrupted")
INTERRUPTED_REASON = "process_died"


def redact_arg(key: str, value: Any) -> Any:
    """A run argument as it may be stored: secrets masked, URLs redacted."""
    if is_secret_param(str(key)):
        return "***"
    if isinstance(value, str) and "://" in value:
        return ",".join(redact_url(v) or v.split("?")[0] for v in value.split(","))
    return value


def _as_int(stats: Mapping[str, Any], key: str) -> int | None:
    v = stats.get(key)
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


class Runs:
    """The `crawls` and `events` tables."""

    def __init__(self, cx: Connection) -> None:
        self.cx = cx

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        return int(self.cx.db.table(table).insert(row, pk="id", alter=False).last_rowid or 0)

    def start(self, spider: str, args: Mapping[str, Any] | None = None) -> int:
        """Record the start of a run; returns its id."""
        safe = {str(k): redact_arg(k, v) for k, v in dict(args or {}).items()}
        row = {
            "spider": spider,
            "args": json.dumps(safe, default=str),
            "started_at": utc_timestamp(),
            "status": "running",
        }
        return self.cx.write(self._insert, "crawls", row)

    def finish(self, crawl_id: int, status: str, stats: Mapping[str, Any] | None = None) -> None:
        """Record the end of a run: its status and its counters."""
        if status not in CRAWL_STATUSES:
            raise ValueError(f"crawl status must be one of {', '.join(CRAWL_STATUSES)}, not {status!r}")
        counters = dict(stats or {})
        fields = {
            "finished_at": utc_timestamp(),
            "status": status,
            "stats": json.dumps(counters, default=str, sort_keys=True),
            "pages": _as_int(counters, "pages_fetched"),
            "new_articles": _as_int(counters, "articles_new"),
            "new_copies": _as_int(counters, "copies_new"),
            "errors": _as_int(counters, "errors"),
            "soft_blocks": _as_int(counters, "soft_blocks"),
        }
        self.cx.write(self.cx.db.table("crawls").update, crawl_id, fields)

    def interrupt_dead(self) -> int:
        """Mark every run still `running` as `interrupted`, finished now, with the reason in
        its stats. Only correct while the caller holds the run lock: then no live process
        owns such a row (its owner was killed or crashed). Returns how many rows changed."""

        def tx() -> int:
            now = utc_timestamp()
            crawls = self.cx.db.table("crawls")
            rows = self.cx.all("SELECT id, stats FROM crawls WHERE status = 'running'")
            for row in rows:
                try:
                    stats = json.loads(row["stats"] or "{}")
                except ValueError:
                    stats = {}
                if not isinstance(stats, dict):
                    stats = {}
                stats.update(finish_reason=INTERRUPTED_REASON, interrupted_noticed_at=now)
                crawls.update(
                    row["id"],
                    {
                        "status": "interrupted",
                        "finished_at": now,
                        "stats": json.dumps(stats, default=str, sort_keys=True),
                    },
                )
            return len(rows)

        return self.cx.write(tx)

    def record_event(
        self, crawl_id: int | None, url_or_path: str | None, stage: str, reason: str, detail: str = ""
    ) -> int:
        """Record a skip or failure; URLs are stored redacted."""
        where = url_or_path
        if where and "://" in where:
            where = redact_url(where) or where.split("?")[0]
        row = {
            "crawl_id": crawl_id,
            "url": where,
            "stage": stage,
            "reason": reason,
            "detail": (detail or "")[:4000],
            "at": utc_timestamp(),
        }
        return self.cx.write(self._insert, "events", row)
