"""One soft-block rule table: the crawler's middleware (reading bytes) and the cleaners (reading
the parsed tree) call the same pages block pages, for the same reason, and spare the same
real pages."""

import pytest

from cleaners import Rejected, clean, soft_block_reason
from cleaners.model import RawPage
from crawlers.middlewares.softblock import soft_block_reason as middleware_reason

ARTICLE = "".join(
    f"<p>Paragraph {i}: the Secretary and the Minister discussed labor inspections, shelters for "
    f"survivors of trafficking and joint training for border officials in the coming year.</p>"
    for i in range(12)
)


def page(title: str, body: str, head: str = "") -> bytes:
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>{head}</head>"
        f"<body>{body}</body></html>"
    ).encode()


BLOCKS = {
    "technical_difficulties": page(
        "Technical Difficulties",
        "<h1>Technical Difficulties</h1><p>We are sorry, but this page cannot be shown right now.</p>"
        "<p class='ref'>Reference #18.4f2a1c17.1710450000.2b9e11d</p>",
    ),
    "bot_wall": page(
        "Access Denied",
        "<h1>Access Denied</h1>You are not allowed to see this page on this server.<p>Reference #18.6c2a</p>",
    ),
    "bot_wall (challenge)": page(
        "Just a moment...",
        "<div class='challenge'><h1>Checking your browser before you continue</h1><p>This check runs "
        "automatically.</p><script src='/challenge-platform/orchestrate.js'></script></div>",
    ),
    "captcha": page(
        "Checking your browser",
        "<div class='g-recaptcha' data-sitekey='x'></div><p>Please confirm you are not a robot.</p>",
    ),
    "error_page": page("Site Maintenance", "<h1>Site Maintenance</h1><p>We will be back shortly.</p>"),
    "rate_limited": page("Error", "<h2>Too Many Requests</h2><p>Slow down and try again later.</p>"),
    "empty_shell": page("Loading", "<div id='app'></div><script src='/bundle.js'></script>"),
}

REAL = {
    "article mentioning access denied": page(
        "Joint Statement on Press Freedom",
        ARTICLE
        + "<p>Journalists were denied access to the hearing; access denied to the press is a concern.</p>",
    ),
    "article with a comment form captcha": page(
        "Joint Statement on Forced Labor",
        "<article>" + ARTICLE + "</article><form class='comment-form'><div class='g-recaptcha'></div></form>",
        head="<script src='https://www.google.com/recaptcha/api.js'></script>",
    ),
    "headline quoting a phrase": page(
        "Secretary's Remarks on Technical Difficulties Facing Election Observers in the Region This Year",
        "<article>" + ARTICLE + "</article>",
    ),
}


def raw(body: bytes) -> RawPage:
    url = "https://www.state.gov/some-statement/"
    return RawPage(url, url, 200, {"content-type": "text/html; charset=utf-8"}, body, "2024-01-01T00:00:00Z")


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_block_pages_get_one_reason_from_crawler_and_cleaners(name):
    body = BLOCKS[name]
    expected = name.split(" ")[0]
    assert middleware_reason(body, "text/html") == expected
    assert soft_block_reason(raw(body)) == expected
    with pytest.raises(Rejected) as info:
        clean(raw(body))
    assert (info.value.reason, info.value.detail) == ("soft_block", expected)


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_pages_are_no_soft_block_for_either(name):
    body = REAL[name]
    assert middleware_reason(body, "text/html") is None
    assert soft_block_reason(raw(body)) is None
    assert clean(raw(body)).text


def test_the_middleware_adds_only_what_the_request_expected():
    # HTML where JSON was due, or a near-empty page asked for as HTML: the request's own checks
    shell = b"<html><body><div id=app></div></body></html>"
    assert middleware_reason(shell, "text/html", "html") == "empty_shell"
    assert middleware_reason(shell, "text/html") is None
    assert middleware_reason(BLOCKS["technical_difficulties"], "text/html", "json") == "html_for_json"
