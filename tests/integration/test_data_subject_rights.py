"""The requester's rights: staff show everything stored about a request (a page and a JSON
file) and erase it at the person's wish, both audited without content; the requester
withdraws and erases from the status page; consent is recorded with the notice's version."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import create_app
from portal.config import settings_of
from portal.db import get_db
from portal.models import (
    AuditEntry,
    Booking,
    FigureCount,
    HelpRequest,
    OutboxMessage,
    RequestEvent,
    utcnow,
)
from portal.services import bookings, slots
from tests.booking_support import confirm, manage_path, seed_schedule, slot_keys, walk_booking
from tests.conftest import Mailbox, answer_all, csrf_token, deliver, post_form, submit
from tests.expect import match_in
from tests.integration.test_triage import _reference, _staff, _step

NEED = "GEHEIMER-TEXT"


@pytest.fixture
def versioned_app(app_config: dict[str, Any]) -> Any:
    """The portal with a privacy notice version of its own."""
    application = create_app({**app_config, "privacy_notice_version": "2027-01-b"})
    yield application
    get_db(application).engine.dispose()


def _status_client(app: Flask, client: FlaskClient) -> FlaskClient:
    """A browser that opened the request's private status link."""
    done = client.get("/de/request/done").get_data(as_text=True)
    link = match_in(r"http://portal\.test(/de/request/status/[^\"<]+)", done).group(1)
    holder = app.test_client()
    holder.get(link)
    return holder


def test_consent_is_recorded_with_time_purpose_and_notice_version(
    versioned_app: Flask, client: FlaskClient
) -> None:
    client = versioned_app.test_client()
    before = utcnow()
    answer_all(client)
    submit(client)
    with get_db(versioned_app).session() as session:
        request = session.scalars(select(HelpRequest)).one()
        assert request.consent_purpose == "request"
        assert request.privacy_version == "2027-01-b"
        assert request.consented_at is not None and request.consented_at >= before
    page = versioned_app.test_client().get("/de/datenschutz").get_data(as_text=True)
    assert "2027-01-b" in page


def test_a_booking_records_its_own_consent(app: Flask, client: FlaskClient) -> None:
    seed_schedule(app)
    walk_booking(client)
    confirm(client)
    with get_db(app).session() as session:
        booking = session.scalars(select(Booking)).one()
        request = session.scalars(select(HelpRequest)).one()
        version = settings_of(app).privacy_notice_version
        for row in (booking, request):
            assert (row.consent_purpose, row.privacy_version) == ("booking", version)
            assert row.consented_at is not None
        # Moving the appointment keeps what was agreed, and when.
        agreed = (booking.consented_at, booking.consent_purpose, booking.privacy_version)
        later = booking.slot_start + timedelta(days=7)
        moved = bookings.move_booking(session, booking, later, utcnow(), slots.Policy())
        assert (moved.consented_at, moved.consent_purpose, moved.privacy_version) == agreed


