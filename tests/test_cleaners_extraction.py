"""The failure classes of extraction and line rules on pages nobody wrote rules for, one
hand-written page each: a statement in sibling sections, a table-layout aggregator, a page of
nothing but a cookie notice and a newsletter box, prose that mentions a "previous article",
a citation "originally published in 1966", Chinese prose, an infobox above the body."""

import pytest

from cleaners import CleanConfig, Rejected, clean
from cleaners.blocks import prune_structural
from cleaners.html import parse_html
from cleaners.layout import is_layout_table, mark_blocks
from cleaners.model import RawPage, normalise_text
from cleaners.prose import is_prose, word_count
from cleaners.region import content_region, coverage, looks_like_navigation
from cleaners.rules import Attribution, apply_line_rules

SECTIONS = [
    [
        "The United States and its partners reviewed the progress made since the last ministerial "
        "meeting on maritime security in the region and the work still ahead of the coast guards.",
        "Delegations agreed that information sharing between the coast guards had improved, and "
        "that joint patrols had reduced illegal fishing in the exclusive economic zones.",
    ],
    [
        "The second session turned to port security, where inspectors from five countries "
        "described how container screening had changed after the new rules took effect.",
        "Participants noted that smaller ports still lack the scanners the rules require and asked "
        "the donors present to consider a shared fund for equipment and training.",
    ],
    [
        "On search and rescue, the ministers endorsed a common radio protocol and a schedule of "
        "exercises that will rotate between the members of the group every year.",
        "They also asked the secretariat to publish the incident data it collects each quarter, so "
        "that researchers and the public can follow the results of the joint work.",
    ],
    [
        "The ministers will meet again next spring in Manila, where they expect to adopt a "
        "five-year plan and to welcome two new observers to the group.",
        "The United States thanks the host government for its hospitality and for the careful "
        "organisation of the meeting and its working groups.",
    ],
]
HEADINGS = ["Overview", "Port security", "Search and rescue", "Next steps"]


def _raw(html: str, url: str, content_type: str = "text/html; charset=utf-8") -> RawPage:
    return RawPage(
        url, url, 200, {"content-type": content_type}, html.encode("utf-8"), "2024-01-01T00:00:00Z"
    )


def _sectioned_page() -> str:
    parts = "\n".join(
        f'<div class="report-part" id="part{i}"><h3>{h}</h3>'
        + "".join(f"<p>{p}</p>" for p in paras)
        + '<p class="back"><a href="#top">Back to top</a></p></div>'
        for i, (h, paras) in enumerate(zip(HEADINGS, SECTIONS, strict=True), 1)
    )
    menu = "".join(f'<li><a href="/topic/{i}">Topic number {i}</a></li>' for i in range(30))
    return f"""<html><head><title>Ministerial Meeting on Maritime Security</title></head><body>
<div id="top" class="masthead"><a href="/">Department of State</a></div>
<ul class="topics">{menu}</ul>
<div class="main-column"><h1>Ministerial Meeting on Maritime Security</h1>
<div class="summary-box"><p>Media Note. Office of the Spokesperson. March 3, 2016.</p></div>
{parts}
</div>
<div class="bottom"><p>This site is managed by the Bureau of Public Affairs.</p></div>
</body></html>"""


def _all_paragraphs_in(text: str) -> list[str]:
    norm = normalise_text(text)
    return [p[:50] for paras in SECTIONS for p in paras if normalise_text(p) not in norm]


@pytest.mark.parametrize("first", ["full", "fast"])
def test_statement_in_sibling_sections_is_kept_whole_in_order(first):
    doc = clean(
        _raw(_sectioned_page(), "https://2009-2017.state.gov/r/pa/prs/ps/2016/03/1.htm"),
        CleanConfig(extraction=first),
    )
    assert _all_paragraphs_in(doc.text) == []
    positions = [normalise_text(doc.text).index(normalise_text(paras[0])) for paras in SECTIONS]
    assert positions == sorted(positions)
    assert doc.extraction in ("full", "fast", "region", "full+region", "fast+region")
    assert "Topic number 7" not in doc.text


