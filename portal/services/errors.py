"""Typed domain exceptions; views turn them into translated messages."""


class DomainError(Exception):
    """Base class of every rule the portal refuses to break."""


class DraftExpired(DomainError):
    """The unfinished request is gone (too old, already sent, or never existed)."""


class DraftIncomplete(DomainError):
    """A required answer is missing; ``answer`` names it (the flow knows which page asks)."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


class RequestClosed(DomainError):
    """The request can no longer be changed (withdrawn, closed or anonymised)."""


class TooManyAttempts(DomainError):
    """Too many failed sign-ins for this account in the last hour."""


class InvalidCredentials(DomainError):
    """Wrong email, password or one-time code."""


class WeakPassword(DomainError):
    """The password is too short, too long or too common; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SlotUnavailable(DomainError):
    """A slot cannot be booked; ``reason`` is ``malformed``, ``past``, ``outside`` or ``taken``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SlotTaken(SlotUnavailable):
    """Someone else booked the slot a moment earlier (the database refused the second)."""

    def __init__(self) -> None:
        super().__init__("taken")


class TooManyBookings(DomainError):
    """The booker's email address or phone number already holds ``limit`` upcoming bookings."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class BookingClosed(DomainError):
    """The booking can no longer be moved or cancelled (cancelled, moved or already past)."""


class AlreadyTaken(DomainError):
    """A colleague took the request first; ``by`` names them."""

    def __init__(self, by: str) -> None:
        super().__init__(by)
        self.by = by


class NotPermitted(DomainError):
    """This step is not open to this colleague or not possible in the request's state."""


class NoEmailAddress(DomainError):
    """The resident gave no email address: only a call or a letter reaches them."""


class CertificateRefused(DomainError):
    """An S/MIME certificate cannot be used; ``reason`` is a code such as ``expired``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AlreadyResolved(DomainError):
    """A received message was filed or set aside already."""


class StaleEdit(DomainError):
    """Someone else changed the record since the form was opened; nothing was saved."""


class TownTaken(DomainError):
    """Another town already has this short name or this name."""


class LastAdministrator(DomainError):
    """The change would leave no active administrator who could run the accounts."""


class TownNeeded(DomainError):
    """A caseworker reads only their towns' requests, so they need at least one town."""


class ActivationInvalid(DomainError):
    """The activation link is unknown, expired, already used or replaced by a newer one."""


class AccountExists(DomainError):
    """An account with this email address exists already."""
