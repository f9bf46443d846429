"""Editing the catalogue by hand: drafts, preview, publication, history, missing translations.

An edit is saved as a draft (:class:`CatalogueDraft`, the whole record as JSON); the public
pages, the search, the API and the export read only the published tables, so a draft stays
private until an editor publishes it. Every record carries a ``version`` that each publication
raises: a draft made from an older version is refused (:class:`StaleEdit`), so two editors
never silently overwrite each other.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import (
    CatalogueChange,
    CatalogueDraft,
    Location,
    LocationText,
    Organization,
    OrganizationText,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceLanguage,
    ServiceText,
    ServiceTopic,
)
from . import catalogue
from .catalogue import SOURCE_LANGUAGE, WEEKDAYS

KINDS = ("service", "organization", "location")
MODELS: dict[str, Any] = {"service": Service, "organization": Organization, "location": Location}
# The fields a reader sees, per language; German is required, other languages optional.
TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "service": (
        "name",
        "alternate_name",
        "description",
        "eligibility_description",
        "application_process",
        "fees_description",
        "schedule_note",
    ),
    "organization": ("name", "description"),
    "location": ("name", "accessibility"),
}
# The field every language's text needs once that language has any text (a location may
# have no name: a phone line or home visits).
REQUIRED_TEXT = "name"
NAME_REQUIRED = frozenset({"service", "organization"})
Record = Service | Organization | Location
Hours = dict[str, list[list[str]]]


class StaleEdit(Exception):
    """Someone else published or changed this record since the edit began."""


@dataclass(frozen=True)
class Missing:
    """A published record whose text lacks fields in one language."""

    kind: str
    record_id: str
    name: str
    fields: list[str]


def live_record(session: Session, kind: str, record_id: str) -> Record | None:
    """The published record, or ``None`` (a new record, or no such record)."""
    found: Record | None = session.get(MODELS[kind], record_id)
    return found


def draft_of(session: Session, kind: str, record_id: str) -> CatalogueDraft | None:
    """The unpublished draft of a record, if there is one."""
    return session.scalar(
        select(CatalogueDraft).where(
            CatalogueDraft.kind == kind, CatalogueDraft.record_id == record_id
        )
    )


def draft_data(draft: CatalogueDraft) -> dict[str, Any]:
    """The draft's record as a dictionary (see :func:`snapshot`)."""
    data: dict[str, Any] = json.loads(draft.data)
    return data


def _texts(rows: Iterable[Any], fields: tuple[str, ...]) -> dict[str, dict[str, str]]:
    return {row.lang: {name: getattr(row, name) or "" for name in fields} for row in rows}


def _hours(schedules: Iterable[Schedule]) -> Hours:
    hours: Hours = {day: [] for day in WEEKDAYS}
    for schedule in schedules:
        for day in schedule.byday.split(","):
            if day in hours:
                hours[day].append(
                    [schedule.opens_at.strftime("%H:%M"), schedule.closes_at.strftime("%H:%M")]
                )
    return {day: sorted(ranges) for day, ranges in hours.items()}


def snapshot(kind: str, record: Record) -> dict[str, Any]:
    """A published record as the dictionary a draft holds."""
    texts = _texts(record.texts, TEXT_FIELDS[kind])
    if isinstance(record, Service):
        return {
            "organization_id": record.organization_id,
            "status": record.status,
            "cost": record.cost,
            "email": record.email,
            "url": record.url,
            "minimum_age": record.minimum_age,
            "maximum_age": record.maximum_age,
            "topics": sorted(topic.topic for topic in record.topics),
            "areas": sorted(area.town for area in record.areas),
            "languages": [language.code for language in record.languages],
            "hours": _hours(record.schedules),
            "locations": [link.location_id for link in record.locations],
            "texts": texts,
        }
    if isinstance(record, Organization):
        return {"email": record.email, "website": record.website, "texts": texts}
    return {
        "location_type": record.location_type,
        "address_1": record.address_1,
        "postal_code": record.postal_code,
        "city": record.city,
        "texts": texts,
    }


def _flat(data: dict[str, Any] | None) -> dict[str, Any]:
    if not data:
        return {}
    flat = {key: value for key, value in data.items() if key != "texts"}
    for lang, fields in data.get("texts", {}).items():
        for name, value in fields.items():
            if value:
                flat[f"{name}:{lang}"] = value
    return flat


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """The fields that differ, texts as ``name:lang`` (``description:tr``), sorted."""
    old, new = _flat(before), _flat(after)
    return sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))


