"""Crawl benchmark: the three spiders over the fixture web scaled to ~5,000 pages.

Measures, in one run (ratios against baselines of the same run, so the machine's speed cancels):

1. end-to-end pages/s (fetch + clean in the process pool + store) against the same crawl with
   processing switched off (`ITEM_PIPELINES={}`): target ratio >= 0.5. The two alternate,
   `--rounds` times (baseline, end to end, baseline, end to end, ...; each end-to-end crawl
   into a fresh database), so a machine that slows down or speeds up during the run (shared
   cores) weighs on both. Every round's ratio is appended to `--history` (a JSON-lines file,
   one line per round), and the ratio reported is the median over ALL rounds recorded there,
   this run's and earlier runs' alike, so no single run can be picked;
2. a re-crawl of the unchanged site: full-body fetches (200 answers) <= 2 % of the first
   crawl's, wall time <= 10 %;
3. after the fixture's phase-2 edits (edited statements, a moved page, new statements):
   every change picked up, nothing else fetched in full;
4. the junction's overhead: the CPU a crawl spends on processing (end-to-end CPU minus the
   baseline crawl's, per article page) against `cleaners.clean()` + `Store.save()` of the same
   stored pages in one plain process: target <= 20 % more. Each round measures its own
   "alone" and worker start-up right after its crawl (the CPU a page costs on shared cores
   follows the machine's load), and the overhead reported is the median of the rounds'.

Each "crawl" runs state_gov (+ the 2021-2025 archive), usembassy (mx, ca) and syndication
(the two fixture aggregators) one after the other in ONE Python process (as a Scrapyd or
script deployment would), so process start-up is counted once per crawl.

    python bench/crawl.py [--pages 5000] [--rounds 3] [--keep DIR] [--history FILE]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from crawl_startup import clean_and_save, fork_start_cpu, pool_probe, worker_start_cpu

from cleaners.model import utc_timestamp

ROOT = Path(__file__).resolve().parents[1]

SETTINGS = {
    "DOWNLOAD_DELAY": 0,  # per-host concurrency holds at 0 (crawlers/downloader.py)
    "AUTOTHROTTLE_ENABLED": False,
    "DISPATCHES_MAX_CRAWL_DELAY": 0,
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "LOG_LEVEL": "WARNING",
    "CLOSESPIDER_TIMEOUT": 0,
}
CRAWLS = [
    ("state_gov", {"archives": "2021-2025.state.gov"}),
    ("usembassy", {"hosts": "mx.usembassy.gov,ca.usembassy.gov"}),
    ("syndication", {"sources": "demo"}),
]

RUNNER = textwrap.dedent("""
    import json, sys
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings
    from twisted.internet import defer
    cfg = json.loads(sys.argv[1])
    if cfg.get("start_method"):  # how the cleaner pools start their workers (default: by platform)
        import cleaners.pool
        cleaners.pool.default_start_method = lambda: cfg["start_method"]
    settings = get_project_settings()
    for k, v in cfg["settings"].items():
        settings.set(k, v, priority="cmdline")
    process = CrawlerProcess(settings)
    @defer.inlineCallbacks
    def run():
        for name, kwargs in cfg["crawls"]:
            yield process.crawl(name, **kwargs)
    run()
    process.start()
    import resource
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = {"crawl": me.ru_utime + me.ru_stime, "children": kids.ru_utime + kids.ru_stime}
    print("BENCH-CPU " + json.dumps(cpu), file=sys.stderr)
