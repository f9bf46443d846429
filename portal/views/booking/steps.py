"""Consultation booking: one question per page, answers kept on the server, booked once."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import ngettext
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ... import db, labels
from ...forms import booking as forms
from ...i18n import current_locale
from ...mail import bookings as booking_mail
from ...models import Booking, HelpRequest, RequestDraft, utcnow
from ...security import limiter
from ...services import bookings, drafts, receipts, requests, slots, towns
from ...services.errors import DraftExpired, DraftIncomplete, SlotUnavailable, TooManyBookings
from .. import current_settings, may_confirm_to
from ..flow import Flow, Forget, Step, check_view, step_view
from ..people import FORGET_RELATION, TO_ELSEWHERE, WITHOUT_AUTHORITY, town_choices
from ..requests import SESSION_SUBMITTED, linked_status_request
from .common import (
    SESSION_BOOKED,
    SESSION_DRAFT,
    bp,
    checked_slot,
    chosen_location,
    policy,
    slot_page,
    slot_problem,
)

# About how long booking takes, as the start page says.
MINUTES_TO_BOOK = 3


def _location_choices(form: Any, answers: bookings.BookingAnswers) -> None:
    form.location.choices = [
        SelectChoice(location.code, labels.location_name(location))
        for location in slots.bookable_locations(db.session())
    ]


def _location_kind(new: Any) -> dict[str, Any]:
    location = slots.location_by_code(db.session(), new["location"])
    return {"location_kind": location.kind if location else ""}


def _how_to_reach(answers: bookings.BookingAnswers) -> dict[str, Any]:
    return {
        "needs_address": answers.location_kind == "home_visit",
        "needs_phone": answers.location_kind == "phone",
    }


def _asks_relation(answers: bookings.BookingAnswers) -> bool:
    # A booking joining a request from its status link asks for the person again.
    return (answers.fresh or answers.ask_contact) and answers.for_other


# A slot belongs to its location; only a visit needs the address.
FORGET_SLOT = Forget(("slot",), lambda new, before: new["location"] != before.location)
FORGET_ADDRESS = Forget(
    drafts.ADDRESS_ANSWERS, lambda new, before: new["location_kind"] != "home_visit"
)


def _summary(answers: bookings.BookingAnswers) -> dict[str, Any]:
    """What the check page shows besides the answers: the town, the place and the slot."""
    start = None
    with contextlib.suppress(SlotUnavailable):
        start = slots.parse_slot_key(answers.slot)
    minutes = answers.slot_minutes
    return {
        "town": towns.town_by_slug(db.session(), answers.town),
        "location": slots.location_by_code(db.session(), answers.location),
        "slot_start": start,
        "slot_end": start + timedelta(minutes=minutes)
        if start and isinstance(minutes, int)
        else None,
    }


def _book(draft: RequestDraft) -> Response | str:
    settings = current_settings()
    try:
        booked = bookings.book_draft(
            db.session(),
            draft,
            locale=current_locale().code,
            policy=policy(),
            response_days=settings.response_days,
            now=utcnow(),
            privacy_version=settings.privacy_notice_version,
            contact_limit=settings.bookings_per_contact,
            token=_manage_token(),
        )
    except DraftIncomplete as exc:
        return redirect(FLOW.answer_url(exc.answer))
    except SlotUnavailable as problem:
        return _lost_slot(draft, problem.reason)
    except TooManyBookings as refused:
        flash(
            ngettext(
                "Mit dieser E-Mail-Adresse oder Telefonnummer ist schon %(num)d Termin gebucht, der noch bevorsteht. Mehr Termine gleichzeitig sind nicht möglich. Bitte sagen Sie zuerst einen Termin ab (mit dem Link aus der Bestätigung) oder rufen Sie uns an.",
                "Mit dieser E-Mail-Adresse oder Telefonnummer sind schon %(num)d Termine gebucht, die noch bevorstehen. Mehr Termine gleichzeitig sind nicht möglich. Bitte sagen Sie zuerst einen Termin ab (mit dem Link aus der Bestätigung) oder rufen Sie uns an.",
                refused.limit,
            )
        )
        return redirect(url_for("booking.check"))
    if not booked.created:
        # Booked by a parallel click, or before a confirmation that never arrived.
        _remember_booked(booked.booking)
        return redirect(url_for("booking.done"))
    # The receipt is stored with the booking (and its request), in the same transaction.
    receipts.issue(db.session(), booked.booking.request, settings.retention_days_receipt)
    booking_mail.queue_booking_made(
        db.session(), booked.booking, booked.token, confirm=may_confirm_to(booked.booking.email)
    )
    db.commit()
    _remember_booked(booked.booking)
    return redirect(url_for("booking.done"))


def _manage_token() -> str:
    """The manage link's token of the draft in this browser's session."""
    return bookings.manage_token_of_draft(
        current_settings().secret_key, str(session.get(SESSION_DRAFT, ""))
    )


def _remember_booked(found: Booking) -> None:
    """Let the confirmation pages show ``found``, the booking of the draft in the session.

    The confirmation checks that the link still opens the booking: after a move or a new
    link it shows nothing and sends the booker to the start (the email has the link).
    """
    session[SESSION_BOOKED] = {"uid": found.uid, "token": _manage_token()}
    session.pop(SESSION_DRAFT, None)


def _lost_slot(draft: RequestDraft, reason: str) -> Response:
    """The slot went away between choosing and booking: keep the answers, offer others."""
    key = draft.answers.get("slot", "")
    drafts.forget_answers(draft, ("slot",))
    drafts.save_answers(
        draft, {"taken_slot": key, "slot_problem": reason}, current_settings().draft_hours
    )
    db.commit()
    return redirect(url_for("booking.taken"))


def _booked_from(draft: RequestDraft) -> object | None:
    """The booking this browser's draft became, remembered in the session for the
    confirmation (a booker whose answer to "book" never arrived presses it again)."""
    found = bookings.booked_from(db.session(), draft)
    if found is not None and (session.get(SESSION_BOOKED) or {}).get("uid") != found.uid:
        _remember_booked(found)
    return found


FLOW = Flow(
    name="booking",
    session_key=SESSION_DRAFT,
    done_key=SESSION_BOOKED,
    templates="booking",
    steps=(
        Step(
            "who",
            forms.BookingWhoForm,
            ("who",),
            lambda answers: answers.fresh,
            forget=(FORGET_RELATION,),
        ),
        Step(
            "relation",
            forms.RelationForm,
            drafts.RELATION_ANSWERS,
            _asks_relation,
            exits=(WITHOUT_AUTHORITY,),
        ),
        Step(
            "town",
            forms.TownForm,
            ("town",),
            lambda answers: answers.fresh,
            choices=town_choices,
            exits=(TO_ELSEWHERE,),
        ),
        Step(
            "location",
            forms.LocationForm,
            ("location",),
            choices=_location_choices,
            derive=_location_kind,
            forget=(FORGET_SLOT, FORGET_ADDRESS),
        ),
        Step("slot", forms.SlotForm, ("slot",), endpoint="booking.slot"),
        Step("topic", forms.TopicForm, ("topic", "note")),
        Step(
            "details",
            forms.BookingDetailsForm,
            ("name", "phone", "email", *drafts.ADDRESS_ANSWERS),
            form_kwargs=_how_to_reach,
        ),
    ),
    read=bookings.BookingAnswers.from_dict,
    check_form=forms.CheckForm,
    finished=_booked_from,
    finish=_book,
    summary=_summary,
    only_applicable=True,
)


def current_draft() -> RequestDraft:
    """The live booking draft of this browser; :class:`DraftExpired` when there is none."""
    return FLOW.draft()


@bp.get("/")
def start() -> str:
    """What booking is for, and a way back into an unfinished booking."""
    return render_template(
        "booking/start.html",
        resume_url=FLOW.resume_url(),
        locations=slots.bookable_locations(db.session()),
        minutes=MINUTES_TO_BOOK,
    )


def _started_from(origin: str) -> HelpRequest | None:
    """The open request this browser just sent (``done``) or opened by its link (``status``)."""
    if origin == "done":
        submitted = session.get(SESSION_SUBMITTED) or {}
        found = requests.request_by_status_token(db.session(), submitted.get("token", ""))
    elif origin == "status":
        found = linked_status_request()
    else:
        return None
    if found is None or found.status not in requests.OPEN_STATUSES or found.anonymised_at:
        return None
    return found


@bp.post("/")
def begin() -> Response:
    """Start a booking (or start over); from a request's pages it joins that request."""
    origin = request.args.get("from", "")
    found = _started_from(origin)
    if found is None:
        return FLOW.restart({})
    joined = bookings.answers_from_request(db.session(), found, with_contact=origin == "done")
    return FLOW.restart(joined.to_dict())


