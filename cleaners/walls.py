"""Is what remains of a page a sign-in or subscription wall, an account or newsletter form, or a
photo gallery rather than a statement? (`check_wall_or_gallery`, called with the other checks on
the cleaned body.)

Each kind has real sentences, so the length check keeps them, and none is worded as the site's
service text often enough for `cleaners.sitepages` to see it (a wall is three or four
sentences; a gallery's captions speak of what a photo shows). What gives each away:

- a wall: most of the body's sentences speak to the reader about their dealings with the site
  (an account, a subscription, reading, saving, signing in or up; in English, German, French,
  Spanish, Italian or Portuguese), or are the text of a form that asks the reader for
  something (its labels, the choices it offers; not a form wrapping the whole page); a
  control asks for an account outside the page's header, navigation, footer and sidebar (an
  e-mail or password field, such a form, a link or button to subscribe, sign in, register or
  join); the body is short; hardly any sentence is on public affairs; and the rest of the body
  holds no statement's worth of prose (the measure of `cleaners.listings`). That last test is
  what keeps statements: one with a subscription box, a newsletter form or a comment form
  under it has its own prose. A line cut short ("…") is the start of the story a paywall hides
  and counts for neither side. Rejected as boilerplate_only: what remains is login or
  subscription text. A box the block rules cut (`login_box`) is no evidence here: where it
  stood is not known any more.
- a gallery: three or more slides (an element holding one image and a short text that is not
  a link to another page: a `<figure>` and its caption, a list item with its image and caption
  line; or, in a block of images each followed by its text and nothing else, the element
  after the image), shown to be photos: each a `<figure>` with a caption, or counted in the body ("Photo 2
  of 5"), or the slides, their container or the page's address or headline say so (gallery,
  slideshow, photos, in several languages), or the images link to their larger files (a
  lightbox); the captions hold at least half of the text (counted on the page, as extraction
  may drop them from the body), and outside them no statement's worth of prose stands. A
  statement with a few captioned photos has its own prose and is kept; teasers of other
  posts with a picture each are links, and count no slides. Rejected as not_a_statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from cleaners.listings import statement_worth
from cleaners.model import Rejected
from cleaners.prose import SENTENCE_ENDS, ends_sentence, sentence_count, word_count
from cleaners.sitepages import PARTY, PUBLIC, is_service, sentences

# A sentence about the reader's account with the site names one of these.
_ACCOUNT = re.compile(
    r"\b(?:accounts?|sign(?:ed|ing)?[\s-]?(?:in|up)|log(?:ged|ging)?[\s-]?in|regist(?:er|ered|ering|ration)|"
    r"members?|subscri(?:be|bers?|ption)|free|unlimited|limit|read(?:s|ing)?|stor(?:y|ies)|articles?|"
    r"save[ds]?|alerts?|newsletters?|headlines|comments?|conversation|devices?|apps?|settings|profile|"
    r"passwords?|e-?mail|details|remember|"
    # German, French, Spanish, Italian, Portuguese
    r"konto|abo|abonnement|abonnier\w*|abonnent\w*|registrier\w*|anmeld\w*|einlogg\w*|passwort|mitglied\w*|"
    r"artikel|lesen|weiterlesen|zugang|kostenlos\w*|merkliste|geräten?|"
    r"compte|abonn\w+|inscri\w+|connect\w+|identifi\w+|mot\s+de\s+passe|membres?|lire|lecture|accès|gratuit\w*|"
    r"illimité\w*|courriel|"
    r"cuenta|suscri\w+|registr\w+|iniciar\s+sesión|contraseña|socios?|miembros?|artículos?|leer|acceso|gratis|"
    r"ilimitad\w*|boletín|correo|"
    r"abbonat\w*|abbonamento|accedi|iscri\w+|articoli|leggere|accesso|illimitat\w*|"
    r"conta|assinatura|assinante\w*|cadastr\w+|senha|artigos?|acesso|grátis)\b",
    re.I,
)
# The reader addressed, or the site speaking, in German, French, Spanish, Italian, Portuguese.
_READER = re.compile(
    r"\b(?:sie|ihr|ihre[mnrs]?|du|dein\w*|wir|uns|unser\w*|vous|votre|vos|nous|notre|nos|usted(?:es)?|tus?|"
    r"nuestr[oa]s?|vosotros|vuestr[oa]s?|tuo|tua|tuoi|voi|vostr[oaie]|noi|nostr[oaie]|você|vocês|"
    r"nosso|nossa|nossos|nossas)\b",
    re.I,
)
# Public affairs in the same languages: a statement in them says "Sie" or "vous" too.
_PUBLIC_INTL = re.compile(
    r"\b(?:regierung\w*|botschaft\w*|ministe?r\w*|präsident\w*|außenminister\w*|gouvernement\w*|ambassade\w*|"
    r"président\w*|gobierno\w*|embajada\w*|presidente\w*|ministro\w*|governo\w*|ambasciata\w*|"
    r"embaixada\w*|ciudadanos|citoyens|bürger\w*|cittadini|cidadãos)\b",
    re.I,
)
_CHROME = frozenset(("header", "nav", "footer", "aside"))
_FIELDS = "//input[@type='password' or @type='email']"
_CONTROLS = ".//input[not(@type='hidden')] | .//select | .//textarea"
# A form that holds these wraps the page (ASP.NET pages put everything in one form).
_PAGE_PARTS = ("header", "nav", "footer", "main", "article", "h1")
# A link or button that offers an account or a subscription.
_ACCOUNT_LINK = re.compile(
    r"subscri|abonn|suscri|assin|log-?in|sign-?(?:in|up)|regist|konto|account|anmeld|inscri|cadastr|paywall|"
    r"join|member|donat|mitglied|adh[ée]r|socio",
    re.I,
)
# A wall's pitch is a few sentences; a statement is rarely this short and this much about accounts.
WALL_MAX_WORDS = 400
WALL_MIN_SENTENCES = 2
WALL_SHARE = 0.6
# a wall may name the story it hides, in its headline
WALL_PUBLIC = 0.25

MIN_SLIDES = 3
SLIDE_MAX_CHARS = 500
# a caption standing after its image, not inside one element with it: shorter than most of a
# statement's paragraphs
CAPTION_MAX_CHARS = 300
# how far above its image a slide's element may stand (a wrapper, a lightbox link, a <picture>)
SLIDE_DEPTH = 5
CAPTION_SHARE = 0.5
_COUNTER = re.compile(r"\b\d+\s*(?:of|/|de|von|di|sur)\s*\d+\b", re.I)
_GALLERY = re.compile(
    r"galer|gallery|slide|carousel|lightbox|fancybox|diaporama|photos|fotos|in-?pictures|bilder|"
    r"im[aá]genes|album",
    re.I,
)
_IMAGE_FILE = re.compile(r"\.(?:jpe?g|png|webp|gif|avif)(?:[?#]|$)", re.I)
_WS = re.compile(r"\s+")
_MARKER = "-•*· "
_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))


def _norm(text: str) -> str:
    """Text without its white space, lower-cased: a line of the body is found in an element's
    text however extraction spaced the element's parts ("mayor. Foto:" from "mayor.</p><p>Foto:")."""
    return _WS.sub("", text).casefold()


