"""Working a request: the request page and every step on it, each a POST with its form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ... import db, labels, mail
from ...forms import staff as forms
from ...forms.base import BaseForm
from ...mail import bookings as booking_mail
from ...models import HelpRequest, utcnow
from ...services import (
    audit,
    bookings,
    catalogue,
    messages,
    referrals,
    slots,
    towns,
    workflow,
)
from ...services.errors import (
    AlreadyTaken,
    BookingClosed,
    NoEmailAddress,
    NotPermitted,
    RequestClosed,
    SlotUnavailable,
)
from .. import current_settings
from . import bp, readable_request, record, requires

FORM_CLASSES: dict[str, type[BaseForm]] = {
    "take": forms.EmptyForm,
    "release": forms.EmptyForm,
    "resume": forms.EmptyForm,
    "reopen": forms.EmptyForm,
    "assign": forms.AssignForm,
    "wait": forms.WaitForm,
    "close": forms.CloseForm,
    "urgency": forms.UrgencyForm,
    "forward": forms.ForwardForm,
    "note": forms.NoteForm,
    "call": forms.CallForm,
    "message": forms.MessageForm,
    "referral": forms.ReferralForm,
    "book": forms.BookForm,
    "propose": forms.ProposeForm,
}


def booking_policy() -> slots.Policy:
    """The booking horizon and lead time from the settings."""
    settings = current_settings()
    return slots.Policy(settings.booking_horizon_days, settings.booking_lead_minutes)


def colleague_choices(found: HelpRequest) -> list[SelectChoice]:
    """The colleagues a request can be handed to."""
    return [
        SelectChoice(user.id, user.shown_name)
        for user in workflow.colleagues_for(db.session(), found)
    ]


def town_choices(found: HelpRequest) -> list[SelectChoice]:
    """The towns a request can be forwarded to: every one but its own."""
    return [
        SelectChoice(str(town.id), town.name)
        for town in towns.all_towns(db.session())
        if town.id != found.town_id
    ]


def office_choices(found: HelpRequest) -> list[SelectChoice]:
    """The catalogue's organisations, for a referral."""
    return [
        SelectChoice("", _("Bitte wählen")),
        *(SelectChoice(org_id, name) for org_id, name in referrals.organizations(db.session())),
    ]


# The forms whose choices depend on the request, and the field that holds them.
CHOICES: dict[str, tuple[str, Callable[[HelpRequest], list[SelectChoice]]]] = {
    "assign": ("colleague", colleague_choices),
    "forward": ("town", town_choices),
    "referral": ("organization", office_choices),
}


def _fill_choices(found: HelpRequest, name: str, form: BaseForm) -> None:
    if name in CHOICES:
        field, choices = CHOICES[name]
        form[field].choices = choices(found)


def build_forms(
    found: HelpRequest, given: dict[str, BaseForm] | None = None
) -> dict[str, BaseForm]:
    """Every form of the request page, each with its own prefix; ``given`` keeps errors."""
    given = given or {}
    built = {
        name: given.get(name) or cls(prefix=name, formdata=None)
        for name, cls in FORM_CLASSES.items()
    }
    if "urgency" not in given:
        built["urgency"].urgency.data = found.urgency
    if "referral" not in given:
        built["referral"].follow_up_on.data = (utcnow() + timedelta(days=14)).date()
    for name, form in built.items():
        _fill_choices(found, name, form)
    return built


def render_request(
    found: HelpRequest, given: dict[str, BaseForm] | None = None, status: int = 200
) -> tuple[str, int]:
    """The request page; a form that failed comes back with its messages."""
    session = db.session()
    now = utcnow()
    locations = slots.bookable_locations(session)
    offers = {
        location.code: slots.next_free_slots(session, location, now, booking_policy(), limit=4)
        for location in locations
    }
    request_bookings = workflow.bookings_of(session, found)
    moves = {
        booking.id: slots.next_free_slots(session, booking.location, now, booking_policy(), limit=6)
        for booking in request_bookings
        if booking.status == "active" and booking.slot_start > now
    }
    html = render_template(
        "staff/request.html",
        help_request=found,
        forms=build_forms(found, given),
        has_errors=bool(given),
        offer=catalogue.service_by_id(session, found.catalogue_service_id or ""),
        in_language=catalogue.in_language,
        language_name=catalogue.language_name,
        timeline=workflow.timeline(session, found),
        trail=audit.entries_for_request(session, found.id),
        referrals=referrals.for_request(session, found.id),
        bookings=request_bookings,
        moves=moves,
        locations=locations,
        offers=offers,
        suggest_no_contact=workflow.suggest_no_contact(found),
        contact_label=labels.contact_method(
            found.contact_method, towns.office_for(session, found.contact_method)
        ),
        now=now,
        cancel_form=forms.EmptyForm(prefix="cancel"),
        signout_form=forms.EmptyForm(),
        accept_form=forms.EmptyForm(prefix="accept"),
    )
    return html, status


