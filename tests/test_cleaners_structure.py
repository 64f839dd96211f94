"""The page's own structure decides what is cruft: titles that agree with `<title>`, mail
bodies in `<pre>`, statements reposted as a quotation, small print, header and footer lines.

Every page here is written for the test, modelled on the structure of its kind of site."""

from __future__ import annotations

import datetime as dt

from lxml.html import fromstring

from cleaners import Document, clean, clean_text
from cleaners.blocks import prune_blocks
from cleaners.core import split_paragraphs
from cleaners.layout import mark_blocks
from cleaners.model import RawPage, normalise_text
from cleaners.rules import Attribution, apply_line_rules
from cleaners.titles import (
    agreeing_heading,
    headline_above,
    nav_texts,
    reads_as_title,
    strip_list_tag,
    title_after_dateline,
)
from tests.fixtures.web import wrapped_templates
from tests.fixtures.web.wrapkit import Context, Story

P1 = (
    "The Department welcomes the agreement reached today by the two governments to open their "
    "border crossings to humanitarian convoys for the coming month."
)
P2 = (
    "Aid agencies will be able to move food, medicine and shelter materials to the districts that "
    "the floods cut off from the rest of the country last week."
)
P3 = (
    "We urge all parties to respect the agreement and to let the convoys pass without delay, so "
    "that families receive help before the rains return."
)
TITLE = "Agreement on Humanitarian Convoys Across the Northern Border"
ORIGINAL = "https://www.state.gov/agreement-on-humanitarian-convoys/"


def _clean(html: str, url: str = "https://reposts.example/t/1") -> Document:
    return clean(
        RawPage(
            url=url,
            final_url=url,
            status=200,
            headers={"content-type": "text/html; charset=utf-8"},
            body=html.encode(),
            fetched_at="2024-01-01T00:00:00Z",
        )
    )


# --- titles ------------------------------------------------------------------------------------


def test_the_heading_that_agrees_with_the_title_wins_over_the_banner_heading():
    html = (
        "<html><head><title>Pine Hollow Jottings: " + TITLE + "</title></head><body>"
        "<div class='header-outer'><h1><a href='/'>Pine Hollow Jottings</a></h1></div>"
        f"<div class='post'><h3>{TITLE}</h3><p>{P1}</p><p>{P2}</p><p>{P3}</p></div></body></html>"
    )
    assert _clean(html, "https://pinehollow.example/2024/05/x.html").title == TITLE


def test_of_two_headings_that_make_up_the_title_the_first_is_the_site():
    # no banner markup: the site's heading simply comes first
    tree = fromstring(
        "<html><head><title>Short Note - Valley Civic Forum</title></head><body>"
        "<h1>Valley Civic Forum</h1><h2>Short Note</h2><p>text</p></body></html>"
    )
    assert agreeing_heading(tree, ["Short Note - Valley Civic Forum"], None, "forum.example") == "Short Note"


def test_a_title_with_its_own_dash_is_kept_whole():
    title = "Department Press Briefing – May 6, 2024"
    html = (
        f"<html><head><title>{title} | The Evening Ledger</title></head><body>"
        f"<h1 class='entry-title'>{title}</h1><p>{P1}</p><p>{P2}</p></body></html>"
    )
    assert _clean(html, "https://ledger.example/2024/05/06/briefing/").title == title


def test_a_mailing_list_tag_is_not_part_of_the_subject():
    assert strip_list_tag("[Civic-L] Re: Fwd: " + TITLE) == TITLE
    tree = fromstring(f"<html><head><title>[Civic-L] {TITLE}</title></head><body><h1>[Civic-L] {TITLE}</h1>")
    assert agreeing_heading(tree, [f"[Civic-L] {TITLE}"], None, "lists.example") == TITLE


def test_a_lone_site_heading_is_not_taken_for_the_title():
    tree = fromstring(
        f"<html><head><title>{TITLE} - Ridge</title></head><body><h1>Ridge</h1><p>text</p></body></html>"
    )
    assert agreeing_heading(tree, [f"{TITLE} - Ridge"], None, "example.org") is None


# --- mail archives and text files --------------------------------------------------------------


def _wrapped(text: str, width: int = 68) -> str:
    import textwrap

    return textwrap.fill(text, width)