""")


def pick_scale(pages: int) -> tuple[int, int]:
    from tests.fixtures.web import generate

    def html(scale):
        site = generate.build_site(scale=scale, phase=1, crawl_delay=0)
        return sum(
            1
            for r in site.values()
            if r.headers.get("Content-Type", "").startswith("text/html") and r.status == 200
        )

    one, two = html(1), html(2)
    per = max(1, two - one)
    scale = max(1, round((pages - one) / per) + 1)
    return scale, html(scale)


def crawl(web, settings: dict, label: str, start_method: str | None = None) -> tuple[float, dict]:
    """Wall seconds of one crawl process, and its CPU seconds: the crawl process itself and
    its children (the cleaner workers, and their zygote)."""
    cfg = {"settings": {**SETTINGS, **settings}, "crawls": CRAWLS, "start_method": start_method}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps(cfg)],
        cwd=ROOT,
        env=web.env(),
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"{label}: crawl failed with status {proc.returncode}")
    cpu = [json.loads(line[10:]) for line in proc.stderr.splitlines() if line.startswith("BENCH-CPU ")]
    return took, (cpu[-1] if cpu else {"crawl": 0.0, "children": 0.0})


def workers_started(db_path: Path) -> tuple[int, int]:
    """Cleaner workers and zygotes the crawls into `db_path` started (their `crawls.stats`)."""
    con = sqlite3.connect(db_path)
    try:
        rows = con.execute("select stats from crawls").fetchall()
    finally:
        con.close()
    cleaner = [json.loads(s or "{}").get("cleaner") or {} for (s,) in rows]
    return (
        sum(int(c.get("workers_started", 0)) for c in cleaner),
        sum(int(c.get("zygotes_started", 0)) for c in cleaner),
    )


@dataclass
class Round:
    """One baseline / end-to-end pair, and clean() + save() alone of the pages it stored."""

    t_base: float
    t_first: float
    cpu_base: dict
    cpu_first: dict
    base: dict
    first: dict
    n_alone: int
    cpu_alone: float
    starts: int
    start_cpu: float
    zygotes: int = 0  # 0: every worker was its own interpreter
    fork_cpu: float = 0.0
    cpu_side: float = 0.0  # clean() + save() alone, the pages split over two processes run together

    @property
    def n_base(self) -> int:
        return max(1, len(self.base["full_articles"]))

    @property
    def n_first(self) -> int:
        return max(1, len(self.first["full_articles"]))

    @property
    def pps_base(self) -> float:
        return len(self.base["full_articles"]) / self.t_base

    @property
    def pps_first(self) -> float:
        return len(self.first["full_articles"]) / self.t_first

    @property
    def ratio(self) -> float:
        return self.pps_first / self.pps_base

    @property
    def in_crawl(self) -> float:
        """Processing CPU seconds per article page in the crawl: all the end-to-end crawl's CPU
        (its process and the cleaner workers) minus the baseline crawl's."""
        per_base = (self.cpu_base["crawl"] + self.cpu_base["children"]) / self.n_base
        return (self.cpu_first["crawl"] + self.cpu_first["children"]) / self.n_first - per_base

    @property
    def alone(self) -> float:
        return self.cpu_alone / max(1, self.n_alone)

    @property
    def startup(self) -> float:
        """The part of `in_crawl` that is fixed per crawl: workers importing before their first
        page, or with a zygote: the zygote importing (an interpreter start, as a worker's) and
        the forks."""
        if self.zygotes:
            return (self.zygotes * self.start_cpu + self.starts * self.fork_cpu) / self.n_first
        return self.starts * self.start_cpu / self.n_first

    def startup_note(self) -> str:
        if self.zygotes:
            return (
                f"{self.zygotes} zygotes x {self.start_cpu:.2f} s + {self.starts} forked workers x "
                f"{1000 * self.fork_cpu:.0f} ms CPU"
            )
        return f"{self.starts} worker starts x {self.start_cpu:.2f} s CPU each"

    @property
    def overhead(self) -> float:
        return self.in_crawl / self.alone - 1 if self.alone else float("nan")

    @property
    def overhead_side(self) -> float:
        """`overhead_per_page` against clean() + save() run two processes at a time, as the crawl
        runs its two workers beside its own process: the cost of sharing the cores, apart."""
        return (self.in_crawl - self.startup) / (self.cpu_side / self.n_alone) - 1 if self.cpu_side else 0.0

    @property
    def overhead_per_page(self) -> float:
        return (self.in_crawl - self.startup) / self.alone - 1 if self.alone else float("nan")


def record_rounds(history: Path, rounds: list[Round], label: str) -> list[float]:
    """Append this run's rounds to `history`; every ratio recorded there, oldest first."""
    history.parent.mkdir(parents=True, exist_ok=True)
    with history.open("a") as fh:
        for r in rounds:
            entry = {
                "ratio": r.ratio,
                "overhead": r.overhead,
                "overhead_per_page": r.overhead_per_page,
                "run": label,
                "at": utc_timestamp(),
            }
            fh.write(json.dumps(entry) + "\n")
    return [json.loads(line)["ratio"] for line in history.read_text().splitlines() if line.strip()]


def _copy_database(src: Path, dst: Path) -> None:
    """A consistent copy of a closed SQLite file (its WAL included) through the backup API."""
    a, b = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()


