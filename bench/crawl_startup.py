"""Probes for bench/crawl.py: what the cleaner pool's processes cost before their first page,
and what the crawl's pages cost through clean() + save() in plain processes.

Each figure is measured in fresh processes: an interpreter importing the cleaners (a worker
started as its own interpreter, or a zygote), a worker forked by the zygote (from /proc of the
zygote that reaped it), the Rss / Pss of a pool's processes (/proc/PID/smaps_rollup), and the
stored pages cleaned and saved again with no crawl around them.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def clean_and_save(db_path: Path, out: Path, side_by_side: int = 1) -> tuple[int, float]:
    """CPU seconds of `clean()` + `Store.save()` of every raw page stored in `db_path` into a
    fresh database `out`, in one plain process (imports and warm-up not counted); returns
    (pages, CPU seconds). With `side_by_side` n > 1 the pages are dealt over n processes that
    run at the same time, each into its own database, and their CPU is summed: the same work
    with the cores shared as a crawl shares them between its workers and itself."""
    code = textwrap.dedent("""
        import json, sys, time
        from cleaners import Rejected, clean
        from store import Store
        part, parts = int(sys.argv[3]), int(sys.argv[4])
        src, dst = Store(sys.argv[1]), Store(sys.argv[2])
        pages = list(src.raw_pages())
        for raw in pages[:20]:  # warm up: trafilatura's lazy imports and caches
            try:
                clean(raw)
            except Rejected:
                pass
        mine = pages[part::parts]
        t0 = time.process_time()
        for raw in mine:
            try:
                doc = clean(raw)
            except Rejected:
                continue
            dst.save(doc, raw)
        cpu = time.process_time() - t0
        dst.close(), src.close()
        print(json.dumps({"pages": len(mine), "cpu": cpu}))
    """)
    outs = [out] if side_by_side == 1 else [out.with_name(f"{out.name}.{i}") for i in range(side_by_side)]
    for o in outs:
        for f in o.parent.glob(o.name + "*"):
            f.unlink()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(db_path), str(o), str(i), str(side_by_side)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, o in enumerate(outs)
    ]
    pages, cpu = 0, 0.0
    for proc in procs:
        stdout, stderr = proc.communicate()
        if proc.returncode != 0:
            sys.stderr.write(stderr[-4000:])
            raise SystemExit("clean() + save() alone failed")
        got = json.loads(stdout.strip().splitlines()[-1])
        pages, cpu = pages + got["pages"], cpu + got["cpu"]
    return pages, cpu


def worker_start_cpu(runs: int = 3) -> float:
    """CPU seconds one cleaner worker started as its own interpreter costs before its first
    page, which is also what a zygote costs before its first fork: an interpreter that imports
    the cleaners and cleans one small English page through the extractor (the zygote's warm-up
    page; median of `runs` processes). A worker that meets text that is not plainly English
    loads py3langid's model on top (about a second of CPU), with a zygote or without.
    """
    code = textwrap.dedent("""
        import resource
        from cleaners._zygote import warm_up
        warm_up()
        me = resource.getrusage(resource.RUSAGE_SELF)
        print(me.ru_utime + me.ru_stime)
    """)
    got = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-2000:])
            raise SystemExit("worker start-up measurement failed")
        got.append(float(proc.stdout.strip().splitlines()[-1]))
    return statistics.median(got)


POOL_PROBE = textwrap.dedent("""
    import json, os, sys, time
    from cleaners._zygote import SMALL_PAGE
    from cleaners.model import RawPage
    from cleaners.pool import CleanerPool
    method, mode = sys.argv[1], sys.argv[2]
    def page(i):
        return RawPage(f"https://www.state.gov/probe-{i}/", None, 200, {"content-type": "text/html"},
                       SMALL_PAGE, "2026-01-01T00:00:00Z")
    def cpu_ticks(pid):  # utime, stime, cutime, cstime of /proc/PID/stat, in seconds
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return [int(x) / os.sysconf("SC_CLK_TCK") for x in fields[11:15]]
    def memory(pid):  # Rss and Pss in MiB
        got = {}
        for line in open(f"/proc/{pid}/smaps_rollup"):
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss"):
                got[key] = int(rest.split()[0]) / 1024
        return got
    if mode == "forks":  # one page per worker: every page forks a new one
        n = 20
        with CleanerPool(workers=1, timeout=60, max_tasks_per_child=1, start_method=method) as pool:
            for i in range(n + 1):
                pool.submit(page(i)).result(timeout=120)
            time.sleep(1.0)  # the last retired worker is reaped
            zygote = pool.processes()[-1]
            ut, st, cut, cst = cpu_ticks(zygote)
        print(json.dumps({"zygote": ut + st, "per_fork": (cut + cst) / n}))
    else:  # the memory of two workers that cleaned 20 pages each
        with CleanerPool(workers=2, timeout=60, start_method=method) as pool:
            for f in [pool.submit(page(i)) for i in range(40)]:
                f.result(timeout=120)
            pids = pool.processes()
            workers = pids[:2]
            zygote = memory(pids[2]) if len(pids) > 2 else None
            got = {"workers": [memory(p) for p in workers], "zygote": zygote}
        print(json.dumps(got))
""")


def pool_probe(method: str, mode: str) -> dict:
    """What a pool's processes cost, measured in a fresh process from /proc: "forks" gives the
    zygote's own CPU and the CPU of one forked worker (fork + one small page + exit, the mean
    of 20 reaped by the zygote); "memory" the Rss and Pss (MiB) of two workers after 20 pages
    each, and of their zygote."""
    proc = subprocess.run(
        [sys.executable, "-c", POOL_PROBE, method, mode], cwd=ROOT, capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-2000:])
        raise SystemExit(f"pool probe {method} {mode} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fork_start_cpu(runs: int = 3) -> float:
    """CPU seconds one worker forked by the zygote costs up to its first page's answer
    (median of `runs` probes of 20 workers each)."""
    return statistics.median(pool_probe("zygote", "forks")["per_fork"] for _ in range(runs))
