"""Where a name stands in a text: a dateline before the first sentence, a signature after the
last, an item in a list of names in the running text.

`store.neardup` reads the words two texts do not share. Cruft added by a republisher stands at
the edges too (a heading, a byline, a link line) or on a line of its own, so a name there says
little. These positions say more: two datelines with different cities, two signatures with
different names, or one more name inside a list of names joined by commas or "and" are not what
a republisher writes. Each function takes a text's words and the separators around them
(`seps[i]` stands before `words[i]`; None when unknown) and only reads their shape.
"""

from __future__ import annotations

MAX_ITEM = 8  # words of one list item (a name, not a passage)


def name_like(token: str) -> bool:
    """A token that may name someone or somewhere: capitalised, or in a script without
    letter case (Arabic, Hebrew, Devanagari ...), where a name cannot be told by its case."""
    first = token[:1]
    return first.isupper() or (first.isalpha() and first.lower() == first.upper())


_LIST_SEP = frozenset(" ,")
_NAME_SEP = frozenset(" ,.'-")
_CONNECTORS = frozenset({"and", "or"})
MAX_NAME_LINE = 6  # words of a dateline or of one signature line


def _only(sep: str, allowed: frozenset[str]) -> bool:
    return all(c in allowed for c in sep)


def dateline(words: list[str], seps: list[str] | None, edge: int) -> list[str]:
    """The words of the text's dateline that stand before word `edge` ("KATHMANDU, Nepal - ...": a
    line that opens with a word in capitals, then a few names, then a dash), or []. Read from
    the dash in one of the first words from `edge` back to the start of its line."""
    if seps is None or edge <= 0:
        return []
    for k in range(edge, min(edge + 3, len(words))):
        if "-" in seps[k] and "\n" not in seps[k]:
            break
    else:
        return []
    j = k - 1
    while j > 0 and "\n" not in seps[j] and k - j < MAX_NAME_LINE and _only(seps[j], _NAME_SEP):
        j -= 1
    if j > 0 and "\n" not in seps[j] or j >= edge:
        return []
    line = words[j:k]
    if not (line[0].isupper() and len(line[0]) > 1 and all(_name_word(w) or w.isdigit() for w in line)):
        return []
    return words[j:edge]


def _name_word(w: str) -> bool:
    """A word of a name or title: name-like, or a short particle ("of", "and", "d'", "a.i.")."""
    return name_like(w) or (len(w) <= 3 and w.isalpha())


def _name_line(words: list[str], seps: list[str], j: int, end: int) -> bool:
    return (
        0 < end - j <= MAX_NAME_LINE
        and all(_name_word(w) for w in words[j:end])
        and any(name_like(w) and len(w) > 1 for w in words[j:end])
        and all(_only(seps[k], _NAME_SEP) for k in range(j + 1, end))
    )


def signature(words: list[str], seps: list[str] | None, edge: int) -> list[str]:
    """The signature block around word `edge`, the first word after the shared part: the lines
    from the start of `edge`'s line on that are each a few names ("Helen Marsh", "Ambassador"),
    or [] when `edge`'s line is no such line. Text after the block (cruft) does not matter."""
    n = len(words)
    if seps is None or edge >= n:
        return []
    j = edge
    while j > 0 and "\n" not in seps[j] and edge - j < MAX_NAME_LINE:
        j -= 1
    if j > 0 and "\n" not in seps[j]:
        return []
    start, end = j, j
    while end < n:
        stop = next((k for k in range(end + 1, n) if "\n" in seps[k]), n)
        if not _name_line(words, seps, end, stop):
            break
        end = stop
    return words[start:end] if end > edge else []


def list_insertion(words: list[str], seps: list[str] | None, a: int, b: int) -> bool:
    """Words a..b, missing from the other text, are an item added to a list of names in
    the running text ("Norland, Sudmark, Vell and Ostria"): names joined by commas or "and"
    alone, bounded by list separators (or the list's end) on both sides, next to at least two
    other names of the list. A republisher's inserted line sits on a line of its own, or holds
    other punctuation, or no list."""
    w = words
    if seps is None or not 0 < a < b < len(w) or b - a > MAX_ITEM:
        return False
    if not all(_only(seps[k], _LIST_SEP) for k in range(a, b + 1)):
        return False
    items = [x for x in w[a:b] if x.casefold() not in _CONNECTORS]
    if not items or not all(name_like(x) and not x.isdigit() for x in items):
        return False

    def bound(inner: int, outer: int, sep: str) -> bool:
        return (
            "," in sep
            or w[outer].casefold() in _CONNECTORS
            or w[inner].casefold() in _CONNECTORS
            or not name_like(w[outer])
        )

    if not (bound(a, a - 1, seps[a]) and bound(b - 1, b, seps[b])):
        return False
    around = 0
    for start, step in ((a - 1, -1), (b, 1)):
        k = start
        while 0 <= k < len(w) and abs(k - start) < 2 * MAX_NAME_LINE:
            sep = seps[k + 1] if step < 0 else seps[k]
            if not _only(sep, _LIST_SEP) or not (name_like(w[k]) or w[k].casefold() in _CONNECTORS):
                break
            around += name_like(w[k])
            k += step
    return around >= 2
