"""What reading captures shares, whatever holds them: the `Skip` record, UTC timestamps, binary sniffing.

`crawlers.diskinput` (files and folders) and `crawlers.warc` (records inside a WARC) both turn
bytes into `RawPage`s or `Skip`s; this module holds what they both need, so neither imports
the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cleaners.decode import BOMS
from cleaners.decode import sniff_binary as cleaners_sniff_binary

__all__ = ["Skip", "iso_utc", "sniff_binary", "utf16_guess"]


@dataclass(frozen=True, slots=True)
class Skip:
    """A file or record that was not turned into a RawPage, and why.

    Args:
        path: display form of the path (escaped, see `display_path`), or a WARC record URI.
        reason: short key counted in the summary ("too_large", "binary", "symlink_loop", ...).
        detail: a human hint ("pdf", "12.0 MiB > 10.0 MiB").
        failure: True when it is bad input that makes the run exit 1; False for files that
            are simply not captures (README.md, images inside a WARC, request records).
    """

    path: str
    reason: str
    detail: str = ""
    failure: bool = True


def iso_utc(ts: float | datetime) -> str:
    """ISO 8601 UTC with seconds, e.g. "2024-05-01T10:00:00+00:00"."""
    dt = datetime.fromtimestamp(ts, UTC) if isinstance(ts, (int, float)) else ts
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).replace(microsecond=0).isoformat()


def sniff_binary(data: bytes) -> str | None:
    """The kind of binary payload `data` starts with, or None when it may be text.

    Magic bytes are the cleaners' (a file named .html that starts with them is skipped before
    anything, trafilatura included, would inflate or parse it); on disk, NUL bytes that are not
    UTF-16 also mean binary."""
    kind = cleaners_sniff_binary(data)
    if kind is not None:
        return kind
    head = data[:64]
    for bom, _ in BOMS:
        if head.startswith(bom):
            return None
    sample = data[:8192]
    if b"\x00" in sample and utf16_guess(sample) is None:
        return "binary"
    return None


def utf16_guess(sample: bytes) -> str | None:
    """UTF-16 without a BOM: text in Latin script has a NUL in every other byte."""
    if len(sample) < 4:
        return None
    even = sample[0::2]
    odd = sample[1::2]
    if odd.count(0) > 0.8 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.8 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None
