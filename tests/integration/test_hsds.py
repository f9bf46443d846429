"""The catalogue as HSDS 3.0 open data: schema conformance, the API, import and export."""

from __future__ import annotations

import copy
import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from portal.cli import DEMO_CATALOGUE
from portal.db import get_db
from portal.models import Organization, Service
from portal.services import hsds
from tests import catalogue_data
from tests.catalogue_data import CARE, GERMAN_ONLY, ORGANIZATION, TRANSPORT

SCHEMAS = Path(__file__).resolve().parent.parent / "data" / "hsds"


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator with format checking for one of the HSDS 3.0 compiled schemas."""
    schema = json.loads(gzip.decompress((SCHEMAS / f"{name}.json.gz").read_bytes()))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_valid(name: str, record: dict[str, Any]) -> None:
    errors = sorted(validator(name).iter_errors(record), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


@cache
def term_validator() -> Draft202012Validator:
    schema = json.loads(gzip.decompress((SCHEMAS / "service.json.gz").read_bytes()))
    term = schema["properties"]["attributes"]["items"]["properties"]["taxonomy_term"]
    return Draft202012Validator(term, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture
def loaded(app: Flask) -> Flask:
    catalogue_data.load(app)
    return app


@pytest.fixture
def demo(app: Flask) -> Flask:
    with app.app_context():
        app.test_cli_runner().invoke(args=["catalogue", "import", str(DEMO_CATALOGUE)])
    return app


def _count(app: Flask, model: type) -> int:
    with app.app_context(), get_db(app).session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_demo_catalogue_is_rich_marked_as_demo_and_in_every_language() -> None:
    data = json.loads(DEMO_CATALOGUE.read_text("utf-8"))
    services = data["services"]
    assert len(services) >= 40
    assert all(s["demo"] for s in services) and all(o["demo"] for o in data["organizations"])
    topics = {a["taxonomy_term_id"] for s in services for a in s["attributes"]}
    assert topics == set(hsds.TERM_IDS.values())
    for service in services:
        assert set(service["translations"]) == {"en", "tr", "ar", "ru", "uk", "pl", "ro", "bg"}
        assert all(t["name"] and t["description"] for t in service["translations"].values())
        for phone in service["phones"]:  # drama numbers or the public town hall, nobody else
            assert phone["number"].startswith("0221 4710 ") or phone["number"] == "05246 961-0"
        for key in ("email", "url"):
            value = service.get(key, "")
            assert not value or ".example" in value or value == "kontakt@verl.de"


def test_every_demo_record_validates_against_hsds_3(demo: Flask, client: FlaskClient) -> None:
    data = json.loads(DEMO_CATALOGUE.read_text("utf-8"))
    for organization in data["organizations"]:
        assert_valid("organization", organization)
    for service in data["services"]:
        assert_valid("service", service)
    assert _count(demo, Service) == len(data["services"])


def test_every_endpoint_answers_valid_hsds(demo: Flask, client: FlaskClient) -> None:
    root = client.get("/api/hsds/").get_json()
    assert root["version"] == "3.0" and root["openapi_url"].startswith("https://")

    listing = client.get("/api/hsds/services?per_page=100").get_json()
    assert listing["total_items"] >= 40 and listing["first_page"] and listing["last_page"]
    for item in listing["contents"]:
        assert_valid("service_list", item)
    for item in listing["contents"]:
        for lang in ("de", "ar"):
            full = client.get(f"/api/hsds/services/{item['id']}?lang={lang}").get_json()
            assert_valid("service", full)

    organizations = client.get("/api/hsds/organizations").get_json()
    assert organizations["total_items"] >= 5
    for item in organizations["contents"]:
        assert_valid("organization_list", item)
        full = client.get(f"/api/hsds/organizations/{item['id']}?full_service=true").get_json()
        assert_valid("organization", full)
        assert full["services"]

    terms = client.get("/api/hsds/taxonomy_terms?lang=uk").get_json()
    assert terms["total_items"] == 10
    for term in terms["contents"]:
        assert not list(term_validator().iter_errors(term))
        assert client.get(f"/api/hsds/taxonomy_terms/{term['id']}").status_code == 200
    taxonomies = client.get("/api/hsds/taxonomies").get_json()
    assert taxonomies["contents"][0]["id"] == hsds.TAXONOMY_ID
    assert client.get(f"/api/hsds/taxonomies/{hsds.TAXONOMY_ID}").status_code == 200


def test_api_paging(loaded: Flask, client: FlaskClient) -> None:
    first = client.get("/api/hsds/services?per_page=3").get_json()
    second = client.get("/api/hsds/services?per_page=3&page=2").get_json()
    assert (first["total_items"], first["total_pages"], first["size"]) == (4, 2, 3)
    assert first["first_page"] and not first["last_page"] and not first["empty"]
    assert second["size"] == 1 and second["last_page"] and second["page_number"] == 2
    ids = [s["id"] for s in first["contents"] + second["contents"]]
    assert len(set(ids)) == 4
    beyond = client.get("/api/hsds/services?per_page=3&page=9").get_json()
    assert beyond["empty"] and beyond["contents"] == []


def test_a_list_page_shows_each_service_as_its_own_record_does(
    demo: Flask, client: FlaskClient
) -> None:
    """A list page reads plain columns; each entry is the service's record without nesting,
    in the asked language or German where the offer has no text in it."""
    for lang in ("de", "en", "ar", "bg"):
        listed = client.get(f"/api/hsds/services?per_page=100&lang={lang}").get_json()["contents"]
        assert len(listed) == _count(demo, Service)
        for entry in listed:
            record = client.get(f"/api/hsds/services/{entry['id']}?lang={lang}").get_json()
            assert {"id", "name", "description", "status", "last_modified"} <= set(entry)
            assert entry == {k: v for k, v in record.items() if k in entry}, entry["id"]


def test_api_search_term_filter_modified_after_and_language(
    loaded: Flask, client: FlaskClient
) -> None:
    found = client.get("/api/hsds/services?search=fahrdienst").get_json()
    assert [s["id"] for s in found["contents"]] == [TRANSPORT]
    turkish = client.get("/api/hsds/services?search=bakım&lang=tr").get_json()
    assert [s["name"] for s in turkish["contents"]] == ["Evde bakım hizmeti Sonnenschein"]

    term = hsds.TERM_IDS["benefits"]
    by_term = client.get(f"/api/hsds/services?taxonomy_term_id={term}").get_json()
    assert [s["id"] for s in by_term["contents"]] == [GERMAN_ONLY]

    data = catalogue_data.dataset()
    data["services"] = [s for s in data["services"] if s["id"] == CARE]
    data["services"][0]["last_modified"] = "2026-11-20T08:00:00Z"
    catalogue_data.load(loaded, data, replace=False)
    recent = client.get("/api/hsds/services?modified_after=2026-11-15T00:00:00Z").get_json()
    assert [s["id"] for s in recent["contents"]] == [CARE]

    english = client.get(f"/api/hsds/services/{CARE}?lang=en").get_json()
    assert english["name"] == "Home care service Sunshine"
    assert english["organization"]["name"] == "Welfare Example (Demo)"
    fallback = client.get(f"/api/hsds/services/{GERMAN_ONLY}?lang=en").get_json()
    assert fallback["name"] == "Wohngeldberatung im Rathaus"
    care_term = next(a for a in english["attributes"])["taxonomy_term"]
    assert care_term["name"] == "Care at home and care advice"


def test_api_refuses_bad_parameters_with_json(loaded: Flask, client: FlaskClient) -> None:
    for url in (
        "/api/hsds/services?lang=xx",
        "/api/hsds/services?page=0",
        "/api/hsds/services?per_page=1000",
        "/api/hsds/services?modified_after=yesterday",
        "/api/hsds/services?full=maybe",
    ):
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.is_json and response.get_json()["error"]
    missing = client.get(f"/api/hsds/services/{catalogue_data.uid('none')}")
    assert missing.status_code == 404 and missing.is_json
    assert client.get("/api/hsds/nothing-here").is_json
    assert client.get("/api/hsds/").headers["Access-Control-Allow-Origin"] == "*"


def _export(app: Flask) -> dict[str, Any]:
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["catalogue", "export", "-"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    data.pop("exported_at")
    return data


def test_export_then_import_into_an_empty_database_gives_the_same_catalogue(
    demo: Flask, tmp_path: Path
) -> None:
    exported = _export(demo)
    for service in exported["services"]:
        assert_valid("service", service)
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(exported, ensure_ascii=False), "utf-8")
    with demo.app_context(), get_db(demo).session() as session:
        from portal.services import catalogue

        catalogue.clear(session)
    assert _count(demo, Service) == 0
    with demo.app_context():
        result = demo.test_cli_runner().invoke(args=["catalogue", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert _export(demo) == exported


def _import_file(app: Flask, path: Path, data: Any) -> Any:
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=1), "utf-8")
    with app.app_context():
        return app.test_cli_runner().invoke(args=["catalogue", "import", str(path)])


def test_bad_files_are_refused_with_line_numbers_and_change_nothing(
    loaded: Flask, tmp_path: Path
) -> None:
    before = _export(loaded)
    path = tmp_path / "bad.json"

    broken = json.dumps(catalogue_data.dataset(), indent=1).replace(
        '"status": "active"', '"status": active', 1
    )
    result = _import_file(loaded, path, broken)
    line = broken[: broken.index('"status": active')].count("\n") + 1
    assert result.exit_code != 0 and f"bad.json:{line}: not valid JSON" in result.output

    data = catalogue_data.dataset()
    data["services"][1]["name"] = ""
    data["services"][2]["attributes"][0]["taxonomy_term_id"] = catalogue_data.uid("unknown")
    data["services"][3]["organization_id"] = catalogue_data.uid("nobody")
    data["services"][0]["schedules"][0]["opens_at"] = "25:00"
    text = json.dumps(data, indent=1)
    result = _import_file(loaded, path, text)
    assert result.exit_code != 0
    lines = text.splitlines()

    def line_of(fragment: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if fragment in line)

    transport_start = line_of(f'"id": "{TRANSPORT}"') - 1
    assert f"bad.json:{transport_start}: 'name' is required" in result.output
    assert "is not a catalogue topic" in result.output
    assert "is not in the file" in result.output
    assert "'opens_at' is not a time like 09:00" in result.output
    assert "nothing was imported" in result.output
    assert _export(loaded) == before

    duplicate = catalogue_data.dataset()
    duplicate["services"].append(copy.deepcopy(duplicate["services"][0]))
    result = _import_file(loaded, path, duplicate)
    assert result.exit_code != 0 and "appears twice" in result.output
    assert _import_file(loaded, path, "[1, 2]").exit_code != 0
    assert _export(loaded) == before


def test_importing_again_replaces_records_by_id(loaded: Flask) -> None:
    data = catalogue_data.dataset()
    data["services"][0]["name"] = "Pflegedienst Sonnenschein (neu)"
    data["services"] = data["services"][:1]
    catalogue_data.load(loaded, data, replace=False)
    assert _count(loaded, Service) == 4 and _count(loaded, Organization) == 1
    with loaded.app_context(), get_db(loaded).session() as session:
        service = session.get(Service, CARE)
        assert service is not None
        assert [t.name for t in service.texts if t.lang == "de"] == [
            "Pflegedienst Sonnenschein (neu)"
        ]
        assert service.organization_id == ORGANIZATION


BILDUNG_UND_TEILHABE = "65844622-60b7-55cc-a266-4e6f3c4513e8"


def test_demo_texts_carry_no_dates_the_data_holds_and_the_care_budget_is_one_amount() -> None:
    data = json.loads(DEMO_CATALOGUE.read_text("utf-8"))
    for service in data["services"]:
        german = " ".join(str(value) for value in service.values() if isinstance(value, str))
        assert "Stand 20" not in german and "im Jahr 2025" not in german, service["name"]
    care = next(s for s in data["services"] if s["name"] == "Ambulante Pflege zu Hause")
    assert "eigenen Jahresbetrag" not in care["fees_description"]
    assert "gemeinsamen Jahresbetrag" in care["fees_description"]
    assert "3.539 €" in care["fees_description"]
    basic = next(s for s in data["services"] if s["name"].startswith("Bürgergeld"))
    assert "Neue Grundsicherung" in basic["description"] and "plant" in basic["description"]


def test_education_and_participation_is_in_the_catalogue_with_its_age_in_words(
    demo: Flask, client: FlaskClient
) -> None:
    german = client.get(f"/de/catalogue/service/{BILDUNG_UND_TEILHABE}").get_data(as_text=True)
    assert "Bildung und Teilhabe" in german and "15 €" in german and "Bis 24 Jahre" in german
    russian = client.get(f"/ru/catalogue/service/{BILDUNG_UND_TEILHABE}").get_data(as_text=True)
    assert "Возраст: до 24 лет" in russian
