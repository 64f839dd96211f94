"""Block rules: XPath selectors pruned from the HTML tree before trafilatura runs.

Each rule names a kind of block (share bar, related posts, comment form, ...) and an XPath
that finds it by the class and id names themes give it. A match is cut only when its text
fits the rule's budget and it holds no more than a fifth of the page's text, so a wrapper
whose class merely contains "share" or "related" cannot take the article with it. Rules
with `hosts` apply to those sites only (the state.gov hero, embassy chrome).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from lxml.etree import XPath
from lxml.html import HtmlElement

from cleaners.model import Removal


def _cls(*names: str) -> str:
    """XPath predicate: class or id contains any of the names (lower-case)."""
    parts = []
    for n in names:
        parts.append(f"contains(translate(@class,'ABCDEFGHIJKLMNOPQRSTUVWXYZ','abcdefghijklmnopqrstuvwxyz'),'{n}')")
        parts.append(f"contains(translate(@id,'ABCDEFGHIJKLMNOPQRSTUVWXYZ','abcdefghijklmnopqrstuvwxyz'),'{n}')")
    return " or ".join(parts)


@dataclass(frozen=True)
class BlockRule:
    name: str
    xpath: str
    max_chars: int | None = 2000      # cut only blocks with at most this much text
    hosts: tuple[str, ...] = ()       # fnmatch patterns; empty = every site
    description: str = ""

    def applies_to(self, host: str | None) -> bool:
        if not self.hosts:
            return True
        return bool(host) and any(fnmatch.fnmatch(host, pat) for pat in self.hosts)


_NOT_ROOT = "not(self::html or self::body or self::main or self::article)"

BLOCK_RULES: tuple[BlockRule, ...] = (
    BlockRule("official_banner", f"//*[{_cls('usa-banner', 'govbanner', 'gov-banner', 'official-banner')}][{_NOT_ROOT}]", 800,
              description='"An official website of the United States Government"'),
    BlockRule("official_hero", "//section[contains(@class,'wp-block-default-hero-container')] | "
              "//div[contains(@class,'featured-content') and .//*[contains(@class,'featured-content__headline')]]"
              "[not(ancestor::section[contains(@class,'wp-block-default-hero-container')])]", 1500,
              description="state.gov hero: title, document type and date repeated above the body"),
    BlockRule("breadcrumb", f"//*[{_cls('breadcrumb', 'bc_row', 'crumbs')}][{_NOT_ROOT}] | //nav[contains(@aria-label,'readcrumb')]", 600,
              description="breadcrumb trails"),
    BlockRule("share_bar", f"//*[{_cls('share', 'sharedaddy', 'addtoany', 'a2a_', 'essb', 'social-links', 'social-icons', 'socialicons', 'social-media', 'page-header__actions')}][{_NOT_ROOT}]", 400,
              description="share bars and social buttons"),
    BlockRule("related_block", f"//*[{_cls('related', 'yarpp', 'jp-relatedposts', 'more-from', 'recommended', 'read-next', 'also-read')}][{_NOT_ROOT}]", 3000,
              description="related-post and 'more from' blocks"),
    BlockRule("prev_next_post", f"//*[{_cls('post-navigation', 'nav-links', 'next-prev', 'prev-next', 'nav-previous', 'nav-next', 'post-nav', 'navigation-post', 'jeg_popup_post', 'single-post-nav')}][{_NOT_ROOT}] | //p[@class='previous' or @class='next']", 800,
              description="previous/next post navigation"),
    BlockRule("tags_block", f"//*[{_cls('post-tags', 'tag-links', 'tags-links', 'tagcloud', 'entry-tags', 'td-tags', 'article-tags', 'related-tags', 'tags-list', 'jeg_post_tags', 'taxonomy')}][{_NOT_ROOT}]", 600,
              description="tag and category lists"),
    BlockRule("comment_block", f"//*[@id='respond' or @id='comments' or @id='disqus_thread' or {_cls('comment-respond', 'comments-area', 'comment-list', 'commentlist', 'comment-form', 'comments-section')}][{_NOT_ROOT}]", None,
              description="comment threads and forms"),
    BlockRule("newsletter", f"//*[{_cls('newsletter', 'subscribe', 'mc_embed', 'signup-form', 'email-signup', 'govdelivery')}][{_NOT_ROOT}]", 1200,
              description="newsletter sign-up boxes"),
    BlockRule("embassy_footer", f"//*[{_cls('external-link-disclaimer', 'exit-disclaimer', 'site-disclaimer', 'footer-disclaimer')}][{_NOT_ROOT}]", 1200,
              description="embassy footers and external-link disclaimers"),
)

_WS = re.compile(r"\s+")
_COMPILED = {r.name: XPath(r.xpath) for r in BLOCK_RULES}


def block_text(el: HtmlElement) -> str:
    return _WS.sub(" ", el.text_content()).strip()


def prune_blocks(tree: HtmlElement, host: str | None, page_chars: int) -> list[Removal]:
    """Cut every block a rule matches (within its budget) from `tree`, in place."""
    removals: list[Removal] = []
    root = tree.getroottree().getroot()
    limit = max(400, page_chars // 5)
    for rule in BLOCK_RULES:
        if not rule.applies_to(host):
            continue
        for el in _COMPILED[rule.name](tree):
            parent = el.getparent()
            if parent is None or not _attached(el, root):
                continue  # already cut with an ancestor
            text = block_text(el)
            if rule.max_chars is not None and len(text) > rule.max_chars:
                continue
            if rule.max_chars is not None and len(text) > limit:
                continue
            if el.xpath("boolean(.//h1[contains(@class,'entry-title') or contains(@class,'post-title')])"):
                continue
            if text:
                removals.append(Removal(rule.name, text[:1000]))
            _drop(el)
    return removals


def _attached(el: HtmlElement, root: HtmlElement) -> bool:
    top = el
    for top in el.iterancestors():
        pass
    return top is root


def _drop(el: HtmlElement) -> None:
    """Remove an element but keep its tail text (it belongs to the parent)."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail and el.tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)
