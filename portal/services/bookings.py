"""Booking, moving and cancelling consultation slots; reminders; proposals for staff.

One slot is never given to two people: the partial unique index ``uq_booking_active_slot``
refuses a second active booking of the same location and start, whatever the concurrency.
A refused insert rolls back to a savepoint and surfaces as :class:`SlotTaken`, so the
caller can show the next free slots; nothing of the failed attempt stays behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import Booking, ConsultationLocation, HelpRequest, RequestDraft, RequestEvent
from . import choices
from .drafts import PersonAnswers
from .errors import BookingClosed, DraftIncomplete, SlotTaken, SlotUnavailable, TooManyBookings
from .references import next_reference
from .requests import BERLIN, OPEN_STATUSES, respond_by
from .slots import Policy, Slot, check_slot, free_slots, location_by_code, parse_slot_key
from .tokens import derived_token, hash_token, new_token
from .towns import town_by_slug

# The location a request's contact method asks for (an office's code otherwise).
CONTACT_TO_LOCATION = {"callback": "phone", "home_visit": "home"}
CONTACT_METHOD = {"phone": "callback", "home_visit": "home_visit"}


@dataclass(frozen=True)
class Booked:
    """A booking just made: its row, the one-time private token, and what was created."""

    booking: Booking
    token: str | None
    created: bool
    request_created: bool = False


@dataclass(frozen=True)
class BookingAnswers(PersonAnswers):
    """The answers of a booking draft; an answer not given yet is empty.

    ``request_id`` names the open request a booking joins; ``ask_contact`` says that the
    contact details and the person concerned were not copied from it and are asked again.
    ``taken_slot`` and ``slot_problem`` remember a slot lost just before booking.
    """

    request_id: int | None = None
    ask_contact: bool = False
    location: str = ""
    location_kind: str = ""
    slot: str = ""
    slot_minutes: int | None = None
    taken_slot: str = ""
    slot_problem: str = ""
    topic: str = ""
    note: str = ""

    @property
    def fresh(self) -> bool:
        """Whether the booking was started on its own (not from an existing request)."""
        return not self.request_id

    def first_missing(self) -> str | None:
        """The first answer a booking still needs, in the order asked; ``None`` when complete."""
        missing = self.first_empty(("who", "town", "location", "slot", "topic", "name"))
        if missing := missing or self.missing_person():
            return missing
        if not (self.phone or self.email):
            return "phone"
        if self.location_kind == "phone" and not self.phone:
            return "phone"
        if self.location_kind == "home_visit" and not self.street:
            return "street"
        return None


def answers_from_request(
    session: Session, found: HelpRequest, with_contact: bool
) -> BookingAnswers:
    """What a booking joining the open request ``found`` already knows.

    Contact details and the name of the person concerned are copied only for the browser
    that has just sent the request; whoever opens a status link (a forwarded email, a
    shared computer) is asked again, as the status page itself shows none of them.
    """
    contact: dict[str, Any] = {"ask_contact": True}
    if with_contact:
        contact = {
            "name": found.requester_name,
            "phone": found.phone,
            "email": found.email,
            "street": found.street,
            "postcode": found.postcode,
            "city": found.city,
        }
        if found.on_behalf:
            contact.update(
                subject_name=found.subject_name,
                relationship=found.relationship_kind,
                authority=found.authority,
            )
    topic = found.topics[0] if found.topics and found.topics[0] in choices.TOPICS else ""
    location = location_by_code(
        session,
        CONTACT_TO_LOCATION.get(found.contact_method, choices.office_code(found.contact_method)),
    )
    return BookingAnswers.from_dict(
        {
            "request_id": found.id,
            "who": "other" if found.on_behalf else "me",
            "town": found.town.slug,
            "topic": topic,
            "location": location.code if location else "",
            "location_kind": location.kind if location else "",
            **contact,
        }
    )


def contact_method(location: ConsultationLocation) -> str:
    """The request's contact method that matches a location."""
    return CONTACT_METHOD.get(location.kind, f"office_{location.code}")


