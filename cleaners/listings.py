"""Is the page an index of other pages of its site (a tag or month archive, search results, a
feed shown as a page, the latest posts offered for an unknown address) rather than a statement?

Such a page has real sentences (the excerpts are the listed posts' own prose), so neither the
length check nor the service-text check stops it. What gives it away is its structure, read on
the parsed page and not from any wording:

- entries: three or more sibling elements of the same tag and class, each led by a link to a
  different page of the same site whose text is a title (two words or more), with at most a
  date or a label before it. An entry runs from its leading element to the next entry's (a
  `<dt>` and its `<dd>`, an `<h2>` and the paragraphs under it);
- the entries are the body: most of the cleaned body's text lies in lines found in an entry;
- no statement's worth of prose stands anywhere: the body's complete sentences, outside the
  entries and in entries whose text is not cut short ("…", "[...]", or no sentence end), add
  up to less than the shortest statement, in characters and in words (`STATEMENT_CHARS`,
  `STATEMENT_WORDS`; a word of a script written without spaces is a character, so a short
  statement in Chinese is not taken for a few characters of prose).

The last test is what keeps real articles. An article with a related-posts list, a teaser
block or a list of links has its own prose outside the entries; a roundup, a fact sheet of
linked bullets or a page of several short statements has complete sentences inside them; a
briefing transcript's lines lead with no link. Only an excerpt cut short is not counted as
prose, because it is the start of another page. An author page with a biography longer than
a short statement is kept: nothing in its structure tells a biography from a statement.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from cleaners.model import Rejected
from cleaners.prose import SENTENCE_ENDS, ends_sentence, word_count

MIN_ENTRIES = 3
# The shortest real statement of the dev feed has 216 characters, 34 words (a travel note).
STATEMENT_CHARS = 200
STATEMENT_WORDS = 30
# Share of the body's characters in lines found in entries, for the entries to be the body.
ENTRY_SHARE = 0.5
# Text a page may put before an entry's title link: a date, a number, a label.
_LEAD_PREFIX = 40
# A line's words found in one entry, for the line to be that entry's.
_IN_ENTRY = 0.9

_TOKEN = re.compile(r"\w+", re.UNICODE)
_CUT_END = re.compile(r"(?:\.\.\.|…|\[\s*(?:\.\.\.|…)\s*\])[\s»›→]*$")
# A sentence end: not the dot of "U.S.", "J. Smith" or "e.g."; in scripts without spaces, any end.
_SENTENCE_END = re.compile(
    rf"(?<![A-Z])(?<!\b[^\W\d_])[{re.escape(SENTENCE_ENDS)}][\"'”’»)\]）」』]*(?=\s|$)|[。！？]"
)
_NOT_PAGES = ("#", "javascript:", "mailto:", "tel:", "data:")


@dataclass(frozen=True, slots=True)
class Listing:
    """What the listing test measured: entries found, the share of the body in them, and the
    characters and words of statement prose the body holds."""

    entries: int
    share: float
    prose: int
    words: int = 0

    @property
    def is_index(self) -> bool:
        return (
            self.entries >= MIN_ENTRIES
            and self.share >= ENTRY_SHARE
            and not statement_worth(self.prose, self.words)
        )


def _site(url: str | None) -> str | None:
    host = urlsplit(url).hostname if url else None
    return host.removeprefix("www.") if host else None


def _target(a: HtmlElement, url: str | None, site: str | None) -> str | None:
    """The page of the same site that link `a` leads to, or None (another site, an anchor of
    this page, a script or mail link)."""
    href = (a.get("href") or "").strip()
    if not href or href.lower().startswith(_NOT_PAGES):
        return None
    if href.startswith("/") and not href.startswith("//"):
        path = href.split("#")[0]  # a path of this site: no need to resolve it
        return None if url and path == urlsplit(url).path else path
    absolute = urljoin(url or "", href)
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https", ""):
        return None
    host = parts.hostname.removeprefix("www.") if parts.hostname else None
    if host is not None and host != site:
        return None
    page = absolute.split("#")[0]
    if url and page == url.split("#")[0]:
        return None
    return page


def _link_of(node: HtmlElement, stop: HtmlElement) -> HtmlElement | None:
    while node is not None and node is not stop:
        if node.tag == "a":
            return node
        node = node.getparent()
    return node if node is not None and node.tag == "a" else None


def _lead(item: HtmlElement, url: str | None, site: str | None) -> str | None:
    """The page an entry leads with: the first link of the item, to a page of the same site,
    titled in two words or more, with no more than a date or label before it."""
    before = 0
    for text in item.xpath(".//text()"):
        holder = text.getparent()
        if text.is_tail:
            holder = holder.getparent() if holder is not item else None
        link = _link_of(holder, item) if holder is not None else None
        if link is not None:
            target = _target(link, url, site)
            if target and len(link.text_content().split()) >= 2:
                return target
        before += len(text.strip())
        if before > _LEAD_PREFIX:
            return None
    return None


def _signature(el: HtmlElement) -> tuple[str, str]:
    return el.tag, " ".join(sorted((el.get("class") or "").split()))


def entries(tree: HtmlElement, url: str | None) -> list[str]:
    """The text of every entry of every group of sibling entries in the page."""
    site = _site(url)
    root = tree.body if tree.body is not None else tree
    found: list[str] = []
    for parent in root.iter():
        children = [c for c in parent if isinstance(c.tag, str)]
        if len(children) < MIN_ENTRIES:
            continue
        counts = Counter(_signature(c) for c in children)
        for sig, n in counts.items():
            if n < MIN_ENTRIES:
                continue
            starts = [i for i, c in enumerate(children) if _signature(c) == sig]
            leads: list[str | None] = []
            misses = 0
            for i in starts:
                leads.append(_lead(children[i], url, site))
                misses += leads[-1] is None
                if misses > 0.2 * n:
                    break
            targets = [t for t in leads if t]
            # every entry of a listing leads to a page of its own
            if misses > 0.2 * n or len(targets) < MIN_ENTRIES or len(set(targets)) < len(targets):
                continue
            bounds = [*starts[1:], min(len(children), starts[-1] + (starts[-1] - starts[-2]))]
            for start, end, lead in zip(starts, bounds, leads, strict=True):
                if lead:
                    found.append(" ".join(c.text_content() for c in children[start:end]))
    return found


def statement_worth(chars: int, words: int) -> bool:
    """Whether this much complete prose is as long as the shortest statement (also used by
    `cleaners.walls`)."""
    return chars >= STATEMENT_CHARS or words >= STATEMENT_WORDS


def sentence_part(line: str) -> str:
    """The part of the line in complete sentences (the words after its last sentence end, a
    link label or a cut, are not), or "" for a fragment of fewer than three words."""
    if ends_sentence(line):
        prose = line
    else:
        ends = list(_SENTENCE_END.finditer(line))
        if not ends:
            return ""
        prose = line[: ends[-1].end()].strip()
    return prose if word_count(prose) >= 3 else ""


def _is_cut(line: str) -> bool:
    """The line ends as an excerpt cut short does, or ends no sentence."""
    return bool(_CUT_END.search(line)) or not ends_sentence(line)


def _found_in(words: Counter[str], item: Counter[str]) -> int:
    return sum(min(n, item.get(w, 0)) for w, n in words.items())


def measure(tree: HtmlElement, url: str | None, body: str) -> Listing:
    """The listing test's measures for a cleaned body and the page it came from."""
    lines = [ln.strip() for ln in body.split("\n") if ln.strip()]
    # complete, uncut sentences are prose wherever they stand: a body with a statement's worth
    # of them is no index, whatever its structure (and most pages stop here, at no cost)
    firm = [sentence_part(line) for line in lines if not _is_cut(line)]
    chars, words = sum(map(len, firm)), sum(map(word_count, firm))
    if statement_worth(chars, words):
        return Listing(0, 0.0, chars, words)
    items = [Counter(_TOKEN.findall(t.casefold())) for t in entries(tree, url)]
    if len(items) < MIN_ENTRIES:
        return Listing(len(items), 0.0, chars, words)
    total = inside = chars = words = 0
    for line in lines:
        tokens = Counter(_TOKEN.findall(line.casefold()))
        count = sum(tokens.values())
        in_entry = bool(count) and any(_found_in(tokens, item) >= _IN_ENTRY * count for item in items)
        total += len(line)
        if in_entry:
            inside += len(line)
            if _is_cut(line):
                continue  # an excerpt cut short: the start of another page
        prose = sentence_part(line)
        chars += len(prose)
        words += word_count(prose)
    return Listing(len(items), inside / total if total else 0.0, chars, words)


def check_listing(tree: HtmlElement, url: str | None, body: str) -> None:
    """Reject a body that is an index of other pages of the site.

    Raises:
        Rejected: listing_page, with the entries, their share of the body and the prose left.
    """
    listing = measure(tree, url, body)
    if listing.is_index:
        raise Rejected(
            "listing_page",
            f"{listing.entries} entries leading to other pages hold {listing.share:.0%} of the text; "
            f"{listing.prose} characters, {listing.words} words of prose",
        )
