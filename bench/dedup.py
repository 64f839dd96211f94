"""Benchmark of the store's deduplication: accuracy on real state.gov data, and scale.

    python bench/dedup.py                 # everything (about 5-8 minutes on 2 cores)
    python bench/dedup.py --quick         # real data + scale at 2,000 vs 20,000 articles
    python bench/dedup.py --skip-scale    # accuracy only
    python bench/dedup.py --skip-real --skip-scale   # the held-out look-alike families only

1. Real data: the 2,242 versions of 2,031 state.gov releases in
   ../shared/corpus/real-pages/state-gov/rss-item-history/ (one JSON line per version of
   a feed item), saved in the order they were first seen as copies at their `link`, with
   the item's guid as `RawPage.meta["guid"]` (what the spiders pass from the feed or the
   REST API; `--no-guid` leaves it out). Scored against the guid clustering, where
   releases with identical texts count as one: pairwise precision and recall over versions.
2. The same releases saved again as syndicated copies on other hosts: truncated,
   wrapped in cruft, or both. Recall = share attached to their release's article.

Both are reported for two parts of the releases, split by a hash of the guid: `dev`, the
part rules and thresholds may be tuned on, and `held-out`, never looked at while tuning.
All releases go into one database (look-alikes across parts still meet); a pair counts in
a part when one of its versions is in it.
3. Held-out look-alike families (`tests/fixtures/lookalikes.py`): formulaic statements of
   kinds the identity rules were not written from (holiday closures, grants, advisories,
   joint statements, readouts, vacancies ...), members differing only in names, numbers
   and dates, with their true copies, an edit and two moves per family
   (`tests/fixtures/lookalikes_scenario.py`). Families are split into dev and test by a
   hash of their name; the test part is only measured. Look-alike pairs merged (target 0),
   true copies attached to their statement, edits shown as the newest version, moves
   followed (targets: all); and the same members known only through aggregator copies
   (no official page), where text alone must keep them apart. What went wrong is logged
   for the dev part only. The third set (`tests/fixtures/lookalikes3*.py`) is all test part
   by declaration: rows "look-alikes 3", "true copies 3" and its pairwise precision / recall.
4. Scale: a synthetic corpus with planted near-duplicates and formulaic look-alikes.
   Mean time per `Store.save` at 2,000 and at 200,000 articles, timed interleaved (one
   save into each database in turn, so a busy machine slows both alike). The databases
   are built in child processes with `store.bulk.bulk_load`, a fast path that skips
   the cascade. Peak RSS of the saving process and of the builder.

Prints one table on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import lxml.html

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cleaners.model import Document, RawPage, content_hash  # noqa: E402
from store import Store  # noqa: E402
from store.bulk import bulk_load  # noqa: E402
from tests.fixtures import lookalikes3, lookalikes3_measure  # noqa: E402
from tests.fixtures.lookalikes_scenario import evaluate as evaluate_lookalikes  # noqa: E402
from tests.fixtures.lookalikes_scenario import evaluate_unofficial  # noqa: E402
from tests.fixtures.lookalikes_scenario import rows as lookalike_rows  # noqa: E402

CORPUS = ROOT / ".." / "shared" / "corpus" / "real-pages" / "state-gov" / "rss-item-history"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- real data


def html_text(fragment: str) -> str:
    """Paragraph texts of a feed item's HTML, blank-line separated (scripts dropped)."""
    if not fragment or not fragment.strip():
        return ""
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    paras = [" ".join(p.text_content().split()) for p in root.xpath("//p|//li|//h2|//h3")]
    paras = [p for p in paras if p]
    if not paras:
        paras = [" ".join(root.text_content().split())]
    return "\n\n".join(paras)


def load_versions() -> list[dict]:
    rows = []
    for f in sorted(CORPUS.glob("*.jsonl.gz")):
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    for r in rows:
        r["text"] = html_text(r.get("content_encoded") or r.get("description") or "")
        try:
            r["published"] = parsedate_to_datetime(r["pubDate"]).date()
        except (TypeError, ValueError):
            r["published"] = None
    rows.sort(key=lambda r: (r["first_seen_commit_date"], r["guid"], r["version_index"]))
    return rows


