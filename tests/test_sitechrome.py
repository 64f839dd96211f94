"""Site chrome: lines a site repeats on many of its pages, learned per site and removed.

The pure part (`cleaners.sitechrome`) on Documents; the store's counts in a real SQLite file;
and a crawl through the fixture web's proxy of a relay site written for this test (its own
chrome wording: a masthead, a desk note, a hit counter, a print link, a "Came from:" label)
next to the official alerts it relays, then `scrapy reprocess` and `scrapy ingest` of the same
pages, which must store the same texts.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cleaners import clean
from cleaners.model import Document, RawPage, content_hash
from cleaners.sitechrome import (
    RULE,
    HostLines,
    chrome_removed,
    fingerprint,
    head_key,
    is_chrome,
    line_key,
    page_keys,
    strip_chrome,
)
from crawlers.junction import process, reclean_site_chrome
from store import Store
from tests.fixtures.web.fixtureweb import FixtureWeb

ROOT = Path(__file__).resolve().parents[1]

# --- the pure part -----------------------------------------------------------------------------


def _doc(lines: list[str]) -> Document:
    text = "\n\n".join(lines)
    return Document(
        url="https://relay.example/n/1",
        title="A title",
        text=text,
        published=None,
        publisher=None,
        language="en",
        claimed_original=None,
        content_hash=content_hash(text),
    )


PROSE = (
    "The United States welcomes the agreement on coastal fisheries reached this week, which commits "
    "both governments to shared monitoring of the protected areas and to a joint report next spring."
)


def test_fingerprint_folds_counters_dates_case_and_space():
    assert fingerprint("Visitors: 10234") == fingerprint("visitors:   10391")
    assert fingerprint("Filed Mon Jul 25, 2022 at 9:12") == fingerprint("Filed Tue Aug 2, 2023 at 10:40")
    assert fingerprint("Filed 2022-07-25") == fingerprint("Filed 2023-01-02")
    assert line_key("Printable copy") == line_key("PRINTABLE  copy")
    assert line_key("Printable copy") != line_key("Printable version")


def test_chrome_needs_a_share_and_a_few_pages():
    assert not is_chrome(2, 2)  # two pages that share a line say nothing yet
    assert is_chrome(3, 4)
    assert not is_chrome(3, 100)  # a line on 3 % of a site's pages is no chrome
    lines = HostLines()
    for i in range(4):
        lines.add(page_keys(_doc([f"Hits on this notice: {100 + i}", f"{PROSE} Number {'abcd'[i]}."])))
    # the line, and its label apart
    assert lines.chrome() == {line_key("Hits on this notice: 1"), head_key("Hits on this notice: 1")}


def test_strip_chrome_rebuilds_the_document_and_records_each_line():
    doc = _doc(["TIDEWATER RELAY", PROSE, "Hits on this notice: 4821"])
    chrome = {line_key("TIDEWATER RELAY"), line_key("Hits on this notice: 1")}
    out = strip_chrome(doc, chrome)
    assert out.text == PROSE
    assert out.content_hash == content_hash(PROSE)
    assert [r.text for r in out.removed if r.rule == RULE] == ["TIDEWATER RELAY", "Hits on this notice: 4821"]
    assert chrome_removed(out) == 2 and out.language == "en"


def test_a_chrome_label_glued_to_the_statement_loses_only_the_label():
    doc = _doc([f"The relay desk wrote:{PROSE}", "Came from: https://www.state.gov/x/"])
    keys = page_keys(doc)
    labels = {k for k, text in keys.items() if text in ("The relay desk wrote:", "Came from:")}
    assert len(labels) == 2
    out = strip_chrome(doc, labels)
    assert out.text == PROSE
    assert [r.text for r in out.removed] == ["The relay desk wrote:", "Came from: https://www.state.gov/x/"]


def test_a_label_used_twice_on_a_page_is_dialogue_not_chrome():
    doc = _doc([f"QUESTION: {PROSE}", "MR SPEAKER: Thank you.", "QUESTION: And the second one?"])
    labels = {k for k, text in page_keys(doc).items() if text.endswith(":")}
    assert all(text != "QUESTION:" for k, text in page_keys(doc).items() if k in labels)


def test_protected_lines_stay_and_no_text_is_emptied():
    doc = _doc(["Actions to take:", PROSE, "Printable copy"])
    chrome = {line_key("Actions to take:"), line_key("Printable copy")}
    out = strip_chrome(doc, chrome, protected=lambda line: line == "Actions to take:")
    assert out.text == f"Actions to take:\n\n{PROSE}"
    only_chrome = _doc(["Printable copy", "Actions to take:"])
    assert strip_chrome(only_chrome, chrome) is only_chrome


# --- the store's counts ------------------------------------------------------------------------


def test_a_page_counted_again_is_counted_once_and_a_changed_page_replaces_its_count(tmp_path):
    db = Store(tmp_path / "c.db")
    keys = {line_key("Printable copy"): "Printable copy", line_key(PROSE): PROSE}
    for _ in range(3):
        db.learn_chrome([("https://www.relay.example/n/1", keys)])
    db.learn_chrome([("https://relay.example/n/1", {line_key("Printable copy"): "Printable copy"})])
    rows = db.db.execute("SELECT key, pages FROM chrome_lines").fetchall()
    assert rows == [(line_key("Printable copy"), 1)]
    assert db.db.execute("SELECT site, pages FROM chrome_sites").fetchall() == [("relay.example", 1)]
    db.close()


# --- a crawl of a relay site next to the official alerts it relays -----------------------------

OFFICIAL = "lagoon.usembassy.gov"
RELAY = "tidewater-relay.example"
CHROME = ("TIDEWATER RELAY", "errors are ours", "Hits on this notice", "Printable copy", "Came from:")
FORMULAIC = "Actions to take:"
PLACES = ("Port Amberley", "Saltmarsh Bay", "Kestrel Point")
OWN = (
    ("Ferry schedules resume", "ferry", "harbour pilots"),
    ("Reef survey published", "reef survey", "marine biologists"),
    ("Lighthouse repairs complete", "lighthouse", "keepers"),
)


def _alert(i: int) -> tuple[str, list[str]]:
    place = PLACES[i]
    title = f"Weather Alert: Storm Surge Expected in {place}"
    return title, [
        f"Location: {place} and the coastal districts south of the river mouth.",
        f"Event: The national weather service forecasts a storm surge in {place} on the night of "
        f"March {i + 4}, with flooding of low streets near the old harbour.",
        FORMULAIC,
        f"Stay away from the seafront of {place} until the authorities lift the warning.",
        f"Keep a charged phone and follow the announcements of the {place} civil protection office.",
    ]


def _own(i: int) -> tuple[str, list[str]]:
    title, thing, people = OWN[i]
    return title, [
        f"The {thing} notice of this week was sent to the relay by the {people} of the district, who "
        f"asked that it be shared with every town on the coast before the weekend.",
        f"According to the {people}, the work on the {thing} took longer than planned because of the "
        f"winter storms, and the district thanks residents for their patience.",
    ]


def _page(url: str, title: str, paragraphs: list[str], day: int, chrome: str = "") -> bytes:
    e = html.escape
    body = "".join(f"<p>{e(p)}</p>" for p in paragraphs)
    published = dt.datetime(2024, 3, day, 10, 0).isoformat() + "Z"
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title>"
        f"<link rel='canonical' href='{e(url)}'>"
        f"<meta property='article:published_time' content='{published}'></head><body>"
        f"<article><h1 class='entry-title'>{e(title)}</h1><div class='entry-content'>"
        f"{chrome.replace('{BODY}', body) if chrome else body}</div></article></body></html>"
    ).encode()


def _relay_chrome(n: int, source: str) -> str:
    return (
        "<p>TIDEWATER RELAY: notices for the coastal towns</p>"
        "{BODY}"
        f"<p>Hits on this notice: {4800 + 37 * n}</p>"
        "<p>Relayed by the Tidewater desk; errors are ours, the words are theirs.</p>"
        f"<p>Came from: {html.escape(source)}</p>"
        "<p><a href='?print=1'>Printable copy</a></p>"
    )


def _site() -> dict[str, dict[str, bytes]]:
    """host -> path -> body: three official alerts, and the relay's six pages (the three alerts
    and three notices of its own), all in the relay's chrome."""
    pages: dict[str, dict[str, bytes]] = {OFFICIAL: {}, RELAY: {}}
    for i in range(3):
        title, paras = _alert(i)
        url = f"http://{OFFICIAL}/alerts/storm-surge-{i}/"
        pages[OFFICIAL][f"/alerts/storm-surge-{i}/"] = _page(url, title, paras, i + 4)
        relay = f"http://{RELAY}/notice/{2 * i + 1}"
        pages[RELAY][f"/notice/{2 * i + 1}"] = _page(
            relay, title, paras, i + 4, _relay_chrome(2 * i + 1, url)
        )
        title, paras = _own(i)
        relay = f"http://{RELAY}/notice/{2 * i + 2}"
        src = f"http://district.example/bulletin/{i}"
        pages[RELAY][f"/notice/{2 * i + 2}"] = _page(
            relay, title, paras, i + 10, _relay_chrome(2 * i + 2, src)
        )
    return pages


