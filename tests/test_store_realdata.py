"""The cascade on real state.gov releases: the edited, moved, re-posted and
slug-reusing ones from the RSS item history in ../shared/corpus, read at test time.
Skipped when the corpus is absent. The full measurement is bench/dedup.py."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from email.utils import parsedate_to_datetime
from pathlib import Path

import lxml.html
import pytest

from cleaners.model import content_hash
from store import Store
from store.testing import page, truncated, wrapped

HISTORY = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "corpus"
    / "real-pages"
    / "state-gov"
    / "rss-item-history"
)


def _text(fragment: str) -> str:
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    paras = [" ".join(p.text_content().split()) for p in root.xpath("//p|//li|//h2|//h3")]
    return "\n\n".join(p for p in paras if p)


@pytest.fixture(scope="module")
def tricky():
    files = sorted(HISTORY.glob("*.jsonl.gz")) if HISTORY.exists() else []
    if not files:
        pytest.skip("../shared/corpus (state.gov RSS item history) is absent")
    rows = []
    for f in files:
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    for r in rows:
        r["text"] = _text(r.get("content_encoded") or r.get("description") or "")
        r["published"] = parsedate_to_datetime(r["pubDate"]).date()
    rows = [r for r in rows if r["text"]]
    by_guid, by_link = defaultdict(set), defaultdict(set)
    for r in rows:
        by_guid[r["guid"]].add(r["link"])
        by_link[r["link"]].add(r["guid"])
    # releases edited or moved, links re-used for another release, and every version of them
    keep = {g for g, links in by_guid.items() if len(links) > 1}
    keep |= {g for guids in by_link.values() if len(guids) > 1 for g in guids}
    keep |= {r["guid"] for r in rows if r["versions_of_guid"] > 1 and r["version_index"] > 0}
    chosen = [r for r in rows if r["guid"] in keep]
    chosen.sort(key=lambda r: (r["first_seen_commit_date"], r["guid"], r["version_index"]))
    return chosen


def test_real_edits_moves_and_reused_slugs(tricky, tmp_path):
    s = Store(tmp_path / "real.db")
    copy_of = [
        s.save(
            *page(
                r["link"],
                r["text"],
                r["title"],
                r["published"],
                fetched_at=r["first_seen_commit_date"],
                meta={"guid": r["guid"]},  # what the spiders pass from the feed / REST API
            )
        ).copy_id
        for r in tricky
    ]
    article = dict(s.db.conn.execute("SELECT id, article_id FROM copies"))
    # truth: one cluster per guid, releases with identical texts counted as one
    parent: dict[tuple[str, object], tuple[str, object]] = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    first_by_hash: dict[str, int] = {}
    for i, r in enumerate(tricky):
        parent[find(("v", i))] = find(("g", r["guid"]))
        h = content_hash(r["text"])
        if h in first_by_hash:
            parent[find(("v", i))] = find(("v", first_by_hash[h]))
        first_by_hash.setdefault(h, i)
    truth_of = {i: find(("v", i)) for i in range(len(tricky))}
    pred_of = {i: article[copy_of[i]] for i in range(len(tricky))}
    by_truth, by_pred = defaultdict(set), defaultdict(set)
    for i in truth_of:
        by_truth[truth_of[i]].add(pred_of[i])
        by_pred[pred_of[i]].add(truth_of[i])
    assert len(tricky) > 150
    assert [t for t, arts in by_truth.items() if len(arts) > 1] == []  # no release split
    assert [a for a, ts in by_pred.items() if len(ts) > 1] == []  # no two releases merged
    # an edited release keeps every distinct official text in versions
    edited = {r["guid"] for r in tricky if r["version_index"] > 0}
    n_versions = s.db.conn.execute("SELECT count(*) FROM versions").fetchone()[0]
    assert n_versions >= len(edited)
    # a release shows its newest version: the text, title and URL it was last seen with
    newest: dict[str, int] = {}
    for i, r in enumerate(tricky):
        newest[r["guid"]] = i
    texts = defaultdict(set)
    for r in tricky:
        texts[content_hash(r["text"])].add(r["guid"])
    stale = []
    for i in newest.values():
        r = tricky[i]
        if len(texts[content_hash(r["text"])]) > 1:
            continue  # two posts with one text are one article, shown by the first
        art = s.db.conn.execute(
            "SELECT a.text, a.title, a.canonical_url FROM copies c JOIN articles a ON a.id = c.article_id "
            "WHERE c.id = ?",
            (copy_of[i],),
        ).fetchone()
        if (content_hash(art[0]), art[1], art[2]) != (content_hash(r["text"]), r["title"], r["link"]):
            stale.append((r["title"], r["link"], art[1], art[2]))
    assert stale == []
    moved = [c for c in s.db.conn.execute("SELECT url, moved_to FROM copies WHERE moved_to IS NOT NULL")]
    assert len(moved) >= 5
    # and a republished excerpt or wrapped copy of an edited release finds its article
    attached, wrong = 0, []
    sample = list(range(0, len(tricky), 5))
    for n, i in enumerate(sample):
        r = tricky[i]
        text = truncated(r["text"], 0.6) if n % 2 else wrapped(r["text"])
        res = s.save(*page(f"https://wire.example/{n}", text, r["title"], r["published"]))
        if res.article_id == article[copy_of[i]]:
            attached += 1
        elif res.match_method != "new":
            wrong.append(r["title"])
    assert wrong == [] and attached >= 0.95 * len(sample)
    s.close()
