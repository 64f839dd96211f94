"""What a cleaned page becomes before the database is asked anything: the copy row, its URL
key, role and rank, the URLs it claims as its original, and its prepared text.

Owns the one timestamp rule of the store (`stamp`): every time it writes has the form
`YYYY-MM-DDTHH:MM:SSZ`, whatever form the page came with. Leaves every decision that needs
the database to `store.copies` and `store.identity`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from cleaners.model import Document, RawPage, content_hash, parse_timestamp, utc_timestamp

from . import neardup
from .urls import host_of, normalise_url, rank_for, redact_url, role_for, strip_secrets

log = logging.getLogger("dispatches.store")


def stamp(value: str | None) -> str:
    """A time as the store writes it; a missing or unreadable one is now (and logged)."""
    if value:
        try:
            return utc_timestamp(parse_timestamp(value))
        except ValueError:
            log.warning("store: unreadable time %r, using the time of saving", value)
    return utc_timestamp()


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


@dataclass(slots=True)
class Prepared:
    """One page ready for the identity cascade.

    `fps` and `postings` are filled on first use (`store.index`): the candidate search and
    the index insert of one save ask the same questions.
    """

    key: str  # normalised URL, or file:<path>
    asked: str | None  # the normalised URL asked for, when a permanent redirect led elsewhere
    rank: int  # 0 state.gov, 1 embassy, 2 other official, 3 unofficial
    role: str
    text: str
    textobj: neardup.Text
    claims: list[tuple[str, str | None]]  # (key, redacted URL) of claimed originals
    copy: dict[str, Any]  # the `copies` row without article and match
    translation_key: str | None
    hints: dict[str, str]  # discovery hints for `url_state`
    fps: list[int] | None = None
    postings: dict[int, int] | None = None


PERMANENT_REDIRECTS = frozenset({301, 308})

# Where an official page says it republishes another office's text: "The following statement
# was released by the Department of State", "Original statement: https://www.state.gov/...",
# "Republished from ...". Read only from the first and last lines, where such notes stand.
_REPUBLISHED = re.compile(
    r"\b(?:was|is|were|has\s+been)\s+(?:originally\s+|first\s+)?(?:released|issued|published|posted)\s+"
    r"(?:by|on|at|from)\s+(?:the\s+)?(?:U\.?\s?S\.?\s+)?(?:Department\s+of\s+State|State\s+Department|"
    r"Office\s+of\s+the\s+Spokesperson|Secretary\s+of\s+State|White\s+House|(?:www\.)?state\.gov)"
    r"|^\W*(?:original(?:ly\s+published)?|republished\s+from|source|read\s+the\s+original|"
    r"see\s+the\s+original)\b[^\n]{0,60}(?:state\.gov|Department\s+of\s+State)",
    re.I | re.M,
)
EDGE_LINES = 3


def republished(text: str, source_line: str | None = None) -> bool:
    """Whether a page says it republishes a Department text (its first or last lines, or
    a source line naming the Department)."""
    if source_line and re.search(r"department\s+of\s+state|state\s+department", source_line, re.I):
        return True
    lines = [ln for ln in (text or "").splitlines() if ln.strip()]
    edges = lines if len(lines) <= 2 * EDGE_LINES else lines[:EDGE_LINES] + lines[-EDGE_LINES:]
    return any(_REPUBLISHED.search(ln) for ln in edges if len(ln.split()) <= 40)


def redirect_is_permanent(meta: dict[str, Any]) -> bool:
    """Whether the redirects that led to a page were permanent (301/308).

    Read from `RawPage.meta["redirect_status"]` (a status or a list of them, e.g. Scrapy's
    `redirect_reasons`); when the fetcher did not say, a redirect is taken as a move.
    """
    given = meta.get("redirect_status", meta.get("redirect_reasons"))
    if given is None:
        return True
    statuses = given if isinstance(given, list | tuple) else [given]
    codes = [int(x) for x in statuses if str(x).isdigit()]
    return not codes or all(c in PERMANENT_REDIRECTS for c in codes)


def _headers(raw: RawPage) -> dict[str, str]:
    # Credentials never reach the database (the headers are kept for WARC export).
    return {
        k.lower(): v for k, v in dict(raw.headers).items() if k.lower() not in ("set-cookie", "authorization")
    }


def _claims(doc: Document, role: str, key: str, official: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """Claimed originals of `doc`: its attribution, and a rel=canonical to an official host."""
    if doc.translation_of:
        return []
    urls = []
    if doc.claimed_original:
        urls.append(doc.claimed_original)
    if doc.canonical:
        host = host_of(doc.canonical)
        if host and rank_for(role_for(doc.canonical), host, official) < 3:
            urls.append(doc.canonical)
    out: list[tuple[str, str | None]] = []
    for u in urls:
        ck = normalise_url(u)
        if ck and ck != key and ck not in [k for k, _ in out]:
            out.append((ck, redact_url(u)))
    return out


def prepare(doc: Document, raw: RawPage, crawl_id: int | None, official: tuple[str, ...]) -> Prepared:
    """Keys, role, hashes and shingles of a page (no database)."""
    served = raw.final_url or raw.url or doc.url
    key = normalise_url(served) if served else None
    url = redact_url(served) if key else None
    host: str | None
    if key is None:
        where = raw.source_path or served or hashlib.sha256(raw.body).hexdigest()
        key = f"file:{where}"
        # A saved capture naming its official original was republished by someone.
        role, host = ("syndicated" if doc.claimed_original else "file"), None
    else:
        host = host_of(served)
        role = role_for(served)
    meta = dict(raw.meta or {})
    # A temporary redirect (a login page, a maintenance page) says nothing about the URL asked.
    asked = normalise_url(raw.url) if raw.url and redirect_is_permanent(meta) else None
    # A capture read from a web archive: a copy of its own (role `archived`), keyed by the
    # capture URL, that claims the URL it was captured from (so it joins that article).
    archived = str(meta.get("archived_url") or "") or None
    original_key = None
    if archived and normalise_url(archived) and not key.startswith("file:"):
        original_key, key, role, asked = key, str(normalise_url(archived)), "archived", None
    rank = rank_for(role, host, official)
    text = doc.text or ""
    headers = _headers(raw)
    guid = str(meta["guid"]).strip() if meta.get("guid") is not None else ""
    copy = {
        "url_key": key,
        "url": url,
        "site": host,
        "role": role,
        "rank": rank,
        "fetched_at": stamp(raw.fetched_at),
        "http_status": raw.status,
        "etag": headers.get("etag"),
        "last_modified": headers.get("last-modified"),
        "claimed_original_url": redact_url(doc.claimed_original) if doc.claimed_original else None,
        "page_sha256": hashlib.sha256(raw.body).hexdigest() if raw.body is not None else None,
        "text_sha256": doc.content_hash or content_hash(text),
        "title": doc.title,
        "published": _iso(doc.published),
        "modified": _iso(doc.modified),
        "publisher": doc.publisher,
        "speaker": doc.speaker,
        "doc_type": doc.doc_type,
        "language": doc.language,
        "translation_of": redact_url(doc.translation_of) if doc.translation_of else None,
        "canonical": redact_url(doc.canonical) if doc.canonical else None,
        "source_line": doc.source_line,
        "removed": json.dumps([{"rule": r.rule, "text": r.text} for r in doc.removed], ensure_ascii=False),
        "removed_count": len(doc.removed),
        "extraction": doc.extraction,
        "refused": json.dumps([{"rule": r.rule, "text": r.text} for r in doc.refused], ensure_ascii=False)
        if doc.refused
        else None,
        "discovered_via": raw.discovered_via,
        "source_path": raw.source_path,
        "spider": raw.spider,
        "crawl_id": crawl_id,
        "raw_url": redact_url(raw.url) if raw.url else None,
        "final_url": redact_url(raw.final_url) if raw.final_url else None,
        "headers": json.dumps(headers, ensure_ascii=False, sort_keys=True),
        "meta": json.dumps(meta, default=str, ensure_ascii=False, sort_keys=True),
        "guid": guid or None,
        "republished": int(rank <= 2 and republished(text, doc.source_line)),
        # As asked, secrets removed: `redact_url` would squash the URL inside the capture's.
        "archived_url": strip_secrets(archived) if original_key and archived else None,
        "memento_at": stamp(str(meta["memento_at"])) if original_key and meta.get("memento_at") else None,
    }
    claims = _claims(doc, role, key, official)
    if original_key and url and original_key not in [k for k, _ in claims]:
        claims.insert(0, (original_key, url))
    return Prepared(
        key=key,
        asked=asked if asked != key else None,
        rank=rank,
        role=role,
        text=text,
        textobj=neardup.Text.of(text),
        claims=claims,
        copy=copy,
        translation_key=normalise_url(doc.translation_of) if doc.translation_of else None,
        hints={k: str(meta[k]) for k in ("lastmod", "modified_gmt") if meta.get(k)},
    )
