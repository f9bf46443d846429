"""A small catalogue with known texts, built as an HSDS file, for search and import tests."""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Flask

from portal.db import get_db
from portal.i18n import CONTENT_LANGUAGES
from portal.services import hsds, towns

NS = uuid.UUID("5f0b8a3c-1d2e-4f60-8a7b-9c0d1e2f3a4b")


def uid(*parts: str) -> str:
    """A stable UUID for a test record."""
    return str(uuid.uuid5(NS, ":".join(parts)))


ORGANIZATION = uid("org", "caritas")
CARE = uid("service", "care")
TRANSPORT = uid("service", "transport")
HOUSEHOLD = uid("service", "household")
GERMAN_ONLY = uid("service", "german-only")


def _service(
    key: str, topic: str, towns: list[str], languages: list[str], **fields: Any
) -> dict[str, Any]:
    service_id = uid("service", key)
    record: dict[str, Any] = {
        "id": service_id,
        "organization_id": ORGANIZATION,
        "status": "active",
        "last_modified": "2026-11-01T10:00:00Z",
        "attributes": [{"id": uid("attribute", key), "taxonomy_term_id": hsds.TERM_IDS[topic]}],
        "service_areas": [{"id": uid("area", key, t), "name": t} for t in towns],
        "languages": [{"id": uid("language", key, c), "code": c} for c in languages],
    }
    record.update(fields)
    return record


def dataset() -> dict[str, Any]:
    """Four services: care, transport, household (with translations) and one in German only."""
    return {
        "hsds_version": "3.0",
        "organizations": [
            {
                "id": ORGANIZATION,
                "name": "Wohlfahrtsverband Beispiel (Demo)",
                "description": "Ein erfundener Verband für Tests.",
                "translations": {
                    "en": {"name": "Welfare Example (Demo)", "description": "Invented."}
                },
            }
        ],
        "services": [
            _service(
                "care",
                "care",
                ["verl"],
                ["de", "tr"],
                name="Ambulanter Pflegedienst Sonnenschein",
                description="Ambulante Pflege zu Hause: Hilfe beim Waschen und bei Medikamenten.",
                application_process="Rufen Sie an. Wir kommen zu einem Erstgespräch zu Ihnen.",
                fees_description="Die Pflegekasse zahlt ab Pflegegrad 2.",
                email="pflege@beispiel.example",
                phones=[{"id": uid("phone", "care"), "number": "0221 4710 201"}],
                schedules=[
                    {
                        "id": uid("schedule", "care"),
                        "byday": "MO,TU,WE,TH,FR",
                        "opens_at": "08:00",
                        "closes_at": "12:30",
                    }
                ],
                service_at_locations=[
                    {
                        "id": uid("sal", "care"),
                        "location": {
                            "id": uid("location", "care"),
                            "location_type": "physical",
                            "addresses": [
                                {
                                    "id": uid("address", "care"),
                                    "address_1": "Beispielweg 12",
                                    "city": "Verl",
                                    "postal_code": "33415",
                                    "state_province": "Nordrhein-Westfalen",
                                    "country": "DE",
                                    "address_type": "physical",
                                }
                            ],
                            "accessibility": [
                                {"id": uid("access", "care"), "description": "Eingang ohne Stufen."}
                            ],
                            "translations": {
                                "en": {"name": "", "accessibility": "Step-free entrance."}
                            },
                        },
                    }
                ],
                cost_options=[{"id": uid("cost", "care"), "option": "partly"}],
                translations={
                    "en": {"name": "Home care service Sunshine", "description": "Care at home."},
                    "tr": {
                        "name": "Evde bakım hizmeti Sonnenschein",
                        "description": "Evde yaşlı ve hasta insanlara bakım.",
                    },
                    "ar": {
                        "name": "خدمة الرعاية المنزلية",
                        "description": "الرعاية في المنزل لكبار السن.",
                    },
                    "ru": {"name": "Уход на дому", "description": "Уход за пожилыми людьми дома."},
                },
            ),
            _service(
                "transport",
                "transport",
                ["shs"],
                ["de"],
                name="Fahrdienste für Menschen im Rollstuhl",
                description="Pflege? Wir fahren Sie zur Pflege, zum Pflegeheim und zur Pflegeberatung.",
                translations={
                    "en": {"name": "Transport for wheelchair users", "description": "Rides."}
                },
            ),
            _service(
                "household",
                "household",
                ["verl", "shs"],
                ["de", "ru"],
                name="Haushaltshilfe Nachbarschaft",
                description="Hilfe beim Putzen und Einkaufen, bezahlt über den Entlastungsbetrag.",
                translations={
                    "ru": {"name": "Помощь по хозяйству", "description": "Уборка и покупки."},
                    "en": {"name": "Household help", "description": "Cleaning and shopping."},
                },
            ),
            _service(
                "german-only",
                "benefits",
                ["verl"],
                ["de"],
                name="Wohngeldberatung im Rathaus",
                description="Wir prüfen mit Ihnen, ob Ihnen Wohngeld zusteht.",
            ),
        ],
    }


def load(app: Flask, data: dict[str, Any] | None = None, replace: bool = True) -> hsds.Imported:
    """Import ``data`` (the small catalogue by default) into the app's database."""
    with app.app_context(), get_db(app).session() as session:
        return hsds.import_dataset(
            session,
            json.dumps(data or dataset(), ensure_ascii=False),
            towns.names_to_slugs(session),
            CONTENT_LANGUAGES,
            replace=replace,
        )