def _sitemap(host: str, paths: list[str]) -> str:
    urls = "".join(f"<url><loc>http://{host}{p}</loc><lastmod>2024-03-20</lastmod></url>" for p in paths)
    return f"<?xml version='1.0' encoding='UTF-8'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{urls}</urlset>"


@pytest.fixture(scope="module")
def web():
    with FixtureWeb(scale=1, phase=1, crawl_delay=0) as w:
        for host, pages in _site().items():
            w.add_fault(
                host, "/robots.txt", 200, {"Content-Type": "text/plain"}, "User-agent: *\nAllow: /\n", None
            )
            w.add_fault(
                host,
                "/sitemap.xml",
                200,
                {"Content-Type": "application/xml"},
                _sitemap(host, list(pages)),
                None,
            )
            for path, body in pages.items():
                w.add_fault(host, path, 200, {"Content-Type": "text/html; charset=utf-8"}, body, None)
        yield w


def _scrapy(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _copies(db: Path) -> dict[str, dict]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        rows = con.execute(
            "SELECT c.url, c.site, c.removed, c.text_sha256, a.text AS article_text, v.text AS text "
            "FROM copies c JOIN articles a ON a.id = c.article_id "
            "LEFT JOIN texts v ON v.sha256 = c.text_sha256"
        ).fetchall()
        return {r["url"].replace("https://", "http://"): dict(r) for r in rows}
    finally:
        con.close()


CRAWL = [
    "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DISPATCHES_MAX_CRAWL_DELAY=0",
    "-s", "RETRY_TIMES=1", "-s", "DISPATCHES_CLEAN_WORKERS=1", "-s", "LOG_LEVEL=INFO",
]  # fmt: skip


def test_relay_chrome_is_gone_from_every_stored_copy_and_reprocess_and_ingest_agree(web, tmp_path):
    site = _site()
    first = next(iter(site[RELAY]))
    per_page = clean(
        RawPage(
            f"http://{RELAY}{first}", f"http://{RELAY}{first}", 200, {"content-type": "text/html"},
            site[RELAY][first], "2024-03-20T00:00:00Z",
        )
    )  # fmt: skip
    # without the site's other pages, the cleaners keep the relay's chrome: the test has teeth
    assert sum(c in per_page.text for c in CHROME) >= 3

    db = tmp_path / "crawl.db"
    env = web.env()
    env["DISPATCHES_DB"] = str(db)
    sitemaps = f"sitemaps=http://{OFFICIAL}/sitemap.xml,http://{RELAY}/sitemap.xml"
    _scrapy("crawl", "syndication", "-a", sitemaps, *CRAWL, env=env)
    copies = _copies(db)
    relay = {u: c for u, c in copies.items() if RELAY in u}
    official = {u: c for u, c in copies.items() if OFFICIAL in u}
    assert len(relay) == 6 and len(official) == 3
    texts = {}
    for url, c in relay.items():
        text = c["text"] or ""
        texts[url] = text
        assert not [s for s in CHROME if s in text], (url, text)  # the first pages too
        assert RULE in {r["rule"] for r in json.loads(c["removed"])}
        path = url.split(RELAY, 1)[1]
        number = int(path.rsplit("/", 1)[1])
        paras = _alert((number - 1) // 2)[1] if number % 2 else _own((number - 2) // 2)[1]
        for p in paras:
            assert p in text, (url, p)  # the formulaic line stays: an official alert holds it
    assert sum(FORMULAIC in t for t in texts.values()) == 3
    for c in official.values():  # official hosts are neither counted nor changed
        assert RULE not in (c["removed"] or "")
        assert FORMULAIC in (c["text"] or "")
    con = sqlite3.connect(db)
    try:
        assert [r[0] for r in con.execute("SELECT site FROM chrome_sites")] == [RELAY]
        stats = json.loads(con.execute("SELECT stats FROM crawls ORDER BY id DESC LIMIT 1").fetchone()[0])
    finally:
        con.close()
    assert (
        stats["site_chrome"]["pages"] >= 1 and stats["site_chrome"]["lines"] >= stats["site_chrome"]["pages"]
    )
    assert stats["site_chrome"]["sites"] == 1 and stats["site_chrome"]["recleaned"] == 6
    # the pass cleans in the run's workers, as the crawl did: never the extractor in the crawl process
    assert stats["cleaner"]["pages"] == stats["pages_fetched"] + 6

    # reprocess: the same texts
    _scrapy("reprocess", "--workers", "0", "--no-progress", "--db", str(db), env=env)
    assert {u: c["text"] for u, c in _copies(db).items() if RELAY in u} == texts

    # ingest of the same pages, saved to disk (their URLs in rel=canonical), relay first
    folder = tmp_path / "saved"
    for host in (RELAY, OFFICIAL):
        for path, body in site[host].items():
            f = folder / host / (path.strip("/").replace("/", "_") + ".html")
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(body)
    ingested = tmp_path / "ingest.db"
    _scrapy(
        "ingest",
        "--workers",
        "0",
        "--no-progress",
        "--db",
        str(ingested),
        str(folder / RELAY),
        str(folder / OFFICIAL),
        env=env,
    )
    assert {u: c["text"] for u, c in _copies(ingested).items() if RELAY in u} == texts


def test_end_of_run_pass_is_idempotent_and_a_stopped_pass_is_finished_by_the_next(tmp_path):
    site = _site()
    db = Store(tmp_path / "j.db")
    for path, body in site[RELAY].items():
        url = f"http://{RELAY}{path}"
        raw = RawPage(url, url, 200, {"content-type": "text/html"}, body, "2024-03-20T00:00:00Z")
        process(raw, db, clean, crawl_id=None)
    first_url = f"http://{RELAY}/notice/1"
    before = db.db.execute("SELECT removed FROM copies WHERE url = ?", (first_url,)).fetchone()[0]
    assert RULE not in before  # saved before its site's chrome was known
    assert db.chrome_stale_sites() == [RELAY]
    done = reclean_site_chrome(db, clean, crawl_id=None)
    assert done["sites"] == 1 and done["recleaned"] == 6 and not done["failed"]
    after = {r[0]: r[1] for r in db.db.execute("SELECT url, text_sha256 FROM copies")}
    assert RULE in db.db.execute("SELECT removed FROM copies WHERE url = ?", (first_url,)).fetchone()[0]
    assert db.chrome_stale_sites() == []
    assert reclean_site_chrome(db, clean, crawl_id=None) == {}
    # a pass stopped before it marked the site done is simply done again, to the same end
    db.db.execute("UPDATE chrome_sites SET applied = NULL")
    db.db.conn.commit()
    reclean_site_chrome(db, clean, crawl_id=None)
    assert {r[0]: r[1] for r in db.db.execute("SELECT url, text_sha256 FROM copies")} == after
    db.close()


def test_the_end_of_run_pass_cleans_again_only_the_pages_a_chrome_change_can_touch(tmp_path):
    """A site whose chrome is applied gains a page; a line that stood on two of its pages now
    stands on three and becomes chrome at the edges: only the pages holding that line are
    cleaned again, the others are left as they are (counted `untouched`)."""
    site = _site()
    db = Store(tmp_path / "t.db")
    pages = list(site[RELAY].items())
    shared = "<p>Relay radio hour, Thursdays at nine</p>"

    def save(path: str, body: bytes) -> None:
        url = f"http://{RELAY}{path}"
        raw = RawPage(url, url, 200, {"content-type": "text/html"}, body, "2024-03-20T00:00:00Z")
        process(raw, db, clean, crawl_id=None)

    for n, (path, body) in enumerate(pages):
        if n in (1, 3):  # the radio line at the end of two of the six pages
            body = body.replace(b"</div></article>", shared.encode() + b"</div></article>")
        save(path, body)
    reclean_site_chrome(db, clean, crawl_id=None)
    assert db.chrome_stale_sites() == []
    path, body = pages[0]
    body = body.replace(b"/notice/1'", b"/notice/7'").replace(b"Port Amberley", b"Port Kessel")
    save("/notice/7", body.replace(b"</div></article>", shared.encode() + b"</div></article>"))
    assert db.chrome_stale_sites() == [RELAY]
    done = reclean_site_chrome(db, clean, crawl_id=None)
    assert done["recleaned"] == 3 and done["untouched"] == 4, done
    texts = [r[0] for r in db.db.execute("SELECT text FROM copies c JOIN articles a ON a.id = c.article_id")]
    assert texts and not any("Relay radio hour" in t for t in texts)
    assert db.chrome_stale_sites() == []
    db.close()


def test_a_chrome_change_among_lines_the_rules_cut_cleans_no_page_again(tmp_path):
    """A share bar the line rules cut stands on two of six pages, then on a seventh: it is now
    chrome by count, but it is in no page's text, so no page can change and none is cleaned
    again (all `untouched`); the site is marked done all the same."""
    site = _site()
    db = Store(tmp_path / "c.db")
    pages = list(site[RELAY].items())
    bar = b"<p>Share this: Facebook Twitter</p></div></article>"

    def save(path: str, body: bytes) -> None:
        url = f"http://{RELAY}{path}"
        raw = RawPage(url, url, 200, {"content-type": "text/html"}, body, "2024-03-20T00:00:00Z")
        process(raw, db, clean, crawl_id=None)

    for n, (path, body) in enumerate(pages):
        save(path, body.replace(b"</div></article>", bar) if n in (1, 3) else body)
    reclean_site_chrome(db, clean, crawl_id=None)
    assert db.chrome_stale_sites() == []
    before = {r[0]: r[1] for r in db.db.execute("SELECT url, text_sha256 FROM copies")}
    path, body = pages[0]
    body = body.replace(b"/notice/1'", b"/notice/7'").replace(b"Port Amberley", b"Port Kessel")
    save("/notice/7", body.replace(b"</div></article>", bar))
    assert db.chrome_stale_sites() == [RELAY]
    done = reclean_site_chrome(db, clean, crawl_id=None)
    assert done["recleaned"] == 0 and done["untouched"] == 7, done
    assert db.chrome_stale_sites() == []
    after = {r[0]: r[1] for r in db.db.execute("SELECT url, text_sha256 FROM copies")}
    assert {u: h for u, h in after.items() if u in before} == before
    db.close()