def _new_request(
    session: Session,
    answers: BookingAnswers,
    location: ConsultationLocation,
    locale: str,
    now: datetime,
    response_days: int,
    privacy_version: str,
) -> HelpRequest:
    town = town_by_slug(session, answers.town)
    if town is None:
        raise DraftIncomplete("town")
    home = location.kind == "home_visit"
    method = contact_method(location)
    return HelpRequest(
        reference=next_reference(session, now.astimezone(BERLIN).year),
        town=town,
        received_at=now,
        respond_by=respond_by(now, "normal", response_days, response_days),
        locale=locale,
        **answers.person_columns(home),
        topics=[answers.topic],
        need_text=answers.note,
        urgency="normal",
        contact_method=method,
        language=locale if locale in choices.LANGUAGES else "de",
        requester_name=answers.name,
        status_token_hash=hash_token(new_token()),
        consented_at=now,
        consent_purpose="booking",
        privacy_version=privacy_version,
    )


def _joinable(session: Session, answers: BookingAnswers) -> HelpRequest | None:
    request_id = answers.request_id
    if not isinstance(request_id, int):
        return None
    found = session.get(HelpRequest, request_id)
    if found is None or found.status not in OPEN_STATUSES or found.anonymised_at is not None:
        return None
    return found


def _booking_from(
    answers: BookingAnswers,
    slot: Slot,
    location: ConsultationLocation,
    locale: str,
    now: datetime,
) -> Booking:
    home = location.kind == "home_visit"
    return Booking(
        uid=f"{uuid4().hex}",
        sequence=0,
        location_id=location.id,
        location=location,
        slot_start=slot.start,
        slot_end=slot.end,
        status="active",
        locale=locale,
        **answers.person_columns(home),
        topic=answers.topic,
        note=answers.note,
        booker_name=answers.name,
        created_at=now,
    )


def manage_token_of_draft(secret: str, draft_key: str) -> str:
    """The private manage link's token of the booking a draft becomes, derived from the
    draft's key (see :func:`.requests.status_token_of_draft`): a booker whose confirmation
    never arrived books again and is shown the same link, while it still opens the booking."""
    return derived_token(secret, "booking-manage", draft_key)


def booked_from(session: Session, draft: RequestDraft) -> Booking | None:
    """The booking a draft was already turned into, if any (the latest row of its uid)."""
    first = session.scalar(select(Booking).where(Booking.draft_key_hash == draft.key_hash))
    return current_booking(session, first.uid) if first else None


def book_draft(
    session: Session,
    draft: RequestDraft,
    locale: str,
    policy: Policy,
    response_days: int,
    now: datetime,
    privacy_version: str = "",
    contact_limit: int | None = None,
    token: str | None = None,
) -> Booked:
    """Turn a complete booking draft into a booking, once.

    ``token`` is the private manage link's token (:func:`manage_token_of_draft` for a
    browser's draft); a new random one without it.

    The consent given on the check page is recorded on the booking (and on a request it
    creates) with the time and ``privacy_version`` of the privacy notice agreed to.

    Raises :class:`SlotUnavailable` (``past``, ``outside``, ``taken``, ``malformed``) when the
    chosen slot cannot be had, :class:`SlotTaken` when another booking won the race,
    :class:`DraftIncomplete` when an answer is missing, and :class:`TooManyBookings` when the
    booker's email address or phone number already holds ``contact_limit`` upcoming bookings.
    A second submit of the same draft returns the first booking with ``created=False``.
    """
    existing = booked_from(session, draft)
    if existing is not None:
        return Booked(existing, None, created=False)
    answers = BookingAnswers.from_dict(draft.answers)
    missing = answers.first_missing()
    if missing:
        raise DraftIncomplete(missing)
    location = location_by_code(session, answers.location)
    if location is None:
        raise DraftIncomplete("location")
    slot = check_slot(session, location, parse_slot_key(answers.slot), now, policy)
    token = token or new_token()
    booking = _booking_from(answers, slot, location, locale, now)
    if contact_limit is not None:
        held = upcoming_bookings_of_contact(session, booking.email, booking.phone, now)
        if held >= contact_limit:
            raise TooManyBookings(contact_limit)
    booking.token_hash = hash_token(token)
    booking.draft_key_hash = draft.key_hash
    booking.consented_at, booking.consent_purpose = now, "booking"
    booking.privacy_version = privacy_version
    joined = _joinable(session, answers)
    try:
        with session.begin_nested():
            request = joined or _new_request(
                session, answers, location, locale, now, response_days, privacy_version
            )
            _attach(request, booking, now)
            session.add(booking)
            session.flush()
    except IntegrityError:
        winner = booked_from(session, draft)
        if winner is not None:
            return Booked(winner, None, created=False)
        raise SlotTaken() from None
    draft.answers = {}
    return Booked(booking, token, created=True, request_created=joined is None)


