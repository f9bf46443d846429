"""Catalogue records in, second step: check every record of a file and turn it into rows.

Nothing is written here: :func:`read_dataset` either returns unsaved rows for the whole file or
refuses it with every problem it found, each at its line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import time

from ...models import (
    Location,
    LocationText,
    Organization,
    OrganizationText,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceLanguage,
    ServiceText,
    ServiceTopic,
)
from ...models.catalogue import SERVICE_STATUSES
from ..catalogue import COSTS, SOURCE_LANGUAGE, WEEKDAYS
from .reader import ImportRefused, Located, Problem, RecordReader, parse_located
from .records import (
    HSDS_VERSION,
    LOCATION_TEXT_FIELDS,
    ORGANIZATION_TEXT_FIELDS,
    SERVICE_TEXT_FIELDS,
    TERM_CODES,
)

_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")


def _organization(reader: RecordReader, record: Located) -> Organization | None:
    organization_id = reader.uuid(record)
    name = reader.string(record, "name", required=True, limit=200)
    description = reader.string(record, "description")
    email = reader.pattern(record, "email", _EMAIL, "an email address")
    website = reader.pattern(record, "website", _URL, "a web address")
    translations = reader.translations(record, ORGANIZATION_TEXT_FIELDS)
    if not organization_id:
        return None
    texts = [OrganizationText(lang=SOURCE_LANGUAGE, name=name, description=description)]
    for lang, values in translations.items():
        if values["name"]:
            texts.append(OrganizationText(lang=lang, **values))
    return Organization(
        id=organization_id,
        email=email,
        website=website,
        demo=bool(record.get("demo")),
        last_modified=reader.timestamp(record, "last_modified"),
        texts=texts,
    )


def _location(reader: RecordReader, record: Located) -> Location | None:
    location_id = reader.uuid(record)
    location_type = reader.string(record, "location_type") or "physical"
    if location_type not in ("physical", "postal", "virtual"):
        reader.problem(record, f"'location_type' {location_type!r} is not an HSDS location type")
    name = reader.string(record, "name", limit=200)
    addresses = reader.items(record, "addresses")
    accessibility = reader.items(record, "accessibility")
    translations = reader.translations(record, LOCATION_TEXT_FIELDS)
    location = Location(id=location_id, location_type=location_type, texts=[])
    if addresses:
        address = addresses[0]
        location.address_id = reader.uuid(address) or None
        location.address_1 = reader.string(address, "address_1", required=True, limit=200)
        location.city = reader.string(address, "city", required=True, limit=100)
        location.postal_code = reader.string(address, "postal_code", required=True, limit=10)
        location.state_province = reader.string(address, "state_province", limit=100)
        location.country = reader.string(address, "country", limit=2) or "DE"
    accessibility_text = ""
    if accessibility:
        location.accessibility_id = reader.uuid(accessibility[0]) or None
        accessibility_text = reader.string(accessibility[0], "description")
    location.texts.append(
        LocationText(lang=SOURCE_LANGUAGE, name=name, accessibility=accessibility_text)
    )
    for lang, values in translations.items():
        if values["name"] or values["accessibility"]:
            location.texts.append(LocationText(lang=lang, **values))
    return location if location_id else None


def _schedule(reader: RecordReader, record: Located, position: int) -> Schedule | None:
    schedule_id = reader.uuid(record)
    freq = reader.string(record, "freq") or "WEEKLY"
    byday = reader.string(record, "byday").upper().replace(" ", "")
    opens = reader.pattern(record, "opens_at", _TIME, "a time like 09:00")
    closes = reader.pattern(record, "closes_at", _TIME, "a time like 12:30")
    if freq != "WEEKLY":
        reader.problem(record, "only weekly schedules (freq WEEKLY) can be imported")
    days = [d for d in byday.split(",") if d]
    if not days or any(d not in WEEKDAYS for d in days):
        reader.problem(record, f"'byday' must list days like MO,TU,WE, got {byday!r}")
    if not (opens and closes):
        if not (record.get("opens_at") and record.get("closes_at")):
            reader.problem(record, "'opens_at' and 'closes_at' are required")
        return None
    opens_at, closes_at = time.fromisoformat(opens), time.fromisoformat(closes)
    if closes_at <= opens_at:
        reader.problem(record, "'closes_at' must be after 'opens_at'")
    return Schedule(
        id=schedule_id,
        byday=",".join(days),
        opens_at=opens_at,
        closes_at=closes_at,
        position=position,
    )


def _service(reader: RecordReader, record: Located, organizations: set[str]) -> Service | None:
    service_id = reader.uuid(record)
    organization_id = reader.uuid(record, "organization_id")
    if organization_id and organization_id not in organizations:
        reader.problem(record, f"'organization_id' {organization_id} is not in the file")
    status = reader.string(record, "status") or "active"
    if status not in SERVICE_STATUSES:
        reader.problem(record, f"'status' {status!r} is not one of {list(SERVICE_STATUSES)}")
    texts = {
        "name": reader.string(record, "name", required=True, limit=200),
        "alternate_name": reader.string(record, "alternate_name", limit=200),
        "description": reader.string(record, "description"),
        "eligibility_description": reader.string(record, "eligibility_description"),
        "application_process": reader.string(record, "application_process"),
        "fees_description": reader.string(record, "fees_description"),
        "schedule_note": reader.string(record, "schedule_note"),
    }
    service = Service(
        id=service_id,
        organization_id=organization_id,
        status=status,
        email=reader.pattern(record, "email", _EMAIL, "an email address"),
        url=reader.pattern(record, "url", _URL, "a web address"),
        minimum_age=reader.age(record, "minimum_age"),
        maximum_age=reader.age(record, "maximum_age"),
        demo=bool(record.get("demo")),
        last_modified=reader.timestamp(record, "last_modified"),
        texts=[ServiceText(lang=SOURCE_LANGUAGE, **texts)],
    )
    for lang, values in reader.translations(record, SERVICE_TEXT_FIELDS).items():
        if values["name"]:
            service.texts.append(ServiceText(lang=lang, **values))
        else:
            reader.problem(record, f"translations.{lang} needs a 'name'")
    costs = reader.items(record, "cost_options")
    service.cost = "unknown"
    if costs:
        option = reader.string(costs[0], "option")
        if option not in COSTS:
            reader.problem(costs[0], f"'option' must be one of {list(COSTS)}")
        else:
            service.cost = option
    for attribute in reader.items(record, "attributes"):
        term_id = reader.uuid(attribute, "taxonomy_term_id")
        if term_id and term_id not in TERM_CODES:
            reader.problem(attribute, f"'taxonomy_term_id' {term_id} is not a catalogue topic")
        elif term_id:
            service.topics.append(
                ServiceTopic(topic=TERM_CODES[term_id], attribute_id=reader.uuid(attribute))
            )
    if not service.topics:
        reader.problem(record, "a service needs at least one topic (an attribute with a term)")
    for area in reader.items(record, "service_areas"):
        name = reader.string(area, "name")
        town = reader.towns.get(name.casefold())
        if town is None:
            reader.problem(area, f"service area {name!r} is not one of our towns")
        elif town not in {a.town for a in service.areas}:
            service.areas.append(ServiceArea(id=reader.uuid(area), town=town))
    for position, language in enumerate(reader.items(record, "languages")):
        code = reader.string(language, "code").lower()
        if not re.match(r"^[a-z]{2,3}$", code):
            reader.problem(language, f"'code' must be an ISO 639 language code, got {code!r}")
        elif code not in {lang.code for lang in service.languages}:
            service.languages.append(
                ServiceLanguage(id=reader.uuid(language), code=code, position=position)
            )
    for position, phone in enumerate(reader.items(record, "phones")):
        number = reader.string(phone, "number", required=True, limit=40)
        service.phones.append(
            Phone(
                id=reader.uuid(phone),
                number=number,
                type=reader.string(phone, "type", limit=20) or "voice",
                position=position,
            )
        )
    for position, schedule_record in enumerate(reader.items(record, "schedules")):
        schedule = _schedule(reader, schedule_record, position)
        if schedule:
            service.schedules.append(schedule)
    for position, link in enumerate(reader.items(record, "service_at_locations")):
        location_record = reader.obj(link.get("location"), "'location'")
        location = _location(reader, location_record) if location_record else None
        if location is not None:
            service.locations.append(
                ServiceAtLocation(id=reader.uuid(link), location=location, position=position)
            )
    return service if service_id else None


def read_dataset(
    source: str, towns: dict[str, str], languages: Iterable[str]
) -> tuple[list[Organization], list[Service]]:
    """Check a catalogue file and turn it into rows; :class:`ImportRefused` lists every problem."""
    try:
        data = parse_located(source)
    except json.JSONDecodeError as exc:
        raise ImportRefused([Problem(exc.lineno, f"not valid JSON: {exc.msg}")]) from None
    reader = RecordReader({k.casefold(): v for k, v in towns.items()}, tuple(languages))
    if not isinstance(data, Located):
        raise ImportRefused([Problem(1, "the file must hold one JSON object")])
    if str(data.get("hsds_version", HSDS_VERSION)) != HSDS_VERSION:
        reader.problem(data, f"'hsds_version' must be {HSDS_VERSION}")
    organization_records = reader.items(data, "organizations")
    service_records = reader.items(data, "services")
    organizations = [_organization(reader, r) for r in organization_records]
    known = {o.id for o in organizations if o}
    services = [_service(reader, r, known) for r in service_records]
    for kind, rows, records in (
        ("organization", organizations, organization_records),
        ("service", services, service_records),
    ):
        seen: set[str] = set()
        for row, record in zip(rows, records, strict=True):
            if row and row.id in seen:
                reader.problem(record, f"{kind} {row.id} appears twice")
            if row:
                seen.add(row.id)
    _check_unique_children(reader, services, service_records)
    if reader.problems:
        raise ImportRefused(reader.problems)
    return [o for o in organizations if o], [s for s in services if s]


def _check_unique_children(
    reader: RecordReader, services: list[Service | None], records: list[Located]
) -> None:
    seen: set[tuple[str, str]] = set()
    for service, record in zip(services, records, strict=True):
        if service is None:
            continue
        children: list[tuple[str, str]] = [
            *(("phone", p.id) for p in service.phones),
            *(("schedule", s.id) for s in service.schedules),
            *(("service_area", a.id) for a in service.areas),
            *(("language", lang.id) for lang in service.languages),
            *(("service_at_location", link.id) for link in service.locations),
            *(("location", link.location.id) for link in service.locations),
            *(("attribute", t.attribute_id) for t in service.topics),
        ]
        for child in children:
            if child[1] and child in seen:
                reader.problem(record, f"{child[0]} {child[1]} is used more than once")
            seen.add(child)
