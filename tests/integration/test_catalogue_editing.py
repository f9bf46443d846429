"""Catalogue editors change offers as drafts, preview them in any language and publish them."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.db import get_db
from portal.models import AuditEntry, CatalogueChange, Service
from portal.services import hsds
from tests import catalogue_data
from tests.catalogue_data import CARE, GERMAN_ONLY, ORGANIZATION
from tests.conftest import csrf_token
from tests.expect import match_in, present
from tests.integration.test_staff import make_staff, sign_in

NEW_WORDS = "Zauberwort Wunderpflege"


class _Form(HTMLParser):
    """The values a browser would send for the form with ``class_``."""

    def __init__(self, class_: str) -> None:
        super().__init__()
        self.class_ = class_
        self.inside = False
        self.values: list[tuple[str, str]] = []
        self.textarea: str | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and self.class_ in (a.get("class") or ""):
            self.inside = True
        if not self.inside or not a.get("name"):
            return
        name = a["name"] or ""
        if tag == "input":
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.values.append((name, a.get("value") or ""))
        elif tag == "textarea":
            self.textarea = name
            self.values.append((name, ""))
        elif tag == "select":
            self.select = name

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            name, value = self.values[-1]
            self.values[-1] = (name, value + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self.textarea = None
        elif tag == "form":
            self.inside = False

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def _selected(html: str) -> list[tuple[str, str]]:
    found = []
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"', body) or re.search(
            r'<option[^>]*value="([^"]*)"[^>]*selected', body
        )
        first = re.search(r'<option[^>]*value="([^"]*)"', body)
        picked = chosen or first
        found.append((name, picked.group(1) if picked else ""))
    return found


def editor_form(client: FlaskClient, url: str) -> dict[str, Any]:
    """The edit form on ``url`` as the browser would send it unchanged."""
    html = client.get(url).get_data(as_text=True)
    parser = _Form("catalogue-editor")
    parser.feed(html)
    data: dict[str, Any] = {}
    for name, value in parser.values + _selected(html):
        if name in data:
            data[name] = [*([data[name]] if isinstance(data[name], str) else data[name]), value]
        else:
            data[name] = value
    return data


def editor(app: Flask, email: str = "editor@example.org") -> FlaskClient:
    secret = make_staff(app, email, None, role="editor")
    client = app.test_client()
    sign_in(client, email, secret)
    return client


@pytest.fixture
def loaded(app: Flask, client: FlaskClient) -> Flask:
    """The small catalogue; every client checks the pages it gets (see ``client``)."""
    catalogue_data.load(app)
    return app


def _edit(client: FlaskClient, kind: str, record_id: str, **changes: Any) -> Any:
    url = f"/de/staff/catalogue/{kind}/{record_id}/edit"
    return client.post(url, data={**editor_form(client, url), **changes})


def _seen_revision(client: FlaskClient, record_id: str, kind: str = "service") -> str:
    """The draft's revision on the page with the publish button (the preview of a service)."""
    page = "preview" if kind == "service" else "edit"
    html = client.get(f"/de/staff/catalogue/{kind}/{record_id}/{page}").get_data(as_text=True)
    revision = re.search(r'id="publish-revision" name="revision" type="hidden" value="(\d+)"', html)
    assert revision, "no publish button"
    return revision.group(1)


def _publish(
    client: FlaskClient, record_id: str, kind: str = "service", revision: str | None = None
) -> Any:
    seen = revision or _seen_revision(client, record_id, kind)
    token = csrf_token(client, f"/de/staff/catalogue/{kind}/{record_id}/edit")
    return client.post(
        f"/de/staff/catalogue/{kind}/{record_id}/publish",
        data={"csrf_token": token, "revision": seen},
    )


def _public(app: Flask, lang: str = "de", service_id: str = CARE) -> str:
    response = app.test_client().get(f"/{lang}/catalogue/service/{service_id}")
    return response.get_data(as_text=True) if response.status_code == 200 else ""


def _api(app: Flask, service_id: str = CARE, lang: str = "de") -> str:
    response = app.test_client().get(f"/api/hsds/services/{service_id}?lang={lang}")
    return response.get_data(as_text=True) if response.status_code == 200 else ""


def _search(app: Flask, query: str, lang: str = "de") -> str:
    return (
        app.test_client()
        .get(f"/{lang}/catalogue/", query_string={"q": query})
        .get_data(as_text=True)
    )


def _export(app: Flask) -> str:
    with app.app_context(), get_db(app).session() as session:
        return json.dumps(
            hsds.export_dataset(session, lambda code: (code, code)), ensure_ascii=False
        )


