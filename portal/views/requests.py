"""The help request: one question per page, answers kept on the server, sent once."""

from __future__ import annotations

import contextlib
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from .. import db, labels, mail
from ..forms import request as forms
from ..i18n import current_locale
from ..links import external_url
from ..mail import bookings as booking_mail
from ..models import HelpRequest, RequestDraft, utcnow
from ..security import limiter
from ..services import (
    bookings,
    catalogue,
    choices,
    drafts,
    messages,
    receipts,
    requests,
    towns,
)
from ..services.errors import DraftExpired, DraftIncomplete, RequestClosed
from . import (
    Step,
    current_settings,
    draft_expired,
    erase_at_residents_wish,
    leave_for_elsewhere,
    leave_without_authority,
    live_draft,
    may_confirm_to,
)
from .receipt import receipt_page

bp = Blueprint("request", __name__, url_prefix="/<lang>/request")

SESSION_DRAFT = "request_draft"
SESSION_SUBMITTED = "request_submitted"
SESSION_STATUS = "request_status"
# About how long the questions take, as the start page says.
MINUTES_TO_ASK = 5


STEPS = (
    Step("who", forms.WhoForm, ("who",)),
    Step(
        "relation",
        forms.RelationForm,
        ("subject_name", "relationship", "authority"),
        lambda a: a.get("who") == "other",
    ),
    Step("town", forms.TownForm, ("town",)),
    Step("topics", forms.TopicsForm, ("topics",)),
    Step("need", forms.NeedForm, ("need",)),
    Step("urgency", forms.UrgencyForm, ("urgency",)),
    Step("contact", forms.ContactForm, ("contact_method",)),
    Step("times", forms.TimesForm, ("contact_days", "contact_times")),
    Step("language", forms.LanguageForm, ("language", "interpreter")),
    Step("accessibility", forms.AccessibilityForm, ("accessibility", "accessibility_note")),
    Step("details", forms.DetailsForm, ("name", "phone", "email", "street", "postcode", "city")),
)
STEP_BY_NAME = {step.name: step for step in STEPS}
ADDRESS_FIELDS = ("street", "postcode", "city")


def _applicable(answers: dict[str, Any]) -> list[Step]:
    return [step for step in STEPS if step.applies(answers)]


def next_step(current: str, answers: dict[str, Any]) -> str:
    """The page after ``current`` for these answers; ``check`` after the last question."""
    names = [step.name for step in _applicable(answers)]
    index = names.index(current) if current in names else -1
    return names[index + 1] if index + 1 < len(names) else "check"


def previous_step(current: str, answers: dict[str, Any]) -> str | None:
    """The page before ``current``, or ``None`` on the first question."""
    names = [step.name for step in _applicable(answers)]
    if current == "check":
        return names[-1]
    index = names.index(current) if current in names else 0
    return names[index - 1] if index > 0 else None


def _draft() -> RequestDraft:
    return live_draft(SESSION_DRAFT)


def _expired() -> Response:
    return draft_expired(SESSION_DRAFT, "request.start")


def _form_for(step: Step, answers: dict[str, Any], formdata: Any = None) -> forms.BaseForm:
    data = {name: answers.get(name) for name in step.fields if name in answers}
    kwargs: dict[str, Any] = {}
    if step.form is forms.DetailsForm:
        kwargs["needs_address"] = answers.get("contact_method") == "home_visit"
        kwargs["needs_phone"] = answers.get("contact_method") == "callback"
    if step.form in (forms.TopicsForm, forms.NeedForm, forms.AccessibilityForm):
        kwargs["for_other"] = answers.get("who") == "other"
    form = step.form(formdata=formdata, data=data, **kwargs)
    if step.name == "town":
        choices = [
            SelectChoice(town.slug, f"{town.name} ({', '.join(town.postcode_list)})")
            for town in towns.all_towns(db.session())
        ]
        form.town.choices = [*choices, SelectChoice("elsewhere", _("Woanders"))]
    if step.form is forms.ContactForm:
        form.contact_method.choices = forms.contact_choices(towns.offices(db.session()))
    return form


