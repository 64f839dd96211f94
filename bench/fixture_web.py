"""Fixture web benchmark: how fast the web is generated and served, so crawl benchmarks measure the crawler.

Measures, in one run (ratios against a baseline of the same run, so the machine's speed cancels):

1. generation: `build_site(scale)` for the scale that reaches the requested page count, in
   seconds and pages/s (target: 5,000 pages in < 10 s);
2. serving, baseline: one keep-alive client fetching an article page over plain http
   through the proxy (requests/s), then the same over https inside one CONNECT tunnel,
   with gzip, with conditional GETs (304), and with 8 parallel clients -- each as a ratio
   of the baseline;
3. a Scrapy crawl of every sitemap URL of all six hosts through `https_proxy`: requests/s,
   and the server's CPU time per request (the server must not be the bottleneck: its CPU
   per request should be a small fraction of the wall time per request).

    python bench/fixture_web.py [--pages 5000] [--requests 2000] [--no-scrapy]
"""

from __future__ import annotations

import argparse
import http.client
import os
import ssl
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

from tests.fixtures.web import generate
from tests.fixtures.web.fixtureweb import FixtureWeb

ROOT = Path(__file__).resolve().parents[1]

WALK = textwrap.dedent("""
    import scrapy
    class Walk(scrapy.Spider):
        name = "walk"
        custom_settings = {"ROBOTSTXT_OBEY": True, "DOWNLOAD_DELAY": 0, "LOG_LEVEL": "WARNING",
                           "TELNETCONSOLE_ENABLED": False, "CONCURRENT_REQUESTS": 32,
                           "CONCURRENT_REQUESTS_PER_DOMAIN": 16}
        async def start(self):
            for host, path in [
                ("www.state.gov", "/sitemap_index.xml"),
                ("2021-2025.state.gov", "/sitemap_index.xml"),
                ("mx.usembassy.gov", "/sitemap_index.xml"),
                ("ca.usembassy.gov", "/sitemap_index.xml"),
                ("policy-digest.example", "/sitemap_index.xml"),
                ("worldwire.example", "/sitemap.xml"),
            ]:
                yield scrapy.Request(f"https://{host}{path}")
        def parse(self, response):
            if b"<urlset" in response.body[:300] or b"<sitemapindex" in response.body[:300]:
                for loc in response.xpath("//*[local-name()='loc']/text()").getall():
                    yield response.follow(loc, self.parse)
""")


def scale_for(pages: int) -> int:
    """The smallest scale whose web has at least `pages` HTML pages (the web grows linearly)."""
    one = sum(
        1 for r in generate.build_site(scale=1).values() if r.headers["Content-Type"].startswith("text/html")
    )
    two = sum(
        1 for r in generate.build_site(scale=2).values() if r.headers["Content-Type"].startswith("text/html")
    )
    step = max(1, two - one)
    return max(1, 1 + -(-(pages - one) // step))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client_rate(
    port: int, url_path: str, n: int, *, tls: bool, headers: dict[str, str], clients: int = 1
) -> float:
    """Requests/s of `clients` keep-alive connections each doing n/clients GETs."""
    ctx = ssl._create_unverified_context()
    per = max(1, n // clients)
    errors: list[BaseException] = []

    def run() -> None:
        conn: http.client.HTTPConnection
        try:
            if tls:
                conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
                conn.set_tunnel("www.state.gov", 443)
                target = url_path
            else:
                conn = http.client.HTTPConnection("127.0.0.1", port)
                target = "http://www.state.gov" + url_path
            for _ in range(per):
                conn.request("GET", target, headers={"Host": "www.state.gov", **headers})
                resp = conn.getresponse()
                resp.read()
                if resp.status not in (200, 304):
                    raise RuntimeError(f"status {resp.status}")
            conn.close()
        except BaseException as exc:  # any failure of a client thread is reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - started
    if errors:
        raise SystemExit(f"fixture_web bench: client failed: {errors[0]}")
    return per * clients / took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=5000, help="HTML pages the scaled web should have")
    parser.add_argument("--requests", type=int, default=2000, help="requests per serving measurement")
    parser.add_argument("--no-scrapy", action="store_true", help="skip the Scrapy crawl")
    args = parser.parse_args()

    scale = scale_for(args.pages)
    t0 = time.perf_counter()
    site = generate.build_site(scale=scale, phase=1, crawl_delay=0)
    gen = time.perf_counter() - t0
    html_pages = sum(1 for r in site.values() if r.headers["Content-Type"].startswith("text/html"))
    rows: list[tuple[str, str, str]] = [
        (f"generate scale={scale}", f"{html_pages} pages in {gen:.2f} s", f"{html_pages / gen:,.0f} pages/s"),
    ]
    del site

    with FixtureWeb(scale=scale, crawl_delay=0, stderr=subprocess.DEVNULL) as web:
        article = next(
            s["official_url"] for s in web.manifest()["statements"] if "/releases/" in s["official_url"]
        )
        path = article.split("www.state.gov", 1)[1]
        _, h, _ = web.fetch(article)
        base = client_rate(web.port, path, args.requests, tls=False, headers={})
        rows.append(("serve http, 1 keep-alive client (baseline)", f"{base:,.0f} req/s", "1.00"))
        cases: list[tuple[str, dict[str, str], int]] = [
            ("serve https in one CONNECT tunnel", {}, 1),
            ("serve https + gzip", {"Accept-Encoding": "gzip"}, 1),
            ("serve https conditional GET -> 304", {"If-None-Match": h["etag"]}, 1),
            ("serve https, 8 parallel clients", {}, 8),
        ]
        for label, headers, clients in cases:
            rate = client_rate(web.port, path, args.requests, tls=True, headers=headers, clients=clients)
            rows.append((label, f"{rate:,.0f} req/s", f"{rate / base:.2f}"))

        if not args.no_scrapy:
            with tempfile.TemporaryDirectory() as tmp:
                spider = Path(tmp) / "walk.py"
                spider.write_text(WALK)
                web.clear_requests()
                assert web.proc is not None  # started by the with block
                cpu0 = cpu_seconds(web.proc.pid)
                run = subprocess.run(
                    [sys.executable, "-m", "scrapy", "runspider", str(spider)],
                    cwd=tmp,
                    env=web.env(),
                    capture_output=True,
                    text=True,
                )
                cpu = cpu_seconds(web.proc.pid) - cpu0
            if run.returncode != 0:
                print(run.stderr[-2000:], file=sys.stderr)
                return 1
            log = web.requests()
            ok = sum(1 for r in log if r["status"] == 200)
            span = log[-1]["time"] - log[0]["time"]
            rows.append(
                (
                    f"scrapy crawl via https_proxy ({len(log)} requests, {ok} ok)",
                    f"{len(log) / span:,.0f} req/s",
                    f"{len(log) / span / base:.2f}",
                )
            )
            rows.append(
                (
                    "server CPU per request / wall per request",
                    f"{cpu / len(log) * 1000:.2f} ms / {span / len(log) * 1000:.2f} ms",
                    f"{cpu / span:.2f}",
                )
            )

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'result':>28}  {'ratio':>12}")
    for name, result, ratio in rows:
        print(f"{name:<{width}}  {result:>28}  {ratio:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
