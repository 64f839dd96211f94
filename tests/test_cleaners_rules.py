"""One fixture per cruft rule: the line it must cut, what it must read from it, and a body
sentence near it that must survive. Every rule in the tables needs a case here."""

from datetime import date

import pytest
from lxml.html import fromstring

from cleaners.blocks import BLOCK_RULES, prune_blocks
from cleaners.rules import LINE_RULES, Attribution, apply_line_rules, normalise_publisher, parse_source_line

BODY = (
    "The delegation met with labor inspectors and civil society groups to review how both countries "
    "identify victims of forced labor in agriculture and how shelters receive them."
)
BODY2 = (
    "Officials agreed to meet again before the end of the year and to publish a joint summary of the "
    "recommendations that came out of the working sessions."
)
TITLE = "Ambassador Meets Labor Inspectors in Monterrey"

# rule -> (paragraphs, index of the line the rule must cut, title, expected attribution fields)
CASES: dict[str, tuple[list[str], int, str | None, dict[str, object]]] = {
    "official_news_published_at": (
        [BODY, "Official news published at https://www.state.gov/ambassador-meets-labor-inspectors/", BODY2],
        1,
        None,
        {"claimed_original": "https://www.state.gov/ambassador-meets-labor-inspectors/"},
    ),
    "originally_published_at": (
        [
            BODY,
            BODY2,
            "Press Releases – United States Department of State originally published at Press Releases – "
            "United States Department of State",
        ],
        2,
        None,
        {"publisher": "U.S. Department of State"},
    ),
    "read_more_at": (
        [BODY, "Read more at https://mx.usembassy.gov/labor-inspectors/ »"],
        1,
        None,
        {"claimed_original": "https://mx.usembassy.gov/labor-inspectors/"},
    ),
    "fair_use_notice": (
        [BODY, "FAIR USE NOTICE: we repost this for study and comment; owners keep every right to it."],
        1,
        None,
        {},
    ),
    "wire_disclaimer": (
        [
            BODY,
            "Newsdesk distributes this release on behalf of the issuing office and accepts no "
            "responsibility for its accuracy.",
        ],
        1,
        None,
        {},
    ),
    "wire_header": (
        ["Global Releases | Media Note | April 2, 2024", BODY],
        0,
        None,
        {"doc_type": "media note"},
    ),
    "doc_type_byline": (
        ["Press Statement – Jane Q. Example, Secretary of State", BODY],
        0,
        None,
        {
            "doc_type": "press statement",
            "speaker": "Jane Q. Example, Secretary of State",
            "publisher": "U.S. Department of State",
        },
    ),
    "wire_dateline": (["MONTERREY, Apr. 2 (Newsdesk) -- " + BODY], 0, None, {}),
    "source_line": (
        [BODY, "Press release, Apr. 2, 2024, Embassy of the United States, Mexico City"],
        1,
        None,
        {"publisher": "U.S. Embassy Mexico City", "published": date(2024, 4, 2), "doc_type": "press release"},
    ),
    "embassy_meta_line": (
        ["By U.S. Mission Mexico | 2 April, 2024 | Topics: Press Releases", BODY],
        0,
        None,
        {"publisher": "U.S. Mission Mexico", "published": date(2024, 4, 2)},
    ),
    "official_banner": (
        ["An official website of the United States government Here's how you know", BODY],
        0,
        None,
        {},
    ),
    "external_link_disclaimer": (
        [
            BODY,
            "External links to other Internet sites should not be construed as an endorsement of the views "
            "therein.",
        ],
        1,
        None,
        {},
    ),
    "embassy_footer": ([BODY, "Privacy Policy"], 1, None, {}),
    "copyright_notice": ([BODY, "© 2024 Example Daily. All rights reserved."], 1, None, {}),
    "share_bar": ([BODY, "Share/Save/Bookmark Tell a Friend"], 1, None, {}),
    "share_heading": ([BODY, "Be the first to like this."], 1, None, {}),
    "prev_next_post": ([BODY, "Embassy Hosts Job Fair Previous post Embassy Hosts Job Fair"], 1, None, {}),
    "nav_line": (["Home | Briefs | Watchlist | Contact", BODY], 0, None, {}),
    "breadcrumb": (["Home › News › Press Releases", BODY], 0, None, {}),
    "tags_line": (
        [BODY, "Tags: forced labor, Mexico, inspections"],
        1,
        None,
        {"tags": ["forced labor", "Mexico", "inspections"]},
    ),
    "comment_block": ([BODY, "Leave a Reply", "Great news, thanks for posting", "Name"], 1, None, {}),
    "comment_form": (
        [BODY, "Your email address will not be published. Required fields are marked *"],
        1,
        None,
        {},
    ),
    "newsletter": ([BODY, "Sign up for our newsletter and get every statement in your inbox."], 1, None, {}),
    "related_block": (
        [BODY, "Related posts", "Embassy Hosts Job Fair", "Consulate Opens in Tijuana"],
        1,
        None,
        {},
    ),
    "meta_line": (["Release Date:", BODY], 0, None, {}),
    "image_credit": ([BODY, "(Credit: Jane Roe / Example Daily)"], 1, None, {}),
    "homoglyph_spam": ([BODY, "Аdvеrtіѕе wіth thе biggest news sitе in town!"], 1, None, {}),
    "source_credit": ([BODY, "EXAMPLENEWS.COM"], 1, None, {}),
    "repeated_title": ([TITLE, BODY], 0, TITLE, {}),
    "repeated_line": ([BODY, BODY], 1, None, {}),
    "byline": (["Office of the Spokesperson", BODY], 0, None, {"speaker": "Office of the Spokesperson"}),
    "doc_type_line": (["Readout", BODY], 0, None, {"doc_type": "readout"}),
    "dateline": (["Tuesday, April 2, 2024", BODY], 0, None, {"dateline": date(2024, 4, 2)}),
    "source_header": (["U.S. Embassy - Mexico", BODY], 0, None, {"publisher": "U.S. Embassy Mexico"}),
    "source_url_line": (
        [BODY, BODY2, "Where it came from: https://www.state.gov/ambassador-meets-labor-inspectors/"],
        2,
        None,
        {"claimed_original": "https://www.state.gov/ambassador-meets-labor-inspectors/"},
    ),
    "footer_separator": (
        [BODY, BODY2, "--", "Jo Example, keeper of the list", "lists.example.org"],
        2,
        None,
        {},
    ),
    "place_line": (
        ["Press Statement", "Jane Q. Example, Spokesperson", "Washington, DC", BODY],
        2,
        None,
        {"doc_type": "press statement"},
    ),
    "forward_marker": (
        ["---------- Forwarded message ---------", "From: Press Office", "Date: April 2, 2024", BODY],
        0,
        None,
        {},
    ),
    "generator_line": (
        [BODY, BODY2, "This archive was put together by hand and generated by listkeeper 2.1"],
        2,
        None,
        {},
    ),
    "rule_line": (["=" * 40, BODY], 0, None, {}),
    "released_on": ([BODY, BODY2, "Released on April 2, 2024"], 2, None, {"dateline": date(2024, 4, 2)}),
    "signed_note": (["Sharing this one for the reading group, as it reached us. -- JQ", BODY], 0, None, {}),
    "header_field": (
        ["Subject: Ambassador Meets Labor Inspectors", "Sent: April 2, 2024", BODY],
        0,
        None,
        {"subject": "Ambassador Meets Labor Inspectors", "dateline": date(2024, 4, 2)},
    ),
}
# rules that read an official page's own header: their case runs as an official page
OFFICIAL_CASES = frozenset(("place_line",))


