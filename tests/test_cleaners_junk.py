"""Site pages that hold no statement are rejected as not_a_statement (service text),
and statements that say "you", list dated programmes, announce fees or are short are kept."""

import datetime as dt

import pytest

from cleaners import clean
from cleaners.model import RawPage, Rejected
from cleaners.sitepages import SERVICE_SHARE, service_share
from tests.fixtures.web import wrapped_templates
from tests.fixtures.web.wrapkit import Context, Story

STORY = Story(
    title="Secretary's Call with the Foreign Minister of Norland",
    paragraphs=(
        "The Secretary spoke today with Foreign Minister Ana Berg of Norland about regional security, "
        "the humanitarian situation on the border and the shared commitment to a free and open sea.",
        "The Secretary and the Foreign Minister agreed to keep working together at the United Nations.",
    ),
    published=dt.datetime(2024, 3, 1),
    link="https://www.state.gov/secretarys-call-with-the-foreign-minister-of-norland/",
)
CTX = Context(1, "Sanctions on a Smuggling Network", "Annual Report on Religious Freedom")
NEW_JUNK = {
    "junk-membership": "service text",
    "junk-donate": "service text",
    "junk-contact": "service text",
}


def _raw(url: str, body: bytes, content_type: str = "text/html; charset=utf-8") -> RawPage:
    return RawPage(url, url, 200, {"content-type": content_type}, body, "2026-01-01T00:00:00Z")


def _page(title: str, paragraphs: list[str], url: str) -> RawPage:
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    html = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<header><a href='/'>Home</a></header><main><article><h1>{title}</h1>\n{body}</article></main>"
        "</body></html>"
    )
    return _raw(url, html.encode())


@pytest.mark.parametrize("name", sorted(NEW_JUNK))
def test_site_page_without_a_statement_is_rejected(name):
    page = wrapped_templates.render(name, STORY, CTX)
    assert page.outcome == "rejected" and wrapped_templates.BY_NAME[name].split == "dev"
    with pytest.raises(Rejected) as err:
        clean(_raw(page.url, page.body, page.content_type))
    assert err.value.reason == "not_a_statement"
    assert err.value.detail.startswith(NEW_JUNK[name])


def test_cookie_and_newsletter_page_is_still_boilerplate_only():
    page = wrapped_templates.render("junk-cookie-news", STORY, CTX)
    with pytest.raises(Rejected) as err:
        clean(_raw(page.url, page.body, page.content_type))
    assert err.value.reason == "boilerplate_only"


TRAVEL_ALERT = [
    "Location: Port Amsel, Norland",
    "Event: Marches are planned on Saturday around the Parliament building and the old central market. "
    "Gatherings that start calmly have turned violent in Port Amsel before.",
    "Actions to Take:",
    "Keep away from the marches and from crowds wherever they form.",
    "Follow the Norland news on radio and television, and do what the police tell you.",
    "Watch what happens around you and do not draw attention to yourself.",
    "Go over your own safety arrangements and carry your passport and visa at all times.",
    "Sign up for the Embassy's traveler alerts, so that messages reach your phone and our staff can "
    "find you quickly if something goes wrong. Ring us if you need help.",
    "Assistance: U.S. Embassy Port Amsel, telephone +47 555 0100, email acsportamsel@state.gov. "
    "Americans can also call the consular help line in Washington at 888-555-0147.",
]
PROGRAMMES = [
    "The U.S. Embassy in Port Amsel announces its cultural and exchange programs for the coming season, "
    "open to students, teachers and young professionals in Norland.",
    "- March 4: English Access Microscholarship Program, applications open online.",
    "- April 12: Fulbright Foreign Student Program, information session at the American Corner.",
    "- May 20: Young Leaders Exchange, interviews in Port Amsel and two regional cities.",
    "- June 1: Teacher Exchange Program, deadline for your application.",
    "Read more about each program on the Embassy website and write to us with your questions.",
]
VISA_FEES = [
    "From June 14 the Department of State charges new amounts for visitor and student visa applications.",
    "Visitors and students will pay $185 instead of $160. Pay before you book your interview; the "
    "Embassy gives no money back once you have paid.",
    "A receipt you got before June 14 can still be used for twelve months from the day you paid. "
    "Applicants may pay by card or in cash at the banks the Embassy names.",
    "Please visit the Embassy website for payment instructions and to book your appointment.",
]
SHORT = ["The United States congratulates the people of Norland on their national day. We wish you peace."]


