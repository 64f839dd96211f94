"""A copy's edges: the reposter's commentary around a quoted statement, catalogue credit lines
and links to the official original, on the development templates of
`tests/fixtures/web/aggregators_edges.py` and on pages written here.

What a user relies on: the stored text is the statement (every paragraph of it, none of the
reposter's own words), the copy claims the official page it names, and an article that argues
with a statement, cites an official page or points its reader to one keeps its prose and
claims nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cleaners.core import clean, clean_text
from cleaners.model import Document, RawPage, normalise_text
from tests.fixtures.web import wrapped_templates
from tests.fixtures.web.wrapkit import Context, Story

LINK = "https://www.state.gov/partnership-to-protect-migrant-workers-from-forced-labor/"
STORY = Story(
    title="Partnership to Protect Migrant Workers from Forced Labor",
    paragraphs=(
        "The United States and five partner governments today launched a partnership to protect "
        "migrant workers from forced labor and from recruiters who deceive them about wages and "
        "working conditions.",
        "Under the partnership, labor inspectors from each country will train together, and the "
        "governments will exchange the names of recruitment agencies that charge workers illegal fees.",
        "The partners will also fund shelters near border crossings, where workers who leave abusive "
        "employers can find legal advice, medical care and a safe place to stay.",
        "Businesses that hire through licensed agencies will be invited to publish how they check their "
        "suppliers, so that consumers and investors can compare their efforts.",
        "We call on other governments in the region to join the partnership, and we thank the civil "
        "society groups whose research on recruitment fees shaped its design.",
        "The partners will meet again in the autumn to review the first months of work and to agree on "
        "a public report of the cases inspectors have referred for prosecution.",
    ),
    published=dt.datetime(2024, 5, 3, 14, 0),
    link=LINK,
)
EDGE_TEMPLATES = ("wpcom-reblog-card", "tumblr-quote", "archive-catalogue")


def _clean(body: str | bytes, url: str, content_type: str = "text/html; charset=UTF-8") -> Document:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return clean(RawPage(url, url, 200, {"content-type": content_type}, data, "2024-05-04T00:00:00Z"))


@pytest.mark.parametrize("name", EDGE_TEMPLATES)
def test_edge_templates_are_development_templates(name):
    assert name in wrapped_templates.DEV


@pytest.mark.parametrize("n", range(1, 9))
@pytest.mark.parametrize("name", EDGE_TEMPLATES)
def test_reposted_statement_is_kept_whole_without_the_reposters_words(name, n):
    page = wrapped_templates.render(name, STORY, Context(n, "An earlier post", "A later post"))
    doc = _clean(page.body, page.url, page.content_type)
    text = normalise_text(doc.text)
    for paragraph in STORY.paragraphs:
        assert normalise_text(paragraph) in text
    assert [c for c in page.cruft if normalise_text(c) in text] == []
    assert doc.title == STORY.title
    assert doc.claimed_original == LINK
    # the commentary is recorded as cut, not lost silently
    removed = normalise_text(" ".join(r.text for r in doc.removed))
    first_own = page.cruft[0]
    assert normalise_text(first_own) in removed


def _post(inner: str, title: str = STORY.title) -> str:
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{title} | Orchard Notes</title></head><body><header><a href="/">Orchard Notes</a>
<nav><a href="/about/">About</a></nav></header>
<main><article><h1>{title}</h1>
{inner}
</article></main><footer><p>Orchard Notes is written on weekends.</p></footer></body></html>"""


def _paras(paragraphs: tuple[str, ...] = STORY.paragraphs) -> str:
    return "\n".join(f"<p>{p}</p>" for p in paragraphs)


