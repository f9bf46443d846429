"""Submitting, reading and changing help requests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..models import HelpRequest, RequestDraft, RequestEvent, Town, utcnow
from ..models.encrypted import without_content
from ..models.request import OPEN_STATUSES
from . import choices
from .drafts import PersonAnswers
from .errors import DraftIncomplete, RequestClosed
from .references import next_reference
from .tokens import derived_token, hash_token, new_token
from .workdays import add_working_days

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class RequestAnswers(PersonAnswers):
    """The answers of a help request draft; an answer not given yet is empty.

    ``contact_days`` is ``None`` until asked: no day at all is a valid answer.
    """

    topics: tuple[str, ...] = ()
    catalogue_service: str | None = None
    need: str = ""
    urgency: str = ""
    contact_method: str = ""
    contact_days: tuple[str, ...] | None = None
    contact_times: tuple[str, ...] = ()
    language: str = ""
    interpreter: str = ""
    accessibility: tuple[str, ...] = ()
    accessibility_note: str = ""

    @property
    def home_visit(self) -> bool:
        """Whether the Soziales Duo is to visit (and so needs the address)."""
        return self.contact_method == "home_visit"

    def first_missing(self) -> str | None:
        """The first answer a request still needs, in the order asked; ``None`` when complete."""
        missing = self.first_empty(("who", "town", "topics", "need", "urgency", "contact_method"))
        if missing:
            return missing
        if self.contact_days is None:
            return "contact_days"
        if not self.language:
            return "language"
        if not (self.phone or self.email):
            return "phone"
        if missing := self.missing_person():
            return missing
        if self.home_visit and not self.street:
            return "street"
        if self.contact_method == "callback" and not self.phone:
            return "phone"  # a call back needs a number (the contact was changed afterwards)
        return None


def opening_topics(topic: str) -> list[str]:
    """The topics a request starts with when it is begun from a topic's page."""
    return [topic] if topic in choices.TOPICS else []


def merged_topics(topics: Sequence[str], added: Sequence[str]) -> list[str]:
    """``topics`` followed by those of ``added`` not among them yet."""
    return [*topics, *(topic for topic in added if topic not in topics)]


@dataclass(frozen=True)
class Submission:
    """What a successful submission returns: the request and its one-time status token."""

    request: HelpRequest
    status_token: str | None
    created: bool


def respond_by(received_at: datetime, urgency: str, normal_days: int, urgent_days: int) -> Any:
    """The working day by which the Soziales Duo promises to answer."""
    local_day = received_at.astimezone(BERLIN).date()
    days = urgent_days if urgency == "urgent" else normal_days
    return add_working_days(local_day, days)


def submit_draft(
    session: Session,
    draft: RequestDraft,
    locale: str,
    response_days: int,
    urgent_response_days: int,
    privacy_version: str = "",
    status_token: str = "",
) -> Submission:
    """Turn a complete draft into a request, once; a second submit returns the first request.

    The consent given on the check page is recorded with the time and ``privacy_version``,
    the version of the privacy notice the requester agreed to. ``status_token`` is the
    private link's token (a new random one when empty).

    The draft's key hash is unique on ``help_request``, so two submissions of one draft that
    race each other cannot both insert: the loser finds the winner's request.
    """
    existing = submitted_from(session, draft)
    if existing is not None:
        return Submission(existing, None, created=False)
    answers = RequestAnswers.from_dict(draft.answers)
    missing = answers.first_missing()
    if missing:
        raise DraftIncomplete(missing)
    town = session.scalar(select(Town).where(Town.slug == answers.town))
    if town is None:
        raise DraftIncomplete("town")
    now = utcnow()
    token = status_token or new_token()
    home = answers.home_visit
    request = HelpRequest(
        reference=next_reference(session, now.astimezone(BERLIN).year),
        town=town,
        received_at=now,
        respond_by=respond_by(now, answers.urgency, response_days, urgent_response_days),
        locale=locale,
        **answers.person_columns(home),
        topics=list(answers.topics),
        catalogue_service_id=answers.catalogue_service,
        need_text=answers.need,
        urgency=answers.urgency,
        contact_method=answers.contact_method,
        contact_days=list(answers.contact_days or ()),
        contact_times=list(answers.contact_times),
        language=answers.language,
        interpreter=answers.interpreter == "yes",
        accessibility=list(answers.accessibility),
        accessibility_note=answers.accessibility_note,
        requester_name=answers.name,
        status_token_hash=hash_token(token),
        draft_key_hash=draft.key_hash,
        consented_at=now,
        consent_purpose="request",
        privacy_version=privacy_version,
    )
    request.events.append(RequestEvent(kind="submitted", at=now))
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError:
        winner = session.scalar(
            select(HelpRequest).where(HelpRequest.draft_key_hash == draft.key_hash)
        )
        if winner is None:
            raise
        return Submission(winner, None, created=False)
    # The draft stays (empty) until it expires, so a repeated submit finds this request.
    draft.answers = {}
    return Submission(request, token, created=True)


