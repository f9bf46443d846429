"""The audit log: every staff access to a request, without its content."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AuditEntry, utcnow


def record(session: Session, staff_id: int | None, action: str, request_id: int | None) -> None:
    """Write one audit entry in the caller's transaction."""
    session.add(AuditEntry(staff_id=staff_id, action=action, request_id=request_id, at=utcnow()))


def entries_for_request(session: Session, request_id: int) -> list[AuditEntry]:
    """The audit trail of one request, oldest first."""
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.request_id == request_id).order_by(AuditEntry.at)
        )
    )
