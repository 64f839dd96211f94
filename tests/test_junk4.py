"""Walls, account and newsletter forms, support pages and galleries unlike the first dev ones are
rejected; statements whose pages carry a subscription box, figures, a comment form, a sign-in
form or a page-wide form, or that speak to the reader, are kept (`cleaners.walls`,
`cleaners.sitepages`)."""

import datetime as dt

import pytest

from cleaners import clean
from cleaners.model import RawPage, Rejected
from tests.fixtures.web import wrapped_templates
from tests.fixtures.web.wrapkit import Context, Story

STORY = Story(
    title="Joint Statement on the Reopening of the Lakeside Border Crossing",
    paragraphs=(
        "The governments of Norland and Estmark today reopened the Lakeside border crossing, closed since "
        "the spring floods, after engineers of both countries certified the rebuilt bridge as safe.",
        "Freight traffic resumes on Monday; the two transport ministries will review the hours of the "
        "crossing with local authorities at the end of the month.",
    ),
    published=dt.datetime(2025, 6, 2),
    link="https://www.state.gov/joint-statement-on-the-lakeside-border-crossing/",
)
CTX = Context(2, "Sanctions on a Timber Smuggling Ring", "Readout of the Trade Dialogue")

JUNK = {
    "junk-j4-metered-wall": ("boilerplate_only", "not_a_statement"),
    "junk-j4-figure-gallery": ("not_a_statement",),
    "junk-j4-list-gallery": ("not_a_statement",),
    "junk-j4-donors": ("not_a_statement",),
    "junk-j4-konto": ("boilerplate_only",),
    "junk-j4-newsletter-prefs": ("boilerplate_only",),
    "junk-j4-modal-wall": ("boilerplate_only",),
    "junk-j4-flat-gallery": ("not_a_statement",),
}
KEPT = ("j4-subscribe-box", "j4-photo-figures", "j4-comment-form", "j4-inline-pictures")


def _raw(url: str, body: bytes | str, content_type: str = "text/html; charset=utf-8") -> RawPage:
    data = body.encode() if isinstance(body, str) else body
    return RawPage(url, url, 200, {"content-type": content_type}, data, "2026-01-01T00:00:00Z")


def _clean_template(name: str):
    page = wrapped_templates.render(name, STORY, CTX)
    assert wrapped_templates.BY_NAME[name].split == "dev"
    return page, clean(_raw(page.url, page.body, page.content_type))


@pytest.mark.parametrize("name", sorted(JUNK))
def test_page_without_a_statement_is_rejected(name):
    with pytest.raises(Rejected) as err:
        _clean_template(name)
    assert err.value.reason in JUNK[name]


@pytest.mark.parametrize("name", KEPT)
def test_statement_with_a_box_figures_or_a_form_keeps_its_text(name):
    page, doc = _clean_template(name)
    assert page.outcome == "article"
    assert all(p in doc.text for p in STORY.paragraphs)
    assert "Photo: Ashgrove Chronicle" not in doc.text


ADVISORY = [
    "The Embassy advises visitors to Estmark that the northern ferry routes are suspended until the "
    "harbour authorities finish repairs to the pier at Kallvik.",
    "If you plan to travel in the region this month, register your trip with the Embassy so that we can "
    "reach you in an emergency.",
    "Keep your passport and a copy of it in separate bags, and carry enough cash for two days.",
    "Local police have asked drivers to avoid the coast road after dark while the lighting is replaced.",
    "You can read the latest alerts on our website or follow them by email.",
]
SIGN_IN = (
    "<form class='account' method='post'><input type='email' name='e'><input type='password' name='p'>"
    "<button>Sign in</button></form><p>Sign in to save alerts for the countries you visit.</p>"
)


