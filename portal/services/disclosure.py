"""Everything stored about one request, for the requester's right of access (Art. 15 DSGVO).

The export holds every column of the request and of every row that belongs to it, except
hashes of private links (they open nothing without the link, and are no information about
the person) and raw binary copies (the text of each email is there).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from ..models import (
    AuditEntry,
    Base,
    Booking,
    HelpRequest,
    InboundMail,
    OutboxMessage,
    Referral,
    RequestEvent,
    ResidentLink,
)

FORMAT = "soziales-duo-request-export/2"
# Columns left out: hashes of private links and binary copies whose text is included.
LEFT_OUT = frozenset(
    {
        "status_token_hash",
        "draft_key_hash",
        "token_hash",
        "raw",
        "attachment_data",
        "encrypted_mime",
    }
)

# The tick on the check page confirms that the privacy notice was read; it is no consent (the
# basis is the public task). Its columns keep their old names; the export names it right.
RENAMED = {
    "consented_at": "privacy_notice_read_at",
    "consent_purpose": "privacy_notice_read_via",
}


@dataclass(frozen=True)
class Export:
    """The rows stored about one request, as the HTML page and the JSON file show them."""

    request: HelpRequest
    events: list[RequestEvent]
    bookings: list[Booking]
    referrals: list[Referral]
    links: list[ResidentLink]
    emails: list[OutboxMessage]
    received: list[InboundMail]
    audit: list[AuditEntry]


def _of(session: Session, model: Any, request: HelpRequest) -> list[Any]:
    return list(
        session.scalars(select(model).where(model.request_id == request.id).order_by(model.id))
    )


def collect(session: Session, request: HelpRequest) -> Export:
    """Every row stored about ``request``, oldest first."""
    return Export(
        request=request,
        events=_of(session, RequestEvent, request),
        bookings=_of(session, Booking, request),
        referrals=_of(session, Referral, request),
        links=_of(session, ResidentLink, request),
        emails=_of(session, OutboxMessage, request),
        received=_of(session, InboundMail, request),
        audit=_of(session, AuditEntry, request),
    )


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def row(record: Base) -> dict[str, Any]:
    """One row's stored columns as JSON values."""
    return {
        RENAMED.get(attribute.key, attribute.key): _value(getattr(record, attribute.key))
        for attribute in inspect(record).mapper.column_attrs
        if attribute.key not in LEFT_OUT
    }


def _with_staff(record: RequestEvent | AuditEntry) -> dict[str, Any]:
    found = row(record)
    found["staff_name"] = record.staff.shown_name if record.staff else ""
    return found


def _access(entry: AuditEntry) -> dict[str, Any]:
    """An access-log row for the person: what was done, when and by whom, without the
    colleague's network address (their data, not the person's) or internal account id."""
    found = row(entry)
    for internal in ("address", "staff_id", "staff_label"):
        found.pop(internal, None)
    found["staff_name"] = entry.author
    return found


def as_dict(export: Export, now: datetime) -> dict[str, Any]:
    """The machine-readable export: one object per table, every stored column."""
    request = row(export.request)
    request["town"] = export.request.town.name
    return {
        "format": FORMAT,
        "exported_at": now.isoformat(),
        "request": request,
        "events": [_with_staff(event) for event in export.events],
        "bookings": [
            row(booking) | {"location": booking.location.name} for booking in export.bookings
        ],
        "referrals": [row(referral) for referral in export.referrals],
        "private_links": [row(link) for link in export.links],
        "emails_sent": [row(message) for message in export.emails],
        "emails_received": [row(mail) for mail in export.received],
        "access_log": [_access(entry) for entry in export.audit],
    }


def as_json(export: Export, now: datetime) -> str:
    """The export as a JSON document (UTF-8 text, names and text unescaped)."""
    return json.dumps(as_dict(export, now), ensure_ascii=False, indent=2, sort_keys=True)