def record_name(kind: str, data: dict[str, Any]) -> str:
    """The record's German name, for lists and the history."""
    german = data.get("texts", {}).get(SOURCE_LANGUAGE, {})
    return str(german.get("name", ""))


def _change(
    session: Session,
    kind: str,
    record_id: str,
    action: str,
    name: str,
    fields: Sequence[str],
    staff_id: int | None,
    now: datetime,
) -> None:
    session.add(
        CatalogueChange(
            kind=kind,
            record_id=record_id,
            name=name[:200],
            action=action,
            fields=",".join(fields),
            staff_id=staff_id,
            at=now,
        )
    )


def save_draft(
    session: Session,
    kind: str,
    record_id: str,
    data: dict[str, Any],
    base_version: int | None,
    revision: int,
    staff_id: int | None,
    now: datetime,
) -> CatalogueDraft:
    """Save an edit as the record's draft, refusing it when it is stale.

    ``base_version`` is the published version the edit started from (``None`` for a new
    record), ``revision`` the draft's revision it started from (0: there was no draft).
    """
    live = live_record(session, kind, record_id)
    if (live.version if live else None) != base_version:
        raise StaleEdit
    draft = draft_of(session, kind, record_id)
    encoded = json.dumps(data, ensure_ascii=False, sort_keys=True)
    if draft is None:
        if revision != 0:
            raise StaleEdit
        draft = CatalogueDraft(
            kind=kind,
            record_id=record_id,
            base_version=base_version,
            revision=1,
            data=encoded,
            updated_by_id=staff_id,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(draft)
        except IntegrityError:
            raise StaleEdit from None
    else:
        saved = session.execute(
            update(CatalogueDraft)
            .where(CatalogueDraft.id == draft.id, CatalogueDraft.revision == revision)
            .values(
                revision=CatalogueDraft.revision + 1,
                data=encoded,
                base_version=base_version,
                updated_by_id=staff_id,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if saved.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleEdit
        session.refresh(draft)
    fields = changed_fields(snapshot(kind, live) if live else None, data)
    _change(session, kind, record_id, "draft", record_name(kind, data), fields, staff_id, now)
    return draft


def _sync(
    rows: list[Any],
    wanted: Sequence[Any],
    key: Callable[[Any], Any],
    make: Callable[[Any], Any],
) -> None:
    """Make the collection hold exactly ``wanted`` (keys), keeping rows already there."""
    existing = {key(row): row for row in rows}
    keep = [existing[item] if item in existing else make(item) for item in wanted]
    rows[:] = keep


def _apply_texts(rows: list[Any], model: Any, texts: dict[str, dict[str, str]]) -> None:
    by_lang = {row.lang: row for row in rows}
    wanted = [lang for lang, fields in texts.items() if any(fields.values())]
    for lang in wanted:
        if lang not in by_lang:
            by_lang[lang] = model(lang=lang)
        for name, value in texts[lang].items():
            setattr(by_lang[lang], name, value)
    rows[:] = [by_lang[lang] for lang in sorted(wanted)]


def _schedules(hours: Hours) -> list[Schedule]:
    """Weekly hours as schedules, one per time range with the days that share it."""
    days_of: dict[tuple[str, str], list[str]] = {}
    for day in WEEKDAYS:
        for opens, closes in hours.get(day, []):
            days_of.setdefault((opens, closes), []).append(day)
    return [
        Schedule(
            id=str(uuid.uuid4()),
            byday=",".join(days),
            opens_at=time.fromisoformat(opens),
            closes_at=time.fromisoformat(closes),
            position=position,
        )
        for position, ((opens, closes), days) in enumerate(sorted(days_of.items()))
    ]


def _apply_service(session: Session, service: Service, data: dict[str, Any]) -> None:
    for name in ("organization_id", "status", "cost", "email", "url"):
        setattr(service, name, data[name])
    service.minimum_age = data["minimum_age"]
    service.maximum_age = data["maximum_age"]
    _apply_texts(service.texts, ServiceText, data["texts"])
    _sync(
        service.topics,
        data["topics"],
        lambda row: row.topic,
        lambda code: ServiceTopic(topic=code, attribute_id=str(uuid.uuid4())),
    )
    _sync(
        service.areas,
        data["areas"],
        lambda row: row.town,
        lambda town: ServiceArea(id=str(uuid.uuid4()), town=town),
    )
    _sync(
        service.languages,
        data["languages"],
        lambda row: row.code,
        lambda code: ServiceLanguage(id=str(uuid.uuid4()), code=code),
    )
    for position, language in enumerate(service.languages):
        language.position = position
    if _hours(service.schedules) != {day: sorted(r) for day, r in data["hours"].items()}:
        service.schedules[:] = _schedules(data["hours"])
    _sync(
        service.locations,
        data["locations"],
        lambda row: row.location_id,
        lambda location_id: ServiceAtLocation(
            id=str(uuid.uuid4()), location=session.get(Location, location_id)
        ),
    )
    for position, link in enumerate(service.locations):
        link.position = position


def _apply(session: Session, kind: str, record: Record, data: dict[str, Any]) -> None:
    if isinstance(record, Service):
        _apply_service(session, record, data)
    elif isinstance(record, Organization):
        record.email, record.website = data["email"], data["website"]
        _apply_texts(record.texts, OrganizationText, data["texts"])
    else:
        for name in ("location_type", "address_1", "postal_code", "city"):
            setattr(record, name, data[name])
        _apply_texts(record.texts, LocationText, data["texts"])


def _new(kind: str, record_id: str, now: datetime) -> Record:
    if kind == "service":
        return Service(id=record_id, last_modified=now, version=1, demo=False)
    if kind == "organization":
        return Organization(id=record_id, last_modified=now, version=1, demo=False)
    return Location(id=record_id, version=1)


def preview(session: Session, kind: str, record_id: str, data: dict[str, Any]) -> Service:
    """A service built from a draft, for the public page's template; never saved."""
    live = live_record(session, kind, record_id)
    service = Service(
        id=record_id,
        demo=bool(live and isinstance(live, Service) and live.demo),
        organization=session.get(Organization, data["organization_id"]),
        last_modified=live.last_modified if isinstance(live, Service) else None,
    )
    with session.no_autoflush:
        _apply_service(session, service, data)
    if service in session:
        session.expunge(service)
    return service


def publish(
    session: Session,
    kind: str,
    record_id: str,
    revision: int,
    staff_id: int | None,
    languages: Sequence[str],
    now: datetime,
) -> list[str]:
    """Make the draft public; the fields that changed. :class:`StaleEdit` when outdated."""
    draft = draft_of(session, kind, record_id)
    if draft is None or draft.revision != revision:
        raise StaleEdit
    data = draft_data(draft)
    live = live_record(session, kind, record_id)
    model = MODELS[kind]
    if live is None:
        if draft.base_version is not None:
            raise StaleEdit  # the record was deleted meanwhile
        record = _new(kind, record_id, now)
        before = None
        session.add(record)
    else:
        before = snapshot(kind, live)
        raised = session.execute(
            update(model)
            .where(model.id == record_id, model.version == draft.base_version)
            .values(version=model.version + 1)
            .execution_options(synchronize_session=False)
        )
        if raised.rowcount != 1:  # type: ignore[attr-defined]
            raise StaleEdit
        session.refresh(live)
        record = live
    if isinstance(record, Service | Organization):
        record.last_modified = now
    _apply(session, kind, record, data)
    session.delete(draft)
    session.flush()
    if isinstance(record, Service):
        session.refresh(record)
        catalogue.reindex(session, record, languages, fresh=before is None)
    elif isinstance(record, Organization):
        for service in catalogue.services_of(session, record.id):
            catalogue.reindex(session, service, languages, record)
    fields = changed_fields(before, data)
    action = "created" if before is None else "published"
    _change(session, kind, record_id, action, record_name(kind, data), fields, staff_id, now)
    return fields


def discard(
    session: Session, kind: str, record_id: str, staff_id: int | None, now: datetime
) -> bool:
    """Throw the draft away; whether there was one."""
    draft = draft_of(session, kind, record_id)
    if draft is None:
        return False
    name = record_name(kind, draft_data(draft))
    session.execute(delete(CatalogueDraft).where(CatalogueDraft.id == draft.id))
    _change(session, kind, record_id, "discarded", name, [], staff_id, now)
    return True


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


def missing_translations(session: Session, languages: Sequence[str]) -> dict[str, list[Missing]]:
    """Per language, the published records whose German text has fields it lacks."""
    missing: dict[str, list[Missing]] = {lang: [] for lang in languages}
    for kind in KINDS:
        for record in session.scalars(select(MODELS[kind])):
            texts = _texts(record.texts, TEXT_FIELDS[kind])
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


def new_id() -> str:
    """An identifier for a new record (HSDS uses UUIDs)."""
    return str(uuid.uuid4())
