"""Benchmark of cleaners.clean against bare trafilatura, on a development and a test part.

    python bench/cleaning.py [--sample N] [--pages N] [--extraction both|default] [--corpus PATH]

Prints one table. Everything is measured in this run, ours next to bare
`trafilatura.extract(..., with_metadata=True)` on the same pages, and every measure is given
for two parts apart:

- dev: material cleaning rules may be written from;
- test: material no rule, threshold or exception may be written from. It is only measured.

The corpus in ../shared/corpus is split by a hash of each item's key (`part_of`: the file name
of an annotated page, the key of an evaluation or benchmark page, the guid of a feed item),
so the split is fixed and needs no list. The page templates are split by hand, in
tests/fixtures/web/wrapped_templates.py; the four templates of `legacy_wrap` below carry the
very phrases the rules were written from and count as dev whatever statement they wrap.

Measures:
1. seeds (dev): every body paragraph kept, every cruft line gone, the attributions read;
2. real syndicated pages with trafilatura's own annotations, and trafilatura's English
   evaluation pages: `with` strings kept, `without` strings removed;
3. the scrapinghub article-extraction benchmark: precision/recall/F1 over 4-word shingles
   (per-page means), pages wrongly rejected, and documents per CPU second;
4. real state.gov statements (the RSS item history) wrapped in page templates: cruft left
   (leakage), shingle recall of the statement, pages wrongly rejected or wrongly stored,
   titles and claimed originals read right, and each failing page's failure class; each
   template page by page, then "with site chrome": the state after a crawl of its host (the
   lines the template repeats learned on all its pages and removed from each,
   `cleaners.sitechrome`; no official text is stored, so no line is protected).

`--extraction both` (the default) also runs our cleaner with the other extraction path tried
first (`CleanConfig(extraction="fast")` next to the default "full", or the reverse). When
../shared/corpus is absent the benchmark says so and exits 0.
"""

from __future__ import annotations

import argparse
import email.utils
import fnmatch
import functools
import gzip
import hashlib
import html
import json
import logging
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import trafilatura
from lxml.html import fragment_fromstring

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cleaners import CleanConfig, Document, Rejected, clean, clean_text  # noqa: E402
from cleaners.language import detect_language  # noqa: E402
from cleaners.model import RawPage, normalise_text  # noqa: E402
from cleaners.sitechrome import HostLines, page_keys, strip_chrome  # noqa: E402
from tests.fixtures.web import wrapped_templates  # noqa: E402
from tests.fixtures.web.wrapkit import Context, Page, Story  # noqa: E402

SHARED = ROOT / ".." / "shared"
WORD = re.compile(r"\w+", re.UNICODE)
PARTS = ("dev", "test")
CHROME = "chrome"  # the wrapped pages after a crawl of their host: site chrome learned and removed
WARM_NOT_ENGLISH = (
    "Le Département d'État a publié aujourd'hui une déclaration sur la coopération entre les deux pays "
    "et sur les mesures prises pour protéger les travailleurs migrants."
)
Row = tuple[str, str, str, str, str, str]  # measure, part, ours, ours (other mode), bare, target


def part_of(key: str) -> str:
    """The part an item of the shared corpus belongs to, fixed by the sha256 of its key."""
    return "dev" if hashlib.sha256(key.encode("utf-8")).digest()[0] % 2 == 0 else "test"


# --- our cleaner in either trafilatura mode ----------------------------------------------------

DEFAULT_MODE = CleanConfig().extraction
OTHER_MODE = "fast" if DEFAULT_MODE == "full" else "full"
_CONFIGS = {"default": CleanConfig(), "other": CleanConfig(extraction=OTHER_MODE)}
_OTHER_OPTIONS = _CONFIGS["other"]


def run_clean(raw: RawPage, mode: str) -> Document | None:
    """Our cleaner with the default extraction path ("default") or the other one ("other");
    None when it rejects the page."""
    try:
        return clean(raw, _CONFIGS[mode])
    except Rejected:
        return None


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    return Counter(tuple(words[i : i + n]) for i in range(max(0, len(words) - n + 1)))