def submitted_from(session: Session, draft: RequestDraft) -> HelpRequest | None:
    """The request a draft was already turned into, if any."""
    return session.scalar(select(HelpRequest).where(HelpRequest.draft_key_hash == draft.key_hash))


def request_by_id(session: Session, request_id: int) -> HelpRequest | None:
    """The request with the primary key ``request_id``, if any."""
    return session.get(HelpRequest, request_id)


def status_token_of_draft(secret: str, draft_key: str) -> str:
    """The private link's token of the request a draft becomes, derived from the draft's key.

    Only the browser holding the draft knows its key, and it gets the same link each time it
    asks: a resident whose confirmation never arrived (the app server died after storing the
    request) is shown the same link when sending again, and nothing extra is stored.
    """
    return derived_token(secret, "request-status", draft_key)


def request_by_status_token(session: Session, token: str) -> HelpRequest | None:
    """The request a private status link points to, if any (expired or not)."""
    if not token or len(token) > 100:
        return None
    return session.scalar(
        select(HelpRequest).where(HelpRequest.status_token_hash == hash_token(token))
    )


def status_link_expired(request: HelpRequest, now: datetime, days: int) -> bool:
    """Whether a request's status link has stopped working: ``days`` after it was closed."""
    return request.closed_at is not None and now - request.closed_at > timedelta(days=days)


def request_by_reference(session: Session, reference: str) -> HelpRequest | None:
    """The request with ``reference``, if any."""
    return session.scalar(select(HelpRequest).where(HelpRequest.reference == reference))


def resident_status(request: HelpRequest) -> str:
    """The part of the workflow the resident sees: received, being worked on, waiting for
    them, closed or withdrawn; never who works on it or what staff wait for elsewhere."""
    if request.status == "closed":
        return "withdrawn" if request.outcome == "withdrawn" else "closed"
    if request.status == "waiting":
        return "waiting_resident" if request.waiting_for == "resident" else "in_progress"
    return request.status


def _ensure_open(request: HelpRequest) -> None:
    if request.status not in OPEN_STATUSES or request.anonymised_at is not None:
        raise RequestClosed()


def add_information(session: Session, request: HelpRequest, text: str) -> RequestEvent:
    """Add the resident's further information to an open request's timeline."""
    _ensure_open(request)
    event = RequestEvent(kind="resident_added", text=text, at=utcnow())
    request.events.append(event)
    session.flush()
    return event


def withdraw(session: Session, request: HelpRequest) -> None:
    """Withdraw an open request at the resident's wish."""
    _ensure_open(request)
    now = utcnow()
    request.status = "closed"
    request.outcome = "withdrawn"
    request.waiting_for = ""
    request.closed_at = now
    request.events.append(RequestEvent(kind="withdrawn", at=now))
    session.flush()