@pytest.mark.parametrize(
    "title, paragraphs",
    [
        ("Demonstration Alert: U.S. Embassy Port Amsel", TRAVEL_ALERT),
        ("Exchange Programs for the Coming Season", PROGRAMMES),
        ("Nonimmigrant Visa Fee Adjustment", VISA_FEES),
        ("Norland National Day", SHORT),
    ],
)
def test_statement_is_not_rejected(title, paragraphs):
    doc = clean(_page(title, paragraphs, "https://norland.usembassy.gov/news-events/statement/"))
    assert doc.text and paragraphs[-1].split(".")[0] in doc.text


def test_the_service_measure_tells_a_fee_notice_from_a_plan():
    # a fee announcement speaks of payment to "you", and of visas and the Department
    service, public, count = service_share("\n".join(VISA_FEES))
    assert count == 6 and public >= 0.5 and 0 < service < SERVICE_SHARE
    assert service_share("You can cancel your plan at any time. We bill your card each month.")[0] == 1.0


def test_a_short_post_inviting_comments_is_kept():
    # four sentences of the site speaking to its readers: too few for a share to decide on
    post = [
        "Every quarter we open a thread where you can ask us anything about our research.",
        "You are also welcome to email us or to request a call if you prefer to talk in private.",
        "We try to answer every comment within a few days.",
        "You can read our last open thread here.",
    ]
    doc = clean(_page("Open thread, autumn", post, "https://blog.example/2024/10/open-thread/"))
    assert "We try to answer every comment" in doc.text


# --- index pages of other pages: rejected as listing_page ------------------------------------

LISTINGS = {
    "junk-tag-listing",
    "junk-search-results",
    "junk-month-archive",
    "junk-not-found-recent",
    "junk-feed-html",
}


@pytest.mark.parametrize("name", sorted(LISTINGS))
def test_index_of_other_pages_is_rejected(name):
    page = wrapped_templates.render(name, STORY, CTX)
    assert page.outcome == "rejected" and wrapped_templates.BY_NAME[name].split == "dev"
    with pytest.raises(Rejected) as err:
        clean(_raw(page.url, page.body, page.content_type))
    assert err.value.reason in {"listing_page", "not_found"}
    assert err.value.reason == "listing_page" or name == "junk-not-found-recent"


# Real pages shaped like listings, which must be kept: the statement they hold is what a user
# crawls for. Each is written around a short statement (shorter than most real ones).
TRAVEL = (
    "Special Envoy Mara Lind will travel to Port Amsel and Vesterby from May 3 to 6 to meet officials "
    "of the Norland government and civil society groups. She will discuss support for the ceasefire and "
    "humanitarian access to the northern provinces."
)
SITE = "https://ledger.example"


def _article(title: str, inner: str, url: str = f"{SITE}/2024/05/the-statement/") -> RawPage:
    html = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<header><a href='/'>Home</a> <a href='/about/'>About</a></header><main><article>"
        f"<h1>{title}</h1>\n{inner}</article></main><footer>The Ledger</footer></body></html>"
    )
    return _raw(url, html.encode())


def _related(count: int, excerpt: bool) -> str:
    items = "".join(
        f"<li class='entry'><a href='/2024/04/earlier-post-{i}/'>Earlier post number {i} on the region</a>"
        f"<span class='date'>April {i + 1}, 2024</span>"
        + (
            f"<p>The envoy met partners in the capital to talk about week {i} [&hellip;]</p>"
            if excerpt
            else ""
        )
        + "</li>"
        for i in range(count)
    )
    return f"<h3>More on the region</h3><ul class='entries'>{items}</ul>"


