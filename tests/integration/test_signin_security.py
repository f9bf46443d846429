"""Sign-in under attack: atomic counters, single-use codes, growing waits, one answer for all."""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from portal import create_app
from portal.db import get_db
from portal.models import AuditEntry, SecurityEvent, StaffSession, StaffUser, utcnow
from portal.services import audit, security_log, staff
from portal.services.errors import InvalidCredentials, TooManyAttempts
from tests.conftest import post_form
from tests.expect import present
from tests.integration.test_staff import PASSWORD, make_staff, sign_in


def _in_parallel(count: int, attempt: Callable[[], str]) -> list[str]:
    """Run ``attempt`` in ``count`` threads released together; their outcomes."""
    barrier = threading.Barrier(count)
    outcomes: list[str] = []

    def run() -> None:
        barrier.wait()
        outcomes.append(attempt())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _account(app: Flask, email: str) -> StaffUser:
    with get_db(app).session() as session:
        return session.scalars(select(StaffUser).where(StaffUser.email == email)).one()


@pytest.mark.full_database
def test_parallel_wrong_passwords_are_each_counted_and_only_five_are_checked(app: Flask) -> None:
    make_staff(app, "paula@example.org", "verl")

    def attempt() -> str:
        with get_db(app).session() as session:  # commits the count, as the view does
            try:
                staff.verify_password(session, "paula@example.org", "wrong password!!")
            except InvalidCredentials:
                return "checked"
            except TooManyAttempts:
                return "waited"
        return "signed in"

    outcomes = _in_parallel(16, attempt)
    checked = outcomes.count("checked")
    # Five free attempts; the threads queue on the row, so a short wait may pass meanwhile.
    assert staff.FREE_ATTEMPTS <= checked <= staff.FREE_ATTEMPTS + 2, outcomes
    assert outcomes.count("waited") == 16 - checked
    user = _account(app, "paula@example.org")
    assert user.failed_signins == checked
    assert user.signin_wait_until is not None


@pytest.mark.full_database
def test_one_code_sent_in_parallel_is_accepted_once(app: Flask) -> None:
    secret = make_staff(app, "quentin@example.org", "verl")
    code = pyotp.TOTP(secret).now()

    def attempt() -> str:
        with get_db(app).session() as session:
            user = session.scalars(select(StaffUser)).one()
            try:
                staff.verify_code(session, user, code)
            except (InvalidCredentials, TooManyAttempts):
                return "refused"
        return "accepted"

    outcomes = _in_parallel(8, attempt)
    assert outcomes.count("accepted") == 1, outcomes


def test_a_used_code_and_an_older_one_are_refused(app: Flask) -> None:
    secret = make_staff(app, "rita@example.org", "verl")
    totp = pyotp.TOTP(secret)
    now = time.time()
    with get_db(app).session() as session:
        user = session.scalars(select(StaffUser)).one()
        staff.verify_code(session, user, totp.at(now), at=now)
        with pytest.raises(InvalidCredentials):
            staff.verify_code(session, user, totp.at(now), at=now)
        with pytest.raises(InvalidCredentials):
            staff.verify_code(session, user, totp.at(now - 30), at=now)


def test_a_code_typed_in_arabic_indic_digits_counts_and_superscripts_do_not(app: Flask) -> None:
    secret = make_staff(app, "rana@example.org", "verl")
    totp = pyotp.TOTP(secret)
    now = time.time()
    code = totp.at(now)
    arabic = "".join(chr(0x0660 + int(digit)) for digit in code)
    superscript = code.translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    with get_db(app).session() as session:
        user = session.scalars(select(StaffUser)).one()
        with pytest.raises(InvalidCredentials):
            staff.verify_code(session, user, superscript, at=now)
        staff.verify_code(session, user, f"{arabic[:3]} {arabic[3:]}", at=now)


def test_waits_grow_from_two_seconds_to_fifteen_minutes() -> None:
    waits = [staff.wait_after(n).total_seconds() for n in range(12)]
    assert waits[: staff.FREE_ATTEMPTS] == [0] * staff.FREE_ATTEMPTS
    assert waits[staff.FREE_ATTEMPTS :] == [2, 4, 8, 16, 32, 64, 128][: 12 - staff.FREE_ATTEMPTS]
    assert staff.wait_after(100) == timedelta(minutes=15)