def _key(line: str) -> str:
    """A line as found in the page's text: without the marker the line rules give a list item."""
    return _norm(line.strip().lstrip(_MARKER))[:80]


def account_sentence(sentence: str) -> bool:
    """The sentence speaks to the reader about their dealings with the site, or is the site's
    service text, and names nothing of public affairs."""
    if PUBLIC.search(sentence) or _PUBLIC_INTL.search(sentence):
        return False
    # a line of four words or fewer is a label or a question next to the form ("Already
    # registered?"), which names no party
    addressed = PARTY.search(sentence) or _READER.search(sentence) or word_count(sentence) <= 4
    return is_service(sentence) or bool(_ACCOUNT.search(sentence) and addressed)


def _outside_chrome(el: HtmlElement) -> bool:
    return not any(a.tag in _CHROME for a in el.iterancestors())


def reader_forms(tree: HtmlElement) -> list[HtmlElement]:
    """Forms that ask the reader for something: with a control, outside the page's chrome,
    and not wrapping the page."""
    out = []
    for form in tree.iter("form"):
        if not form.xpath(_CONTROLS) or not _outside_chrome(form):
            continue
        if next(form.iter(*_PAGE_PARTS), None) is not None:
            continue
        out.append(form)
    return out


@dataclass(frozen=True, slots=True)
class Wall:
    """What the wall test measured: the share of sentences addressed to the reader about the
    site or in a form, the share on public affairs, the sentences, and the characters and
    words of the other prose."""

    share: float
    public: float
    count: int
    prose: int
    words: int