def _page(title: str, paragraphs: list[str], url: str, extra: str = "", wrap_form: bool = False) -> str:
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    inner = (
        f"<header><a href='/'>Home</a><nav><a href='/alerts/'>Alerts</a></nav></header>"
        f"<main><article><h1>{title}</h1>\n{body}{extra}</article></main>"
    )
    if wrap_form:
        # one form around the whole page, with a search box and the framework's state field
        inner = (
            "<form id='aspnetForm' method='post'><input type='hidden' name='__VIEWSTATE' value='x'>"
            f"<input type='text' name='q'>{inner}</form>"
        )
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body>{inner}</body></html>"
    )


def test_advisory_that_speaks_to_the_reader_beside_a_sign_in_form_is_kept():
    url = "https://estmark.usembassy.example/alert-ferries/"
    doc = clean(_raw(url, _page("Travel Alert: Northern Ferries", ADVISORY, url, extra=SIGN_IN)))
    assert ADVISORY[0] in doc.text and ADVISORY[1] in doc.text and ADVISORY[4] in doc.text


def test_short_notice_inside_a_page_wide_form_is_kept():
    # every line of the page lies in the form, but the form wraps the page: its text is not a
    # form's own text addressed to the reader, though an e-mail box stands under the notice
    notice = [
        "The reading room of the library is closed for repairs until the end of June.",
        "Books on loan may be returned at the front desk of the cultural centre.",
        "You can renew your loans online with your library card number.",
    ]
    box = "<p>Library news by email:</p><input type='email' name='news'>"
    url = "https://estmark.usembassy.example/library/"
    doc = clean(_raw(url, _page("Library Closed for Repairs", notice, url, extra=box, wrap_form=True)))
    assert notice[0] in doc.text and notice[1] in doc.text


def test_subscription_wall_without_a_form_in_french_is_rejected():
    # no field at all: a button to subscribe and a link to sign in stand in the pitch's block
    pitch = [
        "Cet article est réservé à nos abonnés.",
        "Abonnez-vous pour lire tous nos articles en illimité sur le site et sur l'application.",
        "Vous êtes déjà abonné ? Connectez-vous pour continuer votre lecture.",
    ]
    links = "<p><a class='btn' href='/abonnement/'>Je m'abonne</a> <a href='/connexion/'>Se connecter</a></p>"
    url = "https://www.gazette-des-rives.example/politique/article-1234.html"
    html = _page("Réservé aux abonnés", pitch, url, extra=links).replace("lang='en'", "lang='fr'")
    with pytest.raises(Rejected) as err:
        clean(_raw(url, html))
    assert err.value.reason == "boilerplate_only"


PICTURED = [
    "A swimmer crosses the finish line at the lake festival on Sunday morning.",
    "Rowers from the harbour club carry their boat back to the shed after the race.",
    "The mayor hands the trophy to the winning crew on the jetty.",
]


def test_short_post_with_linked_teasers_in_a_gallery_box_is_kept():
    # the teasers stand in a box named a gallery's, but each caption is a link to another page
    post = ["The Embassy congratulates the Estmark swimmers on their medals at the lake festival this week."]
    teasers = "".join(
        f"<div class='gallery-teaser'><img src='/t/{i}.jpg' alt=''><p><a href='/galleries/{i}/'>{c}</a></p>"
        "</div>\n"
        for i, c in enumerate(PICTURED)
    )
    url = "https://estmark.usembassy.example/swimmers/"
    doc = clean(_raw(url, _page("Congratulations to the Swimmers", post, url, extra=teasers)))
    assert post[0] in doc.text


def test_gallery_of_div_slides_with_lightbox_links_is_rejected():
    # no <figure>, no counter, no gallery in the address: the images open their large files
    slides = "".join(
        f"<div class='item'><a href='/media/{i}-full.jpg'><img src='/media/{i}.jpg' alt=''></a>"
        f"<p>{c}</p></div>\n"
        for i, c in enumerate([*PICTURED, "Spectators watch the last heat from the bank above the beach."])
    )
    url = "https://www.lakeside-news.example/sport/lake-festival/"
    with pytest.raises(Rejected) as err:
        clean(_raw(url, _page("Lake festival", ["Sunday at the lake."], url, extra=slides)))
    assert err.value.reason == "not_a_statement"
