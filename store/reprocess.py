"""Re-saving a stored copy after its raw page was cleaned again (`scrapy reprocess`).

`Store.save` keeps a known URL on its article: rule 1 of the identity cascade says the same
URL is the same copy, so a re-cleaned page never changes article through `save` alone. But
better cleaners can change what a copy *is*: an attribution line now recognised points to
another article (merge), or the text that once looked like another article's no longer does
(split). This module adds the one operation reprocess needs on top of `Store`:

* `resave(db, doc, raw)`: `Store.save` (fields, texts, versions as usual), then, in the same
  transaction, the cascade asked again without the URL rule; a copy that joined its article by
  attribution or by text (or that is alone in it) moves where the cascade now points, to a new
  article when nothing matches any more. An article left without copies is folded into the
  one that received its copy (`Store._merge`, so versions and claims follow and
  `merged_articles` records it).
* `snapshot(db, raw)`: what the copy and its article look like, to report what changed.

Copies joined by URL (a redirect) and founders of articles that others joined are never moved:
their identity does not come from the text.
"""

from __future__ import annotations

from cleaners.model import Document, RawPage

from . import neardup
from .db import SaveResult, Store, _now, normalise_url

__all__ = ["article_exists", "resave", "snapshot"]

MOVABLE = ("attribution", "exact", "near")
ARTICLE_FIELDS = ("title", "text", "published", "publisher", "canonical_url", "language")


def _copy_row(db: Store, raw: RawPage) -> dict | None:
    cid = (raw.meta or {}).get("copy_id")
    if cid is not None:
        row = db._one("SELECT * FROM copies WHERE id = ?", (cid,))
        if row:
            return row
    served = raw.final_url or raw.url
    key = normalise_url(served) if served else None
    if key is None and raw.source_path:
        key = f"file:{raw.source_path}"
    return db._one("SELECT * FROM copies WHERE url_key = ?", (key,)) if key else None


def snapshot(db: Store, raw: RawPage) -> dict | None:
    """The copy of `raw` and its article now: ids, match method and the article's fields."""
    with db._lock:
        row = _copy_row(db, raw)
        if row is None:
            return None
        art = (
            db._one(f"SELECT {', '.join(ARTICLE_FIELDS)} FROM articles WHERE id = ?", (row["article_id"],))
            or {}
        )
    out = {k: art.get(k) for k in ARTICLE_FIELDS}
    out.update(copy_id=row["id"], article_id=row["article_id"], match_method=row["match_method"])
    return out


def article_exists(db: Store, article_id: int | None) -> bool:
    """Whether the article is still there (a move may have folded it into another)."""
    with db._lock:
        return article_id is not None and db._article_exists(article_id)


def resave(db: Store, doc: Document, raw: RawPage, crawl_id: int | None = None) -> SaveResult:
    """Save a re-cleaned page and move its copy where the identity cascade now puts it.

    Returns:
        the SaveResult of the save, with `article_id`/`match_method` of the move when there was
        one; outcome "new" when the copy was split into a new article, "copy" when it was merged
        into an existing one.
    """
    prepared = db._prepare(doc, raw, crawl_id)
    return db._write(_resave_tx, db, doc, raw, prepared)


def _resave_tx(db: Store, doc: Document, raw: RawPage, p: dict) -> SaveResult:
    stored = _copy_row(db, raw)
    if stored is not None and stored["url_key"] != p["key"]:
        # A copy retired under another key (the URL now holds another statement): saving its
        # old page at the URL would retire the current copy in turn. It stays as it is.
        return SaveResult(
            "unchanged",
            stored["article_id"],
            stored["id"],
            stored["role"],
            stored["match_method"],
            stored["match_score"],
            (),
            (),
        )
    # Asked before saving: the save files the new text under the copy's current article,
    # and the exact-text rule would then find it there.
    before = db._one("SELECT article_id, gone FROM copies WHERE url_key = ?", (p["key"],))
    target, method, score = _ask_again(db, doc, p) if before else (None, "new", None)
    res = db._save_tx(doc, raw, p)
    if before is not None and before["gone"]:
        # Re-cleaning is not a fetch: a copy marked gone (moved, deleted upstream) stays gone.
        db.db.conn.execute("UPDATE copies SET gone = 1 WHERE url_key = ?", (p["key"],))
    row = db._one("SELECT * FROM copies WHERE url_key = ?", (p["key"],))
    if row is None or before is None:
        return res
    current = row["article_id"]
    siblings = db._one("SELECT count(*) AS n FROM copies WHERE article_id = ?", (current,))["n"]
    if row["match_method"] not in MOVABLE and siblings > 1:
        return res
    if target == current:
        return res
    if target is None:
        if row["match_method"] not in ("exact", "near") or siblings == 1:
            return res  # alone already, or not joined by its text: nothing to split from
        now = _now()
        target = db._insert(
            "articles",
            {
                "first_seen": row["first_fetched_at"] or row["fetched_at"],
                "updated_at": now,
                "copies_count": 0,
            },
        )
        method, score, outcome = "new", None, "new"
    else:
        outcome = "copy"
    _move(db, row, current, target, method, score)
    return SaveResult(outcome, target, row["id"], row["role"], method, score, (), ())


def _ask_again(db: Store, doc: Document, p: dict) -> tuple[int | None, str, float | None]:
    """Where attribution, then exact text, then near text put this copy (the URL rule left out)."""
    aid, method, score, _ = db._by_attribution(p)
    if aid is not None:
        return aid, method, score
    aid, method, score = db._by_exact(p, doc)
    if aid is not None:
        return aid, method, score
    aid, score, _, _ = db._by_near(p, doc)
    if aid is not None:
        return aid, "near", score
    return None, "new", None


def _move(db: Store, row: dict, old: int, new: int, method: str, score: float | None) -> None:
    now = _now()
    x = db.db.conn.execute
    x(
        "UPDATE copies SET article_id = ?, match_method = ?, match_score = ? WHERE id = ?",
        (new, method, score, row["id"]),
    )
    # The copy's text belongs where the copy is now, unless another copy still uses it there.
    x(
        "UPDATE texts SET article_id = ? WHERE sha256 = ? AND article_id = ? AND NOT EXISTS "
        "(SELECT 1 FROM copies WHERE article_id = ? AND text_sha256 = ?)",
        (new, row["text_sha256"], old, old, row["text_sha256"]),
    )
    left = db._one("SELECT count(*) AS n FROM copies WHERE article_id = ?", (old,))["n"]
    if left == 0:
        db._merge(new, old, f"reprocess: copy {row['id']} moved", now)
    else:
        db._refresh_article(old, now)
    db._refresh_article(new, now)
    text = db._one("SELECT text FROM texts WHERE sha256 = ?", (row["text_sha256"],)) or {}
    db._set_similarity(row["id"], neardup.Text.of(text.get("text") or ""), new)
