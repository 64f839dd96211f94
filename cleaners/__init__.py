"""Cleaners: bytes plus a URL in, a `Document` out. No network, no Scrapy, no SQLite.

`clean(raw)` for pages and files, `clean_text(text)` for text captures,
`soft_block_reason(raw)` for the crawler's block detection; `cleaners.pool.CleanerPool`
runs `clean` in worker processes with a time limit.
"""

from cleaners.core import clean, clean_text, soft_block_reason
from cleaners.model import Document, RawPage, Rejected, Removal, content_hash, normalise_text

__all__ = [
    "Document",
    "RawPage",
    "Rejected",
    "Removal",
    "clean",
    "clean_text",
    "content_hash",
    "normalise_text",
    "soft_block_reason",
]
