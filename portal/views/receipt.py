"""Receipts: the page a resident prints or keeps, and the public page that checks one.

The check answers one sentence, "the reference … was received on … by the Soziales Duo
(town)", or "this code is not known", and nothing else: no hint whether a code is nearly
right, expired or never existed.
"""

from __future__ import annotations

import segno
from flask import Blueprint, render_template
from markupsafe import Markup

from .. import db, labels
from ..forms.receipt import VerifyForm
from ..links import external_url
from ..models import Booking, HelpRequest, Receipt, utcnow
from ..security import limiter
from ..services import receipts
from . import current_settings

bp = Blueprint("receipt", __name__, url_prefix="/<lang>/receipt")

# The code checks share one limit: typing a code and scanning one count together.
VERIFY_SCOPE = "receipt-verify"
# Receipts are checked by offices here: the printed link and the QR code open the German page
# (its language menu offers the others).
VERIFY_LANGUAGE = "de"


def verify_url(code: str) -> str:
    """The address the QR code and the printed link of a receipt lead to."""
    return external_url("receipt.verify_code", lang=VERIFY_LANGUAGE, code=receipts.grouped(code))


def qr_svg(url: str) -> Markup:
    """An inline SVG QR code of ``url``: black on white, no style attribute (strict CSP)."""
    qr = segno.make(url, error="m")
    return Markup(  # noqa: S704 - SVG made by segno from our own URL
        qr.svg_inline(scale=4, dark="#000", light="#fff", omitsize=False, svgclass="qr-code")
    )


def receipt_page(help_request: HelpRequest, back_url: str, booking: Booking | None = None) -> str:
    """The receipt of ``help_request``, issued now if it had none (the only write); with the
    appointment when it is the receipt of a ``booking`` (its time and kind of place, never a
    home address or the name of the person it is for)."""
    if booking is not None and booking.status != "active":
        booking = None  # a cancelled appointment is no longer part of what we confirm
    receipt = receipts.receipt_of(db.session(), help_request.reference)
    if receipt is None:  # sent before receipts existed: made on the first view, once
        days = current_settings().retention_days_receipt
        receipt = receipts.issue(db.session(), help_request, days)
        db.commit()
    url = verify_url(receipt.code)
    return render_template(
        "request/receipt.html",
        help_request=help_request,
        code=receipts.grouped(receipt.code),
        expires_at=receipt.expires_at,
        verify_url=url,
        qr_svg=qr_svg(url),
        back_url=back_url,
        booking=booking,
        booked_at=booking.created_at
        if booking is not None
        and abs(booking.created_at - help_request.received_at).total_seconds() > 60
        else None,
        place=labels.location_name(booking.location) if booking is not None else "",
    )


def _answer(found: Receipt | None, form: VerifyForm | None, asked: bool) -> str:
    return render_template(
        "receipt/verify.html",
        found=found,
        town=receipts.town_name(db.session(), found) if found else "",
        form=form,
        asked=asked,
    )


@bp.route("/verify", methods=["GET", "POST"])
@limiter.shared_limit(
    lambda: current_settings().rate_limit_verify, scope=VERIFY_SCOPE, methods=["POST"]
)
def verify() -> str:
    """Ask for the code on a receipt; on sending, say whether it is known."""
    form = VerifyForm()
    if form.validate_on_submit():
        found = receipts.verify(db.session(), form.code.data or "", utcnow())
        return _answer(found, None if found else form, asked=True)
    return _answer(None, form, asked=False)


@bp.get("/verify/<code>")
@limiter.shared_limit(lambda: current_settings().rate_limit_verify, scope=VERIFY_SCOPE)
def verify_code(code: str) -> str:
    """The address in a receipt's QR code: the answer at once, nothing to type."""
    found = receipts.verify(db.session(), code[:40], utcnow())
    return _answer(found, None if found else VerifyForm(formdata=None), asked=True)
