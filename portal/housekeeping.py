"""The daily retention purge, as the command line and the delivery worker run it."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from .config import Settings
from .db import get_db
from .services import retention


def periods(app: Flask) -> retention.Periods:
    """The retention periods configured for ``app``."""
    settings: Settings = app.extensions["portal.settings"]
    return retention.Periods.from_settings(settings)


def purge(app: Flask, now: datetime | None = None) -> retention.PurgeResult:
    """Apply every retention period once, in one transaction."""
    with get_db(app).session() as session:
        return retention.purge(session, periods(app), now)
