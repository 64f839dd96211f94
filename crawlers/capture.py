"""What reading captures shares, whatever holds them: the `Skip` record.

`crawlers.diskinput` (files and folders) and `crawlers.warc` (records inside a WARC) both turn
bytes into `RawPage`s or `Skip`s; this module holds what they both need, so neither imports
the other's internals. Deciding whether bytes are text, and decoding them, is
`cleaners.decode`'s (`sniff_capture`, `decode_capture`); timestamps are
`cleaners.model.utc_timestamp`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Skip"]


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
