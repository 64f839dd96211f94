"""Helpers for tests and benchmarks of the store: build a (Document, RawPage) pair, and a
few statements written for the tests (not copied from any real page), with the kinds of
copies the identity cascade must handle. Nothing here is used by the crawl itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from cleaners.model import Document, RawPage, Removal, content_hash

if TYPE_CHECKING:
    from .db import Store


def page(
    url: str | None,
    text: str,
    title: str | None = None,
    published: date | None = None,
    *,
    fetched_at: str = "2024-03-01T10:00:00Z",
    final_url: str | None = None,
    claimed: str | None = None,
    canonical: str | None = None,
    language: str | None = "en",
    translation_of: str | None = None,
    headers: dict | None = None,
    body: bytes | None = None,
    status: int = 200,
    source_path: str | None = None,
    publisher: str | None = None,
    removed: tuple[Removal, ...] = (),
    meta: dict | None = None,
    spider: str = "test",
) -> tuple[Document, RawPage]:
    """A cleaned document and the raw page it came from."""
    served = final_url or url
    doc = Document(
        url=served,
        title=title,
        text=text,
        published=published,
        publisher=publisher,
        language=language,
        claimed_original=claimed,
        removed=removed,
        content_hash=content_hash(text),
        canonical=canonical,
        translation_of=translation_of,
    )
    raw = RawPage(
        url=url,
        final_url=served,
        status=status,
        headers=headers if headers is not None else {"content-type": "text/html; charset=utf-8"},
        body=body
        if body is not None
        else f"<html><body><h1>{title}</h1><p>{text}</p></body></html>".encode(),
        fetched_at=fetched_at,
        spider=spider,
        discovered_via="test" if url else "file",
        source_path=source_path,
        meta=meta or {},
    )
    return doc, raw


# Statements written for these tests.

HARBOUR = (
    "The United States welcomes the agreement signed today by the governments of Norland and "
    "Sudmark to reopen the northern harbour to civilian shipping after three years of closure.\n\n"
    "This step follows months of patient negotiation supported by regional partners, and it shows "
    "what dialogue can achieve when both sides commit to practical results for their citizens. "
    "Fishing families, traders and port workers on both shores will benefit first.\n\n"
    "We encourage both governments to implement the inspection regime they agreed on without delay, "
    "to publish the schedule for demining the approach channels, and to keep the joint commission "
    "meeting every month. The United States stands ready to provide technical assistance for "
    "navigation safety and customs modernisation.\n\n"
    "We thank the mediators from the coastal council for their tireless work over many long evenings."
)

GRANTS = (
    "Today the Department announces forty new small grants for community radio stations in rural "
    "districts, a programme designed to bring reliable local news to listeners who live far from "
    "the capital.\n\n"
    "Each station will receive equipment, training for volunteer reporters and support for solar "
    "power so that broadcasts continue during outages. Applications were reviewed by an independent "
    "panel that included journalists, engineers and teachers.\n\n"
    "Access to accurate information helps citizens hold institutions to account and prepare for "
    "floods, droughts and disease outbreaks. We look forward to hearing the first programmes later "
    "this year, and we will publish a report on what the stations learned after twelve months."
)


def national_day(country: str, people: str, years: int, minister: str) -> str:
    """A formulaic national-day message: look-alikes differ only in names and numbers."""
    return (
        f"Speaking for the Government and people of the United States, I send warm greetings to "
        f"the people of {country} as you celebrate the {years}th anniversary of your independence.\n\n"
        f"Our two nations share a commitment to open markets, to the rule of law and to a peaceful "
        f"region where every citizen can prosper. Over the past year our cooperation on clean energy, "
        f"public health and education has grown stronger, and exchanges between our students and "
        f"entrepreneurs continue to build lasting friendships.\n\n"
        f"I look forward to working with Foreign Minister {minister} and the government of {country} "
        f"in the year ahead. Please accept my best wishes to all {people} on this happy occasion."
    )


def readout(country: str, minister: str, topic: str) -> str:
    """A formulaic call readout: look-alikes differ in the country, the name, the topic."""
    return (
        f"The following is attributable to the Spokesperson:\n\n"
        f"The Secretary spoke today with {country} Foreign Minister {minister} to discuss {topic} "
        f"and the importance of continued close coordination between our governments. The Secretary "
        f"thanked Foreign Minister {minister} for the partnership of {country} on regional security "
        f"and humanitarian assistance, and both agreed to remain in close contact in the coming weeks."
    )


def truncated(text: str, share: float = 0.6, tail: str = " ... Read the full story") -> str:
    """What an aggregator excerpt looks like: the first part of the text and a link line."""
    words = text.split(" ")
    return " ".join(words[: max(12, int(len(words) * share))]) + tail


def wrapped(text: str) -> str:
    """A full copy that kept the aggregator's cruft around it."""
    return (
        "Posted in World News | Share on social media | Print\n\n"
        + text
        + "\n\nRelated stories: more from our foreign desk. Comments are closed."
    )


def one(db: Store, sql: str, params: Sequence[Any] = ()) -> dict[str, Any]:
    """The first row of a query on a Store's database, as a dict (the query must return one)."""
    row = next(db.db.query(sql, params), None)
    assert row is not None, f"no row: {sql}"
    return row


def all_rows(db: Store, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Every row of a query on a Store's database, as dicts."""
    return list(db.db.query(sql, params))


def security_alert(city: str, country: str, day: str, event: str, address: str, phone: str) -> str:
    """A formulaic embassy security alert: alerts of two posts differ in the city, the
    post's name, the date, the address and the phone number, and in nothing else."""
    return (
        f"Security Alert - U.S. Embassy {city}, {country} ({day})\n\n"
        f"Location: {city}, {country}\n\n"
        f"Event: {event}\n\n"
        f"The U.S. Embassy in {city} informs U.S. citizens that demonstrations are planned in "
        f"central {city} on {day}. Demonstrations intended to be peaceful can turn confrontational "
        f"and escalate into violence with little warning. Local authorities may close roads and "
        f"public transport may be disrupted near government buildings and public squares.\n\n"
        f"Actions to Take: Avoid the areas of the demonstrations. Exercise caution if unexpectedly "
        f"in the vicinity of large gatherings or protests. Monitor local media for updates. Keep a "
        f"low profile and be aware of your surroundings. Review your personal security plans and "
        f"carry proper identification.\n\n"
        f"Assistance: U.S. Embassy {city}, {address}, {city}, {country}. Telephone: {phone}. "
        f"Enroll in the Smart Traveler Enrollment Program to receive security messages and make "
        f"it easier to locate you in an emergency."
    )


def visa_notice(post: str, city: str, day: str, extra: int) -> str:
    """A formulaic visa-appointment notice: notices of two posts differ in the post, the
    city, the date and the number of appointments."""
    return (
        f"The U.S. {post} in {city} will open {extra} additional nonimmigrant visa interview "
        f"appointments on {day} for applicants who have already paid the application fee.\n\n"
        f"Applicants should log in to their profile on the appointment system and select the first "
        f"available date. Applicants who already hold an appointment should keep it and should not "
        f"request a new one, as duplicate bookings will be cancelled without notice.\n\n"
        f"Please arrive fifteen minutes before your appointment with your passport, the confirmation "
        f"page of your application and one photograph. Large bags and electronic devices are not "
        f"permitted inside the {post} in {city}. We appreciate your patience as we work to reduce "
        f"wait times for all categories of visas."
    )
