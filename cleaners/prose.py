"""What prose looks like, in any script: sentence ends, sentences, words and content tokens.

The line rules and the extraction check ask these questions of a line ("is this a sentence of
the statement or a fragment of navigation?") and must answer them alike for English, Arabic,
Hindi or Chinese text: a Chinese paragraph has no spaces and ends its sentences with "。", an
Arabic one asks with "؟", a Hindi one ends with "।".
"""

from __future__ import annotations

import re

# Sentence ends of the scripts statements are published in, with the closing quotes and
# brackets that may follow them.
SENTENCE_ENDS = ".!?…。！？．؟۔।॥።"
_CLOSERS = "\"'”’»)]）」』"
_SPACED_ENDS = ".!?…．؟۔।॥።"
# not after a capital or a lone letter: "U.S. Embassy", "J. Smith" end no sentence
_SENTENCE_END = re.compile(rf"(?<![A-Z])(?<!\b\w)[{re.escape(_SPACED_ENDS)}][{re.escape(_CLOSERS)}]*(?=\s|$)")
_SENTENCE_END_CJK = re.compile(r"[。！？]")  # scripts without spaces: nothing need follow
# Scripts written without spaces between words: each character counts as a word.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f\u1000-\u109f]")
_WORD = re.compile(r"\w+", re.UNICODE)


def ends_sentence(line: str) -> bool:
    """The line ends as a sentence does (in any script), closing quotes allowed."""
    return line.rstrip(_CLOSERS + " \t").endswith(tuple(SENTENCE_ENDS))


def word_count(text: str) -> int:
    """Words of `text`; in scripts written without spaces, a character is a word (so a
    paragraph of Chinese prose is long, not "one word")."""
    unspaced = len(_UNSPACED.findall(text))
    if unspaced:
        return unspaced + len(_WORD.findall(_UNSPACED.sub(" ", text)))
    return len(text.split())


def sentence_count(text: str) -> int:
    """Sentences of `text` that end with a sentence end of any script."""
    return len(_SENTENCE_END.findall(text)) + len(_SENTENCE_END_CJK.findall(text))


def is_prose(line: str) -> bool:
    """A paragraph of running text: it ends as a sentence does and holds two sentences or one
    long one, or it holds three sentences or more (a label glued to titles ends no sentence,
    and "Dr. S. Jaishankar" holds no two)."""
    words = word_count(line)
    if words < 12:
        return False
    sentences = sentence_count(line)
    if ends_sentence(line):
        return sentences >= 2 or words >= 20
    return sentences >= 3


def content_tokens(text: str) -> set[str]:
    """Tokens that carry a text's subject: words of four letters or more, lower-cased, and
    pairs of characters in scripts written without spaces."""
    low = text.lower()
    tokens = {w for w in _WORD.findall(_UNSPACED.sub(" ", low)) if len(w) >= 4 and not w.isdigit()}
    chars = _UNSPACED.findall(low)
    tokens.update(a + b for a, b in zip(chars, chars[1:], strict=False))
    return tokens


def is_hard_wrapped(lines: list[str]) -> bool:
    """The lines are one paragraph broken at a fixed width (mail, plain-text archives): every
    line but the last is 45-100 characters, the last no wider, and either (three lines or more)
    none but the last ends a sentence, or each was broken because the next line's first word
    would not have fitted within the widest line. A heading over one paragraph is two lines that
    pass the first test but not the second."""
    if len(lines) < 2 or not all(45 <= len(ln) <= 100 for ln in lines[:-1]) or len(lines[-1]) > 100:
        return False
    if len(lines) > 2 and all(not ln.endswith((".", "!", "?", ":")) for ln in lines[:-1]):
        return True
    width = max(len(ln) for ln in lines)
    return all(
        len(ln) + 1 + len(nxt.split(maxsplit=1)[0]) > width for ln, nxt in zip(lines, lines[1:], strict=False)
    )


def join_wrapped(lines: list[str]) -> str:
    """Hard-wrapped lines as one paragraph; a word broken at its hyphen is whole again."""
    out = lines[0] if lines else ""
    for ln in lines[1:]:
        out += ln if out.endswith("-") and out[-2:-1].isalpha() else " " + ln
    return out
