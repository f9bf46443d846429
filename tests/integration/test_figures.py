"""Figures for the towns and the funder: the same numbers before and after the retention
purge, a CSV download that is audited, and no person anywhere in them."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select, update

from portal.db import get_db
from portal.models import (
    AuditEntry,
    Booking,
    ConsultationLocation,
    FigureCount,
    HelpRequest,
    Organization,
    OrganizationText,
    Referral,
    RequestEvent,
    StaffUser,
    utcnow,
)
from portal.services import figures, retention, towns
from tests.booking_support import seed_schedule
from tests.expect import match_in, present
from tests.integration.test_staff import make_staff, sign_in
from tests.integration.test_triage import _reference, _step

PERSONAL = (
    "Erika Mustermann",
    "erika@example.org",
    "0170 5550101",
    "Mieterhöhung seit März",
    "Frau Kowalski vom Pflegedienst",
    "Kernweg 7",
)
ORG_ID = "6f0c7a52-4b8e-4b8f-9a57-1f0c5e3c0d11"
# Old enough for the purge (closed more than 180 days ago), in three known months.
JANUARY = datetime(2025, 1, 13, 9, 0, tzinfo=UTC)  # a Monday
FEBRUARY = datetime(2025, 2, 3, 9, 0, tzinfo=UTC)  # a Monday
MARCH = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)  # a Monday


def _old_request(
    app: Flask,
    number: int,
    received: datetime,
    town: str = "verl",
    topic: str = "benefits",
    channel: str = "online",
    outcome: str = "helped",
    answered_after: timedelta | None = timedelta(days=1),
    booked: bool = False,
    referral_to: str | None = None,
) -> None:
    """A closed request long past its retention period, with everything personal filled in."""
    with get_db(app).session() as session:
        staff_id = session.scalar(select(func.min(StaffUser.id)))
        request = HelpRequest(
            reference=f"SD-2025-{number:05d}",
            town=towns.town_by_slug(session, town),
            status="closed",
            outcome=outcome,
            received_at=received,
            respond_by=(received + timedelta(days=2)).date(),
            closed_at=received + timedelta(days=20),
            locale="de",
            topics=[topic],
            need_text=PERSONAL[3],
            urgency="normal",
            contact_method="callback",
            requester_name=PERSONAL[0],
            email=PERSONAL[1],
            phone=PERSONAL[2],
            street=PERSONAL[5],
            status_token_hash=f"{number:064d}",
            channel=channel,
        )
        if channel == "online" and not booked:
            request.events.append(RequestEvent(kind="submitted", at=received))
        if answered_after is not None:
            request.events.append(
                RequestEvent(
                    kind="staff_message",
                    at=received + answered_after,
                    staff_id=staff_id,
                    text="Guten Tag Frau Mustermann",
                    public=True,
                )
            )
        request.events.append(
            RequestEvent(
                kind="closed", at=received + timedelta(days=20), staff_id=staff_id, data={}
            )
        )
        session.add(request)
        session.flush()
        if booked:
            location = session.scalars(select(ConsultationLocation.id)).first()
            session.add(
                Booking(
                    uid=f"booking-{number}@portal.test",
                    request_id=request.id,
                    location_id=location,
                    slot_start=received + timedelta(days=7),
                    slot_end=received + timedelta(days=7, minutes=30),
                    status="active",
                    booker_name=PERSONAL[0],
                )
            )
        if referral_to is not None:
            session.add(
                Referral(
                    request_id=request.id,
                    organization_id=referral_to or None,
                    office_name=PERSONAL[4],
                    passed_on="Name und Telefon",
                    consent="consent",
                    follow_up_on=(received + timedelta(days=14)).date(),
                    created_at=received + timedelta(days=25),
                )
            )


def _seed(app: Flask) -> None:
    seed_schedule(app)
    with get_db(app).session() as session:
        organization = Organization(id=ORG_ID, last_modified=utcnow())
        organization.texts.append(
            OrganizationText(lang="de", name="Pflegeberatung Kreis Gütersloh")
        )
        session.add(organization)
    make_staff(app, "chefin@example.org", None, role="coordinator")
    _old_request(app, 1, JANUARY, referral_to=ORG_ID)
    _old_request(
        app,
        2,
        JANUARY,
        town="shs",
        topic="care",
        channel="phone",
        outcome="referred",
        answered_after=timedelta(days=4),
        referral_to="",
    )
    _old_request(
        app, 3, FEBRUARY, topic="therapy", booked=True, answered_after=None, outcome="no_contact"
    )
    _old_request(app, 4, MARCH, town="shs", topic="debt", answered_after=timedelta(hours=2))


def _coordinator(app: Flask) -> FlaskClient:
    secret = make_staff(app, "koordination@example.org", None, role="coordinator")
    client = app.test_client()
    sign_in(client, "koordination@example.org", secret)
    return client


PERIOD = "first=2025-01&last=2025-03"


def _csv(client: FlaskClient, query: str = PERIOD) -> list[list[str]]:
    response = client.get(f"/de/staff/figures.csv?{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(
        csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )


def _tables(html: str) -> list[str]:
    """The figures page's tables, as the reader meets them."""
    return re.findall(r"<table>.*?</table>", html, flags=re.S)