@bp.get("/requests/<reference>")
@requires("requests")
def request_detail(reference: str) -> str:
    """The whole request and every step staff can take; every read is audited."""
    found = readable_request(reference)
    record("view", found)
    db.commit()
    return render_request(found)[0]


def back_to_request(found: HelpRequest) -> Response:
    """Redirect to the request page (after a step, or when it was not possible)."""
    return redirect(url_for("staff.request_detail", reference=found.reference))


def act(
    reference: str,
    name: str,
    action: Callable[[HelpRequest, BaseForm], str | None],
    done_message: str,
) -> Response | tuple[str, int]:
    """Validate the step's form, run it, audit it, commit; or show the page with errors."""
    found = readable_request(reference)
    form = FORM_CLASSES[name](prefix=name)
    _fill_choices(found, name, form)
    if not form.validate_on_submit():
        return render_request(found, {name: form}, 400)
    try:
        detail = action(found, form) or ""
    except AlreadyTaken as exc:
        db.rollback()
        flash(_("%(name)s hat diese Anfrage schon übernommen.", name=exc.by))
        return back_to_request(found)
    except RequestClosed:
        db.rollback()
        flash(_("Die Anfrage ist abgeschlossen. Öffnen Sie sie zuerst wieder."))
        return back_to_request(found)
    except NoEmailAddress:
        db.rollback()
        flash(
            _(
                "Die Person hat keine E-Mail-Adresse angegeben. Bitte rufen Sie an oder schreiben Sie einen Brief."
            )
        )
        return back_to_request(found)
    except NotPermitted:
        db.rollback()
        flash(_("Dieser Schritt ist so nicht möglich. Bitte prüfen Sie Ihre Angaben."))
        return back_to_request(found)
    except (SlotUnavailable, BookingClosed):
        db.rollback()
        flash(_("Dieser Termin ist nicht mehr frei. Bitte wählen Sie einen anderen."))
        return back_to_request(found)
    record(name, found, detail)
    db.commit()
    flash(done_message)
    return back_to_request(found)


@bp.post("/requests/<reference>/take")
@requires("requests")
def take(reference: str) -> Response | tuple[str, int]:
    """Take the request: it is in progress, with the signed-in colleague."""

    def run(found: HelpRequest, _form: BaseForm) -> None:
        workflow.take(db.session(), found, g.staff, utcnow())

    return act(reference, "take", run, _("Sie bearbeiten jetzt diese Anfrage."))


@bp.post("/requests/<reference>/release")
@requires("requests")
def release(reference: str) -> Response | tuple[str, int]:
    """Give the request back to the inbox."""

    def run(found: HelpRequest, _form: BaseForm) -> None:
        workflow.release(db.session(), found, g.staff, utcnow())

    return act(reference, "release", run, _("Die Anfrage ist wieder neu im Eingang."))


@bp.post("/requests/<reference>/assign")
@requires("requests")
def assign(reference: str) -> Response | tuple[str, int]:
    """Hand the request to a colleague."""

    def run(found: HelpRequest, form: BaseForm) -> str:
        colleague = next(
            user
            for user in workflow.colleagues_for(db.session(), found)
            if user.id == form.colleague.data
        )
        workflow.assign(db.session(), found, g.staff, colleague, utcnow())
        return colleague.shown_name

    return act(reference, "assign", run, _("Die Anfrage ist weitergegeben."))


@bp.post("/requests/<reference>/wait")
@requires("requests")
def wait(reference: str) -> Response | tuple[str, int]:
    """The request waits for the resident or for another office."""

    def run(found: HelpRequest, form: BaseForm) -> str:
        waiting_for = form.waiting_for.data
        workflow.wait(db.session(), found, g.staff, waiting_for, utcnow())
        return str(waiting_for)

    return act(reference, "wait", run, _("Die Anfrage wartet jetzt."))


