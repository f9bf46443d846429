"""The receipt a resident keeps: reference, time of receipt, town and a code an office can check,
on a page that prints on one A4 sheet; the public check answers one sentence or "not known";
the receipt outlives its request and expires after its own period. SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
import segno
from babel.dates import format_date, format_time
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select, text

from portal import create_app, migrate
from portal.db import get_db, make_engine
from portal.models import Booking, HelpRequest, Receipt, utcnow
from portal.services import receipts, retention
from portal.services.requests import BERLIN
from tests.booking_support import confirm, manage_path, seed_schedule, walk_booking
from tests.conftest import answer_all, clean, post_form, submit
from tests.integration.test_data_subject_rights import _status_client
from tests.integration.test_key_rotation import scratch_url  # noqa: F401 - a fixture

CODE = re.compile(r'<bdi dir="ltr" class="code">([2-9A-Z]{4}-[2-9A-Z]{4})</bdi>')
PERSONAL = ("Elif Demir", "Fatma Demir", "GEHEIMER-TEXT", "elif@example.org", "05207 123456")
PERIODS = retention.Periods()


def _send(client: FlaskClient, lang: str = "de") -> str:
    """Send a request (to Schloß Holte-Stukenbrock) and return its reference."""
    answer_all(client, lang)
    submit(client, lang)
    html = client.get(f"/{lang}/request/done").get_data(as_text=True)
    return re.search(r"SD-\d{4}-\d{5}", html).group(0)  # type: ignore[union-attr]


def _receipt_page(client: FlaskClient, lang: str = "de") -> tuple[str, str]:
    """The receipt page of the request just sent, and the code on it."""
    response = client.get(f"/{lang}/request/done/receipt")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    match = CODE.search(html)
    assert match, html
    return html, match.group(1)


def _stored(app: Flask, reference: str) -> HelpRequest:
    with get_db(app).readers() as session:
        found = session.scalar(select(HelpRequest).where(HelpRequest.reference == reference))
        assert found is not None
        session.expunge(found)
        return found


def _purge(app: Flask, days: float) -> retention.PurgeResult:
    with get_db(app).session() as session:
        return retention.purge(session, PERIODS, utcnow() + timedelta(days=days))


@pytest.mark.full_database  # reads the stored row on a connection of its own
def test_the_receipt_shows_reference_time_town_code_and_a_qr_code_of_the_check_page(
    app: Flask, client: FlaskClient
) -> None:
    reference = _send(client)
    done = client.get("/de/request/done").get_data(as_text=True)
    assert 'href="/de/request/done/receipt"' in done
    html, code = _receipt_page(client)
    received = _stored(app, reference).received_at.astimezone(BERLIN)
    assert reference in html
    written_out = (
        f"{format_date(received, 'full', locale='de')} um "
        f"{format_time(received, 'short', locale='de')} Uhr"
    )
    assert written_out in html  # e.g. "Donnerstag, 3. Dezember 2026 um 14:05 Uhr"
    assert "Soziales Duo im Rathaus Schloß Holte-Stukenbrock" in html
    assert "05207 8905-0" in html  # whom to call
    url = f"http://portal.test/de/receipt/verify/{code}"
    assert f'<a href="{url}"' in html
    # The QR code is the SVG segno makes for exactly that address.
    expected = segno.make(url, error="m").svg_inline(
        scale=4, dark="#000", light="#fff", omitsize=False, svgclass="qr-code"
    )
    assert expected in html
    assert 'style="' not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    for personal in PERSONAL:
        assert personal not in html
    # Stored: the keyed hash and the encrypted code, never the code in plaintext.
    with get_db(app).engine.connect() as connection:
        row = connection.execute(
            text("SELECT code_hash, code, town_slug, reference FROM receipt")
        ).one()
    plain = code.replace("-", "")
    assert plain not in row[0] and plain not in row[1] and row[1].startswith("E1:")
    assert tuple(row[2:]) == ("shs", reference)


def test_the_status_page_offers_the_same_receipt(app: Flask, client: FlaskClient) -> None:
    _send(client)
    _html, code = _receipt_page(client)
    holder = _status_client(app, client)
    status = holder.get("/de/request/status").get_data(as_text=True)
    assert 'href="/de/request/status/receipt"' in status
    again = holder.get("/de/request/status/receipt").get_data(as_text=True)
    assert code in again
    assert app.test_client().get("/de/request/status/receipt").status_code == 404


def test_the_check_answers_the_date_and_nothing_else(app: Flask, client: FlaskClient) -> None:
    reference = _send(client)
    _html, code = _receipt_page(client)
    office = app.test_client()
    response = office.get(f"/de/receipt/verify/{code}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    received = _stored(app, reference).received_at.astimezone(BERLIN)
    assert (
        f'Die Anfrage mit der Nummer <bdi dir="ltr">{reference}</bdi> ist am '
        f"{format_date(received, 'full', locale='de')} um "
        f"{format_time(received, 'short', locale='de')} Uhr beim Sozialen Duo "
        "(Schloß Holte-Stukenbrock) eingegangen." in html
    )
    for personal in PERSONAL:
        assert personal not in html
    # Typed into the form, in small letters and with spaces, it is found too.
    typed = post_form(office, "/de/receipt/verify", {"code": code.lower().replace("-", " ")})
    assert reference in typed.get_data(as_text=True)


@pytest.mark.parametrize("wrong", ["ZZZZ-ZZZZ", "abc", "K7QM-4TXO", "x" * 60])
def test_a_wrong_code_is_not_known_without_a_hint(
    app: Flask, client: FlaskClient, wrong: str
) -> None:
    _send(client)
    _receipt_page(client)
    office = app.test_client()
    html = office.get(f"/de/receipt/verify/{wrong}").get_data(as_text=True)
    assert "Diesen Code kennen wir nicht." in html
    assert "SD-" not in html and "Schloß Holte-Stukenbrock)" not in html
    typed = post_form(office, "/de/receipt/verify", {"code": wrong[:20]}).get_data(as_text=True)
    assert "Diesen Code kennen wir nicht." in typed and "SD-" not in typed


def test_an_empty_form_asks_for_the_code(client: FlaskClient) -> None:
    html = post_form(client, "/de/receipt/verify", {"code": ""}).get_data(as_text=True)
    assert "Bitte geben Sie den Prüfcode von der Bestätigung ein." in html
    assert "kennen wir nicht" not in html


def test_the_receipt_outlives_its_request_and_expires_after_its_own_period(
    app: Flask, client: FlaskClient
) -> None:
    reference = _send(client)
    _html, code = _receipt_page(client)
    # Nobody closes the request: a year of silence and the purge deletes it ...
    assert _purge(app, 366).requests == 1
    with get_db(app).readers() as session:
        assert session.scalar(select(HelpRequest.id)) is None
    # ... but the receipt still says when it came in.
    html = app.test_client().get(f"/de/receipt/verify/{code}").get_data(as_text=True)
    assert reference in html
    assert _purge(app, 3 * 365).receipts == 0
    assert _purge(app, 3 * 365 + 1).receipts == 1
    html = app.test_client().get(f"/de/receipt/verify/{code}").get_data(as_text=True)
    assert "Diesen Code kennen wir nicht." in html


def test_the_period_is_a_setting_and_an_expired_receipt_is_not_known_before_the_purge(
    app_config: dict[str, Any],
) -> None:
    short = create_app({**app_config, "retention_days_receipt": 10})
    clean(short)  # an app of its own starts from an emptied database, as the ``app`` fixture's
    try:
        client = short.test_client()
        _send(client)
        _html, code = _receipt_page(client)
        with get_db(short).session() as session:
            [receipt] = session.scalars(select(Receipt)).all()
            assert receipt.expires_at - receipt.received_at == timedelta(days=10)
            assert receipts.verify(session, code, utcnow() + timedelta(days=9)) is not None
            assert receipts.verify(session, code, utcnow() + timedelta(days=11)) is None
    finally:
        get_db(short).engine.dispose()


def test_a_request_sent_before_receipts_existed_gets_one_when_its_receipt_is_opened(
    app: Flask, client: FlaskClient
) -> None:
    reference = _send(client)
    with get_db(app).session() as session:
        session.execute(delete(Receipt))
    holder = _status_client(app, client)
    html = holder.get("/de/request/status/receipt").get_data(as_text=True)
    code = CODE.search(html).group(1)  # type: ignore[union-attr]
    assert reference in app.test_client().get(f"/de/receipt/verify/{code}").get_data(as_text=True)
    assert code in holder.get("/de/request/status/receipt").get_data(as_text=True)


def test_the_receipt_is_stored_with_the_request_or_not_at_all(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("receipt could not be stored")

    answer_all(client)
    monkeypatch.setattr(receipts, "issue", broken)
    assert submit(client).status_code == 500
    with get_db(app).readers() as session:
        assert session.scalar(select(HelpRequest.id)) is None
        assert session.scalar(select(Receipt.id)) is None


def test_checking_codes_is_rate_limited(app_config: dict[str, Any]) -> None:
    limited = create_app(
        {
            **app_config,
            "ratelimit_disabled": False,
            "rate_limit_verify": "3 per hour",
            "rate_limit_key_prefix": f"receipt-{uuid.uuid4().hex}",
        }
    )
    try:
        client = limited.test_client()
        for _ in range(2):
            assert client.get("/de/receipt/verify/ZZZZ-ZZZZ").status_code == 200
        # Typing a code and opening one count together.
        assert post_form(client, "/de/receipt/verify", {"code": "ZZZZZZZZ"}).status_code == 200
        assert client.get("/de/receipt/verify/ZZZZ-ZZZZ").status_code == 429
        assert post_form(client, "/de/receipt/verify", {"code": "ZZZZZZZZ"}).status_code == 429
    finally:
        get_db(limited).engine.dispose()


def test_the_arabic_receipt_runs_right_to_left(app: Flask, client: FlaskClient) -> None:
    reference = _send(client, "ar")
    html, code = _receipt_page(client, "ar")
    assert '<html lang="ar" dir="rtl">' in html
    assert f'<bdi dir="ltr" class="reference">{reference}</bdi>' in html
    received = _stored(app, reference).received_at.astimezone(BERLIN)
    assert format_date(received, "full", locale="ar") in html
    # The check opens in German, for the office that reads it.
    assert f"http://portal.test/de/receipt/verify/{code}" in html


def test_the_migration_adds_and_removes_the_receipt_table(scratch_url: str) -> None:  # noqa: F811
    engine = make_engine(scratch_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT COUNT(*) FROM receipt")).scalar_one() == 0
        migrate.downgrade(engine, "d13a0aud0013")
        with engine.connect() as connection, pytest.raises(Exception, match="receipt"):
            connection.execute(text("SELECT COUNT(*) FROM receipt"))
        migrate.upgrade(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT COUNT(*) FROM receipt")).scalar_one() == 0
    finally:
        engine.dispose()


def test_a_booking_has_a_receipt_with_its_appointment_and_nothing_personal(
    app: Flask, client: FlaskClient
) -> None:
    seed_schedule(app)
    walk_booking(client)
    assert confirm(client).status_code == 302
    done = client.get("/de/booking/done").get_data(as_text=True)
    assert 'href="/de/booking/done/receipt"' in done
    reference = re.search(r"SD-\d{4}-\d{5}", done).group(0)  # type: ignore[union-attr]
    html = client.get("/de/booking/done/receipt").get_data(as_text=True)
    code = CODE.search(html).group(1)  # type: ignore[union-attr]
    with get_db(app).readers() as session:
        booking = session.scalars(select(Booking)).one()
        slot_start = booking.slot_start.astimezone(BERLIN)
    assert reference in html and "Ihr Termin beim Sozialen Duo ist gebucht." in html
    assert format_date(slot_start, "full", locale="de") in html
    assert "Rathaus Verl" in html
    for personal in ("Karl Schmidt", "Anna Schmidt", "anna@example.org", "GEHEIME-NOTIZ"):
        assert personal not in html
    assert reference in app.test_client().get(f"/de/receipt/verify/{code}").get_data(as_text=True)
    # The private link opens the same receipt.
    holder = app.test_client()
    holder.get(manage_path(done))
    assert 'href="/de/booking/manage/receipt"' in holder.get("/de/booking/manage").get_data(
        as_text=True
    )
    assert code in holder.get("/de/booking/manage/receipt").get_data(as_text=True)
    assert app.test_client().get("/de/booking/manage/receipt").status_code == 404
