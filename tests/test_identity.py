"""Identity on statements the rules were not written from: formulaic posts that differ only
in names, places, numbers and dates; official copies on different official hosts; moved and
edited official statements. Texts are written for these tests (store.testing)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from store import Store, neardup, normalise_url
from store.testing import (
    GRANTS,
    HARBOUR,
    all_rows,
    national_day,
    one,
    page,
    readout,
    security_alert,
    truncated,
    visa_notice,
    wrapped,
)

DAY = date(2024, 6, 12)
OFFICIAL = "https://www.state.gov/harbour-agreement/"
KAMPALA = security_alert(
    "Kampala", "Uganda", "June 12, 2024", "Demonstrations", "1577 Ggaba Road", "+256 414 306 001"
)
NAIROBI = security_alert(
    "Nairobi", "Kenya", "June 14, 2024", "Demonstrations", "United Nations Avenue", "+254 20 363 6000"
)
_CAUTION = (
    "Demonstrations intended to be peaceful can turn confrontational and escalate into violence with "
    "little warning. Local authorities may close roads and public transport may be disrupted near "
    "government buildings and public squares. "
)


def regional_alert(areas: str) -> str:
    """An alert whose only difference from its sibling is one dense run of place names."""
    return (
        "Security Alert for U.S. citizens\n\nThe Embassy informs U.S. citizens that demonstrations are "
        f"planned on Friday. {_CAUTION * 2}\n\nAffected areas: {areas}.\n\nActions to Take: Avoid the "
        "areas of the demonstrations. Monitor local media for updates. Keep a low profile and be aware "
        "of your surroundings. Review your personal security plans."
    )


def arabic_greeting(country: str) -> str:
    return (
        f"تهنئ حكومة الولايات المتحدة شعب {country} بمناسبة العيد الوطني وتتمنى له السلام والازدهار "
        "والتقدم في جميع المجالات خلال الأعوام المقبلة مع شركائنا في المنطقة والعالم نتطلع إلى مواصلة "
        "العمل مع الحكومة في مجالات الطاقة والصحة والتعليم والتجارة والاستثمار والأمن الإقليمي والتبادل "
        "الثقافي بين شعبينا الصديقين خلال العام المقبل وما بعده وتبقى الشراكة بين بلدينا قوية ونحن نعمل "
        "معا من أجل منطقة آمنة ومزدهرة للجميع"
    )


@pytest.fixture
def db():
    s = Store(":memory:")
    yield s
    s.close()


def T(text: str) -> neardup.Text:
    return neardup.Text.of(text)


def article(db: Store, aid: int) -> dict:
    return one(db, "SELECT * FROM articles WHERE id = ?", (aid,))


# ---------------------------------------------------------------- what differs


@pytest.mark.parametrize("edges_ok", [True, False])
def test_alerts_differing_in_city_post_date_address_and_phone_are_two_statements(edges_ok):
    v = neardup.compare(T(NAIROBI), T(KAMPALA), edges_ok=edges_ok)
    assert not v.same and v.review == "lookalike"
    assert "Nairobi" in v.detail or "Kenya" in v.detail


def test_a_light_edit_or_a_typo_fix_is_not_a_difference_of_names():
    edited = HARBOUR.replace("tireless work", "tireless and patient work").replace(
        "navigation safety", "navigational safety"
    )
    assert neardup.compare(T(truncated(edited, 0.7)), T(HARBOUR)).same
    # a number word that stands alone, or goes with a word that is no number, is no count
    loose = GRANTS.replace("a programme designed", "one programme designed").replace(
        "the first programmes", "the opening programmes"
    )
    assert neardup.compare(T(wrapped(loose)), T(GRANTS)).same


@pytest.mark.parametrize(
    "a,b",
    [
        (  # posts and cities
            visa_notice("Embassy", "Abuja", "March 3, 2024", 500),
            visa_notice("Consulate General", "Lagos", "March 3, 2024", 500),
        ),
        (  # only the number of appointments and the date
            visa_notice("Embassy", "Abuja", "March 3, 2024", 500),
            visa_notice("Embassy", "Abuja", "April 7, 2024", 800),
        ),
        (  # the whole list of names replaced in one run
            readout("Norland", "Ilse Brandt", "maritime security"),
            readout(
                "the Republic of Sudmark", "Deputy Prime Minister Tomas Ruiz Alvarado", "maritime security"
            ),
        ),
        (  # numbers written in words: the count of grants, the months until the report
            GRANTS,
            GRANTS.replace("forty new", "sixty new").replace("after twelve months", "after eighteen months"),
        ),
        (  # an ordinal in words
            GRANTS.replace("Today the Department", "For the third year the Department"),
            GRANTS.replace("Today the Department", "For the fourth year the Department"),
        ),
        (  # a script without letter case: the country is the only difference
            arabic_greeting("مصر"),
            arabic_greeting("الأردن"),
        ),
        (  # one dense run of place names, no number in it
            regional_alert("Wakiso District, Mukono Town, Entebbe Road and Jinja Highway near Kireka"),
            regional_alert("Kiambu County, Thika Road, Machakos Town and Mombasa Road near Athi River"),
        ),
    ],
)
def test_formulaic_notices_and_messages_differing_in_names_or_numbers(a, b):
    for edges_ok in (True, False):
        assert not neardup.compare(T(a), T(b), edges_ok=edges_ok).same


def test_two_embassies_alerts_are_two_articles_with_their_own_url_and_date(db):
    ug = "https://ug.usembassy.gov/security-alert-demonstrations/"
    ke = "https://ke.usembassy.gov/security-alert-demonstrations/"
    a = db.save(*page(ug, KAMPALA, "Security Alert: Demonstrations", DAY))
    b = db.save(*page(ke, NAIROBI, "Security Alert: Demonstrations", date(2024, 6, 14)))
    assert b.outcome == "new" and b.article_id != a.article_id
    assert (article(db, a.article_id)["canonical_url"], article(db, a.article_id)["published"]) == (
        ug,
        "2024-06-12",
    )
    assert (article(db, b.article_id)["canonical_url"], article(db, b.article_id)["published"]) == (
        ke,
        "2024-06-14",
    )
    # republished copies find their own alert
    for text, aid in ((KAMPALA, a.article_id), (NAIROBI, b.article_id)):
        city = "kampala" if aid == a.article_id else "nairobi"
        w = db.save(*page(f"https://travel-news.example/{city}", wrapped(text), "Alert", DAY))
        t = db.save(*page(f"https://wire.example/{city}", truncated(text, 0.9), "Alert", DAY))
        assert (w.article_id, t.article_id) == (aid, aid)


def test_alerts_of_two_posts_on_one_host_are_two_articles(db):
    host = "https://ng.usembassy.gov"
    a = db.save(*page(f"{host}/alert-abuja/", KAMPALA.replace("Kampala", "Abuja"), "Alert", DAY))
    b = db.save(*page(f"{host}/alert-lagos/", KAMPALA.replace("Kampala", "Lagos"), "Alert", DAY))
    assert b.article_id != a.article_id


# ---------------------------------------------------------------- official copies on two hosts


EMBASSY = "https://mx.usembassy.gov/harbour-agreement/"


def test_an_embassy_text_near_a_department_text_is_not_joined_by_similarity_alone(db):
    a = db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    # the embassy's own statement: the Department's text less its last line, plus a paragraph
    own = HARBOUR.rsplit("\n\n", 1)[0] + (
        "\n\nThe embassy will hold a briefing for exporters and shipping agents on the new rules."
    )
    e = db.save(*page(EMBASSY, own, "Harbour Agreement", DAY))
    assert e.article_id != a.article_id and a.article_id in e.review
    assert one(db, "SELECT reason FROM review")["reason"] == "other_official_host"


@pytest.mark.parametrize(
    "text,claimed",
    [
        (HARBOUR, None),  # identical text
        (HARBOUR.replace("tireless work", "tireless and patient work"), OFFICIAL),  # attribution
        (
            "The following statement was released by the U.S. Department of State.\n\n"
            + HARBOUR.replace("tireless work", "tireless and patient work"),
            None,
        ),
        (
            HARBOUR.replace("tireless work", "tireless and patient work")
            + "\n\nOriginal statement: https://www.state.gov/harbour-agreement/",
            None,
        ),
    ],
)
def test_an_embassy_copy_joins_on_identical_text_attribution_or_its_republished_line(db, text, claimed):
    for order in ((OFFICIAL, EMBASSY), (EMBASSY, OFFICIAL)):
        s = Store(":memory:")
        got = {}
        for url in order:
            body, claim = (HARBOUR, None) if url == OFFICIAL else (text, claimed)
            got[url] = s.save(*page(url, body, "Harbour Agreement", DAY, claimed=claim)).article_id
        assert got[OFFICIAL] == got[EMBASSY], order
        assert article(s, got[OFFICIAL])["canonical_url"] == OFFICIAL
        s.close()


def test_an_archive_copy_of_the_same_path_joins_despite_template_differences(db):
    a = db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    archived = HARBOUR + "\n\nTags: Office of the Spokesperson, Maritime Security"
    b = db.save(*page("https://2021-2025.state.gov/harbour-agreement/", archived, "Harbour Agreement", DAY))
    assert b.article_id == a.article_id


# ---------------------------------------------------------------- moves


MOVED = "https://www.state.gov/harbour-agreement-signed/"


def test_a_301_moves_the_article_to_the_new_url_title_and_text(db):
    a = db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    edited = HARBOUR.replace("three years", "almost three years")
    m = db.save(
        *page(
            OFFICIAL,
            edited,
            "Harbour Agreement Signed",
            DAY,
            final_url=MOVED,
            fetched_at="2024-06-20T00:00:00Z",
            meta={"redirect_status": 301},
        )
    )
    assert (m.article_id, m.match_method) == (a.article_id, "url")
    art = article(db, a.article_id)
    assert (art["canonical_url"], art["title"], art["text"]) == (MOVED, "Harbour Agreement Signed", edited)
    old = one(db, "SELECT * FROM copies WHERE id = ?", (a.copy_id,))
    assert old["gone"] == 1 and old["moved_to"] == MOVED
    assert [r["text"] for r in all_rows(db, "SELECT text FROM versions ORDER BY id")] == [HARBOUR, edited]


def test_a_temporary_redirect_is_not_a_move(db):
    a = db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    db.save(
        *page(
            OFFICIAL,
            "Sign in to continue. Your session has expired; please sign in again to read this page.",
            "Sign in",
            None,
            final_url="https://www.state.gov/login/",
            meta={"redirect_status": 302},
        )
    )
    old = one(db, "SELECT * FROM copies WHERE id = ?", (a.copy_id,))
    assert old["gone"] == 0 and old["moved_to"] is None
    assert article(db, a.article_id)["canonical_url"] == OFFICIAL


def test_a_redirect_to_a_url_saved_before_folds_the_two(db):
    a = db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    edited = HARBOUR.replace("We thank the mediators", "We warmly thank the mediators")
    b = db.save(*page(MOVED, edited, "Harbour Agreement Signed", DAY, fetched_at="2024-06-20T00:00:00Z"))
    assert b.article_id != a.article_id  # two live posts of one site, for now
    r = db.save(*page(OFFICIAL, edited, "Harbour Agreement Signed", DAY, final_url=MOVED))
    assert r.article_id == b.article_id
    old = one(db, "SELECT * FROM copies WHERE id = ?", (a.copy_id,))
    assert (old["article_id"], old["gone"], old["moved_to"]) == (b.article_id, 1, MOVED)
    assert db.db.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
    assert article(db, b.article_id)["canonical_url"] == MOVED


GUID = "https://www.state.gov/?p=320953"


def test_a_post_whose_guid_has_a_new_permalink_moves(db):
    a = db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY, meta={"guid": GUID}))
    edited = HARBOUR.replace("three years", "nearly three years")
    m = db.save(
        *page(
            MOVED,
            edited,
            "Harbour Agreement Signed",
            DAY,
            fetched_at="2024-06-20T00:00:00Z",
            meta={"guid": GUID},
        )
    )
    assert (m.article_id, m.match_method) == (a.article_id, "url")
    art = article(db, a.article_id)
    assert (art["canonical_url"], art["title"], art["text"]) == (MOVED, "Harbour Agreement Signed", edited)
    old = one(db, "SELECT * FROM copies WHERE id = ?", (a.copy_id,))
    assert (old["gone"], old["moved_to"]) == (1, MOVED)
    assert db.copy_state(OFFICIAL)["gone"] == 1


def test_another_guid_at_a_known_url_is_another_post(db):
    text = national_day("Norland", "Norlanders", 74, "Ilse Brandt")
    a = db.save(*page(OFFICIAL, text, "Norland National Day", DAY, meta={"guid": GUID}))
    b = db.save(
        *page(
            OFFICIAL,
            text.replace("74th", "75th"),
            "Norland National Day",
            date(2025, 6, 12),
            fetched_at="2025-06-12T00:00:00Z",
            meta={"guid": "https://www.state.gov/?p=400001"},
        )
    )
    assert b.article_id != a.article_id
    assert article(db, a.article_id)["text"] == text


# ---------------------------------------------------------------- edits


SHORT = (
    "The United States condemns the attack on the border post at Lake Vell on Monday. We extend our "
    "condolences to the families of the victims and call for a full investigation."
)


@pytest.mark.parametrize("meta", [{}, {"guid": GUID}])
def test_an_edit_of_a_few_words_in_a_short_statement_is_its_newest_version(db, meta):
    a = db.save(*page(OFFICIAL, SHORT, "Attack at Lake Vell", DAY, meta=meta))
    edited = SHORT.replace("on Monday", "on Monday night").replace("full investigation", "swift inquiry")
    v = db.save(
        *page(OFFICIAL, edited, "Attack at Lake Vell", DAY, fetched_at="2024-06-13T00:00:00Z", meta=meta)
    )
    assert (v.article_id, v.outcome) == (a.article_id, "version")
    assert article(db, a.article_id)["text"] == edited
    assert db.db.execute("SELECT count(*) FROM versions").fetchone()[0] == 2


def test_the_newest_official_text_represents_when_two_urls_hold_it(db):
    a = db.save(*page(OFFICIAL, HARBOUR, "Harbour Agreement", DAY))
    b = db.save(*page("https://www.state.gov/harbour-agreement-2/", HARBOUR, "Harbour Agreement", DAY))
    assert b.article_id == a.article_id
    edited = HARBOUR.replace("three years", "almost three years")
    db.save(
        *page(
            "https://www.state.gov/harbour-agreement-2/",
            edited,
            "Harbour Agreement (updated)",
            DAY,
            fetched_at="2024-06-20T00:00:00Z",
        )
    )
    art = article(db, a.article_id)
    assert (art["text"], art["title"]) == (edited, "Harbour Agreement (updated)")
    assert art["canonical_url"] == "https://www.state.gov/harbour-agreement-2/"
    assert normalise_url(art["canonical_url"]) in {
        r["url_key"] for r in all_rows(db, "SELECT url_key FROM copies")
    }


def test_a_corrected_title_alone_is_the_articles_title(db):
    doc, raw = page(OFFICIAL, HARBOUR, "Harbour agreement", DAY)
    a = db.save(doc, raw)
    fixed = dataclasses.replace(doc, title="Harbour Agreement")
    db.save(fixed, dataclasses.replace(raw, fetched_at="2024-06-13T00:00:00Z"))
    assert article(db, a.article_id)["title"] == "Harbour Agreement"


# ---------------------------------------------------------------- names in the opening words


def library_notice(venue: str, city: str) -> str:
    """A notice whose only differences stand in its first words."""
    return (
        f"The {venue} in {city} opens its new reading room to the public next week, with a collection "
        "of novels, field guides and reference works in English and the local languages.\n\n"
        "Visitors can borrow up to three books at a time, use the computers for research and attend "
        "weekly conversation clubs led by volunteers. Membership is free for students and teachers.\n\n"
        "The reading room is open from Monday to Saturday and closed on public holidays."
    )


PORTO = library_notice("American Space", "Porto Velho")
SALVA = library_notice("Information Resource Center", "Salvador")
BOA_VISTA = library_notice("Binational Center of the Northern Amazon Region", "Boa Vista")
RECIFE = library_notice("Library", "Recife")


@pytest.mark.parametrize(
    "official,other",
    [
        (PORTO, SALVA),
        (PORTO, BOA_VISTA),  # a long name for a short one
        (BOA_VISTA, RECIFE),
        (RECIFE, BOA_VISTA),
        ("Media Note\n\nCultural Affairs\n\n" + PORTO, SALVA),  # a heading the copies drop
        ("Media Note\n\nOffice of Cultural Affairs, Brasilia, regional programmes desk\n\n" + PORTO, SALVA),
    ],
)
def test_look_alikes_differing_in_their_opening_words_stay_apart(official, other):
    for copy in (wrapped(other), truncated(other, 0.5)):
        v = neardup.compare(T(copy), T(official))
        assert not v.same and v.review == "lookalike"
        assert neardup.compare(T(copy), T(other)).same


@pytest.mark.parametrize("text", [GRANTS, HARBOUR, PORTO])
@pytest.mark.parametrize("tail", [" ... Read more", " Continue reading on the source site", " [full text]"])
def test_an_excerpt_cut_anywhere_with_any_link_line_is_a_copy(text, tail):
    words = text.split(" ")
    for cut in range(30, len(words) - 2):
        excerpt = " ".join(words[:cut]) + tail
        assert neardup.compare(T(excerpt), T(text)).same, cut
        assert neardup.compare(T(wrapped(excerpt)), T(text)).same, cut


def test_a_copy_whose_opening_line_the_aggregator_replaced_is_still_a_copy():
    official = "Media Note\n\nOffice of the Spokesperson\n\n" + PORTO
    copy = "Filed by our culture desk\n\n" + PORTO + "\n\nShare this story"
    assert neardup.compare(T(copy), T(official)).same
    assert neardup.compare(T(truncated(PORTO, 0.6)), T(official)).same


# ---------------------------------------------------------------- newest official text, any host


def test_an_embassy_edit_represents_even_when_state_gov_keeps_the_old_words(db):
    embassy = "https://br.usembassy.gov/reading-room/"
    department = "https://www.state.gov/reading-room-porto-velho/"
    a = db.save(*page(embassy, PORTO, "Reading Room Opens", DAY))
    b = db.save(*page(department, PORTO, "Reading Room Opens", DAY, fetched_at="2024-06-12T12:00:00Z"))
    assert b.article_id == a.article_id
    assert article(db, a.article_id)["canonical_url"] == department  # state.gov first among equals
    edited = PORTO.replace("weekly conversation clubs", "weekly conversation and film clubs")
    db.save(*page(embassy, edited, "Reading Room Opens", DAY, fetched_at="2024-06-14T00:00:00Z"))
    art = article(db, a.article_id)
    assert (art["text"], art["canonical_url"]) == (edited, embassy)
    again = edited.replace("free for students", "free for all students")
    db.save(*page(department, again, "Reading Room Opens", DAY, fetched_at="2024-06-15T00:00:00Z"))
    art = article(db, a.article_id)
    assert (art["text"], art["canonical_url"]) == (again, department)


# ---------------------------------------------------------------- a dateline, a signature, one more name


def water_notice(dateline: str) -> str:
    """A notice that may differ from its sibling only in the city of its dateline."""
    return (
        f"{dateline} \u2013 Water to the chancery will be shut off on Saturday morning while the city "
        "replaces a main under the street, and the building will run on its reserve tank until the "
        "afternoon.\n\nVisitors with appointments that day are asked to bring drinking water and to expect "
        "short delays at the entrance. Restrooms on the ground floor will be closed.\n\n"
        "Normal service is expected to return by four o'clock."
    )


def thanks_letter(signature: str) -> str:
    """A letter that may differ from its sibling only in the name that signs it."""
    return (
        "Dear volunteers of the river clean-up,\n\nThank you for the long Saturday you gave to the banks "
        "of the river. Together you filled more bags than any team before you, planted young willows "
        "along the path and showed the neighbourhood what a few committed people can do.\n\n"
        "We were proud to work beside you and hope to see you again at the autumn clean-up.\n\n"
        f"With gratitude,\n{signature}"
    )


def donor_statement(partners: str) -> str:
    """A statement that may differ from its sibling only in one more name in a list."""
    return (
        f"The governments of {partners} announced today that they will jointly fund a new programme "
        "to repair rural roads damaged by the spring floods, so that farmers can bring their harvest "
        "to market before the rains return.\n\nThe programme will hire local workers, buy materials "
        "from local suppliers and publish every contract online. An independent engineer will inspect "
        "each road before payment is made.\n\nWork is expected to begin within six weeks."
    )


ABC = "Arvenia, Belmark and Corvale"
LOOKALIKE_EDGES = [
    (water_notice("TIRANA"), water_notice("SKOPJE")),
    (water_notice("PODGORICA, Montenegro"), water_notice("SARAJEVO, Bosnia and Herzegovina")),
    (thanks_letter("Grace Holloway\nConsul General"), thanks_letter("Tomasz Wierzbicki\nConsul General")),
    (thanks_letter("Ambassador Grace Holloway"), thanks_letter("Ambassador Ruth Abebe")),
    (donor_statement(ABC), donor_statement("Arvenia, Belmark, Dunmore and Corvale")),
    (donor_statement("Arvenia and Belmark"), donor_statement(ABC)),
    (donor_statement(ABC), donor_statement("Arvenia, Belmark, Corvale, Dunmore")),
]


@pytest.mark.parametrize("a,b", LOOKALIKE_EDGES)
def test_look_alikes_differing_in_a_dateline_a_signature_or_one_more_listed_name(a, b):
    for x, y in ((a, b), (b, a)):
        for copy in (x, wrapped(x), "Filed by the regional desk\n\n" + x + "\n\nShare | Print"):
            v = neardup.compare(T(copy), T(y))
            assert not v.same and v.review == "lookalike", (copy[:40], v)
            assert neardup.compare(T(copy), T(x)).same


@pytest.mark.parametrize(
    "official,copy",
    [
        # the aggregator adds a dateline, or a byline, or writes the dateline its own way
        (water_notice("TIRANA").split(" \u2013 ", 1)[1], water_notice("TIRANA")),
        (water_notice("TIRANA"), "By Staff Reporter\n\n" + water_notice("TIRANA")),
        (water_notice("TIRANA"), water_notice("Tirana, Albania")),
        (water_notice("TIRANA"), "WORLD BRIEFS - " + water_notice("TIRANA")),
        # the signature is cut, or the copy signs off with its own line
        (thanks_letter("Grace Holloway\nConsul General"), thanks_letter("").rstrip()),
        (
            thanks_letter("Grace Holloway\nConsul General"),
            thanks_letter("").rstrip() + "\n\nRelated: Albania, Kosovo, North Macedonia",
        ),
        (thanks_letter("Grace Holloway"), thanks_letter("Grace Holloway") + "\n\nRegional Ledger staff"),
        # a related-countries line after the text, or inside it on a line of its own
        (
            donor_statement("Arvenia, Belmark and Corvale"),
            donor_statement("Arvenia, Belmark and Corvale") + "\n\nRelated: Arvenia, Belmark, Dunmore",
        ),
        (
            donor_statement("Arvenia, Belmark and Corvale"),
            donor_statement("Arvenia, Belmark and Corvale").replace(
                "\n\nThe programme", "\n\nArvenia, Belmark, Dunmore\n\nThe programme"
            ),
        ),
        # an excerpt that stops before the signature
        (thanks_letter("Grace Holloway"), truncated(thanks_letter("Grace Holloway"), 0.5)),
    ],
)
def test_a_copy_that_adds_or_cuts_a_dateline_byline_signature_or_related_line_is_a_copy(official, copy):
    for c in (copy, wrapped(copy)):
        assert neardup.compare(T(c), T(official)).same, c[-80:]


def test_an_excerpt_that_fits_two_look_alikes_does_not_carry_one_into_the_other(db):
    holloway, abebe = thanks_letter("Ambassador Grace Holloway"), thanks_letter("Ambassador Ruth Abebe")
    title = "Thank You, Volunteers"
    first = db.save(*page("https://ledger.example/thanks-1", wrapped(holloway), title, DAY))
    cut = db.save(*page("https://wire.example/thanks", truncated(holloway, 0.6), title, DAY))
    assert cut.article_id == first.article_id  # the excerpt fits both letters; it joined the first
    other = db.save(*page("https://ledger.example/thanks-2", wrapped(abebe), title, DAY))
    assert other.article_id != first.article_id


@pytest.mark.parametrize(
    "text", [water_notice("TIRANA"), thanks_letter("Grace Holloway\nConsul General"), donor_statement(ABC)]
)
@pytest.mark.parametrize("tail", [" ... Read more", "\n\nContinue reading on the source site"])
def test_an_excerpt_of_a_dated_signed_or_listing_text_cut_anywhere_is_a_copy(text, tail):
    words = text.split(" ")
    for cut in range(30, len(words) + 1):
        excerpt = " ".join(words[:cut]) + tail
        assert neardup.compare(T(excerpt), T(text)).same, cut
        assert neardup.compare(T(wrapped(excerpt)), T(text)).same, cut
