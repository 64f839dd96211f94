"""Cleaners: bytes plus a URL in, a `Document` out. No network, no Scrapy, no SQLite.

`clean(raw, config)` for pages and files, `clean_text(text)` for text captures,
`soft_block_reason(raw)` for a page's block-page check; `CleanConfig` carries the run's
settings; `cleaners.pool.CleanerPool` runs `clean` in worker processes with a time limit.
"""

from cleaners.config import CleanConfig
from cleaners.model import Document, RawPage, Rejected, Removal, content_hash, normalise_text

_CORE = ("clean", "clean_text", "soft_block_reason")


def __getattr__(name: str):
    # cleaners.core (trafilatura, lxml, htmldate: a quarter of a second) is imported on first
    # use, so processes that need only the model start faster
    if name in _CORE:
        from cleaners import core

        return getattr(core, name)
    raise AttributeError(f"module 'cleaners' has no attribute {name!r}")


__all__ = [
    "CleanConfig",
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
