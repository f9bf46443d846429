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
from .figures import FIGURE_MEASURES, FigureCount
from .mailbox import INBOUND_KINDS, DigestRun, InboundMail
from .outbox import OutboxMessage
from .request import (
    CHANNELS,
    OUTCOMES,
    REQUEST_STATUSES,
    WAITING_FOR,
    HelpRequest,
    ReferenceCounter,
    Referral,
    RequestDraft,
    RequestEvent,
    ResidentLink,
)
from .staff import ROLES, AuditEntry, StaffSession, StaffUser
from .town import Town

__all__ = [
    "BOOKING_STATUSES",
    "CHANNELS",
    "FIGURE_MEASURES",
    "INBOUND_KINDS",
    "LOCATION_KINDS",
    "OUTCOMES",
    "REQUEST_STATUSES",
    "ROLES",
    "WAITING_FOR",
    "AuditEntry",
    "Base",
    "Booking",
    "ConsultationClosure",
    "ConsultationLocation",
    "ConsultationRule",
    "DigestRun",
    "FigureCount",
    "HelpRequest",
    "InboundMail",
    "Location",
    "LocationText",
    "Organization",
    "OrganizationText",
    "OutboxMessage",
    "Phone",
    "ReferenceCounter",
    "Referral",
    "RequestDraft",
    "RequestEvent",
    "ResidentLink",
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
