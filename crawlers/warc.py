"""WARC in and out with warcio: records -> `RawPage`s for ingest, `RawPage`s -> WARC/1.1 for export.

Reading: every `response` record of an http(s) page becomes a RawPage with its real URL, its
WARC-Date and its HTTP headers (body decoded from chunked/gzip by warcio, so the encoding
headers are dropped as Scrapy's compression middleware does). `resource` records written by
`write_warc` for captures without a URL come back as file captures with their original path.
Everything else is counted, not read: requests, metadata, revisits, images, redirects.

Writing: a warcinfo record, then one response record per stored page (or one resource record
for a file capture); warcio adds `WARC-Block-Digest` and `WARC-Payload-Digest`.

Leaves walking files to `crawlers.diskinput` and the database to `store`.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from http import HTTPStatus
from typing import BinaryIO
from urllib.parse import quote, unquote, urlsplit

from cleaners.decode import sniff_capture
from cleaners.model import RawPage, utc_timestamp
from crawlers.capture import Skip

__all__ = ["FILE_URI_PREFIX", "iter_warc", "write_warc", "warc_date", "file_uri"]

FILE_URI_PREFIX = "urn:dispatches:file:"
SOURCE_PATH_HEADER = "WARC-Dispatches-Source-Path"
_PATH_SAFE = "/!$&'()*+,;=:@-._~"
_UNSAFE_URI = re.compile(r"[\x00-\x20\x7f-\x9f]")
PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")
# The body handed on is already decoded, so these would now describe it wrongly.
_DECODED_AWAY = {"content-encoding", "transfer-encoding", "content-length"}


def file_uri(source_path: str) -> str:
    """The WARC-Target-URI of a capture that has no URL: a URN holding its escaped path."""
    return FILE_URI_PREFIX + quote(source_path, safe=_PATH_SAFE)


def warc_date(fetched_at: str | None) -> str:
    """A WARC/1.1 date (UTC, "Z") from our ISO timestamp; now when missing or unreadable."""
    dt = None
    if fetched_at:
        try:
            dt = datetime.fromisoformat(fetched_at.replace("Z", "+00:00"))
        except ValueError:
            dt = None
    if dt is None:
        dt = datetime.now(UTC)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(UTC)
    if dt.microsecond:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_from_warc(value: str | None) -> str | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        m = re.fullmatch(r"(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)", value.strip())  # ARC dates
        if not m:
            return None
        year, month, day, hour, minute, second = map(int, m.groups())
        dt = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return utc_timestamp(dt)  # a WARC-Date without an offset is UTC


def iter_warc(fh: BinaryIO, *, name: str, shown: str | None = None, max_size: int) -> Iterator:
    """RawPages (and `diskinput.Skip`s) from one WARC/ARC file, plain or gzipped.

    Args:
        fh: the opened file (read sequentially; memory stays at one record).
        name: the file's path relative to the ingest root (kept in `RawPage.meta`).
        shown: the file's path for messages.
        max_size: records whose decoded payload is larger are skipped "too_large".
    """
    from warcio.bufferedreaders import BufferedReader

    shown = shown or name
    problem = _not_an_archive(fh)
    if problem:
        yield Skip(shown, "warc_corrupt", problem)
        return
    supported = set(BufferedReader.get_supported_decompressors())
    gunzip = None
    stream: BinaryIO | _Gunzip = fh
    if fh.read(2) == b"\x1f\x8b":
        # Per-record gzip members and whole-file gzip alike (warcio refuses the latter).
        fh.seek(0)
        stream = gunzip = _Gunzip(fh)
    else:
        fh.seek(0)
    while True:
        # A malformed record of a plain WARC is skipped: reading goes on at the next record
        # header after it. A gzipped file cannot be searched that way and ends there.
        stop = yield from _records(stream, name, shown, max_size, supported)
        if stop is None:
            break
        offset, where, problem = stop
        start = _next_header(fh, offset + 1) if gunzip is None else None
        if start is None and problem is None:
            yield Skip(where, "warc_truncated", f"file ends inside the record at offset {offset}")
            return
        detail = problem or "its length does not match its content"
        yield Skip(where, "warc_corrupt", f"record at offset {offset}: {detail}")
        if start is None:
            return
        fh.seek(start)
    if gunzip is not None and gunzip.truncated:
        yield Skip(shown, "warc_truncated", "the gzip stream ends early")


def _records(stream, name: str, shown: str, max_size: int, supported: set):
    """The pages of `stream` from its position on.

    Returns None at the end of the file, or (offset, where, problem) for the record that
    stopped the reading: `problem` is what the parser said, or None when the file ended
    inside the record.
    """
    from warcio.archiveiterator import ArchiveIterator

    records = ArchiveIterator(stream, arc2warc=True)
    try:
        for record in records:
            offset = records.offset  # where this record starts (uncompressed bytes)
            item = _page_or_skip(record, name, shown, max_size, supported)
            if not getattr(record, "_dispatches_read", False) and not _drain(record):
                uri = record.rec_headers.get_header("WARC-Target-URI") or record.rec_type
                return offset, f"{shown}#{uri}", None
            if item is not None:
                yield item
        return None
    except Exception as exc:  # ArchiveLoadFailed, zlib errors, and warcio's own bugs on cut headers
        first_line = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
        return records.offset, shown, first_line[:200]
    finally:
        records.close()


def _next_header(fh: BinaryIO, start: int, chunk: int = 1 << 16) -> int | None:
    """Offset of the next line starting a WARC record (`WARC/1.`) at or after `start`, or None."""
    marker = b"\nWARC/1."
    fh.seek(max(0, start - 1))
    pos = fh.tell()
    tail = b""
    while True:
        data = fh.read(chunk)
        if not data:
            return None
        buf = tail + data
        i = buf.find(marker)
        if i >= 0:
            return pos - len(tail) + i + 1
        tail = buf[-(len(marker) - 1) :]
        pos += len(data)


def _page_or_skip(record, name: str, shown: str, max_size: int, supported: set):
    """One record -> a RawPage, a Skip, or None (records that are not pages: requests, metadata)."""
    rtype = record.rec_type
    if rtype not in ("response", "resource"):
        return None
    uri = (record.rec_headers.get_header("WARC-Target-URI") or "").strip().strip("<>")
    if _UNSAFE_URI.search(uri):  # control characters or spaces: not a URL, and not for a log line
        return Skip(f"{shown}#{ascii(uri)[1:-1]}", "warc_bad_uri", "control characters or spaces in the URI")
    where = f"{shown}#{uri}" if uri else shown
    is_file = uri.startswith(FILE_URI_PREFIX)
    if not is_file and urlsplit(uri).scheme not in ("http", "https"):
        return Skip(where, "warc_not_http", uri.split(":", 1)[0] or "no URI", failure=False)
    if record.rec_headers.get_header("WARC-Truncated"):
        return Skip(where, "warc_truncated", record.rec_headers.get_header("WARC-Truncated"))
    fetched_at = _iso_from_warc(record.rec_headers.get_header("WARC-Date")) or utc_timestamp()
    if rtype == "response":
        if record.http_headers is None:
            return Skip(where, "warc_bad_http", "response record without HTTP headers")
        try:
            status = int(record.http_headers.get_statuscode())
        except (TypeError, ValueError):
            return Skip(where, "warc_bad_http", "status line unreadable")
        headers: dict[str, str] = {}
        for key, value in record.http_headers.headers:
            key = key.strip().lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        encoding = (headers.get("content-encoding") or "").strip().lower()
        if encoding and encoding != "identity" and encoding not in supported:
            return Skip(where, "unsupported_encoding", encoding)
    else:  # resource: the record block is the body; its WARC Content-Type is the type
        status = 200
        headers = {"content-type": record.rec_headers.get_header("Content-Type") or ""}
    if status != 200:
        return Skip(where, f"http_{status}", "", failure=False)
    ctype = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype not in PAGE_TYPES:
        return Skip(where, "not_a_page", ctype, failure=False)
    record._dispatches_read = True
    try:
        body, complete = _read_payload(record, max_size)
    except Exception as exc:  # zlib/brotli errors inside one record: skip it, keep going
        return Skip(where, "bad_encoding", f"{type(exc).__name__}: {exc}"[:200])
    if not complete:  # warcio hands on what is there; a cut page must not become an article
        return Skip(where, "warc_truncated", "record shorter than its Content-Length")
    if len(body) > max_size:
        return Skip(where, "too_large", f"payload over {max_size / (1024 * 1024):.1f} MiB")
    if not body.strip():
        return Skip(where, "empty")
    kind = sniff_capture(body)
    if kind:
        return Skip(where, "binary", kind)
    headers = {k: v for k, v in headers.items() if k not in _DECODED_AWAY}
    if not ctype:
        headers["content-type"] = "text/html" if body.lstrip()[:1] == b"<" else "text/plain"
    meta = {"warc_file": name, "warc_record_id": record.rec_headers.get_header("WARC-Record-ID") or ""}
    if is_file:
        return RawPage(
            url=None,
            final_url=None,
            status=200,
            headers=headers,
            body=body,
            fetched_at=fetched_at,
            spider="ingest",
            discovered_via="warc",
            source_path=unquote(uri[len(FILE_URI_PREFIX) :]),
            meta=meta,
        )
    source_path = record.rec_headers.get_header(SOURCE_PATH_HEADER)
    return RawPage(
        url=uri,
        final_url=uri,
        status=status,
        headers=headers,
        body=body,
        fetched_at=fetched_at,
        spider="ingest",
        discovered_via="warc",
        source_path=unquote(source_path) if source_path else None,
        meta=meta,
    )


def _drain(record) -> bool:
    """Read the rest of a record we did not use; False when the file ends before it does."""
    owed = getattr(record.raw_stream, "limit", None)
    if owed is None:
        return False
    while owed > 0:
        chunk = record.raw_stream.read(min(owed, 1 << 16))
        if not chunk:
            return False
        owed = record.raw_stream.limit
    return True


class _Gunzip:
    """A read-only stream of the decompressed members of a gzip file, bounded per read.

    Unlike `gzip.GzipFile`, a file cut short gives every byte that could be decompressed and
    then sets `truncated` instead of raising (and losing the last block's data).
    """

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.pending = b""
        self.truncated = False
        self.done = False

    def read(self, size: int = -1) -> bytes:
        size = size if size and size > 0 else 1 << 20
        out = []
        n = 0
        while n < size and not self.done:
            if self.dec.eof:  # next member, or the end
                rest = self.dec.unused_data
                self.dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self.pending = rest + self.pending
                if not self.pending:
                    self.pending = self.raw.read(1 << 16)
                    if not self.pending:
                        self.done = True
                        break
                if not self.pending.strip(b"\x00"):  # zero padding after the last member
                    self.done = True
                    break
            if not self.pending and not self.dec.unconsumed_tail:
                self.pending = self.raw.read(1 << 16)
                if not self.pending:
                    self.truncated = True
                    self.done = True
                    break
            data = self.dec.unconsumed_tail + self.pending
            self.pending = b""
            chunk = self.dec.decompress(data, size - n)
            if chunk:
                out.append(chunk)
                n += len(chunk)
        return b"".join(out)

    def close(self) -> None:
        pass


def _not_an_archive(fh: BinaryIO) -> str | None:
    """Why `fh` is not a WARC/ARC file (from its first bytes), or None; rewinds `fh`."""
    try:
        start = fh.tell()
        head = fh.read(4096)
        fh.seek(start)
    except (OSError, ValueError):
        return None  # not seekable: let warcio decide
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 64)
        except zlib.error as exc:
            return f"broken gzip: {exc}"
    head = head.lstrip(b"\r\n")
    if head.startswith((b"WARC/", b"filedesc://")):
        return None
    return "not a WARC or ARC file (no WARC/ version line at the start)"


def _read_payload(record, max_size: int) -> tuple[bytes, bool]:
    """Up to max_size + 1 decoded payload bytes, and whether the record block was complete."""
    stream = record.content_stream()
    chunks, n = [], 0
    while n <= max_size:
        chunk = stream.read(min(1 << 16, max_size + 1 - n))
        if not chunk:
            break
        chunks.append(chunk)
        n += len(chunk)
    body = b"".join(chunks)
    if n > max_size:
        return body, True
    # The record's own LimitReader counts down the block's Content-Length: bytes still owed
    # that the file cannot give mean the file ends inside this record.
    owed = getattr(record.raw_stream, "limit", None)
    if owed is None:  # no usable Content-Length: the header block itself was cut
        return body, False
    if owed > 0:
        return body, len(record.raw_stream.read(owed)) == owed
    return body, True


def write_warc(
    out: BinaryIO,
    pages: Iterable[RawPage],
    *,
    filename: str = "",
    gzip: bool = True,
    info: dict[str, str] | None = None,
) -> int:
    """Write `pages` as WARC/1.1: a warcinfo record, then one record per page.

    A page with a URL becomes a `response` record (its final URL, fetched_at as WARC-Date, the
    status line and headers it was stored with, Content-Length of the stored body). A page read
    from a file without a URL becomes a `resource` record at `file_uri(source_path)`.

    Returns:
        the number of page records written.
    """
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    writer = WARCWriter(out, gzip=gzip, warc_version="1.1")
    fields = {
        "software": "Dispatches (warcio)",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "description": "Raw pages stored by Dispatches. Bodies are stored decoded, so "
        "Content-Encoding and Transfer-Encoding are dropped and Content-Length is the body's.",
    }
    fields.update(info or {})
    writer.write_record(writer.create_warcinfo_record(filename, fields))
    count = 0
    for raw in pages:
        uri = raw.final_url or raw.url
        warc_headers = {"WARC-Date": warc_date(raw.fetched_at)}
        if uri:
            if raw.url and raw.final_url and raw.url != raw.final_url:
                warc_headers["WARC-Dispatches-Requested-URI"] = raw.url
            if raw.source_path:  # a saved HTML file that named its URL: keep where it was read
                warc_headers[SOURCE_PATH_HEADER] = quote(raw.source_path, safe=_PATH_SAFE)
            try:
                reason = HTTPStatus(raw.status).phrase
            except ValueError:
                reason = "Unknown"
            header_list = [
                (_title_case(k), str(v)) for k, v in raw.headers.items() if k.lower() not in _DECODED_AWAY
            ]
            header_list.append(("Content-Length", str(len(raw.body))))
            http_headers = StatusAndHeaders(f"{raw.status} {reason}", header_list, protocol="HTTP/1.1")
            record = writer.create_warc_record(
                uri,
                "response",
                payload=io.BytesIO(raw.body),
                length=len(raw.body),
                http_headers=http_headers,
                warc_headers_dict=warc_headers,
            )
        else:
            ctype = raw.headers.get("content-type") or "application/octet-stream"
            record = writer.create_warc_record(
                file_uri(raw.source_path or "unnamed"),
                "resource",
                payload=io.BytesIO(raw.body),
                length=len(raw.body),
                warc_content_type=ctype,
                warc_headers_dict=warc_headers,
            )
        writer.write_record(record)
        count += 1
    return count


def _title_case(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))
