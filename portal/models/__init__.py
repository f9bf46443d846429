"""SQLAlchemy models, one module per area."""

from .base import Base, utcnow
from .booking import (
    BOOKING_STATUSES,
    LOCATION_KINDS,
    Booking,
    ConsultationClosure,
    ConsultationLocation,
    ConsultationRule,
)
from .outbox import OutboxMessage
from .request import REQUEST_STATUSES, HelpRequest, ReferenceCounter, RequestDraft, RequestEvent
from .staff import ROLES, AuditEntry, StaffSession, StaffUser
from .town import Town

__all__ = [
    "BOOKING_STATUSES",
    "LOCATION_KINDS",
    "REQUEST_STATUSES",
    "ROLES",
    "AuditEntry",
    "Base",
    "Booking",
    "ConsultationClosure",
    "ConsultationLocation",
    "ConsultationRule",
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
