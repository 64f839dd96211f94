"""`clean(raw, config) -> Document`: the one entry point from bytes to clean text with provenance.

A page goes through these phases, each owned by its own module:

1. bytes: size cap, binary sniffing, one decoding (`cleaners.decode`), page kind (`cleaners.html`);
2. parse: one lxml parse (`cleaners.html`), and a block page's title rejects it (`cleaners.softblock`);
3. metadata the markup states, read before anything is cut (`cleaners.metadata`);
4. block boundaries made explicit (`cleaners.layout`: layout tables, `<br><br>` runs), block
   rules pruned from the tree (`cleaners.blocks`);
5. the main text, by trafilatura, checked against the page's content region and extracted
   again when it looks truncated (`cleaners.extract`, `cleaners.region`); a page with little
   text is checked again for a block page or a "soft 404";
6. line rules over the extracted paragraphs (`cleaners.rules`), the title (`cleaners.titles`);
7. the Document: dates, publisher, language (`cleaners.language`).

Text captures skip the HTML phases and go straight to the line rules (`clean_text`). Nothing
here touches the network, Scrapy or SQLite.
"""

from __future__ import annotations

import re

from cleaners import metadata
from cleaners.blocks import prune_blocks
from cleaners.config import CleanConfig
from cleaners.decode import decode_body, scrub, sniff_binary
from cleaners.extract import Guesses, main_text
from cleaners.html import WS, content_type_header, html_lang, page_kind, parse_html, title_tag
from cleaners.language import detect_language
from cleaners.layout import mark_blocks
from cleaners.listings import check_listing
from cleaners.model import Document, RawPage, Rejected, Removal, content_hash, normalise_text
from cleaners.prose import ends_sentence, is_hard_wrapped, join_wrapped
from cleaners.rules import Attribution, apply_line_rules, byline_speaker, doc_type_from_title
from cleaners.sitepages import check_statement
from cleaners.softblock import SHORT_PAGE, is_not_found, soft_block_in_tree, title_reason
from cleaners.titles import (
    choose_title,
    first_line_title,
    headline_above,
    nav_texts,
    strip_list_tag,
    title_after_dateline,
    title_position,
)
from cleaners.urls import host_of, is_official_host
from cleaners.walls import check_wall_or_gallery
from cleaners.wayback import unwrap_capture

MAX_BYTES = 5 * 1024 * 1024  # a statement page is well under 1 MiB; Common Crawl keeps 5 MiB
MIN_TEXT_CHARS = 80  # shorter than the shortest real state.gov readout

_DEFAULT = CleanConfig()


def clean(raw: RawPage, config: CleanConfig | None = None) -> Document:
    """Turn a fetched page or a file into a Document.

    Args:
        raw: the page as fetched or read.
        config: the run's settings (the official hosts); the defaults when None.

    Raises:
        Rejected: with reason too_large, empty_body, binary_payload, not_html, too_deep,
            soft_block, not_found, too_short, boilerplate_only, not_a_statement or
            listing_page.
    """
    config = config or _DEFAULT
    body = raw.body or b""
    if len(body) > MAX_BYTES:
        raise Rejected("too_large", f"{len(body)} bytes > {MAX_BYTES}")
    if not body.strip():
        raise Rejected("empty_body")
    binary = sniff_binary(body)
    if binary:
        raise Rejected("binary_payload", binary)
    kind = page_kind(raw)
    if kind == "other":
        raise Rejected("not_html", content_type_header(raw) or "unknown type")
    decoded = decode_body(body, content_type_header(raw))
    text = decoded.text  # C0 controls already gone; outputs are scrubbed at the end
    if kind == "text":
        text = scrub(text)
    if not text.strip():
        raise Rejected("empty_body")
    url = raw.final_url or raw.url
    if kind == "text":
        return clean_text(text, url=url, source_path=raw.source_path, encoding=decoded.encoding)
    return _clean_html(text, raw, url, decoded.encoding, config)