@bp.get("/")
def start() -> str:
    """The start page: what the request is for, and a way back into an unfinished one."""
    resume = None
    try:
        draft = _draft()
        resume = requests.first_missing_step(draft.answers) or "check"
    except DraftExpired:
        pass
    return render_template("request/start.html", resume=resume, minutes=MINUTES_TO_ASK)


@bp.post("/")
def begin() -> Response:
    """Start a new request (or start over), throwing away any unfinished one.

    Coming from a catalogue offer ("ask the Soziales Duo about this") with a request already
    under way, the offer and its topic are added to that request instead: nothing is lost.
    """
    settings = current_settings()
    answers: dict[str, Any] = {}
    topic = request.args.get("topic", "")
    if topic in choices.TOPICS:
        answers["topics"] = [topic]
    offer = catalogue.service_by_id(db.session(), request.args.get("service", "").lower())
    if offer is not None:
        answers["catalogue_service"] = offer.id
        with contextlib.suppress(DraftExpired):
            draft = _draft()
            if requests.submitted_from(db.session(), draft) is None:
                topics = list(draft.answers.get("topics", []))
                answers["topics"] = topics + [
                    t for t in answers.get("topics", []) if t not in topics
                ]
                drafts.save_answers(draft, answers, settings.draft_hours)
                db.commit()
                flash(_("Wir haben das Angebot zu Ihrer begonnenen Anfrage hinzugefügt."))
                resume = requests.first_missing_step(draft.answers)
                return redirect(
                    url_for("request.step", name=resume) if resume else url_for("request.check")
                )
    with contextlib.suppress(DraftExpired):
        drafts.discard_draft(db.session(), _draft())
    session[SESSION_DRAFT] = drafts.start_draft(db.session(), settings.draft_hours, answers)
    db.commit()
    return redirect(url_for("request.step", name="who"))


