"""Titles on sites that glue their own name to the page title, with separators of their own.

The stored title is the statement's: the site's name goes from either end of `<title>` when the
page says elsewhere that it is called so (og:site_name, its link home, its copyright line, its
host), a desk's label beside it goes too, and nothing of the statement's own title does (a
dash, a date, a colon of its own). Every page and statement here is written for the test.
"""

from __future__ import annotations

import datetime as dt

import pytest
from lxml.html import fromstring

from cleaners import Document, clean
from cleaners.fields import field_title
from cleaners.model import RawPage, normalise_text
from cleaners.sitename import is_own_name, own_names
from cleaners.titles import strip_title_suffix
from tests.fixtures.web import wrapped_templates
from tests.fixtures.web.wrapkit import Context, Story

P1 = (
    "The Department welcomes the decision of the two river commissions to share their flood "
    "gauge readings every morning during the spring season."
)
P2 = (
    "Towns along the lower valley will receive warnings a full day earlier than before, which "
    "gives families time to move livestock and stores to higher ground."
)
P3 = (
    "We thank the engineers of both commissions for the work that made this exchange possible "
    "and look forward to extending it to the tributaries next year."
)

TITLES = (
    "River Commissions Agree to Share Flood Gauge Readings",
    "Department Press Briefing – March 3, 2025",
    "Deputy Secretary Arden’s Call with Foreign Minister Kask – Readout",
    "Moldova: Statement on the Flood Warning Exchange",
    "U.S.-Estonia Joint Statement on River Safety",
)


def _clean(body: bytes, url: str, ctype: str = "text/html; charset=utf-8") -> Document:
    return clean(RawPage(url, url, 200, {"content-type": ctype}, body, "2025-03-04T00:00:00Z"))


def _story(title: str) -> Story:
    return Story(title, (P1, P2, P3), dt.datetime(2025, 3, 3, 12), "https://www.state.gov/flood-gauges/")


NEW_TEMPLATES = ("dots-brand", "digest-dashes", "slash-desk", "pipe-relay", "header-fields")


@pytest.mark.parametrize("name", NEW_TEMPLATES)
@pytest.mark.parametrize("n", [1, 2, 3, 4])  # the site's name before, after or alone
@pytest.mark.parametrize("title", TITLES)
def test_the_title_is_the_statements_on_sites_that_glue_their_name_on(name, n, title):
    tpl = wrapped_templates.BY_NAME[name]
    assert tpl.split == "dev"
    page = tpl.render(_story(title), Context(n, "Earlier Note on Lock Repairs", "Later Note on Ferries"))
    doc = _clean(page.body, page.url, page.content_type)
    assert doc.title == title
    text = normalise_text(doc.text)
    assert all(normalise_text(p) in text for p in (P1, P2, P3))


@pytest.mark.parametrize(
    "raw, names, nav, want",
    [
        ("Lantern Post · Title of the Note", {"lantern post"}, set(), "Title of the Note"),
        ("Title of the Note -- The Quarry Bell", {"quarry bell"}, set(), "Title of the Note"),
        ("Title of the Note / World / Meridian Ledger", set(), {"world"}, "Title of the Note"),
        ("Meridian Ledger / World / Title of the Note", set(), {"world"}, "Title of the Note"),
        # the statement's own separators stay: a date, a one-word tail, a country before a colon
        ("Department Press Briefing – March 3, 2025 | Civic Relay", {"civic relay"}, set(), TITLES[1]),
        (f"{TITLES[2]} · Lantern Post", {"lantern post"}, set(), TITLES[2]),
        (f"{TITLES[3]} -- The Quarry Bell", {"quarry bell"}, set(), TITLES[3]),
        (f"Meridian Ledger / {TITLES[4]}", set(), set(), TITLES[4]),
    ],
)
def test_only_what_the_page_calls_itself_is_cut_from_the_title(raw, names, nav, want):
    host = "www.meridian-ledger.example" if "Meridian" in raw else "site.example"
    assert strip_title_suffix(raw, None, host, frozenset(names), frozenset(nav)) == want


def test_a_dated_title_keeps_its_date_when_the_page_says_nothing_of_itself():
    # no name on the page, no heading: neither the wording of "Press Briefing" nor the guess of
    # one part of the <title> takes the title apart
    title = TITLES[1]
    assert strip_title_suffix(title, None, "site.example") == title
    html = (
        f"<html><head><title>{title}</title></head><body><div class='txt'>"
        f"<p>{P1}</p><p>{P2}</p><p>{P3}</p></div></body></html>"
    )
    assert _clean(html.encode(), "https://notes.example/2025/03/x.html").title == title


def test_a_title_the_page_shows_whole_keeps_its_tail():
    # "– Readout" could be a site's name by its shape; the page shows the title whole
    title = TITLES[2]
    html = (
        f"<html><head><title>{title}</title></head><body><div class='intro'>{title}</div>"
        f"<div class='txt'><p>{P1}</p><p>{P2}</p><p>{P3}</p></div></body></html>"
    )
    assert _clean(html.encode(), "https://notes.example/2025/03/y.html").title == title


