"""Copies that name their official original in a plain line of text: "Link: <url>",
"Original at: <url>", "来源：<url>" (full-width colon), a label on one line and the URL on the
next, a source note above the text; on the development templates of
`tests/fixtures/web/aggregators_claims.py` and on pages written here.

What a user relies on: such a copy claims the official page it names and keeps every paragraph
of the statement; a URL inside a sentence, or a list of several official pages, claims nothing.
"""

from __future__ import annotations

import pytest

from cleaners.model import normalise_text
from tests.fixtures.web import wrapped_templates
from tests.fixtures.web.wrapkit import Context
from tests.test_cleaners_edges import LINK, STORY, _clean

CLAIM_TEMPLATES = ("mail-thread-view", "forum-link-line", "pdf-html-lines", "cjk-portal")
OTHER = "https://www.state.gov/joint-statement-on-labor-inspections/"


@pytest.mark.parametrize("name", CLAIM_TEMPLATES)
def test_claim_templates_are_development_templates(name):
    assert name in wrapped_templates.DEV


@pytest.mark.parametrize("n", range(1, 7))
@pytest.mark.parametrize("name", CLAIM_TEMPLATES)
def test_a_plain_source_line_names_the_original_and_the_statement_is_kept(name, n):
    page = wrapped_templates.render(name, STORY, Context(n, "An earlier post", "A later post"))
    doc = _clean(page.body, page.url, page.content_type)
    assert doc.claimed_original == LINK
    text = normalise_text(doc.text)
    for paragraph in STORY.paragraphs:
        assert normalise_text(paragraph) in text


def _post(inner: str, lang: str = "en") -> str:
    return f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">
<title>{STORY.title} | Orchard Notes</title></head><body><header><a href="/">Orchard Notes</a></header>
<main><article><h1>{STORY.title}</h1>
{inner}
</article></main><footer><p>Orchard Notes is written on weekends.</p></footer></body></html>"""


def _paras() -> str:
    return "\n".join(f"<p>{p}</p>" for p in STORY.paragraphs)


@pytest.mark.parametrize(
    "line",
    [
        f"<p>Link: {LINK}</p>",
        f"<p>Original at: &lt;{LINK}&gt;</p>",
        f"<p>来源：{LINK}</p>",
        f"<p>Source:<br>{LINK}</p>",
        f"<p>原文链接：</p><p>{LINK}</p>",
    ],
)
@pytest.mark.parametrize("above", [True, False])
def test_a_short_edge_line_with_an_official_url_is_a_claim(line, above):
    inner = f"{line}\n{_paras()}" if above else f"{_paras()}\n{line}"
    doc = _clean(_post(inner), "https://orchard-notes.example/2024/05/partnership/")
    assert doc.claimed_original == LINK
    assert LINK not in doc.text
    assert normalise_text(STORY.paragraphs[0]) in normalise_text(doc.text)
    assert normalise_text(STORY.paragraphs[-1]) in normalise_text(doc.text)


def test_a_url_inside_prose_is_no_claim_and_keeps_its_sentence():
    cited = (
        f"<p>Readers who want the background can see {LINK} for the text, which the regional groups "
        "had asked for during years of meetings before any government took it up.</p>"
    )
    doc = _clean(_post(_paras() + cited), "https://orchard-notes.example/2024/05/partnership/")
    assert doc.claimed_original is None
    assert "regional groups had asked for during years of meetings" in doc.text


def test_a_list_of_several_official_urls_is_no_claim():
    refs = f"<p>References:</p><p>{LINK}<br>{OTHER}</p>"
    doc = _clean(_post(_paras() + refs), "https://orchard-notes.example/2024/05/partnership/")
    assert doc.claimed_original is None


def test_two_source_lines_naming_different_originals_are_no_claim():
    inner = f"<p>Link: {LINK}</p>\n{_paras()}\n<p>Link: {OTHER}</p>"
    doc = _clean(_post(inner), "https://orchard-notes.example/2024/05/partnership/")
    assert doc.claimed_original is None
    assert normalise_text(STORY.paragraphs[0]) in normalise_text(doc.text)


def test_a_url_line_of_another_site_is_no_claim():
    inner = f"{_paras()}\n<p>Link: https://www.example-news.example/world/partnership</p>"
    doc = _clean(_post(inner), "https://orchard-notes.example/2024/05/partnership/")
    assert doc.claimed_original is None


def test_a_plain_embassy_url_line_is_found_under_the_wildcard_domain():
    """The official domains are patterns ("*.usembassy.gov"): the quick look for an official URL
    in the page's text must find an embassy's host too."""
    from lxml.html import fromstring

    from cleaners.edgelines import text_source_lines

    tree = fromstring(
        "<html><body><p>The embassy's notice on the fair is reproduced here in full for readers of "
        "the valley list, with nothing added.</p>"
        "<p>Link: https://mx.usembassy.gov/notice-on-the-county-fair/</p></body></html>"
    )
    found = [url for _, url, _ in text_source_lines(tree, "valley-list.example")]
    assert found == ["https://mx.usembassy.gov/notice-on-the-county-fair/"]