def test_the_figures_are_the_same_before_and_after_the_purge_and_without_the_requests(
    app: Flask,
) -> None:
    _seed(app)
    client = _coordinator(app)
    before_page = client.get(f"/de/staff/figures?{PERIOD}").get_data(as_text=True)
    before_csv = _csv(client)
    # A January request referred on in February counts its referral in February only.
    later = _csv(client, "first=2025-02&last=2025-03")
    assert [row[2] for row in later].count("Weitervermittlungen") == 2
    assert not any(row[0] == "2025-01" for row in later[1:])
    with get_db(app).session() as session:
        assert retention.purge(session, retention.Periods(closed_days=180)).requests == 4
    with get_db(app).session() as session:
        # Counted once: every purged request is in the kept counts, none is counted live.
        kept = session.scalar(
            select(func.sum(FigureCount.count)).where(FigureCount.measure == "request")
        )
        assert kept == 4
        assert figures.live_counts(session, utcnow().date()) == {}
    assert _tables(client.get(f"/de/staff/figures?{PERIOD}").get_data(as_text=True)) == _tables(
        before_page
    )
    assert _csv(client) == before_csv
    assert _csv(client, "first=2025-02&last=2025-03") == later
    # The requests themselves are gone, with their bookings, referrals and timelines; a
    # second purge changes nothing; the figures stay.
    with get_db(app).session() as session:
        for model in (HelpRequest, Booking, Referral, RequestEvent):
            assert session.scalars(select(model)).all() == []
        assert retention.purge(session, retention.Periods(closed_days=180)).requests == 0
    after_page = client.get(f"/de/staff/figures?{PERIOD}").get_data(as_text=True)
    assert _tables(after_page) == _tables(before_page)
    assert _csv(client) == before_csv


def test_the_page_counts_by_month_channel_topic_outcome_response_and_destination(
    app: Flask,
) -> None:
    _seed(app)
    client = _coordinator(app)
    html = client.get(f"/de/staff/figures?{PERIOD}").get_data(as_text=True)
    assert "<title>Zahlen" in html
    tables = dict(
        (match_in(r"<caption[^>]*>(.*?)</caption>", table).group(1), table)
        for table in _tables(html)
    )
    months = tables["Anfragen je Monat als Tabelle"]
    assert re.search(r"Januar 2025</th><td class=\"numeric\">2<", months)
    assert re.search(r"Februar 2025</th><td class=\"numeric\">1<", months)
    # Each month also by how the requests came: online, booked, entered by staff.
    assert match_in(
        r"Januar 2025</th>" + r"<td class=\"numeric\">(\d)</td>" * 4, months
    ).groups() == (
        "2",
        "1",
        "0",
        "1",
    )
    assert '<th scope="col" class="numeric">Terminbuchung</th>' in months
    channels = tables["Anfragen nach Weg als Tabelle"]
    for label, count in (
        ("Online-Anfrage", 2),
        ("Terminbuchung", 1),
        ("Von uns erfasst (Telefon oder Rathaus)", 1),
    ):
        assert re.search(rf"{re.escape(label)}</th><td class=\"numeric\">{count}<", channels)
    # The Monday request answered on Friday took four working days, against a promise of two.
    response = tables["Erste Antwort nach Arbeitstagen als Tabelle"]
    assert re.search(r"4 Arbeitstage</th><td class=\"numeric\">1<", response)
    assert re.search(r"keine erste Antwort</th><td class=\"numeric\">1<", response)
    promise = tables["Erste Antwort und unser Versprechen als Tabelle"]
    assert re.search(r"bis zum versprochenen Tag</th><td class=\"numeric\">2<", promise)
    assert re.search(r"später als versprochen</th><td class=\"numeric\">1<", promise)
    assert "2 von 3 ersten Antworten kamen bis zum versprochenen Tag." in html
    referrals = tables["Weitervermittlungen nach Stelle als Tabelle"]
    assert "Pflegeberatung Kreis Gütersloh" in referrals
    assert "Andere Stelle (von Hand eingetragen, ohne Namen)" in referrals
    # One town only.
    shs = client.get(f"/de/staff/figures?{PERIOD}&town=shs").get_data(as_text=True)
    assert "Von Januar 2025 bis März 2025 kamen 2 Anfragen." in shs
    assert 'role="img" aria-labelledby="months-title months-desc"' in shs