@pytest.mark.parametrize(
    "label",
    ["Fuente:", "Quelle :", "Source :", "来源：", "المصدر:", "Transcribed from", "Reblogged from", "via"],
)
def test_a_labelled_link_to_the_official_original_is_a_claim_whatever_the_language(label):
    page = _post(f'<p>{label} <a href="{LINK}">{STORY.title}</a></p>\n{_paras()}')
    doc = _clean(page, "https://orchard-notes.example/2024/05/partnership/")
    assert doc.claimed_original == LINK
    assert label.strip(":： ") not in doc.text
    assert normalise_text(STORY.paragraphs[0]) in normalise_text(doc.text)
    assert any(r.rule == "source_link" for r in doc.removed)


def test_a_preview_card_of_the_original_is_a_claim_and_not_text():
    card = (
        f'<div class="embed-card"><p class="card-title"><a href="{LINK}">{STORY.title}</a></p>'
        '<p class="card-host">www.state.gov</p></div>'
    )
    doc = _clean(_post(_paras() + card), "https://orchard-notes.example/2024/05/partnership/")
    assert doc.claimed_original == LINK
    assert "www.state.gov" not in doc.text
    assert doc.text.count(STORY.title) == 0


def test_a_citation_inside_prose_is_no_claim_and_keeps_its_sentence():
    cited = (
        "<p>Readers who want the background should know that the "
        f'<a href="{LINK}">State Department announced the partnership</a> in May, and that the regional '
        "groups had asked for it for years before any government took it up.</p>"
    )
    own = (
        "The county council has not said whether the shelters will be built near the old depot, "
        "which is what neighbours have asked for at every meeting since the winter."
    )
    doc = _clean(
        _post(f"{cited}<p>{own}</p><p>{own.replace('council', 'board')}</p>"),
        "https://orchard-notes.example/x/",
    )
    assert doc.claimed_original is None
    assert "State Department announced the partnership" in doc.text


def test_a_statements_own_pointer_to_an_official_page_stays_and_claims_nothing():
    pointer = f'<p>For more information, visit <a href="{LINK}">www.state.gov/partnership</a>.</p>'
    more = '<p>Learn more: <a href="https://www.state.gov/reports/">the annual reports</a></p>'
    doc = _clean(_post(_paras() + pointer + more), "https://orchard-notes.example/y/")
    assert doc.claimed_original is None
    assert "For more information, visit www.state.gov/partnership." in doc.text


def test_links_to_several_official_pages_are_references_not_a_claim():
    refs = "".join(
        f'<li><a href="https://www.state.gov/{slug}/">{title}</a></li>'
        for slug, title in (("tip-report", "Trafficking in Persons Report"), ("labor", "Labor Affairs"))
    )
    doc = _clean(_post(_paras() + f"<p>Sources:</p><ul>{refs}</ul>"), "https://orchard-notes.example/z/")
    assert doc.claimed_original is None


def test_an_article_arguing_with_a_quoted_statement_at_length_keeps_its_own_prose():
    argument = [
        "The announcement reads well, but anyone who has worked with seasonal crews here knows that "
        "recruitment fees are rarely paid to an agency with an office and a licence number.",
        "Most of the workers I have interviewed paid a cousin, a driver or a man at the bus station, "
        "and none of those people will ever appear on a list exchanged between governments.",
        "The shelters are the most promising part, yet the plan says nothing about who will staff "
        "them, how long a worker may stay, or whether a worker without papers can safely walk in.",
        "Inspectors also need the power to enter farms without notice; in our state they must call "
        "ahead, which gives an abusive employer a day to move people off the property.",
        "Until those questions are answered, I would read this partnership as a promise to talk, "
        "which is welcome, rather than as a change that a worker in our valley will notice this year.",
        "I will keep asking the regional office for answers and will publish what they send me, "
        "including the figures on referrals that the partners say they will make public in the autumn.",
        "In the meantime, the legal aid clinic downtown still answers calls from workers every "
        "weekday morning, and its volunteers speak four of the languages most common on local farms.",
    ]
    quoted = f"<blockquote>{_paras(STORY.paragraphs[:4])}</blockquote>"
    page = _post(f"<p>{argument[0]}</p>{quoted}" + "".join(f"<p>{a}</p>" for a in argument[1:]))
    doc = _clean(page, "https://orchard-notes.example/opinion/")
    text = normalise_text(doc.text)
    for a in argument:
        assert normalise_text(a) in text


