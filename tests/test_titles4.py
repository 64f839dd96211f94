"""Titles among the site's words, and a title that must not cost the statement a line.

The stored title is the statement's: a forum's thread prefix (a tag, a thread's state, a reply
marker, a label inside the heading) and its board's and forum's names go, whatever order and
separators the `<title>` uses; a converted document's file-named `<title>` gives way to its
largest or bold first line; a CJK portal's channel and name behind full-width bars,
underscores or 【】 brackets go. A line of the text is taken for the title, and cut, only when
the page sets it as a line of its own: the first line of a paragraph broken into lines stays.
Every page and statement here is written for the test.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cleaners import Document, clean
from cleaners.fields import reads_as_file_name
from cleaners.model import RawPage, normalise_text
from cleaners.titleparts import TITLE_SPLIT, strip_list_tag
from cleaners.titles import slug_part, strip_title_suffix
from tests.fixtures.web import wrapped_templates
from tests.fixtures.web.wrapkit import Context, Story

P1 = (
    "Special Envoy Martin Harrow will travel to the Coastal Provinces from June 3 to June 9 to meet "
    "the provincial governors and the fishing cooperatives that run the new cold-storage depots."
)
P2 = (
    "In each province the Special Envoy will visit a depot, hear from the crews who use it and "
    "discuss how the depots can keep running through the long dry season without new fuel."
)
P3 = (
    "The visit follows the agreement signed in March, under which the two governments share the "
    "cost of the depots and train the cooperatives' staff to maintain the cooling equipment."
)

TITLES = (
    "Special Envoy Harrow's Travel to the Coastal Provinces",
    "Department Press Briefing – October 7, 2025",
    "Moldova: Statement on the Cold-Storage Depots",
    "Coastal Depots Open",
)


def _clean(body: bytes, url: str, ctype: str = "text/html; charset=utf-8") -> Document:
    return clean(RawPage(url, url, 200, {"content-type": ctype}, body, "2025-10-08T00:00:00Z"))


def _story(title: str) -> Story:
    return Story(title, (P1, P2, P3), dt.datetime(2025, 10, 7, 12), "https://www.state.gov/coastal-depots/")


def _text_kept(doc: Document) -> bool:
    text = normalise_text(doc.text)
    return all(normalise_text(p) in text for p in (P1, P2, P3))


@pytest.mark.parametrize(
    "name", ["titles4-prefix-forum", "titles4-word-bold", "titles4-file-bold", "titles4-cjk-suffix"]
)
@pytest.mark.parametrize("n", range(1, 11))  # every prefix, order, file name and suffix form
@pytest.mark.parametrize("title", TITLES)
def test_the_title_is_the_statements_among_the_sites_words(name, n, title):
    tpl = wrapped_templates.BY_NAME[name]
    assert tpl.split == "dev"
    page = tpl.render(_story(title), Context(n, "Earlier Note on Nets", "Later Note on Ferries"))
    doc = _clean(page.body, page.url, page.content_type)
    assert doc.title == title
    assert _text_kept(doc)


@pytest.mark.parametrize("n", range(1, 7))
def test_the_first_line_of_a_broken_paragraph_is_never_the_title(n):
    # claims2's converted PDF: no <h1>, every line ends in <br/>; the statement's first line
    # shares most of the title's words
    tpl = wrapped_templates.BY_NAME["pdf-html-lines"]
    assert tpl.split == "dev"
    title = "Special Envoy Harrow's Travel to the Coastal Provinces"
    page = tpl.render(_story(title), Context(n, "Earlier Note on Nets", "Later Note on Ferries"))
    doc = _clean(page.body, page.url, page.content_type)
    assert doc.title == title
    assert "special envoy martin harrow will travel" in normalise_text(doc.text)
    assert not any(r.rule == "repeated_title" and "will travel" in r.text for r in doc.removed)


def _page(head: str, body: str, title: str) -> bytes:
    return (
        f"<html><head><title>{title}</title>{head}</head><body>{body}"
        f"<div class='txt'><p>{P1}</p><p>{P2}</p><p>{P3}</p></div></body></html>"
    ).encode()


def test_a_standalone_longer_headline_still_replaces_a_shorter_title():
    body = "<p>Special Envoy Harrow Travels to the Coastal Provinces and Opens Depots</p>"
    doc = _clean(_page("", body, "Envoy Harrow travels"), "https://blog.example/2025/10/envoy")
    assert doc.title == "Special Envoy Harrow Travels to the Coastal Provinces and Opens Depots"
    assert _text_kept(doc)


def test_a_heading_label_is_no_part_of_the_title_and_the_heading_line_goes():
    body = "<h1><span class='badge'>Repost</span> Coastal Depots Open Along the Shore</h1>"
    doc = _clean(
        _page("", body, "Coastal Depots Open Along the Shore - Harbour Talk"), "https://talk.example/t/88"
    )
    assert doc.title == "Coastal Depots Open Along the Shore"
    assert "repost" not in normalise_text(doc.text)
    assert _text_kept(doc)


def test_the_largest_first_line_of_a_converted_document_is_its_title_not_its_letterhead():
    body = (
        "<p style='font-size:14pt'>Coastal Provinces Fisheries Council</p>"
        "<p style='font-size:22pt'>Cold-Storage Depots Open in Three Provinces</p>"
    )
    doc = _clean(_page("", body, "Microsoft Word - depots_note_v2.doc"), "https://docs.example/d/2.html")
    assert doc.title == "Cold-Storage Depots Open in Three Provinces"
    assert _text_kept(doc)


def test_a_bold_first_line_under_a_file_name_title_is_the_title_not_a_bold_label_below_it():
    body = "<p><strong>Cold-Storage Depots Open in Three Provinces</strong></p><p><b>Key points</b></p>"
    doc = _clean(_page("", body, "Depots Note FINAL v3.pdf"), "https://docs.example/d/3")
    assert doc.title == "Cold-Storage Depots Open in Three Provinces"


@pytest.mark.parametrize(
    "title",
    [
        "Depots Note FINAL v3.pdf",
        "depots-note-2025-10-final",
        "fisheries-council-note-rev2",
        "note_2025_10.docx",
    ],
)
def test_more_file_name_shapes_read_as_no_title(title):
    assert reads_as_file_name(title)


@pytest.mark.parametrize(
    "title",
    [
        "U.S.-Mexico Joint Statement",
        "Coastal Depots Open",
        "Annual Depot Report.pdf Now Online for All Provinces",
        "Cold-Storage Depots Open",
    ],
)
def test_titles_with_hyphens_or_a_file_in_running_words_are_titles(title):
    assert not reads_as_file_name(title)


@pytest.mark.parametrize(
    "raw, want",
    [
        ("Sticky: Coastal Depots Open", "Coastal Depots Open"),
        ("Pinned: [Repost] Coastal Depots Open", "Coastal Depots Open"),
        ("【长桥网】Coastal Depots Open", "Coastal Depots Open"),
        # a statement's own leading words stay
        ("Moldova: Statement on the Depots", "Moldova: Statement on the Depots"),
        ("Closing Remarks at the Depot Opening", "Closing Remarks at the Depot Opening"),
    ],
)
def test_a_threads_state_and_a_portals_tag_before_the_subject_go(raw, want):
    assert strip_list_tag(raw) == want


@pytest.mark.parametrize(
    "raw, want",
    [
        ("Coastal Depots Open｜国际要闻｜长桥网", "Coastal Depots Open"),
        ("Coastal Depots Open_国际_长桥新闻网", "Coastal Depots Open"),
        ("Coastal Depots Open【国际频道】-长桥网", "Coastal Depots Open"),
        ("【长桥网】Coastal Depots Open", "Coastal Depots Open"),
        ("Прибрежные склады открыты - Harbour Daily", "Прибрежные склады открыты"),
        # a title in one script keeps its own separators
        ("U.S.-Mexico Joint Statement", "U.S.-Mexico Joint Statement"),
        ("Department Press Briefing – October 7, 2025", "Department Press Briefing – October 7, 2025"),
    ],
)
def test_parts_in_another_script_than_the_title_are_the_sites(raw, want):
    assert strip_title_suffix(raw, None, "www.changqiao-wang.example") == want


def test_cjk_separators_split_only_beside_cjk_script():
    assert [p for p in TITLE_SPLIT.split("Title_国际_长桥网") if p] == ["Title", "国际", "长桥网"]
    assert [p for p in TITLE_SPLIT.split("snake_case_name - Site") if p] == ["snake_case_name", "Site"]


@pytest.mark.parametrize(
    "raw, url, want",
    [
        (
            "[News] Coastal Depots Open Along the Shore | World Lounge | Harbour Talk",
            "https://talk.example/threads/coastal-depots-open-along-the-shore.4411/",
            "Coastal Depots Open Along the Shore",
        ),
        (
            "Harbour Talk › World Lounge › Coastal Depots Open Along the Shore",
            "https://talk.example/topic/4411-coastal-depots-open-along-the-shore/",
            "Coastal Depots Open Along the Shore",
        ),
        # a date the slug leaves out stays: no run is taken
        (
            "Department Press Briefing – October 7, 2025 | Harbour Talk",
            "https://talk.example/department-press-briefing/",
            None,
        ),
        # a slug that spells other words than the title's says nothing
        ("Coastal Depots Open | Harbour Talk", "https://talk.example/threads/ferry-timetables.9/", None),
        ("Coastal Depots Open | Harbour Talk", "https://talk.example/showthread.php?tid=9", None),
    ],
)
def test_the_address_slug_picks_the_titles_run_of_parts(raw, url, want):
    assert slug_part(raw, url) == want


def test_a_long_title_broken_over_two_large_lines_is_one_title():
    body = (
        "<p class='ft0'>Cold-Storage Depots Open in Three Coastal</p>"
        "<p class='ft0'>Provinces Ahead of the Dry Season</p>"
        "<p class='ft1'>Ref. CP/0412</p>"
    )
    head = "<style>.ft0 { font-size: 24px; } .ft1 { font-size: 11px; }</style>"
    doc = _clean(_page(head, body, "depots_note_0412.pdf"), "https://docs.example/d/4.html")
    assert doc.title == "Cold-Storage Depots Open in Three Coastal Provinces Ahead of the Dry Season"
    assert _text_kept(doc)


def test_a_forum_subject_linking_its_topics_first_page_is_still_the_title():
    body = (
        "<div class='navbar'><a href='/index.php'>Harbour Talk</a> &raquo; "
        "<a href='/viewforum.php?f=3'>World Lounge</a></div>"
        "<h2 class='topic-title'><a href='/viewtopic.php?t=77'>Coastal Depots Open Along the Shore</a></h2>"
    )
    raw = "Harbour Talk • View topic - [News] Coastal Depots Open Along the Shore"
    doc = _clean(_page("", body, raw), "https://talk.example/viewtopic.php?f=3&t=77&start=15")
    assert doc.title == "Coastal Depots Open Along the Shore"
    assert _text_kept(doc)