def make(url, text, title, published, fetched_at, claimed=None, spider="bench", meta=None):
    doc = Document(
        url=url,
        title=title,
        text=text,
        published=published,
        publisher=None,
        language="en",
        claimed_original=claimed,
        content_hash=content_hash(text),
    )
    raw = RawPage(
        url=url,
        final_url=url,
        status=200,
        headers={"content-type": "text/html; charset=utf-8"},
        body=("<html><body>" + text + "</body></html>").encode(),
        fetched_at=fetched_at,
        spider=spider,
        meta=meta or {},
    )
    return doc, raw


PARTS = ("dev", "held-out")


def part_of(guid: str) -> str:
    """The evaluation part of a release: a fixed hash of its guid, half and half."""
    return PARTS[hashlib.sha256(guid.encode()).digest()[0] % 2]


def pairwise(truth: dict, pred: dict, part: set | None = None) -> tuple[float, float]:
    """Pairwise precision/recall of clusterings given as element -> cluster label; with
    `part`, over the pairs with at least one element in it."""

    def pairs(labels):
        return sum(n * (n - 1) // 2 for n in Counter(labels).values())

    def count(elems):
        return (
            pairs([(truth[e], pred[e]) for e in elems]),
            pairs([pred[e] for e in elems]),
            pairs([truth[e] for e in elems]),
        )

    tp, pp, tpairs = count(list(truth))
    if part is not None:
        out = count([e for e in truth if e not in part])
        tp, pp, tpairs = tp - out[0], pp - out[1], tpairs - out[2]
    return (tp / pp if pp else 1.0), (tp / tpairs if tpairs else 1.0)


class UnionFind:
    def __init__(self):
        self.parent = {}

    def find(self, x):
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a, b):
        self.parent[self.find(a)] = self.find(b)


CRUFT_BEFORE = [
    "Posted by the newsroom desk | Share on social media | Print this page",
    "Wire copy: republished from an official source for our readers",
    "Foreign affairs desk. Filed under diplomacy and world news",
]
CRUFT_AFTER = [
    "Related stories: more world news from our partners. Subscribe to our newsletter for daily updates.",
    "Copyright notice: this item is reproduced for information. Comments are closed.",
    "Tags: diplomacy, world. Share this article with friends. Advertisement",
]


def syndicate(text: str, i: int, rng: random.Random) -> str:
    """A republished copy: truncated, wrapped in cruft, or both."""
    kind = i % 3
    paras = text.split("\n\n")
    if kind in (0, 2):
        words = text.split()
        keep = max(25, int(len(words) * rng.uniform(0.45, 0.85)))
        body = " ".join(words[:keep]) + " ... Read more"
    else:
        body = text
    if kind in (1, 2):
        body = "\n\n".join([rng.choice(CRUFT_BEFORE), body, rng.choice(CRUFT_AFTER)])
    elif len(paras) > 1:
        body = body
    return body