@bp.post("/requests/<reference>/resume")
@requires("requests")
def resume(reference: str) -> Response | tuple[str, int]:
    """End the wait."""

    def run(found: HelpRequest, _form: BaseForm) -> None:
        workflow.resume(db.session(), found, g.staff, utcnow())

    return act(reference, "resume", run, _("Die Anfrage ist wieder in Bearbeitung."))


def _cancel_bookings(found: HelpRequest) -> None:
    for booking in bookings.cancel_active(db.session(), found, utcnow()):
        booking_mail.queue_booking_cancelled(db.session(), booking)


@bp.post("/requests/<reference>/close")
@requires("requests")
def close(reference: str) -> Response | tuple[str, int]:
    """Close with an outcome; appointments still ahead are cancelled and the booker told."""

    def run(found: HelpRequest, form: BaseForm) -> str:
        outcome = form.outcome.data
        duplicate_of = form.duplicate_of.data or ""
        workflow.close(db.session(), found, g.staff, outcome, utcnow(), duplicate_of)
        _cancel_bookings(found)
        return str(outcome)

    return act(reference, "close", run, _("Die Anfrage ist abgeschlossen."))


@bp.post("/requests/<reference>/reopen")
@requires("requests")
def reopen(reference: str) -> Response | tuple[str, int]:
    """Open a closed request again."""

    def run(found: HelpRequest, _form: BaseForm) -> None:
        workflow.reopen(db.session(), found, g.staff, utcnow())

    return act(reference, "reopen", run, _("Die Anfrage ist wieder geöffnet."))


@bp.post("/requests/<reference>/urgency")
@requires("requests")
def urgency(reference: str) -> Response | tuple[str, int]:
    """Change the urgency."""

    def run(found: HelpRequest, form: BaseForm) -> str:
        value = form.urgency.data
        workflow.set_urgency(db.session(), found, g.staff, value, utcnow())
        return str(value)

    return act(reference, "urgency", run, _("Die Dringlichkeit ist geändert."))


@bp.post("/requests/<reference>/forward")
@requires("requests")
def forward(reference: str) -> Response | tuple[str, int]:
    """Send the request to the other town's team, whose inbox is told."""

    def run(found: HelpRequest, form: BaseForm) -> str:
        town = next(
            town for town in towns.all_towns(db.session()) if str(town.id) == form.town.data
        )
        workflow.forward(db.session(), found, g.staff, town, utcnow())
        mail.queue_new_request(db.session(), found, None)
        return town.name

    found = readable_request(reference)
    response = act(reference, "forward", run, _("Die Anfrage ist weitergeleitet."))
    if isinstance(response, Response) and not _still_readable(found):
        return redirect(url_for("staff.inbox"))
    return response


def _still_readable(found: HelpRequest) -> bool:
    return bool(g.staff.may_read_town(found.town_id))


@bp.post("/requests/<reference>/note")
@requires("requests")
def note(reference: str) -> Response | tuple[str, int]:
    """An internal note."""

    def run(found: HelpRequest, form: BaseForm) -> None:
        workflow.add_note(db.session(), found, g.staff, form.text.data or "", utcnow())

    return act(reference, "note", run, _("Die Notiz ist gespeichert."))


@bp.post("/requests/<reference>/call")
@requires("requests")
def call(reference: str) -> Response | tuple[str, int]:
    """Record a phone contact."""

    def run(found: HelpRequest, form: BaseForm) -> str:
        result = form.result.data
        workflow.record_call(
            db.session(),
            found,
            g.staff,
            result,
            form.note.data or "",
            utcnow(),
        )
        return str(result)

    return act(reference, "call", run, _("Der Anruf ist festgehalten."))


@bp.post("/requests/<reference>/message")
@requires("requests")
def message(reference: str) -> Response | tuple[str, int]:
    """Write to the resident: an email in their language says a message is waiting."""

    def run(found: HelpRequest, form: BaseForm) -> None:
        now = utcnow()
        days = current_settings().resident_link_days
        text = form.text.data or ""
        token = messages.send_to_resident(
            db.session(),
            found,
            g.staff,
            text,
            now,
            days,
            bool(form.wait.data),
        )
        mail.queue_resident_message(db.session(), found, text, token, now + timedelta(days=days))

    return act(reference, "message", run, _("Die Nachricht ist gesendet."))
