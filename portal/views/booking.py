"""Consultation booking: one question per page, answers kept on the server, booked once.

The slot list is computed on every request and every slot identifier that comes back is
checked again by the service; the database has the last word when two people race.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from .. import db, labels
from ..forms import booking as forms
from ..forms.base import parse_number
from ..i18n import current_locale
from ..mail import bookings as booking_mail
from ..models import ConsultationLocation, RequestDraft, utcnow
from ..security import limiter
from ..services import bookings, choices, drafts, receipts, requests, slots, towns
from ..services.errors import DraftExpired, DraftIncomplete, SlotUnavailable, TooManyBookings
from . import (
    Step,
    current_settings,
    draft_expired,
    leave_for_elsewhere,
    leave_without_authority,
    live_draft,
    may_confirm_to,
)

bp = Blueprint("booking", __name__, url_prefix="/<lang>/booking")

SESSION_DRAFT = "booking_draft"
SESSION_BOOKED = "booking_done"
ADDRESS_FIELDS = ("street", "postcode", "city")
RELATION_FIELDS = ("subject_name", "relationship", "authority")
# About how long booking takes, as the start page says.
MINUTES_TO_BOOK = 3
CONTACT_TO_LOCATION = {"callback": "phone", "home_visit": "home"}


def _fresh(answers: dict[str, Any]) -> bool:
    """Whether the booking was started on its own (not from an existing request)."""
    return not answers.get("request_id")


STEPS = (
    Step("who", forms.BookingWhoForm, ("who",), _fresh),
    Step(
        "relation",
        forms.RelationForm,
        RELATION_FIELDS,
        # A booking joining a request from its status link asks for the person again.
        lambda a: (_fresh(a) or bool(a.get("ask_contact"))) and a.get("who") == "other",
    ),
    Step("town", forms.TownForm, ("town",), _fresh),
    Step("location", forms.LocationForm, ("location",)),
    Step("slot", forms.SlotForm, ("slot",)),
    Step("topic", forms.TopicForm, ("topic", "note")),
    Step("details", forms.BookingDetailsForm, ("name", "phone", "email", *ADDRESS_FIELDS)),
)
STEP_BY_NAME = {step.name: step for step in STEPS}


def policy() -> slots.Policy:
    """How far ahead and how soon slots can be booked, from the settings."""
    settings = current_settings()
    return slots.Policy(settings.booking_horizon_days, settings.booking_lead_minutes)


def _names(answers: dict[str, Any]) -> list[str]:
    return [step.name for step in STEPS if step.applies(answers)]


def next_step(current: str, answers: dict[str, Any]) -> str:
    """The page after ``current``; ``check`` after the last question."""
    names = _names(answers)
    index = names.index(current) if current in names else -1
    return names[index + 1] if index + 1 < len(names) else "check"


def previous_step(current: str, answers: dict[str, Any]) -> str | None:
    """The page before ``current``, or ``None`` on the first question."""
    names = _names(answers)
    if current == "check":
        return names[-1]
    index = names.index(current) if current in names else 0
    return names[index - 1] if index > 0 else None


def step_url(name: str, **values: Any) -> str:
    """The address of a step (``check`` included)."""
    if name == "check":
        return url_for("booking.check")
    if name == "slot":
        return url_for("booking.slot", **values)
    return url_for("booking.step", name=name, **values)


def current_draft() -> RequestDraft:
    """The live booking draft of this browser; :class:`DraftExpired` when there is none."""
    return live_draft(SESSION_DRAFT)


def expired() -> Response:
    """Forget a draft that is gone and start again with a kind message."""
    return draft_expired(SESSION_DRAFT, "booking.start")


def chosen_location(answers: dict[str, Any]) -> ConsultationLocation | None:
    """The location the answers name, if it is still bookable."""
    return slots.location_by_code(db.session(), answers.get("location", ""))


def _form_for(step: Step, answers: dict[str, Any], formdata: Any = None) -> forms.BaseForm:
    data = {name: answers.get(name) for name in step.fields if name in answers}
    kwargs: dict[str, Any] = {}
    if step.form is forms.BookingDetailsForm:
        kwargs["needs_address"] = answers.get("location_kind") == "home_visit"
        kwargs["needs_phone"] = answers.get("location_kind") == "phone"
    form = step.form(formdata=formdata, data=data, **kwargs)
    if step.name == "town":
        town_choices = [
            SelectChoice(town.slug, f"{town.name} ({', '.join(town.postcode_list)})")
            for town in towns.all_towns(db.session())
        ]
        form.town.choices = [*town_choices, SelectChoice("elsewhere", _("Woanders"))]
    if step.name == "location":
        form.location.choices = [
            SelectChoice(location.code, labels.location_name(location))
            for location in slots.bookable_locations(db.session())
        ]
    return form


def _after(name: str, answers: dict[str, Any], changing: bool) -> Response:
    if changing:
        target = bookings.first_missing_step(answers) or "check"
    else:
        target = next_step(name, answers)
    if target == "check":
        return redirect(url_for("booking.check"))
    return redirect(step_url(target, change="1" if changing else None))


def _back_url(name: str, answers: dict[str, Any], changing: bool) -> str:
    if changing:
        return url_for("booking.check")
    back = previous_step(name, answers)
    return step_url(back) if back else url_for("booking.start")


@bp.get("/")
def start() -> str:
    """What booking is for, and a way back into an unfinished booking."""
    resume = None
    with contextlib.suppress(DraftExpired):
        resume = bookings.first_missing_step(current_draft().answers) or "check"
    return render_template(
        "booking/start.html",
        resume=resume,
        locations=slots.bookable_locations(db.session()),
        minutes=MINUTES_TO_BOOK,
    )


def _started_from(origin: str) -> Any:
    """The open request this browser just sent (``done``) or opened by its link (``status``)."""
    from .requests import SESSION_SUBMITTED, linked_status_request

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


def _answers_from_request(found: Any, with_contact: bool) -> dict[str, Any]:
    """What a booking joining ``found`` already knows.

    Contact details and the name of the person concerned are copied only for the browser
    that has just sent the request; whoever opens a status link (a forwarded email, a
    shared computer) is asked again, as the status page itself shows none of them.
    """
    answers: dict[str, Any] = {
        "request_id": found.id,
        "who": "other" if found.on_behalf else "me",
        "town": found.town.slug,
    }
    if with_contact:
        answers.update(
            name=found.requester_name,
            phone=found.phone,
            email=found.email,
            street=found.street,
            postcode=found.postcode,
            city=found.city,
        )
        if found.on_behalf:
            answers.update(
                subject_name=found.subject_name,
                relationship=found.relationship_kind,
                authority=found.authority,
            )
    else:
        answers["ask_contact"] = True
    if found.topics and found.topics[0] in choices.TOPICS:
        answers["topic"] = found.topics[0]
    location = slots.location_by_code(
        db.session(),
        CONTACT_TO_LOCATION.get(found.contact_method, choices.office_code(found.contact_method)),
    )
    if location is not None:
        answers.update(location=location.code, location_kind=location.kind)
    return answers


@bp.post("/")
def begin() -> Response:
    """Start a booking (or start over); from a request's pages it joins that request."""
    with contextlib.suppress(DraftExpired):
        drafts.discard_draft(db.session(), current_draft())
    answers: dict[str, Any] = {}
    origin = request.args.get("from", "")
    found = _started_from(origin)
    if found is not None:
        answers = _answers_from_request(found, with_contact=origin == "done")
    session[SESSION_DRAFT] = drafts.start_draft(
        db.session(), current_settings().draft_hours, answers
    )
    db.commit()
    return redirect(step_url(bookings.first_missing_step(answers) or "check"))