def bench_real(tmp: Path, guid: bool = True) -> dict:
    if not CORPUS.exists():
        log(f"real data: {CORPUS} absent, skipped")
        return {}
    rows = load_versions()
    rows = [r for r in rows if r["text"]]
    log(f"real data: {len(rows)} versions of {len({r['guid'] for r in rows})} releases")
    db = Store(tmp / "real.db")
    t0 = time.perf_counter()
    copy_of = []  # copy id of each version (copy ids are stable; articles may merge later)
    for r in rows:
        doc, raw = make(
            r["link"],
            r["text"],
            r["title"],
            r["published"],
            r["first_seen_commit_date"],
            meta={"guid": r["guid"]} if guid else None,
        )
        copy_of.append(db.save(doc, raw).copy_id)
    t_real = time.perf_counter() - t0
    copy_article = dict(db.db.execute("SELECT id, article_id FROM copies"))
    copy_method = dict(db.db.execute("SELECT id, match_method || ' ' || ifnull(match_score, '') FROM copies"))

    uf = UnionFind()
    by_hash: dict[str, int] = {}
    for i, r in enumerate(rows):
        uf.union(("v", i), ("g", r["guid"]))
        h = content_hash(r["text"])
        if h in by_hash:
            uf.union(("v", i), ("v", by_hash[h]))
        by_hash.setdefault(h, i)
    truth = {i: uf.find(("v", i)) for i in range(len(rows))}
    pred = {i: copy_article[copy_of[i]] for i in range(len(rows))}
    precision, recall = pairwise(truth, pred)
    in_part = {x: {i for i, r in enumerate(rows) if part_of(r["guid"]) == x} for x in PARTS}
    by_part = {x: pairwise(truth, pred, in_part[x]) for x in PARTS}
    # the article of a release shows its newest version (title, text) at its newest link
    newest_ok = {x: [0, 0] for x in PARTS}
    last: dict[str, tuple[int, int]] = {}
    for i, r in enumerate(rows):
        if r["version_index"] >= last.get(r["guid"], (-1, -1))[0]:
            last[r["guid"]] = (r["version_index"], i)
    for g, (_, i) in last.items():
        art = db.db.execute(
            "SELECT a.text, a.title, a.canonical_url FROM copies c JOIN articles a ON a.id = c.article_id "
            "WHERE c.id = ?",
            (copy_of[i],),
        ).fetchone()
        r = rows[i]
        ok = content_hash(art[0] or "") == content_hash(r["text"]) and art[1] == r["title"]
        ok = ok and art[2] == r["link"]
        newest_ok[part_of(g)][0] += ok
        newest_ok[part_of(g)][1] += 1
        if not ok and sum(v[1] - v[0] for v in newest_ok.values()) <= 6:
            log(f"  not showing its newest version: {r['title'][:50]} {r['link'][-45:]} -> {art[2]}")
    n_true = len(set(truth.values()))
    n_articles = db.db.execute("SELECT count(*) FROM articles").fetchone()[0]
    # what went wrong, for the log
    wrong_merge = defaultdict(set)
    for i in truth:
        wrong_merge[pred[i]].add(truth[i])
    bad = [a for a, ts in wrong_merge.items() if len(ts) > 1]
    for a in bad[:5]:
        titles = {
            (rows[i]["title"][:60], rows[i]["link"][-40:], copy_method[copy_of[i]])
            for i in truth
            if pred[i] == a
        }
        log(f"  merged distinct releases into article {a}: {sorted(titles)[:4]}")
    split = defaultdict(set)
    for i in truth:
        split[truth[i]].add(pred[i])
    for t, arts in list((t, a) for t, a in split.items() if len(a) > 1)[:5]:
        titles = {rows[i]["title"] for i in truth if truth[i] == t}
        log(f"  split one release over articles {sorted(arts)}: {sorted(titles)[:3]}")

    # syndicated copies of each release's latest version
    latest = {}
    for i, r in enumerate(rows):
        latest[r["guid"]] = i
    rng = random.Random(4)
    hosts = ["wire.example", "worldnews.example", "diplomacy-digest.example"]
    attached = total = wrong = 0
    synd_part = {x: [0, 0] for x in PARTS}
    t1 = time.perf_counter()
    methods: Counter[str] = Counter()
    missed: list[tuple[object, ...]] = []
    for n, (_guid, i) in enumerate(sorted(latest.items())):
        r = rows[i]
        text = syndicate(r["text"], n, rng)
        if len(text.split()) < 20:
            continue
        url = f"https://{hosts[n % 3]}/{n}/{r['link'].rstrip('/').rsplit('/', 1)[-1]}"
        title = r["title"] if n % 2 else f"{r['title']} | World News"
        fetched = (datetime.fromisoformat(r["first_seen_commit_date"]) + timedelta(days=1)).isoformat()
        doc, raw = make(
            url, text, title, r["published"] + timedelta(days=n % 3) if r["published"] else None, fetched
        )
        res = db.save(doc, raw)
        methods[res.match_method] += 1
        total += 1
        official = db.db.execute("SELECT article_id FROM copies WHERE id = ?", (copy_of[i],)).fetchone()[0]
        synd_part[part_of(_guid)][1] += 1
        if res.article_id == official:
            attached += 1
            synd_part[part_of(_guid)][0] += 1
        else:
            if res.match_method != "new":
                wrong += 1
            if len(missed) < 8:
                missed.append(
                    (
                        n % 3,
                        res.match_method,
                        res.match_score,
                        r["title"][:50],
                        db.db.execute(
                            "SELECT title FROM articles WHERE id = ?", (res.article_id,)
                        ).fetchone()[0][:50],
                    )
                )
    t_synd = time.perf_counter() - t1
    for m in missed:
        log(f"  syndicated copy not attached to its release: {m}")
    review = db.db.execute("SELECT count(*) FROM review").fetchone()[0]
    reasons = dict(db.db.execute("SELECT reason, count(*) FROM review_pairs GROUP BY reason ORDER BY 2 DESC"))
    db.close()
    return {
        "versions": len(rows),
        "true_clusters": n_true,
        "articles": n_articles,
        "precision": precision,
        "recall": recall,
        "by_part": by_part,
        "parts": {x: len({rows[i]["guid"] for i in in_part[x]}) for x in PARTS},
        "newest": {x: newest_ok[x][0] / max(1, newest_ok[x][1]) for x in PARTS},
        "synd_part": {x: synd_part[x][0] / max(1, synd_part[x][1]) for x in PARTS},
        "save_ms_real": 1000 * t_real / len(rows),
        "synd_total": total,
        "synd_recall": attached / total if total else 0.0,
        "synd_wrong": wrong,
        "synd_methods": dict(methods),
        "save_ms_synd": 1000 * t_synd / max(total, 1),
        "review_rows": review,
        "review_reasons": reasons,
    }