@dataclass(frozen=True)
class InboxFilter:
    """What a staff inbox shows: towns (``None`` = every town) and optional filters."""

    town_ids: list[int] | None
    status: str = ""
    urgency: str = ""
    # "me", "nobody", or "" for anyone.
    assignee: str = ""
    staff_id: int | None = None


def filtered_inbox(session: Session, wanted: InboxFilter, limit: int = 200) -> list[HelpRequest]:
    """Requests matching ``wanted``, newest first; without a status, the open ones.

    The list shows no content, so nothing encrypted is loaded or decrypted for it.
    """
    query = (
        select(HelpRequest)
        .options(*without_content(HelpRequest))
        .order_by(HelpRequest.received_at.desc())
        .limit(limit)
    )
    if wanted.town_ids is not None:
        query = query.where(HelpRequest.town_id.in_(wanted.town_ids))
    if wanted.status:
        query = query.where(HelpRequest.status == wanted.status)
    else:
        query = query.where(HelpRequest.status.in_(OPEN_STATUSES))
    if wanted.urgency:
        query = query.where(HelpRequest.urgency == wanted.urgency)
    if wanted.assignee == "me":
        query = query.where(HelpRequest.assignee_id == wanted.staff_id)
    elif wanted.assignee == "nobody":
        query = query.where(HelpRequest.assignee_id.is_(None))
    return list(session.scalars(query))


@dataclass(frozen=True)
class StaffEntry:
    """A request that came by phone or at the counter, as a colleague typed it in."""

    channel: str
    town_slug: str
    topics: list[str]
    need: str
    urgency: str
    contact_method: str
    language: str
    interpreter: bool
    name: str
    phone: str
    email: str
    subject_name: str = ""
    relationship: str = ""
    authority: str = ""
    street: str = ""
    postcode: str = ""
    city: str = ""
    locale: str = "de"


def enter_for_resident(
    session: Session,
    entry: StaffEntry,
    actor_id: int,
    response_days: int,
    urgent_response_days: int,
    privacy_version: str = "",
) -> Submission:
    """Record a request taken on the phone or at the counter; the colleague works on it.

    No online consent exists: the purpose says a colleague entered it, under which version
    of the privacy notice (the one the colleague points the person to).
    """
    town = session.scalar(select(Town).where(Town.slug == entry.town_slug))
    if town is None:
        raise DraftIncomplete("town")
    now = utcnow()
    token = new_token()
    on_behalf = bool(entry.subject_name)
    request = HelpRequest(
        reference=next_reference(session, now.astimezone(BERLIN).year),
        town=town,
        received_at=now,
        respond_by=respond_by(now, entry.urgency, response_days, urgent_response_days),
        locale=entry.locale,
        on_behalf=on_behalf,
        relationship_kind=entry.relationship if on_behalf else "",
        subject_name=entry.subject_name,
        authority=entry.authority if on_behalf else "",
        topics=list(entry.topics),
        need_text=entry.need,
        urgency=entry.urgency,
        contact_method=entry.contact_method,
        language=entry.language,
        interpreter=entry.interpreter,
        requester_name=entry.name,
        phone=entry.phone,
        email=entry.email,
        street=entry.street if entry.contact_method == "home_visit" else "",
        postcode=entry.postcode if entry.contact_method == "home_visit" else "",
        city=entry.city if entry.contact_method == "home_visit" else "",
        status_token_hash=hash_token(token),
        channel=entry.channel,
        consent_purpose="staff",
        privacy_version=privacy_version,
        status="in_progress",
        assignee_id=actor_id,
    )
    request.events.append(
        RequestEvent(kind="entered", at=now, staff_id=actor_id, data={"channel": entry.channel})
    )
    session.add(request)
    session.flush()
    return Submission(request, token, created=True)


def reference_of(session: Session, request_id: int | None) -> str:
    """The reference of request ``request_id``, or an empty string."""
    if request_id is None:
        return ""
    return session.scalar(select(HelpRequest.reference).where(HelpRequest.id == request_id)) or ""
