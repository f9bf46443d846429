"""Fingerprinted static files: ``url_for("static", …)`` adds ``?v=`` and the file's hash.

A browser or proxy may then keep the file for a year: a changed file has another fingerprint,
so pages link to a new address. A request whose ``v`` is not the current fingerprint (an old
page, a hand-typed address) gets the file with a one-day lifetime only.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from werkzeug.security import safe_join

YEAR = "public, max-age=31536000, immutable"
DAY = "public, max-age=86400"
DIGITS = 12


class Fingerprints:
    """The first ``DIGITS`` hex digits of each static file's SHA-256, hashed once per version
    of the file (a changed size or modification time hashes it again)."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[tuple[int, int], str]] = {}
        self._lock = threading.Lock()

    def of(self, folder: str | None, filename: str) -> str | None:
        """The fingerprint of ``filename`` in ``folder``; ``None`` when there is no such file."""
        joined = safe_join(folder, filename) if folder else None
        if joined is None:
            return None
        path = Path(joined)
        try:
            stat = path.stat()
        except OSError:
            return None
        version = (stat.st_mtime_ns, stat.st_size)
        known = self._known.get(joined)
        if known is not None and known[0] == version:
            return known[1]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:DIGITS]
        with self._lock:
            self._known[joined] = (version, digest)
        return digest


def init_app(app: Flask) -> None:
    """Add fingerprints to static URLs and a year's caching to current fingerprints."""
    fingerprints = Fingerprints()

    @app.url_defaults
    def _fingerprint(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            digest = fingerprints.of(app.static_folder, str(values["filename"]))
            if digest:
                values["v"] = digest

    @app.after_request
    def _static_lifetime(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code in (200, 304):
            filename = str((request.view_args or {}).get("filename", ""))
            wanted = request.args.get("v")
            current = wanted and wanted == fingerprints.of(app.static_folder, filename)
            response.headers["Cache-Control"] = YEAR if current else DAY
        return response
