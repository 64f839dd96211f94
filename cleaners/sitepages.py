"""Is what remains of a page after extraction and the line rules a statement, or a page of the
site itself? (`check_statement`, called where the cleaner checks the body's length.)

A site serves pages that hold no statement but have sentences of their own: a membership
page with plans and a billing FAQ, a donation appeal, a contact page. None is short, so the
length check keeps them; stored, they are junk articles titled "Membership" or "Donate". One
kind of evidence, read from the text and not from one site's wording, says such a page is not
a statement:

- service text: most sentences are the site talking about its own service to the reader (an
  account, a plan, billing, payment, a donation, a subscription, how to contact it, its privacy
  terms), in the voice of the site ("we", "our") or addressed to the reader ("you"), or say
  what a class of its members or givers gets ("Patrons receive ..."), while hardly any
  sentence speaks of public affairs (governments, embassies, officials, citizens, visas).
  Statements say "you" too ("you should enroll in STEP") and speak of fees, but they speak of
  them in the terms of public affairs, which service pages never use.

It is measured over the sentences of the cleaned body, in English; in another language only
what members get is read (in German, French and Spanish), so such a body is rejected here only
when most of its sentences are that. Index pages (tag pages, archives, search results) are
judged apart, on the page's structure rather than on its text (`cleaners.listings`): a test
on the text alone ("most of it is excerpts cut short or closed by the same link text") cannot
tell them from articles with lists in them.
"""

from __future__ import annotations

import re

from cleaners.model import Rejected
from cleaners.prose import SENTENCE_ENDS

# A sentence about the site's service to its reader names one of these.
_SERVICE = re.compile(
    r"\b(?:account|billing|billed|invoices?|refunds?|subscri(?:be|bers?|ption|ptions)|unsubscribe|newsletters?|"
    r"membership|memberships|become\s+a\s+member|join\s+us|donat(?:e|es|ed|ing|ion|ions|ors?)|donors?|"
    r"supporters?|give|gifts?|"
    r"tax-deductible|checkout|credit\s+cards?|your\s+card|card\s+number|payments?|password|log\s?in|"
    r"sign\s?(?:in|up)|cookies?|privacy(?:\s+policy)?|personal\s+data|inbox|e-?mail|contact\s+us|reach\s+us|"
    r"write\s+to|enquir(?:y|ies)|inquir(?:y|ies)|comments?|receipts?|cancel|renew(?:al|s)?|"
    r"(?:a|per|each|every)\s+(?:month|year)|monthly|annual\s+plan|plans?|prorated|benefits|"
    r"members?|perks?|discounts?|guest\s+posts?|sponsored|advertis(?:ers?|ing|e)|charged|pay|paid|pricing|prices?)\b",
    re.I,
)
# A price by the period is a plan, whoever states it.
_PRICE = re.compile(r"[$€£]\s?\d+(?:[.,]\d\d)?\s*(?:a|per|/|each)\s*(?:month|year|week)\b", re.I)
# What a class of the site's readers, members or givers gets, said of them in the third person
# ("Members receive ...", "Registrierte Leser erhalten ...", "Les abonnés bénéficient ..."): the
# benefits of a plan or a tier, which need no "you" to be the site's own pitch.
BENEFIT = re.compile(
    r"^(?:all\s+|our\s+|registered\s+|new\s+|paying\s+)?[\w-]+s\s+(?:also\s+|will\s+|can\s+)?"
    r"(?:receive|get|enjoy|gain|are\s+(?:invited|thanked|entitled|offered|welcome)|have\s+(?:access|free|unlimited))\b"
    r"|^(?:\w+\s+)?(?:Leser(?:innen)?|Abonnent(?:en|innen)|Mitglieder|Nutzer(?:innen)?|Spender(?:innen)?)\s+"
    r"(?:\w+\s+)?(?:erhalten|bekommen|genießen|lesen|können)\b"
    r"|^(?:les\s+|nos\s+)?(?:abonnés|membres|adhérents|donateurs|lecteurs|lectrices)\s+(?:\w+\s+)?"
    r"(?:reçoivent|bénéficient|profitent|ont\s+accès|peuvent|sont\s+invités)\b"
    r"|^(?:los\s+|las\s+|nuestros\s+)?(?:suscriptores|socios|socias|miembros|lectores|donantes|abonados)\s+"
    r"(?:\w+\s+)?(?:reciben|disfrutan|obtienen|tienen\s+acceso|pueden|acceden)\b",
    re.I,
)
# ...and is said by the site or to the reader.
PARTY = re.compile(
    r"\b(?:you|your|yours|yourself|we|our|ours|us|please)\b|\b(?:I|my|me)\b[^.!]*\?$|"
    r"^(?:write|use|contact|e-?mail|call|send|join|give|donate|subscribe|sign|choose|pick|open|click|enter|"
    r"visit|cancel|become|support)\b",
    re.I,
)
# A sentence of public affairs: who governs, represents or is governed, and their business.
PUBLIC = re.compile(
    r"\b(?:governments?|embass(?:y|ies)|consulates?|consular|ministr(?:y|ies)|ministers?|secretary|"
    r"president|presidential|ambassadors?|department\s+of|state\s+department|united\s+states|"
    r"U\.S\.|nations?|national|citizens?|congress|parliament|military|security|sanctions?|humanitarian|"
    r"elections?|treaty|treaties|agreements?|foreign|international|bilateral|human\s+rights|democra\w*|"
    r"visas?|passports?|authorities|officials?|(?<!privacy\s)(?<!cookie\s)polic(?:y|ies)|countr(?:y|ies)|republic|kingdom|"
    r"administration|diplomat\w*|allies|partners|peace|war|conflict|crisis|assistance)\b",
    re.I,
)
_SENTENCE_SPLIT = re.compile(rf"(?<![A-Z])(?<=[{re.escape(SENTENCE_ENDS)}])[\"'”’)\]]*\s+")

