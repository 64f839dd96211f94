"""Is what remains of a page a sign-in wall or a photo gallery rather than a statement?
(`check_wall_or_gallery`, called with the other checks on the cleaned body.)

Both kinds have real sentences, so the length check keeps them, and neither is worded as the
site's service text often enough for `cleaners.sitepages` to see it (a wall is three or four
sentences; a gallery's captions speak of what a photo shows). What gives each away:

- a wall: a field asking for an e-mail address or a password stands in the same block as the
  body's text (not in the header, navigation, footer or a sidebar), the body is short, and
  most of its sentences are about the reader's account with the site (reading, saving,
  registering, signing in), addressed to the reader or in the site's voice, with hardly any
  public affairs. A statement on a site with a sign-in box in its header keeps its text
  whatever it speaks of, and one with a sign-up box inside it keeps its text when its
  sentences are about governments and their business. Rejected as boilerplate_only: what
  remains is login text. A box the block rules cut (`login_box`) is no evidence here: where
  it stood is not known any more.
- a gallery: three or more slides (an element holding one image and a short text: a
  `<figure>` and its caption, a slide and its caption line), each a `<figure>` with a caption
  or counted in the body ("Photo 2 of 5"), the body's lines are mostly the
  slides' captions or "N of M" counters, and outside them no statement's worth of prose
  stands (the same measure as `cleaners.listings`). A statement with a captioned photo or a
  few of them has its own prose and is kept. Rejected as not_a_statement.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from cleaners.listings import sentence_part, statement_worth
from cleaners.model import Rejected
from cleaners.prose import SENTENCE_ENDS, ends_sentence, word_count
from cleaners.sitepages import PARTY, PUBLIC, is_service, sentences

# A sentence about the reader's account with the site names one of these.
_ACCOUNT = re.compile(
    r"\b(?:accounts?|sign(?:ed|ing)?[\s-]?(?:in|up)|log(?:ged|ging)?[\s-]?in|regist(?:er|ered|ering|ration)|"
    r"members?|subscri(?:be|bers?|ption)|free|unlimited|limit|read(?:s|ing)?|stor(?:y|ies)|articles?|"
    r"save[ds]?|alerts?|newsletters?|headlines|comments?|conversation|devices?|apps?|settings|profile|"
    r"passwords?|e-?mail|details|remember)\b",
    re.I,
)
_CHROME = frozenset(("header", "nav", "footer", "aside"))
_FORM_FIELDS = "//input[@type='password' or @type='email']"
# A wall's pitch is a few sentences; a statement is rarely this short and this much about accounts.
WALL_MAX_WORDS = 250
WALL_MIN_SENTENCES = 2
WALL_SHARE = 0.6
# a wall may name the story it hides, in its headline
WALL_PUBLIC = 0.25

MIN_SLIDES = 3
SLIDE_MAX_CHARS = 500
CAPTION_SHARE = 0.5
_COUNTER = re.compile(r"\b\d+\s*(?:of|/)\s*\d+\b", re.I)
_WS = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip().casefold()


def _account_sentence(sentence: str) -> bool:
    if PUBLIC.search(sentence):
        return False
    # a line of four words or fewer is a label or a question next to the form ("Already
    # registered?"), which names no party
    addressed = PARTY.search(sentence) or word_count(sentence) <= 4
    return is_service(sentence) or bool(_ACCOUNT.search(sentence) and addressed)


def wall_share(body: str) -> tuple[float, float, int]:
    """(share of sentences about the reader's account, share on public affairs, sentences)."""
    # a line that ends no sentence (a heading) is one unit: the dots of its initials
    # ("Antony J. Blinken") end no sentence of it
    units: list[str] = []
    for line in (ln.strip() for ln in body.split("\n")):
        if line:
            units.extend(sentences(line) if ends_sentence(line) else [line])
    sents = [s for s in units if s[-1] in SENTENCE_ENDS or len(s.split()) >= 6]
    if not sents:
        return 0.0, 0.0, 0
    account = sum(1 for s in sents if _account_sentence(s))
    public = sum(1 for s in sents if PUBLIC.search(s))
    return account / len(sents), public / len(sents), len(sents)


def _form_beside(tree: HtmlElement, body: str) -> bool:
    """A field asking for an e-mail address or a password stands in the same block as the
    body's text: the nearest element holding both the field and the body's longest line is
    not the page itself, and the field is in no header, navigation, footer or sidebar (where
    a site's sign-in box sits above its statements)."""
    fields = [f for f in tree.xpath(_FORM_FIELDS) if not any(a.tag in _CHROME for a in f.iterancestors())]
    if not fields:
        return False
    # the body's longest line, without the marker the line rules give a list item
    key = _norm(max(body.split("\n"), key=len).lstrip("-•*· "))[:80]
    holders = [el for el in tree.iter() if isinstance(el.tag, str) and key in _norm(el.text_content())]
    if not holders:
        return False
    deepest = max(holders, key=lambda el: sum(1 for _ in el.iterancestors()))
    around = set(deepest.iterancestors()) | {deepest}
    for field in fields:
        common = next((a for a in field.iterancestors() if a in around), None)
        if common is not None and common.tag not in ("body", "html"):
            return True
    return False


def slides(tree: HtmlElement) -> tuple[list[str], bool]:
    """The text of every slide: for each image, the nearest of its three closest ancestors
    with text, when that ancestor holds no other image and a short text; and whether every
    slide is a `<figure>` with its `<figcaption>`."""
    # keyed by the element itself: an id() is reused once lxml drops the element's proxy
    found: dict[HtmlElement, str] = {}
    for img in tree.iter("img"):
        for depth, holder in enumerate(img.iterancestors()):
            if depth >= 3 or holder.tag in ("body", "html"):
                break
            text = _WS.sub(" ", holder.text_content()).strip()
            if len(text) < 20:
                continue
            if len(text) <= SLIDE_MAX_CHARS and sum(1 for _ in holder.iter("img")) == 1:
                found[holder] = _norm(text)
            break
    figures = bool(found) and all(el.tag == "figure" and el.find(".//figcaption") is not None for el in found)
    return list(found.values()), figures


def gallery_measure(tree: HtmlElement, body: str) -> tuple[int, float, int, int]:
    """(slides, share of the body's characters in captions and counters, characters and
    words of prose outside them). A gallery says what its slides are: each image is a
    `<figure>` with a caption, or the body counts the photos ("Photo 2 of 5"); teasers of
    other posts with a picture each (a blog's related posts) do neither, and count no slides."""
    captions, figures = slides(tree)
    lines = [ln.strip() for ln in body.split("\n") if ln.strip()]
    counters = sum(1 for ln in lines if _COUNTER.search(ln) and word_count(ln) <= 5)
    if len(captions) < MIN_SLIDES or not (figures or counters >= MIN_SLIDES - 1):
        return 0, 0.0, 0, 0
    total = inside = chars = words = 0
    for line in lines:
        total += len(line)
        norm = _norm(line)
        if any(norm in c for c in captions) or (_COUNTER.search(line) and word_count(line) <= 5):
            inside += len(line)
            continue
        prose = sentence_part(line)
        chars += len(prose)
        words += word_count(prose)
    return len(captions), inside / total if total else 0.0, chars, words


def check_wall_or_gallery(tree: HtmlElement, body: str) -> None:
    """Reject a body that is a sign-in wall's pitch or a gallery's captions.

    Raises:
        Rejected: boilerplate_only (a wall) or not_a_statement (a gallery), with the measures.
    """
    if word_count(body) <= WALL_MAX_WORDS:
        share, public, count = wall_share(body)
        if (
            count >= WALL_MIN_SENTENCES
            and share >= WALL_SHARE
            and public <= WALL_PUBLIC
            and _form_beside(tree, body)
        ):
            raise Rejected(
                "boilerplate_only",
                f"sign-in wall: {share:.0%} of {count} sentences about the reader's account, "
                f"{public:.0%} on public affairs",
            )
    count, share, chars, words = gallery_measure(tree, body)
    if count >= MIN_SLIDES and share >= CAPTION_SHARE and not statement_worth(chars, words):
        raise Rejected(
            "not_a_statement",
            f"photo gallery: {count} slides, captions hold {share:.0%} of the text; "
            f"{chars} characters, {words} words of other prose",
        )
