"""Towns as data: an administrator edits and adds towns and their consultation locations,
and a third town works for residents without any change to the code."""

from __future__ import annotations

from datetime import time

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.config import settings_of
from portal.db import get_db
from portal.models import AuditEntry, ConsultationLocation, HelpRequest, Town
from portal.services import schedule, towns
from tests.booking_support import confirm, post_here, slot_keys
from tests.conftest import Mailbox, answer_all, deliver, post_form, submit
from tests.expect import body_of, match_in
from tests.integration.test_staff import make_staff, sign_in

MUSTERSTADT = {
    "slug": "musterstadt",
    "name": "Musterstadt",
    "postcodes": "12345 12346",
    "inbox_email": "team@musterstadt.example.org",
    "street": "Marktplatz 1",
    "postcode": "12345",
    "phone": "05201 123-0",
    "email": "",
    "website": "https://www.musterstadt.example.org",
}


def _admin(app: Flask, client: FlaskClient) -> None:
    secret = make_staff(app, "admin@example.org", None, role="admin")
    sign_in(client, "admin@example.org", secret)


def _town(app: Flask, slug: str) -> Town:
    with get_db(app).session() as session:
        found = towns.town_by_slug(session, slug)
        assert found is not None
        session.expunge(found)
        return found


def _add_musterstadt(app: Flask, client: FlaskClient) -> Town:
    """The administrator adds the town and its town hall; its hours are entered as data."""
    response = post_form(client, "/de/staff/towns/new", MUSTERSTADT)
    assert response.status_code == 302, response.get_data(as_text=True)
    town = _town(app, "musterstadt")
    assert response.headers["Location"].endswith(f"/de/staff/towns/{town.id}")
    response = post_form(
        client,
        f"/de/staff/towns/{town.id}/locations/new",
        {
            "name": "Rathaus Musterstadt",
            "street": "Marktplatz 1",
            "postcode": "12345",
            "city": "Musterstadt",
            "active": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with get_db(app).session() as session:
        location = session.scalars(
            select(ConsultationLocation).where(ConsultationLocation.town_id == town.id)
        ).one()
        for weekday in range(5):
            schedule.add_rule(
                session, location, schedule.RuleSpec("", weekday, time(9), time(12), 30)
            )
    return town


def test_the_administrator_sees_every_town_with_its_facts(app: Flask, client: FlaskClient) -> None:
    _admin(app, client)
    html = client.get("/de/staff/towns").get_data(as_text=True)
    assert "Schloß Holte-Stukenbrock" in html and "soziales-duo-shs@example.org" in html
    # The switchboard of Schloß Holte-Stukenbrock comes from the configuration's defaults.
    assert "05207 8905-0" in html and "https://www.schlossholtestukenbrock.de" in html
    assert 'href="/de/staff/towns"' in html and 'aria-current="page"' in html


def test_a_third_town_added_as_data_gets_its_requests_and_its_name_on_pages_and_in_emails(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    _admin(app, client)
    _add_musterstadt(app, client)
    client.post("/de/staff/signout", data={"csrf_token": ""})

    resident = app.test_client()
    home = resident.get("/de/").get_data(as_text=True)
    assert "Verl, Schloß Holte-Stukenbrock und Musterstadt" in home
    assert "Verl, Schloß Holte-Stukenbrock oder Musterstadt wohnen" in home
    english = resident.get("/en/").get_data(as_text=True)
    assert "Verl, Schloß Holte-Stukenbrock, and Musterstadt" in english
    answer_all(
        resident,
        overrides={
            "town": {"town": "musterstadt"},
            "contact": {"contact_method": "office_musterstadt"},
        },
    )
    contact = resident.get("/de/request/contact").get_data(as_text=True)
    assert 'value="office_musterstadt"' in contact and "Termin im Rathaus Musterstadt" in contact
    town_question = resident.get("/de/request/town").get_data(as_text=True)
    assert "Musterstadt (12345, 12346)" in town_question
    check = resident.get("/de/request/check").get_data(as_text=True)
    assert "Musterstadt" in check and "Termin im Rathaus Musterstadt" in check
    assert submit(resident).status_code == 302
    reference = match_in(
        r"SD-\d{4}-\d{5}", resident.get("/de/request/done").get_data(as_text=True)
    ).group(0)

    deliver(app)
    [staff_mail] = mailbox.to("team@musterstadt.example.org")
    assert staff_mail["Subject"].startswith(f"[{reference}] Neue Anfrage · Musterstadt · ")
    assert "Termin im Rathaus Musterstadt" in body_of(staff_mail, "plain")
    assert not mailbox.to("soziales-duo-verl@example.org")
    assert not mailbox.to("soziales-duo-shs@example.org")
    [confirmation] = mailbox.to("elif@example.org")
    html_body = body_of(confirmation, "html")
    assert "Soziales Duo Verl, Schloß Holte-Stukenbrock und Musterstadt." in html_body
    with get_db(app).session() as session:
        request = session.scalars(select(HelpRequest)).one()
        assert request.town.slug == "musterstadt"
        assert request.contact_method == "office_musterstadt"


def test_a_resident_books_a_consultation_in_the_third_town(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    _admin(app, client)
    _add_musterstadt(app, client)
    resident = app.test_client()
    assert post_form(resident, "/de/booking/", {}).status_code == 302
    town_step = resident.get("/de/booking/town").get_data(as_text=True)
    assert "Musterstadt (12345, 12346)" in town_step
    for step, data in [
        ("who", {"who": "me"}),
        ("town", {"town": "musterstadt"}),
        ("location", {"location": "musterstadt"}),
    ]:
        response = post_form(resident, f"/de/booking/{step}", data)
        assert response.status_code == 302, (step, response.get_data(as_text=True)[:2000])
    [first, *_rest] = slot_keys(resident, "/de/booking/slot")
    assert post_form(resident, "/de/booking/slot", {"slot": first}).status_code == 302
    for step, data in [
        ("topic", {"topic": "care", "note": ""}),
        ("details", {"name": "Max Muster", "email": "max@example.org"}),
    ]:
        response = post_form(resident, f"/de/booking/{step}", data)
        assert response.status_code == 302, (step, response.get_data(as_text=True)[:2000])
    assert confirm(resident).status_code == 302
    done = resident.get("/de/booking/done").get_data(as_text=True)
    assert "Rathaus Musterstadt" in done and "Marktplatz 1" in done

    deliver(app)
    [staff_mail] = mailbox.to("team@musterstadt.example.org")
    assert "Neuer Termin · Musterstadt · " in staff_mail["Subject"]
    [confirmation] = mailbox.to("max@example.org")
    text = body_of(confirmation, "plain")
    assert "Rathaus Musterstadt" in text and "Marktplatz 1" in text


def test_the_administrator_edits_a_town_and_seeding_leaves_the_edit_alone(
    app: Flask, client: FlaskClient
) -> None:
    _admin(app, client)
    shs = _town(app, "shs")
    url = f"/de/staff/towns/{shs.id}"
    form = client.get(url).get_data(as_text=True)
    seen = match_in(r'name="seen" type="hidden" value="([^"]+)"', form).group(1)
    facts = {
        "seen": seen,
        "name": "Schloß Holte-Stukenbrock",
        "postcodes": "33758",
        "inbox_email": "duo@stadt-shs.example.org",
        "street": "Rathausstraße 2",
        "postcode": "33758",
        "phone": "05207 8905-0",
        "email": "info@stadt-shs.example.org",
        "website": "https://www.schlossholtestukenbrock.de",
    }
    response = post_here(client, url, facts)
    assert response.status_code == 302
    with get_db(app).session() as session:
        towns.seed_towns(session, settings_of(app).towns())
        schedule.seed_locations(session, settings_of(app).towns())
        town = towns.town_by_slug(session, "shs")
        assert town is not None
        assert town.inbox_email == "duo@stadt-shs.example.org"
        assert town.email == "info@stadt-shs.example.org"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "town_edit")).one()
        assert "inbox_email" in entry.detail and "email" in entry.detail
    home = client.get("/de/").get_data(as_text=True)
    assert "info@stadt-shs.example.org" in home

    # A second save from the form opened before the first is refused: nothing is lost.
    response = post_here(client, url, {**facts, "inbox_email": "alt@example.org"})
    assert response.status_code == 302
    stale = client.get(url).get_data(as_text=True)
    with get_db(app).session() as session:
        town = towns.town_by_slug(session, "shs")
        assert town is not None and town.inbox_email == "duo@stadt-shs.example.org"
    assert "Jemand anderes hat die Stadt gerade geändert" in stale


def test_wrong_town_facts_are_explained_and_nothing_changes(
    app: Flask, client: FlaskClient
) -> None:
    _admin(app, client)
    response = post_form(
        client,
        "/de/staff/towns/new",
        {**MUSTERSTADT, "slug": "Muster Stadt", "postcodes": "1234", "inbox_email": "kein"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "<title>Fehler:" in html and 'class="error-summary"' in html
    assert "Der Kurzname hat 2 bis 20 Zeichen" in html
    assert "fünfstellige Postleitzahlen" in html
    assert "name@beispiel.de" in html
    duplicate = post_form(client, "/de/staff/towns/new", {**MUSTERSTADT, "slug": "verl"})
    assert duplicate.status_code == 400
    assert "gibt es schon" in duplicate.get_data(as_text=True)
    with get_db(app).session() as session:
        assert len(towns.all_towns(session)) == 2


def test_a_location_closed_for_bookings_is_no_longer_offered(
    app: Flask, client: FlaskClient
) -> None:
    _admin(app, client)
    verl = _town(app, "verl")
    with get_db(app).session() as session:
        [hall] = towns.town_locations(session, verl)
        hall_id = hall.id
    url = f"/de/staff/towns/{verl.id}/locations/{hall_id}"
    response = post_here(
        client,
        url,
        {
            "name": "Rathaus Verl",
            "street": "Paderborner Straße 5",
            "postcode": "33415",
            "city": "Verl",
        },
    )
    assert response.status_code == 302
    resident = app.test_client()
    post_form(resident, "/de/request/", {})
    contact = resident.get("/de/request/contact").get_data(as_text=True)
    assert "Termin im Rathaus Schloß Holte-Stukenbrock" in contact
    assert "Termin im Rathaus Verl" not in contact
    with get_db(app).session() as session:
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "location_edit")).one()
