"""The help request: one question per page, answers kept on the server, sent once."""

from __future__ import annotations

import contextlib
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

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
    drafts,
    messages,
    receipts,
    requests,
    towns,
)
from ..services.errors import DraftExpired, DraftIncomplete, RequestClosed
from . import current_settings, erase_at_residents_wish, may_confirm_to
from .flow import Flow, Forget, Step, check_view, step_view
from .people import FORGET_RELATION, TO_ELSEWHERE, WITHOUT_AUTHORITY, town_choices
from .receipt import receipt_page

bp = Blueprint("request", __name__, url_prefix="/<lang>/request")

SESSION_DRAFT = "request_draft"
SESSION_SUBMITTED = "request_submitted"
SESSION_STATUS = "request_status"
# About how long the questions take, as the start page says.
MINUTES_TO_ASK = 5


def _contact_choices(form: forms.BaseForm, answers: requests.RequestAnswers) -> None:
    form.contact_method.choices = forms.contact_choices(towns.offices(db.session()))


def _for_other(answers: requests.RequestAnswers) -> dict[str, Any]:
    return {"for_other": answers.for_other}


def _how_to_reach(answers: requests.RequestAnswers) -> dict[str, Any]:
    return {
        "needs_address": answers.home_visit,
        "needs_phone": answers.contact_method == "callback",
    }


# No visit, no address.
FORGET_ADDRESS = Forget(
    drafts.ADDRESS_ANSWERS, lambda new, before: new["contact_method"] != "home_visit"
)


def _summary(answers: requests.RequestAnswers) -> dict[str, Any]:
    """What the check page shows besides the answers: the town, the contact, the offer."""
    offer = catalogue.service_by_id(db.session(), answers.catalogue_service or "")
    return {
        "town": towns.town_by_slug(db.session(), answers.town),
        "contact_label": labels.contact_method(
            answers.contact_method, towns.office_for(db.session(), answers.contact_method)
        ),
        "offer": catalogue.in_language(offer.texts, current_locale().code) if offer else None,
    }


def _status_token() -> str:
    """The private link's token of the draft in this browser's session."""
    return requests.status_token_of_draft(
        current_settings().secret_key, str(session.get(SESSION_DRAFT, ""))
    )


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
            status_token=_status_token(),
        )
    except DraftIncomplete as exc:
        return redirect(FLOW.answer_url(exc.answer))
    if not submission.created:
        # A parallel click already sent it; the confirmation is this browser's all the same.
        _remember_submitted(submission.request)
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
    _remember_submitted(submission.request)
    return redirect(url_for("request.done"))


def _submitted_from(draft: RequestDraft) -> object | None:
    """The request this browser's draft became, remembered in the session for the confirmation.

    A resident whose answer to "send" never arrived (a crashed app server, a lost connection)
    presses the button again: no second request, and the confirmation with its reference.
    """
    found = requests.submitted_from(db.session(), draft)
    if found is not None and session.get(SESSION_SUBMITTED, {}).get("id") != found.id:
        _remember_submitted(found)
    return found


def _remember_submitted(found: HelpRequest) -> None:
    """Let the confirmation pages show ``found``, the request of the draft in the session."""
    session[SESSION_SUBMITTED] = {"id": found.id, "token": _status_token()}
    session.pop(SESSION_DRAFT, None)


FLOW = Flow(
    name="request",
    session_key=SESSION_DRAFT,
    done_key=SESSION_SUBMITTED,
    templates="request",
    steps=(
        Step("who", forms.WhoForm, ("who",), forget=(FORGET_RELATION,)),
        Step(
            "relation",
            forms.RelationForm,
            drafts.RELATION_ANSWERS,
            lambda answers: answers.for_other,
            exits=(WITHOUT_AUTHORITY,),
        ),
        Step("town", forms.TownForm, ("town",), choices=town_choices, exits=(TO_ELSEWHERE,)),
        Step("topics", forms.TopicsForm, ("topics",), form_kwargs=_for_other),
        Step("need", forms.NeedForm, ("need",), form_kwargs=_for_other),
        Step("urgency", forms.UrgencyForm, ("urgency",)),
        Step(
            "contact",
            forms.ContactForm,
            ("contact_method",),
            choices=_contact_choices,
            forget=(FORGET_ADDRESS,),
        ),
        Step("times", forms.TimesForm, ("contact_days", "contact_times")),
        Step("language", forms.LanguageForm, ("language", "interpreter")),
        Step(
            "accessibility",
            forms.AccessibilityForm,
            ("accessibility", "accessibility_note"),
            form_kwargs=_for_other,
        ),
        Step(
            "details",
            forms.DetailsForm,
            ("name", "phone", "email", *drafts.ADDRESS_ANSWERS),
            form_kwargs=_how_to_reach,
        ),
    ),
    read=requests.RequestAnswers.from_dict,
    check_form=forms.CheckForm,
    finished=_submitted_from,
    finish=_submit,
    summary=_summary,
)


@bp.get("/")
def start() -> str:
    """The start page: what the request is for, and a way back into an unfinished one.

    Coming from a catalogue offer ("ask the Soziales Duo about this"), it names the offer.
    """
    offer = catalogue.visible_service(db.session(), request.args.get("service", ""))
    return render_template(
        "request/start.html",
        resume_url=FLOW.resume_url(),
        minutes=MINUTES_TO_ASK,
        offer=catalogue.in_language(offer.texts, current_locale().code) if offer else None,
    )


@bp.post("/")
def begin() -> Response:
    """Start a new request (or start over), throwing away any unfinished one.

    Coming from a catalogue offer ("ask the Soziales Duo about this") with a request already
    under way, the offer and its topic are added to that request instead: nothing is lost.
    """
    topics = requests.opening_topics(request.args.get("topic", ""))
    answers: dict[str, Any] = {"topics": topics} if topics else {}
    offer = catalogue.service_by_id(db.session(), request.args.get("service", "").lower())
    if offer is not None:
        answers["catalogue_service"] = offer.id
        with contextlib.suppress(DraftExpired):
            draft = FLOW.draft()
            if requests.submitted_from(db.session(), draft) is None:
                answers["topics"] = requests.merged_topics(draft.answers.get("topics", []), topics)
                drafts.save_answers(draft, answers, current_settings().draft_hours)
                db.commit()
                flash(_("Wir haben das Angebot zu Ihrer begonnenen Anfrage hinzugefügt."))
                return redirect(FLOW.url(FLOW.resume(draft.answers)))
    return FLOW.restart(answers)


@bp.route("/<name>", methods=["GET", "POST"])
def step(name: str) -> Response | str:
    """Ask one question; on a valid answer, store it and go on."""
    return step_view(FLOW, name)


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
    return check_view(FLOW)


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
