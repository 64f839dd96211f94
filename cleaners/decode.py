"""Bytes to text, safely: binary sniffing, charset choice, scrubbing.

Owns everything that happens before a parser sees the page: refusing binary payloads by
their magic bytes, choosing one decoding (BOM, header charset, the body's own declaration,
then detection with charset_normalizer), and removing what SQLite or lxml refuse (NULs,
control characters, lone surrogates). trafilatura only ever gets the `str` made here, so
its own byte path (which inflates any compressed input without a limit) is never used.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

import charset_normalizer

# Magic numbers of payloads that are never a statement page. Checked at offset 0 (PDF also
# after leading whitespace, which some servers prepend).
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"RIFF", "riff"),  # only with a WEBP/WAVE/AVI form type (see sniff_binary)
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"PK\x07\x08", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"\x7fELF", "elf"),
    (b"MZ\x90\x00", "exe"),
    (b"\xcf\xfa\xed\xfe", "mach-o"),
    (b"\xfe\xed\xfa\xcf", "mach-o"),
    (b"\xca\xfe\xba\xbe", "java-class"),
    (b"\x00asm", "wasm"),
    (b"SQLite format 3\x00", "sqlite"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"\x00\x00\x01\x00", "ico"),
    (b"OggS", "ogg"),
    (b"ID3", "mp3"),
    (b"\x1a\x45\xdf\xa3", "webm"),
    (b"wOFF", "woff"),
    (b"wOF2", "woff2"),
)

BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
# Everything XML 1.0 and sqlite3 refuse, except tab/newline/carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Declared single-byte defaults that servers send for UTF-8 pages (browser-compatible
# labels all mean windows-1252 anyway).
_WESTERN = {"iso-8859-1", "latin-1", "latin1", "l1", "cp1252", "windows-1252", "us-ascii", "ascii", "cp819"}


def _cp1252_fallback(err: UnicodeError) -> tuple[str, int]:
    """Decode the bytes UTF-8 refused one by one as windows-1252 (the usual culprit: a
    0x92 apostrophe pasted into a UTF-8 page); bytes cp1252 leaves undefined become U+FFFD."""
    if not isinstance(err, UnicodeDecodeError):  # registered for decoding only
        raise err
    bad = err.object[err.start : err.end]
    return bad.decode("cp1252", errors="replace"), err.end


codecs.register_error("dispatches-cp1252", _cp1252_fallback)


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    replaced: bool  # some bytes did not fit the chosen encoding


def sniff_binary(body: bytes) -> str | None:
    """The kind of binary payload `body` is ('pdf', 'png', ...), or None for text."""
    head = body[:64]
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            if kind == "riff" and head[8:12] not in (b"WEBP", b"WAVE", b"AVI "):
                continue
            return kind
    if head[4:8] == b"ftyp":
        return "mp4"
    if body[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    return None


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _HEADER_CHARSET.search(content_type)
    return _codec(m.group(1)) if m else None


def meta_charset(body: bytes) -> str | None:
    m = _META_CHARSET.search(body[:4096])
    return _codec(m.group(1).decode("ascii", "ignore")) if m else None


def _looks_nul_heavy(body: bytes) -> bool:
    sample = body[:2048]
    return bool(sample) and sample.count(0) > len(sample) // 8


def decode_body(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode a page body once, in browser order, never raising.

    Order: BOM; the Content-Type charset; the body's `<meta charset>`; strict UTF-8;
    charset_normalizer's best guess; UTF-8 with replacement. A declared western
    single-byte charset loses to strict UTF-8 when the body is valid multi-byte UTF-8
    (decoding it as latin-1 would only produce mojibake). A declared UTF-8 body with a few
    stray bytes keeps UTF-8 and reads those bytes as windows-1252.
    """
    for bom, enc in BOMS:
        if body.startswith(bom):
            return _decode_as(body[len(bom) :], enc)
    declared = header_charset(content_type) or meta_charset(body)
    if declared in ("utf-16", "utf-32") or (declared and declared.startswith(("utf-16", "utf-32"))):
        return _decode_as(body, declared)
    if declared and declared != "utf-8":
        if declared.replace("_", "-") in _WESTERN or declared in ("cp1252", "latin-1", "iso8859-1", "ascii"):
            try:
                text = body.decode("utf-8")
                if not text.isascii():
                    return _decode_as(body, "utf-8")
            except UnicodeDecodeError:
                pass
        return _decode_as(body, declared)
    try:
        body.decode("utf-8")
        return _decode_as(body, "utf-8")
    except UnicodeDecodeError as err:
        if declared == "utf-8" or _mostly_utf8(body, err):
            return _decode_as(body, "utf-8")
    best = None
    if not _looks_nul_heavy(body):
        try:
            best = charset_normalizer.from_bytes(body[:200_000]).best()
        except Exception:  # detection is a guess; a failing guess must not fail the page
            best = None
    if best is not None and best.encoding:
        enc = _codec(best.encoding) or "utf-8"
        return _decode_as(body, enc)
    return _decode_as(body, "utf-8")