def test_the_owner_signs_in_after_the_wait_even_after_a_hundred_failures(app: Flask) -> None:
    make_staff(app, "sven@example.org", "verl")
    with get_db(app).session() as session:
        for _ in range(100):
            with pytest.raises((InvalidCredentials, TooManyAttempts)):
                staff.verify_password(session, "sven@example.org", "wrong password!!")
            # Time passes: each wait is over before the next guess.
            session.execute(update(StaffUser).values(signin_wait_until=utcnow()))
        with pytest.raises(TooManyAttempts):
            session.execute(
                update(StaffUser).values(signin_wait_until=utcnow() + timedelta(minutes=1))
            )
            staff.verify_password(session, "sven@example.org", PASSWORD)
        session.execute(update(StaffUser).values(signin_wait_until=utcnow()))
        user = staff.verify_password(session, "sven@example.org", PASSWORD)
        assert user.failed_signins == 100  # the password alone forgives only itself
        # ... but leaves no wait: the owner goes on to the code at once, and it counts.
        assert user.signin_wait_until is None
        staff.verify_code(session, user, pyotp.TOTP(present(user.totp_secret)).now())
        assert user.failed_signins == 0


def test_a_right_password_is_not_counted_as_a_failure(app: Flask) -> None:
    make_staff(app, "tara@example.org", "verl")
    with get_db(app).session() as session:
        for _ in range(10):
            staff.verify_password(session, "tara@example.org", PASSWORD)
    assert _account(app, "tara@example.org").failed_signins == 0


def _message(html: str) -> str:
    found = re.search(r'<p class="error-message"[^>]*>(.*?)</p>', html, re.S)
    assert found, html[:2000]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_unknown_account_wrong_password_and_waiting_get_the_same_answer(app: Flask) -> None:
    make_staff(app, "ute@example.org", "verl")
    answers = []
    for email, password in (
        ("nobody@example.org", "some password!!"),
        ("ute@example.org", "wrong password!!"),
    ):
        response = post_form(
            app.test_client(), "/de/staff/signin", {"email": email, "password": password}
        )
        answers.append((response.status_code, _message(response.get_data(as_text=True))))
    with get_db(app).session() as session:
        session.execute(update(StaffUser).values(signin_wait_until=utcnow() + timedelta(minutes=5)))
    response = post_form(
        app.test_client(), "/de/staff/signin", {"email": "ute@example.org", "password": PASSWORD}
    )
    answers.append((response.status_code, _message(response.get_data(as_text=True))))
    assert len(set(answers)) == 1, answers
    assert "Die Anmeldung hat nicht geklappt" in answers[0][1]


def test_an_unknown_account_takes_about_as_long_as_a_wrong_password(app: Flask) -> None:
    make_staff(app, "vera@example.org", "verl")

    def median(email: str) -> float:
        times = []
        with get_db(app).session() as session:
            for _ in range(3):
                start = time.perf_counter()
                with pytest.raises(InvalidCredentials):
                    staff.verify_password(session, email, "wrong password!!")
                times.append(time.perf_counter() - start)
                session.execute(update(StaffUser).values(failed_signins=0))
        return sorted(times)[1]

    known, unknown = median("vera@example.org"), median("nobody@example.org")
    assert unknown > known / 3  # both spend one Argon2 check; without it, unknown is ~1000x faster


def test_demo_accounts_cannot_sign_in_outside_debug_mode(app: Flask) -> None:
    make_staff(app, "demo-verl@example.org", "verl")
    with get_db(app).session() as session:
        with pytest.raises(InvalidCredentials):
            staff.verify_password(session, "demo-verl@example.org", PASSWORD)
        assert staff.verify_password(session, "demo-verl@example.org", PASSWORD, allow_demo=True)
    response = post_form(
        app.test_client(),
        "/de/staff/signin",
        {"email": "demo-verl@example.org", "password": PASSWORD},
    )
    assert "Die Anmeldung hat nicht geklappt" in response.get_data(as_text=True)


def test_a_password_set_with_spaces_and_decomposed_letters_is_the_one_typed(app: Flask) -> None:
    decomposed = unicodedata.normalize("NFD", "  Grüße aus Schloß Holte  ")
    with get_db(app).session() as session:
        user = staff.create_staff(session, "wim@example.org", decomposed, "caseworker", None)
        secret = user.totp_secret or ""
    sign_in(app.test_client(), "wim@example.org", secret, password="Grüße aus Schloß Holte")


