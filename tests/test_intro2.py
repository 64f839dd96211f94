"""The republisher's own few words above a copied statement go to the removals; a statement's
own short first line stays.

The pages are the intro2 dev templates around a statement written for these tests, and small
pages written here, each modelled on its kind of site."""

from __future__ import annotations

import datetime as dt

from cleaners import Document, clean
from cleaners.intro import speaks_as_person
from cleaners.model import RawPage, normalise_text
from tests.fixtures.web import wrapped_templates
from tests.fixtures.web.wrapkit import Context, Page, Story

PARAGRAPHS = (
    "The Department welcomes the reopening of the river ferry between the two border towns, closed "
    "since the storms of last autumn damaged both landing stages.",
    "Engineers from both countries rebuilt the landings together, and the crossing will again carry "
    "schoolchildren, traders and medical staff from Monday morning.",
    "We thank the local authorities on both banks for their cooperation and look forward to the "
    "bridge study that the two governments will begin next year.",
)
TITLE = "Reopening of the River Ferry Crossing"
ORIGINAL = "https://www.state.gov/reopening-of-the-river-ferry-crossing/"
STORY = Story(TITLE, PARAGRAPHS, dt.datetime(2024, 3, 8, 11, 0), ORIGINAL)
# statements whose own first line is short: in the institution's voice, and in the speaker's
SHORT_LEADS = (
    STORY,
    Story(TITLE, ("The United States welcomes the ferry's return.", *PARAGRAPHS), STORY.published, ORIGINAL),
    Story(
        "Anniversary of the River Ferry Treaty",
        ("I am glad to mark the anniversary of the ferry treaty with both towns today.", *PARAGRAPHS),
        STORY.published,
        ORIGINAL,
    ),
    Story(
        TITLE,
        ("“The mayor and I have waited a long time for this day.”", *PARAGRAPHS),
        STORY.published,
        ORIGINAL,
    ),
)


def _clean_page(page: Page) -> Document:
    return clean(
        RawPage(page.url, page.url, 200, {"content-type": page.content_type}, page.body, "2024-03-09")
    )


def _render(name: str, n: int, story: Story = STORY) -> tuple[Page, Document]:
    page = wrapped_templates.render(name, story, Context(n, "An earlier notice", "A later notice"))
    return page, _clean_page(page)


def _html(body: str) -> Document:
    html = f"<html><head><title>{TITLE} - Riverbank Board</title></head><body>{body}</body></html>"
    url = "https://riverbank-board.example/posts/7"
    return clean(RawPage(url, url, 200, {"content-type": "text/html"}, html.encode(), "2024-03-09"))


def _has_all_paragraphs(doc: Document, paragraphs: tuple[str, ...] = PARAGRAPHS) -> bool:
    text = normalise_text(doc.text)
    return all(normalise_text(p) in text for p in paragraphs)


def _notes(doc: Document) -> str:
    return " ".join(r.text for r in doc.removed if r.rule == "repost_note")


def test_a_reblog_comment_above_the_box_under_the_source_link_goes_to_the_removals() -> None:
    for n in (1, 2):  # one sentence, two sentences
        page, doc = _render("intro2-reblog-note", n)
        assert _has_all_paragraphs(doc)
        for note in page.cruft[:-2]:
            assert normalise_text(note) not in normalise_text(doc.text)
            assert note in _notes(doc)


def test_a_network_post_intro_above_the_pasted_title_goes_and_the_title_stays() -> None:
    page, doc = _render("intro2-network-post", 3)  # a two-sentence intro
    assert doc.title == TITLE
    assert _has_all_paragraphs(doc)
    assert doc.text.startswith(PARAGRAPHS[0])
    for intro in page.cruft[:-2]:
        assert intro not in doc.text
        assert intro in _notes(doc)


def test_a_forwarding_line_above_the_mail_separator_goes_in_a_pre_and_in_blocks() -> None:
    for n in range(1, 6):  # "FYI, below.", "FYI:", "Passing this along.", ...
        page, doc = _render("intro2-mail-forward", n)
        assert _has_all_paragraphs(doc)
        assert doc.text.startswith(PARAGRAPHS[0]), doc.text[:80]
        assert page.cruft[0] in _notes(doc)


def test_a_note_in_a_person_s_voice_above_a_lone_rule_goes() -> None:
    doc = _html(
        f"<h1>{TITLE}</h1><p>Posting this for my neighbours who kept asking me about it.</p><hr>"
        + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    )
    assert doc.text.startswith(PARAGRAPHS[0])
    assert "my neighbours" in _notes(doc)


def test_the_statement_s_own_short_first_line_above_a_rule_stays() -> None:
    for story in SHORT_LEADS:
        page, doc = _render("intro2-keep-lead-rule", 1, story)
        assert doc.text.startswith(story.paragraphs[0])
        assert _has_all_paragraphs(doc, story.paragraphs)
        assert not _notes(doc)


def test_a_bare_forward_keeps_the_statement_s_short_first_line() -> None:
    for story in SHORT_LEADS:
        page, doc = _render("intro2-keep-lead-forward", 1, story)
        assert doc.text.startswith(story.paragraphs[0])
        assert "Forwarded Message" not in doc.text
        assert not _notes(doc)


