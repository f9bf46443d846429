"""Retention: a request closed long enough ago keeps only its figures; the audit log outlives
its period only while the request it speaks of still holds personal data."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from portal.db import get_db
from portal.models import AuditEntry, HelpRequest, Referral, RequestEvent, ResidentLink, utcnow
from portal.services import retention
from tests.integration.test_triage import _reference, _staff, _step


def test_a_closed_request_is_anonymised_with_its_notes_messages_and_referrals(
    app: Flask, client: FlaskClient
) -> None:
    reference = _reference(client)
    staff_client = _staff(app, "anna@example.org", "shs")
    _step(staff_client, reference, "note", {"text": "NOTIZ-PRIVAT"})
    _step(staff_client, reference, "message", {"text": "NACHRICHT-PRIVAT"})
    _step(
        staff_client,
        reference,
        "referral",
        {
            "office_name": "Pflegeberatung",
            "passed_on": "WEITERGABE-PRIVAT",
            "consent": "consent",
            "follow_up_on": (utcnow() + timedelta(days=3)).date().isoformat(),
        },
    )
    _step(staff_client, reference, "close", {"outcome": "referred"})
    with get_db(app).session() as session:
        session.execute(update(HelpRequest).values(closed_at=utcnow() - timedelta(days=181)))
        old = utcnow() - timedelta(days=400)
        request_id = session.scalars(select(HelpRequest.id)).one()
        session.add(AuditEntry(at=old, action="view", request_id=request_id, reference=reference))
    with get_db(app).session() as session:
        kept = retention.purge(session, request_days=180, audit_days=365, outbox_days=30)
    # Anonymised in the same pass, the request no longer holds the old audit entry back.
    assert kept.requests == 1 and kept.audit_entries == 1
    with get_db(app).session() as session:
        stored = session.scalars(select(HelpRequest)).one()
        assert stored.anonymised_at and stored.outcome == "referred" and not stored.need_text
        texts = [event.text for event in session.scalars(select(RequestEvent))]
        assert not any(texts)
        assert session.scalars(select(Referral)).one().passed_on == ""
        assert session.scalars(select(ResidentLink)).all() == []
        ages = [entry.at for entry in session.scalars(select(AuditEntry))]
        assert ages and min(ages) > utcnow() - timedelta(days=365)


def test_stray_mail_goes_after_the_outbox_period(app: Flask) -> None:
    from portal.models import InboundMail

    with get_db(app).session() as session:
        for days in (10, 40):
            session.add(
                InboundMail(
                    dedupe_key=f"{days:064d}",
                    kind="unmatched",
                    raw=b"x",
                    received_at=utcnow() - timedelta(days=days),
                )
            )
    with get_db(app).session() as session:
        retention.purge(session, 180, 365, 30)
    with get_db(app).session() as session:
        [kept] = session.scalars(select(InboundMail)).all()
        assert kept.received_at > utcnow() - timedelta(days=30)


def test_old_audit_entries_of_an_open_request_are_kept(app: Flask, client: FlaskClient) -> None:
    reference = _reference(client)
    with get_db(app).session() as session:
        request_id = session.scalars(select(HelpRequest.id)).one()
        old = utcnow() - timedelta(days=400)
        session.add(AuditEntry(at=old, action="view", request_id=request_id, reference=reference))
        session.add(AuditEntry(at=old, action="signin"))
    with get_db(app).session() as session:
        assert retention.purge(session, 180, 365, 30).audit_entries == 1
    with get_db(app).session() as session:
        assert [e.action for e in session.scalars(select(AuditEntry))] == ["view"]
