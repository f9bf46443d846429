"""The daily retention purge, as the command line and the delivery worker run it."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from flask import Flask

from .config import settings_of
from .db import get_db
from .models import utcnow
from .services import retention, security_log


def periods(app: Flask) -> retention.Periods:
    """The retention periods configured for ``app``."""
    settings = settings_of(app)
    return retention.Periods.from_settings(settings)


def purge(app: Flask, now: datetime | None = None) -> retention.PurgeResult:
    """Apply every retention period once, the security log's included, in one transaction."""
    settings = settings_of(app)
    now = now or utcnow()
    with get_db(app).session() as session:
        result = retention.purge(session, periods(app), now)
        events = security_log.purge(session, now, settings.security_log_days)
        return dataclasses.replace(result, security_events=events)
