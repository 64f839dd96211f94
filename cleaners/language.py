"""The language of a cleaned text: a cheap test for plain English, py3langid for the rest."""

from __future__ import annotations

import re
from types import ModuleType

_langid: ModuleType | None = None
# The commonest English function words. In running English they are 40-55 % of the words; in
# Spanish, French or Portuguese prose, under 10 % (only "a", "no", "on" overlap).
_EN_FUNCTION = frozenset(
    "about after all also an and any are at be been between both but by can could did during each for "
    "from had has have he her his how if in into is it its may more most must not of on one only or other "
    "our out over said she should so some such than that the their them there these they this those "
    "through to under until up upon was we were what when where which while who will with would you "
    "your".split()
)
_ASCII_WORD = re.compile(r"[A-Za-z]+")


def plainly_english(sample: str) -> bool:
    """Prose that is plainly English: at least 40 words, nearly all of the letters ASCII, and
    English function words at least a quarter of the words. Anything less clear goes to py3langid."""
    words = _ASCII_WORD.findall(sample)
    if len(words) < 40:
        return False
    letters = sum(map(len, words))
    if letters < 0.9 * sum(map(str.isalpha, sample)):
        return False
    hits = sum(map(_EN_FUNCTION.__contains__, map(str.lower, words)))
    return hits >= 0.25 * len(words)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text, None for too little text.

    py3langid decides, except for prose that is plainly English by its function words (most of
    what Dispatches reads): that check is far cheaper than a py3langid call, and a worker that
    only ever sees English never loads py3langid's model (about a second of CPU)."""
    global _langid
    sample = text[:800]
    if len(sample.strip()) < 40:
        return None
    if plainly_english(sample):
        return "en"
    if _langid is None:
        import py3langid

        _langid = py3langid
    lang, _ = _langid.classify(sample)
    return str(lang)