def prf(pred: str, truth: str) -> tuple[float, float]:
    p, t = shingles(pred), shingles(truth)
    if not t:
        return (1.0, 1.0) if not p else (0.0, 1.0)
    if not p:
        return (0.0, 0.0)
    common = sum((p & t).values())
    return common / sum(p.values()), common / sum(t.values())


def block_recall(pred: str, truth: str) -> float:
    """Share of the truth's 4-word shingles found in `pred`, the truth's taken paragraph by
    paragraph: a heading a page puts between two paragraphs costs no shingle, and hard-wrapped
    lines in `pred` cost none either. A paragraph shorter than four words counts as one
    shingle, found when the paragraph is found."""
    have = shingles(pred)
    flat = normalise_text(pred)
    found = total = 0
    for para in truth.split("\n\n"):
        want = shingles(para)
        if want:
            found += sum((have & want).values())
            total += sum(want.values())
        elif WORD.search(para):
            found += normalise_text(para) in flat
            total += 1
    return found / total if total else 1.0


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def raw_page(body: bytes, url: str | None, content_type: str = "text/html") -> RawPage:
    return RawPage(url, url, 200, {"content-type": content_type}, body, "2024-01-01T00:00:00Z")


def bare(text: str, url: str | None, with_metadata: bool = True) -> str:
    return trafilatura.extract(text, url=url, with_metadata=with_metadata) or ""


def bare_text(text: str, url: str | None) -> str:
    """Bare trafilatura's main text (no metadata header), for the quality measures."""
    return bare(text, url, with_metadata=False)


def modes(both: bool) -> tuple[str, ...]:
    return ("default", "other") if both and _OTHER_OPTIONS is not None else ("default",)


# --- 1. seeds ---------------------------------------------------------------------------------


def bench_seeds(corpus: Path) -> list[Row]:
    """The two seed captures the project was built from: development material by definition."""
    seeds = corpus.parent / "seeds"
    rows: list[Row] = []
    cases: dict[str, tuple[list[str], Callable[[Document], bool]]] = {
        "000_7fb26bfa5141be14.txt": (
            [
                "Home | Columns",
                "Share/Save/Bookmark",
                "FAIR USE NOTICE",
                "Press release, Apr. 15, 2014",
                "Media 042114",
            ],
            lambda d: (
                d.publisher == "U.S. Embassy Mexico City"
                and str(d.published) == "2014-04-15"
                and d.doc_type == "press release"
            ),
        ),
        "004_841a40c110ca4a68.txt": (
            ["Official news published at", "originally published at", "Previous post", "Next post"],
            lambda d: (d.claimed_original or "").startswith(
                "https://www.state.gov/joint-statement-on-the-sixth-meeting"
            ),
        ),
    }
    for name, (cruft, attribution_ok) in cases.items():
        path = seeds / name
        if not path.exists():
            rows.append((f"seed {name[:3]}", "dev", "absent", "", "", ""))
            continue
        text = path.read_text(encoding="utf-8")
        doc = clean_text(text)
        body = [
            p.strip()
            for p in text.split("\n")
            if len(p.split()) > 25
            and not p.startswith("FAIR USE")
            and "Previous post" not in p
            and "Next post" not in p
        ]
        kept = sum(normalise_text(p) in normalise_text(doc.text) for p in body)
        leaked = sum(c in doc.text for c in cruft)
        bare_leak = sum(c in text for c in cruft)  # bare trafilatura has no text-capture path
        rows.append(
            (
                f"seed {name[:3]}: body kept / cruft leaked / attribution",
                "dev",
                f"{kept}/{len(body)} / {leaked}/{len(cruft)} / {'ok' if attribution_ok(doc) else 'WRONG'}",
                "",
                f"{len(body)}/{len(body)} / {bare_leak}/{len(cruft)} / none",
                "all kept, 0 leaked, ok",
            )
        )
    return rows


# --- 2. annotated pages -----------------------------------------------------------------------


