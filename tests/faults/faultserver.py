"""Fault server for tests/faults: one resource per fault case of tests/faults/CASES.md.

A raw asyncio socket server (not an HTTP library), so it can also send what a library refuses to:
resets, bad status lines, conflicting Content-Length, endless drips, unterminated chunks. Every
request is recorded (host, path, headers, time); tests read them from ``/_requests``.

Run: ``python tests/faults/faultserver.py --port 0`` prints one JSON line when ready:
``{"port": P, "canary": C, "blackhole": B, "refused": R}``:
``canary`` records any connection to it (it must see none: SSRF targets point there),
``blackhole`` never accepts and has a full backlog (connect hangs), ``refused`` has no listener.

Routing is by path; the Host header's first label picks robots.txt behaviour (``robots-503``,
``robots-404``, ``robots-html``, ``robots-huge``, ``robots-disallow``, ``robots-hang``,
``robots-redirect``, ``robots-binary``), any other host gets ``Allow: /``.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import json
import socket
import struct
import time
import zlib
from email.utils import formatdate
from urllib.parse import parse_qs, urlsplit

import brotli
import zstandard

REQUESTS: list[dict] = []
CANARY_HITS: list[dict] = []
COUNTERS: dict[str, int] = {}
_BOMBS: dict[tuple[str, int], bytes] = {}
PORTS: dict[str, int] = {}

WORDS = (
    "delegation envoy ministry partnership bilateral cooperation security trade climate health "
    "migration maritime agreement summit dialogue assistance humanitarian sanctions treaty embassy "
    "consulate visa exchange program investment energy resilience transparency governance rights"
).split()


def article_text(name: str, paragraphs: int = 6) -> list[str]:
    """Deterministic, self-written filler prose unique to ``name`` (never third-party text)."""
    seed = int(hashlib.sha256(name.encode()).hexdigest(), 16)
    out = []
    for p in range(paragraphs):
        words = []
        for _ in range(48):
            seed = (seed * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            words.append(WORDS[seed % len(WORDS)])
        sentence = " ".join(words)
        out.append(f"Fault case {name}, paragraph {p + 1}: The {sentence.capitalize()}.")
    return out


def article_html(name: str, title: str | None = None, extra_body: str = "", charset: str = "utf-8") -> str:
    title = title if title is not None else f"Statement on fault case {name}"
    paras = "\n".join(f"<p>{p}</p>" for p in article_text(name))
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="{charset}"><title>{title}</title></head>'
        f'<body><header><nav><a href="/">Home</a></nav></header><main><article>'
        f'<h1>{title}</h1><p class="date">March 3, 2025</p>{paras}{extra_body}</article></main>'
        f"<footer>Footer links</footer></body></html>"
    )


# --- compressed payloads ------------------------------------------------------------------------
def _compress_zeros(codec: str, mb: int) -> bytes:
    chunk = b"\0" * (1 << 20)
    if codec == "gzip":
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
    elif codec == "deflate":  # zlib-wrapped
        c = zlib.compressobj(9, zlib.DEFLATED, 15)
    elif codec == "deflate-raw":
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
    elif codec == "br":
        c = brotli.Compressor(quality=5)
        return b"".join([c.process(chunk) for _ in range(mb)] + [c.finish()])
    elif codec == "zstd":
        z = zstandard.ZstdCompressor(level=3).compressobj()
        return b"".join([z.compress(chunk) for _ in range(mb)] + [z.flush()])
    else:
        raise ValueError(codec)
    return b"".join([c.compress(chunk) for _ in range(mb)] + [c.flush()])


def bomb(codec: str, mb: int) -> bytes:
    key = (codec, mb)
    if key not in _BOMBS:
        _BOMBS[key] = _compress_zeros(codec, mb)
    return _BOMBS[key]


# --- the server ------------------------------------------------------------------------------------
class Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    async def send(self, data: bytes):
        self.writer.write(data)
        await self.writer.drain()

    async def respond(
        self,
        status: int,
        body: bytes = b"",
        headers: dict | list | None = None,
        reason: str | None = None,
        content_type: str | None = "text/html; charset=utf-8",
    ):
        reason = reason or {
            200: "OK",
            301: "Moved Permanently",
            302: "Found",
            404: "Not Found",
            410: "Gone",
            429: "Too Many Requests",
            500: "Internal Server Error",
            503: "Service Unavailable",
        }.get(status, "Status")
        lines = [f"HTTP/1.1 {status} {reason}"]
        items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        names = {k.lower() for k, _ in items}
        if content_type and "content-type" not in names:
            items.append(("Content-Type", content_type))
        if "content-length" not in names and "transfer-encoding" not in names:
            items.append(("Content-Length", str(len(body))))
        items.append(("Connection", "close"))
        lines += [f"{k}: {v}" for k, v in items]
        await self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    def abort(self):
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


async def read_request(reader: asyncio.StreamReader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = (lines[0].split(" ") + ["", ""])[:3]
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length") or 0)
    if length:
        await reader.readexactly(min(length, 1 << 20))
    return method, target, headers


async def handle(reader, writer):
    conn = Conn(reader, writer)
    try:
        try:
            method, target, headers = await asyncio.wait_for(read_request(reader), 30)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return
        parts = urlsplit(target)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        host = headers.get("host", "").split(":")[0].lower()
        if not path.startswith("/_"):
            REQUESTS.append(
                {
                    "method": method,
                    "host": host,
                    "path": path,
                    "target": target,
                    "headers": headers,
                    "time": time.time(),
                }
            )
        await route(conn, method, host, path, query, headers)
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


def _page(name, **kw) -> bytes:
    return article_html(name, **kw).encode("utf-8")


async def route(c: Conn, method, host, path, q, headers):
    label = host.split(".")[0]
    port = PORTS["port"]
    # --- control --------------------------------------------------------------------------
    if path == "/_requests":
        return await c.respond(
            200,
            json.dumps({"requests": REQUESTS, "canary": CANARY_HITS}).encode(),
            content_type="application/json",
        )
    if path == "/_clear":
        REQUESTS.clear()
        CANARY_HITS.clear()
        COUNTERS.clear()
        return await c.respond(200, b"{}", content_type="application/json")
    # --- robots.txt -------------------------------------------------------------------------
    if path == "/robots.txt":
        if label == "robots-503":
            return await c.respond(503, b"<html><body>Service Unavailable</body></html>")
        if label == "robots-500html":
            return await c.respond(500, b"<html><body>Error</body></html>")
        if label in ("robots-404", "robots-410"):
            return await c.respond(int(label[-3:]), b"<html>not found</html>")
        if label == "robots-hang":
            await asyncio.sleep(3600)
            return
        if label == "robots-reset":
            return c.abort()
        if label == "robots-html":
            return await c.respond(
                200, b"<html><body><h1>Welcome</h1><p>Disallow nothing here</p></body></html>"
            )
        if label == "robots-binary":
            return await c.respond(200, bytes(range(256)) * 64, content_type="text/plain")
        if label == "robots-huge":
            body = (
                b"User-agent: *\nDisallow: /private/\n"
                + b"# padding " * (1024 * 1024)
                + b"\nDisallow: /late/\n"
            )
            return await c.respond(200, body, content_type="text/plain")
        if label in ("robots-disallow", "robots-disallow2"):
            return await c.respond(
                200, b"User-agent: *\nDisallow: /private/\nCrawl-delay: 2\n", content_type="text/plain"
            )
        if label == "robots-redirect":
            return await c.respond(301, b"", {"Location": f"http://other.fault.test:{port}/robots.txt"})
        return await c.respond(200, b"User-agent: *\nAllow: /\n", content_type="text/plain")
    # --- normal pages -----------------------------------------------------------------------
    if path.startswith("/page/") or path.startswith("/private/"):
        return await c.respond(200, _page(path.rsplit("/", 1)[-1] or "index"))
    if path == "/slow":
        await asyncio.sleep(float(q.get("s", "1")))
        return await c.respond(200, _page(q.get("name", "slow")))
    # --- connection-level faults ------------------------------------------------------------
    if path == "/hang":
        await asyncio.sleep(3600)
        return
    if path == "/drip":
        await c.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(3600):
            await c.send(b"<")
            await asyncio.sleep(0.2)
        return
    if path == "/reset":
        await c.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1024\r\n\r\n<html><p>partial"
        )
        await asyncio.sleep(0.05)
        return c.abort()
    if path == "/partial":
        await c.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1024\r\n\r\n<html><p>partial"
        )
        return
    if path == "/badchunk":
        await c.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"10\r\n<html><p>chunk1.\r\n10\r\n<p>chunk 2 of it\r\n"
        )
        return
    if path == "/badstatus":
        await c.send(b"HTTP/1.1 abc Broken\r\nContent-Length: 5\r\n\r\nhello")
        return
    if path == "/garbage":
        await c.send(b"\x00\x01\x02 this is not http at all\r\n\r\n")
        return
    if path == "/badheader":
        await c.send(b"HTTP/1.1 200 OK\r\nContent-Type text/html\r\nContent-Length: 5\r\n\r\nhello")
        return
    if path == "/conflict-cl":
        body = _page("conflict")
        await c.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\nContent-Length: 10\r\n\r\n"
            % len(body)
            + body
        )
        return
    if path == "/cl-te":
        await c.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 7\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n0\r\n\r\n"
        )
        return
    # --- status codes -----------------------------------------------------------------------
    if path.startswith("/status/"):
        code = int(path.split("/")[2])
        hdrs = {}
        if "retry_after" in q:
            hdrs["Retry-After"] = q["retry_after"]
        return await c.respond(code, _page(f"status-{code}"), hdrs)
    if path.startswith("/flaky/"):
        key = f"{host}{path}"
        COUNTERS[key] = COUNTERS.get(key, 0) + 1
        if COUNTERS[key] == 1:
            return await c.respond(500, b"<html>try again</html>")
        return await c.respond(200, _page(path.rsplit("/", 1)[-1]))
    if path.startswith("/ratelimit/"):  # 429/503 + Retry-After on the first request, then the page
        key = f"{host}{path}"
        COUNTERS[key] = COUNTERS.get(key, 0) + 1
        if COUNTERS[key] == 1:
            return await c.respond(
                int(q.get("code", "429")),
                b"<html>slow down</html>",
                {"Retry-After": _retry_after(q)},
            )
        return await c.respond(200, _page(path.rsplit("/", 1)[-1]))
    if path.startswith("/storm/"):
        return await c.respond(503, b"<html><body>Service Unavailable</body></html>")
    # --- redirects --------------------------------------------------------------------------
    if path == "/redirect":
        return await c.respond(int(q.get("code", "302")), b"", {"Location": q["to"]})
    if path == "/meta-refresh":
        to = q["to"].replace('"', "&quot;")
        return await c.respond(
            200,
            f'<html><head><meta http-equiv="refresh" content="0; url={to}"></head>'
            f"<body>moved</body></html>".encode(),
        )
    if path == "/loop/a":
        return await c.respond(302, b"", {"Location": "/loop/b"})
    if path == "/loop/b":
        return await c.respond(302, b"", {"Location": "/loop/a"})
    if path.startswith("/chain/"):
        n = int(path.split("/")[2])
        return await c.respond(302, b"", {"Location": f"/chain/{n + 1}"})
    # --- size -------------------------------------------------------------------------------
    if path == "/huge-cl":
        await c.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % (200 << 20)
        )
        chunk = b"<p>" + b"0" * 65533
        for _ in range(200 * 16):
            await c.send(chunk)
        return
    if path == "/endless":
        await c.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"<p>" + b"x" * 65533
        frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        for _ in range(1 << 16):
            await c.send(frame)
        return
    if path.startswith("/bomb/"):
        codec = path.split("/")[2]
        mb = int(q.get("mb", "64"))
        if codec == "stacked":  # innermost gzip bomb, then deflate, then gzip: "gzip, deflate, gzip"
            inner = await asyncio.to_thread(bomb, "gzip", mb)
            body = gzip.compress(zlib.compress(inner))
            return await c.respond(200, body, {"Content-Encoding": "gzip, deflate, gzip"})
        body = await asyncio.to_thread(bomb, codec, mb)
        return await c.respond(200, body, {"Content-Encoding": codec.replace("-raw", "")})
    if path == "/stacked-ok":
        body = gzip.compress(zlib.compress(gzip.compress(_page("stacked-ok"))))
        return await c.respond(200, body, {"Content-Encoding": "gzip, deflate, gzip"})
    if path.startswith("/gzip-bad/"):
        kind = path.split("/")[2]
        good = gzip.compress(_page("gzip-bad"))
        body = {
            "truncated": good[: len(good) // 2],
            "crc": good[:-8] + b"\0\0\0\0" + good[-4:],
            "plain": _page("gzip-plain"),
            "empty": b"",
        }[kind]
        return await c.respond(200, body, {"Content-Encoding": "gzip"})
    # --- content types and bodies -----------------------------------------------------------
    if path.startswith("/ctype/"):
        kind = path.split("/")[2]
        ct = {"octet": "application/octet-stream", "plain": "text/plain", "none": None}[kind]
        return await c.respond(200, _page(f"ctype-{kind}"), content_type=ct)
    if path.startswith("/binary/"):
        kind = path.split("/")[2]
        body = {
            "pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 8 + b"\n%%EOF\n",
            "png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
            "zip": b"PK\x03\x04" + bytes(range(256)) * 8,
            "elf": b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 8,
        }[kind]
        return await c.respond(200, body, content_type="text/html")
    if path == "/empty":
        return await c.respond(200, b"")
    if path == "/whitespace":
        return await c.respond(200, b"  \n\t \r\n   ")
    if path == "/soft404":
        return await c.respond(
            200,
            b"<html><head><title>Page not found</title></head><body><nav><a href='/'>Home</a>"
            b"</nav><h1>Page Not Found</h1><p>Sorry.</p><footer>Contact us</footer></body></html>",
        )
    if path == "/technical-difficulties":  # the 200 error page state.gov serves when overloaded
        return await c.respond(
            200,
            b"<html><head><title>Technical Difficulties</title></head><body><h1>Technical Difficulties"
            b"</h1><p>We are experiencing technical difficulties. Please try again later.</p></body></html>",
        )
    if path == "/script-only":
        return await c.respond(
            200,
            b"<html><head><title>App</title><script src='/app.js'></script></head>"
            b"<body><div id='app'></div><script>render()</script></body></html>",
        )
    if path.startswith("/enc/"):
        kind = path.split("/")[2]
        name = f"enc-{kind}"
        html = article_html(name, title=f"Caf\u00e9 d\u2019\u00e9t\u00e9 {kind}")
        if kind == "cp1252-in-utf8":  # a stray cp1252 apostrophe (0x92) inside a UTF-8 page
            body = html.encode("utf-8").replace("d\u2019".encode(), b"d\x92")
            return await c.respond(200, body, content_type="text/html; charset=utf-8")
        if kind == "header-latin1-body-utf8":
            return await c.respond(200, html.encode("utf-8"), content_type="text/html; charset=ISO-8859-1")
        if kind == "utf16-bom":
            return await c.respond(
                200,
                b"\xff\xfe"
                + article_html(name, title=f"Caf\u00e9 {kind}", charset="utf-16").encode("utf-16-le"),
                content_type="text/html",
            )
        if kind == "unknown-charset":
            return await c.respond(200, html.encode("utf-8"), content_type="text/html; charset=foobar")
        if kind == "nul-controls":
            body = html.encode("utf-8").replace(b"Fault case", b"Fault\x00 case\x07\x1b[31m", 3)
            return await c.respond(200, body)
    if path == "/deep":
        depth = int(q.get("n", "10000"))
        paras = "".join(f"<p>{p}</p>" for p in article_text("deep"))
        text = (
            "<html><head><title>Deep nesting</title></head><body>"
            + "<div>" * depth
            + paras
            + "</div>" * depth
            + "</body></html>"
        )
        return await c.respond(200, text.encode())
    if path == "/huge-line":  # one long line, no newlines
        words = " ".join(article_text("huge-line", 2)).encode()
        n = int(q.get("kb", "4096")) * 1024 // len(words) + 1
        body = (
            b"<html><head><title>One line</title></head><body><p>"
            + (words + b" ") * n
            + b"</p></body></html>"
        )
        return await c.respond(200, body)
    if path == "/many-elements":
        n = int(q.get("n", "500000"))
        body = (
            b"<html><head><title>Many elements</title></head><body><div>"
            + b"<span>x</span>" * n
            + b"".join(b"<p>%s</p>" % p.encode() for p in article_text("many"))
            + b"</div></body></html>"
        )
        return await c.respond(200, body)
    if path == "/xss":
        title = "<script>alert('xss')</script> Statement on <img src=x onerror=alert(1)>"
        extra = (
            "<p>The crawler must keep this verbatim: &lt;script&gt;alert(document.cookie)&lt;/script&gt; "
            'and <a href="javascript:alert(1)">javascript:alert(1)</a> as plain text.</p>'
        )
        return await c.respond(
            200,
            article_html(
                "xss", title=title.replace("<", "&lt;").replace(">", "&gt;"), extra_body=extra
            ).encode(),
        )
    if path == "/sqli":
        title = "Robert'); DROP TABLE articles;-- statement"
        extra = "<p>Quote test: ' OR '1'='1'; DELETE FROM copies; -- and \" ; DROP TABLE crawls; --</p>"
        return await c.respond(200, article_html("sqli", title=title, extra_body=extra).encode())
    if path == "/hostile-meta":
        extra_head = (
            '<meta name="x]; DROP TABLE articles;--" content="1">'
            '<meta property="og:title&quot;);CREATE TABLE pwned(x);--" content="2">'
            '<meta name="author" content="\'; DROP TABLE copies; --">'
        )
        return await c.respond(
            200, article_html("hostile-meta").replace("</head>", extra_head + "</head>").encode()
        )
    if path == "/log-injection":
        title = "Injected\nINFO: fake log line \x1b[2J\x1b[31mred"
        return await c.respond(200, article_html("log-injection", title=title).encode())
    if path == "/links":
        links = q.get("set", "creds")
        hrefs = {
            "creds": [
                f"http://user:hunter2@creds.fault.test:{port}/page/with-userinfo",
                f"http://creds.fault.test:{port}/page/with-token?id=7&token=s3cr3t-token&api_key=s3cr3t-key",
            ],
            "schemes": [
                "javascript:alert(1)",
                "mailto:press@state.gov",
                "tel:+12025551234",
                "file:///etc/passwd",
                "data:text/html,<p>hi</p>",
                "ftp://ftp.fault.test/x",
                f"http://schemes.fault.test:{port}/page/in-scope",
            ],
            "long": [
                f"http://long.fault.test:{port}/page/" + "x" * 3000,
                f"http://long.fault.test:{port}/page/short-enough",
            ],
            "offsite": [
                f"http://fault.test@evil.test:{port}/page/userinfo-trick",
                f"http://evilfault.test:{port}/page/suffix-trick",
                f"http://fault.test.evil.test:{port}/page/prefix-trick",
                f"http://offsite.fault.test:{port}/page/in-scope",
            ],
        }[links]
        text = (
            "<html><body>"
            + "".join(f'<a href="{h}">l{i}</a>' for i, h in enumerate(hrefs))
            + "</body></html>"
        )
        return await c.respond(200, text.encode())
    # --- XML: sitemaps and feeds ------------------------------------------------------------
    if path.startswith("/sitemap/") or path.startswith("/feed/") or path.startswith("/dtd/"):
        return await xml_route(c, host, path, q, port)
    return await c.respond(404, b"<html>no such fault</html>")


def _retry_after(q: dict) -> str:
    """The Retry-After value asked for: `retry_after` verbatim, or `retry_after_date=N`, an HTTP date N
    seconds after this answer (a date fixed when the test started would shrink while a loaded machine
    starts the crawl)."""
    if "retry_after_date" in q:
        return formatdate(time.time() + float(q["retry_after_date"]), usegmt=True)
    return q.get("retry_after", "2")


def _urlset(urls) -> bytes:
    inner = "".join(f"<url><loc>{u}</loc><lastmod>2025-03-03</lastmod></url>" for u in urls)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{inner}</urlset>"
    ).encode()


def _index(urls) -> bytes:
    inner = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in urls)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{inner}</sitemapindex>"
    ).encode()


LAUGHS_DTD = "".join(
    ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
)


async def xml_route(c: Conn, host, path, q, port):
    base = f"http://{host}:{port}"
    xml = "application/xml"
    if path == "/sitemap/real.xml.gz":
        return await c.respond(
            200,
            gzip.compress(_urlset([f"{base}/page/from-gz-sitemap"])),
            content_type="application/octet-stream",
        )
    if path == "/sitemap/bomb.xml.gz":
        body = await asyncio.to_thread(bomb, "gzip", int(q.get("mb", "64")))
        return await c.respond(200, body, content_type="application/octet-stream")
    if path == "/sitemap/laughs.xml":
        text = (
            f'<?xml version="1.0"?><!DOCTYPE urlset [{LAUGHS_DTD}]>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{base}/page/&lol9;</loc></url>'
            f"<url><loc>{base}/page/after-laughs</loc></url></urlset>"
        )
        return await c.respond(200, text.encode(), content_type=xml)
    if path == "/sitemap/xxe.xml":
        secret = q.get("file", "/etc/hostname")
        text = (
            f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file://{secret}">'
            f'<!ENTITY % ext SYSTEM "{base}/dtd/evil.dtd"> %ext;]>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{base}/page/x&xxe;</loc></url>'
            f"<url><loc>{base}/page/after-xxe</loc></url></urlset>"
        )
        return await c.respond(200, text.encode(), content_type=xml)
    if path == "/dtd/evil.dtd":
        return await c.respond(200, b'<!ENTITY leaked "dtd-was-fetched">', content_type="application/xml-dtd")
    if path == "/sitemap/loop-a.xml":
        return await c.respond(
            200, _index([f"{base}/sitemap/loop-b.xml", f"{base}/sitemap/leaf.xml"]), content_type=xml
        )
    if path == "/sitemap/loop-b.xml":
        return await c.respond(200, _index([f"{base}/sitemap/loop-a.xml"]), content_type=xml)
    if path == "/sitemap/leaf.xml":
        return await c.respond(200, _urlset([f"{base}/page/from-leaf"]), content_type=xml)
    if path == "/sitemap/gen.xml":
        n = int(q.get("n", "0"))
        return await c.respond(200, _index([f"{base}/sitemap/gen.xml?n={n + 1}"]), content_type=xml)
    if path == "/sitemap/deep.xml":
        n = int(q.get("n", "0"))
        return await c.respond(200, _index([f"{base}/sitemap/deep.xml?n={n + 1}"]), content_type=xml)
    if path == "/sitemap/big.xml":
        n = int(q.get("n", "1000000"))
        head = b'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        entries = b"".join(b"<url><loc>%s/page/big-%d</loc></url>" % (base.encode(), i) for i in range(n))
        return await c.respond(200, head + entries + b"</urlset>", content_type=xml)
    if path == "/sitemap/cross.xml":
        return await c.respond(
            200,
            _urlset(
                [
                    f"{base}/page/same-host",
                    f"http://evil.test:{port}/page/cross",
                    "https://www.state.gov.evil.test/page/x",
                ]
            ),
            content_type=xml,
        )
    if path == "/sitemap/malformed.xml":
        text = (
            f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{base}/page/before-break</loc></url><url><loc>{base}/page/bro\x01ken"
        )
        return await c.respond(200, text.encode(), content_type=xml)
    if path == "/feed/laughs.xml":
        text = (
            f'<?xml version="1.0"?><!DOCTYPE rss [{LAUGHS_DTD}]><rss version="2.0">'
            f"<channel><title>&lol9;</title>"
            f"<item><title>&lol9;</title><link>{base}/page/feed-laughs</link></item></channel></rss>"
        )
        return await c.respond(200, text.encode(), content_type="application/rss+xml")
    if path == "/feed/xxe.xml":
        secret = q.get("file", "/etc/hostname")
        text = (
            f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">'
            f'<!ENTITY % ext SYSTEM "{base}/dtd/evil.dtd"> %ext;]>'
            f'<rss version="2.0"><channel><title>x</title>'
            f"<item><title>&xxe;</title><link>{base}/page/feed-xxe</link><description>&xxe;</description></item>"
            f"</channel></rss>"
        )
        return await c.respond(200, text.encode(), content_type="application/rss+xml")
    if path == "/feed/login.xml":
        return await c.respond(200, b"<html><body><form>Please log in</form></body></html>")
    if path == "/feed/big.xml":
        n = int(q.get("n", "100000"))
        items = b"".join(
            b"<item><title>t%d</title><link>%s/page/feed-big-%d</link></item>" % (i, base.encode(), i)
            for i in range(n)
        )
        return await c.respond(
            200,
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>big</title>'
            + items
            + b"</channel></rss>",
            content_type="application/rss+xml",
        )
    return await c.respond(404, b"<html>no such xml fault</html>")


async def canary(reader, writer):
    CANARY_HITS.append({"time": time.time()})
    writer.close()


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


async def main(port: int):
    # The suite's bombs are made before "ready" so no fault waits behind a compressor.
    await asyncio.gather(
        *(asyncio.to_thread(bomb, codec, 64) for codec in ("gzip", "deflate", "deflate-raw", "br", "zstd"))
    )
    server = await asyncio.start_server(handle, "127.0.0.1", port, limit=1 << 16, backlog=256)
    PORTS["port"] = server.sockets[0].getsockname()[1]
    canary_server = await asyncio.start_server(canary, "127.0.0.1", 0)
    # A listener that never accepts, with its backlog filled: new SYNs are dropped, connect hangs.
    black = socket.socket()
    black.bind(("127.0.0.1", 0))
    black.listen(0)
    fillers = []
    for _ in range(8):
        f = socket.socket()
        f.setblocking(False)
        try:
            f.connect(black.getsockname())
        except (BlockingIOError, OSError):
            pass
        fillers.append(f)
    info = {
        "port": PORTS["port"],
        "canary": canary_server.sockets[0].getsockname()[1],
        "blackhole": black.getsockname()[1],
        "refused": _free_port(),
    }
    print(json.dumps(info), flush=True)
    async with server, canary_server:
        await server.serve_forever()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    try:
        asyncio.run(main(args.port))
    except KeyboardInterrupt:
        pass
