"""SQLAlchemy models, one module per area."""

from .base import Base, utcnow
from .outbox import OutboxMessage
from .request import REQUEST_STATUSES, HelpRequest, ReferenceCounter, RequestDraft, RequestEvent
from .staff import ROLES, AuditEntry, StaffSession, StaffUser
from .town import Town

__all__ = [
    "REQUEST_STATUSES",
    "ROLES",
    "AuditEntry",
    "Base",
    "HelpRequest",
    "OutboxMessage",
    "ReferenceCounter",
    "RequestDraft",
    "RequestEvent",
    "StaffSession",
    "StaffUser",
    "Town",
    "utcnow",
]