def test_every_line_rule_has_a_case():
    assert {r.name for r in LINE_RULES} == set(CASES)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_line_rule(rule):
    paragraphs, index, title, expected = CASES[rule]
    att = Attribution()
    kept, removals, _ = apply_line_rules(paragraphs, title=title, att=att, official=rule in OFFICIAL_CASES)
    target = paragraphs[index]
    fired = [r for r in removals if r.text in target]
    assert fired and fired[0].rule == rule, removals
    # the body sentences survive whole
    for body in (BODY, BODY2):
        if any(body in p for p in paragraphs) and rule not in ("repeated_line",):
            assert body in kept
    for field, value in expected.items():
        assert getattr(att, field) == value, field


def test_related_heading_mid_article_takes_only_the_listed_titles():
    paras = [BODY, "Related", "Embassy Hosts Job Fair", "Consulate Opens in Tijuana", BODY2]
    kept, removals, _ = apply_line_rules(paras, title=None, att=Attribution())
    assert kept == [BODY, BODY2]
    assert [r.text for r in removals] == ["Related", "Embassy Hosts Job Fair", "Consulate Opens in Tijuana"]


def test_table_rows_are_not_navigation():
    row = "| Country | Tier | Change |"
    kept, _, _ = apply_line_rules([BODY, row, BODY2], title=None, att=Attribution())
    assert row in kept