NOT_LISTINGS = {
    # a short statement, then a long list of related posts with excerpts, inside the article
    "related posts with excerpts": (f"<p>{TRAVEL}</p>{_related(8, True)}", TRAVEL),
    "related posts, titles only": (f"<p>{TRAVEL}</p>{_related(6, False)}", TRAVEL),
    # a roundup of one statement: each bullet links to a page of the site and says what it is
    "roundup with many links": (
        "<p>The Department published the following on the envoy's trip this week.</p><ul>"
        + "".join(
            f"<li><a href='/2024/05/trip-day-{d}/'>Envoy in Norland, day {d}</a>: the envoy met "
            f"ministers and aid groups in the capital and spoke about humanitarian access on day {d}.</li>"
            for d in range(1, 6)
        )
        + "</ul>",
        "spoke about humanitarian access on day 5.",
    ),
    # a fact sheet whose bullets each lead with a link to the programme's page
    "fact sheet of linked bullets": (
        "<p>Assistance to Norland in 2024:</p><ul>"
        + "".join(
            f"<li><a href='/programs/{p.lower()}/'>{p} Program</a> gives grants to local groups in the "
            f"north. It is run with the ministry.</li>"
            for p in ("Water", "Schools", "Clinics", "Roads", "Radio")
        )
        + "</ul>",
        "Radio Program gives grants to local groups in the north.",
    ),
    # a page of several short statements, each under a heading that links to its own page
    "several short statements": (
        "".join(
            f"<div class='statement'><h2><a href='/2024/05/national-day-{c.lower()}/'>{c} National Day"
            "</a></h2>"
            f"<p>The United States congratulates the people of {c} on their national day and looks forward "
            f"to our work together.</p></div>"
            for c in ("Norland", "Vesterland", "Ostmark", "Sudria")
        ),
        "congratulates the people of Sudria on their national day",
    ),
    # a briefing transcript: many short lines of questions and answers
    "briefing with short Q and A": (
        "".join(
            f"<p><b>QUESTION:</b> Any update on the talks, round {i}?</p><p><b>MR LIND:</b> Not today. "
            f"We are in touch with both sides.</p><p><a href='/briefings/{i}/'>Earlier briefing {i}</a></p>"
            for i in range(1, 6)
        ),
        "Any update on the talks, round 5?",
    ),
    # a short statement in a script written without spaces (few characters, many words), then
    # the site's related posts
    "short statement in Chinese": (
        "<p>美国政府祝贺诺兰人民国庆节快乐。我们期待在新的一年里继续与诺兰政府合作，促进地区的和平、繁荣与安全，"
        "并加深两国人民之间的友谊。</p>" + _related(6, True),
        "并加深两国人民之间的友谊。",
    ),
    # a statement with a block of teaser cards under it
    "teaser block": (
        f"<p>{TRAVEL}</p><div class='teasers'>"
        + "".join(
            f"<div class='card'><a href='/stories/{i}/'>Story teaser number {i}</a>"
            "<p>A look at the week&hellip;</p></div>"
            for i in range(4)
        )
        + "</div>",
        TRAVEL,
    ),
}


@pytest.mark.parametrize("case", sorted(NOT_LISTINGS))
def test_a_statement_shaped_like_a_list_is_kept(case):
    inner, kept = NOT_LISTINGS[case]
    doc = clean(_article("Special Envoy Lind's Travel to Norland", inner))
    assert kept in doc.text


# Sign-in walls and photo galleries (cleaners.walls): rejected; statements that share their parts
# (an account form on the page, a captioned photo, one line inviting sign-ups) are kept.
WALLS = {
    "junk-register-wall": ("boilerplate_only", "sign-in wall"),
    "junk-login-gate": ("boilerplate_only", "sign-in wall"),
    "junk-slideshow": ("not_a_statement", "photo gallery"),
}


@pytest.mark.parametrize("name", sorted(WALLS))
def test_sign_in_wall_and_gallery_are_rejected(name):
    page = wrapped_templates.render(name, STORY, CTX)
    assert page.outcome == "rejected" and wrapped_templates.BY_NAME[name].split == "dev"
    with pytest.raises(Rejected) as err:
        clean(_raw(page.url, page.body, page.content_type))
    assert (err.value.reason, err.value.detail.split(":")[0]) == WALLS[name]


def test_statement_under_a_sign_in_box_with_a_captioned_photo_is_kept():
    page = wrapped_templates.render("figure-news", STORY, CTX)
    doc = clean(_raw(page.url, page.body, page.content_type))
    assert STORY.paragraphs[0] in doc.text and STORY.paragraphs[1] in doc.text


