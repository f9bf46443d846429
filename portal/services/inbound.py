"""Mail that comes back: replies thread onto requests, bounces mark the outbox, nothing answers.

Matching is strict: a reply is filed only when it names a request (by the portal's own
Message-IDs or an existing reference) and comes from someone who may write to it; a bounce
marks an outbox row only through a signed VERP address or the original Message-ID. Anything
else is kept, raw, for a coordinator to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Booking, HelpRequest, InboundMail, OutboxMessage, RequestEvent, StaffUser
from . import mailparse, verp
from .errors import AlreadyResolved

EVENT_KINDS = {"staff_reply": "staff_mail", "resident_reply": "resident_mail"}
FILED_EVENT = "filed_mail"


@dataclass(frozen=True)
class Identity:
    """How the portal recognises its own signed return paths."""

    inbound_address: str
    secret_key: str


@dataclass(frozen=True)
class Received:
    """The record of one received message; ``notify`` is a request whose inbox should hear of it."""

    mail: InboundMail
    duplicate: bool = False
    notify: HelpRequest | None = None


def receive(
    session: Session, raw: bytes, identity: Identity, now: datetime, recipient: str = ""
) -> Received:
    """Record one raw message and file it; a message seen before changes nothing."""
    message = mailparse.parse(raw)
    key = mailparse.dedupe_key(message, raw)
    existing = session.scalar(select(InboundMail).where(InboundMail.dedupe_key == key))
    if existing is not None:
        return Received(existing, duplicate=True)
    mail = InboundMail(
        dedupe_key=key,
        received_at=now,
        kind="unmatched",
        sender=mailparse.sender(message)[:254],
        subject=mailparse.header(message, "Subject")[:300],
    )
    session.add(mail)
    session.flush()
    notify = _classify(session, mail, message, raw, identity, recipient, now)
    return Received(mail, notify=notify)


def _classify(
    session: Session,
    mail: InboundMail,
    message: EmailMessage,
    raw: bytes,
    identity: Identity,
    recipient: str,
    now: datetime,
) -> HelpRequest | None:
    """Bounce first (reports often say ``Precedence: bulk``), then auto-reply, then reply."""
    verp_id = _verp_outbox_id(message, identity, recipient)
    if verp_id is not None or mailparse.looks_like_report(message):
        report = mailparse.bounce(message, raw)
        if report is not None:
            _record_bounce(session, mail, report, verp_id, now)
            return None
    if mailparse.is_auto_reply(message):
        request = _match_request(session, message)
        mail.kind = "auto_reply"
        mail.request_id = request.id if request else None
        mail.body_text = mailparse.reply_text(message)
        return None
    return _record_reply(session, mail, message, raw, now)


def _verp_outbox_id(message: EmailMessage, identity: Identity, recipient: str) -> int | None:
    """The outbox row named by a genuine VERP address among the envelope or header recipients."""
    if not identity.inbound_address:
        return None
    for address in [recipient, *mailparse.recipients(message)]:
        found = verp.outbox_id(address, identity.inbound_address, identity.secret_key)
        if address and found is not None:
            return found
    return None


def _record_bounce(
    session: Session,
    mail: InboundMail,
    report: mailparse.Bounce,
    verp_id: int | None,
    now: datetime,
) -> None:
    """Mark the bounced outbox row; a warning (delayed delivery) is recorded, not marked."""
    row = session.get(OutboxMessage, verp_id) if verp_id is not None else None
    if row is None and report.original_message_id:
        row = session.scalar(
            select(OutboxMessage).where(OutboxMessage.message_id == report.original_message_id)
        )
    mail.kind = "bounce"
    mail.body_text = report.reason
    if row is None:
        return
    mail.outbox_message_id = row.id
    mail.request_id = row.request_id
    if report.permanent:
        row.status = "bounced"
        row.bounced_at = now
        row.bounce_reason = report.reason[:300]


def _match_request(session: Session, message: EmailMessage) -> HelpRequest | None:
    """The request a message names: the portal's own Message-IDs first, then the subject."""
    request_id = _request_by_message_ids(session, mailparse.referenced_ids(message))
    request = session.get(HelpRequest, request_id) if request_id is not None else None
    if request is None:
        reference = mailparse.subject_reference(mailparse.header(message, "Subject"))
        if reference is not None:
            request = session.scalar(select(HelpRequest).where(HelpRequest.reference == reference))
    if request is None or request.anonymised_at is not None:
        return None
    return request


def _request_by_message_ids(session: Session, message_ids: list[str]) -> int | None:
    """The request of the first referenced Message-ID that the portal itself sent."""
    if not message_ids:
        return None
    rows = session.execute(
        select(OutboxMessage.message_id, OutboxMessage.request_id).where(
            OutboxMessage.message_id.in_(message_ids), OutboxMessage.request_id.is_not(None)
        )
    )
    by_id: dict[str, int | None] = {message_id: request_id for message_id, request_id in rows}
    return next((by_id[m] for m in message_ids if m in by_id), None)