# ---------------------------------------------------------------- held-out look-alike families


def bench_lookalikes(tmp: Path) -> list[tuple[str, str, str]]:
    """Rows of the held-out look-alike families, dev and test parts (see the module docstring)."""
    db = Store(tmp / "lookalikes.db")
    t0 = time.perf_counter()
    scores = evaluate_lookalikes(db)
    log(f"look-alike families: saved in {time.perf_counter() - t0:.1f}s")
    db.close()
    db = Store(tmp / "lookalikes-aggregators.db")
    unofficial = evaluate_unofficial(db)
    db.close()
    for note in scores["dev"].notes + unofficial["dev"].notes:
        log(f"  look-alikes dev: {note}")
    db = Store(tmp / "lookalikes3.db")
    third = lookalikes3_measure.evaluate(db)
    db.close()
    db = Store(tmp / "lookalikes3-aggregators.db")
    third_unofficial = evaluate_unofficial(db, lookalikes3.FAMILIES)["test"]
    db.close()
    return lookalike_rows(scores, unofficial) + lookalikes3_measure.rows(third, third_unofficial)


# ---------------------------------------------------------------- synthetic scale

COUNTRIES = (
    "Albania Algeria Angola Argentina Armenia Australia Austria Azerbaijan Bahrain Bangladesh Belgium "
    "Benin Bolivia Botswana Brazil Bulgaria Cambodia Cameroon Canada Chile Colombia Croatia Cyprus Denmark "
    "Ecuador Egypt Estonia Ethiopia Fiji Finland Gabon Georgia Ghana Greece Guatemala Guinea Haiti Honduras "
    "Hungary Iceland India Indonesia Iraq Ireland Jamaica Japan Jordan Kenya Kosovo Latvia Lebanon Liberia "
    "Lithuania Malawi Malaysia Mali Malta Mexico Moldova Mongolia Morocco Namibia Nepal Nicaragua Niger "
    "Nigeria Norway Oman Pakistan Panama Paraguay Peru Poland Portugal Qatar Romania Rwanda Senegal Serbia "
    "Slovakia Slovenia Spain Sweden Tanzania Thailand Togo Tunisia Uganda Ukraine Uruguay Vietnam Zambia"
).split()
NAMES = (
    "Adeyemi Bauer Castillo Dimitrov Eriksen Fonseca Gashi Haddad Ibrahim Jansen Kowalski Lindqvist Moreau "
    "Nakamura Okafor Petrov Quispe Rossi Santos Tanaka Umarov Varga Wojcik Xavier Yilmaz Zoric"
).split()