def units(body: str, *, cut: bool = True) -> list[str]:
    """The body's sentences, and its lines that end no sentence (headings, labels) whole: the
    dots of a heading's initials ("Antony J. Blinken", "Dr. S. Jaishankar") end no sentence of
    it. A line holding two sentences or more is split whatever its end (extraction may run a
    short page into one line). `cut=False`: without the lines cut short ("…"), the lede a
    paywall shows of the story it hides, which is neither the wall's text nor a statement."""
    out: list[str] = []
    for line in (ln.strip() for ln in body.split("\n")):
        if not line or (not cut and line.endswith(("…", "..."))):
            continue
        out.extend(sentences(line) if ends_sentence(line) or sentence_count(line) >= 2 else [line])
    return out


def wall_measure(body: str, form_texts: list[str]) -> Wall:
    """The wall test's measures for a cleaned body, given the text of the page's reader forms."""
    sents = [s for s in units(body, cut=False) if s[-1] in SENTENCE_ENDS or len(s.split()) >= 6]
    if not sents:
        return Wall(0.0, 0.0, 0, 0, 0)
    reader = public = chars = words = 0
    for s in sents:
        if PUBLIC.search(s) or _PUBLIC_INTL.search(s):
            public += 1
        key = _key(s)
        if account_sentence(s) or any(key in t for t in form_texts):
            reader += 1
        elif s[-1] in SENTENCE_ENDS:
            chars += len(s)
            words += word_count(s)
            if statement_worth(chars, words):
                break  # the body has a statement's worth of its own prose: no wall, whatever the rest
    n = len(sents)
    return Wall(reader / n, public / n, n, chars, words)


def _controls(tree: HtmlElement, forms: list[HtmlElement]) -> list[HtmlElement]:
    """What asks the reader for an account outside the page's chrome: an e-mail or password
    field, a reader form, a link or button to subscribe, sign in or register."""
    found = [f for f in tree.xpath(_FIELDS) if _outside_chrome(f)] + forms
    for el in tree.iter("a", "button"):
        label = f"{el.get('href') or ''} {el.text_content()}"
        if _ACCOUNT_LINK.search(label) and _outside_chrome(el):
            found.append(el)
    return found


def _is_link_text(holder: HtmlElement, text: str) -> bool:
    """Most of the slide's text is a link to another page (a teaser), not a caption."""
    linked = sum(
        len(a.text_content().strip()) for a in holder.iter("a") if not _IMAGE_FILE.search(a.get("href") or "")
    )
    return linked * 2 > len(text)


def _marked(holder: HtmlElement, img: HtmlElement) -> bool:
    """The slide, or the two elements around it, are named a gallery's, or its image links to
    its larger file (a lightbox)."""
    el: HtmlElement | None = holder
    for _ in range(3):
        if el is None:
            break
        if _GALLERY.search(f"{el.get('class') or ''} {el.get('id') or ''}"):
            return True
        el = el.getparent()
    return any(a.tag == "a" and _IMAGE_FILE.search(a.get("href") or "") for a in img.iterancestors())


def _images(el: HtmlElement) -> int:
    """Images in the element; a lazy-loading page's `<noscript>` copy of one is not another."""
    return sum(1 for i in el.iter("img") if i.getparent() is None or i.getparent().tag != "noscript")


def _images_and_captions(block: HtmlElement) -> bool:
    """Every text of the block (but a heading's) stands right after an image: a gallery's
    block, not an article's body with pictures between its paragraphs."""
    after_image = False
    for child in block:
        if not isinstance(child.tag, str):
            continue
        images = _images(child)
        textful = len(_norm(child.text_content())) >= 20
        if textful and not images and not after_image and child.tag not in _HEADINGS:
            return False
        after_image = bool(images) and not textful
    return len(_norm(block.text or "")) < 20


def _caption_after(top: HtmlElement, blocks: dict[HtmlElement, bool]) -> HtmlElement | None:
    """The element right after an image's own element, when it holds no image and the block
    is images and their captions only."""
    block = top.getparent()
    if block is None:
        return None
    if block not in blocks:
        blocks[block] = _images_and_captions(block)
    if not blocks[block]:
        return None
    nxt = top.getnext()
    while nxt is not None and not isinstance(nxt.tag, str):
        nxt = nxt.getnext()
    return nxt if nxt is not None and _images(nxt) == 0 else None


def _short_text(el: HtmlElement, limit: int, cache: dict[HtmlElement, str]) -> str:
    """The element's text with its white space collapsed; of a text far longer than `limit`,
    only its start (enough to tell it is too long). Cached: images share their ancestors."""
    text = cache.get(el)
    if text is None:
        text = cache[el] = _WS.sub(" ", el.text_content()[: 4 * limit]).strip()
    return text


