"""The catalogue as Open Referral HSDS 3.0 records: for the API, for export and for import.

A catalogue file is one JSON object::

    {"hsds_version": "3.0", "language": "de",
     "organizations": [organization, ...], "services": [service, ...],
     "taxonomies": [...], "taxonomy_terms": [...]}

Its records are HSDS 3.0 records in German (the source language). Two extension properties,
which HSDS allows, carry what HSDS has no field for: ``translations`` (per language, the same
text fields) and ``demo`` (true for invented demo content). ``schedule_note`` carries a free-text
remark on the opening hours. Import reads the same shape, checks everything before it writes
anything, and names the line of every problem.
"""

from __future__ import annotations

import bisect
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (
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
    utcnow,
)
from ..models.catalogue import SERVICE_STATUSES
from . import catalogue
from .catalogue import COSTS, SOURCE_LANGUAGE, TOPICS, WEEKDAYS, in_language

HSDS_VERSION = "3.0"
NAMESPACE = uuid.UUID("7d1c1f0e-5a43-4b0e-9a55-7f2f3e0c5d11")
TAXONOMY_ID = str(uuid.uuid5(NAMESPACE, "taxonomy:topics"))
TERM_IDS = {code: str(uuid.uuid5(NAMESPACE, f"taxonomy_term:{code}")) for code in TOPICS}
TERM_CODES = {term_id: code for code, term_id in TERM_IDS.items()}
STATE = "Nordrhein-Westfalen"

SERVICE_TEXT_FIELDS = (
    "name",
    "alternate_name",
    "description",
    "eligibility_description",
    "application_process",
    "fees_description",
    "schedule_note",
)
ORGANIZATION_TEXT_FIELDS = ("name", "description")
LOCATION_TEXT_FIELDS = ("name", "accessibility")

TermNames = Callable[[str], tuple[str, str]]


def derived_id(*parts: str) -> str:
    """A stable UUID for a sub-record that has no identity of its own in our tables."""
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------
# Records out


