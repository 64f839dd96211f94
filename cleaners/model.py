"""The two values that cross package boundaries: `RawPage` in, `Document` out.

Crawlers and the ingest command build `RawPage`s; `cleaners.clean` turns one into a
`Document`; `store.save(doc, raw)` decides what it is. Nothing here touches the network,
Scrapy or SQLite, so every package may import it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time


@dataclass(frozen=True, slots=True)
class RawPage:
    """A fetched page or a file read from disk, exactly as it came.

    Args:
        url: the URL asked for (for files: the URL the file names, or None).
        final_url: where the body came from after redirects (None for files without a URL).
        status: HTTP status (200 for files).
        headers: response headers, lower-cased names; a WARC record's HTTP headers.
        body: the raw body bytes (already transfer-decoded).
        fetched_at: ISO 8601 UTC timestamp of the fetch (or the file's mtime / WARC-Date).
        spider: spider name, "ingest" or "reprocess".
        discovered_via: how the URL was found: "rest", "sitemap", "listing", "feed",
            "link", "file", "warc".
        source_path: for files, the path relative to the ingest root.
        meta: hints from discovery that are not in the body (sitemap lastmod, REST
            modified_gmt, feed pubDate, the English original of a translation, role hint).
    """

    url: str | None
    final_url: str | None
    status: int
    headers: Mapping[str, str]
    body: bytes
    fetched_at: str
    spider: str | None = None
    discovered_via: str | None = None
    source_path: str | None = None
    meta: Mapping[str, object] = field(default_factory=dict)

    @property
    def where(self) -> str:
        """The URL the body was read from, or the file path when there is none."""
        return self.final_url or self.url or f"file:{self.source_path}"

    @property
    def content_type(self) -> str:
        return (self.headers.get("content-type") or "").split(";")[0].strip().lower()


@dataclass(frozen=True, slots=True)
class Removal:
    """One span of text a cleaner cut, and the named rule that cut it."""

    rule: str
    text: str


@dataclass(frozen=True, slots=True)
class Document:
    """Clean text and metadata of one page; `store.save` decides what it becomes."""

    url: str | None  # where it was read, after redirects (None for bare files)
    title: str | None
    text: str  # cleaned main text, paragraphs separated by blank lines
    published: date | None  # the page's own original date, not the updated one
    publisher: str | None  # "U.S. Department of State", "U.S. Embassy Mexico City"
    language: str | None  # ISO 639-1
    claimed_original: str | None  # "Official news published at <url>", rel=canonical elsewhere
    removed: tuple[Removal, ...] = ()
    content_hash: str = ""  # sha256 of normalise_text(text)
    speaker: str | None = None  # "Office of the Spokesperson", "Antony J. Blinken, Secretary of State"
    doc_type: str | None = None  # "press release", "statement", "remarks", "readout", "media note"
    modified: date | None = None  # last update shown by the page, when distinct from published
    canonical: str | None = None  # rel=canonical / og:url as found on the page
    source_line: str | None = None  # "Press release, Mar. 3, 2015, Embassy of the United States, Mexico City"
    translation_of: str | None = None  # URL of the English original of a translation
    tags: tuple[str, ...] = ()
    encoding: str | None = None  # the charset the body was decoded with (None for str input)
    # the path that gave the text: "full", "fast", "region"; "full+region" / "fast+region" when
    # sentences of a lost section were put back from the content region; "text" for captures
    extraction: str | None = None
    refused: tuple[Removal, ...] = ()  # lines a rule matched but that read as the statement's prose: kept


class Rejected(Exception):
    """A cleaner could not make a Document; `reason` is a short stats key ("too_short")."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[\u2018\u2019\u201a\u201b\u2032]")
_DQUOTE = re.compile(r"[\u201c\u201d\u201e\u201f\u2033]")
_DASH = re.compile(r"[\u2010-\u2015\u2212]")


def normalise_text(text: str) -> str:
    """The form of a text that identity is computed on: NFKC, quotes and dashes folded,
    case folded, whitespace collapsed. Used for `content_hash` and by the store."""
    text = unicodedata.normalize("NFKC", text)
    text = _PUNCT.sub("'", text)
    text = _DQUOTE.sub('"', text)
    text = _DASH.sub("-", text)
    return _SPACE.sub(" ", text).strip().casefold()


def content_hash(text: str) -> str:
    """sha256 hex of the normalised text."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def utc_timestamp(dt: datetime | None = None) -> str:
    """`dt` (now when None) as `YYYY-MM-DDTHH:MM:SSZ`, the one form every stored time takes.

    A naive `dt` is taken as UTC; fractions of a second are dropped. Strings of this form
    sort and compare in time order.
    """
    if dt is None:
        dt = datetime.now(UTC)
    elif dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(s: str) -> datetime:
    """An ISO 8601 time (`...Z`, `...+00:00`, another offset, fractional seconds, no offset,
    which is taken as UTC, or a bare date, taken as midnight UTC) as an aware UTC datetime.

    Raises:
        ValueError: `s` is not such a time.
    """
    text = str(s).strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {s!r}") from None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)