def _annotated(
    label: str, items: list[tuple[str, bytes, str | None, list[str], list[str]]], both: bool
) -> list[Row]:
    """`with` kept and `without` removed, per part, for pages annotated with both lists."""
    c: dict[str, Counter[str]] = defaultdict(Counter)
    for key, body, url, with_, without in items:
        part = part_of(key)
        c[part]["pages"] += 1
        texts = {}
        for mode in modes(both):
            doc = run_clean(raw_page(body, url), mode)
            c[part][f"{mode}_rejected"] += doc is None
            texts[mode] = normalise_text(doc.text) if doc else ""
            texts[mode + "_title"] = normalise_text(doc.title or "") if doc else ""
        texts["bare"] = normalise_text(bare_text(body.decode("utf-8", "replace"), url))
        for s in map(normalise_text, with_):
            c[part]["with"] += 1
            c[part]["bare_with"] += s in texts["bare"]
            for mode in modes(both):
                c[part][f"{mode}_with"] += s in texts[mode]
                c[part][f"{mode}_with_title"] += s in texts[mode] or s in texts[mode + "_title"]
        for s in map(normalise_text, without):
            c[part]["without"] += 1
            c[part]["bare_without"] += s not in texts["bare"]
            for mode in modes(both):
                c[part][f"{mode}_without"] += s not in texts[mode]
    rows: list[Row] = []
    for part in PARTS:
        k = c[part]

        def ours(mode: str, k: Counter[str] = k) -> str:
            if mode not in modes(both):
                return ""
            return (
                f"{k[mode + '_with']}/{k['with']} ({k[mode + '_with_title']} with title), "
                f"{k[mode + '_without']}/{k['without']}, rejected {k[mode + '_rejected']}"
            )

        rows.append(
            (
                f"{label} ({k['pages']} pages): `with` kept, `without` removed",
                part,
                ours("default"),
                ours("other"),
                f"{k['bare_with']}/{k['with']}, {k['bare_without']}/{k['without']}",
                "with >= bare, without > bare, 0 rejected",
            )
        )
    return rows


def bench_annotations(corpus: Path, both: bool) -> list[Row]:
    base = corpus / "real-pages" / "syndicated"
    path = base / "trafilatura-annotations.json"
    if not path.exists():
        return [("syndicated annotations", "-", "absent", "", "", "")]
    items = []
    for item in json.loads(path.read_text()).values():
        url = item["evaldata_key"] if item["evaldata_key"].startswith("http") else None
        body = (base / item["file"]).read_bytes()
        items.append((item["file"], body, url, item["with"], item["without"]))
    return _annotated("syndicated annotations", items, both)


def bench_general(corpus: Path, both: bool) -> list[Row]:
    """trafilatura's own English evaluation pages: general pages must not get worse."""
    base = corpus / "benchmarks" / "trafilatura-eval"
    path = base / "evaldata-english-subset.json"
    if not path.exists():
        return [("trafilatura eval (English)", "-", "absent", "", "", "")]
    items = []
    for key, item in json.loads(path.read_text()).items():
        f = base / "html" / (item["file"] + ".gz")
        if f.exists():
            url = key if key.startswith("http") else None
            items.append((item["file"], gzip.decompress(f.read_bytes()), url, item["with"], item["without"]))
    return _annotated("trafilatura eval, English", items, both)


# --- 3. scrapinghub benchmark + throughput ----------------------------------------------------


