"""Facts of the accessibility statement (BITV NRW, model of Implementing Decision (EU) 2018/1523).

The statement's sentences are translated once; the dates, the answer period and the contacts
come from here, so a review changes one line and re-opens no translation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from .contact import Contact, TownFacts, office_town

if TYPE_CHECKING:
    from ..config import Settings

# Compliance status as the EU model statement names it.
FULLY = "fully"
PARTIALLY = "partially"
NOT = "not"


@dataclass(frozen=True)
class AccessibilityFacts:
    """What the accessibility statement states as data."""

    status: str
    standard: str
    federal_standard: str
    made_on: date
    reviewed_on: date
    # Promised in the statement and in the confirmation after feedback (§ 5 Abs. 2 BITV NRW:
    # two to at most six weeks).
    answer_weeks: int
    # The longest period § 5 Abs. 2 BITV NRW allows; after it, readers may turn to the Ombudsstelle.
    ombuds_after_weeks: int
    office: Contact
    ombudsstelle: Contact


OMBUDSSTELLE = Contact(
    name=(
        "Ombudsstelle für barrierefreie Informationstechnik des Landes Nordrhein-Westfalen"
        " bei der Beauftragten der Landesregierung für Menschen mit Behinderung sowie für"
        " Patientinnen und Patienten in Nordrhein-Westfalen"
    ),
    street="Fürstenwall 25",
    postcode_city="40219 Düsseldorf",
    phone="0211 855-3451",
    email="ombudsstelle-barrierefreie-it@mags.nrw.de",
    website="https://www.lbbp.nrw.de/ombudsstelle",
)

MADE_ON = date(2026, 11, 25)
REVIEWED_ON = date(2026, 12, 3)
ANSWER_WEEKS = 2
OMBUDS_AFTER_WEEKS = 6
STANDARD = "EN 301 549 V3.2.1 (WCAG 2.1 AA)"
# The federal ordinance the BITV NRW refers to for parts of its requirements.
FEDERAL_STANDARD = "BITV 2.0"


def facts(settings: Settings, towns: Iterable[TownFacts] | None = None) -> AccessibilityFacts:
    """The statement's facts; the responsible office is the Soziales Duo in the Verl town hall.

    Its address and phone come from ``towns`` (the ``town`` table, which staff keep; without
    them, the configured seeds), its email is the feedback inbox.
    """
    town = office_town(towns or (), settings.towns())
    office = Contact.of_town(
        town, f"Soziales Duo, Stadt {town.name}", email=settings.feedback_inbox, website=""
    )
    return AccessibilityFacts(
        status=PARTIALLY,
        standard=STANDARD,
        federal_standard=FEDERAL_STANDARD,
        made_on=MADE_ON,
        reviewed_on=REVIEWED_ON,
        answer_weeks=ANSWER_WEEKS,
        ombuds_after_weeks=OMBUDS_AFTER_WEEKS,
        office=office,
        ombudsstelle=OMBUDSSTELLE,
    )
