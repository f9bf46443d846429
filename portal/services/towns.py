"""Member towns: seeding from configuration and lookups for routing."""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..config import TownSettings
from ..models import Town


def seed_towns(
    session: Session, facts: Iterable[TownSettings], overwrite_inbox: bool = False
) -> None:
    """Create missing towns from configuration; existing inboxes stay as edited unless asked."""
    for fact in facts:
        town = session.scalar(select(Town).where(Town.slug == fact.slug))
        if town is None:
            town = Town(slug=fact.slug, inbox_email=fact.inbox)
            session.add(town)
        elif overwrite_inbox:
            town.inbox_email = fact.inbox
        town.name = fact.name
        town.postcodes = ",".join(fact.postcodes)
        town.street = fact.street
        town.postcode = fact.postcode
        town.phone = fact.phone
        town.email = fact.email
        town.website = fact.website
    session.flush()


def all_towns(session: Session) -> list[Town]:
    """Every member town, in a stable order."""
    return list(session.scalars(select(Town).order_by(Town.id)))


def names_to_slugs(session: Session) -> dict[str, str]:
    """Each town's slug and name, both pointing to its slug (how a file may name a town)."""
    names: dict[str, str] = {}
    for town in all_towns(session):
        names[town.slug] = town.slug
        names[town.name] = town.slug
    return names


def town_by_slug(session: Session, slug: str) -> Town | None:
    """The town with ``slug``, if any."""
    return session.scalar(select(Town).where(Town.slug == slug))


def set_certificate(session: Session, town: Town, pem: str) -> None:
    """Store the inbox's S/MIME certificate (PEM); an empty string removes it."""
    town.smime_certificate = pem.strip() + "\n" if pem.strip() else ""
    session.flush()
