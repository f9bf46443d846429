"""One-click actions from the notification email: a confirmation page, then a POST.

A mail scanner or link preview opens every link in an email; so the link only shows what
would happen, and the change needs a signed-in colleague who presses the button.
"""

from __future__ import annotations

from flask import abort, g, render_template

from ...forms.staff import CloseForm, EmptyForm, ForwardForm, UrgencyForm
from ...mail import EMAIL_ACTIONS
from . import bp, readable_request, requires
from .work import town_choices


@bp.get("/requests/<reference>/confirm/<action>")
@requires("requests")
def confirm_action(reference: str, action: str) -> str:
    """Show what the email's link would do, with one button to do it."""
    if action not in EMAIL_ACTIONS:
        abort(404)
    found = readable_request(reference)
    forward_form = ForwardForm(prefix="forward", formdata=None)
    forward_form.town.choices = town_choices(found)
    urgency_form = UrgencyForm(prefix="urgency", formdata=None)
    urgency_form.urgency.data = "urgent"
    close_form = CloseForm(prefix="close", formdata=None)
    close_form.outcome.data = "duplicate"
    taken_by = (
        found.assignee.shown_name
        if found.assignee is not None and found.assignee_id != g.staff.id
        else ""
    )
    return render_template(
        "staff/confirm.html",
        action=action,
        help_request=found,
        taken_by=taken_by,
        take_form=EmptyForm(prefix="take", formdata=None),
        urgency_form=urgency_form,
        forward_form=forward_form,
        close_form=close_form,
        signout_form=EmptyForm(),
    )
