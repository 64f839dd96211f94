"""What a page calls its own site, and whether a part of its title is that name.

A republishing site glues its name to the statement's title ("Title · Site", "Site -- Title",
"Title / Desk / Site"), and no list of names can know the sites Dispatches has not met. But a
page says what it is called elsewhere too: `og:site_name` or `application-name`, the text or
logo `alt` of its link to the home page, the name in its copyright line ("© 2026 Civic
Relay"), and often the host itself ("meridian-ledger.example"). `own_names` gathers those;
`is_own_name` says whether a part of the title is one of them. Only what the page states of
itself counts, so a statement's own words ("Department Press Briefing", "Readout") are never
taken for a site's name by their wording. `in_banner` says whether a heading is the site's
own (in its banner, or a link home).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from cleaners.html import WS
from cleaners.model import normalise_text

_HOME_PATHS = ("", "/", "./", "/index.html", "/index.htm", "/index.php", "./index.php")
# "© 2026 Civic Relay.", "Copyright (c) 2001-2026 The Quarry Bell - ...", "© Civic Relay 2026 |"
_COPYRIGHT = re.compile(
    r"(?:©|&copy;|\(c\)|\bcopyright\b)(?:\s*(?:©|\(c\)))?\s*"
    r"(?:(?:19|20)\d\d(?:\s*[-–—]\s*(?:19|20)\d\d)?\s*,?\s*)?"
    r"(?P<name>[^.|·•;,\n©]{2,60}?)\s*(?:(?:19|20)\d\d\s*)?(?:[.|·•;,\n]|\s[-–—]\s|\ball rights\b|$)",
    re.I,
)
# links that may lead home ("/", "./", "index.php", "https://host/"), found by XPath so that
# a page's hundreds of other links are passed over without parsing them
_HREF = "normalize-space(@href)"
_HOME_HREFS = (
    f"//a[@href][string-length({_HREF}) <= 2 or contains(@href, 'index.')"
    f" or string-length(substring-after(substring-after({_HREF}, '://'), '/')) = 0]"
)
_COPYRIGHT_MARK = re.compile(r"©|copyright|\(c\)", re.I)
NAME_WORDS = 8  # a site's name is a few words; a longer text is a sentence, not a name
_HOST_SKIP = frozenset(("www", "m", "blog", "news", "com", "org", "net", "gov", "example", "co", "uk"))
_SQUASH = re.compile(r"[^a-z0-9]")


def is_home_link(href: str, host: str | None) -> bool:
    """The link leads to the site's own home page (a relative "/", or this host's root)."""
    try:
        parts = urlsplit(href.strip())
    except ValueError:  # a link no URL parser accepts ('http://[ccpa-preferences]')
        return False
    if parts.path not in _HOME_PATHS or parts.query or parts.fragment:
        return False
    return (
        not parts.netloc or not host or parts.netloc.lower().removeprefix("www.") == host.removeprefix("www.")
    )


def name_key(text: str) -> str:
    """A name folded for comparison: case, punctuation and a leading "The" do not count."""
    key = normalise_text(WS.sub(" ", text)).strip(" .:-|·•")
    return key.removeprefix("the ").strip()


def own_names(tree: HtmlElement, meta: Mapping[str, str], host: str | None) -> frozenset[str]:
    """The names the page gives its own site (folded by `name_key`): `og:site_name`,
    `application-name`, the text and image `alt` of its links home, the first and last crumbs of
    its breadcrumb trail (a forum and its board), and the name its copyright line holds. Texts
    longer than a name are left out."""
    found: list[str] = [meta.get("og:site_name") or "", meta.get("application-name") or ""]
    for a in tree.xpath(_HOME_HREFS):
        href = (a.get("href") or "").strip()
        if not href or href.startswith("#") or not is_home_link(href, host):
            continue
        found.append(a.text_content())
        found.extend(img.get("alt") or "" for img in a.iter("img"))
    found.extend(_end_crumbs(tree))
    body = tree.find("body")
    text = body.text_content() if body is not None else ""
    for mark in _COPYRIGHT_MARK.finditer(text):
        line = WS.sub(" ", text[mark.start() : mark.start() + 160].split("\n", 1)[0])
        found.extend(m.group("name") for m in _COPYRIGHT.finditer(line))
    out = set()
    for text in found:
        key = name_key(text)
        if key and len(key.split()) <= NAME_WORDS and key not in ("home", "all rights reserved"):
            out.add(key)
    return frozenset(out)


# a breadcrumb trail: named so by its class, id or label ("breadcrumbs", "navigate_section")
_LOWER = "translate({}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
_TRAIL = (
    "//*["
    + " or ".join(
        f"contains({_LOWER.format(a)}, '{w}')"
        for a in ("@class", "@id", "@aria-label")
        for w in ("breadcrumb", "navigate")
    )
    + "]"
)
_CRUMB_SPLIT = re.compile(r"[»›>|]")
_CRUMB_WORDS = 4  # a forum's or a board's name; a longer crumb is a page's title


def _end_crumbs(tree: HtmlElement) -> list[str]:
    """The first and the last crumb of the page's breadcrumb trail, when they are short enough
    to be names: a forum names itself first and the board last ("Forum » Board"). The crumb
    that is the page's own subject is longer than a name and is left out."""
    trail = next(iter(tree.xpath(_TRAIL)), None)
    if trail is None:
        return []
    crumbs = [WS.sub(" ", li.text_content()).strip(" »›>/|") for li in trail.iter("li")]
    if not crumbs:  # crumbs set in a line, between arrows
        crumbs = _CRUMB_SPLIT.split(WS.sub(" ", trail.text_content()))
    crumbs = [c.strip() for c in crumbs if c.strip()]
    ends = crumbs[:1] + crumbs[-1:] if len(crumbs) > 1 else crumbs
    return [c for c in ends if len(c.split()) <= _CRUMB_WORDS]