def test_an_edit_stays_private_until_published_then_every_channel_shows_it(
    loaded: Flask,
) -> None:
    client = editor(loaded)
    response = _edit(
        client,
        "service",
        CARE,
        description__de=f"Pflege zu Hause. {NEW_WORDS}.",
        description__tr="Evde bakım. Sihirlikelime.",
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/de/staff/catalogue/service/{CARE}/preview")

    # A draft: nobody outside sees it, not on the page, in the API, the export or the search.
    assert "Wunderpflege" not in _public(loaded)
    assert "Wunderpflege" not in _api(loaded)
    assert "Wunderpflege" not in _export(loaded)
    assert CARE not in _search(loaded, "Zauberwort")

    # The preview shows the draft on the public page's template, in German and in Turkish.
    german = client.get(f"/de/staff/catalogue/service/{CARE}/preview").get_data(as_text=True)
    assert NEW_WORDS in german and "Vorschau: so sieht das Angebot" in german
    assert 'class="facts"' in german  # the public page's own layout
    assert f'href="/tr/staff/catalogue/service/{CARE}/preview"' in german
    turkish = client.get(f"/tr/staff/catalogue/service/{CARE}/preview").get_data(as_text=True)
    assert "Sihirlikelime" in turkish and "Evde bakım hizmeti Sonnenschein" in turkish

    response = _publish(client, CARE)
    assert response.status_code == 302
    assert "Wunderpflege" in _public(loaded)
    assert "Sihirlikelime" in _public(loaded, "tr")
    assert "Wunderpflege" in _api(loaded)
    assert "Wunderpflege" in _export(loaded)
    assert CARE in _search(loaded, "Zauberwort")
    assert CARE in _search(loaded, "Sihirlikelime", "tr")

    history = client.get(f"/de/staff/catalogue/service/{CARE}/history").get_data(as_text=True)
    assert "editor@example.org" in history
    assert "Veröffentlicht" in history
    assert "Beschreibung (Türkisch)" in history and "Beschreibung (Deutsch)" in history
    with get_db(loaded).session() as session:
        published = session.scalars(
            select(CatalogueChange).where(CatalogueChange.action == "published")
        ).one()
        assert (
            published.record_id == CARE and present(published.staff).email == "editor@example.org"
        )
        assert published.fields == "description:de,description:tr"
        actions = set(session.scalars(select(AuditEntry.action)))
        assert {"catalogue_draft", "catalogue_publish"} <= actions
    overall = client.get("/de/staff/catalogue/history").get_data(as_text=True)
    assert "Ambulanter Pflegedienst Sonnenschein" in overall


def test_hours_topics_and_towns_are_published(loaded: Flask) -> None:
    client = editor(loaded)
    _edit(
        client,
        "service",
        CARE,
        hours__MO="08:00-12:00, 14:00-16:30",
        hours__TU="08:00-12:00",
        hours__WE="",
        hours__TH="",
        hours__FR="",
        topics=["care", "older_people"],
        areas=["verl"],
    )
    _publish(client, CARE)
    page = _public(loaded)
    assert "14:00–16:30" in page
    with get_db(loaded).session() as session:
        service = session.get(Service, CARE)
        assert service is not None
        assert [t.topic for t in service.topics] == ["care", "older_people"]
        assert [a.town for a in service.areas] == ["verl"]
        assert sorted(s.byday for s in service.schedules) == ["MO", "MO,TU"]


def test_a_new_service_is_public_only_once_published(loaded: Flask) -> None:
    client = editor(loaded)
    url = "/de/staff/catalogue/service/new"
    form = editor_form(client, url)
    form.update(
        organization_id=ORGANIZATION,
        status="active",
        cost="free",
        name__de="Nachbarschaftscafé Regenbogen",
        description__de="Kaffee und Gespräche jeden Mittwoch.",
        topics=["everyday"],
        areas=["shs"],
    )
    response = client.post(url, data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    new_id = match_in(r"/service/([0-9a-f-]{36})/preview", response.headers["Location"]).group(1)
    assert _public(loaded, service_id=new_id) == ""
    assert new_id not in _search(loaded, "Regenbogen")
    listing = client.get("/de/staff/catalogue/").get_data(as_text=True)
    assert "Nachbarschaftscafé Regenbogen" in listing and "noch nicht veröffentlicht" in listing
    _publish(client, new_id)
    assert "Nachbarschaftscafé Regenbogen" in _public(loaded, service_id=new_id)
    assert new_id in _search(loaded, "Regenbogen")
    assert "Regenbogen" in _api(loaded, new_id)


def test_an_organisation_and_a_location_go_through_draft_and_publish(loaded: Flask) -> None:
    client = editor(loaded)
    _edit(client, "organization", ORGANIZATION, name__de="Wohlfahrtsverband Neu (Demo)")
    assert "Wohlfahrtsverband Neu" not in _public(loaded)
    # The provider's preview: a service of theirs on the public page, with the new name.
    preview = client.get(f"/de/staff/catalogue/organization/{ORGANIZATION}/preview")
    assert "Wohlfahrtsverband Neu (Demo)" in preview.get_data(as_text=True)
    assert "Wohlfahrtsverband Neu" not in _public(loaded)
    _publish(client, ORGANIZATION, "organization")
    assert "Wohlfahrtsverband Neu" in _public(loaded)

    response = client.post(
        "/de/staff/catalogue/location/new",
        data={
            **editor_form(client, "/de/staff/catalogue/location/new"),
            "name__de": "Bürgerhaus Mitte",
            "address_1": "Hauptstraße 1",
            "postal_code": "33415",
            "city": "Verl",
        },
    )
    assert response.status_code == 302
    location_id = match_in(r"/location/([0-9a-f-]{36})/edit", response.headers["Location"]).group(1)
    _publish(client, location_id, "location")
    form = editor_form(client, f"/de/staff/catalogue/service/{CARE}/edit")
    assert "Bürgerhaus Mitte (Hauptstraße 1, Verl)" in client.get(
        f"/de/staff/catalogue/service/{CARE}/edit"
    ).get_data(as_text=True)
    locations = form.get("locations", [])
    locations = [locations] if isinstance(locations, str) else locations
    _edit(client, "service", CARE, locations=[*locations, location_id])
    _publish(client, CARE)
    assert "Hauptstraße 1" in _public(loaded)
    # A location's draft is previewed on a service held there.
    _edit(client, "location", location_id, address_1="Kirchplatz 7")
    preview = client.get(f"/de/staff/catalogue/location/{location_id}/preview")
    assert "Kirchplatz 7" in preview.get_data(as_text=True)
    assert "Kirchplatz 7" not in _public(loaded)
    _publish(client, location_id, "location")
    assert "Kirchplatz 7" in _public(loaded) and "Hauptstraße 1" not in _public(loaded)


def test_a_stale_edit_is_refused_and_overwrites_nothing(loaded: Flask) -> None:
    first = editor(loaded, "erste@example.org")
    second = editor(loaded, "zweite@example.org")
    url = f"/de/staff/catalogue/service/{CARE}/edit"
    first_form = editor_form(first, url)
    second_form = editor_form(second, url)
    first.post(url, data={**first_form, "description__de": "Fassung der Ersten."})
    _publish(first, CARE)

    response = second.post(url, data={**second_form, "description__de": "Fassung der Zweiten."})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Jemand anderes hat diesen Eintrag inzwischen geändert" in html
    assert "<title>Fehler:" in html
    assert "Fassung der Ersten." in _public(loaded)
    assert "Fassung der Zweiten." not in _public(loaded)
    with get_db(loaded).session() as session:
        assert session.scalars(select(CatalogueChange.action)).all().count("draft") == 1


@pytest.mark.parametrize("replace", [False, True], ids=["import-over", "import-replacing-all"])
@pytest.mark.parametrize(
    ("kind", "record_id", "field"),
    [
        ("service", CARE, "description__de"),
        ("organization", ORGANIZATION, "description__de"),
        ("location", catalogue_data.uid("location", "care"), "description__de"),
    ],
)
def test_a_draft_made_before_a_new_import_is_stale(
    loaded: Flask, replace: bool, kind: str, record_id: str, field: str
) -> None:
    client = editor(loaded)
    _edit(client, kind, record_id, **{field: "Vor dem Import geschrieben."})
    catalogue_data.load(loaded, replace=replace)  # the same records, imported again
    page = client.get(f"/de/staff/catalogue/{kind}/{record_id}/edit").get_data(as_text=True)
    assert "Dieser Entwurf beruht auf einer älteren Fassung" in page
    if kind == "service":  # its publish button sits on the preview, which a stale draft keeps
        assert _publish(client, record_id, kind).status_code == 302
    else:
        assert 'action="' + f"/de/staff/catalogue/{kind}/{record_id}/publish" not in page
    assert "Vor dem Import geschrieben." not in _public(loaded)


def test_two_drafts_at_once_the_later_save_is_refused(loaded: Flask) -> None:
    first = editor(loaded, "erste@example.org")
    second = editor(loaded, "zweite@example.org")
    url = f"/de/staff/catalogue/service/{CARE}/edit"
    first_form = editor_form(first, url)
    second_form = editor_form(second, url)
    assert first.post(url, data={**first_form, "name__de": "Erster Entwurf"}).status_code == 302
    response = second.post(url, data={**second_form, "name__de": "Zweiter Entwurf"})
    assert "Jemand anderes hat diesen Eintrag" in response.get_data(as_text=True)
    assert "Erster Entwurf" in first.get(url).get_data(as_text=True)


def test_publishing_what_was_not_previewed_is_refused(loaded: Flask) -> None:
    first = editor(loaded, "erste@example.org")
    second = editor(loaded, "zweite@example.org")
    _edit(first, "service", CARE, description__de="Was die Erste gesehen hat.")
    seen = _seen_revision(first, CARE)
    _edit(second, "service", CARE, description__de="Was die Zweite daraus gemacht hat.")
    response = _publish(first, CARE, revision=seen)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/de/staff/catalogue/service/{CARE}/edit?refused=publish"
    )
    page = first.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nichts wurde veröffentlicht." in page
    assert "Was die" not in _public(loaded)
    # The second editor's draft is still there, unpublished, and can be published after a look.
    seen = _seen_revision(second, CARE)
    assert _publish(second, CARE, revision=seen).status_code == 302
    assert "Was die Zweite daraus gemacht hat." in _public(loaded)
    # The same publication sent twice (a double click, a second tab) is published once.
    again = _publish(second, CARE, revision=seen)
    assert "/edit?refused=publish" in again.headers["Location"]
    with get_db(loaded).session() as session:
        actions = session.scalars(select(CatalogueChange.action)).all()
        assert actions.count("published") == 1


def test_bad_input_is_explained_and_nothing_is_saved(loaded: Flask) -> None:
    client = editor(loaded)
    response = _edit(
        client,
        "service",
        CARE,
        name__de="",
        description__pl="Opis bez nazwy",
        hours__MO="morgens",
        minimum_age="70",
        maximum_age="60",
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<title>Fehler:" in html
    assert "Bitte geben Sie den Namen auf Deutsch ein." in html
    assert "Bitte geben Sie auch den Namen in dieser Sprache ein." in html
    assert "Bitte schreiben Sie die Zeiten so" in html
    assert "Das Höchstalter muss mindestens so hoch sein wie das Mindestalter." in html
    with get_db(loaded).session() as session:
        assert session.scalars(select(CatalogueChange)).all() == []


def test_a_discarded_draft_leaves_the_public_record_as_it_was(loaded: Flask) -> None:
    client = editor(loaded)
    _edit(client, "service", CARE, description__de="Verworfene Fassung.")
    token = csrf_token(client, f"/de/staff/catalogue/service/{CARE}/edit")
    response = client.post(
        f"/de/staff/catalogue/service/{CARE}/discard", data={"csrf_token": token}
    )
    assert response.status_code == 302
    assert client.get(f"/de/staff/catalogue/service/{CARE}/preview").status_code == 404
    assert "Verworfene Fassung." not in _public(loaded)
    assert "Verworfene Fassung." not in client.get(
        f"/de/staff/catalogue/service/{CARE}/edit"
    ).get_data(as_text=True)
    history = client.get(f"/de/staff/catalogue/service/{CARE}/history").get_data(as_text=True)
    assert "Entwurf verworfen" in history


def test_missing_translations_are_listed_per_language_with_a_link(loaded: Flask) -> None:
    client = editor(loaded)
    html = client.get("/de/staff/catalogue/translations").get_data(as_text=True)
    turkish = html.split('id="missing-tr"')[1].split("<h2")[0]
    assert f"/de/staff/catalogue/service/{GERMAN_ONLY}/edit#name__tr" in turkish
    # The care service has a Turkish name and description, but not how to apply or the fees.
    care = re.search(rf"/service/{CARE}/edit#(\w+)__tr\">[^<]*</a> – ([^<]*)<", turkish)
    assert care is not None and "Kosten: Erläuterung" in care.group(2)
    assert "Name" not in care.group(2)

    _edit(
        client,
        "service",
        CARE,
        fees_description__tr="Bakım kasası öder.",
        application_process__tr="Bizi arayın.",
    )
    _publish(client, CARE)
    html = client.get("/de/staff/catalogue/translations").get_data(as_text=True)
    turkish = html.split('id="missing-tr"')[1].split("<h2")[0]
    assert f"/service/{CARE}/edit#" not in turkish


def test_locations_to_choose_name_the_offers_delivered_there(loaded: Flask) -> None:
    """Two locations at one address (a town hall) differ by what is offered there."""
    html = editor(loaded).get(f"/de/staff/catalogue/service/{CARE}/edit").get_data(as_text=True)
    assert ": Ambulanter Pflegedienst Sonnenschein</label>" in html