def test_region_spans_sibling_sections_and_measures_what_a_text_kept():
    tree = parse_html(_sectioned_page())
    region = content_region(tree)
    assert region is not None and region.sections == 4
    first_section = "\n\n".join(SECTIONS[0])
    assert coverage(first_section, region) < 0.4
    assert coverage("\n\n".join(p for paras in SECTIONS for p in paras), region) == 1.0
    menu = "\n".join(f"Topic number {i}" for i in range(30))
    assert looks_like_navigation(menu, region)
    assert not looks_like_navigation(first_section, region)


TABLE_BODY = [
    "The Embassy of the United States congratulates the people of the island on the fortieth "
    "anniversary of their independence and on four decades of democratic government.",
    "Our two countries share a long history of cooperation in trade, in disaster relief and in the "
    "education of young people, and we look forward to many more years of partnership.",
    "On this day we also remember the volunteers who rebuilt schools and clinics after the storms, "
    "and the families who opened their homes to neighbours who had lost everything.",
]


def _table_layout_page() -> str:
    nav = " | ".join(
        f'<a href="/{w.lower()}.html">{w}</a>' for w in ("Home", "News", "Archive", "Links", "About")
    )
    story = "<br><br>".join(TABLE_BODY)
    # the whole page on one source line, as hand-made sites of the 1990s wrote them
    return (
        "<html><head><title>Island Weekly</title></head><body><table width=780><tr><td colspan=2>"
        f'<font size=2 color="#ffffff"><b>ISLAND WEEKLY</b> {nav}</font></td></tr><tr>'
        '<td width=140 valign=top><font size=1><b>ARCHIVE</b><br><a href="/a/1">June</a><br>'
        '<a href="/a/2">May</a></font></td><td valign=top><font size=4><b>Embassy Congratulates '
        "the Island on Forty Years of Independence</b></font><br><br><div><font size=2>"
        f"{story}</font></div></td></tr></table></body></html>"
    )


def test_table_layout_aggregator_keeps_the_story_and_drops_the_nav_row():
    doc = clean(_raw(_table_layout_page(), "http://island-weekly.example/2021/07/embassy.html"))
    for para in TABLE_BODY:
        assert normalise_text(para) in normalise_text(doc.text)
    assert "ISLAND WEEKLY" not in doc.text
    assert "Home | News" not in doc.text
    # every paragraph on its own line: no line holds the nav row and the story together
    assert all(len(line) < 400 for line in doc.text.split("\n"))


def test_layout_tables_become_blocks_and_data_tables_stay():
    tree = parse_html(
        "<html><body><table id=layout><tr><td>Menu</td><td><div><p>Story text here.</p></div></td></tr>"
        "</table><table id=data><tr><th>Country</th><th>Votes</th></tr><tr><td>Chile</td><td>12</td></tr>"
        "</table></body></html>"
    )
    assert is_layout_table(tree.get_element_by_id("layout"))
    assert not is_layout_table(tree.get_element_by_id("data"))
    assert mark_blocks(tree) == 1
    assert tree.get_element_by_id("layout").tag == "div"
    assert tree.get_element_by_id("data").tag == "table"


NOTES = [
    "She put out the fire in the storeroom with a jet of water before the guards arrived, and the "
    "records kept there were saved.",
    "He used it twice during the long crossing, once to fill the casks and once to cool the engine "
    "that had overheated in the afternoon sun.",
    "Used it to water the garden of the embassy residence during the drought of that summer.",
]


def _records_table(head: str = "<tr><th>Who</th><th>When</th><th>Notes</th></tr>") -> str:
    rows = "".join(
        f"<tr><td><a href='/p/{i}'>Person {i}</a></td><td>{1990 + i}</td><td><p>{note}</p><p>See the "
        f"second account of the same event in the records of the period, which differs.</p></td></tr>"
        for i, note in enumerate(NOTES)
    )
    return f"<table class='grid'>{head}{rows}</table>"


def test_table_of_records_with_paragraphs_in_its_cells_stays_a_table_and_is_kept():
    # cells holding <p> blocks would make it a layout table, but it has column headers
    tree = parse_html(f"<html><body><div>{_records_table()}</div></body></html>")
    assert not is_layout_table(tree.find(".//table"))
    assert mark_blocks(tree) == 0 and tree.find(".//table") is not None
    intro = " ".join(f"<p>{p}</p>" for p in TABLE_BODY)
    doc = clean(
        _raw(
            f"<html><body><article><h1>Water</h1>{intro}{_records_table()}</article></body></html>",
            "http://wiki.example/Water",
        )
    )
    assert all(normalise_text(n) in normalise_text(doc.text) for n in NOTES)


