"""Home page, legal pages, accessibility feedback, and the language-neutral entry points."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from .. import db, mail, security
from ..forms.feedback import FeedbackForm
from ..i18n import EASY_LANGUAGE, best_locale, current_locale
from ..legal import accessibility as accessibility_facts
from ..legal import impressum as impressum_facts
from ..legal.privacy import privacy_facts
from ..models import utcnow
from ..security import limiter
from ..services import towns
from ..sessions import forget_resident
from . import current_settings

bp = Blueprint("public", __name__)


@bp.get("/")
def root() -> Response:
    """Send the visitor to the home page in the browser's language."""
    return redirect(url_for("public.home", lang=best_locale()))


@bp.get("/request/")
def request_entry() -> Response:
    """Stable entry for flyers and QR codes: the help request in the browser's language."""
    return redirect(url_for("request.start", lang=best_locale()))


@bp.get("/booking/")
def booking_entry() -> Response:
    """Stable entry for flyers and QR codes: consultation booking in the browser's language."""
    return redirect(url_for("booking.start", lang=best_locale()))


@bp.get("/.well-known/security.txt")
def security_txt() -> Response:
    """Where to report a vulnerability (RFC 9116)."""
    body = security.security_txt(current_settings(), utcnow())
    return Response(body, mimetype="text/plain", headers={"Cache-Control": "max-age=86400"})


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for this path; answer with the portal's icon."""
    return redirect(url_for("static", filename="img/favicon.svg"), code=301)


@bp.get("/<lang>/")
def home() -> str:
    """What the Soziales Duo is, for whom, how to reach it, and emergency numbers."""
    return render_template(
        "public/home.html",
        towns=towns.all_towns(db.session()),
        since_year=impressum_facts.SINCE_YEAR,
    )


@bp.post("/<lang>/forget")
def forget_device() -> Response:
    """Forget this browser's drafts, requests and bookings (for a shared computer)."""
    forget_resident()
    flash(
        _(
            "Dieses Gerät hat Ihre Angaben vergessen. Mit Ihrem privaten Link kommen Sie"
            " jederzeit wieder zu Ihrer Anfrage."
        )
    )
    return redirect(url_for("public.home"))


@bp.get("/<lang>/impressum")
def impressum() -> str:
    """The legal notice: both towns, their mayors, who answers for the content."""
    facts = impressum_facts.facts(current_settings(), towns.all_towns(db.session()))
    return render_template("public/impressum.html", facts=facts)


@bp.get("/<lang>/datenschutz")
def privacy() -> str:
    """The privacy notice with this portal's own periods and contacts (Leichte Sprache: its own)."""
    settings = current_settings()
    template = (
        "public/ls/privacy.html"
        if current_locale().code == EASY_LANGUAGE
        else "public/privacy.html"
    )
    facts = privacy_facts(settings, towns.all_towns(db.session()))
    return render_template(template, settings=settings, facts=facts)


@bp.get("/<lang>/leichte-sprache")
def easy_language() -> Response:
    """Old links to the one page in Leichte Sprache: the whole portal speaks it now, from /ls/."""
    return redirect(url_for("public.home", lang=EASY_LANGUAGE), code=301)


@bp.route("/<lang>/barrierefreiheit", methods=["GET", "POST"])
@limiter.limit(lambda: current_settings().rate_limit_submit, methods=["POST"])
def accessibility() -> Response | str:
    """The accessibility statement and its feedback form (in Leichte Sprache for ``ls``)."""
    facts = accessibility_facts.facts(current_settings(), towns.all_towns(db.session()))
    form = FeedbackForm()
    if form.validate_on_submit():
        mail.queue_accessibility_feedback(
            db.session(),
            message=form.message.data or "",
            page=form.page.data or "",
            reply_to=form.email.data or "",
            locale=current_locale().code,
        )
        db.commit()
        flash(
            ngettext(
                "Danke für Ihre Rückmeldung. Wenn Sie uns eine E-Mail-Adresse genannt haben, antworten wir innerhalb von %(num)d Woche.",
                "Danke für Ihre Rückmeldung. Wenn Sie uns eine E-Mail-Adresse genannt haben, antworten wir innerhalb von %(num)d Wochen.",
                facts.answer_weeks,
            )
        )
        return redirect(url_for("public.accessibility"))
    easy = current_locale().code == EASY_LANGUAGE
    return render_template(
        "public/ls/accessibility.html" if easy else "public/accessibility.html",
        form=form,
        facts=facts,
        page_hint=request.args.get("page", ""),
    )