SIGNATURE = "-- "  # the signature separator, trailing blank included
MAIL = f"""<html><head><title>[Civic-L] {TITLE}</title></head><body>
<h1>[Civic-L] {TITLE}</h1>
<b>Ada Example</b> <a href="mailto:civic-l@lists.example">ada at lists.example</a><br>
<i>Tue May  7 09:14:02 UTC 2024</i>
<ul><li>Previous message (by thread): <a href="1.html">[Civic-L] Library hours</a></li>
<li>Next message (by thread): <a href="3.html">[Civic-L] Bake sale</a></li>
<li><b>Messages sorted by:</b> <a href="date.html">[ date ]</a> <a href="thread.html">[ thread ]</a>
<a href="subject.html">[ subject ]</a> <a href="author.html">[ author ]</a></li></ul>
<hr>
<pre>Forwarding as it came in this morning. -- AE

{_wrapped(P1)}

{_wrapped(P2)}

{_wrapped(P3)}

{SIGNATURE}
Ada Example, keeper of this list
_______________________________________________
Civic-L mailing list
https://lists.example/mailman/listinfo/civic-l
</pre>
<hr>
</body></html>"""


def test_a_mail_archive_message_keeps_only_the_message():
    doc = _clean(MAIL, "https://lists.example/pipermail/civic-l/2024-May/000002.html")
    assert doc.title == TITLE
    assert doc.text == "\n\n".join((P1, P2, P3))
    rules = {r.rule for r in doc.removed}
    assert {"prev_next_post", "nav_line", "signed_note", "footer_separator"} <= rules


def test_a_pre_of_code_stays_a_pre():
    code = "\n".join(f"    value_{i} = compute(value_{i - 1}, factor={i})" for i in range(1, 12))
    tree = fromstring(f"<html><body><pre>{code}</pre></body></html>")
    mark_blocks(tree)
    assert tree.xpath("//pre")


def test_hard_wrapped_paragraphs_are_joined_even_when_a_line_ends_a_sentence():
    block = _wrapped(P1 + " " + P2, 60)
    assert split_paragraphs(block) == [P1 + " " + P2]


def test_a_heading_over_one_paragraph_is_not_a_wrapped_line():
    heading = "Joint Statement on the Second Round of the Coastal Dialogue"
    block = f"{heading}\n{P1}"
    assert split_paragraphs(block) == [heading, P1]
    two = _wrapped(P1, 60).split("\n")[:2]  # a paragraph wrapped over two lines stays one
    assert split_paragraphs("\n".join(two)) == [" ".join(two)]


def test_a_text_archive_file_gives_its_subject_its_text_and_its_original():
    text = (
        "RIVERSIDE TEXT SHELF -- file 2024-05-07.txt\n"
        "[ shelf index ] [ by year ] [ search ] [ mirrors ]\n" + "=" * 60 + "\n\n"
        f"Subject:   {TITLE}\n"
        "Released:  May 7, 2024\n"
        "Shelved:   2024-05-08 by the evening volunteers\n\n" + "-" * 60 + "\n\n"
        f"{_wrapped(P1)}\n\n{_wrapped(P2)}\n\n{_wrapped(P3)}\n\n" + "-" * 60 + "\n"
        f"Taken from: {ORIGINAL}\n"
        "Texts on this shelf are public documents; report a broken file to the desk.\n"
        "[ back to the shelf ] [ previous ] [ next ]\n"
    )
    doc = clean_text(text, url="https://shelf.example/files/2024-05-07.txt")
    assert doc.title == TITLE
    assert doc.text == "\n\n".join((P1, P2, P3))
    assert doc.claimed_original == ORIGINAL


def test_a_labelled_official_url_inside_the_prose_is_no_claim():
    cited = f"The full agreement is posted here: {ORIGINAL}"
    att = Attribution()
    kept, _, _ = apply_line_rules([P1, cited, P2, P3], title=None, att=att)
    assert cited in kept and att.claimed_original is None


def test_a_rule_line_between_prose_paragraphs_is_kept_with_what_follows():
    att = Attribution()
    lines = [P1, "* * *", P2, P3, "-----", "Contact: press office"]
    kept, _, _ = apply_line_rules(lines, title=None, att=att)
    assert kept[:4] == [P1, "* * *", P2, P3]
    assert "Contact: press office" not in kept


def test_a_footer_longer_than_the_text_above_it_is_not_cut():
    short = "The Department welcomes the agreement reached today on humanitarian convoys, a step we support."
    tail = [P1, P2, P3]
    att = Attribution()
    kept, _, _ = apply_line_rules([short, "-----", *tail], title=None, att=att)
    assert kept == [short, "-----", *tail]


def test_transcript_speakers_are_not_header_fields():
    lines = ["MODERATOR: Good afternoon.", "QUESTION: Thank you.", P1, P2]
    kept, _, _ = apply_line_rules(lines, title=None, att=Attribution())
    assert kept == lines


def test_an_alert_s_own_fields_are_not_a_message_header():
    """A copy of a security alert opens with its own "Label: value" lines; only a block holding a
    message header field (From, Date, Subject...) is a header to cut."""
    alert = [
        "Location: Harbour district and the coastal roads south of the river mouth.",
        "Event: Demonstrations are expected near the port on Saturday afternoon.",
        P1,
        P2,
    ]
    kept, _, _ = apply_line_rules(alert, title=None, att=Attribution())
    assert kept == alert
    message = ["From: press office", "Date: Tue May 07, 2024", "Subject: " + TITLE, P1, P2]
    att = Attribution()
    kept, _, _ = apply_line_rules(message, title=None, att=att)
    assert kept == [P1, P2] and att.subject == TITLE


