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
from .catalogue import (
    Location,
    LocationText,
    Organization,
    OrganizationText,
    Phone,
    Schedule,
    SearchDocument,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceLanguage,
    ServiceText,
    ServiceTopic,
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
    "Location",
    "LocationText",
    "Organization",
    "OrganizationText",
    "OutboxMessage",
    "Phone",
    "ReferenceCounter",
    "RequestDraft",
    "RequestEvent",
    "Schedule",
    "SearchDocument",
    "Service",
    "ServiceArea",
    "ServiceAtLocation",
    "ServiceLanguage",
    "ServiceText",
    "ServiceTopic",
    "StaffSession",
    "StaffUser",
    "Town",
    "utcnow",
]
