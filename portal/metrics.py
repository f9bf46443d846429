"""Prometheus metrics: request latency, email delivery and bounces, the outbox's state.

With ``PROMETHEUS_MULTIPROC_DIR`` set in the environment (before the portal starts), every
process (each gunicorn worker, the delivery worker) writes its counters and histograms into
files in that directory, and ``/metrics`` adds up all of them, whichever worker answers. The
directory must exist and be empty when the services start; ``deploy/`` gives each app server its
own (a systemd ``RuntimeDirectory``), so each is scraped on its own. gunicorn's ``child_exit``
hook calls :func:`child_exit`. Without the variable (``make run``), the metrics are this
process's own. The delivery worker's counters (delivered, retried) reach ``/metrics`` only where
it shares an app server's directory; ``deploy/`` does not, and relies on the database below.

The outbox's depth, its oldest unsent message and the delivered, failed and bounced messages are
read from the database at scrape time (:func:`exposition`), so they are right whichever process
did the work. No flask in here: the WSGI middleware and the delivery worker use it too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Cache hits take well under a millisecond; a slow search a few hundred.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time from a request's arrival until its response was sent, by Flask endpoint and status class.",
    ("endpoint", "status_class"),
    buckets=LATENCY_BUCKETS,
)
DELIVERY_FAILURES = Counter(
    "portal_mail_delivery_failures",
    "Failed attempts to hand an email to the SMTP server (outcome: retry later, or failed for good).",
    ("outcome",),
)
DELIVERED = Counter("portal_mail_delivered", "Emails the SMTP server accepted.")
BOUNCES = Counter("portal_mail_bounces", "Delivery reports (bounces) received for sent emails.")

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "bounced")


@dataclass(frozen=True)
class OutboxFigures:
    """The outbox at one moment: messages per status and the oldest unsent one's age."""

    by_status: Mapping[str, int] = field(default_factory=dict)
    oldest_unsent_seconds: float = 0.0


class OutboxCollector(Collector):
    """Gauges of the outbox as read from the database at scrape time."""

    def __init__(self, figures: OutboxFigures | None) -> None:
        self.figures = figures

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Whether the database answered; then messages per status, and the age of the oldest
        one waiting to be sent."""
        yield GaugeMetricFamily(
            "portal_database_up",
            "1 when the database answered this scrape's outbox queries, else 0.",
            value=0 if self.figures is None else 1,
        )
        if self.figures is None:
            return
        depth = GaugeMetricFamily(
            "portal_outbox_messages", "Emails in the outbox by status.", labels=("status",)
        )
        for status in OUTBOX_STATUSES:
            depth.add_metric((status,), self.figures.by_status.get(status, 0))
        yield depth
        yield GaugeMetricFamily(
            "portal_outbox_oldest_unsent_seconds",
            "Age of the oldest email not yet sent (pending or being sent); 0 when none waits.",
            value=self.figures.oldest_unsent_seconds,
        )


def multiprocess_dir() -> str:
    """The shared metrics directory, or "" when this process counts on its own."""
    return os.environ.get(MULTIPROC_ENV, "")


def check_multiprocess_dir() -> str | None:
    """What is wrong with the configured metrics directory, or ``None``."""
    path = multiprocess_dir()
    if path and not os.path.isdir(path):
        return f"{MULTIPROC_ENV} {path!r} is not a directory; create it before the portal starts."
    return None


def exposition(figures: OutboxFigures | None) -> bytes:
    """Every metric in Prometheus's text format: all processes' (multiprocess mode) or this
    process's, and the outbox gauges from ``figures`` (``None``: the database is down)."""
    outbox = CollectorRegistry(auto_describe=True)
    outbox.register(OutboxCollector(figures))
    path = multiprocess_dir()
    if path:
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, path=path)
        return generate_latest(merged) + generate_latest(outbox)
    return generate_latest(REGISTRY) + generate_latest(outbox)


def mark_process_dead(pid: int) -> None:
    """Tidy the shared directory after process ``pid`` ended (no-op in single-process mode)."""
    path = multiprocess_dir()
    if path:
        multiprocess.mark_process_dead(pid, path)


def child_exit(_server: Any, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook: ``from portal.metrics import child_exit`` in its config."""
    mark_process_dead(worker.pid)