# --- reposts, small print -----------------------------------------------------------------------


FORUM = f"""<html><head><title>{TITLE} - Millbrook Board</title></head><body>
<div class="headerbar" role="banner"><h1>Millbrook Board</h1><p>Talk of the valley</p></div>
<div class="page-body"><h2 class="topic-title">{TITLE}</h2>
<div class="post"><p class="author">by <b>riverwatch</b> on Tue May 07, 2024</p>
<div class="content">Here is all of it, their site keeps timing out:<br><br>
<blockquote><div><cite>The press office wrote:</cite>{P1}<br><br>{P2}<br><br>{P3}</div></blockquote>
Move this if it belongs elsewhere.</div>
<div class="signature">riverwatch: counting herons since 2011.</div></div>
<div class="post"><p class="author">by <b>fernlea</b></p>
<div class="content">Thanks, that helps a lot. I could not open their page at all this week
and wondered what was agreed.</div></div>
</div><div class="footer">Board software by volunteers.</div></body></html>"""


def test_a_statement_reposted_as_a_quote_is_the_quote():
    doc = _clean(FORUM, "https://millbrook-board.example/viewtopic.php?t=12")
    assert doc.title == TITLE
    assert doc.text == "\n\n".join((P1, P2, P3))
    assert {"quote_attribution", "repost_thread"} <= {r.rule for r in doc.removed}


def test_an_article_that_quotes_a_passage_keeps_its_own_prose():
    html = (
        f"<html><head><title>{TITLE}</title></head><body><article><h1>{TITLE}</h1>"
        f"<p>{P2}</p><p>{P3}</p><blockquote><p>{P1} {P1}</p></blockquote><p>{P2} {P3}</p>"
        "</article></body></html>"
    )
    tree = fromstring(html)
    removals = prune_blocks(tree, len(tree.text_content()))
    assert not [r for r in removals if r.rule in ("repost_thread", "quote_attribution")]
    assert tree.xpath("//blockquote")


def test_small_print_chrome_goes_and_small_print_prose_stays():
    note = (
        "Footnote: the figures above come from the agencies' own counts, and they will be revised "
        "once the districts are reachable again."
    )
    html = (
        f"<html><body><div><p>{P1}</p><p><font size='1'>Filed May 7 from the wire basket</font></p>"
        f"<p><small>{note}</small></p><p><span style='font-size: x-small'>(clipped by Ada)</span></p>"
        "</div></body></html>"
    )
    tree = fromstring(html)
    removals = prune_blocks(tree, len(tree.text_content()))
    assert [r.text for r in removals if r.rule == "small_print"] == [
        "Filed May 7 from the wire basket",
        "(clipped by Ada)",
    ]
    assert note in tree.text_content()


def test_a_table_of_contents_named_in_full_is_pruned():
    html = (
        f"<html><body><div class='table-of-contents'><a href='#a'>Overview</a> <a href='#b'>Findings</a>"
        f"</div><div><p>{P1}</p><p>{P2}</p><p>{P3}</p></div></body></html>"
    )
    tree = fromstring(html)
    removals = prune_blocks(tree, len(tree.text_content()))
    assert [r.rule for r in removals] == ["table_of_contents"]


def test_lines_that_end_with_a_dash_and_a_name_are_not_all_notes():
    quotes = [
        "We will keep the crossings open for as long as the convoys need them. -- Ministry",
        "The agreement is a step, and the families are waiting for the next. -- Relief Council",
    ]
    kept, removals, _ = apply_line_rules([*quotes, P1, P2], title=None, att=Attribution())
    assert kept == [quotes[1], P1, P2]
    assert [r.rule for r in removals] == ["signed_note"]


# --- titles when the markup names the site, not the statement ------------------------------------


def _courier_story() -> Story:
    return Story(
        title=TITLE,
        paragraphs=(P1, P2, P3),
        published=dt.datetime(2024, 5, 2, 9, 0),
        link=ORIGINAL,
    )


def test_site_and_desk_title_gives_way_to_the_headline_above_the_text():
    # <title> is "Site :: Desk", the desk's label is bold and a nav link; other stories' titles
    # stand in bold links in the archive column: the bold headline over the story wins
    tpl = wrapped_templates.BY_NAME["table-courier"]
    assert tpl.split == "dev"
    page = tpl.render(_courier_story(), Context(3, "Earlier Statement on River Ports", "Later Statement"))
    doc = clean(RawPage(page.url, page.url, 200, {"content-type": page.content_type}, page.body, "2024"))
    assert doc.title == TITLE
    text = normalise_text(doc.text)
    assert normalise_text(TITLE) not in text  # the headline is the title, not a body line
    assert all(normalise_text(p) in text for p in (P1, P2, P3))


