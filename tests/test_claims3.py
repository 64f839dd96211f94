"""A copy names its official original at an edge, in any script and in any of the forms sites
use: a label with a full-width colon or a dash, a label of several characters, a field of the
article's info line, a notes box saying where the text was taken from with a link whose text
is no host ("the official site"), a label line of several words over a URL or link line, a
board's "Original link:" line in the post's block; on the development templates of
`tests/fixtures/web/aggregators_claims3.py` and on pages written here.

What a user relies on: such a copy claims the official page it names and keeps every paragraph
of the statement; a link from inside the prose, a references list, an editor's note quoting an
older publication, a "Related:" line or a link to a section claims nothing and keeps its text.
"""

from __future__ import annotations

import pytest

from cleaners.edgelinks import label_words, statement_path
from cleaners.model import normalise_text
from tests.fixtures.web import wrapped_templates
from tests.fixtures.web.wrapkit import Context
from tests.test_cleaners_claims import _paras, _post
from tests.test_cleaners_edges import LINK, STORY, _clean

NAMING = (
    "claims3-ja-blog",
    "claims3-ko-cafe",
    "claims3-ru-news",
    "claims3-ar-portal",
    "claims3-wiki-notes",
    "claims3-doc-convert",
    "claims3-forum-origlink",
)
LOOK_ALIKES = ("claims3-cites-prose", "claims3-references", "claims3-editor-note")
OTHER = "https://www.state.gov/joint-statement-on-river-basin-monitoring/"
URL = "https://orchard-notes.example/2024/05/partnership/"


def _kept_whole(text: str) -> bool:
    got = normalise_text(text)
    return all(normalise_text(p) in got for p in STORY.paragraphs)


@pytest.mark.parametrize("name", NAMING + LOOK_ALIKES)
def test_claims3_templates_are_development_templates(name):
    assert name in wrapped_templates.DEV


@pytest.mark.parametrize("n", range(1, 9))
@pytest.mark.parametrize("name", NAMING)
def test_an_edge_naming_the_original_in_any_form_is_the_claim(name, n):
    page = wrapped_templates.render(name, STORY, Context(n, "An earlier post", "A later post"))
    doc = _clean(page.body, page.url, page.content_type)
    assert doc.claimed_original == LINK
    assert _kept_whole(doc.text)
    assert LINK not in doc.text


@pytest.mark.parametrize("n", range(1, 5))
@pytest.mark.parametrize("name", LOOK_ALIKES)
def test_citations_references_and_quoting_notes_claim_nothing(name, n):
    page = wrapped_templates.render(name, STORY, Context(n, "An earlier post", "A later post"))
    doc = _clean(page.body, page.url, page.content_type)
    assert doc.claimed_original is None
    assert _kept_whole(doc.text)


@pytest.mark.parametrize(
    "box",
    [
        f'<aside class="notes">Texto tomado del <a href="{LINK}">sitio oficial</a> el 3 de mayo.</aside>',
        f'<div class="notice"><p>Скопировано с <a href="{LINK}">официального сайта</a>.</p></div>',
        f'<table class="hdr"><tr><td>Taken from <a href="{LINK}">the official site</a>.</td></tr></table>',
    ],
)
def test_a_notes_box_linking_the_official_site_is_the_claim(box):
    doc = _clean(_post(f"{box}\n{_paras()}"), URL)
    assert doc.claimed_original == LINK
    assert _kept_whole(doc.text)


@pytest.mark.parametrize(
    "box",
    [
        # a quotation from an older publication, in a box of its own
        f'<div class="note"><p>Editor\'s note: the 2014 release said "the work is far from done" '
        f'(<a href="{OTHER}">release</a>).</p></div>',
        # a pointer to compare with another text
        f'<div class="note"><p>Compare <a href="{OTHER}">an earlier statement</a> from the spring.</p></div>',
        # a sentence of the post's own text linking another page, in the text's block
        f'<p>Taken together with <a href="{OTHER}">the monitoring statement</a>, it sets out a plan.</p>',
    ],
)
def test_a_note_quoting_or_citing_another_page_is_no_claim(box):
    doc = _clean(_post(f"{box}\n{_paras()}"), URL)
    assert doc.claimed_original is None
    assert _kept_whole(doc.text)


@pytest.mark.parametrize(
    "line",
    [
        f'<p>Related: <a href="{OTHER}">Joint Statement on River Basin Monitoring</a></p>',
        f'<p>相关新闻：<a href="{OTHER}">联合声明</a></p>',
        '<p><a href="https://www.state.gov/press-releases/">Press releases</a></p>',
    ],
)
def test_a_related_line_or_a_link_to_a_section_is_no_claim(line):
    doc = _clean(_post(f"{_paras()}\n{line}"), URL)
    assert doc.claimed_original is None
    assert _kept_whole(doc.text)