def compact(value: Any) -> Any:
    """Drop absent (``None``) fields: HSDS types its fields and has no null."""
    if isinstance(value, dict):
        return {k: compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [compact(v) for v in value]
    return value


def taxonomy_record() -> dict[str, Any]:
    """The one taxonomy of the catalogue: the Soziales Duo's topics."""
    return {
        "id": TAXONOMY_ID,
        "name": "Soziales Duo topics",
        "description": "Topics of the help catalogue of the Soziales Duo.",
        "version": "1",
    }


def term_record(code: str, term_names: TermNames) -> dict[str, Any]:
    """A taxonomy term; ``term_names`` gives its name and description in the wanted language."""
    name, description = term_names(code)
    return compact(
        {
            "id": TERM_IDS[code],
            "code": code,
            "name": name,
            "description": description,
            "taxonomy": "Soziales Duo topics",
            "taxonomy_id": TAXONOMY_ID,
            "parent_id": None,
            "language": None,
        }
    )


def organization_record(
    organization: Organization, lang: str, translations: bool = False
) -> dict[str, Any]:
    """An organisation, its text in ``lang`` (German where it lacks)."""
    text = in_language(organization.texts, lang).text
    record: dict[str, Any] = {
        "id": organization.id,
        "name": text.name,
        "description": text.description,
        "email": organization.email or None,
        "website": organization.website or None,
        "demo": organization.demo,
    }
    if translations:
        record["translations"] = {
            row.lang: {f: getattr(row, f) for f in ORGANIZATION_TEXT_FIELDS}
            for row in organization.texts
            if row.lang != SOURCE_LANGUAGE
        }
    return compact(record)


def _location_record(location: Location, lang: str, translations: bool) -> dict[str, Any]:
    text = in_language(location.texts, lang).text if location.texts else None
    record: dict[str, Any] = {
        "id": location.id,
        "location_type": location.location_type,
        "name": text.name if text else None,
        "addresses": [],
        "accessibility": [],
    }
    if location.address_1:
        record["addresses"].append(
            {
                "id": location.address_id or derived_id("address", location.id),
                "location_id": location.id,
                "address_1": location.address_1,
                "city": location.city,
                "state_province": location.state_province or STATE,
                "postal_code": location.postal_code,
                "country": location.country,
                "address_type": "physical",
            }
        )
    if text and text.accessibility:
        record["accessibility"].append(
            {
                "id": location.accessibility_id or derived_id("accessibility", location.id),
                "location_id": location.id,
                "description": text.accessibility,
            }
        )
    if translations:
        record["translations"] = {
            row.lang: {f: getattr(row, f) for f in LOCATION_TEXT_FIELDS}
            for row in location.texts
            if row.lang != SOURCE_LANGUAGE
        }
    return record


def service_record(
    service: Service,
    lang: str,
    term_names: TermNames,
    full: bool = True,
    translations: bool = False,
) -> dict[str, Any]:
    """A service, its text in ``lang``; ``full`` nests everything, as ``/services/{id}`` does."""
    text = in_language(service.texts, lang).text
    record: dict[str, Any] = {
        "id": service.id,
        "organization_id": service.organization_id,
        "name": text.name,
        "alternate_name": text.alternate_name or None,
        "description": text.description,
        "url": service.url or None,
        "email": service.email or None,
        "status": service.status,
        "application_process": text.application_process or None,
        "fees_description": text.fees_description or None,
        "eligibility_description": text.eligibility_description or None,
        "minimum_age": service.minimum_age,
        "maximum_age": service.maximum_age,
        "last_modified": _timestamp(service.last_modified),
    }
    if full:
        record["organization"] = organization_record(service.organization, lang)
    if not full:
        return compact(record)
    record.update(
        {
            "phones": [
                {
                    "id": phone.id,
                    "service_id": service.id,
                    "number": phone.number,
                    "type": phone.type,
                    "languages": [],
                }
                for phone in service.phones
            ],
            "schedules": [
                {
                    "id": schedule.id,
                    "service_id": service.id,
                    "freq": "WEEKLY",
                    "wkst": "MO",
                    "byday": schedule.byday,
                    "opens_at": schedule.opens_at.strftime("%H:%M"),
                    "closes_at": schedule.closes_at.strftime("%H:%M"),
                    "timezone": 1,
                    "attending_type": "in_person",
                }
                for schedule in service.schedules
            ],
            "service_areas": [
                {
                    "id": area.id,
                    "service_id": service.id,
                    "name": area.town,
                    "extent_type": "town",
                }
                for area in service.areas
            ],
            "service_at_locations": [
                {
                    "id": link.id,
                    "service_id": service.id,
                    "location_id": link.location_id,
                    "location": _location_record(link.location, lang, translations),
                }
                for link in service.locations
            ],
            "languages": [
                {
                    "id": language.id,
                    "service_id": service.id,
                    "code": language.code,
                    "name": catalogue.language_name(language.code, SOURCE_LANGUAGE),
                }
                for language in service.languages
            ],
            "cost_options": []
            if service.cost == "unknown"
            else [
                {
                    "id": derived_id("cost", service.id),
                    "service_id": service.id,
                    "option": service.cost,
                    "amount_description": text.fees_description or None,
                }
            ],
            "attributes": [
                {
                    "id": topic.attribute_id,
                    "link_id": service.id,
                    "link_type": "service",
                    "link_entity": "service",
                    "taxonomy_term_id": TERM_IDS[topic.topic],
                    "taxonomy_term": term_record(topic.topic, term_names),
                }
                for topic in service.topics
                if topic.topic in TERM_IDS
            ],
            "schedule_note": text.schedule_note or None,
            "demo": service.demo,
        }
    )
    if translations:
        record["translations"] = {
            row.lang: {f: getattr(row, f) for f in SERVICE_TEXT_FIELDS}
            for row in service.texts
            if row.lang != SOURCE_LANGUAGE
        }
    return compact(record)


def export_dataset(session: Session, term_names: TermNames) -> dict[str, Any]:
    """The whole catalogue as one HSDS file (German records, translations alongside)."""
    organizations = session.scalars(select(Organization).order_by(Organization.id)).all()
    services = session.scalars(select(Service).order_by(Service.id)).all()
    return {
        "hsds_version": HSDS_VERSION,
        "language": SOURCE_LANGUAGE,
        "exported_at": _timestamp(utcnow()),
        "organizations": [
            organization_record(o, SOURCE_LANGUAGE, translations=True) for o in organizations
        ],
        "services": [
            service_record(s, SOURCE_LANGUAGE, term_names, full=True, translations=True)
            for s in services
        ],
        "taxonomies": [taxonomy_record()],
        "taxonomy_terms": [term_record(code, term_names) for code in TOPICS],
    }


# ---------------------------------------------------------------------------------------------
# Records in


class Located(dict[str, Any]):
    """A JSON object that remembers the line it starts on."""

    line: int = 0


def parse_located(source: str) -> Any:
    """Parse JSON like :func:`json.loads`, every object a :class:`Located` with its line."""
    newlines = [i for i, char in enumerate(source) if char == "\n"]
    decoder = json.JSONDecoder()

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Located, int]:
        start = s_and_end[1] - 1
        pairs, end = json.decoder.JSONObject(s_and_end, *args)  # type: ignore[attr-defined]
        located = Located(pairs)
        located.line = bisect.bisect_left(newlines, start) + 1
        return located, end

    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    return decoder.decode(source)


