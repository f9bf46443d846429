"""Facts of the Impressum (§ 5 DDG, § 18 Abs. 2 MStV): both towns, their mayors, the person
responsible for content, the Soziales Duo's own contact and the supervisory authorities.

The towns must confirm the names here (see the README); the addresses, phone numbers, email
addresses and websites come from the ``town`` table, which staff keep (seeded from configuration).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .contact import Contact, TownFacts, office_town, postcode_city

if TYPE_CHECKING:
    from ..config import Settings


@dataclass(frozen=True)
class Provider:
    """A town as a provider: a Körperschaft des öffentlichen Rechts represented by its mayor."""

    town: str
    contact: Contact
    mayor: str
    mayor_is_woman: bool


@dataclass(frozen=True)
class ImpressumFacts:
    """What the Impressum states as data."""

    providers: tuple[Provider, ...]
    since_year: int
    # § 18 Abs. 2 MStV: a natural person with an address; empty until the towns name one.
    responsible_name: str
    responsible_address: str
    duo_phone: str
    duo_email: str
    supervision: Contact
    upper_supervision: Contact


# Mayors as the towns reported them after the elections of 2024 (Verl) and 2025
# (Schloß Holte-Stukenbrock); the towns must confirm them.
MAYOR_VERL = "Robin Rieksneuwöhner"
MAYOR_SHS = "Olaf Junker"
SINCE_YEAR = 2023
RESPONSIBLE_NAME = ""
# Empty: the Soziales Duo at the Verl town hall, with the address the town table keeps.
RESPONSIBLE_ADDRESS = ""

KREIS_GUETERSLOH = Contact(
    name="Landrat des Kreises Gütersloh als untere staatliche Verwaltungsbehörde",
    street="Herzebrocker Straße 140",
    postcode_city="33334 Gütersloh",
)
BEZIRKSREGIERUNG_DETMOLD = Contact(
    name="Bezirksregierung Detmold",
    street="Leopoldstraße 15",
    postcode_city="32756 Detmold",
)


def _mayor(slug: str) -> tuple[str, bool]:
    """A town's mayor and whether she is a woman; a town added later shows the title only."""
    mayors = {"verl": (MAYOR_VERL, False), "shs": (MAYOR_SHS, False)}
    return mayors.get(slug, ("", False))


def _provider(town: TownFacts) -> Provider:
    mayor, is_woman = _mayor(town.slug)
    contact = Contact.of_town(town, f"Stadt {town.name}")
    return Provider(town=town.name, contact=contact, mayor=mayor, mayor_is_woman=is_woman)


def facts(settings: Settings, towns: Iterable[TownFacts] | None = None) -> ImpressumFacts:
    """The Impressum's facts; addresses, phones, emails and websites come from ``towns``.

    ``towns`` are the member towns as staff keep them (the ``town`` table, so a corrected
    phone number shows here as in the footer); without them, the configured seeds.
    """
    members = list(settings.towns() if towns is None else towns)
    office = office_town(members, settings.towns())
    address = RESPONSIBLE_ADDRESS or (
        f"Soziales Duo, Stadt {office.name}, {office.street}, {postcode_city(office)}"
    )
    return ImpressumFacts(
        providers=tuple(_provider(town) for town in members),
        since_year=SINCE_YEAR,
        responsible_name=RESPONSIBLE_NAME,
        responsible_address=address,
        duo_phone=settings.duo_phone,
        duo_email=settings.duo_email,
        supervision=KREIS_GUETERSLOH,
        upper_supervision=BEZIRKSREGIERUNG_DETMOLD,
    )
