"""A resident's browser keeps little, readable by nobody, and not for long."""

from __future__ import annotations

import base64
import re
import time
import zlib
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from portal.db import get_db
from portal.models import Booking, HelpRequest, RequestDraft, utcnow
from portal.sessions import SEEN_KEY
from tests.booking_support import confirm, manage_path, seed_schedule, walk_booking
from tests.conftest import answer_all, csrf_token, submit

STATUS_LINK = re.compile(r'href="http://portal\.test(/de/request/status/([^"]+))"')


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("portal")
    assert cookie is not None
    return cookie.value


def _sent(client: FlaskClient) -> tuple[str, str]:
    """Send a request; the status link's path and its token."""
    answer_all(client)
    submit(client)
    found = STATUS_LINK.search(client.get("/de/request/done").get_data(as_text=True))
    assert found
    return found.group(1), found.group(2)


def _readable(value: str) -> str:
    """What anyone could read from a cookie value: its payload decoded as Flask encodes it."""
    payload = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if value.startswith("."):
        raw = zlib.decompress(raw)
    return raw.decode("latin-1")


def test_the_cookie_holds_no_readable_token_and_ends_with_the_browser(
    client: FlaskClient,
) -> None:
    _path, token = _sent(client)
    cookie = client.get_cookie("portal")
    assert cookie is not None and cookie.expires is None  # a session cookie, not a lasting one
    readable = _readable(cookie.value)
    assert token not in readable and token[:12] not in readable
    assert "request_submitted" not in readable


def test_a_forged_cookie_counts_as_no_session(app: Flask, client: FlaskClient) -> None:
    _sent(client)
    value = _cookie(client)
    client.set_cookie("portal", value[:20] + ("A" if value[20] != "A" else "B") + value[21:])
    assert client.get("/de/request/done").headers["Location"].endswith("/de/request/")


def test_the_draft_is_gone_once_the_request_is_sent(app: Flask, client: FlaskClient) -> None:
    _sent(client)
    with get_db(app).session() as session:
        assert all(d.answers == {} for d in session.scalars(select(RequestDraft)))
    response = client.get("/de/request/check")
    assert response.status_code == 302  # no draft left to show


def test_after_the_idle_time_the_browser_forgets_the_request(
    app: Flask, client: FlaskClient
) -> None:
    _sent(client)
    assert client.get("/de/request/done").status_code == 200
    with client.session_transaction() as cookie_session:
        cookie_session[SEEN_KEY] = int(time.time()) - 31 * 60
    assert client.get("/de/request/done").status_code == 302
    with client.session_transaction() as cookie_session:
        assert "request_submitted" not in cookie_session


def test_forget_this_device_clears_the_session(app: Flask, client: FlaskClient) -> None:
    path, _token = _sent(client)
    assert "Dieses Gerät vergessen lassen" in client.get("/de/request/done").get_data(as_text=True)
    client.get(path)
    assert "Dieses Gerät vergessen lassen" in client.get("/de/request/status").get_data(
        as_text=True
    )
    token = csrf_token(client, "/de/request/status")
    response = client.post("/de/forget", data={"csrf_token": token})
    assert response.headers["Location"].endswith("/de/")
    assert client.get("/de/request/status").status_code == 404
    assert client.get("/de/request/done").status_code == 302
    assert client.get(path).status_code == 302  # the link itself still works


def test_the_status_page_checks_the_link_again_at_every_use(
    app: Flask, client: FlaskClient
) -> None:
    path, _token = _sent(client)
    assert client.get(path).status_code == 302
    assert client.get("/de/request/status").status_code == 200
    with get_db(app).session() as session:  # staff replaced the link (say, it was shared)
        session.execute(update(HelpRequest).values(status_token_hash="0" * 64))
    assert client.get("/de/request/status").status_code == 404


@pytest.mark.parametrize(("days_ago", "works"), [(29, True), (31, False)])
def test_a_status_link_expires_a_while_after_closing(
    app: Flask, client: FlaskClient, days_ago: int, works: bool
) -> None:
    path, _token = _sent(client)
    with get_db(app).session() as session:
        session.execute(
            update(HelpRequest).values(
                status="closed", outcome="helped", closed_at=utcnow() - timedelta(days=days_ago)
            )
        )
    response = client.get(path)
    assert response.status_code == (302 if works else 410)


def test_the_booking_link_is_checked_again_at_every_use_and_expires(
    app: Flask, client: FlaskClient
) -> None:
    seed_schedule(app)
    walk_booking(client, "de")
    confirm(client, "de")
    path = manage_path(client.get("/de/booking/done").get_data(as_text=True))
    other = app.test_client()
    assert other.get(path).status_code == 302
    assert other.get("/de/booking/manage").status_code == 200
    with get_db(app).session() as session:
        booking = session.scalars(select(Booking)).one()
        assert booking.slot_end > utcnow()
        session.execute(
            update(Booking).values(
                slot_start=utcnow() - timedelta(days=31, minutes=30),
                slot_end=utcnow() - timedelta(days=31),
            )
        )
    assert other.get("/de/booking/manage").status_code == 404
    assert other.get(path).status_code == 410
