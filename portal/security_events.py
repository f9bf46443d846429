"""Write to the security event log from a web request (the rules live in the service)."""

from __future__ import annotations

import hashlib
import logging

from flask import current_app, has_request_context, request
from sqlalchemy.exc import SQLAlchemyError

from . import db
from .db import get_db
from .services import security_log

log = logging.getLogger("portal.security")


def _hash_key() -> bytes:
    """The key for hashing typed account names, derived from the secret key."""
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hashlib.sha256(b"portal security log\x00" + secret).digest()


def security_event(
    kind: str,
    staff_id: int | None = None,
    typed_account: str = "",
    detail: str = "",
    own_transaction: bool = False,
) -> None:
    """Record a security event of the current request.

    By default the event joins the request's transaction and the view commits it with the
    rest. Error handlers (a refused CSRF token, a rate limit) pass ``own_transaction`` so
    the event is committed at once, even though the request itself fails.
    ``typed_account`` (an email typed at sign-in) is only ever stored as a keyed hash.
    """
    address = (request.remote_addr or "") if has_request_context() else ""
    subject = security_log.subject_hash(_hash_key(), typed_account) if typed_account else ""
    if own_transaction:
        try:
            with get_db(current_app).session() as session:
                security_log.record(session, kind, staff_id, subject, address, detail)
        except SQLAlchemyError:  # the error page the visitor waits for matters more
            log.exception("security event %s not recorded", kind)
        return
    security_log.record(db.session(), kind, staff_id, subject, address, detail)
