"""Property: whatever bytes arrive, clean() returns a Document or raises Rejected, and the
Document's text is storable (NFC, no NULs, controls or lone surrogates)."""

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaners import Rejected, clean, clean_text
from cleaners.model import Document, RawPage

FRAGMENTS = st.sampled_from(
    [
        b"<html>",
        b"<body>",
        b"<p>",
        b"</p>",
        b"<div class='share'>",
        b"</div>",
        b"<script>",
        b"</script>",
        b"<meta charset='utf-16'>",
        b"<meta charset='foobar'>",
        b"\xef\xbb\xbf",
        b"\xff\xfe",
        b"\x00",
        b"\x92",
        b"\xe2\x80",
        b"<title>Access Denied</title>",
        b"Official news published at https://www.state.gov/x/",
        b"Share/Save/Bookmark",
        b"The Secretary met the Minister to discuss labor rights and trafficking. " * 3,
        b"<!--",
        b"-->",
        b"<![CDATA[",
        b"&#0;",
        b"&#xD800;",
        b"<h1>",
        b"</h1>",
        b"<link rel=canonical href='//evil'>",
    ]
)
BODIES = st.one_of(
    st.binary(max_size=2000),
    st.lists(FRAGMENTS, max_size=40).map(b"".join),
)
CTYPES = st.sampled_from(
    [
        "text/html",
        "text/html; charset=latin-1",
        "text/plain",
        "",
        "application/octet-stream",
        "text/html; charset=utf-16",
        "application/json",
    ]
)


def storable(text: str) -> bool:
    text.encode("utf-8")  # raises on lone surrogates
    return "\x00" not in text and unicodedata.is_normalized("NFC", text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODIES, CTYPES)
def test_clean_never_crashes(body, ctype):
    raw = RawPage("https://example.org/p", None, 200, {"content-type": ctype} if ctype else {}, body, "")
    try:
        doc = clean(raw)
    except Rejected as exc:
        assert exc.reason
        return
    assert isinstance(doc, Document)
    assert storable(doc.text) and (doc.title is None or storable(doc.title))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=1500))
def test_clean_text_never_crashes(text):
    try:
        doc = clean_text(text)
    except Rejected:
        return
    assert storable(doc.text)