# Thresholds: the share of sentences that is service text, the share of public-affairs
# sentences a page may hold and still be service text. A share read over fewer than five
# sentences is one or two sentences deciding for the page (a blog post inviting comments), so
# shorter bodies are never service text.
SERVICE_SHARE = 0.4
PUBLIC_SHARE = 0.2
MIN_SENTENCES = 5


def sentences(body: str) -> list[str]:
    """The body's sentences: each paragraph split after its sentence ends."""
    out: list[str] = []
    for line in body.split("\n"):
        out.extend(s.strip() for s in _SENTENCE_SPLIT.split(line.strip()) if s.strip())
    return out


def is_service(sentence: str) -> bool:
    """The sentence is about the site's service to the reader: a service named by the site or
    to the reader, a price by the period or what a class of its members gets; and nothing of
    public affairs."""
    return not PUBLIC.search(sentence) and _serves(sentence)


def _serves(sentence: str) -> bool:
    """`is_service` for a sentence already known to hold nothing of public affairs."""
    return bool(
        _PRICE.search(sentence)
        or BENEFIT.search(sentence)
        or (_SERVICE.search(sentence) and PARTY.search(sentence))
    )


def service_share(body: str) -> tuple[float, float, int]:
    """(share of sentences about the site's service to the reader, share of sentences about
    public affairs, number of sentences). Headings and button labels (a few words that end no
    sentence) are not sentences."""
    sents = _sentences_of(body)
    if not sents:
        return 0.0, 0.0, 0
    service = sum(1 for s in sents if is_service(s))
    public = sum(1 for s in sents if PUBLIC.search(s))
    return service / len(sents), public / len(sents), len(sents)


def _sentences_of(body: str) -> list[str]:
    return [s for s in sentences(body) if s[-1] in SENTENCE_ENDS or len(s.split()) >= 6]


def check_statement(body: str) -> None:
    """Reject a body that is the site's own service text.

    Public affairs are counted first: a body with more than `PUBLIC_SHARE` of them is never
    service text, which is what almost every statement is; then the other sentences are read
    for services until they can no longer reach `SERVICE_SHARE` (the decision is
    `service_share`'s, read in the order that ends soonest).

    Raises:
        Rejected: not_a_statement, with which evidence and its measure.
    """
    sents = _sentences_of(body)
    count = len(sents)
    if count < MIN_SENTENCES:
        return
    public_limit = PUBLIC_SHARE * count
    private: list[str] = []  # the sentences with nothing of public affairs
    public_n = 0
    for sent in sents:
        if not PUBLIC.search(sent):
            private.append(sent)
            continue
        public_n += 1
        if public_n > public_limit:
            return
    needed = SERVICE_SHARE * count
    service_n = 0
    for i, sent in enumerate(private):
        if service_n + len(private) - i < needed:
            return  # the sentences left cannot make it service text
        service_n += _serves(sent)
    service = service_n / count
    public = public_n / count
    if service >= SERVICE_SHARE and public <= PUBLIC_SHARE:
        raise Rejected(
            "not_a_statement",
            f"service text: {service:.0%} of {count} sentences, {public:.0%} on public affairs",
        )
