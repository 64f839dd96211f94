"""Peak memory of a crawl over every decompression bomb, against a crawl of ordinary pages.

    python bench/faults.py [--mb 1024] [--pages 20]

Starts the fault server (tests/faults/faultserver.py), then runs two crawls with the project's
settings (DOWNLOAD_MAXSIZE 10 MiB as shipped) and item pipeline, each as its own `scrapy crawl` process:

* baseline: N ordinary article pages;
* bombs: gzip, deflate (zlib and raw), br, zstd and a stacked gzip/deflate/gzip bomb over HTTP,
  each inflating to ``--mb`` MiB of zeros, plus a gzip bomb served as a ``.xml.gz`` sitemap
  through the syndication spider.

Peak RSS comes from ``resource.getrusage(RUSAGE_CHILDREN)`` in a wrapper process around each crawl
(so it covers the crawl and its cleaner workers, not the fault server). Prints one table; the limit
to meet is < 1 GiB.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The fault suite's helpers are part of the checkout, not of the installed project.
sys.path.insert(0, str(ROOT))

from tests.faults.faultkit import FaultServer, crawl_command, crawl_env  # noqa: E402

CODECS = ["gzip", "deflate", "deflate-raw", "br", "zstd", "stacked"]


# ru_maxrss of RUSAGE_CHILDREN is the largest child seen so far, so each crawl runs under its own
# small wrapper process that reports the peak of its own children (the crawl and its workers).
WRAPPER = (
    "import resource, subprocess, sys\n"
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)\n"
    "sys.stderr.write(p.stderr[-1500:] if p.returncode else '')\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)\n"
)


def run(cmd, env=None) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) of the crawl process tree, exit status."""
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, *cmd], cwd=ROOT, env=crawl_env(env), capture_output=True, text=True
    )
    wall = time.monotonic() - t0
    if proc.stderr:
        sys.stderr.write(proc.stderr)
    peak_kib, rc = proc.stdout.split()
    return wall, int(peak_kib) / 1024, int(rc)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=1024, help="decompressed size of each bomb, MiB")
    ap.add_argument("--pages", type=int, default=20, help="ordinary pages in the baseline crawl")
    args = ap.parse_args()

    server = FaultServer()
    rows = []
    try:
        sys.stderr.write(f"fault server on port {server.port}; preparing {args.mb} MiB bombs...\n")
        common = {
            "DISPATCHES_ALLOW_HOSTS": f"*.fault.test:{server.port}",
            "DOWNLOAD_MAXSIZE": str(10 << 20),
            "DOWNLOAD_WARNSIZE": str(2 << 20),
            "DOWNLOAD_TIMEOUT": "120",
            "LOG_LEVEL": "WARNING",
        }
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            base_urls = [server.url(f"base{i}", f"/page/baseline-{i}") for i in range(args.pages)]
            wall, peak, rc = run(crawl_command(base_urls, tmp / "base.jsonl", settings=common))
            rows.append(("baseline: ordinary pages", args.pages, 0, peak, wall, rc))
            base_peak = peak

            bomb_urls = [server.url(f"bomb-{c}", f"/bomb/{c}?mb={args.mb}") for c in CODECS]
            wall, peak, rc = run(crawl_command(bomb_urls, tmp / "bombs.jsonl", settings=common))
            rows.append(
                (
                    "HTTP bombs (gzip, deflate, raw deflate, br, zstd, stacked)",
                    len(CODECS),
                    args.mb * len(CODECS),
                    peak,
                    wall,
                    rc,
                )
            )

            sitemap = server.url("bomb-sitemap", f"/sitemap/bomb.xml.gz?mb={args.mb}")
            cmd = crawl_command(
                [],
                tmp / "sm.jsonl",
                spider="syndication",
                settings={**common, "DISPATCHES_DB": str(tmp / "sm.db")},
                args={"sitemaps": sitemap},
            )
            wall, peak, rc = run(cmd)
            rows.append(("sitemap .xml.gz bomb (syndication spider, with store)", 1, args.mb, peak, wall, rc))
    finally:
        server.close()

    print(
        f"{'crawl':58} {'bombs':>5} {'offered MiB':>11} {'peak RSS MiB':>12} {'x baseline':>10} "
        f"{'wall s':>7} {'exit':>4}"
    )
    for name, n, offered, peak, wall, rc in rows:
        print(f"{name:58} {n:>5} {offered:>11} {peak:>12.0f} {peak / base_peak:>10.2f} {wall:>7.1f} {rc:>4}")
    worst = max(r[3] for r in rows)
    print(f"worst peak {worst:.0f} MiB: {'PASS' if worst < 1024 else 'FAIL'} (limit 1024 MiB)")
    return 0 if worst < 1024 else 1


if __name__ == "__main__":
    raise SystemExit(main())
