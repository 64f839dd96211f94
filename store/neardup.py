"""Near-duplicate text: shingles, the sampled-fingerprint index, and the confirmation test.

No SQL here; `store.index` keeps the index in SQLite and `store.identity` calls the confirmation.

Index. Every distinct text is cut into word 5-gram shingles (case-folded, NFKC, quotes and
dashes folded like `cleaners.model.normalise_text`), each hashed to 64 bits. The shingles
whose hash is 0 modulo `SAMPLE_MOD` are the text's *fingerprints* and go into an inverted
index (`fingerprints(hash, text_id)`). The sampling depends only on the shingle, so the
fingerprints of a truncated copy are a subset of the original's, and the share of a
copy's fingerprints found in a candidate estimates *containment* (what truncated and
cruft-wrapped copies need), which MinHash bands, estimating Jaccard, do not: a copy
holding 30% of the original has a Jaccard of 0.3 and is usually missed by banded
MinHash. A hash whose posting list holds `DF_CAP` texts (boilerplate such as "The
following is attributable to Spokesperson ...") gets no more postings (it is only
counted, in `fp_df`), so a lookup costs at most |fingerprints| x DF_CAP index rows
however large the database grows.

Confirmation. Candidates from the index are confirmed on the full shingle sets:
containment of the shorter text in the longer, then an alignment through shared shingles
that finds short *replacements* (a word run in one text standing where another run
stands in the other). Formulaic look-alikes differ exactly there: the country, the
names, the anniversary number, the date. A replacement holding a name-like word
(capitalised, or of a script without letter case) or a number (in digits, or in words on
both sides) makes the pair different; so does such a word replaced inside a longer gap
whose two sides are otherwise the same words (several names close together leave no shared
shingle between them), or in the first or last words when both texts open (or end) with one
phrase whose names differ (`_edge_substitutions`). Insertions (cruft lines, "Read more")
and missing tails (truncation) are not replacements and do not count against a match, with
one exception: a name added to a list of names in the running text. Where a name stands
also counts (`store.namespots`): both texts open with a dateline and the cities differ, or
both end in a signature and the names differ; a republisher adds or cuts such lines, it
does not replace them.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher
from functools import cached_property
from itertools import pairwise

import numpy as np

from .namespots import dateline, list_insertion, name_like, signature

K = 5  # words per shingle
SAMPLE_MOD = 4  # one shingle in SAMPLE_MOD becomes a fingerprint
MAX_FP = 1000  # per text (bottom-k of the sampled hashes); texts over ~4,000 words are capped
DF_CAP = 64  # a fingerprint in this many texts is boilerplate: no more postings, not used to find candidates
MIN_SHINGLES = 8  # texts shorter than this (about a dozen words) are never near-matched

MERGE_AT = 0.80  # containment from which a confirmed pair is the same statement
TITLE_SURE_AT = 0.90  # above this, a disagreeing title alone does not block a merge
REVIEW_AT = 0.50  # pairs from here up that are not merged are listed for review
MIN_COVERAGE = 0.35  # share of the shorter text that must be shared at all
HELD_MIN_SHARE = 0.4  # a known text inside a new one must be this share of it (cruft around a copy is small)
DATE_SLACK_DAYS = 7  # aggregators republish within days; national days come yearly
MAX_REPLACEMENT = 8  # replacement runs longer than this are rewritten passages, not names

_WORD = re.compile(r"\w+")
_MULT = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD],
    dtype=np.uint64,
)[:K]

_STOP = frozenset(
    "a an and the of on in to for with by at from as is are be was were this that its it "
    "u s us department state statement press release secretary spokesperson office".split()
)


_FOLD = (
    [(c, "'") for c in "\u2018\u2019\u201a\u201b\u2032"]
    + [(c, '"') for c in "\u201c\u201d\u201e\u201f\u2033"]
    + [(chr(c), "-") for c in range(0x2010, 0x2016)]
    + [("\u2212", "-")]
)


def _fold(text: str) -> str:
    """NFKC, then quotes and dashes folded like `cleaners.model.normalise_text`
    (str.replace per character: much faster than str.translate on long texts)."""
    text = unicodedata.normalize("NFKC", text or "")
    for ch, rep in _FOLD:
        if ch in text:
            text = text.replace(ch, rep)
    return text


_WORD_HASH: dict[str, int] = {}  # word -> crc32; words repeat, hashing them once is most of the speed


def words(text: str) -> list[str]:
    """Words of a text with their case kept (NFKC, quotes and dashes folded)."""
    return _WORD.findall(_fold(text))


def _word_hashes(folded: list[str]) -> np.ndarray:
    cache = _WORD_HASH
    if len(cache) > 500_000:
        cache.clear()
    out = []
    for w in folded:
        h = cache.get(w)
        if h is None:
            h = cache[w] = zlib.crc32(w.encode("utf-8"))
        out.append(h)
    return np.array(out, dtype=np.uint64)


def shingle_hashes(folded: list[str]) -> np.ndarray:
    """64-bit hashes of the word K-grams, in text order (one hash for a text < K words)."""
    if not folded:
        return np.zeros(0, dtype=np.uint64)
    th = _word_hashes(folded)
    n = len(folded) - K + 1
    if n <= 0:
        th = np.concatenate([th, np.zeros(K - len(folded), dtype=np.uint64)])
        n = 1
    with np.errstate(over="ignore"):
        h = np.zeros(n, dtype=np.uint64)
        for j in range(K):
            h = h + th[j : j + n] * _MULT[j]
        h ^= h >> np.uint64(29)
        h = h * np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(32)
    return h


def fingerprints(hashes: np.ndarray) -> list[int]:
    """The sampled, de-duplicated fingerprints of a text as signed 63-bit ints (SQLite INTEGER)."""
    sampled = np.unique(hashes[hashes % np.uint64(SAMPLE_MOD) == 0])
    if len(sampled) > MAX_FP:
        sampled = sampled[:MAX_FP]
    return [int(x) for x in (sampled >> np.uint64(1)).astype(np.int64)]


@dataclass
class Text:
    """A text prepared for comparison."""

    words: list[str]
    folded: list[str]
    hashes: np.ndarray
    source: str = ""  # the folded text the words were read from (for the separators between them)
    unique: np.ndarray = field(init=False)

    def __post_init__(self):
        self.unique = np.unique(self.hashes)

    @cached_property
    def seps(self) -> list[str] | None:
        """What stands before each word (`seps[i]`) and after the last (`seps[-1]`): line
        breaks, commas, dashes. None when the source does not give the words back."""
        out = _WORD.split(self.source)
        return out if len(out) == len(self.words) + 1 else None

    @classmethod
    def of(cls, text: str) -> Text:
        norm = _fold(text)
        w = _WORD.findall(norm)
        f = _WORD.findall(norm.casefold())
        if len(f) != len(w):  # a letter whose case folding is not a word character
            f = [x.casefold() for x in w]
        return cls(w, f, shingle_hashes(f), norm)

    @property
    def size(self) -> int:
        return len(self.unique)


def containment(a: Text, b: Text) -> float:
    """Share of the smaller shingle set found in the larger one (0..1)."""
    if not a.size or not b.size:
        return 0.0
    common = len(np.intersect1d(a.unique, b.unique, assume_unique=True))
    return common / min(a.size, b.size)


def _digits(tokens) -> set[str]:
    return {t for t in tokens if any(c.isdigit() for c in t)}


# Numbers written in words (English cardinals and ordinals): the closed class of words that
# count, as "forty grants" / "sixty grants" or "the fourth round" / "the fifth round" do.
_UNITS = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
_UNITS += "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred"
_ORDINALS = "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
_ORDINALS += "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth "
_ORDINALS += "thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth hundredth"
_NUMBER_WORDS = frozenset((_UNITS + " " + _ORDINALS + " thousand million billion").split())


def _numbers(tokens) -> set[str]:
    """Numbers in digits or in words."""
    return _digits(tokens) | {t.casefold() for t in tokens if t.casefold() in _NUMBER_WORDS}


def _named(x: list[str], y: list[str]) -> bool:
    """A replacement that changes who, where or when: a name-like word or a number (in
    digits; in words when both sides hold one, so "one" standing for "a" is no count).

    Not counted: the same letters split differently ("D.C." / "DC") and spelling fixes
    of one name ("Natalia" / "Natalie"), unless a number changed.
    """
    if _digits(x) != _digits(y):
        return True
    nx, ny = _numbers(x), _numbers(y)
    if nx and ny and nx != ny:
        return True  # a count or an order in words changed: "forty" / "sixty", "fourth" / "fifth"
    jx, jy = "".join(x).casefold(), "".join(y).casefold()
    if jx == jy:
        return False
    if not any(name_like(t) for t in x + y):
        return False
    if x and y and SequenceMatcher(None, jx, jy).ratio() >= 0.75:
        return False  # a spelling fix, not another name
    return True


def _substitutions(s_gap: list[str], l_gap: list[str]) -> list[tuple[list[str], list[str]]]:
    """The short word runs replaced inside a long gap, when the gap is a substitution.

    Several names close together (a list of districts, an address and a phone number)
    leave no shared shingle between them, so the two texts differ by one long gap. A gap
    whose two sides still share at least a third of their words, in order, is the same
    passage with words replaced, and its replaced runs are read like short replacements.
    A gap whose two sides are both mostly names and numbers is one list of names standing
    for another. Any other gap is a rewritten passage (or cruft standing where text was)
    and says nothing about names.
    """
    if all(2 * sum(name_like(w) or w.isdigit() for w in g) >= len(g) for g in (s_gap, l_gap)):
        return [(s_gap, l_gap)]
    sm = SequenceMatcher(None, [w.casefold() for w in s_gap], [w.casefold() for w in l_gap], autojunk=False)
    shared = sum(b.size for b in sm.get_matching_blocks())
    if shared * 3 < min(len(s_gap), len(l_gap)):
        return []
    return [
        (s_gap[i0:i1], l_gap[j0:j1])
        for op, i0, i1, j0, j1 in sm.get_opcodes()
        if op == "replace" and i1 - i0 <= MAX_REPLACEMENT and j1 - j0 <= MAX_REPLACEMENT
    ]


Runs = list[tuple[list[str], list[str]]]


EdgeOp = tuple[str, int, int, int, int]  # opcode, then word positions in s_edge and l_edge


def _edge_substitutions(s_edge: list[str], l_edge: list[str], leading: bool) -> list[EdgeOp]:
    """The word runs replaced at an edge, when the two edges are one phrase with words replaced.

    A text may differ from its look-alike in its very first words ("The American Center in
    Dhaka invites ..." / "The Lincoln Corner in Lahore invites ..."), where cruft and cut
    tails also stand, so an edge is read only as one phrase in two forms: the shorter text's
    edge run is short, and the longer text's run next to the shared part holds at least two
    of its words, in order, each no further from where it stands in the shorter text than a
    replacement is long, and a third of the words of the shorter of the two phrases (from the
    outermost shared word to the shared part). At the end, the shorter text's last word must be
    one of them: a link line after a cut ("Continue reading on the source site") shares a
    few function words with the text it cut. The runs between shared words (and between the
    last of them and the shared part) are returned as opcodes, for the caller to read like
    replacements or insertions; a heading before them (one the other text dropped) is not.
    """
    s_base = max(0, len(s_edge) - 2 * MAX_REPLACEMENT) if leading else 0
    s_edge = s_edge[s_base:]  # at the start: the phrase next to the shared part, not a heading
    n = len(s_edge)
    if n < 3 or not l_edge or n > 2 * MAX_REPLACEMENT:
        return []
    l_base = max(0, len(l_edge) - n - MAX_REPLACEMENT) if leading else 0
    l_part = l_edge[l_base:] if leading else l_edge[: n + MAX_REPLACEMENT]
    sm = SequenceMatcher(None, [w.casefold() for w in s_edge], [w.casefold() for w in l_part], autojunk=False)
    blocks = [b for b in sm.get_matching_blocks() if b.size]
    shared = sum(b.size for b in blocks)
    if shared < 2:
        return []
    # the phrase runs from the outermost shared word to the shared part, on each side
    if leading:
        spans = (n - blocks[0].a, len(l_part) - blocks[0].b)
    else:
        spans = (blocks[-1].a + blocks[-1].size, blocks[-1].b + blocks[-1].size)
    if 3 * shared < min(spans):
        return []
    shift = len(l_part) - n if leading else 0  # where s_edge's words would stand in l_part
    if any(abs(b.b - b.a - shift) > MAX_REPLACEMENT for b in blocks):
        return []
    if not leading and blocks[-1].a + blocks[-1].size != n:
        return []  # the shorter text's last word is not part of the phrase: a link line, a cut
    ops = sm.get_opcodes()
    equal = [k for k, op in enumerate(ops) if op[0] == "equal"]
    bounded = ops[equal[0] :] if leading else ops[: equal[-1] + 1]
    return [
        (op, s_base + i0, s_base + i1, l_base + j0, l_base + j1)
        for op, i0, i1, j0, j1 in bounded
        if op != "equal" and i1 - i0 <= MAX_REPLACEMENT and j1 - j0 <= MAX_REPLACEMENT
    ]


@dataclass
class Alignment:
    """How the shorter text `s` lies inside the longer `l`."""

    anchors: list[tuple[int, int]]  # (shingle position in s, in l), increasing in both
    s_positions: int  # shingle positions of s
    span: int  # shingle positions of s from the first anchor to the last
    replacements: list[tuple[list[str], list[str]]]

    @property
    def coverage(self) -> float:
        """Share of the shorter text's shingles found, in order, in the longer."""
        return len(self.anchors) / self.s_positions if self.s_positions else 0.0

    @property
    def span_containment(self) -> float:
        """Share found between the first and last shared shingle: edge cruft and a cut
        tail do not lower it; replaced or inserted passages inside do."""
        return len(self.anchors) / self.span if self.span else 0.0


def align(a: Text, b: Text) -> Alignment:
    """Anchor the shorter text in the longer through shared shingles, and collect the
    short *replacements* between anchors (a word run in one text standing where another
    run stands in the other). Runs at the edges (truncation, cruft before or after) are
    not replacements, except for a changed number (a date or anniversary at the start);
    neither are one-sided gaps (inserted lines)."""
    short, long_ = (a, b) if len(a.hashes) <= len(b.hashes) else (b, a)
    positions: dict[int, list[int]] = {}
    for p, h in enumerate(long_.hashes.tolist()):
        positions.setdefault(h, []).append(p)
    anchors: list[tuple[int, int]] = []
    last_l = -1
    for i, h in enumerate(short.hashes.tolist()):
        ps = positions.get(h)
        if not ps:
            continue
        nxt = next((p for p in ps if p > last_l), None)
        if nxt is None:
            continue
        anchors.append((i, nxt))
        last_l = nxt
    out: list[tuple[list[str], list[str]]] = []

    def differing(s_run, l_run):
        fs, fl = {w.casefold() for w in s_run}, {w.casefold() for w in l_run}
        only_s = [w for w in s_run if w.casefold() not in fl]
        only_l = [w for w in l_run if w.casefold() not in fs]
        return (only_s, only_l) if (only_s or only_l) else None

    def gap(s_gap, l_gap):
        if not s_gap or not l_gap or len(s_gap) > MAX_REPLACEMENT or len(l_gap) > MAX_REPLACEMENT:
            return None
        return differing(s_gap, l_gap)

    for (i0, p0), (i1, p1) in pairwise(anchors):
        # words covered by anchor i0 end at i0+K; the next anchor's words start at i1
        s_gap, l_gap = short.words[i0 + K : i1], long_.words[p0 + K : p1]
        r = gap(s_gap, l_gap)
        if r:
            out.append(r)
        elif s_gap and l_gap and max(len(s_gap), len(l_gap)) > MAX_REPLACEMENT:
            out += [d for d in (differing(a, b) for a, b in _substitutions(s_gap, l_gap)) if d]
        elif l_gap and not s_gap and list_insertion(long_.words, long_.seps, p0 + K, p1):
            out.append(([], l_gap))
        elif s_gap and not l_gap and list_insertion(short.words, short.seps, i0 + K, i1):
            out.append((s_gap, []))
    if anchors:
        (fi, fp), (li, lp) = anchors[0], anchors[-1]
        for r in (gap(short.words[:fi], long_.words[:fp]), gap(short.words[li + K :], long_.words[lp + K :])):
            if r and _digits(r[0]) != _digits(r[1]) and _digits(r[0]) and _digits(r[1]):
                out.append(r)
        for s0, l0, s_end, l_end, leading in ((0, 0, fi, fp, True), (li + K, lp + K, None, None, False)):
            s_edge, l_edge = short.words[s0:s_end], long_.words[l0:l_end]
            for op, i0, i1, j0, j1 in _edge_substitutions(s_edge, l_edge, leading):
                d = differing(s_edge[i0:i1], l_edge[j0:j1])
                if d and (
                    op == "replace"
                    or (op == "insert" and list_insertion(long_.words, long_.seps, l0 + j0, l0 + j1))
                    or (op == "delete" and list_insertion(short.words, short.seps, s0 + i0, s0 + i1))
                ):
                    out.append(d)
        # a name replaced on both sides at an edge: two datelines, or two signatures (the
        # separators are read only when both texts have words beyond the shared part there)
        if fi and fp:
            r = differing(dateline(short.words, short.seps, fi), dateline(long_.words, long_.seps, fp))
            if r and r[0] and r[1]:
                out.append(r)
        if li + K < len(short.words) and lp + K < len(long_.words):
            s_sig = signature(short.words, short.seps, li + K)
            r = differing(s_sig, signature(long_.words, long_.seps, lp + K))
            if r and r[0] and r[1]:
                out.append(r)
        span = li - fi + 1
    else:
        span = 0
    return Alignment(anchors, len(short.hashes), span, out)


def title_words(title: str | None) -> set[str]:
    return {w.casefold() for w in words(title or "")} - _STOP


def title_numbers_differ(t1: str | None, t2: str | None) -> bool:
    """Both titles carry numbers and not the same ones ("Public Schedule – July 1, 2021"
    / "July 2, 2021"): dated formulaic pages, never one statement."""
    a, b = _digits(words(t1 or "")), _digits(words(t2 or ""))
    return bool(a) and bool(b) and a != b


def titles_disagree(t1: str | None, t2: str | None) -> bool:
    """Both titles known and each has words the other lacks (a prefix or suffix added by
    a republisher — one set inside the other — is agreement)."""
    a, b = title_words(t1), title_words(t2)
    if not a or not b:
        return False
    return bool(a - b) and bool(b - a) and len(a & b) / min(len(a), len(b)) < 0.75


@dataclass(frozen=True)
class Verdict:
    """Outcome of comparing a new text with a candidate's text."""

    same: bool
    score: float  # containment
    review: str | None = None  # reason to list the pair for review when not merged
    detail: str = ""


def compare(
    new: Text,
    old: Text,
    *,
    new_title: str | None = None,
    old_title: str | None = None,
    new_date: date | None = None,
    old_date: date | None = None,
    edges_ok: bool = True,
    old_official: bool = False,
) -> Verdict:
    """Decide whether two texts are one statement (see the module docstring).

    The score is the containment of the shorter text in the longer. With `edges_ok`
    (one side is a republished copy) it is measured between the first and last shared
    shingle when at least `MIN_COVERAGE` of the shorter text is shared, so a truncated
    copy that also carries cruft still scores high. Two official pages get no such
    allowance: formulaic readouts share their whole first paragraph and then diverge,
    which looks like a cut tail. A new text that holds an official `old` text and much
    more besides (`HELD_MIN_SHARE`) is another document quoting it.
    """
    if min(new.size, old.size) < MIN_SHINGLES:
        return Verdict(False, 0.0)
    raw = containment(new, old)
    if raw < MIN_COVERAGE:
        return Verdict(False, raw)
    al = align(new, old)
    c = max(raw, al.span_containment) if edges_ok and al.coverage >= MIN_COVERAGE else raw
    if c < REVIEW_AT:
        return Verdict(False, c)
    if old_official and old.size < new.size * HELD_MIN_SHARE:
        # the new text holds the old one and much more: a briefing that opens with a
        # statement, a digest of several releases; not a copy of it
        return Verdict(False, c, "holds_candidate" if c >= 0.7 else None, f"{old.size} / {new.size} shingles")
    named = [(x, y) for x, y in al.replacements if _named(x, y)]
    if named:
        detail = "; ".join(f"{' '.join(x) or '-'} / {' '.join(y) or '-'}" for x, y in named[:5])
        return Verdict(False, c, "lookalike" if c >= 0.7 else None, detail)
    if title_numbers_differ(new_title, old_title):
        return Verdict(False, c, "title_mismatch" if c >= 0.7 else None, f"{new_title} / {old_title}")
    if new_date and old_date and abs((new_date - old_date).days) > DATE_SLACK_DAYS:
        # weeks apart: only the very same text (a late republication) is the same statement
        if raw >= 0.95 and not al.replacements:
            return Verdict(True, c)
        return Verdict(False, c, "date_mismatch" if c >= 0.7 else None, f"{new_date} / {old_date}")
    if c >= MERGE_AT:
        if c < TITLE_SURE_AT and titles_disagree(new_title, old_title):
            return Verdict(False, c, "title_mismatch", f"{new_title} / {old_title}")
        return Verdict(True, c)
    return Verdict(False, c, "grey_zone")


def similarity(a: str, b: str) -> float:
    """Containment of the shorter text in the longer, for display (`copies.similarity`)."""
    return round(containment(Text.of(a), Text.of(b)), 4)
