"""Cleaners: bytes plus a URL in, a `Document` out. No network, no Scrapy, no SQLite."""

from cleaners.model import Document, RawPage, Rejected, Removal, content_hash, normalise_text

__all__ = ["Document", "RawPage", "Rejected", "Removal", "content_hash", "normalise_text"]