def test_a_link_line_under_a_post_in_the_same_block_is_the_claim():
    quoted = "<br><br>".join(STORY.paragraphs)
    post = f'<div class="post">{quoted}<br>Original link: <a href="{LINK}">state.gov/partnership …</a></div>'
    doc = _clean(_post(post), URL)
    assert doc.claimed_original == LINK
    assert _kept_whole(doc.text)


def test_a_url_ending_a_wrapped_sentence_is_no_claim():
    """Mail wraps a sentence so that the URL it names stands alone on the last line: the line
    continues the sentence above, it is no source line."""
    wrapped = "We discussed this at length last week, and the text we read is the one posted\nat\n"
    body = "\n\n".join(STORY.paragraphs) + "\n\n" + wrapped + LINK + "\n"
    doc = _clean(_post(f"<pre>{body}</pre>"), URL)
    assert doc.claimed_original is None


@pytest.mark.parametrize(
    ("label", "target"),
    [
        ("Источник:", f'<a href="{LINK}">Государственный департамент</a>'),
        ("المصدر:", LINK),
        ("Text as published by the Department of State at:", f'<a href="{LINK}">the Department</a>'),
    ],
)
def test_a_label_line_over_a_link_or_url_line_is_the_claim(label, target):
    doc = _clean(_post(f"{_paras()}\n<p>{label}</p>\n<p>{target}</p>"), URL)
    assert doc.claimed_original == LINK
    assert _kept_whole(doc.text)


def test_labels_in_scripts_without_spaces_count_about_three_characters_to_a_word():
    assert label_words("原文はこちら：") <= 3
    assert label_words("Source:") == 1
    assert label_words("这是一段很长的中文说明文字而不是一个标签") > 5


@pytest.mark.parametrize(
    ("url", "statement"),
    [
        (LINK, True),
        ("https://www.state.gov/anzac-day-2/", True),
        ("https://2009-2017.state.gov/r/pa/prs/ps/2014/06/227456.htm", True),
        ("https://www.state.gov/press-releases/", False),
        ("https://www.state.gov/", False),
    ],
)
def test_a_statement_path_is_not_a_home_page_or_a_section(url, statement):
    assert statement_path(url) is statement


@pytest.mark.parametrize(
    "edge",
    [
        # a notes box of two sentences, a box among the text's paragraphs
        f'<div class="notice">This text was transcribed from <a href="{LINK}">the Department\'s website</a>. '
        "Spacing was adjusted.</div>",
        # a label of a few more words before a plain URL
        f"<p>The statement as posted on the Department's site: {LINK}</p>",
        # a full-width bracket around the label and the URL
        f"<p>【来源：{LINK}】</p>",
    ],
)
def test_a_longer_label_or_note_at_an_edge_is_the_claim(edge):
    doc = _clean(_post(f"{edge}\n{_paras()}"), URL)
    assert doc.claimed_original == LINK
    assert _kept_whole(doc.text)


@pytest.mark.parametrize(
    "edge",
    [
        f'<p>As the Department wrote in "River Basin Monitoring" ({OTHER}):</p>',
        f"<p>For the earlier statement on monitoring, see {OTHER}</p>",
        f"<p>The monitoring statement we compared this with last month: {OTHER}</p>",
    ],
)
def test_a_quoting_or_pointing_line_at_an_edge_is_no_claim(edge):
    doc = _clean(_post(f"{edge}\n{_paras()}"), URL)
    assert doc.claimed_original is None
    assert _kept_whole(doc.text)


def test_a_note_paragraph_below_the_text_is_the_claim():
    note = f'<p><small>Text taken from <a href="{LINK}">the Department\'s website</a> on 4 May.</small></p>'
    doc = _clean(_post(f"{_paras()}\n{note}"), URL)
    assert doc.claimed_original == LINK
    assert _kept_whole(doc.text)


@pytest.mark.parametrize(
    "line",
    [
        f'<p>The Department\'s statement on monitoring is <a href="{OTHER}">here</a>.</p>',
        f'<p>Taken together with <a href="{OTHER}">the monitoring statement</a>, it sets out a plan.</p>',
    ],
)
def test_a_short_paragraph_below_the_text_linking_another_page_is_no_claim(line):
    doc = _clean(_post(f"{_paras()}\n{line}"), URL)
    assert doc.claimed_original is None
    assert _kept_whole(doc.text)


def test_a_label_line_over_the_url_above_a_mail_is_the_claim_under_a_long_subject():
    """A subject line long enough to read as running text stands above the message; the
    source line opening the message's box is still at the text's edge."""
    import dataclasses

    story = dataclasses.replace(
        STORY,
        title="Joint Statement by the Partner Governments on the Launch of a Regional Partnership to Protect "
        "Migrant Workers from Forced Labor and Recruitment Abuse",
    )
    page = wrapped_templates.render("mail-thread-view", story, Context(5, "An earlier post", "A later post"))
    assert b"Source:\n" + LINK.encode() in page.body
    doc = _clean(page.body, page.url, page.content_type)
    assert doc.claimed_original == LINK
    assert _kept_whole(doc.text)