def test_commentary_around_a_quoted_statement_goes_and_is_recorded():
    intro = (
        "A reader sent me this yesterday and asked what I thought; I will write more next week, "
        "but here it is in full for anyone who wants to read it first."
    )
    page = _post(
        f"<p>{intro}</p><blockquote>{_paras()}</blockquote><p>{intro.replace('yesterday', 'today')}</p>"
    )
    doc = _clean(page, "https://orchard-notes.example/repost/")
    assert "A reader sent me this" not in doc.text
    assert all(normalise_text(p) in normalise_text(doc.text) for p in STORY.paragraphs)
    assert any("A reader sent me this" in r.text for r in doc.removed)


def test_paragraphs_between_rules_are_the_statement_the_note_around_them_is_not():
    note = (
        "Posted at the request of our members, who asked for the wording of the announcement "
        "rather than a summary; our own comments follow at the next meeting."
    )
    page = _post(f"<p>{note}</p><p>---</p>{_paras()}<p>---</p><p>Kept by the reading group.</p>")
    doc = _clean(page, "https://orchard-notes.example/ruled/")
    assert "Posted at the request of our members" not in doc.text
    assert all(normalise_text(p) in normalise_text(doc.text) for p in STORY.paragraphs)


CREDITS = (
    "This text is part of the Orchard County Papers collection, item 4411.",
    "Digitised from Orchard Library holdings, item 52, on 3 May 2024.",
    "Retrieved from www.state.gov on May 4, 2024 for the reading room.",
)


@pytest.mark.parametrize("credit", CREDITS)
def test_a_catalogue_credit_line_at_an_edge_is_provenance(credit):
    for paragraphs in ([credit, *STORY.paragraphs], [*STORY.paragraphs, credit]):
        doc = clean_text("\n\n".join(paragraphs), url="https://orchard-library.example/item/1")
        assert credit not in doc.text
        assert all(p in doc.text for p in STORY.paragraphs)


def test_collection_words_inside_the_body_are_the_statements_own():
    inside = (
        "The partners will add the reports of inspectors to the national archives collection, item by "
        "item, by May 4, 2025."
    )
    paragraphs = [*STORY.paragraphs[:2], inside, *STORY.paragraphs[2:]]
    doc = clean_text("\n\n".join(paragraphs), url="https://orchard-library.example/item/2")
    assert inside in doc.text


def test_a_one_paragraph_statement_in_a_reblog_box_is_the_text_when_the_page_names_its_original():
    one = " ".join(STORY.paragraphs[:3])
    own = [
        "I read this on the bus this morning and it answered most of what my neighbours asked me at "
        "the meeting last month, so here it is for everyone who was there.",
        "The partnership is not the whole answer, but the shelters near the crossings are something we "
        "have asked the county about for years, and I will follow up with the council.",
    ]
    page = _post(
        "".join(f"<p>{p}</p>" for p in own)
        + f'<div class="reblog-box"><p>{one}</p></div>'
        + f'<p>Reblogged from <a href="{LINK}">www.state.gov</a></p>'
    )
    doc = _clean(page, "https://orchard-notes.example/reblog/")
    assert one in doc.text
    assert not any(o[:40] in doc.text for o in own)
    assert doc.claimed_original == LINK


def test_a_text_in_sections_between_rules_keeps_every_section():
    sections = [
        "The valley's orchards hired more seasonal workers this year than in any year since the mill "
        "closed, and most of them came through agencies in the city.",
        " ".join(STORY.paragraphs[:4]),
        "Next month we look at housing: where the crews sleep, who owns the buildings and what the "
        "inspectors found when they visited in the spring.",
    ]
    page = _post(f"<p>{sections[0]}</p><hr><p>{sections[1]}</p><hr><p>{sections[2]}</p>")
    doc = _clean(page, "https://orchard-notes.example/feature/")
    for s in sections:
        assert s in doc.text
