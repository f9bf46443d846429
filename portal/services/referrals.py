"""Warm referrals: a request handed on to another office, with consent and a follow-up."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (
    HelpRequest,
    Organization,
    OrganizationText,
    Referral,
    RequestEvent,
    StaffUser,
)
from .errors import NotPermitted, RequestClosed


def refer(
    session: Session,
    request: HelpRequest,
    actor: StaffUser,
    office_name: str,
    passed_on: str,
    consent: str,
    follow_up_on: date,
    now: datetime,
    organization: Organization | None = None,
) -> Referral:
    """Record that the request was handed on; it stays open until staff mark it accepted."""
    if request.anonymised_at is not None:
        raise RequestClosed()
    if consent not in ("consent", "legal") or follow_up_on < now.date():
        raise NotPermitted()
    referral = Referral(
        request_id=request.id,
        organization_id=organization.id if organization else None,
        office_name=office_name,
        passed_on=passed_on,
        consent=consent,
        follow_up_on=follow_up_on,
        created_at=now,
        created_by_id=actor.id,
    )
    session.add(referral)
    request.events.append(
        RequestEvent(
            kind="referral",
            at=now,
            staff_id=actor.id,
            text=passed_on,
            data={"office": office_name, "consent": consent},
        )
    )
    session.flush()
    return referral


def accept(session: Session, referral: Referral, actor: StaffUser, now: datetime) -> None:
    """The other office has taken the person on: the referral is no longer followed up."""
    if referral.status != "open":
        return
    referral.status = "accepted"
    referral.accepted_at = now
    referral.request.events.append(
        RequestEvent(
            kind="referral_accepted",
            at=now,
            staff_id=actor.id,
            data={"office": referral.office_name},
        )
    )
    session.flush()


def for_request(session: Session, request_id: int) -> list[Referral]:
    """A request's referrals, oldest first."""
    return list(
        session.scalars(
            select(Referral).where(Referral.request_id == request_id).order_by(Referral.created_at)
        )
    )


def referral_of(session: Session, request_id: int, referral_id: int) -> Referral | None:
    """The referral ``referral_id`` if it belongs to the request."""
    found = session.get(Referral, referral_id)
    return found if found is not None and found.request_id == request_id else None


def open_referrals(
    session: Session, town_ids: list[int] | None, due_by: date | None = None
) -> list[Referral]:
    """Referrals not yet accepted, the earliest follow-up first; optionally only those due."""
    query = (
        select(Referral)
        .join(HelpRequest, HelpRequest.id == Referral.request_id)
        .where(Referral.status == "open")
        .order_by(Referral.follow_up_on, Referral.id)
    )
    if town_ids is not None:
        query = query.where(HelpRequest.town_id.in_(town_ids))
    if due_by is not None:
        query = query.where(Referral.follow_up_on <= due_by)
    return list(session.scalars(query))


def organizations(session: Session) -> list[tuple[str, str]]:
    """The catalogue's organisations as (id, German name), by name, for the referral form."""
    rows = session.execute(
        select(OrganizationText.organization_id, OrganizationText.name)
        .where(OrganizationText.lang == "de")
        .order_by(OrganizationText.name)
    )
    return [(str(org_id), str(name)) for org_id, name in rows]
