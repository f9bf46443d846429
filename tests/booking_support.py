"""Helpers for booking tests: a known consultation schedule and a walk through the flow."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from portal.config import settings_of
from portal.db import get_db
from portal.models import utcnow
from portal.services import schedule, slots
from tests.conftest import csrf_token, post_form


def seed_schedule(app: Flask, closure: bool = False) -> None:
    """The demo locations and weekly hours (Verl Tue/Thu, SHS Mon/Wed, phone Mon–Fri, visits Fri)."""
    with get_db(app).session() as session:
        facts = settings_of(app).towns()
        schedule.seed_demo_schedule(session, facts, utcnow().astimezone(slots.BERLIN).date())
        if not closure:
            for item in schedule.closures(session):
                session.delete(item)


def slot_keys(client: FlaskClient, url: str) -> list[str]:
    """The slot identifiers offered on ``url``, in order."""
    return re.findall(r'name="slot" value="([^"]+)"', client.get(url).get_data(as_text=True))


def walk_booking(
    client: FlaskClient,
    lang: str = "de",
    location: str = "verl",
    slot_index: int = 0,
    on_behalf: bool = True,
    details: dict[str, Any] | None = None,
    slot: str | None = None,
) -> str:
    """Answer every booking question up to the check page; returns the chosen slot key."""
    base = f"/{lang}/booking"
    assert post_form(client, f"{base}/", {}).status_code == 302
    steps: list[tuple[str, dict[str, Any]]] = [("who", {"who": "other" if on_behalf else "me"})]
    if on_behalf:
        steps.append(
            (
                "relation",
                {"subject_name": "Karl Schmidt", "relationship": "child", "authority": "consent"},
            )
        )
    steps += [("town", {"town": "verl"}), ("location", {"location": location})]
    for step, data in steps:
        response = post_form(client, f"{base}/{step}", data)
        assert response.status_code == 302, (step, response.get_data(as_text=True)[:2000])
    chosen = slot or slot_keys(client, f"{base}/slot")[slot_index]
    response = post_form(client, f"{base}/slot", {"slot": chosen})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    for step, data in [
        ("topic", {"topic": "care", "note": "GEHEIME-NOTIZ Vater braucht Pflegegrad"}),
        ("details", details or {"name": "Anna Schmidt", "email": "anna@example.org"}),
    ]:
        response = post_form(client, f"{base}/{step}", data)
        assert response.status_code == 302, (step, response.get_data(as_text=True)[:3000])
    return chosen


def confirm(client: FlaskClient, lang: str = "de") -> Any:
    """Consent and book from the check page."""
    return post_form(client, f"/{lang}/booking/check", {"consent": "y"})


def manage_path(html: str) -> str:
    """The path of the private link shown on a confirmation page or in an email."""
    match = re.search(r"http://portal\.test(/[a-z]{2}/booking/manage/[A-Za-z0-9_-]+)", html)
    assert match, "no private link"
    return match.group(1)


def post_here(client: FlaskClient, url: str, data: dict[str, Any] | None = None) -> Any:
    """POST to ``url`` with the CSRF token of the page itself."""
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client, url)})
