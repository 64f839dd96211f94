"""Articles and their versions: which copy represents a statement, and folding articles together.

Owns: creating an article, keeping its representative fields in step with its best live
copy (the newest text of a state.gov or embassy page publishing it as its own; else by rank:
state.gov, embassy, archive host, anything else; then the newest text, then the first to
arrive), every distinct representative or official text in `versions`, each copy's
similarity to its article's text, merging two articles and moving a copy between them.
Leaves deciding which article a copy belongs to to `store.identity`.
"""

from __future__ import annotations

from typing import Any

from cleaners.model import utc_timestamp

from . import neardup
from .connection import Connection
from .index import NearIndex

REP_FIELDS = (
    "title",
    "text",
    "published",
    "modified",
    "canonical_url",
    "publisher",
    "speaker",
    "doc_type",
    "language",
    "copies_count",
    "first_seen",
    "content_hash",
    "removed_count",
    "rep_copy_id",
    "rep_rank",
    "year",
)
# A live official publisher's own page: state.gov or an embassy, not saying it republishes.
_OWN = "(c.rank <= 1 AND c.claimed_original_url IS NULL AND c.republished = 0)"
# Fields whose change is bookkeeping, not a change of the statement (no new `updated_at`).
_COUNTERS = {"copies_count", "removed_count", "rep_copy_id", "first_seen", "year"}


def year_of(published: str | None) -> int | None:
    """The year of an ISO date, for Datasette's year facet."""
    try:
        return int(published[:4]) if published else None
    except ValueError:
        return None


def rank_of(art: dict[str, Any] | None) -> int:
    """The rank of an article's representative (3, unofficial, when unknown)."""
    if not art or art.get("rep_rank") is None:
        return 3
    return int(art["rep_rank"])


