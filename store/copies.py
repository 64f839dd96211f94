"""Saving one page as a copy, inside the caller's transaction.

A URL seen before keeps its copy: the row is refreshed from the new fetch, and a new text
becomes a new version. A URL whose new text shares little with the stored one, or whose
post id (`RawPage.meta["guid"]`) is another, holds another statement (state.gov re-uses
slugs for yearly messages): the older copy is retired under `<key>#superseded-<n>` and
keeps its article; the newer page starts afresh. The same guid is the same post, however
much its text changed. A URL that answers with a permanent redirect, or whose post now has
another permalink, has *moved*: its copy is marked `gone` with `moved_to`, and the new URL's
copy represents the article. A new URL goes
through the identity cascade (`store.identity`) and becomes a copy of the article it picks,
or of a new article.

Re-identifying (`scrapy reprocess` after the cleaners improved) saves as usual, then asks
the cascade again without the URL rule: a copy that joined its article by attribution or by
text (or that is alone in it) moves where the cascade now points, to a new article when
nothing matches any more. Copies joined by URL and founders of articles that others joined
are never moved: their identity does not come from the text.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from cleaners.model import Document, RawPage, utc_timestamp

from . import neardup
from .articles import Articles
from .connection import Connection, is_locked
from .identity import Identity
from .index import NearIndex
from .pages import Pages
from .prepare import Prepared
from .urls import key_host, normalise_url
from .urlstate import UrlState

REUSED_URL_BELOW = 0.6  # a URL whose new text scores below this against the old is a new statement
MOVABLE = ("attribution", "exact", "near")
SNAPSHOT_FIELDS = ("title", "text", "published", "publisher", "canonical_url", "language")


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What `Store.save` decided about one page."""

    outcome: str  # new | copy | version | unchanged
    article_id: int
    copy_id: int
    role: str
    match_method: str  # url | attribution | exact | near | new
    match_score: float | None
    merged: tuple[int, ...] = ()  # articles folded into article_id by this save
    review: tuple[int, ...] = ()  # candidate articles listed for review, not merged


def _unchanged(row: dict[str, Any]) -> SaveResult:
    return SaveResult(
        "unchanged", row["article_id"], row["id"], row["role"], row["match_method"], row["match_score"]
    )


