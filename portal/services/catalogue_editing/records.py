"""A catalogue record as the dictionary a draft holds, and that dictionary applied to a record."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, time
from typing import Any

from sqlalchemy.orm import Session

from ...models import (
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
from ..catalogue import SOURCE_LANGUAGE, WEEKDAYS
from ..hsds.records import LOCATION_TEXT_FIELDS, ORGANIZATION_TEXT_FIELDS, SERVICE_TEXT_FIELDS

KINDS = ("service", "organization", "location")
MODELS: dict[str, Any] = {"service": Service, "organization": Organization, "location": Location}
# The fields a reader sees, per language; German is required, other languages optional.
TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "service": SERVICE_TEXT_FIELDS,
    "organization": ORGANIZATION_TEXT_FIELDS,
    "location": LOCATION_TEXT_FIELDS,
}
# The field every language's text needs once that language has any text (a location may
# have no name: a phone line or home visits).
REQUIRED_TEXT = "name"
NAME_REQUIRED = frozenset({"service", "organization"})
Record = Service | Organization | Location
Hours = dict[str, list[list[str]]]
# A record as a draft holds it (see :func:`snapshot`).
RecordData = dict[str, Any]


def live_record(session: Session, kind: str, record_id: str) -> Record | None:
    """The published record, or ``None`` (a new record, or no such record)."""
    found: Record | None = session.get(MODELS[kind], record_id)
    return found


def texts_of(rows: Iterable[Any], fields: tuple[str, ...]) -> dict[str, dict[str, str]]:
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


def snapshot(kind: str, record: Record) -> RecordData:
    """A published record as the dictionary a draft holds."""
    texts = texts_of(record.texts, TEXT_FIELDS[kind])
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


def _flat(data: RecordData | None) -> dict[str, Any]:
    if not data:
        return {}
    flat = {key: value for key, value in data.items() if key != "texts"}
    for lang, fields in data.get("texts", {}).items():
        for name, value in fields.items():
            if value:
                flat[f"{name}:{lang}"] = value
    return flat


def changed_fields(before: RecordData | None, after: RecordData) -> list[str]:
    """The fields that differ, texts as ``name:lang`` (``description:tr``), sorted."""
    old, new = _flat(before), _flat(after)
    return sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))


def record_name(kind: str, data: RecordData) -> str:
    """The record's German name, for lists and the history."""
    german = data.get("texts", {}).get(SOURCE_LANGUAGE, {})
    return str(german.get("name", ""))


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


def apply_service(session: Session, service: Service, data: RecordData) -> None:
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


def apply(session: Session, kind: str, record: Record, data: RecordData) -> None:
    """Write a draft's dictionary into a record (published or new)."""
    if isinstance(record, Service):
        apply_service(session, record, data)
    elif isinstance(record, Organization):
        record.email, record.website = data["email"], data["website"]
        _apply_texts(record.texts, OrganizationText, data["texts"])
    else:
        for name in ("location_type", "address_1", "postal_code", "city"):
            setattr(record, name, data[name])
        _apply_texts(record.texts, LocationText, data["texts"])


def new_record(kind: str, record_id: str, now: datetime) -> Record:
    """An empty record of ``kind``, at version 1."""
    if kind == "service":
        return Service(id=record_id, last_modified=now, version=1, demo=False)
    if kind == "organization":
        return Organization(id=record_id, last_modified=now, version=1, demo=False)
    return Location(id=record_id, version=1)


def new_id() -> str:
    """An identifier for a new record (HSDS uses UUIDs)."""
    return str(uuid.uuid4())