def upcoming_bookings_of_contact(
    session: Session, email: str | None, phone: str | None, now: datetime
) -> int:
    """How many active bookings still ahead carry this email address or phone number.

    Looked up by the blind indexes (keyed hashes of the normalised address and number), so
    the encrypted contact columns are never searched: ``Anna@Example.org`` and
    ``+49 5246 12345`` find ``anna@example.org`` and ``05246 12345``.
    """
    same = []
    if email and email.strip():
        same.append(Booking.email_index == email)
    if phone and phone.strip():
        same.append(Booking.phone_index == phone)
    if not same:
        return 0
    count = session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(Booking.status == "active", Booking.slot_end > now, or_(*same))
    )
    return int(count or 0)


def _attach(request: HelpRequest, booking: Booking, now: datetime) -> None:
    booking.request = request
    request.events.append(RequestEvent(kind="booked", at=now))


def confirm_slot_for_request(
    session: Session,
    request: HelpRequest,
    location: ConsultationLocation,
    start: datetime,
    now: datetime,
    policy: Policy,
    privacy_version: str = "",
) -> Booked:
    """Book ``start`` at ``location`` for an existing request (the staff area calls this).

    The booking takes the request's contact details and language; the returned token is
    for the confirmation email with the private link.
    """
    if request.status not in OPEN_STATUSES or request.anonymised_at is not None:
        raise BookingClosed()
    slot = check_slot(session, location, start, now, policy)
    answers = BookingAnswers(
        who="other" if request.on_behalf else "me",
        relationship=request.relationship_kind,
        subject_name=request.subject_name,
        authority=request.authority,
        topic=request.topics[0] if request.topics else "other",
        name=request.requester_name,
        phone=request.phone,
        email=request.email,
        street=request.street,
        postcode=request.postcode,
        city=request.city,
    )
    token = new_token()
    booking = _booking_from(answers, slot, location, request.locale, now)
    booking.token_hash = hash_token(token)
    booking.consent_purpose = "staff"
    booking.privacy_version = privacy_version
    try:
        with session.begin_nested():
            _attach(request, booking, now)
            session.add(booking)
            session.flush()
    except IntegrityError:
        raise SlotTaken() from None
    return Booked(booking, token, created=True)


def propose_slots(
    session: Session,
    location: ConsultationLocation,
    now: datetime,
    policy: Policy,
    limit: int = 3,
    not_before: datetime | None = None,
) -> list[Slot]:
    """Free slots staff can offer for a request, the earliest first."""
    slots = free_slots(session, location, now, policy)
    if not_before is not None:
        slots = [slot for slot in slots if slot.start >= not_before]
    return slots[:limit]


def _ensure_changeable(booking: Booking, now: datetime) -> None:
    if booking.status != "active" or booking.slot_start <= now:
        raise BookingClosed()


def move_booking(
    session: Session, booking: Booking, new_start: datetime, now: datetime, policy: Policy
) -> Booking:
    """Move an active booking to another free slot of its location, atomically.

    The old row becomes ``moved`` and a new active row takes its place in one savepoint:
    if the new slot was taken meanwhile, everything rolls back and the old slot stays held.
    """
    _ensure_changeable(booking, now)
    if new_start == booking.slot_start:
        raise SlotUnavailable("same")
    slot = check_slot(session, booking.location, new_start, now, policy)
    try:
        with session.begin_nested():
            token_hash = booking.token_hash
            booking.status = "moved"
            booking.token_hash = None
            session.flush()  # free the token hash before the new row claims it
            moved = Booking(
                uid=booking.uid,
                sequence=booking.sequence + 1,
                request_id=booking.request_id,
                location_id=booking.location_id,
                location=booking.location,
                slot_start=slot.start,
                slot_end=slot.end,
                status="active",
                token_hash=token_hash,
                replaces_id=booking.id,
                created_at=now,
                **{name: getattr(booking, name) for name in _CARRIED_ON_MOVE},
            )
            session.add(moved)
            booking.request.events.append(RequestEvent(kind="booking_moved", at=now))
            session.flush()
    except IntegrityError:
        raise SlotTaken() from None
    return moved