def test_sign_in_events_are_logged_without_the_typed_address_or_the_full_ip(app: Flask) -> None:
    secret = make_staff(app, "xenia@example.org", "verl")
    client = app.test_client()
    post_form(client, "/de/staff/signin", {"email": "who@example.org", "password": "guess guess!"})
    post_form(client, "/de/staff/signin", {"email": "who@example.org", "password": "guess again!"})
    sign_in(client, "xenia@example.org", secret)
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"',
        client.get("/de/staff/me").get_data(as_text=True),
    )
    assert token
    client.post("/de/staff/signout", data={"csrf_token": token.group(1)})
    client.post("/de/staff/signin", data={"email": "x@example.org", "password": "y"})
    with get_db(app).session() as session:
        events = session.scalars(select(SecurityEvent).order_by(SecurityEvent.id)).all()
        user = session.scalars(select(StaffUser)).one()
        rows = [(e.kind, e.staff_id, e.network, e.detail) for e in events]
    kinds = [kind for kind, *_rest in rows]
    assert kinds == ["signin_failed", "signin_failed", "signin", "signout", "csrf_failed"]
    assert events[0].subject and events[0].subject == events[1].subject
    assert events[2].staff_id == user.id and events[2].subject == ""
    assert all(e.network in ("127.0.0.0/24", "") for e in events)
    assert events[4].detail == "staff.signin"
    for event in events:
        assert "example.org" not in f"{event.subject}{event.detail}{event.network}"


def test_an_expired_session_is_logged(app: Flask) -> None:
    secret = make_staff(app, "yusuf@example.org", "verl")
    client = app.test_client()
    sign_in(client, "yusuf@example.org", secret)
    with get_db(app).session() as session:
        session.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(hours=2)))
    client.get("/de/staff/")
    with get_db(app).session() as session:
        kinds = session.scalars(select(SecurityEvent.kind).order_by(SecurityEvent.id)).all()
    assert kinds[-1] == "session_expired"


def test_audit_entries_keep_their_author_when_the_account_is_deleted(app: Flask) -> None:
    make_staff(app, "zora@example.org", "verl")
    with get_db(app).session() as session:
        user = session.scalars(select(StaffUser)).one()
        user.display_name = "Zora Zimmermann"
        session.flush()
        audit.record(session, user.id, "figures_export")
        staff_id = user.id
    with get_db(app).session() as session:
        session.execute(delete(StaffSession))
        session.execute(delete(StaffUser).where(StaffUser.id == staff_id))
    with get_db(app).session() as session:
        entry = session.scalars(select(AuditEntry)).one()
        assert entry.staff_id == staff_id
        assert entry.staff is None and entry.author == "Zora Zimmermann"
    # Nobody can rewrite who did it afterwards: the database refuses, on both databases.
    for change in ({"staff_label": "Jemand anderes"}, {"staff_id": None}):
        with pytest.raises(DBAPIError), get_db(app).session() as session:
            session.execute(update(AuditEntry).values(change))


def test_administrators_read_the_security_log_and_others_may_not(app: Flask) -> None:
    secret = make_staff(app, "adele@example.org", None, role="admin")
    other = make_staff(app, "bruno@example.org", None, role="coordinator")
    admin = app.test_client()
    post_form(admin, "/de/staff/signin", {"email": "gone@example.org", "password": "a guess!!"})
    sign_in(admin, "adele@example.org", secret)
    page = admin.get("/de/staff/security").get_data(as_text=True)
    assert "Anmeldung abgelehnt" in page and "unbekannt, Kennung" in page
    assert "gone@example.org" not in page and "127.0.0.1" not in page and "127.0.0.0/24" in page
    only = admin.get("/de/staff/security?kind=signin").get_data(as_text=True)
    assert "Anmeldung abgelehnt" not in only.split("<table")[-1]
    coordinator = app.test_client()
    sign_in(coordinator, "bruno@example.org", other)
    assert coordinator.get("/de/staff/security").status_code == 403


def test_security_events_are_deleted_after_their_period(app: Flask) -> None:
    with get_db(app).session() as session:
        security_log.record(session, "signin", 1, now=utcnow() - timedelta(days=91))
        security_log.record(session, "signin", 1, now=utcnow() - timedelta(days=89))
    result = app.test_cli_runner().invoke(args=["retention", "purge"])
    assert "security events deleted 1" in result.output, result.output
    with get_db(app).session() as session:
        assert len(session.scalars(select(SecurityEvent)).all()) == 1


def test_a_rate_limit_hit_is_logged(app_config: dict[str, Any]) -> None:
    limited = create_app(
        {**app_config, "ratelimit_disabled": False, "rate_limit_signin": "1 per minute"}
    )
    client = limited.test_client()
    for _ in range(6):
        response = post_form(
            client, "/de/staff/signin", {"email": "a@example.org", "password": "a guess!!"}
        )
    assert response.status_code == 429
    with get_db(limited).session() as session:
        kinds = session.scalars(select(SecurityEvent.kind).order_by(SecurityEvent.id)).all()
    assert kinds[-1] == "rate_limited"
    # Five refusals in a minute from one visitor: one entry, so a flood cannot fill the log.
    assert kinds.count("rate_limited") == 1
    get_db(limited).engine.dispose()


def test_demo_load_is_refused_outside_debug_mode(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "debug mode" in result.output
    with get_db(app).session() as session:
        assert session.scalars(select(StaffUser)).all() == []
