"""Benchmark of `scrapy ingest` on a WARC of fixture-web pages, against `clean()` alone.

    python bench/ingest.py [--pages 5000] [--workers 2] [--keep DIR]

The pages are the article pages of the fixture web (tests/fixtures/web/generate.py) at the
scale that gives at least PAGES copies: state.gov, archive, embassy and aggregator copies of the
same statements, so the store does real identity work (URL, attribution, exact and near
matches). They are written as a WARC/1.1 with `crawlers.warc.write_warc`, then measured in this
run, each on the same pages:

1. `cleaners.clean()` alone, one process: the baseline;
2. ingest with cleaning in this process (`--workers 0`): read WARC + clean + save;
3. ingest with a CleanerPool of WORKERS processes (the default of the command);
4. export-warc of the resulting database, and reprocess of it with WORKERS processes.

Prints one table: wall seconds and documents per second, CPU seconds (this process and its
cleaner workers) and CPU milliseconds per document, each with its ratio to the baseline. On a
shared machine the CPU columns are the ones to compare.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from scrapy.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cleaners import Rejected, clean  # noqa: E402
from cleaners.model import RawPage  # noqa: E402
from crawlers.commands._common import open_pool  # noqa: E402
from crawlers.commands.ingest import Ingester  # noqa: E402
from crawlers.commands.reprocess import Reprocessor  # noqa: E402
from crawlers.diskinput import DiskReader  # noqa: E402
from crawlers.junction import clean_config  # noqa: E402
from crawlers.warc import write_warc  # noqa: E402
from store import Store  # noqa: E402

# The shipped settings (crawlers/settings.py, the environment): the pool is the commands' pool.
SETTINGS = Settings()
SETTINGS.setmodule("crawlers.settings", priority="project")


def new_pool(workers: int):
    """The cleaner pool `scrapy ingest --workers N --timeout 60` opens (None for 0)."""
    max_tasks = SETTINGS.getint("DISPATCHES_CLEAN_MAX_TASKS")
    return open_pool(workers, 60.0, max_tasks, clean_config(SETTINGS))


def fixture_pages(n: int) -> list[RawPage]:
    """At least `n` article pages of the fixture web, in a stable order, cut to `n`."""
    from tests.fixtures.web.generate import build_site

    scale = max(1, n // 80)
    while True:
        site = build_site(scale=scale, phase=1, crawl_delay=0)
        urls = [c["url"] for s in site.manifest["statements"] for c in s["copies"]]
        if len(urls) >= n or scale > 500:
            break
        scale = int(scale * n / max(1, len(urls))) + 1
    pages = []
    for url in urls[:n]:
        host, path = url.split("://", 1)[1].split("/", 1)
        res = site.get((host, "/" + path))
        if res is None or res.status != 200:
            continue
        headers = {k.lower(): v for k, v in res.headers.items()}
        pages.append(
            RawPage(
                url=url,
                final_url=url,
                status=200,
                headers=headers,
                body=res.body,
                fetched_at="2026-01-01T00:00:00Z",
                spider="bench",
                discovered_via="sitemap",
            )
        )
    return pages


CPU = {"last": 0.0}


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (cleaner workers)."""
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn):
    """(result, wall seconds); the CPU seconds spent go to CPU["last"] (robust on a busy machine)."""
    c0, t0 = _cpu(), time.perf_counter()
    out = fn()
    CPU["last"] = _cpu() - c0
    return out, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", metavar="DIR", help="keep the WARC and databases here")
    args = ap.parse_args()

    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    pages, t_gen = timed(lambda: fixture_pages(args.pages))
    warc = work / "pages.warc.gz"
    with open(warc, "wb") as fh:
        _, t_write = timed(lambda: write_warc(fh, pages, filename=warc.name))
    print(
        f"{len(pages)} pages generated in {t_gen:.1f} s; "
        f"WARC {warc.stat().st_size / 1e6:.1f} MB written in {t_write:.1f} s",
        file=sys.stderr,
    )

    rows = []
    header = (
        f"{'step':<44} {'docs':>6} {'wall s':>7} {'docs/s':>7} {'x clean':>7} "
        f"{'CPU s':>7} {'CPU ms/doc':>10} {'x clean':>7}  notes"
    )
    base: dict[str, float] = {}

    def line(name, n, t, cpu, note):
        rate = n / t if t else float("inf")
        per = 1000 * cpu / n if n else 0.0
        return (
            f"{name:<44} {n:>6} {t:>7.1f} {rate:>7.1f} {rate / base['rate']:>7.2f} "
            f"{cpu:>7.1f} {per:>10.1f} {base['per'] / per if per else 0:>7.2f}  {note}"
        )

    def row(name, n, t, note):
        """Record and print a row at once (a long run under load still leaves its numbers)."""
        cpu = CPU["last"]
        if not base:
            base.update(rate=n / t, per=1000 * cpu / n)
        rows.append((name, n, t, cpu, note))
        print(line(name, n, t, cpu, note), file=sys.stderr, flush=True)

    def baseline():
        ok = 0
        for raw in pages:
            try:
                clean(raw)
                ok += 1
            except Rejected:
                pass
        return ok

    for raw in pages[:20]:  # warm up: trafilatura's lazy imports and caches are not per page
        try:
            clean(raw)
        except Rejected:
            pass
    print(header, file=sys.stderr, flush=True)
    ok, t_clean = timed(baseline)
    row("clean() alone, 1 process", len(pages), t_clean, f"{ok} documents")

    def ingest(workers: int, db_path: Path):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        db = Store(str(db_path))
        pool = new_pool(workers)
        try:
            return Ingester(db, pool, window=max(16, 8 * workers)).run(
                DiskReader(), [str(warc)], {"bench": True}
            )
        finally:
            if pool is not None:
                pool.close()
            db.close()

    for workers in (args.workers, 0):
        db_path = work / f"ingest-w{workers}.db"
        summary, t = timed(lambda w=workers, p=db_path: ingest(w, p))
        row(
            f"ingest WARC, {'in-process cleaning' if workers == 0 else f'{workers} cleaner processes'}",
            summary.pages,
            t,
            f"{summary.articles_new} articles, {summary.copies_merged} joined, "
            f"{sum(summary.rejected.values())} rejected, {summary.failures} failed",
        )
    last_db = work / f"ingest-w{args.workers}.db"

    db = Store(str(last_db))
    try:
        out = work / "export.warc.gz"
        with open(out, "wb") as fh:
            n, t = timed(lambda: write_warc(fh, db.raw_pages(), filename=out.name))
        row("export-warc of that database", n, t, f"{out.stat().st_size / 1e6:.1f} MB")

        def reprocess():
            pool = new_pool(args.workers)
            try:
                return Reprocessor(db, pool).run(None, None, {"bench": True})
            finally:  # closed inside the timing, so the workers' CPU is counted
                if pool is not None:
                    pool.close()

        report, t = timed(reprocess)
        row(
            f"reprocess, {args.workers} cleaner processes",
            report.pages,
            t,
            f"{report.articles_unchanged} unchanged, {report.merged + report.split} moved",
        )
    finally:
        db.close()

    cores = os.cpu_count()
    print(
        f"\nIngest benchmark: {len(pages)} fixture-web pages, {cores} CPUs (shared), "
        "baseline = clean() alone\n"
    )
    print(header)
    for r in rows:
        print(line(*r))
    print(
        "\n'x clean' > 1 is faster than clean() alone; CPU columns count this process and its cleaner"
        " workers, so they hold on a busy machine where wall time does not."
    )
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
