"""A Wayback Machine replay page back to the page as it was captured.

A capture read at `/web/<timestamp>/<url>` (not the raw `id_` form) comes wrapped: the archive
inserts its scripts and styles (served from `/_static/`) at the top of `<head>`, up to an
`<!-- End Wayback Rewrite JS Include -->` comment; its banner and toolbar at the top of
`<body>`, between `<!-- BEGIN WAYBACK TOOLBAR INSERT -->` and `<!-- END WAYBACK TOOLBAR
INSERT -->`; "FILE ARCHIVED ON ..." and "playback timings" comments after `</html>`; and it
rewrites every link to `[https://web.archive.org]/web/<timestamp>[im_|js_|cs_...]/<original>`.
`unwrap_capture` removes what the archive added and gives every link its original URL back,
so the cleaners read the same page as from the `id_` capture (the canonical link, a claim's
link). A page without the archive's marks is returned unchanged. Text only: no parsing here.
"""

from __future__ import annotations

import re

__all__ = ["is_replay", "unwrap_capture"]

_MARKS = ("<!-- BEGIN WAYBACK TOOLBAR INSERT -->", "<!-- End Wayback Rewrite JS Include -->")
_TOOLBAR = re.compile(
    r"<!--\s*BEGIN WAYBACK TOOLBAR INSERT\s*-->.*?<!--\s*END WAYBACK TOOLBAR INSERT\s*-->\s*", re.S | re.I
)
# The head insert: the archive's scripts and styles, up to its closing comment.
_HEAD_INSERT = re.compile(
    r"(<head\b[^>]*>)\s*(?:(?!</head>).)*?<!--\s*End Wayback Rewrite JS Include\s*-->\s*", re.S | re.I
)
_STATIC = re.compile(
    r"<script\b[^>]*\bsrc=[\"'][^\"']*/_static/[^\"']*[\"'][^>]*>\s*</script>\s*"
    r"|<link\b[^>]*\bhref=[\"'][^\"']*/_static/[^\"']*[\"'][^>]*>\s*",
    re.I,
)
_TRAILER = re.compile(r"\s*<!--\s*(?:FILE ARCHIVED ON|playback timings).*?-->", re.S | re.I)
# A rewritten link: the archive's own host (or none: root-relative), /web/, the capture time
# with an optional two-letter modifier (im_, js_, cs_, if_, id_...), then the original URL.
_REWRITTEN = re.compile(
    r"(?:(?:https?:)?//[a-z0-9.-]+(?::\d+)?)?/web/\d{1,14}(?:[a-z]{2}_)?/(?P<scheme>https?):/{1,2}", re.I
)


def is_replay(html: str) -> bool:
    """Whether `html` is a Wayback replay page (the archive's banner or rewrite marks are in it)."""
    head = html[:20000]
    return any(m in html for m in _MARKS) or ("/_static/js/" in head and "__wm." in head)


def unwrap_capture(html: str) -> str:
    """The captured page without the archive's insertions and with its links un-rewritten."""
    if not is_replay(html):
        return html
    html = _TOOLBAR.sub("", html)
    html = _HEAD_INSERT.sub(r"\1", html, count=1)
    html = _STATIC.sub("", html)
    html = _TRAILER.sub("", html)
    return _REWRITTEN.sub(lambda m: f"{m.group('scheme')}://", html)