@bp.route("/<name>", methods=["GET", "POST"])
def step(name: str) -> Response | str:
    """Ask one question; on a valid answer, store it and go on."""
    current = STEP_BY_NAME.get(name)
    if current is None or name == "slot":
        abort(404)
    try:
        draft = current_draft()
    except DraftExpired:
        return expired()
    answers = draft.answers
    if not current.applies(answers):
        return redirect(url_for("booking.check"))
    changing = request.args.get("change") == "1"
    form = _form_for(current, answers, request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        new = {field: form[field].data for field in current.fields}
        if name == "town" and new["town"] == "elsewhere":
            return leave_for_elsewhere(draft, SESSION_DRAFT)
        if name == "relation" and new["authority"] == forms.NO_AUTHORITY:
            return leave_without_authority(draft, SESSION_DRAFT)
        _save(draft, name, new)
        db.commit()
        return _after(name, draft.answers, changing)
    return render_template(
        f"booking/{name}.html",
        form=form,
        step=name,
        answers=answers,
        back_url=_back_url(name, answers, changing),
    )


def _save(draft: RequestDraft, name: str, new: dict[str, Any]) -> None:
    hours = current_settings().draft_hours
    if name == "location":
        location = slots.location_by_code(db.session(), new["location"])
        new["location_kind"] = location.kind if location else ""
        if new["location"] != draft.answers.get("location"):
            drafts.forget_answers(draft, ("slot",))  # a slot belongs to its location
        if new["location_kind"] != "home_visit":
            drafts.forget_answers(draft, ADDRESS_FIELDS)
    drafts.save_answers(draft, new, hours)
    if name == "who" and new["who"] == "me":
        drafts.forget_answers(draft, RELATION_FIELDS)


def _page_number(total: int) -> int:
    raw = request.args.get("page", "0")
    number = parse_number(raw, 999) or 0
    return min(number, max(total - 1, 0))


def slot_page(location: ConsultationLocation, exclude: Any = None) -> dict[str, Any]:
    """The free slots of one page of days, grouped by day, and the paging facts."""
    settings = current_settings()
    now = utcnow()
    rules = policy()
    today = now.astimezone(slots.BERLIN).date()
    total = rules.horizon_days // settings.booking_page_days + 1
    number = _page_number(total)
    first = today + timedelta(days=number * settings.booking_page_days)
    last = first + timedelta(days=settings.booking_page_days - 1)
    free = slots.free_slots(db.session(), location, now, rules, first, last)
    return {
        "groups": slots.group_by_day(slot for slot in free if slot.start != exclude),
        "page": number,
        "pages": total,
        "first_day": first,
        "last_day": min(last, rules.last_day(now)),
        "location": location,
    }


def slot_problem(reason: str) -> str:
    """The message for a slot that cannot be had."""
    return str(labels.SLOT_PROBLEMS.get(reason, labels.SLOT_PROBLEMS["malformed"]))


def checked_slot(location: ConsultationLocation, key: str) -> slots.Slot:
    """The free slot a form sent back; :class:`SlotUnavailable` when it is not bookable."""
    start = slots.parse_slot_key(key)
    return slots.check_slot(db.session(), location, start, utcnow(), policy())


@bp.route("/slot", methods=["GET", "POST"])
def slot() -> Response | str:
    """Choose a free slot from a list grouped by day; the choice is checked again here."""
    try:
        draft = current_draft()
    except DraftExpired:
        return expired()
    answers = draft.answers
    location = chosen_location(answers)
    if location is None:
        return redirect(step_url("location"))
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
            minutes = int((chosen.end - chosen.start).total_seconds() // 60)
            drafts.save_answers(
                draft, {"slot": chosen.key, "slot_minutes": minutes}, current_settings().draft_hours
            )
            drafts.forget_answers(draft, ("taken_slot",))
            db.commit()
            return _after("slot", draft.answers, changing)
    return render_template(
        "booking/slot.html",
        form=form,
        answers=answers,
        back_url=_back_url("slot", answers, changing),
        action=url_for(
            "booking.slot", change="1" if changing else None, page=request.args.get("page")
        ),
        page_url=lambda number: url_for(
            "booking.slot", change="1" if changing else None, page=number
        ),
        **slot_page(location),
    )


def _summary(answers: dict[str, Any]) -> dict[str, Any]:
    """What the check page shows besides the answers: the town, the place and the slot."""
    start = None
    with contextlib.suppress(SlotUnavailable):
        start = slots.parse_slot_key(answers.get("slot", ""))
    minutes = answers.get("slot_minutes")
    return {
        "town": towns.town_by_slug(db.session(), answers.get("town", "")),
        "location": chosen_location(answers),
        "slot_start": start,
        "slot_end": start + timedelta(minutes=minutes)
        if start and isinstance(minutes, int)
        else None,
    }


@bp.route("/check", methods=["GET", "POST"])
@limiter.limit(lambda: current_settings().rate_limit_submit, methods=["POST"])
def check() -> Response | str:
    """Show every answer with change links; on consent, book the slot once."""
    try:
        draft = current_draft()
    except DraftExpired:
        if request.method == "POST" and session.get(SESSION_BOOKED):
            return redirect(url_for("booking.done"))
        return expired()
    if bookings.booked_from(db.session(), draft) is not None:
        return redirect(url_for("booking.done"))
    missing = bookings.first_missing_step(draft.answers)
    if missing:
        return redirect(step_url(missing))
    form = forms.BookingCheckForm()
    if form.validate_on_submit():
        return _book(draft)
    return render_template(
        "booking/check.html",
        form=form,
        answers=draft.answers,
        applicable=_names(draft.answers),
        back_url=step_url(previous_step("check", draft.answers) or "details"),
        **_summary(draft.answers),
    )


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
        )
    except DraftIncomplete as exc:
        return redirect(step_url(exc.step))
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
        return redirect(url_for("booking.done"))
    # The receipt is stored with the booking (and its request), in the same transaction.
    receipts.issue(db.session(), booked.booking.request, settings.retention_days_receipt)
    booking_mail.queue_booking_made(
        db.session(), booked.booking, booked.token, confirm=may_confirm_to(booked.booking.email)
    )
    db.commit()
    session.pop(SESSION_DRAFT, None)
    session[SESSION_BOOKED] = {"uid": booked.booking.uid, "token": booked.token}
    return redirect(url_for("booking.done"))


def _lost_slot(draft: RequestDraft, reason: str) -> Response:
    """The slot went away between choosing and booking: keep the answers, offer others."""
    key = draft.answers.get("slot", "")
    drafts.forget_answers(draft, ("slot",))
    drafts.save_answers(
        draft, {"taken_slot": key, "slot_problem": reason}, current_settings().draft_hours
    )
    db.commit()
    return redirect(url_for("booking.taken"))


from . import booking_manage, booking_results  # noqa: E402,F401  (pages on this blueprint)
