"""Consultation hours in the staff area: rules and closures, the preview of free slots, and
the booked appointments a change leaves outside the hours."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.config import settings_of
from portal.db import get_db
from portal.models import (
    AuditEntry,
    Booking,
    ConsultationClosure,
    ConsultationLocation,
    ConsultationRule,
    utcnow,
)
from portal.services import slots
from portal.services.workdays import is_public_holiday
from tests.booking_support import confirm, seed_schedule, slot_keys, walk_booking
from tests.conftest import Mailbox, csrf_token, deliver
from tests.expect import match_in, present
from tests.integration.test_staff import make_staff, sign_in


def _staff(app: Flask, role: str = "coordinator", town: str | None = None) -> FlaskClient:
    email = f"{role}-{town or 'all'}@example.org"
    secret = make_staff(app, email, town, role=role)
    staff_client = app.test_client()
    sign_in(staff_client, email, secret)
    return staff_client


def _location_id(app: Flask, code: str) -> int:
    with get_db(app).session() as session:
        found = session.scalars(
            select(ConsultationLocation).where(ConsultationLocation.code == code)
        ).one()
        return found.id


def _rules(app: Flask, location_id: int) -> list[tuple[int, str, str, int, Any, Any]]:
    with get_db(app).session() as session:
        return [
            (
                rule.weekday,
                rule.start_time.strftime("%H:%M"),
                rule.end_time.strftime("%H:%M"),
                rule.slot_minutes,
                rule.valid_from,
                rule.valid_to,
            )
            for rule in session.scalars(
                select(ConsultationRule)
                .where(ConsultationRule.location_id == location_id)
                .order_by(ConsultationRule.id)
            )
        ]


def _post(client: FlaskClient, page: str, url: str, data: dict[str, Any], prefix: str) -> Any:
    """POST a form of ``page`` (whose CSRF token every form shares) to ``url``."""
    token = csrf_token(client, page)
    return client.post(url, data={**data, f"{prefix}-csrf_token": token})


def _errors(html: str) -> list[str]:
    return re.findall(r'<p class="error-message"[^>]*><span[^>]*>[^<]*</span>([^<]*)</p>', html)


def _preview(client: FlaskClient, location_id: int, monday: date | None = None) -> list[str]:
    url = f"/de/staff/hours/{location_id}" + (f"?week={monday.isoformat()}" if monday else "")
    return re.findall(r'data-slot="([^"]+)"', client.get(url).get_data(as_text=True))


def _rule(weekday: int, start: str, end: str, minutes: int, **more: str) -> dict[str, Any]:
    return {
        "rule-weekday": str(weekday),
        "rule-start_time": start,
        "rule-end_time": end,
        "rule-slot_minutes": str(minutes),
        **{f"rule-{name}": value for name, value in more.items()},
    }


def _version(client: FlaskClient, url: str) -> str:
    """The version of a rule as its edit page shows it."""
    html = client.get(url).get_data(as_text=True)
    return match_in(r'name="rule-version" type="hidden" value="([^"]*)"', html).group(1)


def _book(app: Flask, client: FlaskClient, slot_index: int = 0) -> Booking:
    walk_booking(client, slot_index=slot_index)
    assert confirm(client).status_code == 302
    with get_db(app).session() as session:
        return present(session.scalars(select(Booking).order_by(Booking.id.desc())).first())


def test_a_coordinator_enters_changes_ends_and_deletes_weekly_hours_with_clear_errors(
    app: Flask, client: FlaskClient
) -> None:
    seed_schedule(app)
    staff = _staff(app)
    home = _location_id(app, "home")
    page = f"/de/staff/hours/{home}"
    add = f"{page}/rules"
    before = _rules(app, home)
    assert before == [(4, "09:00", "12:00", 60, None, None)]
    assert "Sprechzeiten" in staff.get("/de/staff/").get_data(as_text=True)
    overview = staff.get("/de/staff/hours").get_data(as_text=True)
    assert 'Freitag, <bdi dir="ltr">09:00–12:00</bdi> (Termine zu 60 Minuten)' in overview
    assert 'Dienstag, <bdi dir="ltr">09:00–12:00</bdi> (Termine zu 30 Minuten)' in overview

    cases = [
        (_rule(0, "12:00", "09:00", 30), "„Bis“ muss nach „Von“ liegen."),
        (_rule(0, "09:00", "10:00", 45), "in gleich lange Termine dieser Länge teilen"),
        (_rule(0, "09:00", "10:00", 2), "zwischen 5 und 240 Minuten"),
        (_rule(0, "9 Uhr", "10:00", 30), "Uhrzeit wie 09:30"),
        (
            _rule(0, "09:00", "10:00", 30, valid_from="2027-02-01", valid_to="2027-01-01"),
            "„Gilt bis“ darf nicht vor „Gilt ab“ liegen.",
        ),
        (_rule(0, "09:00", "10:00", 30, valid_from="3027-01-01"), "Bitte prüfen Sie das Jahr."),
        (_rule(4, "11:00", "13:00", 60), "Am Freitag gilt schon eine Sprechzeit von 09:00"),
    ]
    for data, message in cases:
        response = _post(staff, page, add, data, "rule")
        html = response.get_data(as_text=True)
        assert response.status_code == 400, message
        assert "<title>Fehler:" in html and 'class="error-summary"' in html
        assert any(message in error for error in _errors(html)), (message, _errors(html))
        assert _rules(app, home) == before, "nothing changed"

    # Friday in the afternoon does not overlap the morning; a rule that starts after the
    # other ends does not overlap it either.
    response = _post(staff, page, add, _rule(4, "13:00", "15:00", 60), "rule")
    assert response.status_code == 302
    response = _post(
        staff, page, add, _rule(0, "09:00", "11:00", 30, valid_from="2027-01-04"), "rule"
    )
    assert response.status_code == 302
    assert "Die Sprechzeit ist eingetragen." in staff.get(page).get_data(as_text=True)
    rules = _rules(app, home)
    assert rules[1:] == [
        (4, "13:00", "15:00", 60, None, None),
        (0, "09:00", "11:00", 30, date(2027, 1, 4), None),
    ]
    with get_db(app).session() as session:
        monday_id = session.scalars(
            select(ConsultationRule.id).where(
                ConsultationRule.location_id == home, ConsultationRule.weekday == 0
            )
        ).one()

    edit = f"{page}/rules/{monday_id}"
    form = staff.get(edit).get_data(as_text=True)
    assert 'value="09:00"' in form and 'value="2027-01-04"' in form
    seen = _version(staff, edit)
    wrong = _post(staff, edit, edit, _rule(0, "09:00", "11:00", 45, version=seen), "rule")
    assert wrong.status_code == 400 and "<title>Fehler:" in wrong.get_data(as_text=True)
    changed = _post(staff, edit, edit, _rule(0, "08:00", "11:00", 60, version=seen), "rule")
    assert changed.status_code == 302
    assert _rules(app, home)[2] == (0, "08:00", "11:00", 60, None, None)

    end = f"{page}/rules/{monday_id}/end"
    past = (utcnow().date() - timedelta(days=3)).isoformat()
    refused = _post(staff, page, end, {f"end{monday_id}-valid_to": past}, f"end{monday_id}")
    assert refused.status_code == 400
    assert "nicht in der Vergangenheit" in refused.get_data(as_text=True)
    last = (utcnow().date() + timedelta(days=30)).isoformat()
    ended = _post(staff, page, end, {f"end{monday_id}-valid_to": last}, f"end{monday_id}")
    assert ended.status_code == 302
    assert _rules(app, home)[2][5] == date.fromisoformat(last)

    deleted = _post(staff, page, f"{page}/rules/{monday_id}/delete", {}, "delete")
    assert deleted.status_code == 302
    assert len(_rules(app, home)) == 2
    with get_db(app).session() as session:
        actions = [entry.action for entry in session.scalars(select(AuditEntry))]
    for action in ("hours_rule_add", "hours_rule_change", "hours_rule_end", "hours_rule_delete"):
        assert action in actions


def _public_slot_keys(client: FlaskClient, location: str = "verl") -> list[str]:
    """The slot list a resident is offered on the first page of the booking flow."""
    for step, data in [
        ("", {}),
        ("who", {"who": "me"}),
        ("town", {"town": "verl"}),
        ("location", {"location": location}),
    ]:
        url = f"/de/booking/{step}"
        client.post(url, data={**data, "csrf_token": csrf_token(client, url)})
    return slot_keys(client, "/de/booking/slot")


@pytest.mark.parametrize("location", ["verl", "phone"])
def test_the_preview_equals_the_slots_residents_are_offered(
    app: Flask, client: FlaskClient, location: str
) -> None:
    seed_schedule(app)
    _book(app, app.test_client())  # one slot is taken: missing on both pages
    public = _public_slot_keys(client, location)
    assert public
    staff = _staff(app)
    location_id = _location_id(app, location)
    today = utcnow().astimezone(slots.BERLIN).date()
    monday = today - timedelta(days=today.weekday())
    preview: list[str] = []
    for week in range(3):
        preview += _preview(staff, location_id, monday + timedelta(weeks=week))
    last_day = today + timedelta(days=settings_of(app).booking_page_days - 1)
    shown = [
        key
        for key in preview
        if slots.parse_slot_key(key).astimezone(slots.BERLIN).date() <= last_day
    ]
    assert shown == public


def test_a_closure_hides_the_slots_of_its_days_and_can_be_deleted(
    app: Flask, client: FlaskClient
) -> None:
    seed_schedule(app)
    staff = _staff(app)
    verl = _location_id(app, "verl")
    offered = _public_slot_keys(client)
    first_day = slots.parse_slot_key(offered[0]).astimezone(slots.BERLIN).date()
    on_that_day = [
        key
        for key in offered
        if slots.parse_slot_key(key).astimezone(slots.BERLIN).date() == first_day
    ]

    refused = _post(
        staff,
        "/de/staff/hours",
        "/de/staff/hours/closures",
        {
            "closure-location": str(verl),
            "closure-first_day": (first_day + timedelta(days=1)).isoformat(),
            "closure-last_day": first_day.isoformat(),
        },
        "closure",
    )
    assert refused.status_code == 400
    assert "nicht vor dem ersten Tag" in refused.get_data(as_text=True)

    added = _post(
        staff,
        "/de/staff/hours",
        "/de/staff/hours/closures",
        {
            "closure-location": str(verl),
            "closure-first_day": first_day.isoformat(),
            "closure-last_day": first_day.isoformat(),
            "closure-reason": "Fortbildung",
        },
        "closure",
    )
    assert added.status_code == 302
    overview = staff.get("/de/staff/hours").get_data(as_text=True)
    assert "Die Schließzeit ist eingetragen." in overview and "Fortbildung" in overview
    now_offered = _public_slot_keys(app.test_client())
    assert now_offered == [key for key in offered if key not in on_that_day]
    assert "Geschlossen" in staff.get(f"/de/staff/hours/{verl}?week={first_day}").get_data(
        as_text=True
    )

    with get_db(app).session() as session:
        closure_id = session.scalars(select(ConsultationClosure.id)).one()
    deleted = _post(
        staff, "/de/staff/hours", f"/de/staff/hours/closures/{closure_id}/delete", {}, "delete"
    )
    assert deleted.status_code == 302
    assert _public_slot_keys(app.test_client()) == offered


def test_a_longer_or_shorter_slot_never_overlaps_a_booked_appointment(
    app: Flask, client: FlaskClient
) -> None:
    seed_schedule(app)
    booked = _book(app, client)
    staff = _staff(app)
    verl = _location_id(app, "verl")
    local = booked.slot_start.astimezone(slots.BERLIN)
    with get_db(app).session() as session:
        rule = session.scalars(
            select(ConsultationRule).where(
                ConsultationRule.location_id == verl,
                ConsultationRule.weekday == local.weekday(),
            )
        ).one()
        rule_id, start, end = rule.id, rule.start_time, rule.end_time
    page = f"/de/staff/hours/{verl}/rules/{rule_id}"
    minutes = 15 if (end.hour * 60 + end.minute - start.hour * 60 - start.minute) % 20 else 20
    data = _rule(
        local.weekday(),
        start.strftime("%H:%M"),
        end.strftime("%H:%M"),
        minutes,
        version=_version(staff, page),
    )
    assert _post(staff, page, page, data, "rule").status_code == 302
    week = local.date() - timedelta(days=local.weekday())
    preview = [slots.parse_slot_key(key) for key in _preview(staff, verl, week)]
    assert preview, "the new slots are offered"
    for start_at in preview:
        overlapping = start_at < booked.slot_end and booked.slot_start < start_at + timedelta(
            minutes=int(data["rule-slot_minutes"])
        )
        assert not overlapping, start_at


def test_bookings_outside_new_hours_are_listed_and_staff_move_them_with_the_residents_mail(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    seed_schedule(app)
    booked = _book(app, client)
    deliver(app)
    before = len(mailbox.to("anna@example.org"))
    staff = _staff(app)
    verl = _location_id(app, "verl")
    page = f"/de/staff/hours/{verl}"
    assert "Alle gebuchten Termine liegen in den Sprechzeiten." in staff.get(page).get_data(
        as_text=True
    )
    weekday = booked.slot_start.astimezone(slots.BERLIN).weekday()
    with get_db(app).session() as session:
        rule_id = session.scalars(
            select(ConsultationRule.id).where(
                ConsultationRule.location_id == verl, ConsultationRule.weekday == weekday
            )
        ).one()
        reference = session.get_one(Booking, booked.id).request.reference
    deleted = _post(staff, page, f"{page}/rules/{rule_id}/delete", {}, "delete")
    assert deleted.status_code == 302
    with get_db(app).session() as session:
        assert session.get_one(Booking, booked.id).status == "active", "nothing is dropped"

    html = staff.get(page).get_data(as_text=True)
    assert "1 gebuchter Termin liegt jetzt außerhalb der Sprechzeiten." in html
    listed = html.split("Termine außerhalb der Sprechzeiten")[1].split("</section>")[0]
    link = f"/de/staff/requests/{reference}#booking-{booked.id}"
    assert link in listed
    overview = staff.get("/de/staff/hours").get_data(as_text=True)
    assert link in overview

    request_page = staff.get(link.split("#")[0]).get_data(as_text=True)
    assert f'id="booking-{booked.id}"' in request_page
    new_key = match_in(rf'name="move{booked.id}-slot" value="([^"]+)"', request_page).group(1)
    token = csrf_token(staff, link.split("#")[0])
    moved = staff.post(
        f"/de/staff/requests/{reference}/bookings/{booked.id}/move",
        data={f"move{booked.id}-csrf_token": token, f"move{booked.id}-slot": new_key},
    )
    assert moved.status_code == 302
    assert "Alle gebuchten Termine liegen in den Sprechzeiten." in staff.get(page).get_data(
        as_text=True
    )
    deliver(app)
    mails = mailbox.to("anna@example.org")
    assert len(mails) == before + 1
    assert "verschoben" in str(mails[-1]["Subject"])
    with get_db(app).session() as session:
        actions = [entry.action for entry in session.scalars(select(AuditEntry))]
        assert "hours_rule_delete" in actions and "booking_move" in actions


def test_bookings_at_a_location_closed_for_bookings_are_listed_to_move(
    app: Flask, client: FlaskClient
) -> None:
    seed_schedule(app)
    booked = _book(app, client)
    with get_db(app).session() as session:
        found = session.get_one(Booking, booked.id)
        found.location.active = False  # an administrator closed the location for bookings
        reference = found.request.reference
        session.commit()
    coordinator = _staff(app, "coordinator")
    html = coordinator.get("/de/staff/hours").get_data(as_text=True)
    assert f"Termin zur Anfrage {reference} verschieben" in html


def test_an_administrator_learns_how_many_bookings_lie_outside_but_not_which(
    app: Flask, client: FlaskClient
) -> None:
    seed_schedule(app)
    booked = _book(app, client)
    with get_db(app).session() as session:
        day = booked.slot_start.astimezone(slots.BERLIN).date()
        session.add(ConsultationClosure(location_id=None, first_day=day, last_day=day))
        session.commit()
        reference = session.get_one(Booking, booked.id).request.reference
    admin = _staff(app, "admin")
    html = admin.get("/de/staff/hours").get_data(as_text=True)
    assert "1 gebuchter Termin passt nicht mehr zu den Sprechzeiten" in html
    assert reference not in html and "/de/staff/requests/" not in html  # how many, not which


@pytest.mark.parametrize(("role", "town"), [("caseworker", "verl"), ("editor", None)])
def test_who_does_not_run_the_hours_neither_sees_nor_opens_them(
    app: Flask, role: str, town: str | None
) -> None:
    seed_schedule(app)
    staff = _staff(app, role, town)
    assert "/de/staff/hours" not in staff.get("/de/staff/").get_data(as_text=True)
    verl = _location_id(app, "verl")
    assert staff.get("/de/staff/hours").status_code == 403
    assert staff.get(f"/de/staff/hours/{verl}").status_code == 403
    token = csrf_token(staff, "/de/staff/")
    response = staff.post(
        f"/de/staff/hours/{verl}/rules",
        data={"rule-csrf_token": token, **_rule(5, "09:00", "10:00", 30)},
    )
    assert response.status_code == 403
    assert len(_rules(app, verl)) == 2


def test_two_colleagues_changing_one_rule_do_not_overwrite_each_other(
    app: Flask, client: FlaskClient
) -> None:
    seed_schedule(app)
    first, second = _staff(app), _staff(app, "admin")
    home = _location_id(app, "home")
    with get_db(app).session() as session:
        rule_id = session.scalars(
            select(ConsultationRule.id).where(ConsultationRule.location_id == home)
        ).one()
    edit = f"/de/staff/hours/{home}/rules/{rule_id}"
    seen_first, seen_second = _version(first, edit), _version(second, edit)
    done = _post(first, edit, edit, _rule(4, "09:00", "11:00", 60, version=seen_first), "rule")
    assert done.status_code == 302
    late = _post(second, edit, edit, _rule(4, "10:00", "12:00", 30, version=seen_second), "rule")
    assert late.status_code == 302 and late.headers["Location"].endswith(edit)
    page = second.get(edit).get_data(as_text=True)
    assert "Jemand hat diese Sprechzeit inzwischen geändert." in page
    assert 'value="11:00"' in page, "the page shows the colleague's change"
    assert _rules(app, home) == [(4, "09:00", "11:00", 60, None, None)]


def test_a_closure_sent_twice_is_stored_once(app: Flask, client: FlaskClient) -> None:
    seed_schedule(app)
    staff = _staff(app)
    day = (utcnow().astimezone(slots.BERLIN).date() + timedelta(days=10)).isoformat()
    data = {"closure-location": "", "closure-first_day": day, "closure-last_day": day}
    for _attempt in range(2):
        response = _post(staff, "/de/staff/hours", "/de/staff/hours/closures", data, "closure")
        assert response.status_code == 302
    with get_db(app).session() as session:
        [closure] = session.scalars(select(ConsultationClosure)).all()
        assert closure.location_id is None and closure.first_day.isoformat() == day


def test_the_preview_shows_public_holidays_without_slots(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_schedule(app)
    today = utcnow().astimezone(slots.BERLIN).date()
    holiday = next(  # the next public holiday on a weekday (NRW has several a year)
        day
        for day in (today + timedelta(days=offset) for offset in range(8, 400))
        if day.weekday() < 5 and is_public_holiday(day)
    )
    # The staff pages' clock a week before it, so the holiday's week is in the preview.
    shifted = utcnow() + (holiday - today) - timedelta(days=7)
    monkeypatch.setattr("portal.views.staff.hours.utcnow", lambda: shifted)
    staff = _staff(app)
    phone = _location_id(app, "phone")  # phone hours every weekday
    monday = holiday - timedelta(days=holiday.weekday())
    page = staff.get(f"/de/staff/hours/{phone}?week={monday}").get_data(as_text=True)
    assert "Feiertag: keine Termine" in page
    shown_days = {
        slots.parse_slot_key(key).astimezone(slots.BERLIN).date()
        for key in _preview(staff, phone, monday)
    }
    assert holiday not in shown_days
    assert shown_days, "the other weekdays have slots"


def test_a_closure_for_part_of_a_day_hides_only_the_slots_it_touches(
    app: Flask, client: FlaskClient
) -> None:
    seed_schedule(app)  # Verl: Thursday 14:00-17:30 in 30 minutes
    staff = _staff(app)
    verl = _location_id(app, "verl")
    today = utcnow().astimezone(slots.BERLIN).date()
    thursday = today + timedelta(days=(3 - today.weekday()) % 7 + 7)
    monday = thursday - timedelta(days=3)
    data = {
        "closure-location": str(verl),
        "closure-first_day": thursday.isoformat(),
        "closure-last_day": thursday.isoformat(),
        "closure-start_time": "15:00",
        "closure-end_time": "14:30",
        "closure-reason": "Teamsitzung",
    }
    refused = _post(staff, "/de/staff/hours", "/de/staff/hours/closures", data, "closure")
    assert refused.status_code == 400
    assert "„Bis“ muss nach der Uhrzeit „Ab“ liegen." in refused.get_data(as_text=True)

    def times() -> list[str]:
        return [
            slots.parse_slot_key(key).astimezone(slots.BERLIN).strftime("%H:%M")
            for key in _preview(staff, verl, monday)
            if slots.parse_slot_key(key).astimezone(slots.BERLIN).date() == thursday
        ]

    assert times()[:4] == ["14:00", "14:30", "15:00", "15:30"]
    data.update({"closure-start_time": "14:15", "closure-end_time": "15:00"})
    added = _post(staff, "/de/staff/hours", "/de/staff/hours/closures", data, "closure")
    assert added.status_code == 302
    assert times()[:2] == ["15:00", "15:30"], "14:00-14:30 and 14:30-15:00 touch the closure"
    page = staff.get(f"/de/staff/hours/{verl}?week={monday}").get_data(as_text=True)
    assert "Geschlossen von 14:15 bis 15:00" in page and "Teamsitzung" in page
    overview = staff.get("/de/staff/hours").get_data(as_text=True)
    assert "14:15" in overview and "15:00" in overview


def test_a_booking_in_a_closure_for_part_of_its_day_is_listed(
    app: Flask, client: FlaskClient
) -> None:
    seed_schedule(app)
    booked = _book(app, client)
    staff = _staff(app)
    start = booked.slot_start.astimezone(slots.BERLIN)
    end = booked.slot_end.astimezone(slots.BERLIN)
    link = f"#booking-{booked.id}"
    for first, last, listed in [
        (end.strftime("%H:%M"), "23:00", False),  # right after it: still fine
        (start.strftime("%H:%M"), end.strftime("%H:%M"), True),
    ]:
        data = {
            "closure-location": "",
            "closure-first_day": start.date().isoformat(),
            "closure-last_day": start.date().isoformat(),
            "closure-start_time": first,
            "closure-end_time": last,
        }
        added = _post(staff, "/de/staff/hours", "/de/staff/hours/closures", data, "closure")
        assert added.status_code == 302
        assert (link in staff.get("/de/staff/hours").get_data(as_text=True)) is listed