def test_a_table_without_column_headers_is_still_a_layout_table():
    tree = parse_html(f"<html><body>{_records_table(head='')}</body></html>")
    assert is_layout_table(tree.find(".//table"))
    # nor is a header row over rows wider than it a grid of records
    wide = _records_table().replace("</td></tr>", "</td><td>x</td></tr>")
    assert is_layout_table(parse_html(f"<html><body>{wide}</body></html>").find(".//table"))


def test_text_after_an_image_box_becomes_a_block_and_is_kept():
    first = (
        "Anchor: After heavy rain on Monday, Tuesday morning brought strong, cold winds and the first "
        "cold wave alerts of the season, and Wednesday is forecast to be colder still."
    )
    page = (
        "<html><body><div class='body-text'><div class='img-box'><div class='photo'><img src='a.jpg'>"
        "</div><p class='caption'>Photo: Agency</p></div>"
        f"{first}<br>Our reporter has more.<br><br>{TABLE_BODY[0]}<br><br>{TABLE_BODY[1]}<br><br>"
        f"{TABLE_BODY[2]}</div></body></html>"
    )
    tree = parse_html(page)
    mark_blocks(tree)
    box = tree.find(".//div[@class='img-box']")
    assert not (box.tail or "").strip() and first in box.getnext().text_content()
    doc = clean(_raw(page, "http://radio.example/news?id=3"))
    assert normalise_text(first) in normalise_text(doc.text)


def test_a_tail_inside_a_list_item_after_inline_markup_or_too_short_for_prose_stays_where_it_is():
    tree = parse_html(
        "<html><body><ul><li>One <div>odd</div> and a tail.</li></ul><div><i>x</i> y</div>"
        "<div><h2>Title</h2>Posted by the editor under <a href='/n'>News</a></div></body></html>"
    )
    before = [(el.tag, el.tail) for el in tree.iter()]
    mark_blocks(tree)
    assert [(el.tag, el.tail) for el in tree.iter()] == before


def test_cookie_and_newsletter_page_is_rejected_as_boilerplate():
    page = """<html><head><title>News | The Gazette</title><meta property="og:title" content="News"></head>
<body><div id="site"><a href="/">The Gazette</a><ul><li><a href="/">Home</a></li><li><a href="/news/">News</a>
</li></ul></div><div id="content"><h1>News</h1><div class="promo-box"><h2>The morning letter</h2>
<p>Every weekday morning, one message with what happened overnight. Leave your address and we will do
the rest; you can stop whenever you like with one click.</p><form><input type="email" name="addr">
<button>Send it to me</button></form></div></div>
<div class="cookiebar" role="dialog"><p>We keep small files on your device to remember your choices and to
count visits. Some come from partners who measure audiences.</p><button>Accept all</button>
<button>Necessary only</button></div></body></html>"""
    with pytest.raises(Rejected) as err:
        clean(_raw(page, "https://gazette.example/news/"))
    assert err.value.reason == "boilerplate_only"


BODY = (
    "The delegation met with labor inspectors and civil society groups to review how both countries "
    "identify victims of forced labor in agriculture and how shelters receive them."
)

BODY2 = (
    "Officials agreed to meet again before the end of the year and to publish a joint summary of the "
    "recommendations that came out of the working sessions."
)


def test_previous_article_in_prose_is_kept():
    sentence = (
        "As I explained in my previous article, the inspectors now visit farms without notice, and "
        "their reports go straight to the labor ministry"
    )
    kept, removals, _ = apply_line_rules([BODY, sentence, BODY], title=None, att=Attribution())
    assert sentence in kept
    assert removals == [] or all(r.text != sentence for r in removals)


def test_citation_originally_published_is_prose_and_no_claim():
    citations = [
        "Smith, J. (1966). The Long Peace. Harbor Press, pp. 12-19. "
        "Originally published in 1966 as a pamphlet.",
        "Editor's note: this essay was originally published in 1966 and is reprinted here in full, "
        "with the footnotes of the first edition.",
    ]
    att = Attribution()
    kept, removals, _ = apply_line_rules([BODY, *citations, BODY, BODY], title=None, att=att)
    for c in citations:
        assert c in kept
    assert att.claimed_original is None and att.publisher is None
    # where an attribution stands, it is still read
    att = Attribution()
    line = "This article was originally published on https://www.state.gov/statement-on-labor/."
    kept, removals, _ = apply_line_rules([BODY, BODY, line], title=None, att=att)
    assert line not in kept
    assert att.claimed_original == "https://www.state.gov/statement-on-labor/"


