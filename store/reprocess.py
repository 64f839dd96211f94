"""Re-saving stored pages through the public `Store` API, for `crawlers/commands/reprocess.py`.

Thin wrappers kept only while that command imports them: each is one `Store` method.
"""

from __future__ import annotations

from typing import Any

from cleaners.model import Document, RawPage

from .db import SaveResult, Store

__all__ = ["article_exists", "resave", "snapshot"]


def resave(db: Store, doc: Document, raw: RawPage, crawl_id: int | None = None) -> SaveResult:
    """`db.save(doc, raw, crawl_id, reidentify=True)`."""
    return db.save(doc, raw, crawl_id, reidentify=True)


def snapshot(db: Store, raw: RawPage) -> dict[str, Any] | None:
    """`db.copy_snapshot(raw)`."""
    return db.copy_snapshot(raw)


def article_exists(db: Store, article_id: int | None) -> bool:
    """`db.article_exists(article_id)`."""
    return db.article_exists(article_id)
