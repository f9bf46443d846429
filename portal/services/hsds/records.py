"""Catalogue records out: HSDS 3.0 records and the whole-catalogue file, built from the tables.

The identifiers of the topic taxonomy and of sub-records that have no row of their own are
UUIDv5 under one namespace, so an export, an import and the API always agree on them.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from ...models import Location, Organization, Service, ServiceText, utcnow
from .. import catalogue
from ..catalogue import SOURCE_LANGUAGE, TOPICS, in_language

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


_LISTED_TEXT = (
    ServiceText.lang,
    ServiceText.name,
    ServiceText.alternate_name,
    ServiceText.description,
    ServiceText.application_process,
    ServiceText.fees_description,
    ServiceText.eligibility_description,
)


@dataclass
class _ListedText:
    lang: str
    name: str
    alternate_name: str
    description: str
    application_process: str
    fees_description: str
    eligibility_description: str


@functools.lru_cache(maxsize=32)
def _listed_statement(langs: tuple[str, ...]) -> Select[*tuple[Any, ...]]:
    """The query of :func:`service_records`, built once per pair of languages (the identifiers
    are the bound parameter ``ids``)."""
    return (
        select(
            Service.id,
            Service.organization_id,
            Service.url,
            Service.email,
            Service.status,
            Service.minimum_age,
            Service.maximum_age,
            Service.last_modified,
            *_LISTED_TEXT,
        )
        .join(ServiceText, ServiceText.service_id == Service.id)
        .where(Service.id.in_(bindparam("ids", expanding=True)), ServiceText.lang.in_(langs))
        .order_by(Service.id, ServiceText.lang)
    )


def service_records(session: Session, ids: Sequence[str], lang: str) -> list[dict[str, Any]]:
    """The services of ``ids`` in that order as a list page shows them (:func:`service_record`
    without ``full``): read as plain columns in one query, their texts in ``lang`` and German
    only, without building the ORM objects a nested record needs."""
    if not ids:
        return []
    statement = _listed_statement(tuple(sorted({lang, SOURCE_LANGUAGE})))
    rows: Sequence[Any] = session.connection().execute(statement, {"ids": list(ids)}).all()
    found: dict[str, tuple[Any, list[_ListedText]]] = {}
    for row in rows:
        text = _ListedText(*row[8:15])
        found.setdefault(row[0], (row, []))[1].append(text)
    missing = [i for i in ids if i not in found]
    if missing:  # neither in ``lang`` nor German: as the nested record would show it
        for service in catalogue.services_by_ids(session, missing):
            found[service.id] = (service, [])
    records = []
    for service_id in ids:
        if service_id not in found:
            continue
        row, texts = found[service_id]
        if isinstance(row, Service):
            records.append(service_record(row, lang, lambda code: ("", ""), full=False))
            continue
        records.append(compact(_listed_fields(row, in_language(texts, lang).text)))
    return records


def _listed_fields(service: Any, text: Any) -> dict[str, Any]:
    """The fields of a service record without nesting, from a :class:`Service` or a row of the
    same columns, and its text in the reader's language."""
    return {
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


def service_record(
    service: Service,
    lang: str,
    term_names: TermNames,
    full: bool = True,
    translations: bool = False,
) -> dict[str, Any]:
    """A service, its text in ``lang``; ``full`` nests everything, as ``/services/{id}`` does."""
    text = in_language(service.texts, lang).text
    record = _listed_fields(service, text)
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