def test_a_desk_label_alone_is_not_cut_without_the_sites_name_beside_it():
    # "Europe" is a link of the page, but nothing says the title holds the site's name
    assert strip_title_suffix(
        "Travel to the Baltic States / Europe", None, "x.example", frozenset(), frozenset({"europe"})
    ) == ("Travel to the Baltic States / Europe")


def test_the_names_a_page_gives_itself():
    tree = fromstring(
        "<html><head><meta property='og:site_name' content='Lantern Post'></head><body>"
        "<a href='/'><img src='/logo.png' alt='The Quarry Bell'></a>"
        "<a href='https://other.example/'>Somebody Else</a><a href='#'>Back to top</a>"
        "<a href='/'>Home</a><p>Some words of the story, which name nobody.</p>"
        "<footer>Copyright &copy; 2001-2026 Civic Relay. All rights reserved.</footer></body></html>"
    )
    names = own_names(tree, {"og:site_name": "Lantern Post"}, "site.example")
    assert names == {"lantern post", "quarry bell", "civic relay"}
    assert is_own_name("The Lantern Post", names, "site.example")
    assert is_own_name("Meridian Ledger", frozenset(), "www.meridian-ledger.example")
    assert not is_own_name("Department Press Briefing", names, "press-briefing-notes.example")
    assert not is_own_name("Readout", names, "site.example")


def test_a_headline_in_a_class_named_span_agrees_with_the_title():
    html = (
        f"<html><head><title>{TITLES[2]} | Civic Relay</title></head><body>"
        "<div class='brand'><a href='/'>Civic Relay</a></div>"
        f"<header class='entry-header'><span class='entry-title'>{TITLES[2]}</span></header>"
        f"<div class='entry-content'><p>{P1}</p><p>{P2}</p><p>{P3}</p></div></body></html>"
    )
    doc = _clean(html.encode(), "https://civicrelay.example/2025/03/03/call/")
    assert doc.title == TITLES[2]


def test_a_title_stated_as_a_header_field_only_when_one_value_reads_as_a_title():
    rows = (
        "<table><tr><td><b>Posted by:</b></td><td>pond clerk</td></tr>"
        "<tr><td><b>Filed under:</b></td><td><a href='/c/abroad'>Notices from abroad</a></td></tr>"
        "<tr><td><b>Date:</b></td><td>March 3, 2025</td></tr>{extra}</table>"
    )
    nav = frozenset({"notices from abroad"})
    subject = f"<tr><td><b>Subject:</b></td><td>{TITLES[3]}</td></tr>"
    assert field_title(fromstring(rows.format(extra=subject)), None, "board.example", nav) == TITLES[3]
    # no value reads as a title: no title from the fields
    assert field_title(fromstring(rows.format(extra="")), None, "board.example", nav) is None
    # a lone label in running text is no header block
    note = f"<div><p><b>Note:</b> {TITLES[0]}</p><p>{P1}</p></div>"
    assert field_title(fromstring(note), None, "board.example") is None


def test_a_class_named_headline_stands_for_a_title_that_names_only_the_site():
    # the <title> and the brand <h1> name the site; other posts' titles are links and never count
    html = (
        "<html><head><title>Lantern Post</title></head><body>"
        "<h1 class='brand'><a href='/'>Lantern Post</a></h1>"
        f"<div class='story-headline'>{TITLES[1]}</div>"
        f"<div class='story-text'><p>{P1}</p><p>{P2}</p><p>{P3}</p></div>"
        "<aside><h3 class='entry-title'><a href='/stories/2'>Ferry Timetables for the Spring Season</a></h3>"
        "</aside><footer>&copy; 2026 Lantern Post</footer></body></html>"
    )
    assert _clean(html.encode(), "https://lanternpost.example/stories/1").title == TITLES[1]


@pytest.mark.parametrize("title", [TITLES[0], TITLES[3], TITLES[4]])
def test_a_larger_font_is_the_headline_of_a_page_titled_after_the_site(title):
    # the <title> is the site's front page; the headline is only a bigger <font>, the byline a
    # smaller one. (A headline ending in " – date" or " – Readout" is not here: with no title
    # chosen before the line rules run, they take it for a byline or a signed note.)
    tpl = wrapped_templates.BY_NAME["table-bigfont"]
    assert tpl.split == "dev"
    page = tpl.render(_story(title), Context(2, "Earlier Note on Lock Repairs", "Later Note on Ferries"))
    doc = _clean(page.body, page.url, page.content_type)
    assert doc.title == title
    text = normalise_text(doc.text)
    assert normalise_text(title) not in text and all(normalise_text(p) in text for p in (P1, P2, P3))


def test_a_font_of_a_face_alone_is_no_headline():
    html = (
        "<html><head><title>Old Town Crier - Front Page</title></head><body><table><tr><td>"
        f"<font face='Georgia' color='#003366'>Notes Gathered on the Green</font><br>"
        f"<p>{P1}</p><p>{P2}</p><p>{P3}</p></td></tr></table></body></html>"
    )
    assert (
        _clean(html.encode(), "http://oldtown-crier.example/archive/1.htm").title
        != "Notes Gathered on the Green"
    )
