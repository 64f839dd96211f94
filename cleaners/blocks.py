"""Block rules: XPath selectors pruned from the HTML tree before trafilatura runs.

Each rule names a kind of block (share bar, related posts, comment form, ...) and an XPath
that finds it by the class and id names themes give it. A match is cut only when its text
fits the rule's budget and it holds no more than a fifth of the page's text, so a wrapper
whose class merely contains "share" or "related" cannot take the article with it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from lxml.etree import XPath
from lxml.html import HtmlElement

from cleaners.html import drop_keeping_tail
from cleaners.model import Removal
from cleaners.prose import is_prose, word_count
from cleaners.reposts import keep_quoted_statement


@dataclass(frozen=True)
class BlockRule:
    """A named kind of block, found by the class/id names themes give it.

    Args:
        names: substrings looked for in the element's lower-cased class and id.
        ids: exact ids.
        tags: only these tags (empty = any).
        max_chars: cut only blocks with at most this much text (None = any size).
    """

    name: str
    names: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    max_chars: int | None = 2000
    description: str = ""


BLOCK_RULES: tuple[BlockRule, ...] = (
    BlockRule(
        "official_banner",
        ("usa-banner", "govbanner", "gov-banner", "official-banner"),
        max_chars=800,
        description='"An official website of the United States Government"',
    ),
    BlockRule(
        "official_hero",
        ("wp-block-default-hero-container",),
        tags=("section", "div"),
        max_chars=1500,
        description="state.gov hero: title, document type and date repeated above the body",
    ),
    BlockRule(
        "breadcrumb", ("breadcrumb", "bc_row", "crumbs"), max_chars=600, description="breadcrumb trails"
    ),
    BlockRule(
        "share_bar",
        (
            "share",
            "sharedaddy",
            "addtoany",
            "a2a_",
            "essb",
            "social-links",
            "social-icons",
            "socialicons",
            "social-media",
            "page-header__actions",
        ),
        max_chars=400,
        description="share bars and social buttons",
    ),
    BlockRule(
        "related_block",
        ("related", "yarpp", "more-from", "more-stories", "recommended", "read-next", "also-read"),
        max_chars=3000,
        description="related-post and 'more from' blocks",
    ),
    BlockRule(
        "prev_next_post",
        (
            "post-navigation",
            "nav-links",
            "next-prev",
            "prev-next",
            "nav-previous",
            "nav-next",
            "post-nav",
            "navigation-post",
            "jeg_popup_post",
            "single-post-nav",
        ),
        max_chars=800,
        description="previous/next post navigation",
    ),
    BlockRule(
        "tags_block",
        (
            "post-tags",
            "tag-links",
            "tags-links",
            "tagcloud",
            "entry-tags",
            "td-tags",
            "article-tags",
            "tags-list",
            "jeg_post_tags",
            "taxonomy",
            "story-topics",
        ),
        max_chars=600,
        description="tag and category lists",
    ),
    BlockRule(
        "comment_block",
        (
            "comment-respond",
            "comments-area",
            "comment-list",
            "commentlist",
            "comment-form",
            "comments-section",
        ),
        ids=("respond", "comments", "disqus_thread"),
        max_chars=None,
        description="comment threads and forms",
    ),
    BlockRule(
        "newsletter",
        ("newsletter", "subscribe", "mc_embed", "signup-form", "email-signup", "govdelivery"),
        max_chars=1200,
        description="newsletter sign-up boxes",
    ),
    BlockRule(
        "embassy_footer",
        ("external-link-disclaimer", "exit-disclaimer", "site-disclaimer", "footer-disclaimer"),
        max_chars=1200,
        description="embassy footers and external-link disclaimers",
    ),
)

_WS = re.compile(r"\s+")
_ROOTS = {"html", "body", "main", "article"}
_WITH_NAMES = XPath("//*[@class or @id]")  # document order; far cheaper than walking every node in Python
_ANY_NAME = re.compile("|".join(re.escape(n) for r in BLOCK_RULES for n in r.names))


def _rule_for(el: HtmlElement) -> BlockRule | None:
    return _rule_named(el.get("class"), el.get("id"), el.tag)


@functools.lru_cache(maxsize=4096)
def _rule_named(cls: str | None, ident: str | None, tag: str) -> BlockRule | None:
    # themes repeat a handful of class strings on hundreds of elements: one decision each
    if not cls and not ident:
        return None
    key = f"{cls or ''} {ident or ''}".lower()
    if not _ANY_NAME.search(key) and ident not in ("respond", "comments", "disqus_thread"):
        return None
    for rule in BLOCK_RULES:
        if rule.tags and tag not in rule.tags:
            continue
        if (ident and ident in rule.ids) or any(n in key for n in rule.names):
            return rule
    return None


def prune_blocks(tree: HtmlElement, page_chars: int) -> list[Removal]:
    """Cut every block a rule matches (within its budget) from `tree`, in place.

    One pass over the elements in document order; a block inside one already cut is
    not counted again."""
    removals: list[Removal] = []
    limit = max(400, page_chars // 5)
    found: list[tuple[HtmlElement, BlockRule]] = []
    for el in _WITH_NAMES(tree):
        if el.tag in _ROOTS:
            continue
        rule = _rule_for(el)
        if rule is not None:
            found.append((el, rule))
    root = tree.getroottree().getroot()
    for el, rule in found:
        parent = el.getparent()
        if parent is None or not _attached(el, root):
            continue  # already cut with an ancestor
        budget = None if rule.max_chars is None else min(rule.max_chars, limit)
        raw_text = el.text_content()
        if budget is not None and len(raw_text) > 4 * budget + 200:
            continue  # far over budget even before whitespace is collapsed
        text = _WS.sub(" ", raw_text).strip()
        if budget is not None and len(text) > budget:
            continue
        if text:
            removals.append(Removal(rule.name, text[:1000]))
        drop_keeping_tail(el)
    return (
        removals + prune_structural(tree, page_chars) + prune_small_print(tree) + keep_quoted_statement(tree)
    )


# Small print: <small>, <font size="1">, an inline style of a small font size.
_SMALL_PRINT = XPath(
    "//small | //font[@size='1' or @size='-1' or @size='-2']"
    " | //*[contains(translate(@style, 'FONTSIZE', 'fontsize'), 'font-size')]"
)
_SMALL_STYLE = re.compile(r"font-size\s*:\s*(?:xx?-small|smaller|(?:[0-9]|10)px|[0-7](?:\.\d+)?pt)\b", re.I)
_SMALL_PRINT_WORDS = 30


def prune_small_print(tree: HtmlElement) -> list[Removal]:
    """Cut short lines set in small print that are not prose: a page's filing note, credit,
    counter or side column (hand-made sites set their chrome in `<font size="1">`). Prose in
    small print, and anything longer than a few lines, stays."""
    removals: list[Removal] = []
    root = tree.getroottree().getroot()
    for el in _SMALL_PRINT(tree):
        if el.tag not in ("small", "font") and not _SMALL_STYLE.search(el.get("style") or ""):
            continue
        if el.getparent() is None or not _attached(el, root) or el.tag in _ROOTS:
            continue
        text = _WS.sub(" ", el.text_content()).strip()
        if not text or word_count(text) > _SMALL_PRINT_WORDS or is_prose(text):
            continue
        removals.append(Removal("small_print", text))
        drop_keeping_tail(el)
    return removals


_TOKENS = re.compile(r"[a-z0-9]+")
_CONSENT_WORDS = frozenset(("cookie", "cookies", "consent", "gdpr", "cmp"))
_TOC_WORDS = frozenset(("toc",))
_TOC_NAME = re.compile(r"table[-_]?of[-_]?contents|tableofcontents")
_BLOCK_TAGS = frozenset(("div", "section", "aside", "form", "nav", "dialog", "p", "fieldset", "footer"))


_EMAIL_INPUTS = XPath("//input[@type='email' or contains(@name, 'mail')]")
_PASSWORD_INPUTS = XPath("//input[@type='password']")
_LONG_SELECTS = XPath("//select[count(option) > 5]")


# The elements `_structural_rule` can name, in document order: those with a name, a role or
# a flag, and those holding a sign-up field, a password field or a long drop-down list
# (a union of node sets comes back in document order).
_STRUCTURAL_CANDIDATES = XPath(
    "descendant-or-self::*[@class or @id or @role or @aria-modal or @hidden or @aria-label]"
    " | descendant::input[@type='email' or contains(@name, 'mail') or @type='password']/ancestor::*"
    " | descendant::select[count(option) > 5]/.. | descendant::select[count(option) > 5]/../.."
)


@dataclass(frozen=True, slots=True)
class _Boxes:
    """The elements holding a sign-up field, a password field or a long drop-down list,
    found with one query each over the whole tree instead of one per element."""

    # The sets hold the elements themselves, not their id(): lxml keeps one Python object
    # per node only while a reference to it lives.
    email: frozenset[HtmlElement]  # elements with an e-mail input among their descendants
    password: frozenset[HtmlElement]  # ... a password input
    picker: frozenset[HtmlElement]  # the parents and grandparents of a long drop-down list

    @classmethod
    def of(cls, tree: HtmlElement) -> _Boxes:
        def holders(query: XPath) -> frozenset[HtmlElement]:
            return frozenset(a for el in query(tree) for a in el.iterancestors())

        picker: set[HtmlElement] = set()
        for select in _LONG_SELECTS(tree):
            parent = select.getparent()
            if parent is not None:
                picker.add(parent)
                grand = parent.getparent()
                if grand is not None:
                    picker.add(grand)
        return cls(holders(_EMAIL_INPUTS), holders(_PASSWORD_INPUTS), frozenset(picker))


@functools.lru_cache(maxsize=4096)
def _named_kind(names: str) -> tuple[bool, bool]:
    """Whether lower-cased class and id names name a consent notice, a table of contents."""
    tokens = set(_TOKENS.findall(names))
    toc = bool(tokens & _TOC_WORDS) or any(_TOC_NAME.search(name) for name in names.split())
    return bool(tokens & _CONSENT_WORDS), toc


def _structural_rule(el: HtmlElement, boxes: _Boxes) -> tuple[str, int] | None:
    """A block named by what it is rather than by its theme's class names: an overlay or
    dialog, a cookie or consent notice, a table of contents, a sign-up or sign-in box (a form
    asking for an e-mail address or a password), a picker (a long drop-down list). Returns
    (rule name, text budget) or None."""
    attrib = el.attrib
    if attrib:
        consent, toc = _named_kind(f"{attrib.get('class') or ''} {attrib.get('id') or ''}".lower())
        if consent:
            return "consent_notice", 2000
        role = (attrib.get("role") or "").lower()
        if role in ("dialog", "alertdialog") or attrib.get("aria-modal") == "true" or "hidden" in attrib:
            return "overlay", 2000
        if toc or (attrib.get("aria-label") or "").lower() in ("on this page", "contents"):
            return "table_of_contents", 1500
    if el.tag not in _BLOCK_TAGS:
        return None
    if el in boxes.email:
        return "newsletter", 800
    if el in boxes.password:
        return "login_box", 800
    if el in boxes.picker:
        return "picker", 600
    return None


def prune_structural(tree: HtmlElement, page_chars: int) -> list[Removal]:
    """Cut overlays, consent notices, tables of contents, sign-up and sign-in boxes and
    pickers, each the smallest block that holds it, within its budget and a fifth of the page."""
    removals: list[Removal] = []
    limit = max(400, page_chars // 5)
    body = tree.body if tree.tag == "html" else tree
    if body is None:
        return removals
    found: list[tuple[HtmlElement, str, int]] = []
    holders = _Boxes.of(body)
    for el in _STRUCTURAL_CANDIDATES(body):
        if el.tag in _ROOTS:
            continue
        rule = _structural_rule(el, holders)
        if rule is not None:
            found.append((el, *rule))
    root = tree.getroottree().getroot()
    boxes = ("newsletter", "login_box", "picker")

    def fits(el: HtmlElement, name: str, budget: int) -> bool:
        text = _WS.sub(" ", el.text_content()).strip()
        if len(text) > min(budget, limit):
            return False
        if name == "picker":
            return True
        # a sign-up box is the form with the words that ask for the address, not the bare form
        form_text = sum(len(_WS.sub(" ", f.text_content()).strip()) for f in el.iter("form"))
        return len(text) - form_text >= 40 or el.tag != "form" and not el.xpath(".//form")

    chosen = [(el, n, b) for el, n, b in found if n not in boxes or fits(el, n, b)]
    fitting = {id(el) for el, n, _ in chosen if n in boxes}
    for el, name, _budget in chosen:
        if el.getparent() is None or not _attached(el, root):
            continue
        if name in boxes and any(id(d) in fitting for d in el.iterdescendants()):
            continue  # a smaller box inside holds it
        text = _WS.sub(" ", el.text_content()).strip()
        if name not in boxes and len(text) > min(_budget, limit):
            continue
        if text:
            removals.append(Removal(name, text[:1000]))
        drop_keeping_tail(el)
    return removals


def _attached(el: HtmlElement, root: HtmlElement) -> bool:
    top = el
    for ancestor in el.iterancestors():
        top = ancestor
    return top is root
