"""Titles that are no title: a forum reply's subject line with its board and forum around it, and
a converted document's file name.

The stored title is the statement's: a reply marker and a tag before a forum's subject go, and
so do the forum's name and the board's (named by the page as its site, or as the ends of its
breadcrumb trail); a `<title>` that is a file's name ("Microsoft Word - brief_0412.docx",
"Untitled document") gives way to the line the document sets in large type at its top. Every
page and statement here is written for the test.
"""

from __future__ import annotations

import datetime as dt

import pytest
from lxml.html import fromstring

from cleaners import Document, clean
from cleaners.fields import reads_as_file_name
from cleaners.model import RawPage, normalise_text
from cleaners.sitename import own_names
from cleaners.titles import subject_from
from tests.fixtures.web import wrapped_templates
from tests.fixtures.web.wrapkit import Context, Story

P1 = (
    "The Department welcomes the agreement of the two harbour authorities to publish their "
    "tide tables a week earlier than in past years, starting with the autumn season."
)
P2 = (
    "Fishing crews and ferry operators will be able to plan their crossings with more "
    "certainty, and the coast guard will share its storm notices on the same schedule."
)
P3 = (
    "We thank the harbour masters of both ports for their patient work on this exchange and "
    "look forward to welcoming the smaller ports along the coast into it next spring."
)

TITLES = (
    "Harbour Authorities Agree to Publish Tide Tables Earlier",
    "Department Press Briefing – October 7, 2025",
    "Moldova: Statement on the Tide Table Exchange",
    "U.S.-Estonia Joint Statement on Harbour Safety",
)


def _clean(body: bytes, url: str, ctype: str = "text/html; charset=utf-8") -> Document:
    return clean(RawPage(url, url, 200, {"content-type": ctype}, body, "2025-10-08T00:00:00Z"))


def _story(title: str) -> Story:
    return Story(title, (P1, P2, P3), dt.datetime(2025, 10, 7, 12), "https://www.state.gov/tide-tables/")


def _page(body: str, title: str, head: str = "") -> bytes:
    return (
        f"<html><head><title>{title}</title>{head}</head><body>{body}"
        f"<div class='txt'><p>{P1}</p><p>{P2}</p><p>{P3}</p></div></body></html>"
    ).encode()


@pytest.mark.parametrize("name", ["smf-thread", "word-convert"])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])  # each `<title>` form, og:title or none
@pytest.mark.parametrize("title", TITLES)
def test_the_title_is_the_statements_when_the_page_title_is_none(name, n, title):
    tpl = wrapped_templates.BY_NAME[name]
    assert tpl.split == "dev"
    page = tpl.render(_story(title), Context(n, "Earlier Note on Buoys", "Later Note on Ferries"))
    doc = _clean(page.body, page.url, page.content_type)
    assert doc.title == title
    text = normalise_text(doc.text)
    assert all(normalise_text(p) in text for p in (P1, P2, P3))
    if name == "smf-thread":
        # the converted document's small-type reference line under its title is left in the
        # text for now (a header line below the title; no rule of the titles' takes it)
        assert not any(normalise_text(c) in text for c in page.cruft)


@pytest.mark.parametrize(
    "title",
    [
        "Microsoft Word - brief_0412_final.docx",
        "Microsoft Word - Tide Tables Statement.doc",
        "brief_0412_final.pdf",
        "tide-tables-2025.odt",
        "brief_0412_final",
        "Untitled document",
        "Untitled",
        "untitled-1",
        "Document1",
    ],
)
def test_a_file_name_reads_as_no_title(title):
    assert reads_as_file_name(title)


@pytest.mark.parametrize(
    "title",
    [
        "Annual Tide Report.pdf Now Online for All Harbours",  # ".pdf" in running words
        "How to Read the Tide Tables (PDF)",
        "Statement on Untitled Land in the Harbour District",
        "Harbour Authorities Agree to Publish Tide Tables Earlier",
    ],
)
def test_a_title_that_names_a_file_in_running_words_is_a_title(title):
    assert not reads_as_file_name(title)