def clean_text(
    text: str, *, url: str | None = None, source_path: str | None = None, encoding: str | None = None
) -> Document:
    """Clean a text capture (no markup): line rules only; the title is picked from the head.

    Raises:
        Rejected: too_short, boilerplate_only, not_a_statement, empty_body.
    """
    text = scrub(text)
    if not text.strip():
        raise Rejected("empty_body")
    paragraphs = split_paragraphs(text)
    att = Attribution()
    # A title repeated on the first two lines is the title.
    title = None
    if len(paragraphs) >= 2 and normalise_text(paragraphs[0]) == normalise_text(paragraphs[1]):
        title = paragraphs[0].strip()
    kept, removals, head_lines = apply_line_rules(paragraphs, title=title, att=att, head_zone=True)
    if title is None and att.subject:
        # a header block's Subject field: the lines above the block are the archive's header
        title = strip_list_tag(att.subject)
        title_at: int | None = max(i for i, rule in att.head_marks if rule == "header_field")
    else:
        title_at = 1 if title is not None else title_position(head_lines, att.head_marks)
    after_date = None if title is not None else title_after_dateline(paragraphs, att.head_marks, head_lines)
    if after_date is not None:
        # the line right under the dateline reads as a title: it is the title even when a rule
        # took it for a document-type line ("Department Press Briefing – May 6, 2022") or the
        # head zone ended on it (a title long enough to read as body)
        title_at = after_date
        title = paragraphs[title_at]
        if kept and kept[0] == title and not any(i == title_at for i, _ in head_lines):
            kept.pop(0)
            removals.append(Removal("title_line", title))
    if title is None and title_at is not None:
        title = paragraphs[title_at]
    # above the title: the aggregator's own header; below it: the statement's first lines
    # (a remark's location, a schedule's time), which are body
    body_head = []
    for i, line in head_lines:
        if title_at is not None and i > title_at:
            body_head.append(line)
        else:
            removals.append(Removal("title_line" if i == title_at else "header_line", line))
    kept = body_head + kept
    byline_speaker(att, kept)
    body = "\n\n".join(kept)
    _check_length(body, removals)
    check_statement(body)  # a site's own page (plans, donations, an index) holds no statement
    claimed = metadata.plausible_claim(att.claimed_original, url)
    publisher = (
        att.publisher or metadata.host_publisher(host_of(claimed)) or metadata.host_publisher(host_of(url))
    )
    return Document(
        url=url,
        title=title,
        text=body,
        published=att.published or att.dateline,
        publisher=publisher,
        language=detect_language(body),
        claimed_original=claimed,
        removed=tuple(removals),
        content_hash=content_hash(body),
        speaker=att.speaker,
        doc_type=att.doc_type or doc_type_from_title(title),
        source_line=att.source_line,
        tags=tuple(att.tags),
        encoding=encoding,
        extraction="text",
        refused=tuple(att.refused),
    )