def test_a_navigation_item_never_wins_but_a_link_to_the_page_itself_may():
    head = "<html><head><title>Valley Courier :: County News</title>"
    nav = '<p><a href="/county.html"><b>County News</b></a> | <a href="/front.html"><b>Front</b></a></p>'
    body = f"<p>{P1}</p><p>{P2}</p><p>{P3}</p>"
    # the desk's label agrees with <title> and is bold, but it is a link to another page
    html = f"{head}</head><body>{nav}<p><b>County News</b></p><b>{TITLE}</b><br>{body}</body></html>"
    assert _clean(html, "http://valley-courier.example/s?id=7").title == TITLE
    # a heading whose text is also a link to this very page (by its canonical URL) stays the title
    html = (
        f'<html><head><title>{TITLE} - Valley Courier</title><link rel="canonical" '
        'href="http://valley-courier.example/story/7"></head><body>'
        f'<p><a href="http://valley-courier.example/story/7">{TITLE}</a></p><h1>{TITLE}</h1>{body}</body></html>'
    )
    assert nav_texts(fromstring(html), None, "http://valley-courier.example/story/7") == frozenset()
    assert _clean(html, "http://valley-courier.example/s?id=7").title == TITLE


def test_headline_above_skips_links_single_words_and_stops_at_prose():
    tree = fromstring(
        f"<div><b>ARCHIVE</b><a href='/x'><b>Another Story Entirely Here</b></a><b>{TITLE}</b>"
        f"<p>{P1}</p><b>A Bold Line Below The Story</b></div>"
    )
    lines = ["ARCHIVE", "Another Story Entirely Here", TITLE, P1, "A Bold Line Below The Story"]
    nav = nav_texts(tree, "http://x.example/a")
    assert headline_above(tree, lines, None, "x.example", nav) == 2
    # nothing but a one-word label and a link above the text: no headline
    assert headline_above(tree, [lines[0], lines[1], P1], None, "x.example", nav) is None


def test_text_capture_title_under_the_dateline_even_when_a_rule_claims_it():
    head = [
        "Home | Statements | Regions | Archive | Contact",
        "",
        "Statements 0521 Notes",
        "",
        "Fri, 06 May 2022",
        "",
    ]
    briefing = "Department Press Briefing – May 6, 2022"
    doc = clean_text("\n".join([*head, briefing, "", "U.S. Department of State", "", P1, "", P2, "", P3]))
    assert doc.title == briefing
    # a title long enough to read as body is still the title, and no longer a body line
    long_title = (
        "Under Secretary for Arms Control and International Security Travels to Vienna for the Review "
        "Conference of the Convention on the Physical Protection of Nuclear Material"
    )
    doc = clean_text("\n".join([*head, long_title, "", P1, "", P2, "", P3]))
    assert doc.title == long_title and normalise_text(long_title) not in normalise_text(doc.text)


def test_a_sentence_under_the_dateline_is_not_taken_for_a_title():
    assert not reads_as_title("The Secretary met the Foreign Minister of Portugal today in Lisbon.")
    assert not reads_as_title("Begin text:")
    assert reads_as_title("Secretary Blinken’s Travel to Portugal")
    marks = [(0, "nav_line"), (2, "dateline")]
    lines = ["Home | News", "Statements", "Fri, 06 May 2022", P1, P2]
    assert title_after_dateline(lines, marks, []) is None
    # a line a non-title rule claimed is no title either
    assert title_after_dateline(lines, [*marks, (3, "share_bar")], []) is None


def test_links_no_url_parser_accepts_are_no_navigation_items_and_break_nothing():
    tree = fromstring(
        f'<div><a href="http://[ccpa-preferences]/x">Privacy</a><a href="/a">Front</a><b>{TITLE}</b></div>'
    )
    assert nav_texts(tree, "http://x.example/s", "http://[bad") == frozenset({"front"})


def test_a_heading_link_no_url_parser_accepts_is_skipped_by_the_banner_check():
    """'http://[consent-settings]' makes urlsplit raise; the banner check skips that link and
    still sees the next one, to the site's home page."""
    from cleaners.titles import _in_banner

    bad = fromstring("<h2><a href='http://[consent-settings]'>Harbour pilots resume night service</a></h2>")
    assert _in_banner(bad, "relay.example") is False
    home = fromstring("<h2><a href='http://[consent-settings]'>Notices</a> <a href='/'>Relay</a></h2>")
    assert _in_banner(home, "relay.example") is True