def host_label(host: str | None) -> str:
    """The host's name part, letters and digits only ("meridian-ledger.example" ->
    "meridianledger")."""
    labels = [p for p in (host or "").lower().split(".") if p and p not in _HOST_SKIP]
    return _SQUASH.sub("", labels[0]) if labels else ""


def is_own_name(segment: str, names: frozenset[str], host: str | None) -> bool:
    """The title's part is the site's name: one of the page's names for itself (`own_names`),
    or the host's name written out in words ("Meridian Ledger" on meridian-ledger.example)."""
    key = name_key(segment)
    if not key or len(key.split()) > NAME_WORDS:
        return False
    if key in names:
        return True
    squashed = _SQUASH.sub("", key)
    label = host_label(host)
    return len(label) >= 4 and squashed in (label, f"the{label}")


def is_site_name(candidate: str, site_name: str | None, host: str | None) -> bool:
    """The candidate names the site, not a statement ("Labor Watch Blog", "U.S. Embassy in Mexico")."""
    key = normalise_text(candidate)
    if site_name and key == normalise_text(site_name):
        return True
    if host and len(key.split()) <= 4:
        # "Labor Watch Blog" on laborwatch.example, "Harbor Light Bulletin" on harborlight-bulletin.example
        label = next((p for p in host.split(".") if p not in ("www", "m", "blog", "news")), "")
        label = re.sub(r"[^a-z0-9]", "", label)
        squashed = re.sub(r"[^a-z0-9]", "", key)
        if len(label) >= 4 and squashed.startswith(label):
            return True
    if re.match(r"^u\.?\s?s\.?\s+(?:embassy|mission|consulates?)\b.{0,50}$", key) and len(key.split()) <= 8:
        return True
    return key in ("united states department of state", "u.s. department of state", "home")


_BANNER = re.compile(
    r"(?:^|[\s_-])(?:site-?header|header-?outer|headerbar|masthead|branding|site-?title|site-?name|logo)"
    r"(?:$|[\s_-])|^header\d*$",
    re.I,
)


def in_banner(el: HtmlElement, host: str | None) -> bool:
    """The heading is the site's: inside a banner or a link to the site's home page."""
    for node in (el, *el.iterancestors()):
        if node.get("role") == "banner":
            return True
        names = f"{node.get('class') or ''} {node.get('id') or ''}".strip()
        if names and any(_BANNER.search(n) for n in names.split()):
            return True
    return any(is_home_link(a.get("href") or "", host) for a in el.iter("a"))
