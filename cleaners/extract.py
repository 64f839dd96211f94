"""The main text, by trafilatura, and trafilatura's and htmldate's guesses at metadata.

trafilatura runs on the tree we parsed and pruned, without its own metadata pass (what the
markup states is read by `cleaners.metadata`; the heuristics in `Guesses` are asked only for
what it does not state). It runs in its `fast` mode (no readability / jusText comparison) and
favours recall: the block and line rules remove what it then lets through, and on the
extraction benchmarks in bench/cleaning.py this scores as well as its default after those
rules, at about half the cost.
"""

from __future__ import annotations

import copy
from datetime import date

import trafilatura
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import extract_sitename, extract_title
from trafilatura.settings import Extractor

from cleaners.model import Rejected

_EXTRACTOR = Extractor(
    output_format="python", fast=True, recall=True, comments=False, tables=True, with_metadata=False
)


def _options(url: str | None) -> Extractor:
    """trafilatura's options for one page: a copy of one prepared Extractor (building one
    reads its settings from a ConfigParser)."""
    opts = copy.copy(_EXTRACTOR)
    opts.url = url
    opts.source = url and url.encode("utf-8", "replace").decode("utf-8")
    return opts


def main_text(tree: HtmlElement, url: str | None) -> str:
    """The main text trafilatura finds in `tree` ("" when it finds none).

    Raises:
        Rejected: boilerplate_only when trafilatura fails on the tree.
    """
    try:
        result = trafilatura.bare_extraction(tree, options=_options(url))
    except (ValueError, TypeError, RecursionError, MemoryError) as err:
        raise Rejected("boilerplate_only", f"extraction failed: {type(err).__name__}") from err
    # output_format="python" gives trafilatura's Document (typed as that or a dict)
    return getattr(result, "text", None) or ""


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
