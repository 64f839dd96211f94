"""Order-independence and idempotency of the identity cascade (hypothesis), and the
near-duplicate confirmation on its own."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import Store, neardup, normalise_url
from store.testing import GRANTS, HARBOUR, national_day, page, readout, truncated, wrapped

DAY = date(2024, 3, 1)
ORIGINAL = "https://www.state.gov/harbour-agreement/"
NORLAND = national_day("Norland", "Norlanders", 75, "Ilse Brandt")
SUDMARK = national_day("Sudmark", "Sudmarkers", 31, "Tomas Ruiz")

# name -> (url, text, title, published, claimed original)
COPIES = {
    "O": (ORIGINAL, HARBOUR, "Harbour Agreement", DAY, None),
    "A": ("https://2021-2025.state.gov/harbour-agreement/", HARBOUR, "Harbour Agreement", DAY, None),
    "E": (
        "https://mx.usembassy.gov/harbour-agreement/",
        "The following statement was released by the Department of State in Washington.\n\n" + HARBOUR,
        "Harbour Agreement",
        DAY,
        None,
    ),
    "T": ("https://wire.example/harbour", truncated(HARBOUR, 0.45), "Harbour deal | Wire", None, None),
    "W": (
        "https://news.example/2024/03/harbour",
        wrapped(HARBOUR),
        "Harbour Agreement",
        date(2024, 3, 2),
        None,
    ),
    "S": (
        "https://agg.example/item/77",
        "Two neighbours agreed to reopen a harbour, and Washington welcomed the "
        "deal in a statement on Friday; read the official statement at the link.",
        "Harbour",
        DAY,
        ORIGINAL,
    ),
    "X": (
        "https://www.state.gov/norland-national-day/",
        NORLAND,
        "Norland National Day",
        date(2024, 5, 1),
        None,
    ),
    "XW": ("https://news.example/norland", wrapped(NORLAND), "Norland National Day", date(2024, 5, 1), None),
    "Y": (
        "https://www.state.gov/sudmark-national-day/",
        SUDMARK,
        "Sudmark National Day",
        date(2024, 5, 2),
        None,
    ),
    "G": ("https://www.state.gov/radio-grants/", GRANTS, "Community Radio Grants", DAY, None),
    "GT": ("https://radio.example/grants", truncated(GRANTS, 0.4), "Radio grants", None, None),
    "R1": (
        "https://www.state.gov/call-norland/",
        readout("Norland", "Ilse Brandt", "maritime security"),
        "The Secretary's Call with Norland",
        DAY,
        None,
    ),
    "R2": (
        "https://www.state.gov/call-sudmark/",
        readout("Sudmark", "Tomas Ruiz", "maritime security"),
        "The Secretary's Call with Sudmark",
        DAY,
        None,
    ),
}
EXPECTED = {
    frozenset({"O", "A", "E", "T", "W", "S"}),
    frozenset({"X", "XW"}),
    frozenset({"Y"}),
    frozenset({"G", "GT"}),
    frozenset({"R1"}),
    frozenset({"R2"}),
}
REPRESENTED_BY = {"O": "Harbour Agreement", "X": "Norland National Day", "G": "Community Radio Grants"}


def save_all(s: Store, names, fetched_at="2024-06-01T00:00:00Z"):
    out = {}
    for n in names:
        url, text, title, published, claimed = COPIES[n]
        out[n] = s.save(*page(url, text, title, published, claimed=claimed, fetched_at=fetched_at))
    return out


def partition(s: Store) -> set[frozenset[str]]:
    by_key = {normalise_url(COPIES[n][0]): n for n in COPIES}
    groups: dict[int, set[str]] = {}
    for key, aid in s.db.conn.execute("SELECT url_key, article_id FROM copies"):
        groups.setdefault(aid, set()).add(by_key[key])
    return {frozenset(g) for g in groups.values()}


def state(s: Store) -> dict:
    """Everything a repeat save must leave alone (fetched_at aside)."""
    out = {}
    for table, cols in [
        ("articles", "*"),
        ("copies", "*"),
        ("versions", "*"),
        ("texts", "*"),
        ("pages", "sha256, size"),
        ("fingerprints", "*"),
        ("fp_df", "*"),
        ("pending_attributions", "*"),
        ("review_pairs", "*"),
        ("merged_articles", "*"),
        ("redirects", "*"),
    ]:
        cur = s.db.conn.execute(f"SELECT {cols} FROM {table}")
        names = [d[0] for d in cur.description]
        out[table] = sorted(
            repr(
                [
                    v
                    for k, v in zip(names, r, strict=True)
                    if k not in ("fetched_at", "created_at", "merged_at")
                ]
            )
            for r in cur.fetchall()
        )
    return out


def test_the_reference_order_gives_the_expected_articles():
    s = Store(":memory:")
    save_all(s, COPIES)
    assert partition(s) == EXPECTED
    s.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(list(COPIES)))
def test_any_order_of_the_same_copies_gives_the_same_articles(order):
    s = Store(":memory:")
    save_all(s, order)
    assert partition(s) == EXPECTED
    titles = dict(
        s.db.conn.execute("SELECT c.url_key, a.title FROM copies c JOIN articles a ON a.id = c.article_id")
    )
    for name, title in REPRESENTED_BY.items():
        assert (
            titles[normalise_url(COPIES[name][0])] == title
        )  # the official copy represents, whatever the order
    canon = dict(
        s.db.conn.execute(
            "SELECT c.url_key, a.canonical_url FROM copies c JOIN articles a ON a.id = c.article_id"
        )
    )
    assert canon[normalise_url(COPIES["T"][0])] == ORIGINAL
    # every article's counters agree with its copies
    assert (
        s.db.conn.execute(
            "SELECT count(*) FROM articles a WHERE copies_count != "
            "(SELECT count(*) FROM copies c WHERE c.article_id = a.id)"
        ).fetchone()[0]
        == 0
    )
    s.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(list(COPIES)), subset=st.integers(min_value=1, max_value=len(COPIES)))
def test_saving_twice_is_idempotent(order, subset):
    s = Store(":memory:")
    names = order[:subset]
    save_all(s, names)
    before = state(s)
    again = save_all(s, reversed(names), fetched_at="2024-07-01T00:00:00Z")
    assert {r.outcome for r in again.values()} == {"unchanged"}
    assert state(s) == before
    s.close()


# ---------------------------------------------------------------- confirmation


def T(text):
    return neardup.Text.of(text)


def test_truncated_copy_with_cruft_scores_high():
    v = neardup.compare(
        T("Posted in World News | Share\n\n" + truncated(HARBOUR, 0.5) + " Comments are closed."), T(HARBOUR)
    )
    assert v.same and v.score >= 0.9


def test_names_numbers_and_dates_make_lookalikes():
    v = neardup.compare(T(NORLAND), T(SUDMARK))
    assert not v.same and v.review == "lookalike" and "Sudmark" in v.detail
    v = neardup.compare(T(NORLAND), T(national_day("Norland", "Norlanders", 76, "Ilse Brandt")))
    assert not v.same and "76th" in v.detail


def test_spelling_fixes_and_token_splits_are_not_lookalikes():
    a = HARBOUR.replace("coastal council", "Coastal Council of Washington, D.C.")
    b = HARBOUR.replace("coastal council", "Coastal Councel of Washington, DC")
    v = neardup.compare(T(a), T(b))
    assert v.same, v


def test_dated_titles_differ():
    v = neardup.compare(
        T(GRANTS),
        T(GRANTS.replace("forty", "forty-one")),
        new_title="Public Schedule - July 1, 2021",
        old_title="Public Schedule - July 2, 2021",
    )
    assert not v.same and v.review == "title_mismatch"


def test_weeks_apart_needs_the_very_same_text():
    late = neardup.compare(
        T(wrapped(GRANTS)), T(GRANTS), new_date=date(2024, 6, 1), old_date=date(2024, 3, 1)
    )
    assert late.same  # a late republication of the same text
    diverging = readout("Norland", "Ilse Brandt", "maritime security").replace(
        "and humanitarian assistance", "and the reconstruction of the northern harbour"
    )
    v = neardup.compare(
        T(diverging),
        T(readout("Norland", "Ilse Brandt", "maritime security")),
        new_date=date(2024, 6, 1),
        old_date=date(2024, 3, 1),
    )
    assert not v.same


def test_official_pages_sharing_only_an_opening_are_not_one_statement():
    opening = readout("Norland", "Ilse Brandt", "maritime security").split(" The Secretary thanked")[0]
    a = (
        opening
        + " They reviewed plans for a new fisheries agreement and a joint patrol of the straits next spring."
    )
    b = (
        opening
        + " They discussed the upcoming election observation mission and support for independent media."
    )
    assert not neardup.compare(T(a), T(b), edges_ok=False).same


def test_short_texts_are_never_near_matched():
    assert not neardup.compare(T("Statement on the harbour."), T("Statement on the harbour today.")).same


def test_fingerprints_of_an_excerpt_are_a_subset():
    full = set(neardup.fingerprints(T(HARBOUR).hashes))
    part = set(neardup.fingerprints(T(truncated(HARBOUR, 0.5, tail="")).hashes))
    assert part and part <= full


# ---------------------------------------------------------------- URL keys

_seg = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~%é", min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https", "HTTPS"]),
    www=st.booleans(),
    host=st.sampled_from(["state.gov", "mx.usembassy.gov", "news.example", "2021-2025.state.gov"]),
    path=st.lists(_seg, max_size=4),
    slash=st.booleans(),
    params=st.lists(
        st.tuples(st.sampled_from(["id", "page", "utm_source", "token", "api_key", "fbclid", "q"]), _seg),
        max_size=4,
    ),
    frag=st.one_of(st.none(), _seg),
    userinfo=st.booleans(),
)
def test_url_keys_are_stable_and_never_hold_secrets(scheme, www, host, path, slash, params, frag, userinfo):
    url = (
        f"{scheme}://{'user:pw@' if userinfo else ''}{'www.' if www and host.count('.') == 1 else ''}{host}/"
        + "/".join(path)
        + ("/" if slash and path else "")
        + ("?" + "&".join(f"{k}={v}" for k, v in params) if params else "")
        + (f"#{frag}" if frag else "")
    )
    key = normalise_url(url)
    assert key is not None and key.startswith("https://") and "#" not in key
    # no userinfo ("@" itself is a legal path character: "%40" in a path stays one)
    assert urlsplit(key).username is None and urlsplit(key).password is None
    assert normalise_url(key) == key
    for secret in ("token=", "api_key=", "utm_source=", "fbclid="):
        assert secret not in key
    # the www. form, the other scheme and a trailing slash all give the same key
    alt = url.replace(f"{scheme}://", "http://" if scheme.lower() == "https" else "https://", 1)
    assert normalise_url(alt) == key