def test_rest_rules_only_fire_after_body_text():
    # "Related posts" as the first line is not the tail of an article
    kept, removals, _ = apply_line_rules(["Related posts", BODY, BODY2], title=None, att=Attribution())
    assert kept[-2:] == [BODY, BODY2]


@pytest.mark.parametrize(
    "sentence",
    [
        "The next article of the agreement sets out how inspections are shared between the two labor "
        "ministries.",
        "Citizens can sign up for security updates from the Embassy through the Smart Traveler Enrollment "
        "Program.",
        "Home ministries in both countries will coordinate the response, the Ambassador said on Tuesday.",
        "Tags on the shipping containers allowed inspectors to trace the goods back to the farms.",
    ],
)
def test_body_sentences_that_look_like_cruft_survive(sentence):
    kept, removals, _ = apply_line_rules([BODY, sentence, BODY2], title=None, att=Attribution())
    assert sentence in kept, removals


@pytest.mark.parametrize(
    "line,expected",
    [
        (
            "Press release, Mar. 3, 2015, Embassy of the United States, Mexico City",
            ("press release", date(2015, 3, 3), "U.S. Embassy Mexico City"),
        ),
        (
            "Media Note, March 3, 2023, Office of the Spokesperson",
            ("media note", date(2023, 3, 3), "U.S. Department of State"),
        ),
        (
            "Statement, 12 June 2022, U.S. Embassy in Ottawa",
            ("statement", date(2022, 6, 12), "U.S. Embassy Ottawa"),
        ),
        ("Press release, some day, Embassy of the United States", None),
        ("Statement, April 4, 2024, by a local football club", None),
    ],
)
def test_parse_source_line(line, expected):
    assert parse_source_line(line) == expected


@pytest.mark.parametrize(
    "name,expected",
    [
        ("Embassy of the United States, Mexico City", "U.S. Embassy Mexico City"),
        ("U.S. Embassy in Mexico", "U.S. Embassy Mexico"),
        ("Consulate General of the United States in Monterrey", "U.S. Consulate General Monterrey"),
        ("United States Department of State", "U.S. Department of State"),
    ],
)
def test_normalise_publisher(name, expected):
    assert normalise_publisher(name) == expected


# --- block rules ------------------------------------------------------------------------------

ARTICLE = "<div class='entry-content'>" + "".join(f"<p>{BODY} ({i})</p>" for i in range(8)) + "</div>"
BLOCK_CASES = {
    "official_banner": "<section class='usa-banner'><p>An official website of the United States "
    "government</p></section>",
    "official_hero": "<section class='wp-block-default-hero-container'><h1 "
    "class='featured-content__headline'>T</h1><p class='doctype-meta'>Readout</p></section>",
    "breadcrumb": "<nav class='breadcrumbs'><a href='/'>Home</a> › <a href='/news/'>News</a></nav>",
    "share_bar": "<div class='share-buttons'>Share: <a href='#'>Facebook</a> <a href='#'>X</a></div>",
    "related_block": "<section class='related-posts'><h3>Related posts</h3><ul><li><a href='/a'>Another "
    "statement</a></li></ul></section>",
    "prev_next_post": "<nav class='navigation post-navigation'><div class='nav-previous'><a href='/p'>Older "
    "statement Previous post</a></div></nav>",
    "tags_block": "<div class='entry-tags'>Tags: <a rel='tag' href='/t/x'>forced labor</a></div>",
    "comment_block": "<div id='respond' class='comment-respond'><h3>Leave a "
    "Reply</h3><form><textarea></textarea></form></div>",
    "newsletter": "<aside class='newsletter-box'><h3>Daily email</h3><p>Sign up</p></aside>",
    "embassy_footer": "<div class='external-link-disclaimer'><p>Links to outside websites are given for "
    "reference only.</p></div>",
}


def test_every_block_rule_has_a_case():
    assert {r.name for r in BLOCK_RULES} == set(BLOCK_CASES)


@pytest.mark.parametrize("rule", sorted(BLOCK_CASES))
def test_block_rule(rule):
    tree = fromstring(f"<html><body><article>{BLOCK_CASES[rule]}{ARTICLE}</article></body></html>")
    removals = prune_blocks(tree, 5000)
    assert [r.rule for r in removals] == [rule]
    assert tree.text_content().count(BODY) == 8


def test_block_rule_spares_a_wrapper_holding_the_article():
    # a theme that calls the article wrapper "post-share-wrap" must not lose the article
    tree = fromstring(f"<html><body><div class='post-share-wrap'>{ARTICLE}</div></body></html>")
    assert prune_blocks(tree, 5000) == []
    assert tree.text_content().count(BODY) == 8