def test_staff_see_everything_stored_as_a_page_and_a_json_file_both_audited(
    app: Flask, client: FlaskClient
) -> None:
    reference = _reference(client)
    staff_client = _staff(app, "anna@example.org", "shs")
    _step(staff_client, reference, "note", {"text": "NOTIZ-INTERN"})
    request_page = staff_client.get(f"/de/staff/requests/{reference}").get_data(as_text=True)
    assert f"/de/staff/requests/{reference}/export" in request_page
    assert f"/de/staff/requests/{reference}/erase" in request_page
    page = staff_client.get(f"/de/staff/requests/{reference}/export")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    for stored in (NEED, "NOTIZ-INTERN", "Elif Demir", "elif@example.org", "Fatma Demir"):
        assert stored in html
    version = settings_of(app).privacy_notice_version
    # The tick confirms the notice was read; it is no consent, and nothing calls it one.
    assert "Datenschutzerklärung gelesen" in html
    assert f'Fassung <bdi dir="ltr">{version}</bdi>, bestätigt am' in html
    assert "Einwilligung" not in html and "zugestimmt" not in html
    download = staff_client.get(f"/de/staff/requests/{reference}/export.json")
    assert download.mimetype == "application/json"
    assert f'filename="{reference}.json"' in download.headers["Content-Disposition"]
    data = json.loads(download.get_data(as_text=True))
    assert data["request"]["reference"] == reference and NEED in data["request"]["need_text"]
    assert data["request"]["privacy_version"] == version
    assert data["request"]["privacy_notice_read_at"]
    assert data["request"]["privacy_notice_read_via"] == "request"
    assert not any("consent" in key for key in data["request"])
    assert "NOTIZ-INTERN" in [event["text"] for event in data["events"]]
    assert data["emails_sent"] and data["access_log"]
    # The colleagues' network addresses are theirs, not the person's: not in the export.
    assert all("address" not in entry and entry["staff_name"] for entry in data["access_log"])
    assert "status_token_hash" not in data["request"] and "draft_key_hash" not in data["request"]
    with get_db(app).readers() as session:
        exports = session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()
        assert [entry.detail for entry in exports] == ["html", "json"]
        assert all(entry.staff_id and entry.reference == reference for entry in exports)
    trail = staff_client.get(f"/de/staff/requests/{reference}").get_data(as_text=True)
    assert "Alle gespeicherten Daten der Anfrage abgerufen" in trail


def test_the_export_shows_a_bookings_tick_as_the_notice_read_not_as_consent(
    app: Flask, client: FlaskClient
) -> None:
    seed_schedule(app)
    walk_booking(client, details={"name": "Ana", "email": "ana@example.org"})
    confirm(client)
    with get_db(app).readers() as session:
        reference = session.scalars(select(HelpRequest.reference)).one()
    staff_client = _staff(app, "kim@example.org", None, role="coordinator")
    html = staff_client.get(f"/de/staff/requests/{reference}/export").get_data(as_text=True)
    version = settings_of(app).privacy_notice_version
    assert (
        f'Datenschutzerklärung gelesen: Fassung <bdi dir="ltr">{version}</bdi>, bestätigt am'
        in html
    )
    assert "zugestimmt" not in html
    data = json.loads(
        staff_client.get(f"/de/staff/requests/{reference}/export.json").get_data(as_text=True)
    )
    assert data["bookings"][0]["privacy_notice_read_via"] == "booking"
    assert "consented_at" not in data["bookings"][0]


def test_staff_erase_a_request_only_after_confirming_and_the_figures_stay(
    app: Flask, client: FlaskClient
) -> None:
    seed_schedule(app)
    walk_booking(client, details={"name": "Ana", "email": "ana@example.org"})
    confirm(client)
    with get_db(app).readers() as session:
        reference = session.scalars(select(HelpRequest.reference)).one()
    staff_client = _staff(app, "kim@example.org", None, role="coordinator")
    url = f"/de/staff/requests/{reference}/erase"
    ask = staff_client.get(url)
    assert ask.status_code == 200 and "endgültig löschen" in ask.get_data(as_text=True)
    assert _count(app, HelpRequest) == 1, "the confirmation page changes nothing"
    refused = _post(staff_client, url, {})
    assert refused.status_code == 400
    assert "Bitte bestätigen Sie die Löschung" in refused.get_data(as_text=True)
    assert _count(app, HelpRequest) == 1
    erased = _post(staff_client, url, {"confirm": "y"})
    assert erased.headers["Location"] == "/de/staff/"
    for model in (HelpRequest, Booking, RequestEvent):
        assert _count(app, model) == 0
    assert staff_client.get(f"/de/staff/requests/{reference}").status_code == 404
    with get_db(app).readers() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "erase")).all()
        assert entry.staff_id and entry.reference == reference and entry.request_id is None
        assert entry.detail == ""
        kept = session.scalars(select(FigureCount).where(FigureCount.measure == "request")).one()
        assert kept.count == 1
        # The booker is told the appointment is cancelled; the email no longer names the request.
        cancelled = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "booking_cancelled")
        ).all()
        assert len(cancelled) == 1 and cancelled[0].request_id is None