def _clean_html(html: str, raw: RawPage, url: str | None, encoding: str, config: CleanConfig) -> Document:
    # parse (a Wayback replay page as the page it captured); a block page's title settles it
    # before any other work
    html = unwrap_capture(html)
    tree = parse_html(html)
    reason = title_reason(title_tag(tree))
    if reason:
        raise Rejected("soft_block", reason)
    host = host_of(url)
    official = is_official_host(host, config.official_domains)

    # metadata the markup states, read before any pruning
    meta = metadata.metas(tree)
    ld = metadata.json_ld(tree)
    site_name = meta.get("og:site_name") or None
    att = Attribution()
    scanned = metadata.scan_attribution(tree, html, url)
    if scanned:
        att.claim(scanned[0])
    canonical = metadata.canonical_url(tree, meta, url)
    hero = metadata.state_hero(tree) if "featured-content__headline" in html or "doctype-meta" in html else {}
    tags = metadata.page_tags(tree, meta)

    # block boundaries made explicit, block rules, then trafilatura on the pruned tree
    page_chars = len(tree.body.text_content()) if tree.body is not None else len(html)
    mark_blocks(tree)
    removals = prune_blocks(tree, page_chars)
    extraction = main_text(tree, url, config.extraction)
    extracted = extraction.text
    if len(extracted) < SHORT_PAGE:
        # only a page with little text can be a block page; the full check is not free
        reason = soft_block_in_tree(tree)
        if reason:
            raise Rejected("soft_block", reason)
        if is_not_found(tree):
            # a "soft 404": the page is gone even though the server said 200
            raise Rejected("not_found", "page-not-found template")
    if not extracted.strip():
        if removals or page_chars >= MIN_TEXT_CHARS:
            raise Rejected("boilerplate_only", f"no main text; {len(removals)} cruft blocks")
        raise Rejected("too_short", "no main text")

    # line rules and the title
    guesses = Guesses(tree, url)
    nav = nav_texts(tree, url, canonical)
    title = choose_title(tree, meta, ld, hero, guesses.title, site_name, host, nav, url)
    title = scrub(title) if title else None
    kept, line_removals, _ = apply_line_rules(
        split_paragraphs(extracted),
        title=title,
        att=att,
        official=official,
        official_domains=config.official_domains,
    )
    better = first_line_title(kept[0], title, tree, host) if kept and title else None
    if better:
        removals.append(Removal("repeated_title", kept[0]))
        title = better
        kept.pop(0)
    elif title is None:
        # no candidate of the markup names the statement (the page is titled after the site or
        # its section): the headline above the text is the title, the lines above it the header
        at = headline_above(tree, kept, site_name, host, nav)
        if at is not None:
            removals.extend(Removal("header_line", line) for line in kept[:at])
            removals.append(Removal("title_line", kept[at]))
            title = kept[at]
            del kept[: at + 1]
    removals.extend(line_removals)
    if scanned and not any(scanned[1] in r.text or r.text in scanned[1] for r in removals):
        # the sentence that gave the claim, when extraction had already left it out
        removals.append(Removal(scanned[2], scanned[1]))
    byline_speaker(att, kept)
    body = scrub("\n\n".join(kept))
    _check_length(body, removals)
    check_statement(body)  # a site's own page (plans, donations) holds no statement
    check_listing(tree, url, body)  # nor does an index of its other pages
    check_wall_or_gallery(tree, body, url)  # nor a sign-in wall or a photo gallery

    # the Document
    claimed = metadata.plausible_claim(att.claimed_original, url)
    if claimed is None and canonical and metadata.plausible_canonical(canonical, url, title):
        claimed = canonical
    published, modified = metadata.publication_dates(hero, meta, ld, att, official, guesses.date)
    doc_type = hero.get("doc_type") or att.doc_type or doc_type_from_title(title)
    if doc_type is None and ("cat-links" in html or "category" in html or "article:section" in meta):
        doc_type = metadata.category_doc_type(tree, meta)
    publisher = metadata.publisher(
        official,
        host,
        site_name,
        title_raw=meta.get("og:title") or title_tag(tree),
        att=att,
        claimed=claimed,
        guess=guesses.sitename,
    )
    language = detect_language(body) or html_lang(tree)
    translation_of = metadata.translation_of(raw, tree, url) if language and language != "en" else None
    for t in att.tags:
        if t not in tags:
            tags.append(t)
    return Document(
        url=url,
        title=title,
        text=body,
        published=published,
        publisher=publisher,
        language=language,
        claimed_original=claimed,
        removed=tuple(removals),
        content_hash=content_hash(body),
        speaker=att.speaker,
        doc_type=str(doc_type) if doc_type else None,
        modified=modified,
        canonical=canonical,
        source_line=att.source_line,
        translation_of=translation_of,
        tags=tuple(tags),
        encoding=encoding,
        extraction=extraction.path,
        refused=tuple(att.refused),
    )


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of a text: blank-line blocks, each line its own paragraph unless the
    block is hard-wrapped prose (then its lines are joined)."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [WS.sub(" ", ln).strip() for ln in block.split("\n")]
        lines = [ln for ln in lines if ln]
        if not lines:
            continue
        if is_hard_wrapped(lines):
            out.append(join_wrapped(lines))
        else:
            out.extend(lines)
    return out


def _check_length(body: str, removals: list[Removal]) -> None:
    """Reject a body too short to be a statement: as boilerplate_only when cruft was cut and
    what remains holds no sentence (a heading, a menu), else as too_short."""
    if len(body) >= MIN_TEXT_CHARS:
        return
    if removals and not any(ends_sentence(line) for line in body.splitlines()):
        raise Rejected("boilerplate_only", f"{len(removals)} cruft spans, no body")
    raise Rejected("too_short", f"{len(body)} characters")


def soft_block_reason(raw: RawPage) -> str | None:
    """Why a 200 response is a block page rather than content ("technical_difficulties",
    "bot_wall", "captcha", "empty_shell", ...), or None."""
    body = raw.body or b""
    if not body.strip() or len(body) > MAX_BYTES or sniff_binary(body):
        return None
    if page_kind(raw) != "html":
        return None
    try:
        tree = parse_html(decode_body(body, content_type_header(raw)).text)
    except Rejected:
        return None
    return soft_block_in_tree(tree)