def _record_reply(
    session: Session, mail: InboundMail, message: EmailMessage, raw: bytes, now: datetime
) -> HelpRequest | None:
    """File a reply from staff or the resident; keep anything else raw and unmatched."""
    mail.body_text = mailparse.reply_text(message)
    request = _match_request(session, message)
    kind = _writer_kind(session, mail, request) if request is not None else "unmatched"
    if request is None or kind == "unmatched":
        mail.raw = raw
        return None
    _file(session, mail, request, kind, now)
    return request if kind == "resident_reply" else None


def _writer_kind(session: Session, mail: InboundMail, request: HelpRequest) -> str:
    """``staff_reply``, ``resident_reply`` or ``unmatched`` by the From address; sets staff."""
    staff = _reading_staff(session, mail.sender, request)
    if staff is not None:
        mail.staff_id = staff.id
        return "staff_reply"
    if mail.sender and mail.sender in resident_addresses(session, request):
        return "resident_reply"
    return "unmatched"


def _reading_staff(session: Session, address: str, request: HelpRequest) -> StaffUser | None:
    """The active member of staff with this address who may read the request."""
    if not address:
        return None
    staff = session.scalar(
        select(StaffUser).where(func.lower(StaffUser.email) == address, StaffUser.active)
    )
    return staff if staff is not None and staff.may_read_town(request.town_id) else None


def resident_addresses(session: Session, request: HelpRequest) -> set[str]:
    """The request's own email address and those given for its bookings, lower-cased."""
    booked = session.scalars(
        select(Booking.email).where(Booking.request_id == request.id, Booking.email != "")
    )
    return {a.strip().lower() for a in [request.email, *booked] if a.strip()}


def _file(
    session: Session, mail: InboundMail, request: HelpRequest, kind: str, now: datetime
) -> RequestEvent:
    """Put a reply on the request's timeline; the resident sees their own messages."""
    mail.kind = kind
    staff_id = mail.staff_id if kind == "staff_reply" else None
    return _add_event(session, mail, request, EVENT_KINDS[kind], staff_id, now)


def _add_event(
    session: Session,
    mail: InboundMail,
    request: HelpRequest,
    event_kind: str,
    staff_id: int | None,
    now: datetime,
) -> RequestEvent:
    """The timeline entry for a message; only the resident's own mail is public."""
    mail.request_id = request.id
    mail.raw = None
    event = RequestEvent(
        request_id=request.id,
        at=now,
        kind=event_kind,
        text=mail.body_text,
        staff_id=staff_id,
        data={"inbound_mail_id": mail.id},
        public=event_kind == "resident_mail",
    )
    session.add(event)
    return event


def unmatched(session: Session, limit: int = 100) -> list[InboundMail]:
    """Messages nobody has filed or dismissed yet, newest first."""
    return list(
        session.scalars(
            select(InboundMail)
            .where(InboundMail.kind == "unmatched", InboundMail.resolved_at.is_(None))
            .order_by(InboundMail.received_at.desc(), InboundMail.id.desc())
            .limit(limit)
        )
    )


def attach(
    session: Session, mail: InboundMail, request: HelpRequest, staff: StaffUser, now: datetime
) -> RequestEvent:
    """A coordinator files an unmatched message on ``request``; its raw form is dropped."""
    if mail.resolved_at is not None or mail.kind != "unmatched":
        raise AlreadyResolved()
    kind = _writer_kind(session, mail, request)
    if kind == "unmatched":
        event = _add_event(session, mail, request, FILED_EVENT, staff.id, now)
    else:
        event = _file(session, mail, request, kind, now)
    mail.resolved_at = now
    mail.resolved_by_id = staff.id
    session.flush()
    return event


def dismiss(session: Session, mail: InboundMail, staff: StaffUser, now: datetime) -> None:
    """A coordinator sets a message aside; its raw form is dropped."""
    mail.resolved_at = now
    mail.resolved_by_id = staff.id
    mail.raw = None


def bounced_messages(session: Session, since: datetime | None = None) -> list[OutboxMessage]:
    """Outbox messages that came back undeliverable, newest first (for the digest and page)."""
    query = select(OutboxMessage).where(OutboxMessage.status == "bounced")
    if since is not None:
        query = query.where(OutboxMessage.bounced_at >= since)
    return list(session.scalars(query.order_by(OutboxMessage.bounced_at.desc())))


def mail_by_id(session: Session, mail_id: int) -> InboundMail | None:
    """The received message ``mail_id``, if any."""
    return session.get(InboundMail, mail_id)
