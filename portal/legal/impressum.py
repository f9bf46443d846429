"""Facts of the Impressum (§ 5 DDG, § 18 Abs. 2 MStV): both towns, their mayors, the person
responsible for content, the Soziales Duo's own contact and the supervisory authorities.

The towns must confirm the names here (see the README); the phone numbers, email addresses and
websites come from configuration, the same values the town table is seeded from.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Settings


@dataclass(frozen=True)
class Provider:
    """A town as a provider: a Körperschaft des öffentlichen Rechts represented by its mayor."""

    name: str
    town: str
    street: str
    postcode_city: str
    mayor: str
    mayor_is_woman: bool
    phone: str
    email: str
    website: str


@dataclass(frozen=True)
class Authority:
    """A supervisory authority."""

    name: str
    street: str
    postcode_city: str


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
    supervision: Authority
    upper_supervision: Authority


# Mayors as the towns reported them after the elections of 2024 (Verl) and 2025
# (Schloß Holte-Stukenbrock); the towns must confirm them.
MAYOR_VERL = "Robin Rieksneuwöhner"
MAYOR_SHS = "Olaf Junker"
SINCE_YEAR = 2023
RESPONSIBLE_NAME = ""
RESPONSIBLE_ADDRESS = "Soziales Duo, Stadt Verl, Paderborner Straße 5, 33415 Verl"

KREIS_GUETERSLOH = Authority(
    name="Landrat des Kreises Gütersloh als untere staatliche Verwaltungsbehörde",
    street="Herzebrocker Straße 140",
    postcode_city="33334 Gütersloh",
)
BEZIRKSREGIERUNG_DETMOLD = Authority(
    name="Bezirksregierung Detmold",
    street="Leopoldstraße 15",
    postcode_city="32756 Detmold",
)


def facts(settings: Settings) -> ImpressumFacts:
    """The Impressum's facts, with the towns' contacts from configuration."""
    verl = Provider(
        name="Stadt Verl",
        town="Verl",
        street="Paderborner Straße 5",
        postcode_city="33415 Verl",
        mayor=MAYOR_VERL,
        mayor_is_woman=False,
        phone=settings.phone_verl,
        email=settings.email_verl,
        website=settings.website_verl,
    )
    shs = Provider(
        name="Stadt Schloß Holte-Stukenbrock",
        town="Schloß Holte-Stukenbrock",
        street="Rathausstraße 2",
        postcode_city="33758 Schloß Holte-Stukenbrock",
        mayor=MAYOR_SHS,
        mayor_is_woman=False,
        phone=settings.phone_shs,
        email=settings.email_shs,
        website=settings.website_shs,
    )
    return ImpressumFacts(
        providers=(verl, shs),
        since_year=SINCE_YEAR,
        responsible_name=RESPONSIBLE_NAME,
        responsible_address=RESPONSIBLE_ADDRESS,
        duo_phone=settings.duo_phone,
        duo_email=settings.duo_email,
        supervision=KREIS_GUETERSLOH,
        upper_supervision=BEZIRKSREGIERUNG_DETMOLD,
    )