def bench_scrapinghub(corpus: Path, sample: int | None, both: bool) -> tuple[list[Row], dict[str, float]]:
    base = corpus / "benchmarks" / "scrapinghub-article-extraction-benchmark"
    truth = json.loads((base / "ground-truth.json").read_text())
    keys = sorted(truth)
    if sample and sample < len(keys):
        keys = random.Random(7).sample(keys, sample)
    pages = []
    for key in keys:
        body = gzip.decompress((base / "html" / f"{key}.html.gz").read_bytes())
        text = body.decode("utf-8", "replace")
        pages.append((key, body, text, truth[key]["url"], truth[key]["articleBody"]))
    # warm every path (imports, language model, caches) before timing; the language model is
    # loaded on the first text that is not plainly English, which the first page may not be
    for mode in modes(both):
        run_clean(raw_page(pages[0][1], pages[0][3]), mode)
    detect_language(WARM_NOT_ENGLISH)
    bare(pages[0][2], pages[0][3])
    cpu: dict[str, dict[str, float]] = defaultdict(Counter)  # type: ignore[arg-type]
    scores: dict[str, dict[str, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    rejected: dict[str, Counter[str]] = defaultdict(Counter)
    for i, (key, body, text, url, gt) in enumerate(pages):
        part = part_of(key)
        # CPU time of this process: the machine is shared, wall time would measure the neighbours.
        # The order rotates so no side always runs on a warm cache.
        names = ["bare", *modes(both)]
        shift = i % len(names)
        out = {}
        for name in names[shift:] + names[:shift]:
            t0 = time.process_time()
            if name == "bare":
                out[name] = bare(text, url)
            else:
                doc = run_clean(raw_page(body, url), name)
                out[name] = doc.text if doc else ""
            cpu[part][name] += time.process_time() - t0
        cpu[part]["pages"] += 1
        for mode in modes(both):
            scores[part][mode].append(prf(out[mode], gt))
            rejected[part][mode] += not out[mode]
        scores[part]["bare"].append(prf(bare_text(text, url), gt))
    rows: list[Row] = []
    summary: dict[str, float] = {}
    for part in PARTS:
        n = int(cpu[part]["pages"])
        if not n:
            continue

        def prf_cell(name: str, part: str = part, n: int = n) -> str:
            if name not in scores[part]:
                return ""
            p = sum(x for x, _ in scores[part][name]) / n
            r = sum(y for _, y in scores[part][name]) / n
            tail = f", rejected {rejected[part][name]}" if name != "bare" else ""
            return f"{p:.3f} / {r:.3f} / {f1(p, r):.3f}{tail}"

        def rate(name: str, part: str = part, n: int = n) -> str:
            if name not in cpu[part]:
                return ""
            r = n / cpu[part][name]
            ratio = r / (n / cpu[part]["bare"])
            return f"{r:.1f}" + ("" if name == "bare" else f" (ratio {ratio:.2f})")

        rows.append(
            (
                f"scrapinghub ({n} pages): precision / recall / F1",
                part,
                prf_cell("default"),
                prf_cell("other"),
                prf_cell("bare"),
                "F1 >= bare, 0 rejected",
            )
        )
        rows.append(
            (
                "throughput, docs per CPU second (bare: extract with_metadata=True)",
                part,
                rate("default"),
                rate("other"),
                rate("bare"),
                "ratio >= 0.8",
            )
        )
        p = sum(x for x, _ in scores[part]["default"]) / n
        r = sum(y for _, y in scores[part]["default"]) / n
        bp = sum(x for x, _ in scores[part]["bare"]) / n
        br = sum(y for _, y in scores[part]["bare"]) / n
        summary[f"{part}_f1"], summary[f"{part}_bare_f1"] = f1(p, r), f1(bp, br)
        summary[f"{part}_ratio"] = (n / cpu[part]["default"]) / (n / cpu[part]["bare"])
    return rows, summary


# --- 4. state.gov statements in page templates ------------------------------------------------

# The four templates the rules were developed against (their cruft is the rules' own wording):
# development material whatever they wrap.

LEGACY_KINDS = ("digest", "wire", "text", "blog")

NAV = "Home | Statements | Regions | Archive | Contact"
FAIR = (
    "FAIR USE NOTICE: Capitol Watch Digest reposts public statements so readers can study them in one place; "
    "we claim no rights in them and rely on the fair use provisions of the copyright law."
)
WIRE_DISCLAIMER = (
    "Globe Newsline published this content on {date}, and is solely responsible for the information "
    "contained therein. Distributed by Globe Newsline, unedited and unaltered, on {date}."
)
CRUFT = {
    "digest": [
        "Home | Statements",
        "Official news published at",
        "originally published at",
        "Share/Save/Bookmark",
        "FAIR USE NOTICE",
        "Previous post",
        "Next post",
        "Leave a Reply",
        "Tags:",
        "Related posts",
        "Sign up for the Digest",
    ],
    "wire": [
        "Globe Newsline |",
        "(Globe Newsline) --",
        "solely responsible",
        "unedited and unaltered",
        "Share this story",
        "More from Globe Newsline",
    ],
    "text": [
        "Home | Statements",
        "Statements 0521",
        "Share/Save/Bookmark",
        "FAIR USE NOTICE",
        "Press statement,",
    ],
    "blog": [
        "Home \u203a World",
        "An official website of the United States government",
        "Read more at",
        "should not be construed as an endorsement",
        "All rights reserved",
        "Leave a Reply",
        "Subscribe to our newsletter",
        "(Credit:",
    ],
}


def legacy_wrap(
    kind: str, item: dict[str, Any], prev: dict[str, Any], nxt: dict[str, Any]
) -> tuple[bytes, str, str | None]:
    title, link, fragment = item["title"], item["link"], item["content_encoded"] or item["description"]
    when = item["pubDate"][5:16]  # "22 May 2021"
    e = html.escape
    if kind == "digest":
        body = (
            f"<p><strong>{e(title)}</strong></p>{fragment}"
            f"<p>Official news published at {e(link)}</p>"
            "<p>Statements – Capitol Watch Digest originally published at Statements – Capitol Watch "
            "Digest</p>"
            "<p>Share/Save/Bookmark Tell a Friend</p>"
            f"<p>{e(FAIR)}</p>"
            f"<p>{e(prev['title'])} – United States Department of State Previous post "
            f"{e(prev['title'])} – United States Department of State</p>"
            f"<p>{e(nxt['title'])} Next post {e(prev['title'])}</p>"
        )
        page = (
            f"<html><head><title>{e(title)} – Capitol Watch Digest</title>"
            f"<link rel='canonical' href='https://capitolwatch.example/{item['guid'][-6:]}/'></head><body>"
            f"<div class='topbar'>{e(NAV)}</div><article><h1 class='entry-title'>{e(title)}</h1>"
            f"<div class='entry-meta'>Posted on {when} by desk</div><div class='entry-content'>{body}</div>"
            "<div class='post-tags'>Tags: <a rel='tag' href='/t/a'>diplomacy</a></div></article>"
            "<section class='related-posts'><h3>Related posts</h3>"
            f"<ul><li>{e(prev['title'])}</li></ul></section>"
            "<div id='respond'><h3>Leave a Reply</h3><form><textarea></textarea></form></div>"
            "<aside class='signup'><p>Sign up for the Digest and get every statement in your "
            "inbox.</p></aside>"
            "</body></html>"
        )
        return page.encode(), "text/html", "https://capitolwatch.example/" + item["guid"][-6:] + "/"
    if kind == "wire":
        paras = _paragraphs(fragment)
        byline = paras[0] if paras and paras[0] == item.get("creator") else None
        rest = paras[1:] if byline else paras
        first = f"WASHINGTON, {when[3:6]}. {int(when[:2])} (Globe Newsline) -- {rest[0]}" if rest else ""
        body = f"<p class='hdr'>Globe Newsline | Press Statement | {when}</p>"
        if byline:
            body += f"<p>Press Statement – {e(byline)}</p>"
        body += f"<p>{e(first)}</p>" + "".join(f"<p>{e(p)}</p>" for p in rest[1:])
        body += f"<p><em>{e(WIRE_DISCLAIMER.format(date=when))}</em></p>"
        page = (
            f"<html><head><title>{e(title)} | Globe Newsline</title></head>"
            "<body><header><a href='/'>Globe Newsline</a>"
            "<nav><a>Top</a> <a>World</a> <a>Markets</a></nav></header><main>"
            f"<h1>{e(title)}</h1><div class='story-body'>{body}</div>"
            "<div class='share-tools'>Share this story: <a>Facebook</a> <a>X</a></div>"
            "<section class='more-stories'><h2>More from Globe Newsline</h2>"
            f"<ul><li><a href='/x'>{e(nxt['title'])}</a></li></ul></section>"
            "</main></body></html>"
        )
        return page.encode(), "text/html", f"https://globenewsline.example/story/{item['guid'][-6:]}"
    if kind == "text":
        paras = _paragraphs(fragment)
        lines = [
            NAV,
            "",
            "Statements 0521 Notes",
            "",
            item["pubDate"][:16],
            "",
            "",
            title,
            "",
            "",
            "U.S. Department of State",
            "",
            "",
        ]
        lines += [p + "\n" for p in paras]
        lines += [
            "",
            f"Press statement, {when[3:6]}. {int(when[:2])}, {when[7:]}, Office of the Spokesperson",
            "",
            "Share/Save/Bookmark Tell a Friend New Page 1",
            "",
            FAIR,
        ]
        return "\n".join(lines).encode(), "text/plain", None
    # blog repost
    body = (
        "<p>Home \u203a World \u203a Statements</p>"
        "<p>An official website of the United States government Here's how you know</p>"
        f"{fragment}<p>(Credit: Staff photo / State Watch)</p>"
        f"<p>Read more at <a href='{e(link)}'>{e(link)}</a></p>"
        "<p>Links to other Internet sites should not be construed as an endorsement of the views or "
        "privacy policies contained therein.</p>"
        "<p>\u00a9 2022 State Watch Blog. All rights reserved.</p>"
        "<h3>Leave a Reply</h3><p>Thank you for posting this, very useful for my class.</p>"
        "<p>Subscribe to our newsletter</p>"
    )
    page = (
        f"<html><head><title>{e(title)}</title></head><body><div class='post'><h2>{e(title)}</h2>"
        f"<div class='post-body'>{body}</div></div></body></html>"
    )
    return page.encode(), "text/html", f"https://statewatch.example/{item['guid'][-6:]}.html"


def legacy_page(kind: str, items: list[dict[str, Any]], i: int) -> Page:
    item = items[i]
    body, ctype, url = legacy_wrap(kind, item, items[i - 1], items[(i + 1) % len(items)])
    return Page(
        template=f"legacy-{kind}",
        url=url or "",
        body=body,
        content_type=ctype,
        title=html.unescape(item["title"]),
        expected_text="\n\n".join(_statement_paragraphs(item)),
        cruft=tuple(CRUFT[kind]),
        names_original=item["link"] if kind == "digest" else None,
    )


def _paragraphs(fragment: str) -> list[str]:
    root = fragment_fromstring(f"<div>{fragment}</div>")
    out = []
    for el in root.iter("p", "li", "h2", "h3", "h4", "blockquote"):
        if el.tag != "p" and el.find(".//p") is not None:
            continue
        if el.tag == "p" and any(a.tag in ("li", "blockquote") for a in el.iterancestors()):
            continue
        t = re.sub(r"\s+", " ", el.text_content()).strip()
        if t:
            out.append(t)
    return out


def _statement_paragraphs(item: dict[str, Any]) -> list[str]:
    paras = _paragraphs(item["content_encoded"] or item["description"])
    if paras and paras[0] == item.get("creator"):
        paras = paras[1:]  # the byline becomes `speaker`, not body text
    return paras


def _items(corpus: Path, sample: int) -> dict[str, list[dict[str, Any]]]:
    """The latest version of `sample` feed items of each part, a seeded random choice."""
    path = corpus / "real-pages" / "state-gov" / "rss-item-history"
    files = sorted(path.glob("*.jsonl.gz"))
    latest: dict[str, dict[str, Any]] = {}
    with gzip.open(files[0], "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            latest[rec["guid"]] = rec
    out = {}
    for part in PARTS:
        items = sorted(
            (r for g, r in latest.items() if part_of(g) == part and _statement_paragraphs(r)),
            key=lambda r: r["guid"],
        )
        out[part] = random.Random(11).sample(items, min(sample, len(items)))
    return out


def story_of(item: dict[str, Any]) -> Story:
    return Story(
        title=html.unescape(item["title"]),
        paragraphs=tuple(_statement_paragraphs(item)),
        published=email.utils.parsedate_to_datetime(item["pubDate"]).replace(tzinfo=None),
        link=item["link"],
        byline=item.get("creator") or "Office of the Spokesperson",
    )


def judge(page: Page, doc: Document | None) -> tuple[Counter[str], float, list[str]]:
    """Failure classes of one cleaned page, the statement's shingle recall, the cruft left."""
    fails: Counter[str] = Counter()
    if page.outcome == "rejected":
        if doc is not None:
            fails["junk stored"] += 1
        return fails, 1.0, [c for c in page.cruft if doc and normalise_text(c) in normalise_text(doc.text)]
    if doc is None:
        fails["rejected"] += 1
        return fails, 0.0, []
    text = normalise_text(doc.text)
    leaks = [c for c in page.cruft if normalise_text(c) in text]
    recall = block_recall(doc.text, page.expected_text)
    if leaks:
        fails["cruft left"] += 1
    if recall < 0.5:
        fails["truncated"] += 1
    elif recall < 0.99:
        fails["prose cut"] += 1
    if page.title and normalise_text(doc.title or "") != normalise_text(page.title):
        fails["wrong title"] += 1
    if page.names_original and doc.claimed_original != page.names_original:
        fails["claim missed"] += 1
    return fails, recall, leaks


def _bare_leaks(page: Page) -> tuple[int, float]:
    if page.content_type.startswith("text/plain"):
        text = page.body.decode("utf-8", "replace")  # bare trafilatura reads no text files
    else:
        text = bare_text(page.body.decode("utf-8", "replace"), page.url)
    n = normalise_text(text)
    recall = block_recall(text, page.expected_text) if page.outcome == "article" else 1.0
    return sum(normalise_text(c) in n for c in page.cruft), recall


def _template_page(tpl: Any, stories: list[Story], i: int) -> Page:
    ctx = Context(i + 1, stories[i - 1].title, stories[(i + 1) % len(stories)].title)
    page: Page = tpl.render(stories[i], ctx)
    return page


def bench_wrapped(
    corpus: Path, sample: int, both: bool, only: Sequence[str] = (), parts: Sequence[str] = PARTS
) -> tuple[list[Row], dict[str, Any]]:
    """Every template around every sampled statement of its part; the four legacy templates
    (rule material) around the dev statements. `only`: shell patterns of the template names to
    measure (all when empty); `parts`: the parts to measure."""
    items = _items(corpus, sample)
    plan: list[tuple[str, str, str, Callable[[int], Page]]] = []  # name, family, part, page maker
    dev = items["dev"]
    for kind in LEGACY_KINDS:
        plan.append((f"legacy-{kind}", "rule material", "dev", functools.partial(legacy_page, kind, dev)))
    for tpl in wrapped_templates.TEMPLATES:
        stories = [story_of(r) for r in items[tpl.split]]
        plan.append((tpl.name, tpl.family, tpl.split, functools.partial(_template_page, tpl, stories)))
    plan = [
        p for p in plan if p[2] in parts and (not only or any(fnmatch.fnmatchcase(p[0], o) for o in only))
    ]
    rows: list[Row] = []
    totals: dict[str, Any] = {p: Counter() for p in PARTS}
    worst: dict[str, float] = dict.fromkeys(PARTS, 1.0)
    chrome_totals: dict[str, Any] = {p: Counter() for p in PARTS}
    chrome_worst: dict[str, float] = dict.fromkeys(PARTS, 1.0)
    pages_docs: tuple[list[Page], list[Document | None]] = ([], [])
    for name, family, part, make in plan:
        n = len(items[part])
        cells = {}
        for mode in [*modes(both), CHROME]:
            if mode == CHROME:
                # the state after a crawl of the host: chrome learned on all its pages, applied to each
                pages, docs = pages_docs
                lines = HostLines()
                for doc in docs:
                    if doc is not None:
                        lines.add(page_keys(doc))
                chrome = lines.chrome()
                docs = [strip_chrome(doc, chrome) if doc is not None else None for doc in docs]
            else:
                pages = [make(i) for i in range(n)]
                docs = [run_clean(raw_page(p.body, p.url, p.content_type), mode) for p in pages]
                if mode == "default":
                    pages_docs = (pages, docs)
            fails: Counter[str] = Counter()
            leaks: Counter[str] = Counter()
            recall_sum = 0.0
            articles = leaked_pages = 0
            for page, doc in zip(pages, docs, strict=True):
                f, recall, left = judge(page, doc)
                fails += f
                leaks.update(left)
                leaked_pages += bool(left)
                if page.outcome == "article":
                    articles += 1
                    recall_sum += recall
            recall = recall_sum / articles if articles else 1.0
            failing = ", ".join(f"{k} {v}" for k, v in fails.most_common()) or "none"
            if name.startswith("junk-"):
                cells[mode] = f"stored {fails['junk stored']}/{n}, leaked {leaked_pages}"
            else:
                cells[mode] = (
                    f"leaked {sum(leaks.values())} ({leaked_pages} pages) / recall {recall:.4f} / {failing}"
                )
            if mode in ("default", CHROME):
                t = totals[part] if mode == "default" else chrome_totals[part]
                t["leaks"] += sum(leaks.values())
                t["pages"] += n
                t["rejected"] += fails["rejected"]
                t["junk_stored"] += fails["junk stored"]
                worst_of = worst if mode == "default" else chrome_worst
                if articles:
                    worst_of[part] = min(worst_of[part], recall)
                if leaks:
                    label = "" if mode == "default" else " (with site chrome)"
                    print(
                        f"  [{part}] {name}{label} cruft left: {dict(leaks.most_common(6))}", file=sys.stderr
                    )
        bare_leak = bare_recall = 0.0
        for i in range(n):
            leak, rec = _bare_leaks(make(i))
            bare_leak += leak
            bare_recall += rec
        rows.append(
            (
                f"{name} ({family}, {n})",
                part,
                cells["default"],
                cells.get("other", ""),
                f"leaked {int(bare_leak)} / recall {bare_recall / n:.4f}",
                "0 leaked, recall >= 0.99, no failure",
            )
        )
        rows.append(
            (
                f"{name}, with site chrome (learned on its {n} pages)",
                part,
                cells[CHROME],
                "",
                "",
                "0 leaked, recall >= 0.99, no failure",
            )
        )
    for part in PARTS:
        for label, t, w in (
            ("", totals[part], worst[part]),
            (", with site chrome", chrome_totals[part], chrome_worst[part]),
        ):
            rows.append(
                (
                    f"all wrapped pages{label}: leaked / worst template recall / rejected / junk stored",
                    part,
                    f"{t['leaks']} / {w:.4f} / {t['rejected']} / {t['junk_stored']} (of {t['pages']})",
                    "",
                    "",
                    "0 / >= 0.99 / 0 / 0",
                )
            )
    return rows, {
        "totals": totals,
        "worst": worst,
        "chrome_totals": chrome_totals,
        "chrome_worst": chrome_worst,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--corpus", default=str(SHARED / "corpus"), help="the shared corpus folder")
    ap.add_argument(
        "--sample",
        type=int,
        default=100,
        help="feed statements per part to wrap in each template (default 100)",
    )
    ap.add_argument("--pages", type=int, default=0, help="scrapinghub pages to use (default all)")
    ap.add_argument(
        "--extraction",
        choices=("both", "default"),
        default="both",
        help="also run our cleaner with the other extraction path first (fast/full), or only the default",
    )
    ap.add_argument(
        "--templates",
        default="",
        help="only the wrapped templates whose names match these comma-separated shell patterns "
        "(e.g. 'junk-*,blogger'), and none of the corpus measures; exits 0",
    )
    ap.add_argument("--part", choices=("dev", "test", "both"), default="both", help="the part(s) to measure")
    args = ap.parse_args(argv)
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        print(
            f"corpus not found at {corpus}: nothing to measure (the benchmark needs ../shared/corpus)",
            file=sys.stderr,
        )
        return 0
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("htmldate").setLevel(logging.ERROR)
    both = args.extraction == "both"
    t0 = time.perf_counter()
    only = [o.strip() for o in args.templates.split(",") if o.strip()]
    parts = PARTS if args.part == "both" else (args.part,)
    rows: list[Row] = []
    sh: dict[str, float] = {}
    if not only:
        rows += bench_seeds(corpus)
        rows += bench_annotations(corpus, both)
        rows += bench_general(corpus, both)
        sh_rows, sh = bench_scrapinghub(corpus, args.pages or None, both)
        rows += sh_rows
    wr_rows, wr = bench_wrapped(corpus, args.sample, both, only, parts)
    rows += wr_rows
    header: Row = (
        "measure",
        "part",
        f"ours ({DEFAULT_MODE}, as configured)",
        f"ours ({OTHER_MODE})" if both and _OTHER_OPTIONS is not None else "",
        "bare trafilatura",
        "target",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    print(f"\n({time.perf_counter() - t0:.0f} s; trafilatura {trafilatura.__version__})", file=sys.stderr)
    if only or args.part != "both":
        return 0  # a partial run judges no target
    # leakage is judged after a crawl of each host (site chrome learned); recall in both states
    test = wr["chrome_totals"]["test"]
    ok = (
        sh.get("test_f1", 0) >= sh.get("test_bare_f1", 1)
        and sh.get("test_ratio", 0) >= 0.8
        and test["leaks"] == 0
        and test["rejected"] == 0
        and test["junk_stored"] == 0
        and min(wr["worst"]["test"], wr["chrome_worst"]["test"]) >= 0.99
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