@bp.route("/<name>", methods=["GET", "POST"])
def step(name: str) -> Response | str:
    """Ask one question; on a valid answer, store it and go on."""
    return step_view(FLOW, name)


@bp.route("/slot", methods=["GET", "POST"])
def slot() -> Response | str:
    """Choose a free slot from a list grouped by day; the choice is checked again here."""
    try:
        draft = current_draft()
    except DraftExpired:
        return FLOW.expired()
    answers = draft.answers
    location = chosen_location(answers)
    if location is None:
        return redirect(FLOW.url("location"))
    changing = request.args.get("change") == "1"
    form = forms.SlotForm(
        formdata=request.form if request.method == "POST" else None,
        data={"slot": answers.get("slot")},
    )
    if request.method == "POST" and form.validate():
        try:
            chosen = checked_slot(location, form.slot.data or "")
        except SlotUnavailable as problem:
            form.slot.errors = [slot_problem(problem.reason)]
        else:
            drafts.save_answers(
                draft,
                {"slot": chosen.key, "slot_minutes": chosen.minutes},
                current_settings().draft_hours,
            )
            drafts.forget_answers(draft, ("taken_slot",))
            db.commit()
            return FLOW.after("slot", draft.answers, changing)
    return render_template(
        "booking/slot.html",
        form=form,
        answers=answers,
        back_url=FLOW.back_url("slot", answers, changing),
        action=url_for(
            "booking.slot", change="1" if changing else None, page=request.args.get("page")
        ),
        page_url=lambda number: url_for(
            "booking.slot", change="1" if changing else None, page=number
        ),
        **slot_page(location),
    )


@bp.route("/check", methods=["GET", "POST"])
@limiter.limit(lambda: current_settings().rate_limit_submit, methods=["POST"])
def check() -> Response | str:
    """Show every answer with change links; on consent, book the slot once."""
    return check_view(FLOW)