class Copies:
    """Writes a page's copy and everything that follows from it."""

    def __init__(
        self,
        cx: Connection,
        index: NearIndex,
        articles: Articles,
        identity: Identity,
        pages: Pages,
        urls: UrlState,
    ) -> None:
        self.cx = cx
        self.index = index
        self.articles = articles
        self.identity = identity
        self.pages = pages
        self.urls = urls

    def by_key(self, key: str) -> dict[str, Any] | None:
        return self.cx.one("SELECT * FROM copies WHERE url_key = ?", (key,))

    def save(self, doc: Document, raw: RawPage, p: Prepared) -> SaveResult:
        """Save one page (inside the caller's transaction)."""
        existing = self.by_key(p.key)
        result = self._update(existing, doc, raw, p) if existing else self._new(doc, raw, p)
        if p.asked:
            result = self._moved_from(p, result)
        if p.hints and self.urls.hints_changed(p.key, p.hints):
            self.urls.set_key(p.key, p.copy["url"], p.hints)
        return result

    def save_many(
        self, prepared: list[tuple[Document, RawPage, Prepared] | Exception]
    ) -> list[SaveResult | Exception]:
        """Each page in a savepoint of its own: a page that fails is rolled back alone."""
        conn = self.cx.conn
        out: list[SaveResult | Exception] = []
        for entry in prepared:
            if isinstance(entry, Exception):
                out.append(entry)
                continue
            conn.execute("SAVEPOINT dispatches_save")
            try:
                out.append(self.save(*entry))
            except Exception as exc:
                if is_locked(exc) or not conn.in_transaction:
                    raise  # the whole transaction is gone (or must be retried): nothing committed
                conn.execute("ROLLBACK TO dispatches_save")
                out.append(exc)
            conn.execute("RELEASE dispatches_save")
        return out

    # ---------------------------------------------------------------- a URL seen before

    def _update(self, old: dict[str, Any], doc: Document, raw: RawPage, p: Prepared) -> SaveResult:
        new = p.copy
        aid = old["article_id"]
        # What the cleaner read besides the text (a corrected title) counts as a change too.
        same_fields = all(old[k] == new[k] for k in ("page_sha256", "text_sha256", "title", "published"))
        if same_fields:
            fields: dict[str, Any] = {}
            if new["fetched_at"] and (old["fetched_at"] is None or new["fetched_at"] > old["fetched_at"]):
                fields["fetched_at"] = new["fetched_at"]
            for k in ("etag", "last_modified"):
                if new[k] and new[k] != old[k]:
                    fields[k] = new[k]
            if old["gone"]:
                fields.update(gone=0, moved_to=None)  # the URL answers again: not moved
            self.cx.update("copies", old["id"], fields)
            if old["gone"]:
                self._left_behind(old, p)
            return _unchanged(old)
        # Same bytes, new text: the cleaners changed (scrapy reprocess), not the page at this URL.
        if old["text_sha256"] != new["text_sha256"] and old["page_sha256"] != new["page_sha256"]:
            reused = self._reused(old, doc, raw, p)
            if reused is not None:
                return reused
        # Other bytes fetched before the stored ones: an older capture read late, not an edit.
        # (The same bytes are a page cleaned again, whatever their date.)
        if (
            old["page_sha256"] != new["page_sha256"]
            and old["fetched_at"]
            and new["fetched_at"]
            and new["fetched_at"] < old["fetched_at"]
        ):
            return self._older_capture(old, raw, p)
        if old["gone"]:
            self.articles.refresh(aid)  # a moved URL that answers again may represent again
        # The page changed: take everything from the new fetch, keep identity and provenance.
        fields = {
            k: v
            for k, v in new.items()
            if k not in ("url_key", "crawl_id", "match_method", "match_score") and v != old.get(k)
        }
        fields.update(gone=0, moved_to=None)
        self.cx.update("copies", old["id"], fields)
        if old["gone"]:
            self._left_behind(old, p)
        self.pages.add(new["page_sha256"], raw)
        text_changed = old["text_sha256"] != new["text_sha256"]
        if text_changed:
            self.index.add(new["text_sha256"], p.text, p, aid)
            if p.rank <= 2:
                self.articles.add_version(
                    aid, new["text_sha256"], p.text, new["title"], new["fetched_at"], new["url"], p.role
                )
        self.articles.refresh(aid)
        self.articles.set_similarity(old["id"], p.textobj, aid)
        res = _unchanged(old)
        return dataclasses.replace(res, outcome="version") if text_changed else res

    def _left_behind(self, old: dict[str, Any], p: Prepared) -> None:
        """A post has one permalink at a time: when an earlier URL of a post (same guid, same
        host) answers again, the URL it had moved to since is the one that moved now."""
        guid, site = p.copy.get("guid"), p.copy.get("site")
        if not guid or not site:
            return
        for row in self.cx.all(
            "SELECT id, site FROM copies WHERE guid = ? AND id != ? AND gone = 0", (guid, old["id"])
        ):
            if row["site"] and key_host(row["site"]) == key_host(site):
                self.cx.update("copies", row["id"], {"gone": 1, "moved_to": p.copy["url"]})
        self.articles.refresh(old["article_id"])

    def _older_capture(self, old: dict[str, Any], raw: RawPage, p: Prepared) -> SaveResult:
        """A capture of the URL older than the one stored (a saved file or an archive capture
        read after the live page was crawled): its text joins the history, dated when it was
        fetched, and the copy keeps the newer fetch's text and title."""
        new, aid = p.copy, old["article_id"]
        self.pages.add(new["page_sha256"], raw)
        if old["text_sha256"] == new["text_sha256"]:
            return _unchanged(old)
        self.index.add(new["text_sha256"], p.text, p, aid)
        if p.rank <= 2:
            self.articles.add_version(
                aid, new["text_sha256"], p.text, new["title"], new["fetched_at"], new["url"], p.role
            )
        return dataclasses.replace(_unchanged(old), outcome="version")

    def _reused(self, old: dict[str, Any], doc: Document, raw: RawPage, p: Prepared) -> SaveResult | None:
        """A different statement at a known URL: retire the older of the two pages under
        `#superseded-`, so an old capture ingested late never displaces the current page.
        None when the new text is the same statement."""
        if old["guid"] and p.copy["guid"]:
            if old["guid"] == p.copy["guid"]:
                return None  # the same post, edited: its CMS id says so whatever the text
        else:
            prev = self.index.stored_text(old["text_sha256"])
            if prev is None:
                return None
            v = neardup.compare(p.textobj, self.index.text(old["text_sha256"], prev))
            if v.score >= REUSED_URL_BELOW or p.textobj.size < neardup.MIN_SHINGLES:
                return None
        new = p.copy
        if new["fetched_at"] and old["fetched_at"] and new["fetched_at"] < old["fetched_at"]:
            retired = f"{p.key}#superseded-{(new['page_sha256'] or new['text_sha256'])[:16]}"
            again = self.by_key(retired)
            if again:
                return _unchanged(again)
            q = dataclasses.replace(p, key=retired, asked=None, copy={**new, "url_key": retired, "gone": 1})
            return self._new(doc, raw, q)
        self.cx.update(
            "copies", old["id"], {"url_key": f"{old['url_key']}#superseded-{old['id']}", "gone": 1}
        )
        return self._new(doc, raw, p)

    def _moved_from(self, p: Prepared, res: SaveResult) -> SaveResult:
        """The URL asked for answered with a permanent redirect to this page: its copy, if
        there is one, has moved here, and its article is this one (a move noticed after
        both URLs were saved as two posts folds them)."""
        old = self.by_key(p.asked) if p.asked else None
        if old is None or old["id"] == res.copy_id:
            return res
        red = self.cx.one("SELECT to_key FROM redirects WHERE from_key = ?", (p.asked,))
        if red is None or red["to_key"] != p.key:
            self.identity.record_redirect(p)
        if old["gone"] != 1 or old["moved_to"] != p.copy["url"]:
            self.cx.update("copies", old["id"], {"gone": 1, "moved_to": p.copy["url"]})
        if old["article_id"] == res.article_id:
            self.articles.refresh(res.article_id)
            return res
        before = old["article_id"]
        self.articles.move({**old, "gone": 1}, before, res.article_id, "url", 1.0)
        merged = () if self.articles.exists(before) else (before,)
        return dataclasses.replace(res, merged=res.merged + merged)

    # ---------------------------------------------------------------- a new URL

    def _new(self, doc: Document, raw: RawPage, p: Prepared) -> SaveResult:
        c = p.copy
        now = utc_timestamp()
        aid, method, score, moved = self.identity.by_url(p)
        pending_claims: list[tuple[str, str | None]] = []
        if aid is None:
            aid, method, score, pending_claims = self.identity.by_attribution(p)
        if aid is None:
            aid, method, score = self.identity.by_source_line(p)
        merged: list[int] = []
        reviews: list[tuple[int, neardup.Verdict]] = []
        if aid is None:
            aid, method, score = self.identity.by_exact(p, doc)
        if aid is None:
            aid, score, merged, reviews = self.identity.by_near(p, doc)
            method = "near" if aid is not None else "new"
        else:
            aid, merged = self.identity.bridged(p, doc, aid)
        outcome = "copy"
        if aid is None:
            outcome = "new"
            aid = self.articles.create(c["fetched_at"], c["title"], p.text)
            if p.translation_key:
                original = self.identity.article_of_key(p.translation_key)
                self.cx.update(
                    "articles",
                    aid,
                    {"translation_of_key": p.translation_key, "translation_of_article_id": original},
                )
        row = dict(
            c, article_id=aid, match_method=method, match_score=score, first_fetched_at=c["fetched_at"]
        )
        copy_id = int(self.cx.insert("copies", row))
        if moved:
            self.cx.update("copies", moved, {"gone": 1, "moved_to": c["url"]})
        self.index.add(c["text_sha256"], p.text, p, aid)
        if p.rank <= 2:
            self.articles.add_version(
                aid, c["text_sha256"], p.text, c["title"], c["fetched_at"], c["url"], p.role
            )
        self.pages.add(c["page_sha256"], raw)
        x = self.cx.db.execute
        # Claims on URLs not seen yet: the original joins this article when it is crawled.
        for ck, curl in pending_claims:
            x(
                "INSERT OR IGNORE INTO pending_attributions "
                "(claimed_key, claimed_url, article_id, copy_id, created_at) VALUES (?, ?, ?, ?, ?)",
                (ck, curl, aid, copy_id, now),
            )
        x("DELETE FROM pending_attributions WHERE claimed_key = ?", (p.key,))
        # Translations that were waiting for this English original.
        x(
            "UPDATE articles SET translation_of_article_id = ? "
            "WHERE translation_of_key = ? AND translation_of_article_id IS NULL",
            (aid, p.key),
        )
        for other in merged:
            self.articles.merge(aid, other, f"bridged by copy {copy_id}")
        review = tuple(cand for cand, _ in reviews if cand != aid and cand not in merged)
        for cand, verdict in reviews:
            if cand in review:
                x(
                    "INSERT OR IGNORE INTO review_pairs "
                    "(copy_id, article_id, score, reason, detail, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (copy_id, cand, round(verdict.score, 4), verdict.review, verdict.detail[:1000], now),
                )
        self.articles.refresh(aid)
        self.articles.set_similarity(copy_id, p.textobj, aid)
        return SaveResult(outcome, aid, copy_id, p.role, method, score, tuple(merged), review)

    # ---------------------------------------------------------------- re-identifying

    def stored(self, raw: RawPage) -> dict[str, Any] | None:
        """The copy a stored raw page (from `Store.raw_pages`) belongs to."""
        cid = (raw.meta or {}).get("copy_id")
        if cid is not None:
            row = self.cx.one("SELECT * FROM copies WHERE id = ?", (cid,))
            if row:
                return row
        served = raw.final_url or raw.url
        key = normalise_url(served) if served else None
        if key is None and raw.source_path:
            key = f"file:{raw.source_path}"
        return self.by_key(key) if key else None

    def snapshot(self, raw: RawPage) -> dict[str, Any] | None:
        """The copy of `raw` and its article now: ids, match method and the article's fields."""
        row = self.stored(raw)
        if row is None:
            return None
        art = (
            self.cx.one(
                f"SELECT {', '.join(SNAPSHOT_FIELDS)} FROM articles WHERE id = ?", (row["article_id"],)
            )
            or {}
        )
        out = {k: art.get(k) for k in SNAPSHOT_FIELDS}
        out.update(copy_id=row["id"], article_id=row["article_id"], match_method=row["match_method"])
        return out

    def reidentify(self, doc: Document, raw: RawPage, p: Prepared) -> SaveResult:
        """Save a re-cleaned page, then move its copy where the cascade now puts it.

        Returns the save's result, with the article and method of the move when there was
        one: outcome "new" when the copy was split into a new article, "copy" when it was
        merged into an existing one.
        """
        stored = self.stored(raw)
        if stored is not None and stored["url_key"] != p.key:
            # A copy retired under another key (the URL now holds another statement): saving
            # its old page at the URL would retire the current copy in turn.
            return _unchanged(stored)
        # Asked before saving: the save files the new text under the copy's current article,
        # and the exact-text rule would then find it there.
        before = self.by_key(p.key)
        target, method, score = self.identity.ask_again(p, doc) if before else (None, "new", None)
        res = self.save(doc, raw, p)
        if before is None:
            return res
        if before["gone"]:
            # Re-cleaning is not a fetch: a copy marked gone (moved, deleted upstream) stays gone.
            self.cx.db.execute("UPDATE copies SET gone = 1 WHERE url_key = ?", (p.key,))
        row = self.by_key(p.key)
        if row is None:
            return res
        current = row["article_id"]
        siblings = self.articles.copies_count(current)
        if (row["match_method"] not in MOVABLE and siblings > 1) or target == current:
            return res
        if target is None:
            if row["match_method"] not in ("exact", "near") or siblings == 1:
                return res  # alone already, or not joined by its text: nothing to split from
            target = self.articles.create(row["first_fetched_at"] or row["fetched_at"])
            method, score, outcome = "new", None, "new"
        else:
            outcome = "copy"
        self.articles.move(row, current, target, method, score)
        return SaveResult(outcome, target, row["id"], row["role"], method, score)
