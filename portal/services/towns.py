"""Member towns: seeding from configuration and lookups for routing."""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..config import TownSettings
from ..models import ConsultationLocation, Town
from . import choices
from .errors import StaleEdit, TownTaken


def seed_towns(
    session: Session, facts: Iterable[TownSettings], overwrite_inbox: bool = False
) -> None:
    """Create the towns that are missing; what an administrator edited stays.

    A contact fact left empty (a town seeded before its phone or website was known) is filled
    from configuration. ``overwrite_inbox`` sets the configured inboxes again
    (``db seed-inboxes``).
    """
    for fact in facts:
        town = session.scalar(select(Town).where(Town.slug == fact.slug))
        if town is None:
            session.add(
                Town(
                    slug=fact.slug,
                    inbox_email=fact.inbox,
                    name=fact.name,
                    postcodes=",".join(fact.postcodes),
                    street=fact.street,
                    postcode=fact.postcode,
                    phone=fact.phone,
                    email=fact.email,
                    website=fact.website,
                )
            )
            continue
        _fill_blank_contacts(town, fact)
        if overwrite_inbox:
            town.inbox_email = fact.inbox
    session.flush()


def _fill_blank_contacts(town: Town, fact: TownSettings) -> None:
    for name in ("phone", "email", "website"):
        if not getattr(town, name) and getattr(fact, name):
            setattr(town, name, getattr(fact, name))


def all_towns(session: Session) -> list[Town]:
    """Every member town, in a stable order."""
    return list(session.scalars(select(Town).order_by(Town.id)))


def town_names(session: Session) -> list[str]:
    """The member towns' names, in the order of :func:`all_towns`."""
    return [town.name for town in all_towns(session)]


def names_to_slugs(session: Session) -> dict[str, str]:
    """Each town's slug and name, both pointing to its slug (how a file may name a town)."""
    names: dict[str, str] = {}
    for town in all_towns(session):
        names[town.slug] = town.slug
        names[town.name] = town.slug
    return names


def town_by_id(session: Session, town_id: int) -> Town | None:
    """The town ``town_id``, if any."""
    return session.get(Town, town_id)


def town_by_slug(session: Session, slug: str) -> Town | None:
    """The town with ``slug``, if any."""
    return session.scalar(select(Town).where(Town.slug == slug))


def set_certificate(session: Session, town: Town, pem: str) -> None:
    """Store the inbox's S/MIME certificate (PEM); an empty string removes it."""
    town.smime_certificate = pem.strip() + "\n" if pem.strip() else ""
    session.flush()


@dataclass(frozen=True)
class TownFacts:
    """What an administrator enters for a town."""

    name: str
    postcodes: tuple[str, ...]
    inbox_email: str
    street: str
    postcode: str
    phone: str
    email: str
    website: str


def fingerprint(town: Town) -> str:
    """A short digest of a town's facts: an edit based on other facts is refused."""
    values = (
        town.slug,
        town.name,
        town.postcodes,
        town.inbox_email,
        town.street,
        town.postcode,
        town.phone,
        town.email,
        town.website,
    )
    return hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:16]


def _apply(town: Town, facts: TownFacts) -> None:
    town.name = facts.name
    town.postcodes = ",".join(facts.postcodes)
    town.inbox_email = facts.inbox_email
    town.street = facts.street
    town.postcode = facts.postcode
    town.phone = facts.phone
    town.email = facts.email
    town.website = facts.website


def _check_unique(session: Session, slug: str, name: str, town_id: int | None) -> None:
    clash = session.scalar(
        select(Town.id).where(
            (Town.slug == slug) | (func.lower(Town.name) == name.lower()),
            Town.id != (town_id or 0),
        )
    )
    if clash is not None:
        raise TownTaken()


def add_town(session: Session, slug: str, facts: TownFacts) -> Town:
    """A new member town; its short name and its name must be new.

    Raises :class:`TownTaken` when another town has the short name or the name.
    """
    _check_unique(session, slug, facts.name, None)
    town = Town(slug=slug)
    _apply(town, facts)
    session.add(town)
    try:
        session.flush()
    except IntegrityError as error:  # someone added the same town a moment earlier
        raise TownTaken() from error
    return town


def update_town(session: Session, town: Town, facts: TownFacts, seen: str) -> list[str]:
    """Change a town's facts; returns the names of the facts that changed.

    Raises :class:`StaleEdit` when someone else changed the town since ``seen``
    (its :func:`fingerprint`) and :class:`TownTaken` when another town has the name.
    """
    session.refresh(town, with_for_update=True)
    if fingerprint(town) != seen:
        raise StaleEdit()
    _check_unique(session, town.slug, facts.name, town.id)
    before = {name: getattr(town, name) for name in _FACT_COLUMNS}
    _apply(town, facts)
    session.flush()
    return [name for name in _FACT_COLUMNS if getattr(town, name) != before[name]]


_FACT_COLUMNS = (
    "name",
    "postcodes",
    "inbox_email",
    "street",
    "postcode",
    "phone",
    "email",
    "website",
)


@dataclass(frozen=True)
class LocationFacts:
    """Where a town receives people for consultations."""

    name: str
    street: str
    postcode: str
    city: str
    active: bool


def town_locations(session: Session, town: Town) -> list[ConsultationLocation]:
    """The town's consultation locations (town halls and other offices), in order."""
    return list(
        session.scalars(
            select(ConsultationLocation)
            .where(ConsultationLocation.town_id == town.id)
            .order_by(ConsultationLocation.position, ConsultationLocation.id)
        )
    )


def location_of_town(session: Session, town: Town, location_id: int) -> ConsultationLocation | None:
    """The town's location with ``location_id``, if it belongs to that town."""
    location = session.get(ConsultationLocation, location_id)
    return location if location is not None and location.town_id == town.id else None


def offices(session: Session) -> list[ConsultationLocation]:
    """Every open in-person location of a town: where a resident may ask to meet."""
    return list(
        session.scalars(
            select(ConsultationLocation)
            .join(Town, ConsultationLocation.town_id == Town.id)
            .where(ConsultationLocation.kind == "in_person", ConsultationLocation.active)
            .order_by(Town.id, ConsultationLocation.position, ConsultationLocation.id)
        )
    )


def office_for(session: Session, method: str) -> ConsultationLocation | None:
    """The office an "office_…" contact method names, if it exists."""
    code = choices.office_code(method)
    if not code:
        return None
    return session.scalar(select(ConsultationLocation).where(ConsultationLocation.code == code))


def _free_code(session: Session, town: Town) -> str:
    taken = set(session.scalars(select(ConsultationLocation.code)))
    if town.slug not in taken:
        return town.slug
    number = 2
    while f"{town.slug}-{number}" in taken:
        number += 1
    return f"{town.slug}-{number}"


def add_location(session: Session, town: Town, facts: LocationFacts) -> ConsultationLocation:
    """A new in-person consultation location of ``town``."""
    count = len(town_locations(session, town))
    location = ConsultationLocation(
        code=_free_code(session, town), kind="in_person", town_id=town.id, position=count
    )
    _apply_location(location, facts)
    session.add(location)
    session.flush()
    return location


def update_location(session: Session, location: ConsultationLocation, facts: LocationFacts) -> None:
    """Change a location's name, address or whether it is open for bookings."""
    _apply_location(location, facts)
    session.flush()


def _apply_location(location: ConsultationLocation, facts: LocationFacts) -> None:
    location.name = facts.name
    location.street = facts.street
    location.postcode = facts.postcode
    location.city = facts.city
    location.active = facts.active
