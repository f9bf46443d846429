"""For load balancers and monitoring: liveness, readiness and the Prometheus metrics.

No language prefix, no rate limit, no cookie, never stored by a cache.
"""

from __future__ import annotations

import ipaddress
import json

from flask import Blueprint, abort, current_app, request
from werkzeug.wrappers import Response

from .. import db
from ..metrics import CONTENT_TYPE, exposition
from ..models import utcnow
from ..security import limiter
from ..services import health
from . import current_settings

bp = Blueprint("health", __name__)
limiter.exempt(bp)

NO_STORE = {"Cache-Control": "no-store"}
ALLOWED = "portal.metrics_allowed"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive and answers (no database access)."""
    return Response("ok\n", mimetype="text/plain", headers=NO_STORE)


@bp.get("/readyz")
def readyz() -> Response:
    """Database reachable, schema current, outbox moving: 200, else 503 naming what failed."""
    settings = current_settings()
    thresholds = health.Thresholds(settings.ready_outbox_backlog, settings.ready_outbox_age_minutes)
    result = health.readiness(db.session(), thresholds, utcnow())
    body = {"status": "ok" if result.ready else "fail", "checks": result.checks}
    return Response(
        json.dumps(body) + "\n",
        status=200 if result.ready else 503,
        mimetype="application/json",
        headers=NO_STORE,
    )


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus metrics, for the configured addresses only (everyone else: 404)."""
    if not _allowed(request.remote_addr or ""):
        abort(404)
    figures = health.outbox_figures(db.session(), utcnow())
    return Response(exposition(figures), content_type=CONTENT_TYPE, headers=NO_STORE)


def _allowed(address: str) -> bool:
    """Whether ``address`` lies in one of ``METRICS_ALLOWED``'s networks."""
    networks: list[Network] | None = current_app.extensions.get(ALLOWED)
    if networks is None:
        networks = [
            ipaddress.ip_network(entry, strict=False)
            for entry in current_settings().metrics_allowed
        ]
        current_app.extensions[ALLOWED] = networks
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)
