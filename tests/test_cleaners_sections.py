"""A statement split over sibling sections keeps every section: a section of one short sentence
that the extractor drops with its "back to top" link is seen missing and put back where it
stood, while a sibling block of another make (an author box beside a layout row) is not; and
the report templates of the fixture web keep their whole statement."""

import datetime as dt

import pytest

from cleaners import CleanConfig, clean
from cleaners.extract import main_text
from cleaners.html import parse_html
from cleaners.model import RawPage, normalise_text
from cleaners.region import content_region, coverage, lost_sections, restore, share_inside
from tests.fixtures.web import wrapped_templates
from tests.fixtures.web.wrapkit import Context, Story

URL = "https://2009-2017.state.gov/r/pa/prs/ps/2016/04/2.htm"
OPENING = "The following statement is attributable to the Department Spokesperson:"
BODY = (
    "The United States welcomes the agreement reached today between the two governments on the "
    "return of displaced families to their villages along the river valley. The agreement sets out a "
    "schedule for the return, names the agencies that will help the families rebuild their homes and "
    "schools, and commits both governments to report on its progress every three months. We commend "
    "the mediators from the regional organization for their patient work over eleven rounds of talks, "
    "and we thank the host country for its hospitality during the negotiations."
)
CLOSING = (
    "The United States stands ready to support the families as they return, and we will work with "
    "both governments and the regional organization to see the agreement carried out in full."
)
STATEMENT = [OPENING, BODY, CLOSING]
HEADS = ("Statement", "Agreement", "Support")
BACK = "Back to the contents of this page"


def _sectioned_page() -> str:
    parts = "\n".join(
        f'<div class="statement-part" id="part-{i}"><a name="part-{i}"></a><h3>{head}</h3><p>{text}</p>'
        f'<div class="to-top"><a href="#top">{BACK}</a></div></div>'
        for i, (head, text) in enumerate(zip(HEADS, STATEMENT, strict=True), 1)
    )
    return f"""<html><head><title>Agreement on the Return of Displaced Families</title></head><body>
<div id="top" class="masthead"><a href="/">Department of State</a></div>
<ul class="menu"><li><a href="/a">Policy</a></li><li><a href="/b">Countries</a></li></ul>
<div class="main-column"><h1>Agreement on the Return of Displaced Families</h1>
{parts}
</div><div class="bottom"><p>This site is managed by the Bureau of Public Affairs.</p></div></body></html>"""


def _raw(html: str, url: str = URL) -> RawPage:
    return RawPage(url, url, 200, {"content-type": "text/html"}, html.encode("utf-8"), "2024-01-01T00:00:00Z")


@pytest.mark.parametrize("first", ["full", "fast"])
def test_short_section_the_extractor_drops_is_put_back_in_its_place(first):
    doc = clean(_raw(_sectioned_page()), CleanConfig(extraction=first))
    text = normalise_text(doc.text)
    assert [p[:40] for p in STATEMENT if normalise_text(p) not in text] == []
    positions = [text.index(normalise_text(p)) for p in STATEMENT]
    assert positions == sorted(positions)
    # the extractor itself lost a section: the path says the region filled it in
    assert doc.extraction == f"{first}+region"
    assert BACK not in doc.text


def test_a_lost_short_section_shows_though_coverage_looks_complete():
    region = content_region(parse_html(_sectioned_page()))
    assert region is not None and region.sections == 3
    # the opening sentence is no "prose" by length: coverage cannot see it go
    assert coverage(f"{BODY}\n{CLOSING}", region) == 1.0
    assert lost_sections(f"{BODY}\n{CLOSING}", region) == 1
    kept = "Agreement\n" + BODY
    assert lost_sections(kept, region) == 2
    assert lost_sections("\n".join(STATEMENT), region) == 0
    assert restore(kept, region).split("\n") == [OPENING, "Agreement", BODY, CLOSING]
    assert restore("\n".join(STATEMENT), region) == "\n".join(STATEMENT)
    # nothing of the region to place the lost sentences by: the text stays as it is
    assert restore("An unrelated line of text.", region) == "An unrelated line of text."


def test_sibling_block_of_another_make_is_not_taken_for_a_lost_section():
    bio = "Dana Whitfield covers diplomacy for the paper and has reported from four continents."
    page = f"""<html><body><div class="layout">
<div class="row"><div class="story-body"><p>{BODY}</p><p>{CLOSING}</p></div></div>
<div class="row"><div class="author-box"><img src="/d.jpg"><p>{bio}</p></div></div>
</div></body></html>"""
    tree = parse_html(page)
    region = content_region(tree)
    assert region is not None and region.sections == 2
    story = f"{BODY}\n{CLOSING}"
    assert lost_sections(story, region) == 0
    assert restore(story, region) == story
    extraction = main_text(tree, "https://paper.example/a")
    assert "Dana Whitfield" not in extraction.text
    assert "+region" not in extraction.path