class Synth:
    """Random statement-like texts: readouts and national-day messages (formulaic, look-alike
    prone) and free statements from a small vocabulary, plus syndicated variants."""

    def __init__(self, seed=7):
        self.rng = random.Random(seed)
        words = (
            "policy security cooperation partners region economic support human rights trafficking "
            "democracy governance trade investment energy climate health migration border dialogue peace "
            "commitment assistance development prosperity stability reform transparency accountability "
            "election civil society justice sanctions humanitarian crisis recovery infrastructure education "
            "women youth technology cyber maritime counterterrorism alliance shared values future"
        ).split()
        self.vocab = words + [f"{w}{s}" for w in words for s in ("s", "ing", "ed", "al")]

    def sentence(self, n):
        w = self.rng.choices(self.vocab, k=n)
        return " ".join(w).capitalize() + "."

    def statement(self, i):
        r = self.rng
        kind = i % 4
        c1, c2 = r.choice(COUNTRIES), r.choice(COUNTRIES)
        n1, n2 = r.choice(NAMES), r.choice(NAMES)
        body = " ".join(self.sentence(r.randint(10, 18)) for _ in range(r.randint(4, 8)))
        if kind == 0:
            title = f"Secretary's Call with {c1} Foreign Minister {n1}"
            text = (
                f"The following is attributable to the Spokesperson: The Secretary spoke today with "
                f"{c1} Foreign Minister {n1} about regional security and shared priorities. {body} "
                f"The Secretary and Foreign Minister {n1} agreed to stay in close contact."
            )
        elif kind == 1:
            title = f"{c1} National Day"
            text = (
                f"Speaking for the Government of the United States, I send warm wishes to the people "
                f"of {c1} as you mark your {r.randint(20, 230)}th National Day. {body} "
                f"The United States values its partnership with {c1}. Congratulations on this special day."
            )
        else:
            title = f"Statement on {r.choice(self.vocab)} {r.choice(self.vocab)} in {c1} and {c2}"
            text = body + f" We call on {c1} and {c2} to work with {n2} and partners."
        return title, text

    def variant(self, text):
        words = text.split()
        if self.rng.random() < 0.5:
            return " ".join(words[: max(20, int(len(words) * self.rng.uniform(0.5, 0.9)))]) + " Read more"
        return "Republished by a news wire. " + text + " Share this story. Comments are closed."


def _build(path: str, size: int, queue) -> None:
    """Child process: build a database of `size` synthetic statements with the fast path
    (so the bulk builder's memory does not count as the store's peak)."""
    syn = Synth(seed=size)
    t0 = time.perf_counter()

    def items():
        for i in range(size):
            title, text = syn.statement(i)
            day = date(2015, 1, 1) + timedelta(days=i % 3650)
            yield make(
                f"https://www.state.gov/synthetic/{size}/{i}/",
                text,
                title,
                day,
                f"{day.isoformat()}T12:00:00Z",
            )

    db = Store(path)
    bulk_load(db, items(), progress=lambda n: log(f"  bulk load {size:,}: {n:,}") if n % 50000 == 0 else None)
    db.close()
    queue.put(time.perf_counter() - t0)


def _work(size: int, n_saves: int) -> list:
    """Saves to time: syndicated variants (truncated or cruft-wrapped) of stored statements,
    formulaic national-day look-alikes of many stored ones, and new free statements."""
    stored = Synth(seed=size)
    sample = [stored.statement(i) for i in range(min(size, 5000))]  # same sequence as the build
    syn = Synth(seed=size + 99)
    rng = random.Random(size + 1)
    work = []
    for j in range(n_saves):
        day = date(2025, 1, 1) + timedelta(days=j % 300)
        if j % 3 == 0:
            title, text = rng.choice(sample)
            work.append(
                make(f"https://wire.example/{size}/{j}", syn.variant(text), title, None, f"{day}T00:00:00Z")
            )
        else:
            title, text = syn.statement(j * 4 + j % 3)  # 1: national day look-alike, 2: free statement
            work.append(make(f"https://www.state.gov/new/{size}/{j}/", text, title, day, f"{day}T00:00:00Z"))
    return work