def test_the_requester_withdraws_and_erases_from_the_status_page(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    answer_all(client)
    submit(client)
    holder = _status_client(app, client)
    status = holder.get("/de/request/status").get_data(as_text=True)
    assert "Anfrage und Angaben löschen" in status
    refused = _post(holder, "/de/request/status/erase", {}, "/de/request/status")
    assert "Bitte bestätigen Sie, dass wir Ihre Angaben löschen sollen." in refused.get_data(
        as_text=True
    )
    assert _count(app, HelpRequest) == 1
    done = _post(holder, "/de/request/status/erase", {"confirm": "y"}, "/de/request/status")
    assert done.headers["Location"] == "/de/request/status/erased"
    assert "Ihre Anfrage ist gelöscht" in holder.get(done.headers["Location"]).get_data(
        as_text=True
    )
    assert _count(app, HelpRequest) == 0 and _count(app, RequestEvent) == 0
    assert holder.get("/de/request/status").status_code == 404
    with get_db(app).readers() as session:
        [entry] = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "resident_erase")
        ).all()
        assert entry.staff_id is None and entry.reference.startswith("SD-")
        kept = session.scalars(select(FigureCount).where(FigureCount.measure == "request")).one()
        assert kept.outcome == "withdrawn"
    deliver(app)
    notices = [m for m in mailbox.to("soziales-duo-shs@example.org") if "gelöscht" in m["Subject"]]
    assert len(notices) == 1 and NEED not in notices[0].as_string()


def _post(client: FlaskClient, url: str, data: dict[str, str], page: str = "") -> Any:
    """POST the erase form (prefix ``erase``) with the CSRF token of ``page`` (default: ``url``)."""
    token = csrf_token(client, page or url)
    fields = {f"erase-{name}": value for name, value in data.items()}
    return client.post(url, data={**fields, "erase-csrf_token": token})


def _count(app: Flask, model: type) -> int:
    with get_db(app).readers() as session:
        return len(session.scalars(select(model)).all())


def test_a_booker_whose_booking_made_the_request_erases_it_from_the_private_link(
    app: Flask, client: FlaskClient
) -> None:
    seed_schedule(app)
    walk_booking(client, details={"name": "Ana Booker", "email": "ana@example.org"})
    confirm(client)
    client.get(manage_path(client.get("/de/booking/done").get_data(as_text=True)))
    page = client.get("/de/booking/manage").get_data(as_text=True)
    assert 'href="/de/booking/manage/erase"' in page
    assert client.get("/de/booking/manage/erase").status_code == 200
    refused = _post(client, "/de/booking/manage/erase", {})
    assert "Bitte bestätigen Sie" in refused.get_data(as_text=True)
    assert _count(app, HelpRequest) == 1
    done = _post(client, "/de/booking/manage/erase", {"confirm": "y"})
    assert done.headers["Location"] == "/de/request/status/erased"
    assert _count(app, HelpRequest) == 0 and _count(app, Booking) == 0
    assert client.get("/de/booking/manage").status_code == 404
    with get_db(app).readers() as session:
        cancelled = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "booking_cancelled")
        ).all()
        assert len(cancelled) == 1


def test_a_booking_that_joined_a_sent_request_cannot_erase_that_request(
    app: Flask, client: FlaskClient
) -> None:
    seed_schedule(app)
    answer_all(client, "de", overrides={"contact": {"contact_method": "office_shs"}})
    submit(client)
    post_form(client, "/de/booking/?from=done", {})
    key = slot_keys(client, "/de/booking/slot")[0]
    post_form(client, "/de/booking/slot", {"slot": key})
    post_form(client, "/de/booking/topic", {"topic": "care"})
    post_form(client, "/de/booking/details", {"name": "Elif Demir", "phone": "05207 123456"})
    confirm(client)
    client.get(manage_path(client.get("/de/booking/done").get_data(as_text=True)))
    assert "/de/booking/manage/erase" not in client.get("/de/booking/manage").get_data(as_text=True)
    assert client.get("/de/booking/manage/erase").status_code == 404
    assert _count(app, HelpRequest) == 1
