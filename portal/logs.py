"""Log lines: JSON in production (one object a line), readable on a developer's machine.

Every record written while a request is served carries its request id (see
:mod:`portal.observe`). No formatter here adds request data: what a line says is what the code
logged, and the portal logs ids, kinds and counts, never personal data, paths or tokens.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# The id of the request this thread is serving, or "" outside a request.
request_id: ContextVar[str] = ContextVar("portal_request_id", default="")

# Marks the handler this module installed, so building a second app replaces it.
_HANDLER_FLAG = "_portal_handler"
# Libraries whose INFO lines are chatter on the command line (alembic's plugin set-up and
# migration steps): only their warnings and errors are shown.
QUIET_LOGGERS = ("alembic",)

# For gunicorn's ``logconfig_dict``: its own lines (start, workers booting and dying) as the
# same JSON. gunicorn's access log stays off: it would write paths and addresses.
GUNICORN_LOGCONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "portal.logs.JsonFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": "WARNING", "handlers": []},  # the portal adds its own when it starts
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
    },
}


class RequestIdFilter(logging.Filter):
    """Put the current request id on every record as ``record.request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the id; never drops a record."""
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request id, extra fields.

    ``extra={"fields": {...}}`` adds the given keys to the object (the request log uses it).
    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", "") or request_id.get()
        if rid:
            line["request_id"] = rid
        fields = getattr(record, "fields", None)
        if fields:
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """Readable lines for the development server, with the request id and extra fields."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The record as a readable line."""
        text = super().format(record)
        fields = getattr(record, "fields", None)
        if fields:
            text += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        rid = getattr(record, "request_id", "")
        return f"{text} [{rid}]" if rid else text


def configure(readable: bool) -> logging.Handler:
    """Send log records to standard error: JSON lines, or readable ones when ``readable``.

    The portal's own loggers write from INFO up; other libraries only their warnings and
    errors (root level WARNING), so a command prints what it is for and nothing else.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_FLAG, False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, _HANDLER_FLAG, True)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(TextFormatter() if readable else JsonFormatter())
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("portal").setLevel(logging.INFO)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