def bench_scale(tmp: Path, sizes: list[int], n_saves: int = 400) -> list[dict]:
    """Build one database per size in child processes, then time saves into them
    interleaved (one save in each in turn), so a busy machine slows all sizes alike."""
    ctx = multiprocessing.get_context("fork")
    out = []
    loads = {}
    for size in sizes:
        q = ctx.Queue()
        proc = ctx.Process(target=_build, args=(str(tmp / f"scale-{size}.db"), size, q))
        proc.start()
        loads[size] = q.get()
        proc.join()
        log(f"scale {size:,}: built in {loads[size]:.1f}s")
    dbs = {size: Store(tmp / f"scale-{size}.db") for size in sizes}
    works = {size: _work(size, n_saves) for size in sizes}
    spent = {size: 0.0 for size in sizes}
    methods: dict[int, Counter[str]] = {size: Counter() for size in sizes}
    for j in range(n_saves):
        for size in sizes if j % 2 == 0 else list(reversed(sizes)):
            doc, raw = works[size][j]
            t = time.perf_counter()
            res = dbs[size].save(doc, raw)
            spent[size] += time.perf_counter() - t
            methods[size][res.match_method] += 1
    for size in sizes:
        db = dbs[size]
        articles = db.db.execute("SELECT count(*) FROM articles").fetchone()[0]
        db.close()
        path = tmp / f"scale-{size}.db"
        log(f"scale {size:,}: {1000 * spent[size] / n_saves:.2f} ms/save, {dict(methods[size])}")
        out.append(
            {
                "articles": articles,
                "ms_per_save": 1000 * spent[size] / n_saves,
                "load_s": loads[size],
                "db_mb": path.stat().st_size / 1e6,
                "methods": dict(methods[size]),
            }
        )
        path.unlink()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="scale at 2,000 vs 20,000 articles")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--skip-lookalikes", action="store_true")
    ap.add_argument("--large", type=int, default=200_000)
    ap.add_argument("--no-guid", action="store_true", help="save the real releases without their guid")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as d:
        tmp = Path(d)
        if not args.skip_real:
            r = bench_real(tmp, guid=not args.no_guid)
            if r:
                rows += [
                    (
                        "real: versions / true clusters / articles",
                        f"{r['versions']} / {r['true_clusters']} / {r['articles']}",
                        "",
                    ),
                    ("real: releases in dev / held-out", " / ".join(str(r["parts"][x]) for x in PARTS), ""),
                    ("real: pairwise precision", f"{r['precision']:.4f}", ">= 0.995"),
                    ("real: pairwise recall", f"{r['recall']:.4f}", ">= 0.99"),
                ]
                for x in PARTS:
                    p_, r_ = r["by_part"][x]
                    rows += [
                        (f"real {x}: pairwise precision / recall", f"{p_:.4f} / {r_:.4f}", ""),
                        (f"real {x}: shows its newest version", f"{r['newest'][x]:.4f}", "1.0"),
                        (f"syndicated {x}: recall", f"{r['synd_part'][x]:.4f}", ">= 0.98"),
                    ]
                rows += [
                    ("real: ms per save", f"{r['save_ms_real']:.2f}", ""),
                    ("syndicated: copies", str(r["synd_total"]), ""),
                    ("syndicated: recall (attached to official)", f"{r['synd_recall']:.4f}", ">= 0.98"),
                    ("syndicated: attached to a wrong article", str(r["synd_wrong"]), "0"),
                    ("syndicated: match methods", json.dumps(r["synd_methods"]), ""),
                    ("syndicated: ms per save", f"{r['save_ms_synd']:.2f}", ""),
                    ("review rows", str(r["review_rows"]), ""),
                    ("review rows by reason", json.dumps(r["review_reasons"]), ""),
                ]
        if not args.skip_lookalikes:
            rows += bench_lookalikes(tmp)
        if not args.skip_scale:
            large = 20_000 if args.quick else args.large
            small, big = bench_scale(tmp, [2_000, large])
            ratio = big["ms_per_save"] / small["ms_per_save"]
            rows += [
                (f"scale: ms per save at {small['articles']:,} articles", f"{small['ms_per_save']:.2f}", ""),
                (f"scale: ms per save at {big['articles']:,} articles", f"{big['ms_per_save']:.2f}", ""),
                ("scale: ratio large/small", f"{ratio:.2f}", "<= 1.5"),
                (
                    f"scale: bulk load of {big['articles']:,} articles (s) / db size (MB)",
                    f"{big['load_s']:.0f} / {big['db_mb']:.0f}",
                    "",
                ),
            ]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(("peak RSS of the saving process (MB)", f"{peak:.0f}", ""))
    if not args.skip_scale:
        child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rows.append(("peak RSS of the bulk builder (MB)", f"{child:.0f}", ""))
    w = max(len(r[0]) for r in rows)
    print(f"{'measure':<{w}}  {'value':>24}  target")
    for name, value, target in rows:
        print(f"{name:<{w}}  {value:>24}  {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
