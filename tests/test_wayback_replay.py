"""Wayback replay captures (`/web/<ts>/<url>`, not `id_`) served by the fixture web's mock
archive over loopback clean to the same Document as the raw `id_` capture of the same page:
no banner or toolbar, links back on their original URLs."""

from __future__ import annotations

import pytest

from cleaners import clean
from cleaners.model import RawPage
from cleaners.wayback import is_replay, unwrap_capture
from tests.fixtures.web import archive_web as aw
from tests.fixtures.web.fixtureweb import FixtureWeb

CAPTURED = [(key, caps[0][0]) for key, caps in aw.CAPTURES]


@pytest.fixture(scope="module")
def web():
    with FixtureWeb(scale=1, phase=1, crawl_delay=0) as w:
        yield w


def _raw(url: str, body: bytes) -> RawPage:
    return RawPage(
        url=url,
        final_url=url,
        status=200,
        headers={"content-type": "text/html; charset=utf-8"},
        body=body,
        fetched_at="2024-01-01T00:00:00Z",
    )


@pytest.mark.parametrize(("key", "ts"), CAPTURED, ids=[k for k, _ in CAPTURED])
def test_a_replay_capture_cleans_like_the_raw_capture(web, key, ts):
    case = aw.BY_KEY[key]
    status, _, raw_body = web.fetch(f"https://{aw.WAYBACK}/web/{ts}id_/{case.url}")
    status2, _, replay_body = web.fetch(f"https://{aw.WAYBACK}/web/{ts}/{case.url}")
    assert (status, status2) == (200, 200)
    page = replay_body.decode()
    # The mock archive wraps it the way the Wayback Machine does.
    assert "<!-- BEGIN WAYBACK TOOLBAR INSERT -->" in page and "/_static/js/" in page
    assert f"/web/{ts}/" in page and "FILE ARCHIVED ON" in page and is_replay(page)
    assert not is_replay(raw_body.decode())
    doc, want = clean(_raw(case.url, replay_body)), clean(_raw(case.url, raw_body))
    assert doc == want
    assert (doc.title, doc.text, doc.published) == (case.title, case.text, case.published)
    seen = doc.text + " ".join(r.text for r in doc.removed)
    assert "Wayback" not in seen and "captures" not in seen and "COLLECTED BY" not in seen


def test_links_get_their_original_urls_back(web):
    case = aw.BY_KEY["gone-state-statement"]
    _, _, body = web.fetch(f"https://{aw.WAYBACK}/web/20190112080000/{case.url}")
    assert f'href="https://{aw.WAYBACK}/web/20190112080000/{case.url}"' in body.decode()
    page = unwrap_capture(body.decode())
    assert f'<link rel="canonical" href="{case.url}">' in page
    assert "/web/" not in page and "__wm" not in page and "/_static/" not in page
    assert clean(_raw(case.url, body)).canonical == case.url
    # Root-relative links of the captured site come back as absolute links to it.
    _, _, body = web.fetch(
        f"https://{aw.WAYBACK}/web/20150313101010/{aw.BY_KEY['embassy-2015-labor-inspectors'].url}"
    )
    assert 'href="http://mexico.usembassy.gov/visas.html"' in unwrap_capture(body.decode())


def test_a_page_without_the_archive_marks_is_left_alone():
    page = (
        '<html><head><script src="/web/app.js"></script></head>'
        '<body><a href="/web/2014/http://x.example/">x</a></body></html>'
    )
    assert unwrap_capture(page) is page
