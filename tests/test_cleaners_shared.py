"""Shared posts: a reposter's one- or two-sentence intro above a statement shown in a nested
box (a reblog's embed, a network's shared card, a "shared a link" post, a boost), on the
development templates of `tests/fixtures/web/aggregators_shared.py` and on pages written here.

What a user relies on: the stored text is the statement, every paragraph of it, without the
reposter's intro or the box's head line (the original's name, host or handle); the intro is
recorded as cut; the box is told by its structure, whatever its class names; and an ordinary
article whose own sentences stand around a box of its own keeps them.
"""

from __future__ import annotations

import re

import pytest

from cleaners.core import clean
from cleaners.model import Document, RawPage, normalise_text
from tests.fixtures.web import wrapped_templates
from tests.fixtures.web.wrapkit import Context
from tests.test_cleaners_edges import LINK, STORY

SHARED_TEMPLATES = ("reblog-embed", "network-share", "social-link-share", "boost-thread")


def _clean(body: str | bytes, url: str) -> Document:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return clean(RawPage(url, url, 200, {"content-type": "text/html; charset=UTF-8"}, data, ""))


def _paras(paragraphs: tuple[str, ...] = STORY.paragraphs) -> str:
    return "".join(f"<p>{p}</p>" for p in paragraphs)


@pytest.mark.parametrize("name", SHARED_TEMPLATES)
def test_shared_post_templates_are_development_templates_on_hosts_of_their_own(name):
    assert name in wrapped_templates.DEV
    host = wrapped_templates.BY_NAME[name].host
    assert [t.name for t in wrapped_templates.TEMPLATES if t.host == host] == [name]


def _render(name: str, n: int):
    return wrapped_templates.render(name, STORY, Context(n, "An earlier post", "A later post"))


@pytest.mark.parametrize("n", range(1, 9))
@pytest.mark.parametrize("name", SHARED_TEMPLATES)
def test_a_shared_statement_is_kept_whole_without_the_reposters_intro(name, n):
    page = _render(name, n)
    doc = _clean(page.body, page.url)
    text = normalise_text(doc.text)
    for paragraph in STORY.paragraphs:
        assert normalise_text(paragraph) in text
    assert [c for c in page.cruft if normalise_text(c) in text] == []
    # the intro is recorded as cut, not lost silently
    removed = normalise_text(" ".join(r.text for r in doc.removed))
    assert normalise_text(page.cruft[0]) in removed


@pytest.mark.parametrize("name", SHARED_TEMPLATES)
def test_the_shared_box_is_told_by_its_structure_not_its_class_names(name):
    page = _render(name, 2)
    bare = re.sub(r'\s(?:class|id)="[^"]*"', "", page.body.decode("utf-8"))
    doc = _clean(bare, page.url)
    text = normalise_text(doc.text)
    assert all(normalise_text(p) in text for p in STORY.paragraphs)
    assert normalise_text(page.cruft[0]) not in text


def _post(inner: str) -> str:
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{STORY.title} | Orchard Notes</title>
<link rel="canonical" href="https://orchard-notes.example/post/"></head><body>
<header><a href="/">Orchard Notes</a><nav><a href="/about/">About</a></nav></header>
<main><article><h1>{STORY.title}</h1>
{inner}
</article></main><footer><p>Orchard Notes is written on weekends.</p></footer></body></html>"""


def test_a_one_line_intro_above_an_unmarked_box_headed_by_the_originals_host_goes():
    intro = "Worth reading in full."
    box = (
        f'<div><div><a href="{LINK}">www.state.gov</a></div><div>{_paras()}</div>'
        f'<div><a href="{LINK}">Read it on www.state.gov</a></div></div>'
    )
    doc = _clean(_post(f"<p>{intro}</p>{box}"), "https://orchard-notes.example/post/")
    assert intro not in doc.text
    assert all(normalise_text(p) in normalise_text(doc.text) for p in STORY.paragraphs)
    assert any(intro in r.text for r in doc.removed)


def test_an_article_with_a_picture_credit_keeps_its_standfirst():
    standfirst = "Five governments agreed on a plan for seasonal workers, and the county will feel it."
    body = (
        '<div><figure><img src="/a.jpg" alt=""><figcaption>Photo: <a href="https://photos.example/x">'
        f"Lena Ortiz</a></figcaption></figure>{_paras()}</div>"
    )
    doc = _clean(_post(f"<p>{standfirst}</p>{body}"), "https://orchard-notes.example/post/")
    assert standfirst in doc.text
    assert not any(r.rule == "repost_thread" for r in doc.removed)


def test_own_prose_longer_than_the_shared_statement_stays():
    own = [
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
    ]
    box = f'<div><div><a href="{LINK}">www.state.gov</a></div><div>{_paras(STORY.paragraphs[:2])}</div></div>'
    page = _post("".join(f"<p>{o}</p>" for o in own[:2]) + box + "".join(f"<p>{o}</p>" for o in own[2:]))
    doc = _clean(page, "https://orchard-notes.example/post/")
    text = normalise_text(doc.text)
    assert all(normalise_text(o) in text for o in own)


def test_a_share_button_at_an_articles_head_makes_no_shared_box():
    notice = "Our site works best with scripts turned on."
    share = "https://social.example/share?u=https://orchard-notes.example/post/"
    body = f'<div><div><a href="{share}">Share this</a></div><div>{_paras()}</div></div>'
    doc = _clean(_post(f"<p>{notice}</p>{body}"), "https://orchard-notes.example/post/")
    assert not any(r.rule in ("repost_thread", "quote_attribution") for r in doc.removed)
    assert all(normalise_text(p) in normalise_text(doc.text) for p in STORY.paragraphs)


def test_a_box_holding_the_pages_own_heading_is_the_article_not_a_shared_box():
    notice = "Our site works best with scripts turned on."
    body = (
        f'<div><h1>{STORY.title}</h1><div><a href="https://wire.example/">Wire desk</a></div>'
        f"<div>{_paras()}</div></div>"
    )
    page = _post(f"<p>{notice}</p>{body}").replace(f"<h1>{STORY.title}</h1>\n", "", 1)
    doc = _clean(page, "https://orchard-notes.example/post/")
    assert not any(r.rule in ("repost_thread", "quote_attribution") for r in doc.removed)


def test_a_malformed_link_address_is_no_link():
    bad = "https://[ccpa-preferences]/x"
    box = f'<div><div><a href="{bad}">Preferences</a></div><div>{_paras()}</div></div>'
    doc = _clean(_post(f"<p>Worth reading in full.</p>{box}"), "https://orchard-notes.example/post/")
    assert all(normalise_text(p) in normalise_text(doc.text) for p in STORY.paragraphs)


def test_a_news_articles_standfirst_above_a_byline_linking_the_authors_profile_stays():
    standfirst = "Five governments agreed on a plan for seasonal workers, and the county will feel it."
    byline = '<div>By <a href="https://social.example/jo-doe">Jo Doe</a>, May 3</div>'
    doc = _clean(
        _post(f"<p>{standfirst}</p><div>{byline}{_paras()}</div>"), "https://orchard-notes.example/post/"
    )
    assert standfirst in doc.text
    assert not any(r.rule in ("repost_thread", "quote_attribution") for r in doc.removed)