@dataclass(frozen=True)
class Problem:
    """Something wrong in an import file, at a line."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRefused(Exception):
    """The file was not imported; nothing changed. ``problems`` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems[:5]))
        self.problems = problems


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")


@dataclass
class _Reader:
    """Collects problems while turning records into rows."""

    towns: dict[str, str]
    languages: tuple[str, ...]
    problems: list[Problem] = field(default_factory=list)

    def problem(self, record: Any, message: str) -> None:
        self.problems.append(Problem(getattr(record, "line", 0), message))

    def obj(self, record: Any, where: str) -> Located | None:
        if not isinstance(record, dict):
            self.problem(record, f"{where} must be a JSON object")
            return None
        return record if isinstance(record, Located) else Located(record)

    def items(self, record: Located, key: str) -> list[Located]:
        value = record.get(key) or []
        if not isinstance(value, list):
            self.problem(record, f"'{key}' must be a list")
            return []
        return [item for item in (self.obj(v, f"an entry of '{key}'") for v in value) if item]

    def uuid(self, record: Located, key: str = "id", required: bool = True) -> str:
        value = record.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not _UUID.match(value):
            self.problem(record, f"'{key}' must be a UUID, got {value!r}")
            return ""
        return value.lower()

    def string(self, record: Located, key: str, required: bool = False, limit: int = 0) -> str:
        value = record.get(key)
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.problem(record, f"'{key}' must be a string")
            return ""
        value = value.strip()
        if required and not value:
            self.problem(record, f"'{key}' is required")
        if limit and len(value) > limit:
            self.problem(record, f"'{key}' is longer than {limit} characters")
        return value

    def pattern(self, record: Located, key: str, regex: re.Pattern[str], what: str) -> str:
        value = self.string(record, key)
        if value and not regex.match(value):
            self.problem(record, f"'{key}' is not {what}: {value!r}")
            return ""
        return value

    def age(self, record: Located, key: str) -> int | None:
        value = record.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 130:
            self.problem(record, f"'{key}' must be an age in years")
            return None
        return int(value)

    def timestamp(self, record: Located, key: str) -> datetime:
        value = record.get(key)
        if value is None:
            return utcnow()
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.problem(record, f"'{key}' must be a date-time like 2026-11-25T10:00:00Z")
            return utcnow()
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def translations(self, record: Located, fields: tuple[str, ...]) -> dict[str, dict[str, str]]:
        value = record.get("translations") or {}
        if not isinstance(value, dict):
            self.problem(record, "'translations' must be an object of languages")
            return {}
        result: dict[str, dict[str, str]] = {}
        for lang, texts in value.items():
            if lang not in self.languages or lang == SOURCE_LANGUAGE:
                self.problem(record, f"'translations' has an unknown language {lang!r}")
                continue
            texts = self.obj(texts, f"translations.{lang}")
            if texts is None:
                continue
            unknown = sorted(set(texts) - set(fields))
            if unknown:
                self.problem(texts, f"translations.{lang} has unknown fields {unknown}")
            result[lang] = {f: self.string(texts, f) for f in fields}
        return result


def _organization(reader: _Reader, record: Located) -> Organization | None:
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


def _location(reader: _Reader, record: Located) -> Location | None:
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


def _schedule(reader: _Reader, record: Located, position: int) -> Schedule | None:
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


def _service(reader: _Reader, record: Located, organizations: set[str]) -> Service | None:
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


@dataclass(frozen=True)
class Imported:
    """What an import wrote."""

    organizations: int
    services: int


def read_dataset(
    source: str, towns: dict[str, str], languages: Iterable[str]
) -> tuple[list[Organization], list[Service]]:
    """Check a catalogue file and turn it into rows; :class:`ImportRefused` lists every problem."""
    try:
        data = parse_located(source)
    except json.JSONDecodeError as exc:
        raise ImportRefused([Problem(exc.lineno, f"not valid JSON: {exc.msg}")]) from None
    reader = _Reader({k.casefold(): v for k, v in towns.items()}, tuple(languages))
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
    reader: _Reader, services: list[Service | None], records: list[Located]
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
