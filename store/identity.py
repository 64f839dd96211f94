"""The identity cascade: which article a new copy belongs to, strongest rule first.

1. URL: a copy reached through a permanent redirect (RawPage.url != final_url, or a
   redirect seen before) joins the article of the URL it moved from; so does a page
   whose post (`RawPage.meta["guid"]`, the CMS's own id) is known on the same host under
   another URL. Either way the old copy has *moved* (`store.copies` marks it).
2. Attribution: "Official news published at <url>" / rel=canonical to an official host ->
   the article of that URL; a claim on a URL not seen yet is returned as pending, and the
   original joins this article when it is crawled. A copy that names no URL but a source
   line with an embassy and a date joins that embassy's page of the same title and date
   (`by_source_line`), whichever of the two arrives first.
3. Exact: the same normalised text (`cleaners.model.content_hash`) -> that article.
4. Near: candidates from the fingerprint index (`store.index`), confirmed by containment
   with look-alike, date and title checks (`store.neardup.compare`). Pairs in the grey zone
   are not merged but returned for review with a reason: `grey_zone`, `lookalike`,
   `date_mismatch`, `title_mismatch`, `same_site_duplicate` (two live URLs of one official
   site are two posts), `holds_candidate` / `contained_official` (a page quoting a whole
   statement), `other_official_host` (see below).

Two official hosts each publish their own statements, often from one template (two
embassies' security alerts): an official copy joins an official article on another host by
near-similarity only when one side says it republishes the Department's text (`republished`,
read by `store.prepare`) and the other is that text, or when it is the archive copy of the
very same path. Otherwise only the URL, attribution and exact rules join them.

An official copy also gathers the unofficial-only articles its text confirms (an excerpt and
a claim that arrived before it and matched nothing else), so the articles do not depend on
the order pages arrive in. Owns only the decision; the writes are `store.copies`'.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from cleaners.model import Document, normalise_text

from . import neardup
from .articles import Articles, rank_of
from .connection import Connection
from .index import NearIndex
from .prepare import Prepared
from .urls import key_host, role_for

DEPARTMENT_ROLES = frozenset({"original", "archive"})  # state.gov and its archive hosts
SOURCE_LINE_DAYS = 2  # a source line's date and the embassy page's may differ by a time zone or a re-post
_MISSION = re.compile(r"^U\.S\. (?:Embassy|Consulate General|Consulate|Mission)\b\W*(?P<place>.+)$")
_PLACE_NOISE = frozenset(
    "the and of in to for u.s. united states america embassy consulate consulates general mission "
    "usembassy gov www".split()
)
OFFICIAL_SIZE_RATIO = 0.6  # official vs official: the smaller must be this share of the larger
# a matched text under this share of a look-alike text of the same article is an excerpt of both
LOOKALIKE_EXCERPT_SHARE = 0.8

Match = tuple[int | None, str, float | None]  # article, match method, score


def _title_key(title: str | None) -> str:
    """A title as two copies of one statement write it: case, quotes, dashes and punctuation aside."""
    return " ".join(re.findall(r"\w+", normalise_text(title or "")))


def _place_words(*names: str | None) -> set[str]:
    """The words that name a place in publishers and host names ("Mexico City", mexico.usembassy.gov)."""
    words = set()
    for name in names:
        words |= {w for w in re.split(r"[\s.,&/()-]+", (name or "").casefold()) if len(w) > 2}
    return words - _PLACE_NOISE


def _embassy(site: str | None) -> bool:
    return bool(site) and role_for(f"http://{site}/") == "embassy"


def _date(s: str | None) -> date | None:
    if not s:
        return None
    try:
        return date.fromisoformat(str(s)[:10])
    except ValueError:
        return None


class Identity:
    """The cascade over the database of one `Store`."""

    def __init__(self, cx: Connection, index: NearIndex, articles: Articles) -> None:
        self.cx = cx
        self.index = index
        self.articles = articles

    def article_of_key(self, key: str) -> int | None:
        row = self.cx.one("SELECT article_id FROM copies WHERE url_key = ?", (key,))
        return row["article_id"] if row else None

    def by_url(self, p: Prepared) -> tuple[int | None, str, float | None, int | None]:
        """(article, method, score, the copy moved away from) of a page reached by a permanent
        redirect, or of a post known under another URL of the same host (same guid)."""
        froms = []
        if p.asked:
            froms.append(p.asked)
            self.record_redirect(p)
        froms += [
            r["from_key"] for r in self.cx.all("SELECT from_key FROM redirects WHERE to_key = ?", (p.key,))
        ]
        for fk in froms:
            row = self.cx.one("SELECT id, article_id FROM copies WHERE url_key = ?", (fk,))
            if row:
                return row["article_id"], "url", 1.0, row["id"]
        old = self.same_post(p)
        if old is not None:
            return old["article_id"], "url", 1.0, old["id"]
        return None, "new", None, None

    def record_redirect(self, p: Prepared) -> None:
        """Remember that the URL asked for answers with a permanent redirect to this page."""
        if not p.asked:
            return
        self.cx.db.table("redirects").upsert(
            {
                "from_key": p.asked,
                "to_key": p.key,
                "from_url": p.copy["raw_url"],
                "to_url": p.copy["url"],
                "seen_at": p.copy["fetched_at"],
            },
            pk="from_key",
            alter=False,
        )

    def same_post(self, p: Prepared) -> dict[str, Any] | None:
        """The copy of the same post (same guid, same host) under another URL, live first."""
        guid, site = p.copy.get("guid"), p.copy.get("site")
        if not guid or not site:
            return None
        for row in self.cx.all(
            "SELECT id, article_id, site FROM copies WHERE guid = ? AND url_key != ? ORDER BY gone, id DESC",
            (guid, p.key),
        ):
            if row["site"] and key_host(row["site"]) == key_host(site):
                return row
        return None

    def _pending(self, key: str) -> int | None:
        """The article waiting for `key` through a claim, if it still exists."""
        row = self.cx.one("SELECT article_id FROM pending_attributions WHERE claimed_key = ?", (key,))
        if row and self.articles.exists(row["article_id"]):
            return int(row["article_id"])
        return None

    def by_attribution(
        self, p: Prepared
    ) -> tuple[int | None, str, float | None, list[tuple[str, str | None]]]:
        """Article of a claimed original URL, or of a pending claim on this very URL; and the
        claims on URLs not seen yet."""
        pend = self._pending(p.key)
        if pend is not None:
            return pend, "attribution", 1.0, []
        unresolved = []
        for ck, curl in p.claims:
            aid = self.article_of_key(ck)
            if aid is None:
                red = self.cx.one("SELECT to_key FROM redirects WHERE from_key = ?", (ck,))
                if red:
                    aid = self.article_of_key(red["to_key"])
            if aid is None:
                aid = self._pending(ck)
            if aid is not None:
                return aid, "attribution", 1.0, []
            unresolved.append((ck, curl))
        return None, "new", None, unresolved

    def by_source_line(self, p: Prepared) -> Match:
        """The article a source line joins, in either direction.

        A copy without a claimed URL whose source line names an embassy and a date ("Press
        release, <date>, Embassy of the United States, <city>") joins the article of that
        embassy's own page (live or archived) with the same title and a date within
        `SOURCE_LINE_DAYS`; an embassy page joins the unofficial-only article of such a copy
        that arrived before it. The embassy is the one whose host name or publisher names the
        source line's place.
        """
        c = p.copy
        when, title = _date(c["published"]), _title_key(c["title"])
        if when is None or not title:
            return None, "new", None
        window = (
            (when - timedelta(days=SOURCE_LINE_DAYS)).isoformat(),
            (when + timedelta(days=SOURCE_LINE_DAYS)).isoformat(),
        )

        def same_release(row: dict[str, Any], place: set[str], there: set[str]) -> bool:
            d = _date(row["published"])
            return (
                d is not None
                and abs((d - when).days) <= SOURCE_LINE_DAYS
                and _title_key(row["title"]) == title
                and bool(place & there)
            )

        if p.rank > 2:
            found = _MISSION.match(c["publisher"] or "") if c["source_line"] and not p.claims else None
            if found is None:
                return None, "new", None
            place = _place_words(found.group("place"))
            rows = self.cx.all(
                "SELECT c.article_id, c.title, c.site, c.publisher, c.published FROM articles a "
                "JOIN copies c ON c.article_id = a.id WHERE a.published BETWEEN ? AND ? AND c.rank <= 2 "
                "AND c.site IS NOT NULL ORDER BY c.gone, c.id",
                window,
            )
            for r in rows:
                if _embassy(r["site"]) and same_release(r, place, _place_words(r["site"], r["publisher"])):
                    return r["article_id"], "attribution", 1.0
            return None, "new", None
        if not _embassy(c["site"]):
            return None, "new", None
        here = _place_words(c["site"], c["publisher"])
        rows = self.cx.all(
            "SELECT c.article_id, c.title, c.publisher, c.published FROM articles a "
            "JOIN copies c ON c.article_id = a.id WHERE a.published BETWEEN ? AND ? "
            "AND coalesce(a.rep_rank, 3) >= 3 AND c.source_line IS NOT NULL "
            "AND c.claimed_original_url IS NULL ORDER BY c.id",
            window,
        )
        for r in rows:
            found = _MISSION.match(r["publisher"] or "")
            if found is not None and same_release(r, here, _place_words(found.group("place"))):
                return r["article_id"], "attribution", 1.0
        return None, "new", None

    def _lang_ok(self, doc: Document, aid: int) -> bool:
        if not doc.language:
            return True
        row = self.cx.one("SELECT language FROM articles WHERE id = ?", (aid,))
        return not row or not row["language"] or row["language"] == doc.language

    def by_exact(self, p: Prepared, doc: Document) -> Match:
        if not p.text.strip():
            return None, "new", None
        row = self.cx.one("SELECT article_id FROM texts WHERE sha256 = ?", (p.copy["text_sha256"],))
        if row and self.articles.exists(row["article_id"]) and self._lang_ok(doc, row["article_id"]):
            return row["article_id"], "exact", 1.0
        return None, "new", None

    def near(self, p: Prepared, doc: Document, unofficial_only: bool = False) -> dict[int, neardup.Verdict]:
        """Best verdict per candidate article from the fingerprint index."""
        obj = p.textobj
        best: dict[int, neardup.Verdict] = {}
        if obj.size < neardup.MIN_SHINGLES:
            return best
        fuller_lookalike: dict[int, int] = {}  # article -> size of its largest text that names otherwise
        same_size: dict[int, int] = {}  # article -> size of the text the best match was made with
        for t in self.index.candidates(p, unofficial_only):
            aid = t["article_id"]
            art = self.cx.one(
                "SELECT id, title, published, language, rep_rank FROM articles WHERE id = ?", (aid,)
            )
            if art is None:
                continue
            if doc.language and art["language"] and art["language"] != doc.language:
                continue
            old = self.index.text_by_id(t["sha256"], t["id"])
            both_official = p.rank <= 2 and rank_of(art) <= 2
            v = neardup.compare(
                obj,
                old,
                new_title=doc.title,
                old_title=art["title"],
                new_date=doc.published,
                old_date=_date(art["published"]),
                edges_ok=not both_official,
                old_official=rank_of(art) <= 2,
            )
            if v.same and both_official:
                # Two official pages where one holds the other (a briefing quoting a
                # statement): never one article by text alone.
                if min(obj.size, old.size) / max(obj.size, old.size, 1) < OFFICIAL_SIZE_RATIO:
                    v = neardup.Verdict(
                        False, v.score, "contained_official", f"{obj.size} / {old.size} shingles"
                    )
            if v.same and both_official and not self._may_join_official(p, aid):
                v = neardup.Verdict(False, v.score, "other_official_host", p.copy["site"] or "")
            if v.same and p.rank <= 2 and p.copy["site"] and self._live_on_site(aid, p):
                # Two live URLs of one official site are two posts (state.gov re-posts a
                # statement under "-2" with small edits, and counts it as another release);
                # a moved page answers with a 301 (URL rule) or keeps its text (exact).
                v = neardup.Verdict(False, v.score, "same_site_duplicate", p.copy["site"])
            if v.review == "lookalike":
                fuller_lookalike[aid] = max(fuller_lookalike.get(aid, 0), old.size)
            prev = best.get(aid)
            if prev is None or (v.same, v.score) > (prev.same, prev.score):
                best[aid] = v
                same_size[aid] = old.size
        for aid, size in fuller_lookalike.items():
            # A fuller text of the article names other people or places than the new text:
            # the text that matched is an excerpt that stops before the difference (it fits
            # both statements), so it does not make the new text this article's statement.
            if best[aid].same and size * LOOKALIKE_EXCERPT_SHARE > same_size[aid]:
                best[aid] = neardup.Verdict(False, best[aid].score, "lookalike", "a fuller text differs")
        return best

    def _may_join_official(self, p: Prepared, aid: int) -> bool:
        """Whether an official copy may join official article `aid` by near-similarity: the
        article has an official copy on the same host, or one that the new copy republishes
        (or that republishes it), or the new copy is the archive copy of one's path."""
        site = key_host(p.copy["site"] or "")
        path = urlsplit(p.key).path
        for c in self.cx.all(
            "SELECT site, role, url_key, republished FROM copies WHERE article_id = ? AND rank <= 2",
            (aid,),
        ):
            if not c["site"]:
                continue
            if key_host(c["site"]) == site:
                return True
            if p.copy["republished"] and (c["republished"] or c["role"] in DEPARTMENT_ROLES):
                return True
            if c["republished"] and p.role in DEPARTMENT_ROLES:
                return True
            if {p.role, c["role"]} <= DEPARTMENT_ROLES and urlsplit(c["url_key"]).path == path:
                return True
        return False

    def _live_on_site(self, aid: int, p: Prepared) -> bool:
        return (
            self.cx.one(
                "SELECT 1 AS x FROM copies "
                "WHERE article_id = ? AND site = ? AND gone = 0 AND url_key != ? LIMIT 1",
                (aid, p.copy["site"], p.key),
            )
            is not None
        )

    def by_near(
        self, p: Prepared, doc: Document
    ) -> tuple[int | None, float | None, list[int], list[tuple[int, neardup.Verdict]]]:
        """(article, score, unofficial-only articles to fold into it, review pairs)."""
        best = self.near(p, doc)
        same = sorted((a for a, v in best.items() if v.same), key=lambda a: (-best[a].score, a))
        reviews = [(a, v) for a, v in best.items() if not v.same and v.review]
        if not same:
            top = max((v.score for v in best.values()), default=None)
            return None, (round(top, 4) if top else None), [], reviews
        primary = same[0]
        merged: list[int] = []
        if p.rank <= 2 and len(same) > 1:
            # An official copy containing several unofficial-only articles (a truncated
            # excerpt and a cruft-wrapped copy that arrived before it) joins them.
            merged = [other for other in same[1:] if self.articles.unofficial_only(other)]
            if merged and self.articles.unofficial_only(primary):
                ids = sorted([primary, *merged])  # keep the oldest id so links stay stable
                primary, merged = ids[0], ids[1:]
        return primary, round(best[same[0]].score, 4), merged, reviews

    def bridged(self, p: Prepared, doc: Document, aid: int) -> tuple[int, list[int]]:
        """An official copy that joined `aid` by URL, attribution or exact text also gathers
        the unofficial-only articles its text confirms. When `aid` itself is unofficial-only
        (an aggregator's claim) and the text confirms exactly one official article, that
        article is the one kept."""
        if p.rank > 2:
            return aid, []
        # Joined to an official article, only unofficial-only articles can be gathered: the
        # search skips the others (most of an official crawl's copies compare with nothing).
        unofficial_aid = self.articles.unofficial_only(aid)
        same = {
            a for a, v in self.near(p, doc, unofficial_only=not unofficial_aid).items() if v.same and a != aid
        }
        if not same:
            return aid, []
        officials = sorted(a for a in same if not self.articles.unofficial_only(a))
        primary = aid
        if unofficial_aid and len(officials) == 1:
            primary = officials[0]
        merged = sorted(a for a in ({aid} | same) if a != primary and self.articles.unofficial_only(a))
        return primary, merged

    def ask_again(self, p: Prepared, doc: Document) -> Match:
        """Where attribution, then exact text, then near text put a stored copy (the URL rule
        left out: it would keep every copy where it is)."""
        aid, method, score, _ = self.by_attribution(p)
        if aid is not None:
            return aid, method, score
        aid, method, score = self.by_source_line(p)
        if aid is not None:
            return aid, method, score
        aid, method, score = self.by_exact(p, doc)
        if aid is not None:
            return aid, method, score
        aid, score, _, _ = self.by_near(p, doc)
        if aid is not None:
            return aid, "near", score
        return None, "new", None