class Articles:
    """The `articles` and `versions` tables."""

    def __init__(self, cx: Connection, index: NearIndex) -> None:
        self.cx = cx
        self.index = index

    def exists(self, aid: int) -> bool:
        return self.cx.one("SELECT 1 AS x FROM articles WHERE id = ?", (aid,)) is not None

    def unofficial_only(self, aid: int) -> bool:
        """No official copy represents the article."""
        return rank_of(self.cx.one("SELECT rep_rank FROM articles WHERE id = ?", (aid,))) >= 3

    def create(self, first_seen: str | None, title: str | None = None, text: str | None = None) -> int:
        """A new article row; title and text go in with it so the FTS trigger indexes them once."""
        row = {
            "first_seen": first_seen,
            "updated_at": utc_timestamp(),
            "copies_count": 0,
            "title": title,
            "text": text,
        }
        return int(self.cx.insert("articles", row))

    def add_version(
        self,
        aid: int,
        sha: str,
        text: str,
        title: str | None,
        seen_at: str | None,
        url: str | None,
        role: str | None,
    ) -> None:
        self.cx.db.execute(
            "INSERT OR IGNORE INTO versions (article_id, text_sha256, text, title, seen_at, url, role) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (aid, sha, text, title, seen_at, url, role),
        )

    def set_similarity(self, copy_id: int, obj: neardup.Text, aid: int) -> None:
        """A copy's containment in its article's current text."""
        art = self.cx.one(
            "SELECT a.content_hash, a.text, c.text_sha256 FROM articles a, copies c "
            "WHERE a.id = ? AND c.id = ?",
            (aid, copy_id),
        )
        if art is None:
            return
        if art["content_hash"] == art["text_sha256"]:
            sim = 1.0
        else:
            sim = round(neardup.containment(obj, self.index.text(art["content_hash"], art["text"])), 4)
        self.cx.db.execute(
            "UPDATE copies SET similarity = ? WHERE id = ? AND similarity IS NOT ?", (sim, copy_id, sim)
        )

    def refresh(self, aid: int) -> None:
        """Make the best-ranked copy (first among equals) represent the article."""
        # The newest text (when it was first seen in the article) of a live official page
        # that publishes it as its own represents, whatever the host's rank: an edit, however
        # small, replaces the text it edits, also when another official host keeps the old
        # words. A page that says it republishes (an attribution, a "released by" line) and
        # an archive host's frozen copy do not outrank the publisher; among them, and between
        # copies of one text, rank decides, then the newest text, then the first to arrive.
        rep = self.cx.one(
            f"SELECT c.* FROM copies c LEFT JOIN versions v "
            f"ON v.article_id = c.article_id AND v.text_sha256 = c.text_sha256 WHERE c.article_id = ? "
            f"ORDER BY c.gone, NOT ({_OWN}), CASE WHEN {_OWN} THEN v.seen_at END DESC, c.rank, "
            f"CASE WHEN c.rank <= 2 THEN v.seen_at END DESC, c.id LIMIT 1",
            (aid,),
        )
        if rep is None:
            return
        text = self.index.stored_text(rep["text_sha256"]) or ""
        agg = self.cx.one(
            "SELECT count(*) AS n, min(first_fetched_at) AS first_seen, sum(removed_count) AS removed, "
            "min(published) AS published FROM copies WHERE article_id = ?",
            (aid,),
        )
        assert agg is not None  # an aggregate always has a row
        canonical = rep["url"] if rep["rank"] <= 2 else None
        if canonical is None:
            claim = self.cx.one(
                "SELECT claimed_original_url FROM copies WHERE article_id = ? "
                "AND claimed_original_url IS NOT NULL ORDER BY rank, id LIMIT 1",
                (aid,),
            )
            canonical = claim["claimed_original_url"] if claim else None
        new = {
            "title": rep["title"],
            "text": text,
            "published": rep["published"] or agg["published"],
            "modified": rep["modified"],
            "canonical_url": canonical,
            "publisher": rep["publisher"],
            "speaker": rep["speaker"],
            "doc_type": rep["doc_type"],
            "language": rep["language"],
            "copies_count": agg["n"],
            "first_seen": agg["first_seen"],
            "content_hash": rep["text_sha256"],
            "removed_count": agg["removed"] or 0,
            "rep_copy_id": rep["id"],
            "rep_rank": rep["rank"],
        }
        new["year"] = year_of(new["published"])
        old = self.cx.one(f"SELECT {', '.join(REP_FIELDS)} FROM articles WHERE id = ?", (aid,)) or {}
        changed = {k: v for k, v in new.items() if old.get(k) != v}
        if not changed:
            return
        if set(changed) - _COUNTERS:
            changed["updated_at"] = utc_timestamp()
        self.cx.update("articles", aid, changed)
        if "content_hash" in changed:
            self.add_version(
                aid, rep["text_sha256"], text, rep["title"], rep["fetched_at"], rep["url"], rep["role"]
            )
            if old.get("content_hash") is not None:
                self._resimilarise(aid, rep["text_sha256"], text)

    def _resimilarise(self, aid: int, sha: str, text: str) -> None:
        """Every copy's similarity again, after the article's text changed."""
        art = self.index.text(sha, text)
        for c in self.cx.all(
            "SELECT c.id, c.text_sha256, t.text FROM copies c LEFT JOIN texts t ON t.sha256 = c.text_sha256 "
            "WHERE c.article_id = ?",
            (aid,),
        ):
            sim = (
                1.0
                if c["text_sha256"] == sha
                else round(neardup.containment(self.index.text(c["text_sha256"], c["text"]), art), 4)
            )
            self.cx.db.execute("UPDATE copies SET similarity = ? WHERE id = ?", (sim, c["id"]))

    def merge(self, keep: int, drop: int, reason: str) -> None:
        """Fold article `drop` into `keep` (copies, texts, versions, claims, reviews, links)."""
        if keep == drop:
            return
        x = self.cx.db.execute
        x("UPDATE copies SET article_id = ? WHERE article_id = ?", (keep, drop))
        x("UPDATE texts SET article_id = ? WHERE article_id = ?", (keep, drop))
        x(
            "INSERT OR IGNORE INTO versions (article_id, text_sha256, text, title, seen_at, url, role) "
            "SELECT ?, text_sha256, text, title, seen_at, url, role FROM versions WHERE article_id = ?",
            (keep, drop),
        )
        x("DELETE FROM versions WHERE article_id = ?", (drop,))
        x("UPDATE pending_attributions SET article_id = ? WHERE article_id = ?", (keep, drop))
        x("UPDATE OR IGNORE review_pairs SET article_id = ? WHERE article_id = ?", (keep, drop))
        x("DELETE FROM review_pairs WHERE article_id = ?", (drop,))
        # A copy is never listed for review against its own article.
        x(
            "DELETE FROM review_pairs WHERE article_id = "
            "(SELECT article_id FROM copies WHERE copies.id = review_pairs.copy_id)"
        )
        x(
            "UPDATE articles SET translation_of_article_id = ? WHERE translation_of_article_id = ?",
            (keep, drop),
        )
        x("UPDATE merged_articles SET new_id = ? WHERE new_id = ?", (keep, drop))
        self.cx.db.table("merged_articles").upsert(
            {"old_id": drop, "new_id": keep, "reason": reason, "merged_at": utc_timestamp()},
            pk="old_id",
            alter=False,
        )
        x("DELETE FROM articles WHERE id = ?", (drop,))
        self.refresh(keep)

    def move(self, copy: dict[str, Any], old: int, new: int, method: str, score: float | None) -> None:
        """Move a copy from article `old` to `new`; `old` left without copies is merged into `new`."""
        x = self.cx.db.execute
        self.cx.update(
            "copies", copy["id"], {"article_id": new, "match_method": method, "match_score": score}
        )
        # The copy's text belongs where the copy is now, unless another copy still uses it there.
        x(
            "UPDATE texts SET article_id = ? WHERE sha256 = ? AND article_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM copies WHERE article_id = ? AND text_sha256 = ?)",
            (new, copy["text_sha256"], old, old, copy["text_sha256"]),
        )
        if self.copies_count(old) == 0:
            self.merge(new, old, f"reprocess: copy {copy['id']} moved")
        else:
            self.refresh(old)
        self.refresh(new)
        text = self.index.stored_text(copy["text_sha256"]) or ""
        self.set_similarity(copy["id"], neardup.Text.of(text), new)

    def copies_count(self, aid: int) -> int:
        row = self.cx.one("SELECT count(*) AS n FROM copies WHERE article_id = ?", (aid,))
        return int(row["n"]) if row else 0