def test_a_first_person_statement_with_no_mark_of_a_copy_is_not_cut() -> None:
    lead = "I congratulate the people of both towns on this day."
    doc = _html(f"<h1>{TITLE}</h1><p>{lead}</p>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS))
    assert doc.text.startswith(lead)
    assert not _notes(doc)


def test_commentary_of_its_own_length_above_a_rule_is_not_a_note() -> None:
    own = (
        "I have lived by this river all my life and I remember the ferry before it had an engine, "
        "when the crossing took the better part of an hour and the fare was paid in eggs. My father "
        "worked the landing on our side for twenty years, and he would have been glad to read this."
    )
    doc = _html(f"<h1>{TITLE}</h1><p>{own}</p><hr>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS))
    assert own in doc.text
    assert not _notes(doc)


def test_a_person_s_voice() -> None:
    assert speaks_as_person("FYI, below.")
    assert speaks_as_person("Sharing this for my team.")
    assert speaks_as_person("You will want to read the last part.")
    assert speaks_as_person("I'm posting the full text.")
    assert not speaks_as_person("The United States condemns this attack in the strongest terms.")
    assert not speaks_as_person("We are deeply concerned by these reports.")
    assert not speaks_as_person("Thank you all for joining us today.")


def _paras(paragraphs: tuple[str, ...] = PARAGRAPHS) -> str:
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def test_a_one_line_comment_above_a_box_marked_as_a_reblog_goes() -> None:
    comment = "Too good not to pass on."
    doc = _html(
        f'<div class="entry"><p>{comment}</p><div class="reblogged-post"><h3>{TITLE}</h3>'
        f"{_paras()}</div></div>"
    )
    assert _has_all_paragraphs(doc)
    assert comment not in doc.text and comment in _notes(doc)


def test_a_forwarding_line_above_a_header_block_with_no_separator_goes() -> None:
    fields = (
        "From: Ferry Desk &lt;desk@ferry-office.example&gt;",
        "Sent: Friday, March 8, 2024 11:02 AM",
        f"Subject: {TITLE}",
    )
    doc = _html("<div class='msg'><p>fyi</p>" + "".join(f"<p>{f}</p>" for f in fields) + _paras() + "</div>")
    assert doc.text.startswith(PARAGRAPHS[0])
    assert "fyi" in _notes(doc)


def test_a_short_line_above_a_source_box_stays_when_the_page_has_more_text_of_its_own() -> None:
    own = (
        "My grandmother crossed on that ferry every market day for forty years, carrying eggs in a "
        "basket and gossip in both directions, and the landing on our side was where the whole "
        "village waited for news."
    )
    line = "Worth a look."
    box = f'<div class="card"><p><a href="{ORIGINAL}">www.state.gov</a></p>{_paras()}</div>'
    doc = _html(f"<div><p>{line}</p>{box}</div>" + "".join(f"<p>{own} {k}.</p>" for k in range(4)))
    assert line in doc.text
    assert not _notes(doc)


def test_a_forwarding_line_in_the_same_lines_as_the_separator_goes() -> None:
    sep = "---------- Forwarded message ---------"
    fields = [
        "From: Ferry Desk &lt;desk@ferry-office.example&gt;",
        "Date: Fri, Mar 8, 2024",
        f"Subject: {TITLE}",
    ]
    mail_div = "<br>".join(fields) + "<br><br>" + "<br><br>".join(PARAGRAPHS)
    pre = "\n".join(fields) + "\n\n" + "\n\n".join(PARAGRAPHS)
    pages = (
        ("FYI, below", f"<div class='msg'>FYI, below<br><br>{sep}<br>{mail_div}</div>"),
        ("Passing this along.", f"<div class='msg'>Passing this along.<br>{sep}<br>{mail_div}</div>"),
        ("fyi", f'<pre>fyi\n{sep}\n{pre}\n<img src="/sig.png"></pre>'),  # an image keeps it a <pre>
    )
    for note, body in pages:
        doc = _html(body)
        assert doc.text.startswith(PARAGRAPHS[0]), (note, doc.text[:60])
        assert note in _notes(doc)


def test_a_reblogger_s_line_below_the_box_goes_and_the_comment_heading_stays_out_of_it() -> None:
    above, below = "Too good not to pass on.", "What do you all make of the last part?"
    doc = _html(
        f'<div class="entry"><p>{above}</p><div class="reblogged-post">{_paras()}</div><p>{below}</p>'
        "<h3>Responses</h3><p>A reply that is no part of the note.</p></div>"
    )
    assert _has_all_paragraphs(doc)
    assert above in _notes(doc) and below in _notes(doc)
    assert "A reply that is no part" not in _notes(doc)


def test_a_note_inside_the_reblog_box_above_the_post_box_goes() -> None:
    lead_in = "The following is attributable to the ferry office:"
    doc = _html(f'<blockquote><p>{lead_in}</p><div class="post">{_paras()}</div></blockquote>')
    assert not _notes(doc)  # a statement's own lead-in is no person's aside
    note = "Adding this to my reading pile."
    for commentary in ("", "<p>Reblogged this on Riverbank Board and commented:</p>"):
        doc = _html(
            f'{commentary}<div class="reblog-snapshot"><div class="reblogger-note"><p>{note}</p></div>'
            f'<div class="reblog-post"><h3>{TITLE}</h3>{_paras()}</div></div>'
        )
        assert _has_all_paragraphs(doc)
        assert note not in doc.text and note in _notes(doc)
