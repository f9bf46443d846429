"""The audit log: every staff view, change, message and sign-in, without content."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AuditEntry, HelpRequest, StaffUser, utcnow


def record(
    session: Session,
    staff_id: int | None,
    action: str,
    request: HelpRequest | int | None = None,
    detail: str = "",
    address: str = "",
) -> None:
    """Write one audit entry in the caller's transaction.

    The author's name is copied into the entry, so it still says who did it once the
    account is deleted.
    """
    author = session.get(StaffUser, staff_id) if staff_id is not None else None
    if isinstance(request, HelpRequest):
        request_id: int | None = request.id
        reference = request.reference
    else:
        request_id, reference = request, ""
    session.add(
        AuditEntry(
            staff_id=staff_id,
            staff_label=author.shown_name[:254] if author is not None else "",
            action=action,
            request_id=request_id,
            reference=reference,
            detail=detail[:200],
            address=address[:45],
            at=utcnow(),
        )
    )


def entries_for_request(session: Session, request_id: int) -> list[AuditEntry]:
    """The audit trail of one request, oldest first."""
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.request_id == request_id).order_by(AuditEntry.at)
        )
    )


def latest(
    session: Session,
    reference: str = "",
    staff_id: int | None = None,
    action: str = "",
    limit: int = 200,
) -> list[AuditEntry]:
    """The most recent entries of the whole log, optionally for one request or colleague."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if reference:
        query = query.where(AuditEntry.reference == reference)
    if staff_id is not None:
        query = query.where(AuditEntry.staff_id == staff_id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(session.scalars(query))