def slides(tree: HtmlElement) -> tuple[list[str], bool]:
    """The text of every slide: for each image, the nearest of its closest ancestors with text,
    when that ancestor holds no other image, or else the element right after the image's own
    one; with a short text that is not a link to another page. And whether the slides are
    shown to be photos (each a `<figure>` with its `<figcaption>`, or marked as a gallery's)."""
    images = tree.xpath("//img[not(parent::noscript)]")
    if len(images) < MIN_SLIDES:
        return [], False
    # keyed by the element itself: an id() is reused once lxml drops the element's proxy
    found: dict[HtmlElement, str] = {}
    blocks: dict[HtmlElement, bool] = {}
    counts: dict[HtmlElement, int] = {}
    texts: dict[HtmlElement, str] = {}
    marks = 0
    for img in images:
        top = img
        for depth, holder in enumerate(img.iterancestors()):
            if depth >= SLIDE_DEPTH or holder.tag in ("body", "html"):
                break
            text = _short_text(holder, SLIDE_MAX_CHARS, texts)
            if len(text) < 20:
                top = holder
                continue
            if holder not in counts:
                counts[holder] = _images(holder)
            slide = holder if counts[holder] == 1 else _caption_after(top, blocks)
            limit = SLIDE_MAX_CHARS
            if slide is not None and slide is not holder:
                text = _short_text(slide, CAPTION_MAX_CHARS, texts)
                limit = CAPTION_MAX_CHARS
            if slide is not None and 20 <= len(text) <= limit and not _is_link_text(slide, text):
                found[slide] = _norm(text)
                marks += _marked(slide, img)
            break
    figures = bool(found) and all(el.tag == "figure" and el.find(".//figcaption") is not None for el in found)
    return list(found.values()), figures or marks >= MIN_SLIDES


def _page_says_gallery(tree: HtmlElement, url: str | None) -> bool:
    """The page's address, title or headline names it a gallery."""
    title = tree.findtext(".//title") or ""
    h1 = next(tree.iter("h1"), None)
    heading = h1.text_content() if h1 is not None else ""
    return bool(_GALLERY.search(f"{urlsplit(url).path if url else ''} {title} {heading}"))


def gallery_measure(tree: HtmlElement, body: str, url: str | None = None) -> tuple[int, float, int, int]:
    """(slides, share of the text in captions and counters, characters and words of prose
    outside them). The captions are counted on the page: extraction may drop a `<figcaption>`
    from the body, which leaves a gallery its introduction only."""
    captions, marked = slides(tree)
    if len(captions) < MIN_SLIDES:
        return 0, 0.0, 0, 0
    parts = units(body)
    counters = sum(1 for u in parts if _COUNTER.search(u) and word_count(u) <= 5)
    if not (marked or counters >= MIN_SLIDES - 1 or _page_says_gallery(tree, url)):
        return 0, 0.0, 0, 0
    outside = chars = words = 0
    for unit in parts:
        norm = _norm(unit.lstrip(_MARKER))
        if norm and any(norm in c for c in captions) or (_COUNTER.search(unit) and word_count(unit) <= 5):
            continue
        outside += len(norm)
        if unit[-1] in SENTENCE_ENDS and word_count(unit) >= 3:
            chars += len(unit)
            words += word_count(unit)
    inside = sum(map(len, captions))
    return len(captions), inside / (inside + outside), chars, words


def check_wall_or_gallery(tree: HtmlElement, body: str, url: str | None = None) -> None:
    """Reject a body that is a wall's pitch, an account or newsletter form, or a gallery's
    captions.

    Raises:
        Rejected: boilerplate_only (a wall) or not_a_statement (a gallery), with the measures.
    """
    if word_count(body) <= WALL_MAX_WORDS:
        forms = reader_forms(tree)
        wall = wall_measure(body, [_norm(f.text_content()) for f in forms])
        if (
            wall.count >= WALL_MIN_SENTENCES
            and wall.share >= WALL_SHARE
            and wall.public <= WALL_PUBLIC
            and not statement_worth(wall.prose, wall.words)
            and _controls(tree, forms)
        ):
            raise Rejected(
                "boilerplate_only",
                f"sign-in wall: {wall.share:.0%} of {wall.count} sentences to the reader about the site "
                f"or in a form, {wall.public:.0%} on public affairs",
            )
    count, share, chars, words = gallery_measure(tree, body, url)
    if count >= MIN_SLIDES and share >= CAPTION_SHARE and not statement_worth(chars, words):
        raise Rejected(
            "not_a_statement",
            f"photo gallery: {count} slides, captions hold {share:.0%} of the text; "
            f"{chars} characters, {words} words of other prose",
        )