_SIGN_IN_BOX = (
    "<form class='account' action='/login' method='post'><input type='email' name='email'>"
    "<input type='password' name='pw'><button>Sign in</button></form>"
)


def _page_with(
    title: str, paragraphs: list[str], url: str, before: str = "", after: str = "", inside: bool = False
) -> RawPage:
    """A statement page with a sign-in box in the header, or inside the article under the text."""
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    top, bottom = ("", _SIGN_IN_BOX) if inside else (_SIGN_IN_BOX, "")
    html = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<header><a href='/'>Home</a>{top}</header><main><article><h1>{title}</h1>\n"
        f"{before}{body}{after}{bottom}</article></main></body></html>"
    )
    return _raw(url, html.encode())


ACCOUNTS = [
    "The U.S. Embassy in Port Amsel joins the Government of Norland in marking Cyber Security Month.",
    "Use a long password for each of your accounts and turn on two-step sign-in wherever it is offered.",
    "Never reuse the password of your email account, and do not read messages that ask for it.",
    "Save your recovery codes somewhere safe, away from your phone and your other devices.",
    "If you believe someone has taken over your account, report it to the Norland authorities and to "
    "the service that holds it.",
]
EXHIBITION = [
    "The U.S. Embassy in Port Amsel is proud to open Rivers of Two Continents, an exhibition of "
    "photographs by Norland and American artists, at the National Gallery on May 3.",
    "The exhibition marks forty years of cultural exchange between our countries and is free to the "
    "public until the end of June. Ambassador Lee will open it with the Minister of Culture.",
]
CAPTIONS = [
    "A fishing village on the Amsel delta at dawn.",
    "Barges on the Mississippi near St. Louis in winter.",
    "Students of the Port Amsel art school at work on a river mural.",
]
SIGN_UP_ONCE = [
    "The Department of State announces that the passport agency in Port Amsel will close on Friday "
    "for the national holiday and reopen on Monday morning.",
    "U.S. citizens with emergency travel may call the Embassy's duty officer at any hour.",
    "Sign up for email updates from the Embassy to hear of closures like this one first.",
]


@pytest.mark.parametrize("inside", [False, True])
def test_statement_about_online_accounts_on_a_page_with_a_sign_in_box_is_kept(inside):
    url = "https://norland.usembassy.gov/cyber/"
    doc = clean(_page_with("Protect Your Online Accounts", ACCOUNTS, url, inside=inside))
    assert ACCOUNTS[2] in doc.text and ACCOUNTS[4] in doc.text


def test_statement_announcing_a_photo_exhibition_with_its_photos_is_kept():
    figures = "".join(
        f"<figure><img src='/img/{i}.jpg' alt=''><figcaption>{c}</figcaption></figure>\n"
        for i, c in enumerate(CAPTIONS)
    )
    raw = _page_with(
        "Embassy Opens Photo Exhibition",
        EXHIBITION,
        "https://norland.usembassy.gov/exhibition/",
        after=figures,
    )
    doc = clean(raw)
    assert EXHIBITION[0] in doc.text and EXHIBITION[1] in doc.text


@pytest.mark.parametrize("inside", [False, True])
def test_statement_with_one_captioned_photo_and_a_sign_up_line_is_kept(inside):
    figure = f"<figure><img src='/img/closed.jpg' alt=''><figcaption>{CAPTIONS[0]}</figcaption></figure>"
    url = "https://norland.usembassy.gov/closure/"
    raw = _page_with("Passport Agency Closure", SIGN_UP_ONCE, url, before=figure, inside=inside)
    doc = clean(raw)
    assert SIGN_UP_ONCE[0] in doc.text and SIGN_UP_ONCE[1] in doc.text


def test_short_post_with_pictured_teasers_of_other_posts_is_kept():
    # each teaser is an image and a sentence, like a slide, but nothing counts them as photos
    post = ["The Embassy congratulates the Norland rowing team on its win at the river games this week."]
    teasers = "".join(
        f"<div class='teaser'><img src='/t/{i}.jpg' alt=''><p>{c}</p></div>\n" for i, c in enumerate(CAPTIONS)
    )
    doc = clean(
        _page_with("Congratulations to the Rowers", post, "https://norland.usembassy.gov/row/", after=teasers)
    )
    assert post[0] in doc.text
