"""The main text, by trafilatura, checked against the page's own content region; and
trafilatura's and htmldate's guesses at metadata.

trafilatura runs on the tree we parsed and pruned, without its own metadata pass (what the
markup states is read by `cleaners.metadata`; the heuristics in `Guesses` are asked only for
what it does not state). It runs in its full mode by default (readability and jusText
compared with its own result): its `fast` mode is cheaper but keeps only the first of
several sibling content blocks on some templates, which cuts a statement to its first
section. `fast` is there for a caller that asks for it (`CleanConfig.extraction`).

Whatever path ran, its result is checked against the page (`cleaners.region`): a result that
reads like navigation, holds far less text than the page's densest content region, or lost
every sentence of one of several sibling content sections is extracted again by the next path
(fast, then full, then the content region itself) and the result that covers the region best
is kept. When the region is split over sibling sections, the sentences of it that the kept
result still lacks (a short section an extractor took for boilerplate) are put back where
they stand, and the path says so ("full+region"). The path that produced the text is recorded
(`Extraction.path`, `Document.extraction`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date

from htmldate import find_date
from lxml.html import HtmlElement

from cleaners.model import Rejected
from cleaners.optional import without

# trafilatura imports py3langid (and numpy with it) only for its `target_language` filter,
# which Dispatches never sets: a text's language is `cleaners.language`'s, which imports
# py3langid itself when a text is not plainly English. Without it a cleaner worker starts
# about 0.1 s sooner.
with without("py3langid"):
    import trafilatura
    from trafilatura.metadata import extract_sitename, extract_title
    from trafilatura.settings import Extractor
from cleaners.region import (
    Region,
    content_region,
    coverage,
    looks_like_navigation,
    lost_sections,
    missing_chars,
    restore,
    share_inside,
)

PATHS = ("fast", "full")  # what a caller may ask for; "region" is only ever a fallback

_EXTRACTORS = {
    path: Extractor(
        output_format="python",
        fast=path == "fast",
        recall=True,
        comments=False,
        tables=True,
        with_metadata=False,
    )
    for path in PATHS
}

# A result is complete when it holds this share of the region's prose, or misses less than a
# paragraph of it ...
_COVERED = 0.8
_MISSING = 300
# ... and a fallback replaces it only when it covers clearly more; the region itself only
# when the result lies mostly inside it (else the region is not the statement's)
_BETTER_BY = 0.15
_INSIDE = 0.5


@dataclass(frozen=True, slots=True)
class Extraction:
    """The main text and the path that produced it: "full", "fast", "region" (the page's
    densest content region taken whole, when both trafilatura paths lost part of it), or a
    trafilatura path with "+region" (its text, with the sentences of the region's sibling
    sections that it lost put back)."""

    text: str
    path: str


def _options(path: str, url: str | None) -> Extractor:
    """trafilatura's options for one page: a copy of one prepared Extractor (building one
    reads its settings from a ConfigParser)."""
    opts = copy.copy(_EXTRACTORS[path])
    opts.url = url
    opts.source = url and url.encode("utf-8", "replace").decode("utf-8")
    return opts


def _trafilatura(tree: HtmlElement, url: str | None, path: str) -> str:
    try:
        # trafilatura works on its own copy: the tree stays whole for a second path
        result = trafilatura.bare_extraction(tree, options=_options(path, url))
    except (ValueError, TypeError, RecursionError, MemoryError) as err:
        raise Rejected("boilerplate_only", f"extraction failed: {type(err).__name__}") from err
    # output_format="python" gives trafilatura's Document (typed as that or a dict)
    return getattr(result, "text", None) or ""


def _complete(text: str, region: Region) -> bool:
    if looks_like_navigation(text, region) or lost_sections(text, region):
        return False
    return coverage(text, region) >= _COVERED or missing_chars(text, region) < _MISSING


def main_text(tree: HtmlElement, url: str | None, path: str = "full") -> Extraction:
    """The main text of `tree` ("" when none is found), by `path` first ("full" or "fast"),
    re-extracted by the next path when the result looks truncated or like navigation.

    Raises:
        Rejected: boilerplate_only when trafilatura fails on the tree.
        ValueError: `path` is not one of PATHS.
    """
    if path not in PATHS:
        raise ValueError(f"extraction path {path!r} is not one of {PATHS}")
    region = content_region(tree)
    best = Extraction(_trafilatura(tree, url, path), path)
    if region is None:
        return best
    if path == "fast" and not _complete(best.text, region):
        full = Extraction(_trafilatura(tree, url, "full"), "full")
        if _better(full.text, best.text, region):
            best = full
    restored = restore(best.text, region)
    if restored != best.text:
        best = Extraction(restored, f"{best.path}+region")
    if _complete(best.text, region):
        return best
    if share_inside(best.text, region) < _INSIDE and not looks_like_navigation(best.text, region):
        # an article that lies mostly outside the region: the region is something else (a list
        # of teasers, a long comment thread), not the part of the statement that was lost
        return best
    return Extraction(region.text, "region") if _better(region.text, best.text, region) else best


def _better(new: str, old: str, region: Region) -> bool:
    """`new` covers clearly more of the region than `old`, reads as text where `old` reads as
    navigation, or loses fewer of its sections at no cost in prose."""
    new_cover, old_cover = coverage(new, region), coverage(old, region)
    return (
        new_cover >= old_cover + _BETTER_BY
        or (looks_like_navigation(old, region) and not looks_like_navigation(new, region))
        or (lost_sections(new, region) < lost_sections(old, region) and new_cover >= old_cover)
    )


class Guesses:
    """trafilatura's and htmldate's guesses for what the markup did not state, each computed
    only when asked (one page's worth; the tree is the pruned one extraction saw)."""

    def __init__(self, tree: HtmlElement, url: str | None) -> None:
        self.tree, self.url = tree, url

    def title(self) -> str | None:
        return extract_title(self.tree)

    def date(self) -> str | None:
        # no extensive search: dateparser's locale detection is slow and finds, in running text,
        # dates that are not the publication's; the dateline rules cover captured text
        found = find_date(
            self.tree,
            url=self.url,
            original_date=True,
            extensive_search=False,
            max_date=date.today().isoformat(),
        )
        return str(found) if found else None

    def sitename(self) -> str | None:
        return extract_sitename(self.tree)