_CARRIED_ON_MOVE = (
    "locale",
    "on_behalf",
    "relationship_kind",
    "subject_name",
    "authority",
    "topic",
    "note",
    "booker_name",
    "phone",
    "email",
    "street",
    "postcode",
    "city",
    # What the booker agreed to, and when, stays with the appointment when it moves.
    "consented_at",
    "consent_purpose",
    "privacy_version",
)


def cancel_booking(session: Session, booking: Booking, now: datetime) -> None:
    """Cancel an active, future booking; its slot is free again at once."""
    _ensure_changeable(booking, now)
    booking.status = "cancelled"
    booking.cancelled_at = now
    request = booking.request
    request.events.append(RequestEvent(kind="booking_cancelled", at=now))
    session.flush()


def booking_by_token(session: Session, token: str) -> Booking | None:
    """The booking a private link points to, if any."""
    if not token or len(token) > 100:
        return None
    return session.scalar(select(Booking).where(Booking.token_hash == hash_token(token)))


def booking_link_expired(booking: Booking, now: datetime, days: int) -> bool:
    """Whether a booking's private link has stopped working: ``days`` after the appointment."""
    return now - booking.slot_end > timedelta(days=days)


def current_booking(session: Session, uid: str) -> Booking | None:
    """The latest row of a booking (after moves), by its calendar UID."""
    if not uid or len(uid) > 80:
        return None
    return session.scalar(
        select(Booking).where(Booking.uid == uid).order_by(Booking.sequence.desc()).limit(1)
    )


def claim_reminders(session: Session, now: datetime) -> list[Booking]:
    """Mark the active bookings of tomorrow (Berlin) that had no reminder yet, and return them.

    Each row is claimed with a conditional update, so two runs at the same time (two
    processes, or a run repeated by hand) remind each booking once.
    """
    tomorrow = now.astimezone(BERLIN).date() + timedelta(days=1)
    lower = datetime.combine(tomorrow, time(0), tzinfo=BERLIN)
    upper = datetime.combine(tomorrow + timedelta(days=1), time(0), tzinfo=BERLIN)
    candidates = session.scalars(
        select(Booking.id).where(
            Booking.status == "active",
            Booking.reminder_queued_at.is_(None),
            Booking.slot_start >= max(lower, now),
            Booking.slot_start < upper,
        )
    ).all()
    claimed: list[Booking] = []
    for booking_id in candidates:
        result = session.execute(
            update(Booking)
            .where(
                Booking.id == booking_id,
                Booking.reminder_queued_at.is_(None),
                Booking.status == "active",
            )
            .values(reminder_queued_at=now)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(session.get_one(Booking, booking_id))
    return claimed


def history(session: Session, uid: str) -> list[Booking]:
    """Every row of a booking, oldest first (the original and each move)."""
    return list(
        session.scalars(select(Booking).where(Booking.uid == uid).order_by(Booking.sequence))
    )


def cancel_active(session: Session, request: HelpRequest, now: datetime) -> list[Booking]:
    """Cancel every future active booking of ``request`` (it was withdrawn or closed)."""
    found = list(
        session.scalars(
            select(Booking).where(
                Booking.request_id == request.id,
                Booking.status == "active",
                Booking.slot_start > now,
            )
        )
    )
    for booking in found:
        cancel_booking(session, booking, now)
    return found


def renew_token(booking: Booking) -> str:
    """A new private link for a booking (staff moved it: the email carries the new link)."""
    token = new_token()
    booking.token_hash = hash_token(token)
    return token


def booking_of(session: Session, request: HelpRequest, booking_id: int) -> Booking | None:
    """Booking ``booking_id`` if it belongs to ``request``."""
    found = session.get(Booking, booking_id)
    return found if found is not None and found.request_id == request.id else None


def made_its_request(session: Session, booking: Booking) -> bool:
    """Whether booking ``booking`` created its request (nobody sent a request before it).

    Then the private link of the booking is the booker's only way in, and they may erase
    the request with it; a booking that joined an existing request may not.
    """
    request = booking.request
    if request.channel != "online" or any(event.kind == "submitted" for event in request.events):
        return False
    uids = set(session.scalars(select(Booking.uid).where(Booking.request_id == request.id)))
    return uids == {booking.uid}