def counts(requests: list[dict]) -> dict:
    full = [r for r in requests if r["status"] == 200]
    return {
        "requests": len(requests),
        "full": len(full),
        "not_modified": sum(r["status"] == 304 for r in requests),
        "full_articles": [r for r in full if _is_article(r)],
    }


def _is_article(r) -> bool:
    p = r["path"]
    return not (
        p.startswith(("/robots.txt", "/wp-json", "/press-releases", "/category/", "/rss-feed"))
        or "sitemap" in p
        or p.endswith("/feed/")
        or p == "/"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--pages", type=int, default=5000, help="approximate number of HTML pages in the fixture web"
    )
    ap.add_argument("--rounds", type=int, default=3, help="baseline / end-to-end pairs (default 3)")
    ap.add_argument("--keep", help="directory for the databases (default: a temporary one)")
    ap.add_argument(
        "--history",
        default=str(ROOT / "data" / "bench-crawl-rounds.jsonl"),
        help="JSON-lines file every round's ratio is appended to; the ratio reported is the median "
        "of all of them (default data/bench-crawl-rounds.jsonl)",
    )
    ap.add_argument(
        "--start-method",
        choices=["zygote", "spawn"],
        help="how the crawls' cleaner pools start their workers (default: the platform's default)",
    )
    args = ap.parse_args()
    from tests.fixtures.web.fixtureweb import FixtureWeb

    scale, html_pages = pick_scale(args.pages)
    print(f"fixture web: scale {scale}, {html_pages} HTML pages", file=sys.stderr)
    out = Path(args.keep or tempfile.mkdtemp(prefix="bench-crawl-"))
    out.mkdir(parents=True, exist_ok=True)
    db = out / "bench.db"
    for f in out.glob("bench.db*"):
        f.unlink()
    rounds = []
    with FixtureWeb(scale=scale, phase=1, crawl_delay=0, startup_timeout=300) as web:
        for r in range(max(1, args.rounds)):
            # 1. baseline: the same crawl, processing off
            web.clear_requests()
            t_base, cpu_base = crawl(web, {"ITEM_PIPELINES": {}}, "baseline")
            base = counts(web.requests())
            # 2. end to end, into a fresh database (the last one stays for the re-crawls)
            for f in out.glob("bench.db*"):
                f.unlink()
            web.clear_requests()
            t_first, cpu_first = crawl(web, {"DISPATCHES_DB": str(db)}, "first", args.start_method)
            first = counts(web.requests())
            for f in out.glob("first.db*"):
                f.unlink()
            _copy_database(db, out / "first.db")
            # 3. the same pages through clean() + save() alone, and what one worker start
            # costs, right after the crawl: on shared cores the CPU a page costs follows the
            # machine's load, so each round's figures are taken under the same load
            n_alone, cpu_alone = clean_and_save(out / "first.db", out / "alone.db")
            _, cpu_side = clean_and_save(out / "first.db", out / "alone.db", side_by_side=2)
            starts, zygotes = workers_started(out / "first.db")
            got = Round(t_base, t_first, cpu_base, cpu_first, base, first, n_alone, cpu_alone, starts, 0.0)
            got.cpu_side = cpu_side
            got.start_cpu = worker_start_cpu()
            if zygotes:
                got.zygotes, got.fork_cpu = zygotes, fork_start_cpu()
            rounds.append(got)
            print(
                f"round {r + 1}: baseline {rounds[-1].pps_base:.1f} pages/s, end to end "
                f"{rounds[-1].pps_first:.1f} pages/s, ratio {rounds[-1].ratio:.2f}; processing in the "
                f"crawl {1000 * rounds[-1].in_crawl:.1f} ms, alone {1000 * rounds[-1].alone:.1f} ms, "
                f"overhead {100 * rounds[-1].overhead:+.0f} % ({100 * rounds[-1].overhead_per_page:+.0f} % "
                f"without the workers' start-up: {1000 * rounds[-1].startup:.1f} ms, "
                f"{rounds[-1].startup_note()})",
                file=sys.stderr,
            )
        # 4. unchanged re-crawl
        web.clear_requests()
        t_re, _ = crawl(web, {"DISPATCHES_DB": str(db)}, "re-crawl")
        re_ = counts(web.requests())
        # 5. phase 2 (edits, a move, new statements)
        web.set_phase(2)
        man = web.manifest()
        web.clear_requests()
        t_edit, _ = crawl(web, {"DISPATCHES_DB": str(db)}, "edit re-crawl")
        ed = counts(web.requests())

    # what the workers hold in memory, started either way (two workers after 20 small pages each)
    memory = {method: pool_probe(method, "memory") for method in ("spawn", "zygote")}

    con = sqlite3.connect(db)
    copies = con.execute("select count(*) from copies").fetchone()[0]
    articles = con.execute("select count(*) from articles").fetchone()[0]
    edited_ok = []
    for sid in man["edited"]:
        s = next(s for s in man["statements"] if s["id"] == sid)
        last_par = man["edited_texts"][sid]["2"].split("\n\n")[-1]
        (text,) = con.execute(
            "select a.text from articles a join copies c on c.article_id = a.id where c.url = ?",
            (s["official_url"],),
        ).fetchone() or ("",)
        edited_ok.append(" ".join(last_par.split()[:8]) in " ".join(text.split()))
    moved_ok = [
        con.execute("select count(*) from copies where url = ?", (m["new_url"],)).fetchone()[0] == 1
        for m in man["moved"]
    ]
    added = [s for s in man["statements"] if s["id"] in man["phase2_additions"]]
    added_urls = {c["url"] for s in added for c in s["copies"]}
    added_ok = [
        con.execute("select count(*) from copies where url = ?", (u,)).fetchone()[0] == 1 for u in added_urls
    ]
    con.close()
    changed_pages = (
        len({c["url"] for s in man["statements"] if s["id"] in man["edited"] for c in s["copies"]})
        + len(man["moved"])
        + len(added_urls)
    )

    this_run = [x.ratio for x in rounds]
    workers = f"workers: {args.start_method or 'by platform'}"
    every = record_rounds(Path(args.history), rounds, f"{html_pages} pages, {len(rounds)} rounds, {workers}")
    ratio = statistics.median(every)
    # the median round of this run (by ratio) gives every per-crawl figure of the table
    mid = sorted(rounds, key=lambda x: x.ratio)[len(rounds) // 2]
    pps_base, pps_first, t_base, t_first = mid.pps_base, mid.pps_first, mid.t_base, mid.t_first
    cpu_base, cpu_first, base, first = mid.cpu_base, mid.cpu_first, mid.base, mid.first
    n_base, n_first = mid.n_base, mid.n_first
    ratios = ", ".join(f"{r:.2f}" for r in sorted(this_run))
    # the junction's overhead: the median over this run's rounds, each round against its own
    # clean() + save() alone
    in_crawl = statistics.median(x.in_crawl for x in rounds)
    alone = statistics.median(x.alone for x in rounds)
    overhead = statistics.median(x.overhead for x in rounds)
    startup = statistics.median(x.startup for x in rounds)
    per_page_overhead = statistics.median(x.overhead_per_page for x in rounds)
    n_alone, cpu_alone = mid.n_alone, mid.cpu_alone
    overheads = ", ".join(f"{100 * x.overhead:+.0f} %" for x in rounds)
    per_page_overheads = ", ".join(f"{100 * x.overhead_per_page:+.0f} %" for x in rounds)
    side = statistics.median(x.overhead_side for x in rounds)
    sides = ", ".join(f"{100 * x.overhead_side:+.0f} %" for x in rounds)
    alone_side = statistics.median(x.cpu_side / x.n_alone for x in rounds)
    rows = [
        ("pages (HTML, fixture)", f"{html_pages}", ""),
        ("articles / copies stored", f"{articles} / {copies}", ""),
        (
            "baseline: pages/s, processing off",
            f"{pps_base:.1f}",
            f"{len(base['full_articles'])} pages in {t_base:.1f} s",
        ),
        (
            "end to end: pages/s",
            f"{pps_first:.1f}",
            f"{len(first['full_articles'])} pages in {t_first:.1f} s",
        ),
        (
            "CPU per page: baseline",
            f"{1000 * cpu_base['crawl'] / n_base:.1f} ms",
            f"{cpu_base['crawl']:.1f} s CPU in {t_base:.1f} s",
        ),
        (
            "CPU per page: end to end",
            f"{1000 * (cpu_first['crawl'] + cpu_first['children']) / n_first:.1f} ms",
            f"crawl process {1000 * cpu_first['crawl'] / n_first:.1f} ms + cleaner workers "
            f"{1000 * cpu_first['children'] / n_first:.1f} ms; "
            f"{cpu_first['crawl'] + cpu_first['children']:.1f} s CPU in {t_first:.1f} s",
        ),
        (
            "CPU per page: processing in the crawl",
            f"{1000 * in_crawl:.1f} ms",
            "end to end minus baseline, per article page (median of the rounds)",
        ),
        (
            "CPU per page: clean() + save() alone",
            f"{1000 * alone:.1f} ms",
            f"median of the rounds, each right after its crawl; {n_alone} stored pages, one process, "
            f"{cpu_alone:.1f} s CPU in the median round",
        ),
        (
            "junction overhead (<= 20 %)",
            f"{100 * overhead:+.0f} %",
            f"processing in the crawl / clean() + save() alone - 1, median of the rounds ({overheads}); "
            + ("PASS" if overhead <= 0.20 else "FAIL"),
        ),
        (
            "  of which cleaner worker start-up",
            f"{1000 * startup:.1f} ms",
            f"{mid.startup_note()} in the median round (imports before the first page), fixed per crawl",
        ),
        (
            "junction overhead per page, start-up excluded",
            f"{100 * per_page_overhead:+.0f} %",
            "(processing in the crawl - worker start-up) / clean() + save() alone - 1, median of the "
            f"rounds ({per_page_overheads}); " + ("PASS" if per_page_overhead <= 0.20 else "FAIL"),
        ),
        (
            "CPU per page: clean() + save() alone, two at a time",
            f"{1000 * alone_side:.1f} ms",
            "the same pages split over two plain processes running together (the crawl's two "
            "workers share the cores with its own process): what sharing the cores costs, apart",
        ),
        (
            "  overhead per page against it, start-up excluded",
            f"{100 * side:+.0f} %",
            f"(processing in the crawl - worker start-up) / the row above - 1, median ({sides}); "
            "not the target's measure",
        ),
        *(
            (
                f"worker memory, {method}: Rss / Pss",
                " + ".join(f"{m['Rss']:.0f}/{m['Pss']:.0f}" for m in got["workers"]) + " MiB",
                "two workers after 20 small pages each"
                + (
                    f"; their zygote {got['zygote']['Rss']:.0f}/{got['zygote']['Pss']:.0f} MiB; Pss of the "
                    f"three {sum(m['Pss'] for m in got['workers']) + got['zygote']['Pss']:.0f} MiB"
                    if got["zygote"]
                    else ""
                ),
            )
            for method, got in memory.items()
        ),
        (
            "ratio end-to-end / baseline (>= 0.5)",
            f"{ratio:.2f}",
            f"median of all {len(every)} rounds in {args.history} (this run: {ratios}); "
            + ("PASS" if ratio >= 0.5 else "FAIL"),
        ),
        (
            "re-crawl: full-body fetches / first (<= 2%)",
            f"{100 * re_['full'] / first['full']:.2f} %",
            f"{re_['full']} of {first['full']} ({len(re_['full_articles'])} article pages, "
            f"{re_['not_modified']} x 304)" + ("  PASS" if re_["full"] <= 0.02 * first["full"] else "  FAIL"),
        ),
        (
            "re-crawl: wall time / first (<= 10%)",
            f"{100 * t_re / t_first:.1f} %",
            f"{t_re:.1f} s vs {t_first:.1f} s" + ("  PASS" if t_re <= 0.10 * t_first else "  FAIL"),
        ),
        (
            "edit re-crawl: changes picked up",
            f"{sum(edited_ok)}/{len(edited_ok)} edits, {sum(moved_ok)}/{len(moved_ok)} moves, "
            f"{sum(added_ok)}/{len(added_ok)} new copies",
            "PASS" if all(edited_ok + moved_ok + added_ok) else "FAIL",
        ),
        (
            "edit re-crawl: article pages fetched in full",
            f"{len(ed['full_articles'])}",
            f"changed pages {changed_pages} ({100 * changed_pages / html_pages:.2f} % of the web); "
            + ("PASS" if len(ed["full_articles"]) <= changed_pages else "FAIL")
            + f"; {t_edit:.1f} s",
        ),
    ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print(f"{'measure':<{w0}}  {'value':<{w1}}  note")
    print(f"{'-' * w0}  {'-' * w1}  ----")
    for a, b, c in rows:
        print(f"{a:<{w0}}  {b:<{w1}}  {c}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
