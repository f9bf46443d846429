"""The facts behind the privacy notice: its version and date, who is responsible, whom to ask.

The notice's sentences live in ``templates/public/privacy.html`` and its translations; every
name, address, date and number it shows comes from here or from the retention settings, so a
new "Stand" date or a new contact re-opens no translation. The defaults are the facts known
today; the towns confirm them (``docs/legal-checklists.md``) and override them in the settings
(``PRIVACY_NOTICE_VERSION``, ``PRIVACY_NOTICE_DATE``, ``DPO_*``, ``SERVER_LOG_DAYS``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from .contact import Contact, TownFacts, postcode_city

if TYPE_CHECKING:
    from ..config import Settings

# Raise both whenever the notice says something new: the version is stored with every
# request's and booking's confirmation, so staff can tell which text a person saw.
NOTICE_VERSION = "2026-12-03b"
NOTICE_DATE = date(2026, 12, 3)


@dataclass(frozen=True)
class Controller:
    """One of the joint controllers (Art. 26 DSGVO) with its data protection officer."""

    town: str
    contact: Contact
    officer: Contact


# The supervisory authority for public bodies in NRW (Art. 77 DSGVO, § 29 DSG NRW).
LDI_NRW = Contact(
    name="Landesbeauftragte für Datenschutz und Informationsfreiheit Nordrhein-Westfalen",
    street="Kavalleriestraße 2–4",
    postcode_city="40213 Düsseldorf",
    phone="0211 38424-0",
    email="poststelle@ldi.nrw.de",
    website="https://www.ldi.nrw.de",
)


@dataclass(frozen=True)
class PrivacyFacts:
    """Everything the privacy notice states that is not a sentence."""

    version: str
    as_of: date
    controllers: tuple[Controller, ...]
    # The town that runs the portal's technology for both (named in the Impressum).
    operator: str
    authority: Contact = LDI_NRW
    # Days the web server's access log is kept (set by the IT service; the notice says it).
    server_log_days: int = 7
    # The receipt's period (``RETENTION_DAYS_RECEIPT``) in whole years, 0 when it is no whole
    # number of years and the notice gives the days.
    receipt_years: int = 0


def whole_years(days: int) -> int:
    """``days`` as whole years, when they always last at least that many years from any day on
    (365 a year and one leap day for each started four years): 366 → 1, 731 → 2, 1096 → 3,
    1461 → 4. Otherwise 0 (365 days can be one day short of a year)."""
    years = round(days / 365.25)
    return years if years >= 1 and days == 365 * years + -(-years // 4) else 0


def privacy_facts(settings: Settings, towns: Iterable[TownFacts] | None = None) -> PrivacyFacts:
    """The facts of the running portal: defaults above, overridden by the settings.

    ``towns`` are the member towns as staff keep them (the ``town`` table, so a corrected
    phone number shows here as on every other page); without them, the configured seeds.
    """
    officers = {
        "verl": (settings.dpo_phone_verl, settings.dpo_email_verl),
        "shs": (settings.dpo_phone_shs, settings.dpo_email_shs),
    }
    controllers = []
    for town in settings.towns() if towns is None else towns:
        address = postcode_city(town)
        phone, email = officers.get(town.slug, ("", ""))
        controllers.append(
            Controller(
                town=town.name,
                contact=Contact(
                    name=town.name,
                    street=town.street,
                    postcode_city=address,
                    phone=town.phone,
                    email=town.email,
                    website=town.website,
                ),
                officer=Contact(
                    name=town.name,
                    street=town.street,
                    postcode_city=address,
                    phone=phone,
                    email=email,
                ),
            )
        )
    return PrivacyFacts(
        version=settings.privacy_notice_version,
        as_of=date.fromisoformat(settings.privacy_notice_date),
        controllers=tuple(controllers),
        operator=settings.provider_name,
        server_log_days=settings.server_log_days,
        receipt_years=whole_years(settings.retention_days_receipt),
    )