def test_the_csv_holds_every_cell_and_the_download_is_audited(app: Flask) -> None:
    _seed(app)
    client = _coordinator(app)
    rows = _csv(client)
    assert rows[0] == [
        "Monat",
        "Ort",
        "Zählt",
        "Themenbereich",
        "Weg",
        "Ergebnis",
        "Arbeitstage bis zur ersten Antwort",
        "Erste Antwort",
        "Stelle",
        "Anzahl",
    ]
    assert [
        "2025-01",
        "Verl",
        "Anfragen",
        "Geld und Leistungen",
        "Online-Anfrage",
        "geholfen",
        "",
        "",
        "",
        "1",
    ] in rows
    assert [
        "2025-02",
        "Schloß Holte-Stukenbrock",
        "Weitervermittlungen",
        "Pflege und Haushalt",
        "Von uns erfasst (Telefon oder Rathaus)",
        "",
        "",
        "",
        "Andere Stelle (von Hand eingetragen, ohne Namen)",
        "1",
    ] in rows
    assert sum(int(row[-1]) for row in rows[1:] if row[2] == "Anfragen") == 4
    only_verl = _csv(client, PERIOD + "&town=verl")
    assert {row[1] for row in only_verl[1:]} == {"Verl"}
    with get_db(app).session() as session:
        entries = session.scalars(
            select(AuditEntry.detail)
            .where(AuditEntry.action == "figures_export")
            .order_by(AuditEntry.id)
        ).all()
        assert entries == ["2025-01 2025-03 *", "2025-01 2025-03 verl"]
    audit = client.get("/de/staff/audit").get_data(as_text=True)
    assert "Zahlen als CSV-Datei heruntergeladen" in audit


def test_no_person_appears_in_the_figures(app: Flask) -> None:
    _seed(app)
    client = _coordinator(app)
    outputs = [
        client.get(f"/de/staff/figures?{PERIOD}").get_data(as_text=True),
        client.get(f"/de/staff/figures.csv?{PERIOD}").get_data(as_text=True),
        client.get(f"/ar/staff/figures?{PERIOD}").get_data(as_text=True),
    ]
    with get_db(app).session() as session:
        retention.purge(session, retention.Periods(closed_days=180))
        kept = session.scalars(select(FigureCount)).all()
        outputs.append(repr([vars(row) for row in kept]))
    for text in outputs:
        for personal in (*PERSONAL, "SD-2025-0000", "Mustermann"):
            assert personal not in text


def test_requests_that_still_exist_count_live_by_how_they_came(
    app: Flask, client: FlaskClient
) -> None:
    reference = _reference(client)
    staff_client = app.test_client()
    sign_in(staff_client, "anna@example.org", make_staff(app, "anna@example.org", "shs"))
    _step(staff_client, reference, "message", {"text": "Wir rufen Sie morgen an."})
    coordinator = _coordinator(app)
    month = utcnow().strftime("%Y-%m")
    rows = _csv(coordinator, f"first={month}&last={month}")
    assert [
        rows[1][2],
        rows[1][4],
        rows[1][5],
        rows[1][9],
    ] == ["Anfragen", "Online-Anfrage", "noch nicht abgeschlossen", "1"]
    [response] = [row for row in rows if row[2] == "Erste Antworten"]
    assert response[6:8] == ["0 Arbeitstage", "bis zum versprochenen Tag"]


def test_a_backwards_period_is_refused_with_a_message(app: Flask) -> None:
    client = _coordinator(app)
    _old_request(app, 9, JANUARY)
    month = utcnow().strftime("%Y-%m")
    response = client.get(f"/de/staff/figures?first={month}&last=2025-01")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<title>Fehler: Zahlen" in html
    assert "Der letzte Monat darf nicht vor dem ersten Monat liegen." in html
    assert 'href="#last"' in html and "<table>" not in html
    download = client.get(f"/de/staff/figures.csv?first={month}&last=2025-01&endpoint=x")
    assert download.status_code == 302 and "/de/staff/figures?" in download.headers["Location"]
    assert "endpoint" not in download.headers["Location"]  # only the filter goes along


def test_rebuilding_gives_the_kept_counts_again(app: Flask) -> None:
    _seed(app)
    # Requests an earlier version blanked instead of deleting (their counts were kept then).
    with get_db(app).session() as session:
        old = list(session.scalars(select(HelpRequest)))
        figures.keep(session, old, utcnow().date())
        session.execute(update(HelpRequest).values(anonymised_at=utcnow()))
    with get_db(app).session() as session:
        before = figures.kept_counts(session)
        session.execute(delete(FigureCount))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["figures", "rebuild"])
    assert result.exit_code == 0 and "4" in result.output
    with get_db(app).session() as session:
        assert figures.kept_counts(session) == before
    # The purge deletes those rows without counting them again; a rebuild now would lose
    # their figures: it refuses.
    with get_db(app).session() as session:
        assert retention.purge(session, retention.Periods(closed_days=180)).requests == 4
        assert session.scalars(select(HelpRequest)).all() == []
    refused = runner.invoke(args=["figures", "rebuild"])
    assert refused.exit_code == 1 and "2025-03" in refused.output
    with get_db(app).session() as session:
        assert figures.kept_counts(session) == before


def test_a_catalogue_name_that_looks_like_a_formula_is_not_run_by_a_spreadsheet(
    app: Flask,
) -> None:
    _seed(app)
    with get_db(app).session() as session:
        text = present(session.get(OrganizationText, (ORG_ID, "de")))
        text.name = '=HYPERLINK("http://example.org","Beratung")'
    rows = _csv(_coordinator(app))
    [referred] = [row for row in rows if row[1] == "Verl" and row[2] == "Weitervermittlungen"]
    assert referred[8] == '\'=HYPERLINK("http://example.org","Beratung")'
