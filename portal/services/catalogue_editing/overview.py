"""What an editor looks over: the records with their drafts, the history, missing translations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    CatalogueChange,
    CatalogueDraft,
    Location,
    Service,
    ServiceAtLocation,
)
from .. import catalogue
from ..catalogue import SOURCE_LANGUAGE
from .drafts import draft_data
from .records import KINDS, MODELS, TEXT_FIELDS, record_name, texts_of


@dataclass(frozen=True)
class Missing:
    """A published record whose text lacks fields in one language."""

    kind: str
    record_id: str
    name: str
    fields: list[str]


def history(
    session: Session, kind: str | None = None, record_id: str | None = None, limit: int = 200
) -> list[CatalogueChange]:
    """The latest changes, newest first, of one record or of the whole catalogue."""
    query = select(CatalogueChange).order_by(CatalogueChange.at.desc(), CatalogueChange.id.desc())
    if kind and record_id:
        query = query.where(CatalogueChange.kind == kind, CatalogueChange.record_id == record_id)
    return list(session.scalars(query.limit(limit)))


@dataclass(frozen=True)
class Listed:
    """A record in the editor's lists: published, drafted, or both."""

    kind: str
    record_id: str
    name: str
    published: bool
    drafted: bool


def listing(session: Session, kind: str) -> list[Listed]:
    """Every record of a kind with its German name, drafts of new records included."""
    drafts = {
        draft.record_id: draft
        for draft in session.scalars(select(CatalogueDraft).where(CatalogueDraft.kind == kind))
    }
    found: list[Listed] = []
    for record in session.scalars(select(MODELS[kind])):
        name = (
            catalogue.in_language(record.texts, SOURCE_LANGUAGE).text.name if record.texts else ""
        )
        found.append(Listed(kind, record.id, name, True, record.id in drafts))
    published = {item.record_id for item in found}
    for record_id, draft in drafts.items():
        if record_id not in published:
            found.append(Listed(kind, record_id, record_name(kind, draft_data(draft)), False, True))
    return sorted(found, key=lambda item: (item.name.casefold(), item.record_id))


def location_choices(session: Session) -> list[tuple[str, str]]:
    """Every published location as (id, "name (street, town): offers") for a list to choose
    from; the offers delivered there tell apart two locations at one address."""
    offers: dict[str, set[str]] = {}
    used = select(ServiceAtLocation.location_id, Service).join(
        Service, Service.id == ServiceAtLocation.service_id
    )
    for location_id, service in session.execute(used):
        name = catalogue.in_language(service.texts, SOURCE_LANGUAGE).text.name
        offers.setdefault(location_id, set()).add(name)
    choices = []
    for location in session.scalars(select(Location)):
        name = (
            catalogue.in_language(location.texts, SOURCE_LANGUAGE).text.name
            if location.texts
            else ""
        )
        address = ", ".join(part for part in (location.address_1, location.city) if part)
        label = f"{name} ({address})" if name and address else name or address or location.id
        if location.id in offers:
            label += ": " + ", ".join(sorted(offers[location.id], key=str.casefold))
        choices.append((location.id, label))
    return sorted(choices, key=lambda choice: choice[1].casefold())


def missing_translations(session: Session, languages: Sequence[str]) -> dict[str, list[Missing]]:
    """Per language, the published records whose German text has fields it lacks."""
    missing: dict[str, list[Missing]] = {lang: [] for lang in languages}
    for kind in KINDS:
        for record in session.scalars(select(MODELS[kind])):
            texts = texts_of(record.texts, TEXT_FIELDS[kind])
            german = texts.get(SOURCE_LANGUAGE, {})
            filled = [name for name in TEXT_FIELDS[kind] if german.get(name)]
            for lang in languages:
                own = texts.get(lang, {})
                lacking = [name for name in filled if not own.get(name)]
                if lacking:
                    missing[lang].append(Missing(kind, record.id, german.get("name", ""), lacking))
    for items in missing.values():
        items.sort(key=lambda item: (item.kind, item.name.casefold()))
    return missing
