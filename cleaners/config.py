"""`CleanConfig`: what a caller may tell the cleaners about its deployment.

The cleaners never read the environment or Scrapy settings; whoever calls `clean` (the crawl
pipeline, `scrapy ingest`, `scrapy reprocess`, `python -m cleaners`) passes what its settings
say, and `CleanerPool` hands the same value to its worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass

from cleaners.urls import DEFAULT_OFFICIAL_DOMAINS


@dataclass(frozen=True, slots=True)
class CleanConfig:
    """Settings of one cleaning run.

    Args:
        official_domains: host patterns whose copy of a statement is the original
            (`DISPATCHES_OFFICIAL_DOMAINS`; see `cleaners.urls.is_official_host`). A page on such
            a host keeps its own markup's date and names its publisher from the host.
        extraction: the trafilatura path tried first, "full" (the default) or "fast"; a
            result that looks truncated or like navigation is extracted again either way
            (see `cleaners.extract.main_text`).
    """

    official_domains: tuple[str, ...] = DEFAULT_OFFICIAL_DOMAINS
    extraction: str = "full"

    def __post_init__(self) -> None:
        if isinstance(self.official_domains, str):
            raise TypeError("official_domains is a sequence of host patterns, not one string")
        if self.extraction not in ("full", "fast"):
            raise ValueError(f"extraction is 'full' or 'fast', not {self.extraction!r}")
        patterns = tuple(p.strip().lower() for p in self.official_domains if p and p.strip())
        object.__setattr__(self, "official_domains", patterns)