def test_chinese_prose_is_not_a_navigation_line():
    prose = (
        "美国国务卿安东尼·布林肯今天与来访的外交部长举行会谈·双方讨论了地区安全、气候变化以及两国人民之间的交流。"
        "布林肯表示，美方愿意继续加强合作，并期待在年底前再次会面。"
    )
    assert word_count(prose) > 50 and is_prose(prose)
    kept, removals, _ = apply_line_rules([prose, prose + "双方同意保持沟通。"], title=None, att=Attribution())
    assert prose in kept and removals == []


def test_rule_refuses_to_cut_prose_and_records_it():
    line = (
        "Topics: the delegation discussed trade, energy security and the protection of workers in "
        "agriculture. Both sides agreed to continue the dialogue on labor inspectors next month."
    )
    att = Attribution()
    kept, removals, _ = apply_line_rules([BODY, line, BODY2], title=None, att=att)
    assert line in kept
    assert [(r.rule, r.text) for r in att.refused] == [("tags_line", line)]
    # the same rule still cuts a real tag line
    kept, removals, _ = apply_line_rules(
        [BODY, "Topics: labor, Mexico", BODY2], title=None, att=Attribution()
    )
    assert [r.rule for r in removals] == ["tags_line"]


def test_infobox_row_never_replaces_the_title():
    page = """<html><head><title>Ambassador Visits Northern Border Crossing</title>
<meta property="og:title" content="Ambassador Visits Northern Border Crossing"></head><body><article>
<h1>Ambassador Visits Northern Border Crossing</h1>
<table class="infobox"><tr><td>Ambassador Visits Northern Border Crossing Point</td><td>Region North</td></tr>
<tr><td>Date</td><td>May 2</td></tr></table>
<p>The Ambassador visited the northern border crossing on Tuesday to meet customs officers and review the new
inspection lanes that opened this spring with support from the United States.</p>
<p>She thanked the officers for their work and announced training for one hundred more inspectors before the
end of the year, in cooperation with the national customs service.</p></article></body></html>"""
    doc = clean(_raw(page, "https://northville.example/2024/05/ambassador-visits/"))
    assert doc.title == "Ambassador Visits Northern Border Crossing"


def test_structural_blocks_are_found_by_what_they_hold():
    """Boxes named by no class: a sign-up form, a sign-in form and a picker are each cut as the
    smallest block holding them; a dialog, a hidden block and an "On this page" list go too."""
    prose = " ".join(SECTIONS[0] + SECTIONS[1])
    options = "".join(f"<option>Country {i}</option>" for i in range(8))
    page = (
        "<html><body><main>"
        "<div><div><p>Get every statement by e-mail, the day it is published.</p><form>"
        '<input name="user_email"></form></div></div>'
        f"<p>{prose}</p>"
        '<div><p>Sign in to save the statements you follow.</p><form><input type="password"></form></div>'
        f"<div><label>Choose a country <select>{options}</select></label></div>"
        '<div role="dialog"><p>Build your custom report</p></div>'
        "<div hidden><p>Loading the archive</p></div>"
        '<ul aria-label="On this page"><li>Overview</li><li>Discussion</li></ul>'
        "<p>A short closing line of the page.</p>"
        "</main></body></html>"
    )
    tree = parse_html(page)
    removed = [(r.rule, r.text) for r in prune_structural(tree, len(tree.body.text_content()))]
    assert removed == [
        ("newsletter", "Get every statement by e-mail, the day it is published."),
        ("login_box", "Sign in to save the statements you follow."),
        ("picker", "Choose a country " + "".join(f"Country {i}" for i in range(8))),
        ("overlay", "Build your custom report"),
        ("overlay", "Loading the archive"),
        ("table_of_contents", "OverviewDiscussion"),
    ]
    left = normalise_text(tree.body.text_content())
    assert normalise_text(prose) in left and "closing line" in left and "Loading the archive" not in left
