"""WARC helpers (crawlers.warc): what we write is valid WARC/1.1 that warcio reads back record
for record, and what other crawlers write (gzip bodies, chunked transfer, revisits, images,
truncated and broken files) is read or skipped with a reason."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from cleaners.model import RawPage
from crawlers.diskinput import DiskReader, MiB, Skip
from crawlers.warc import FILE_URI_PREFIX, file_uri, iter_warc, warc_date, write_warc

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
HTML = (FIXTURES / "html" / "saved_canonical.html").read_bytes()
TEXT = (FIXTURES / "captures" / "harbor_release.txt").read_bytes()


def pages():
    return [
        RawPage(
            url="https://www.state.gov/a-statement/",
            final_url="https://www.state.gov/a-statement/",
            status=200,
            headers={
                "content-type": "text/html; charset=utf-8",
                "etag": '"abc"',
                "last-modified": "Tue, 14 Jun 2022 10:00:00 GMT",
                "content-encoding": "gzip",
            },
            body=HTML,
            fetched_at="2024-05-01T10:00:00+00:00",
            spider="state_gov",
        ),
        RawPage(
            url="https://mx.usembassy.gov/old-path/",
            final_url="https://mx.usembassy.gov/new-path/",
            status=200,
            headers={"content-type": "text/html"},
            body=HTML.replace(b"Deputy", b"Acting"),
            fetched_at="2024-05-02T11:30:15.250000+00:00",
        ),
        RawPage(
            url=None,
            final_url=None,
            status=200,
            headers={"content-type": "text/plain; charset=utf-8"},
            body=TEXT,
            fetched_at="2023-01-01T00:00:00+00:00",
            spider="ingest",
            discovered_via="file",
            source_path="dir/caf\u00e9 #1.txt",
        ),
    ]


@pytest.mark.parametrize("gz", [True, False])
def test_written_warc_is_valid_and_reads_back(tmp_path, gz):
    out = tmp_path / ("x.warc.gz" if gz else "x.warc")
    with open(out, "wb") as fh:
        assert write_warc(fh, pages(), filename=out.name, gzip=gz) == 3
    with open(out, "rb") as fh:
        records = list(ArchiveIterator(fh, check_digests=True))
    assert [r.rec_type for r in records] == ["warcinfo", "response", "response", "resource"]
    assert all(r.rec_headers.protocol == "WARC/1.1" for r in records)
    with open(out, "rb") as fh:
        for rec in ArchiveIterator(fh, check_digests=True):
            if rec.rec_type == "warcinfo":
                assert b"Dispatches" in rec.content_stream().read()
                continue
            payload = rec.content_stream().read()
            digest = rec.rec_headers.get_header("WARC-Payload-Digest")
            assert digest == "sha1:" + base64.b32encode(hashlib.sha1(payload).digest()).decode()
            assert rec.digest_checker.passed is not False
    resp = records[1]
    assert resp.rec_headers.get_header("WARC-Target-URI") == "https://www.state.gov/a-statement/"
    assert resp.rec_headers.get_header("WARC-Date") == "2024-05-01T10:00:00Z"
    assert resp.http_headers.get_statuscode() == "200"
    assert resp.http_headers.get_header("ETag") == '"abc"'
    assert resp.http_headers.get_header("Content-Encoding") is None  # the body is stored decoded
    assert resp.http_headers.get_header("Content-Length") == str(len(HTML))
    moved = records[2]
    assert moved.rec_headers.get_header("WARC-Target-URI") == "https://mx.usembassy.gov/new-path/"
    assert moved.rec_headers.get_header("WARC-Date") == "2024-05-02T11:30:15.250000Z"
    assert records[3].rec_headers.get_header("WARC-Target-URI").startswith(FILE_URI_PREFIX)

    with open(out, "rb") as fh:
        back = list(iter_warc(fh, name=out.name, max_size=10 * MiB))
    assert all(isinstance(p, RawPage) for p in back), back
    originals = pages()
    assert [p.body for p in back] == [p.body for p in originals]
    assert back[0].url == back[0].final_url == "https://www.state.gov/a-statement/"
    assert back[0].fetched_at == "2024-05-01T10:00:00Z"
    assert back[0].headers["etag"] == '"abc"' and "content-encoding" not in back[0].headers
    assert back[0].discovered_via == "warc" and back[0].spider == "ingest"
    assert back[1].url == "https://mx.usembassy.gov/new-path/"
    assert back[2].url is None and back[2].source_path == "dir/caf\u00e9 #1.txt"
    assert back[2].headers["content-type"] == "text/plain; charset=utf-8"


def foreign_warc(path: Path, records: list[tuple[str, str, bytes]], gz: bool = True) -> None:
    """A WARC as another crawler writes it: raw HTTP blocks, as received."""
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gz)
        for rtype, uri, block in records:
            kw = {}
            if rtype == "resource":
                kw["warc_content_type"] = "text/html"
            if rtype == "revisit":
                rec = writer.create_revisit_record(uri, "sha1:AAAA", uri, "2024-01-01T00:00:00Z")
            else:
                rec = writer.create_warc_record(
                    uri, rtype, payload=io.BytesIO(block), length=len(block), **kw
                )
            writer.write_record(rec)


def http(status: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode() + body


def chunked(body: bytes, size: int = 700) -> bytes:
    out = b""
    for i in range(0, len(body), size):
        part = body[i : i + size]
        out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    return out + b"0\r\n\r\n"


def test_foreign_records_are_read_or_skipped_with_reasons(tmp_path):
    gz_body = gzip.compress(HTML)
    records = [
        ("warcinfo", "", b"software: other crawler\r\n"),
        ("request", "https://www.state.gov/one/", b"GET /one/ HTTP/1.1\r\nHost: www.state.gov\r\n\r\n"),
        (
            "response",
            "https://www.state.gov/one/",
            http(
                "200 OK",
                [
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("Content-Encoding", "gzip"),
                    ("Content-Length", str(len(gz_body))),
                ],
                gz_body,
            ),
        ),
        (
            "response",
            "https://www.state.gov/two/",
            http("200 OK", [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")], chunked(HTML)),
        ),
        (
            "response",
            "https://www.state.gov/moved/",
            http("301 Moved Permanently", [("Location", "/two/")], b""),
        ),
        (
            "response",
            "https://www.state.gov/logo.png",
            http("200 OK", [("Content-Type", "image/png")], b"\x89PNG\r\n\x1a\n" + b"\x00" * 50),
        ),
        (
            "response",
            "https://www.state.gov/fake.html",
            http("200 OK", [("Content-Type", "text/html")], b"%PDF-1.4 not html"),
        ),
        ("response", "https://www.state.gov/empty/", http("200 OK", [("Content-Type", "text/html")], b"")),
        (
            "response",
            "https://www.state.gov/big/",
            http("200 OK", [("Content-Type", "text/html")], b"<p>" + b"a" * (2 * MiB)),
        ),
        ("response", "dns:www.state.gov", b"127.0.0.1"),
        (
            "response",
            "https://www.state.gov/\x1b[31mred",  # ANSI escape: never into a log line
            http("200 OK", [("Content-Type", "text/html")], HTML),
        ),
        ("resource", "https://ca.usembassy.gov/res/", HTML),
        ("revisit", "https://www.state.gov/one/", b""),
        ("metadata", "https://www.state.gov/one/", b"outlinks: none\r\n"),
    ]
    path = tmp_path / "other.warc.gz"
    foreign_warc(path, records)
    with open(path, "rb") as fh:
        items = list(iter_warc(fh, name="other.warc.gz", max_size=1 * MiB))
    pages_ = [i for i in items if isinstance(i, RawPage)]
    skips = {i.path.split("#", 1)[1]: (i.reason, i.failure) for i in items if isinstance(i, Skip)}
    assert [p.url for p in pages_] == [
        "https://www.state.gov/one/",
        "https://www.state.gov/two/",
        "https://ca.usembassy.gov/res/",
    ]
    assert all(p.body == HTML for p in pages_)
    assert "content-encoding" not in pages_[0].headers and "transfer-encoding" not in pages_[1].headers
    assert skips == {
        "https://www.state.gov/moved/": ("http_301", False),
        "https://www.state.gov/logo.png": ("not_a_page", False),
        "https://www.state.gov/fake.html": ("binary", True),
        "https://www.state.gov/empty/": ("empty", True),
        "https://www.state.gov/big/": ("too_large", True),
        "dns:www.state.gov": ("warc_not_http", False),
        "https://www.state.gov/\\x1b[31mred": ("warc_bad_uri", True),
    }


def test_truncated_and_garbage_warcs_are_reported_not_raised(tmp_path):
    good = tmp_path / "good.warc.gz"
    with open(good, "wb") as fh:
        write_warc(fh, pages())
    data = good.read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    garbage = tmp_path / "garbage.warc"
    garbage.write_bytes(b"this is not a warc file at all\n" * 50)
    onegz = tmp_path / "onegzip.warc.gz"  # one gzip member around all records
    plain = io.BytesIO()
    write_warc(plain, pages(), gzip=False)
    onegz.write_bytes(gzip.compress(plain.getvalue()))
    with open(garbage, "rb") as fh:
        items = list(iter_warc(fh, name=garbage.name, max_size=10 * MiB))
    assert len(items) == 1 and items[0].reason == "warc_corrupt" and items[0].failure
    # A file cut anywhere: whole records before the cut are read, the cut one is never
    # handed on as a shorter page (warcio itself would give the partial body).
    for gz in (True, False):
        buf = io.BytesIO()
        write_warc(buf, pages(), gzip=gz)
        data = buf.getvalue()
        full = [p.body for p in iter_warc(io.BytesIO(data), name="full", max_size=10 * MiB)]
        for cut_at in range(150, len(data), 173):
            items = list(iter_warc(io.BytesIO(data[:cut_at]), name="cut", max_size=10 * MiB))
            bodies = [i.body for i in items if isinstance(i, RawPage)]
            assert bodies == full[: len(bodies)], (gz, cut_at)
            skips = [i for i in items if isinstance(i, Skip)]
            assert all(s.failure and s.reason in ("warc_truncated", "warc_corrupt") for s in skips)
    with open(cut, "rb") as fh:
        assert any(isinstance(i, RawPage) for i in iter_warc(fh, name="cut", max_size=10 * MiB))
    with open(onegz, "rb") as fh:  # warcio alone refuses these; they are common in the wild
        items = list(iter_warc(fh, name="onegz", max_size=10 * MiB))
    assert [i.body for i in items] == [p.body for p in pages()]


def test_warc_files_are_found_by_the_disk_walk(tmp_path):
    with open(tmp_path / "a.warc.gz", "wb") as fh:
        write_warc(fh, pages())
    with open(tmp_path / "b.warc", "wb") as fh:
        write_warc(fh, pages()[:1], gzip=False)
    reader = DiskReader(max_size=1 * MiB)  # the file cap is per record for WARCs
    items = list(reader.iter_inputs([str(tmp_path)]))
    assert [type(i).__name__ for i in items] == ["RawPage"] * 4
    assert isinstance(items[0], RawPage) and items[0].meta["warc_file"] == "a.warc.gz"


def test_warc_date_and_file_uri():
    assert warc_date("2024-05-01T10:00:00+02:00") == "2024-05-01T08:00:00Z"
    assert warc_date("2024-05-01T10:00:00") == "2024-05-01T10:00:00Z"
    assert warc_date("garbage").endswith("Z")
    assert file_uri("a b/c%d.txt") == FILE_URI_PREFIX + "a%20b/c%25d.txt"
    assert os.path.basename(file_uri("x/y.txt")) == "y.txt"
