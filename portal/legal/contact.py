"""One type for an office's contact data, shared by the Impressum, the accessibility statement,
the privacy notice and the phone lines on every page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


class TownFacts(Protocol):
    """What the legal pages need of a member town: a ``town`` row or its configured seed."""

    @property
    def slug(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def street(self) -> str: ...
    @property
    def postcode(self) -> str: ...
    @property
    def phone(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def website(self) -> str: ...


@dataclass(frozen=True)
class Contact:
    """A postal address with the ways to reach it; empty fields are not shown."""

    name: str
    street: str
    postcode_city: str
    phone: str = ""
    email: str = ""
    website: str = ""
    fax: str = ""
    sms: str = ""

    @classmethod
    def of_town(
        cls, town: TownFacts, name: str, *, email: str | None = None, website: str | None = None
    ) -> Contact:
        """``town``'s town hall under ``name``, with its phone, and its email and website
        unless others are given."""
        return cls(
            name=name,
            street=town.street,
            postcode_city=postcode_city(town),
            phone=town.phone,
            email=town.email if email is None else email,
            website=town.website if website is None else website,
        )


@dataclass(frozen=True)
class TownContact:
    """A member town's public contact data, copied from its row or its configured seed."""

    slug: str
    name: str
    street: str
    postcode: str
    phone: str = ""
    email: str = ""
    website: str = ""

    @classmethod
    def of(cls, town: TownFacts) -> TownContact:
        """The contact data of ``town`` (a row stays bound to its session; this does not)."""
        return cls(
            slug=town.slug,
            name=town.name,
            street=town.street,
            postcode=town.postcode,
            phone=town.phone,
            email=town.email,
            website=town.website,
        )


def postcode_city(town: TownFacts) -> str:
    """The town hall's postcode and town, as an address line: "33415 Verl"."""
    return f"{town.postcode} {town.name}".strip()


def town_by_slug(towns: Iterable[TownFacts], slug: str) -> TownFacts | None:
    """The town with ``slug`` among ``towns``, if any."""
    return next((town for town in towns if town.slug == slug), None)


# The town whose town hall is the Soziales Duo's postal address (accessibility statement,
# person responsible for content) and which runs the portal's technology.
OFFICE_TOWN = "verl"


def office_town(towns: Iterable[TownFacts], seeds: Iterable[TownFacts]) -> TownFacts:
    """The office's town among ``towns`` (the ``town`` table), else its configured seed."""
    town = town_by_slug(towns, OFFICE_TOWN) or town_by_slug(seeds, OFFICE_TOWN)
    if town is None:
        raise LookupError(f"no member town {OFFICE_TOWN!r} configured")
    return town