def _mostly_utf8(body: bytes, err: UnicodeDecodeError) -> bool:
    """True when the body holds real multi-byte UTF-8 before the first bad byte."""
    prefix = body[: err.start]
    return any(b >= 0xC2 for b in prefix)


# C0 controls except tab, newline and carriage return; removed from 8-bit bodies before
# decoding (bytes.translate is far cheaper than a regex over the decoded page).
_C0_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13)) + b"\x7f"


def _decode_as(body: bytes, encoding: str) -> Decoded:
    if not encoding.startswith(("utf-16", "utf-32", "utf_16", "utf_32")):
        body = body.translate(None, _C0_BYTES)
    try:
        return Decoded(body.decode(encoding), encoding, False)
    except UnicodeDecodeError:
        handler = "dispatches-cp1252" if encoding == "utf-8" else "replace"
        return Decoded(body.decode(encoding, errors=handler), encoding, True)
    except LookupError:
        return Decoded(body.decode("utf-8", errors="replace"), "utf-8", True)


def scrub(text: str) -> str:
    """NFC text without NULs, control characters or lone surrogates."""
    text = _SURROGATE.sub("\ufffd", text)
    text = _CONTROL.sub("", text)
    if unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


# --- captures: saved files and WARC records --------------------------------------------------
# A capture read from disk or from a WARC has no browser that chose its encoding and often no
# Content-Type to trust, so it is decoded by its own bytes, and refused when they are no text.

# Control characters that do not occur in text (tab, newlines and form feed do).
_CAPTURE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class NotText(UnicodeError):
    """Bytes that are not text. `kind` names what they look like: a `sniff_binary` kind,
    "binary" (NUL bytes that are not UTF-16) or "control" (mostly control characters)."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(detail or kind)
        self.kind = kind


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 without a BOM: text in Latin script has a NUL in every other byte."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.8 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.8 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def sniff_capture(data: bytes) -> str | None:
    """`sniff_binary` for a capture: besides magic bytes, NUL bytes that are neither UTF-16
    (with or without a BOM) nor UTF-32 also mean "binary". None when `data` may be text."""
    kind = sniff_binary(data)
    if kind is not None:
        return kind
    if any(data.startswith(bom) for bom, _ in BOMS):
        return None
    sample = data[:8192]
    if b"\x00" in sample and _utf16_without_bom(sample) is None:
        return "binary"
    return None


def _capture_text(text: str, encoding: str) -> Decoded:
    sample = text[:20000]
    controls = len(_CAPTURE_CONTROL.findall(sample))
    if text.strip() and controls > max(8, 0.02 * len(sample)):
        raise NotText("control", f"{controls} control characters: not text")
    return Decoded(text, encoding, False)


def decode_capture(data: bytes) -> Decoded:
    """Decode a capture by its bytes alone, or refuse it.

    Order: BOM; strict UTF-8; UTF-16 without a BOM; charset_normalizer's best guess, where
    windows-1252 (what old U.S. captures are in) wins a tie with its Central European
    cousins; windows-1252. Unlike `decode_body` nothing is replaced: the encoding returned
    explains every byte, and is recorded as the capture's provenance.

    Raises:
        NotText: `sniff_capture` finds binary, or the text is mostly control characters.
        UnicodeError: no encoding explains the bytes.
    """
    kind = sniff_capture(data)
    if kind is not None:
        raise NotText(kind)
    for bom, enc in BOMS:
        if data.startswith(bom):
            return _capture_text(data[len(bom) :].decode(enc), enc)
    try:
        return _capture_text(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    utf16 = _utf16_without_bom(data[:8192])
    if utf16:
        return _capture_text(data.decode(utf16), utf16)
    if b"\x00" in data:  # past the part sniff_capture looked at
        raise NotText("binary", "NUL bytes in a text that is neither UTF-16 nor UTF-32")
    results = charset_normalizer.from_bytes(data)
    best = results.best()
    if best is not None and best.encoding:
        for match in results:
            if match.encoding == "cp1252" and match.chaos <= best.chaos and match.coherence >= best.coherence:
                best = match
                break
        return _capture_text(str(best), best.encoding)
    try:
        return _capture_text(data.decode("cp1252"), "cp1252")
    except UnicodeDecodeError:
        raise UnicodeError("no text encoding fits these bytes") from None
