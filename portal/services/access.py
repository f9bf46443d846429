"""Who may do what in the staff area: roles, permissions and towns."""

from __future__ import annotations

from ..models import HelpRequest, StaffUser

# Each permission and the roles that hold it. Administrators run accounts and settings and
# catalogue editors the catalogue: neither reads requests (least privilege, SGB X).
PERMISSIONS: dict[str, frozenset[str]] = {
    "signed_in": frozenset({"caseworker", "coordinator", "editor", "admin"}),
    "requests": frozenset({"caseworker", "coordinator"}),
    "mailbox": frozenset({"coordinator"}),
    "audit": frozenset({"coordinator", "admin"}),
    "towns": frozenset({"admin"}),
    "hours": frozenset({"coordinator", "admin"}),
    "figures": frozenset({"coordinator", "admin"}),
    "catalogue": frozenset({"editor"}),
    "accounts": frozenset({"admin"}),
    "security_log": frozenset({"admin"}),
}


def may(user: StaffUser, permission: str) -> bool:
    """Whether ``user``'s role holds ``permission``."""
    return user.active and user.role in PERMISSIONS[permission]


def may_read(user: StaffUser, request: HelpRequest) -> bool:
    """Whether ``user`` may read and work on ``request``: caseworkers only their own town's."""
    return may(user, "requests") and user.may_read_town(request.town_id)


def readable_town_ids(user: StaffUser) -> list[int] | None:
    """The towns whose requests ``user`` may list; ``None`` means every town."""
    if not may(user, "requests"):
        return []
    if user.role == "coordinator":
        return None
    return sorted(user.town_ids) if user.role == "caseworker" else []