def test_a_converted_documents_large_first_line_is_its_title():
    body = (
        "<p style='font-size:20px;font-weight:bold'>Harbour Authorities Agree to Publish Tide Tables</p>"
        "<p style='font-size:9pt'>Ref. HB/0412</p>"
    )
    doc = _clean(_page(body, "Microsoft Word - brief_0412_final.docx"), "https://docs.example/b/0412.html")
    assert doc.title == "Harbour Authorities Agree to Publish Tide Tables"
    assert normalise_text(P1) in normalise_text(doc.text)


def test_a_file_name_title_without_a_large_line_is_not_stored_as_the_title():
    doc = _clean(_page("", "brief_0412_final.pdf"), "https://docs.example/b/0413.html")
    assert doc.title != "brief_0412_final.pdf"
    assert normalise_text(P1) in normalise_text(doc.text)


@pytest.mark.parametrize(
    "raw, want",
    [
        ("Porch Talk • View topic - Re: [Statement] Tide Tables", "Re: [Statement] Tide Tables"),
        ("Porch Talk - RE : Tide Tables", "RE : Tide Tables"),
        ("Porch Talk | Fwd: Tide Tables", "Fwd: Tide Tables"),
        # a bracketed label after a separator opens no subject: the title stays whole
        ("Travel Advisory – [Level 2] Exercise Caution", "Travel Advisory – [Level 2] Exercise Caution"),
        ("Re: Tide Tables - Policy Corner", "Re: Tide Tables - Policy Corner"),
    ],
)
def test_a_forum_title_is_read_from_where_the_replys_subject_starts(raw, want):
    assert subject_from(raw) == want


def test_the_ends_of_a_breadcrumb_trail_name_the_forum_and_the_board():
    tree = fromstring(
        "<html><body><div class='navigate_section'><ul>"
        "<li><a href='/index.php'>Harbour Porch</a> &raquo;</li>"
        "<li><a href='/index.php?board=3'>Policy Corner</a> &raquo;</li>"
        "<li class='last'>Harbour Authorities Agree to Publish Tide Tables Earlier</li>"
        "</ul></div><div class='crumbs'>no trail here</div></body></html>"
    )
    assert own_names(tree, {}, "talk.example") == {"harbour porch"}
    tree = fromstring(
        "<html><body><nav aria-label='Breadcrumb'><ol><li><a href='/'>Harbour Porch</a></li>"
        "<li>Policy Corner</li></ol></nav></body></html>"
    )
    assert own_names(tree, {}, "talk.example") == {"harbour porch", "policy corner"}


def test_a_board_named_by_the_trail_is_cut_from_a_reply_subject_without_a_heading():
    # no og:title, no heading that shows the subject: the board is known from the trail alone
    # (a trail whose class names it a breadcrumb is pruned as chrome before the title is
    # chosen, and says nothing then; one labelled so, or SMF's "navigate_section", stays)
    title = TITLES[1]
    body = (
        "<div id='header'>Harbour Porch: sit a while</div>"
        "<nav aria-label='Breadcrumb'><a href='/'>Harbour Porch</a> &raquo; <span>Policy Corner</span></nav>"
    )
    raw = f"Re: [Statement] {title} - Policy Corner - Harbour Porch"
    assert _clean(_page(body, raw), "https://talk.example/index.php?topic=77").title == title


@pytest.mark.parametrize(
    "title", ["Re: the Situation in the Lower Harbour", "[Updated] Tide Tables for 2026"]
)
def test_a_leading_reply_marker_or_tag_is_never_kept(title):
    # decided: "Re:" and a bracketed tag at a subject's start are a list's or a forum's, as on
    # every list and forum we crawl; a statement titled so (none of the State Department's is)
    # is stored without them
    doc = _clean(_page(f"<h2>{title}</h2>", title), "https://notes.example/2025/10/x.html")
    assert doc.title == title.split(" ", 1)[1]