STORY = Story(
    title="Agreement on the Return of Displaced Families",
    paragraphs=(OPENING, BODY, "We urge all parties to respect the ceasefire line.", CLOSING),
    published=dt.datetime(2016, 4, 2, 14, 0),
    link="https://2009-2017.state.gov/r/pa/prs/ps/2016/04/2.htm",
)


@pytest.mark.parametrize("name", ["report-basic-text", "report-wp-toc", "report-wp"])
def test_dev_report_templates_keep_every_paragraph_in_order(name):
    tpl = wrapped_templates.BY_NAME[name]
    assert tpl.split == "dev" and tpl.official
    page = tpl.render(STORY, Context(1, "An earlier report", "A later report"))
    doc = clean(_raw(page.body.decode("utf-8"), page.url))
    text = normalise_text(doc.text)
    assert [p[:40] for p in STORY.paragraphs if normalise_text(p) not in text] == []
    positions = [text.index(normalise_text(p)) for p in STORY.paragraphs]
    assert positions == sorted(positions)


def test_list_of_teasers_denser_than_the_article_is_not_taken_for_it():
    lead = (
        "Two governments agreed on Monday that families displaced from the river valley may go home "
        "before the rains, with help from four agencies."
    )
    # the list teases the article too, with its lead: the article is not wholly outside the list
    teasers = f'<li><a href="/n/a">Displaced families may go home</a> {lead}</li>' + "".join(
        f'<li><a href="/n/{i}">Council item number {i} reaches the floor</a> The council took up item '
        f"number {i} of its agenda on Tuesday and sent it to the committee on roads and water for a "
        "second reading before the end of the month, members said after the sitting.</li>"
        for i in range(12)
    )
    page = f"""<html><body><article class="story"><h1>Agreement on the Return of Displaced Families</h1>
<p>{lead}</p><p>{BODY}</p><p>{CLOSING}</p></article>
<div class="latest"><h2>Latest from the council</h2><ul>{teasers}</ul></div></body></html>"""
    tree = parse_html(page)
    region = content_region(tree)
    assert region is not None and "Council item number 3" in region.text
    story = f"{lead}\n{BODY}\n{CLOSING}"
    assert 0.0 < coverage(story, region) < 0.2 and share_inside(story, region) < 0.5
    assert share_inside("\n".join(region.paragraphs[:3]), region) == 1.0
    extraction = main_text(tree, "https://paper.example/a")
    assert extraction.path == "full" and normalise_text(BODY) in normalise_text(extraction.text)


MARKED = Story(
    title="Joint Statement on the Return of Displaced Families",
    paragraphs=("Begin text:", BODY, CLOSING, "End text."),
    published=dt.datetime(2016, 4, 2, 14, 0),
    link="https://2009-2017.state.gov/r/pa/prs/ps/2016/04/3.htm",
)


@pytest.mark.parametrize("name", ["report-release-parts", "report-wp-toc"])
def test_marker_lines_in_blocks_of_their_own_are_kept(name):
    # "Begin text:" and "End text." each stand alone in a sibling block, the first and the last
    tpl = wrapped_templates.BY_NAME[name]
    assert tpl.split == "dev" and tpl.official
    page = tpl.render(MARKED, Context(1, "An earlier release", "A later release"))
    raw = RawPage(page.url, page.url, 200, {"content-type": page.content_type}, page.body, "2024")
    lines = clean(raw).text.split("\n\n")
    # the section headings between the blocks may stay (a list item keeps its dash); every line of
    # the statement is there, in order
    at = [next((n for n, line in enumerate(lines) if line.endswith(p)), -1) for p in MARKED.paragraphs]
    assert -1 not in at and at == sorted(at), lines


def test_short_block_that_ends_no_sentence_is_not_a_section_sentence():
    # a sibling block of one short line that neither ends a sentence nor leads in (an ad label)
    # is no part of the statement: it is not put back
    blocks = "".join(
        f'<div class="release-part"><p>{text}</p></div>'
        for text in ("Begin text:", BODY, "Advertisement", CLOSING)
    )
    region = content_region(parse_html(f"<html><body><div class='release'>{blocks}</div></body></html>"))
    assert region is not None and region.sections == 3
    sentences = [region.paragraphs[i] for own in region.sentences for i in own]
    assert "Begin text:" in sentences and "Advertisement" not in sentences
    assert "Advertisement" not in restore(f"{BODY}\n{CLOSING}", region)
    assert restore(f"{BODY}\n{CLOSING}", region).split("\n")[0] == "Begin text:"
