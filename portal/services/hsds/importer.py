"""Catalogue records in, last step: write a checked file into the catalogue tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Location, Organization, Service
from .. import catalogue
from .rows import read_dataset


@dataclass(frozen=True)
class Imported:
    """What an import wrote."""

    organizations: int
    services: int


def _versions(session: Session) -> dict[tuple[str, str], int]:
    """The version of every catalogue record, by kind and id."""
    found: dict[tuple[str, str], int] = {}
    for kind, model in (
        ("service", Service),
        ("organization", Organization),
        ("location", Location),
    ):
        for record_id, version in session.execute(select(model.id, model.version)):
            found[(kind, record_id)] = version
    return found


def import_dataset(
    session: Session,
    source: str,
    towns: dict[str, str],
    languages: Iterable[str],
    replace: bool = False,
) -> Imported:
    """Import a catalogue file: records with a known id are replaced, others added.

    With ``replace`` the catalogue is emptied first. Nothing is written unless the whole file is
    sound; the caller's transaction makes the change all or nothing.
    """
    languages = tuple(languages)
    organizations, services = read_dataset(source, towns, languages)
    # Every imported record gets a version above the one it replaces (even after emptying the
    # catalogue), so an editor's draft of the old record is stale, never published over it.
    before = _versions(session)
    if replace:
        catalogue.clear(session)
    ids = [service.id for service in services]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for existing in session.scalars(select(Service).where(Service.id.in_(chunk))).all():
            catalogue.delete_service(session, existing)
    session.flush()
    for service in services:
        service.version = before.get(("service", service.id), 0) + 1
    by_id: dict[str, Organization] = {}
    for organization in organizations:
        existing_organization = session.get(Organization, organization.id)
        if existing_organization is None:
            session.add(organization)
            by_id[organization.id] = organization
            continue
        # Update in place: deleting the row would take its other services with it.
        existing_organization.texts = []
        session.flush()
        existing_organization.email = organization.email
        existing_organization.website = organization.website
        existing_organization.demo = organization.demo
        existing_organization.last_modified = organization.last_modified
        existing_organization.texts = list(organization.texts)
        by_id[organization.id] = existing_organization
    for organization in by_id.values():
        organization.version = before.get(("organization", organization.id), 0) + 1
    session.add_all(services)
    session.flush()
    for location in {link.location for service in services for link in service.locations}:
        location.version = before.get(("location", location.id), 0) + 1
    for service in services:
        catalogue.reindex(session, service, languages, by_id[service.organization_id], fresh=True)
    session.flush()
    catalogue.refresh_statistics(session)
    return Imported(len(organizations), len(services))
