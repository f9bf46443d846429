"""The guided-flow engine: the way through conditional steps, the forget rules, and a
third flow that is nothing but a declaration served by the generic views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Blueprint, Flask, redirect, url_for
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import select
from werkzeug.wrappers import Response

from portal.db import get_db
from portal.forms import request as request_forms
from portal.models import RequestDraft
from portal.services.bookings import BookingAnswers
from portal.services.drafts import RELATION_ANSWERS, DraftAnswers
from portal.services.requests import RequestAnswers
from portal.views.booking.steps import FLOW as BOOKING
from portal.views.flow import Exit, Flow, Forget, Step, check_view, step_view
from portal.views.requests import FLOW as REQUEST

COMPLETE_REQUEST: dict[str, Any] = {
    "who": "me",
    "town": "verl",
    "topics": ["care"],
    "need": "Hilfe",
    "urgency": "normal",
    "contact_method": "home_visit",
    "contact_days": [],
    "language": "de",
    "name": "Anna",
    "phone": "05246 12345",
    "street": "Hauptstraße 1",
    "postcode": "33415",
    "city": "Verl",
}


def test_the_relation_step_is_asked_only_for_another_person() -> None:
    assert REQUEST.next_step("who", {"who": "me"}) == "town"
    assert REQUEST.next_step("who", {"who": "other"}) == "relation"
    assert REQUEST.previous_step("town", {"who": "me"}) == "who"
    assert REQUEST.previous_step("town", {"who": "other"}) == "relation"
    assert REQUEST.previous_step("who", {}) is None


def test_the_check_page_follows_the_last_question() -> None:
    assert REQUEST.next_step("details", {}) == "check"
    assert REQUEST.previous_step("check", {}) == "details"
    assert BOOKING.previous_step("check", {}) == "details"


def test_a_booking_joining_a_request_skips_what_the_request_already_says() -> None:
    joined = {"request_id": 7, "who": "other"}
    assert BOOKING.applicable(joined) == ["location", "slot", "topic", "details"]
    asked_again = {**joined, "ask_contact": True}
    assert BOOKING.applicable(asked_again) == ["relation", "location", "slot", "topic", "details"]
    assert BOOKING.applicable({"who": "other"})[:3] == ["who", "relation", "town"]


def test_a_missing_answer_leads_to_the_step_that_asks_for_it() -> None:
    assert REQUEST.resume({}) == "who"
    assert REQUEST.resume(COMPLETE_REQUEST) == "check"
    assert REQUEST.resume({**COMPLETE_REQUEST, "street": ""}) == "details"
    assert REQUEST.resume({k: v for k, v in COMPLETE_REQUEST.items() if k != "contact_days"}) == (
        "times"
    )
    assert REQUEST.resume({**COMPLETE_REQUEST, "who": "other"}) == "relation"
    booking = {"who": "me", "town": "verl", "location": "verl", "topic": "care", "name": "A"}
    assert BOOKING.resume(booking) == "slot"


COMPLETE_BOOKING: dict[str, Any] = {
    "who": "other",
    "subject_name": "Berta",
    "relationship": "child",
    "authority": "asked",
    "town": "verl",
    "location": "verl-home",
    "location_kind": "home_visit",
    "slot": "2026-12-07T09:00",
    "topic": "care",
    "name": "Anna",
    "phone": "05246 12345",
    "street": "Hauptstraße 1",
}


@pytest.mark.parametrize(
    ("flow", "complete"),
    [(REQUEST, {**COMPLETE_REQUEST, **COMPLETE_BOOKING}), (BOOKING, COMPLETE_BOOKING)],
    ids=["request", "booking"],
)
def test_every_answer_a_flow_can_miss_has_a_step_that_asks_for_it(
    flow: Flow, complete: dict[str, Any]
) -> None:
    assert flow.read(complete).first_missing() is None
    for name in complete:
        missing = flow.read({**complete, name: None}).first_missing()
        if missing is not None:
            assert flow.step_for(missing) in flow.applicable(complete), (name, missing)


def test_a_step_may_not_forget_its_own_answers() -> None:
    with pytest.raises(ValueError, match="would forget its own answers"):
        Step("who", request_forms.WhoForm, ("who",), forget=(Forget(("who",), lambda n, b: True),))


def _remember(
    app: Flask, flow: Flow, step: str, stored: dict[str, Any], new: dict[str, Any]
) -> Any:
    with app.test_request_context("/de/"):
        draft = RequestDraft(answers=dict(stored))
        found = flow.step_named(step)
        assert found is not None
        flow.remember(draft, found, new)
        return draft.answers


def test_asking_for_oneself_forgets_the_person(app: Flask) -> None:
    person = {"who": "other", "subject_name": "Karl", "relationship": "child", "authority": "x"}
    for flow in (REQUEST, BOOKING):
        assert _remember(app, flow, "who", person, {"who": "me"}) == {"who": "me"}
        assert _remember(app, flow, "who", person, {"who": "other"}) == person


def test_no_visit_forgets_the_address(app: Flask) -> None:
    address = {"street": "Hauptstraße 1", "postcode": "33415", "city": "Verl"}
    kept = _remember(app, REQUEST, "contact", address, {"contact_method": "home_visit"})
    assert kept == {**address, "contact_method": "home_visit"}
    gone = _remember(app, REQUEST, "contact", address, {"contact_method": "callback"})
    assert gone == {"contact_method": "callback"}


def test_a_new_location_forgets_the_slot_and_only_a_visit_keeps_the_address(app: Flask) -> None:
    stored = {"location": "verl", "slot": "20300101T0800Z", "street": "Hauptstraße 1"}
    moved = _remember(app, BOOKING, "location", stored, {"location": "shs"})
    assert moved == {"location": "shs", "location_kind": "in_person"}
    visit = _remember(app, BOOKING, "location", stored, {"location": "home"})
    assert visit == {"location": "home", "location_kind": "home_visit", "street": "Hauptstraße 1"}
    same = _remember(app, BOOKING, "location", stored, {"location": "verl"})
    assert same["slot"] == "20300101T0800Z" and "street" not in same


# A third flow, declared here and nowhere else: who it is for, the person, the need.


@dataclass(frozen=True)
class IntakeAnswers(DraftAnswers):
    """The answers of the tiny intake flow."""

    who: str = ""
    subject_name: str = ""
    relationship: str = ""
    authority: str = ""
    need: str = ""

    def first_missing(self) -> str | None:
        """The first answer still needed."""
        names = ("who", *(RELATION_ANSWERS if self.who == "other" else ()), "need")
        return next((name for name in names if not getattr(self, name)), None)


FINISHED: list[dict[str, Any]] = []


def _finish(draft: RequestDraft) -> Response:
    FINISHED.append(dict(draft.answers))
    return redirect(url_for("intake.done"))


INTAKE = Flow(
    name="intake",
    session_key="intake_draft",
    done_key="intake_done",
    templates="intake",
    steps=(
        Step(
            "who",
            request_forms.WhoForm,
            ("who",),
            forget=(Forget(RELATION_ANSWERS, lambda new, before: new["who"] == "me"),),
        ),
        Step(
            "relation",
            request_forms.RelationForm,
            RELATION_ANSWERS,
            lambda answers: answers.who == "other",
            exits=(
                Exit("intake.done", lambda new: new["authority"] == request_forms.NO_AUTHORITY),
            ),
        ),
        Step("need", request_forms.NeedForm, ("need",), form_kwargs=lambda a: {"for_other": False}),
    ),
    read=IntakeAnswers.from_dict,
    check_form=request_forms.CheckForm,
    finished=lambda draft: None,
    finish=_finish,
)

TEMPLATES = {
    **{
        f"intake/{name}.html": "{{ step }}|{{ back_url }}|{{ answers|dictsort }}"
        for name in ("who", "relation", "need")
    },
    "intake/check.html": "check|{{ applicable|join(',') }}|{{ back_url }}",
}


@pytest.fixture
def intake(app_config: dict[str, Any], app: Flask) -> Flask:
    """The portal with the intake flow on its own blueprint, CSRF aside (an app of its own:
    asking for ``app_config`` keeps the shared app's routes and templates as they are)."""
    bp = Blueprint("intake", __name__, url_prefix="/<lang>/intake")
    bp.add_url_rule("/", "start", lambda: "start")
    bp.add_url_rule("/", "begin", lambda: INTAKE.restart({}), methods=["POST"])
    bp.add_url_rule(
        "/<name>", "step", lambda name: step_view(INTAKE, name), methods=["GET", "POST"]
    )
    bp.add_url_rule("/check", "check", lambda: check_view(INTAKE), methods=["GET", "POST"])
    bp.add_url_rule("/done", "done", lambda: "done")
    app.register_blueprint(bp)
    app.config["WTF_CSRF_ENABLED"] = False
    app.jinja_env.loader = ChoiceLoader([DictLoader(TEMPLATES), app.jinja_env.loader])  # type: ignore[list-item]
    FINISHED.clear()
    return app


def _stored(app: Flask) -> dict[str, Any]:
    with get_db(app).session() as session:
        return dict(session.scalars(select(RequestDraft)).one().answers)


def test_a_third_flow_is_a_declaration_served_by_the_generic_views(intake: Flask) -> None:
    client = intake.test_client()
    assert client.get("/de/intake/who").headers["Location"] == "/de/intake/"
    assert client.post("/de/intake/").headers["Location"] == "/de/intake/who"
    assert client.post("/de/intake/who", data={"who": "other"}).headers["Location"] == (
        "/de/intake/relation"
    )
    page = client.get("/de/intake/relation").get_data(as_text=True)
    assert page.startswith("relation|/de/intake/who|")
    person = {"subject_name": "Karl", "relationship": "child", "authority": "consent"}
    assert client.post("/de/intake/relation", data=person).headers["Location"] == (
        "/de/intake/need"
    )
    assert client.post("/de/intake/need", data={"need": "Hilfe"}).headers["Location"] == (
        "/de/intake/check"
    )
    assert client.get("/de/intake/check").get_data(as_text=True) == (
        "check|who,relation,need|/de/intake/need"
    )
    # Changing an answer goes back to the check page and forgets what no longer applies.
    changed = client.post("/de/intake/who?change=1", data={"who": "me"})
    assert changed.headers["Location"] == "/de/intake/check"
    assert _stored(intake) == {"who": "me", "need": "Hilfe"}
    assert client.get("/de/intake/relation").status_code == 200
    assert client.post("/de/intake/check", data={"consent": "y"}).headers["Location"] == (
        "/de/intake/done"
    )
    assert FINISHED == [{"who": "me", "need": "Hilfe"}]


def test_an_exit_answer_leaves_the_flow_and_deletes_the_draft(intake: Flask) -> None:
    client = intake.test_client()
    client.post("/de/intake/")
    client.post("/de/intake/who", data={"who": "other"})
    refused = {"subject_name": "Karl", "relationship": "child", "authority": "no"}
    assert client.post("/de/intake/relation", data=refused).headers["Location"] == (
        "/de/intake/done"
    )
    with get_db(intake).session() as session:
        assert session.scalars(select(RequestDraft)).all() == []
    assert client.get("/de/intake/need").headers["Location"] == "/de/intake/"


def test_stored_draft_answers_load_as_typed_answers_and_back() -> None:
    stored = {**COMPLETE_REQUEST, "catalogue_service": None, "retired_answer": "x"}
    answers = RequestAnswers.from_dict(stored)
    assert answers.topics == ("care",) and answers.contact_days == ()
    assert answers.catalogue_service is None and answers.first_missing() is None
    assert answers.to_dict() == COMPLETE_REQUEST
    assert RequestAnswers.from_dict({}).contact_days is None
    joined = BookingAnswers.from_dict({"request_id": 3, "ask_contact": True})
    assert joined.to_dict() == {"request_id": 3, "ask_contact": True} and not joined.fresh
