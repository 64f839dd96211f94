"""The near-duplicate index: every distinct text once (`texts`), its sampled fingerprints
(`fingerprints`), and the fingerprints too common to index (`fp_df`).

Owns adding a text to the index and finding candidate texts for a new one through index
lookups only (never a scan). Leaves what the fingerprints are to `store.neardup` and whether
a candidate is the same statement to `store.identity`.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from . import neardup
from .connection import Connection
from .prepare import Prepared

TEXT_CACHE = 512  # prepared texts kept in memory (a text never changes under its hash)


class NearIndex:
    """Texts and their fingerprints."""

    def __init__(self, cx: Connection) -> None:
        self.cx = cx
        self._cache: OrderedDict[str, neardup.Text] = OrderedDict()

    def text(self, sha: str, text: str | None) -> neardup.Text:
        """Prepared text by sha256, from a small LRU."""
        obj = self._cache.get(sha)
        if obj is None:
            obj = neardup.Text.of(text or "")
            self._cache[sha] = obj
            if len(self._cache) > TEXT_CACHE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(sha)
        return obj

    def cached(self, sha: str) -> neardup.Text | None:
        return self._cache.get(sha)

    def stored_text(self, sha: str) -> str | None:
        row = self.cx.one("SELECT text FROM texts WHERE sha256 = ?", (sha,))
        return row["text"] if row else None

    @staticmethod
    def fps(p: Prepared) -> list[int]:
        """The new text's sampled fingerprints (computed once per save)."""
        if p.fps is None:
            obj = p.textobj
            p.fps = neardup.fingerprints(obj.hashes) if obj.size >= neardup.MIN_SHINGLES else []
        return p.fps

    def postings_of(self, p: Prepared) -> dict[int, int]:
        """Posting-list lengths of the new text's fingerprints (read once per save)."""
        if p.postings is None:
            fps = self.fps(p)
            p.postings = self.postings(fps) if fps else {}
        return p.postings

    def postings(self, fps: list[int]) -> dict[int, int]:
        """Posting-list lengths of fingerprints (each at most DF_CAP: an index range scan)."""
        marks = ",".join("?" * len(fps))
        return dict(
            self.cx.db.execute(
                f"SELECT hash, count(*) FROM fingerprints WHERE hash IN ({marks}) GROUP BY hash", fps
            ).fetchall()
        )

    def add(self, sha: str, text: str, p: Prepared, aid: int) -> None:
        """Index a text under article `aid` unless it is indexed already."""
        if self.cx.one("SELECT 1 AS x FROM texts WHERE sha256 = ?", (sha,)):
            return
        fps = self.fps(p)
        row = {
            "sha256": sha,
            "article_id": aid,
            "text": text,
            "words": len(p.textobj.words),
            "fp_count": len(fps),
        }
        tid = self.cx.insert("texts", row)
        if not fps:
            return
        have = self.postings_of(p)
        self.cx.db.conn.executemany(
            "INSERT OR IGNORE INTO fingerprints (hash, text_id) VALUES (?, ?)",
            [(h, tid) for h in fps if have.get(h, 0) < neardup.DF_CAP],
        )
        # Boilerplate (posting list full): only counted, in a small table that stays hot.
        self.cx.db.conn.executemany(
            f"INSERT INTO fp_df (hash, n) VALUES (?, {neardup.DF_CAP + 1}) "
            "ON CONFLICT(hash) DO UPDATE SET n = n + 1",
            [(h,) for h in fps if have.get(h, 0) >= neardup.DF_CAP],
        )

    def candidates(self, p: Prepared, unofficial_only: bool = False) -> list[dict[str, Any]]:
        """Texts sharing rare fingerprints with the new text, best first; with
        `unofficial_only`, only texts of articles no official copy represents."""
        usable = [h for h, n in self.postings_of(p).items() if n < neardup.DF_CAP]
        if not usable:
            return []
        need = 1 if len(usable) <= 4 else 2
        marks = ",".join("?" * len(usable))
        only = (
            "JOIN texts tt ON tt.id = f.text_id JOIN articles a ON a.id = tt.article_id "
            "AND (a.rep_rank IS NULL OR a.rep_rank >= 3) "
            if unofficial_only
            else ""
        )
        rows = self.cx.all(
            f"SELECT t.id, t.sha256, t.article_id, t.fp_count, h.hits FROM "
            f"(SELECT f.text_id, count(*) AS hits FROM fingerprints f {only}WHERE f.hash IN ({marks}) "
            f" GROUP BY f.text_id HAVING hits >= ? ORDER BY hits DESC, f.text_id LIMIT 8) h "
            f"JOIN texts t ON t.id = h.text_id ORDER BY h.hits DESC, h.text_id",
            [*usable, need],
        )
        # a loose estimate of containment; the confirmation decides
        out = [t for t in rows if t["hits"] / max(1, min(len(usable), t["fp_count"] or 1)) >= 0.2]
        return out[:5]

    def text_by_id(self, sha: str, text_id: int) -> neardup.Text:
        """Prepared text of a candidate (read from `texts` only when not cached)."""
        obj = self.cached(sha)
        if obj is not None:
            return obj
        text = self.cx.db.execute("SELECT text FROM texts WHERE id = ?", (text_id,)).fetchone()[0]
        return self.text(sha, text)