@bp.route("/<name>", methods=["GET", "POST"])
def step(name: str) -> Response | str:
    """Ask one question; on a valid answer, store it and go on."""
    step = STEP_BY_NAME.get(name)
    if step is None:
        abort(404)
    try:
        draft = _draft()
    except DraftExpired:
        return _expired()
    answers = draft.answers
    changing = request.args.get("change") == "1"
    form = _form_for(step, answers, request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        new = {name: form[name].data for name in step.fields}
        if name == "town" and new["town"] == "elsewhere":
            return leave_for_elsewhere(draft, SESSION_DRAFT)
        if name == "relation" and new["authority"] == forms.NO_AUTHORITY:
            return leave_without_authority(draft, SESSION_DRAFT)
        drafts.save_answers(draft, new, current_settings().draft_hours)
        if name == "contact" and new["contact_method"] != "home_visit":
            drafts.forget_answers(draft, ADDRESS_FIELDS)
        if name == "who" and new["who"] == "me":
            drafts.forget_answers(draft, ("subject_name", "relationship", "authority"))
        db.commit()
        if changing:
            target = requests.first_missing_step(draft.answers) or "check"
        else:
            target = next_step(name, draft.answers)
        if target == "check":
            return redirect(url_for("request.check"))
        return redirect(url_for("request.step", name=target, change="1" if changing else None))
    back = previous_step(name, answers)
    return render_template(
        f"request/{name}.html",
        form=form,
        step=name,
        answers=answers,
        back_url=url_for("request.check")
        if changing
        else (url_for("request.step", name=back) if back else url_for("request.start")),
    )


@bp.get("/permission")
def no_authority() -> str:
    """For someone who may not ask for the person (or does not know): what to do instead.

    Nothing was stored; the booking flow ends here too.
    """
    return render_template("request/no_authority.html")


@bp.get("/elsewhere")
def elsewhere() -> str:
    """For people outside both towns: where to turn instead; nothing was stored."""
    return render_template("request/elsewhere.html")


@bp.route("/check", methods=["GET", "POST"])
@limiter.limit(lambda: current_settings().rate_limit_submit, methods=["POST"])
def check() -> Response | str:
    """Show every answer with change links; on consent, send the request once."""
    try:
        draft = _draft()
    except DraftExpired:
        return _submitted_or_expired()
    if requests.submitted_from(db.session(), draft) is not None:
        return redirect(url_for("request.done"))
    missing = requests.first_missing_step(draft.answers)
    if missing:
        return redirect(url_for("request.step", name=missing))
    form = forms.CheckForm()
    if form.validate_on_submit():
        return _submit(draft)
    town = towns.town_by_slug(db.session(), draft.answers.get("town", ""))
    offer = catalogue.service_by_id(db.session(), draft.answers.get("catalogue_service") or "")
    return render_template(
        "request/check.html",
        form=form,
        answers=draft.answers,
        town=town,
        contact_label=labels.contact_method(
            draft.answers["contact_method"],
            towns.office_for(db.session(), draft.answers["contact_method"]),
        ),
        offer=catalogue.in_language(offer.texts, current_locale().code) if offer else None,
        back_url=url_for("request.step", name=previous_step("check", draft.answers)),
    )


def _submitted_or_expired() -> Response:
    """A second click on "send" after the first went through lands on the confirmation."""
    if request.method == "POST" and session.get(SESSION_SUBMITTED):
        return redirect(url_for("request.done"))
    return _expired()


def _submit(draft: RequestDraft) -> Response:
    settings = current_settings()
    try:
        submission = requests.submit_draft(
            db.session(),
            draft,
            locale=current_locale().code,
            response_days=settings.response_days,
            urgent_response_days=settings.urgent_response_days,
            privacy_version=settings.privacy_notice_version,
        )
    except DraftIncomplete as exc:
        return redirect(url_for("request.step", name=exc.step))
    if not submission.created:
        # A parallel click already sent it; leave the cookie that click set untouched.
        return redirect(url_for("request.done"))
    # The receipt is stored with the request, in the same transaction: both or neither.
    receipts.issue(db.session(), submission.request, settings.retention_days_receipt)
    mail.queue_new_request(
        db.session(),
        submission.request,
        submission.status_token,
        confirm=may_confirm_to(submission.request.email),
    )
    db.commit()
    session.pop(SESSION_DRAFT, None)
    session[SESSION_SUBMITTED] = {"id": submission.request.id, "token": submission.status_token}
    return redirect(url_for("request.done"))


def _submitted_request() -> HelpRequest | None:
    """The request this browser just sent, if the session still names it."""
    submitted = session.get(SESSION_SUBMITTED) or {}
    found = requests.request_by_status_token(db.session(), submitted.get("token", ""))
    if found is None or found.id != submitted.get("id"):
        return None
    return found


@bp.get("/done")
def done() -> Response | str:
    """The confirmation: reference, time of receipt, what happens next, the status link."""
    found = _submitted_request()
    if found is None:
        return redirect(url_for("request.start"))
    submitted = session[SESSION_SUBMITTED]
    return render_template(
        "request/done.html",
        help_request=found,
        status_url=external_url("request.status_link", token=submitted["token"]),
    )


@bp.get("/done/receipt")
def done_receipt() -> Response | str:
    """The receipt of the request just sent, to print or keep."""
    found = _submitted_request()
    if found is None:
        return redirect(url_for("request.start"))
    return receipt_page(found, url_for("request.done"))


def _linked_request(token: object) -> HelpRequest | None:
    """The request a private link opens, checked against the stored hash at every use.

    The status link stops working :attr:`private_link_days` after the request was closed;
    a link from a message of ours expires on its own date.
    """
    if not isinstance(token, str):
        return None
    found = requests.request_by_status_token(db.session(), token)
    if found is not None:
        days = current_settings().private_link_days
        return None if requests.status_link_expired(found, utcnow(), days) else found
    return messages.request_by_link(db.session(), token, utcnow())


def _expired_link(token: str) -> HelpRequest | None:
    """The request behind a link that did work once, for the kind "expired" page."""
    found = requests.request_by_status_token(db.session(), token)
    if found is None:
        found = messages.request_of_expired_link(db.session(), token, utcnow())
    return found if found is not None and found.anonymised_at is None else None


@bp.get("/status/<token>")
def status_link(token: str) -> Response:
    """The private link: remember it (sealed in the cookie), then show the request without it."""
    if _linked_request(token) is None:
        expired = _expired_link(token)
        if expired is not None:
            return Response(
                render_template("request/link_expired.html", help_request=expired), status=410
            )
        abort(404)
    session[SESSION_STATUS] = token
    return redirect(url_for("request.status"))


def linked_status_request() -> HelpRequest | None:
    """The request this browser opened by its private link, if the link still works."""
    found = _linked_request(session.get(SESSION_STATUS))
    return None if found is None or found.anonymised_at is not None else found


def _status_request() -> HelpRequest:
    found = linked_status_request()
    if found is None:
        abort(404)
    return found


@bp.get("/status")
def status() -> str:
    """What state the request is in; add information or withdraw it."""
    return _render_status(
        _status_request(),
        forms.AddInformationForm(prefix="add"),
        forms.WithdrawForm(prefix="withdraw"),
    )


def _render_status(
    found: HelpRequest,
    add_form: forms.BaseForm,
    withdraw_form: forms.BaseForm,
    erase_form: forms.BaseForm | None = None,
) -> str:
    # Once we have written to the resident, the same form answers our message.
    answering = any(event.kind == "staff_message" for event in found.events)
    if answering:
        add_form.text.label.text = _("Ihre Antwort")
    return render_template(
        "request/status.html",
        help_request=found,
        add_form=add_form,
        withdraw_form=withdraw_form,
        erase_form=erase_form or forms.EraseForm(prefix="erase"),
        is_open=found.status in requests.OPEN_STATUSES,
        resident_status=requests.resident_status(found),
        public_events=messages.public_events(found),
        answering=answering,
    )


@bp.get("/status/receipt")
def status_receipt() -> str:
    """The receipt of the request opened by its private link, to print or keep."""
    return receipt_page(_status_request(), url_for("request.status"))


@bp.post("/status/add")
@limiter.limit(lambda: current_settings().rate_limit_submit)
def add_information() -> Response | str:
    """Add further information to the request; staff are told without its content."""
    found = _status_request()
    form = forms.AddInformationForm(prefix="add")
    if not form.validate_on_submit():
        return _render_status(found, form, forms.WithdrawForm(prefix="withdraw"))
    try:
        if any(event.kind == "staff_message" for event in found.events):
            messages.answer_from_resident(db.session(), found, form.text.data or "", utcnow())
        else:
            requests.add_information(db.session(), found, form.text.data or "")
    except RequestClosed:
        flash(_("Diese Anfrage ist abgeschlossen und kann nicht mehr geändert werden."))
        return redirect(url_for("request.status"))
    mail.queue_request_changed(db.session(), found, "added")
    db.commit()
    flash(_("Danke. Wir haben Ihre Ergänzung erhalten."))
    return redirect(url_for("request.status"))


@bp.post("/status/withdraw")
def withdraw() -> Response | str:
    """Withdraw the request after a confirming tick."""
    found = _status_request()
    form = forms.WithdrawForm(prefix="withdraw")
    if not form.validate_on_submit():
        return _render_status(found, forms.AddInformationForm(prefix="add"), form)
    try:
        requests.withdraw(db.session(), found)
    except RequestClosed:
        flash(_("Diese Anfrage ist abgeschlossen und kann nicht mehr geändert werden."))
        return redirect(url_for("request.status"))
    # A withdrawn request holds no appointment: the slot is free again, no reminder goes out.
    for booking in bookings.cancel_active(db.session(), found, utcnow()):
        booking_mail.queue_booking_cancelled(db.session(), booking)
    mail.queue_request_changed(db.session(), found, "withdrawn")
    db.commit()
    flash(_("Ihre Anfrage ist zurückgezogen. Sie können jederzeit eine neue Anfrage stellen."))
    return redirect(url_for("request.status"))


@bp.post("/status/erase")
@limiter.limit(lambda: current_settings().rate_limit_submit)
def erase() -> Response | str:
    """Withdraw the request and delete everything stored about it, after a confirming tick."""
    found = _status_request()
    form = forms.EraseForm(prefix="erase")
    if not form.validate_on_submit():
        return _render_status(
            found,
            forms.AddInformationForm(prefix="add"),
            forms.WithdrawForm(prefix="withdraw"),
            form,
        )
    erase_at_residents_wish(found)
    session.pop(SESSION_STATUS, None)
    session.pop(SESSION_SUBMITTED, None)
    return redirect(url_for("request.erased"))


@bp.get("/status/erased")
def erased() -> str:
    """The request is gone: say so, and how to ask again."""
    return render_template("request/erased.html")
