"""Composing the portal's emails, each in its recipient's language, into the outbox."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import parseaddr

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy.orm import Session, object_session

from .. import labels
from ..config import Settings, settings_of
from ..i18n import catalog_of
from ..legal import accessibility
from ..links import external_url
from ..models import ConsultationLocation, HelpRequest, utcnow
from ..services import choices, outbox, smime, towns
from ..services.errors import CertificateRefused

STAFF_LOCALE = "de"
log = logging.getLogger("portal.mail")


def _settings() -> Settings:
    settings = settings_of(current_app)
    return settings


def new_message_id(reference: str = "") -> str:
    """A globally unique Message-ID on the sender's domain, fixed when the email is queued."""
    domain = parseaddr(_settings().mail_sender)[1].rpartition("@")[2] or "localhost"
    prefix = f"{reference.lower()}." if reference else ""
    return f"<{prefix}{uuid.uuid4().hex}@{domain}>"


def _compose(
    kind: str,
    template: str,
    recipient: str,
    locale: str,
    subject_args: dict[str, str],
    **context: object,
) -> outbox.Email:
    """Render a message's subject, text and HTML parts under ``locale``."""
    with force_locale(catalog_of(locale)):
        subject = render_template(
            f"emails/{template}.subject.txt", **subject_args, **context
        ).strip()
        text = render_template(f"emails/{template}.txt", **context)
        html = render_template(f"emails/{template}.html", **context)
    request = context.get("help_request")
    reference = request.reference if isinstance(request, HelpRequest) else ""
    return outbox.Email(
        kind=kind,
        recipient=recipient,
        subject=" ".join(subject.split()),
        body_text=text,
        body_html=html,
        message_id=new_message_id(reference),
        locale=locale,
        request_id=request.id if isinstance(request, HelpRequest) else None,
    )


def _office(help_request: HelpRequest) -> ConsultationLocation | None:
    """The office the request's contact method names, if any."""
    session = object_session(help_request)
    return towns.office_for(session, help_request.contact_method) if session else None


def _staff_facts(help_request: HelpRequest) -> dict[str, object]:
    """What the staff email may carry: no social or health data."""
    with force_locale(STAFF_LOCALE):
        return {
            "topic_groups": [
                str(labels.TOPIC_GROUPS[g]) for g in choices.topic_groups(help_request.topics)
            ],
            "urgency": str(labels.URGENCY_SHORT[help_request.urgency]),
            "language": str(labels.LANGUAGES.get(help_request.language, help_request.language)),
            "contact_method": labels.contact_method(
                help_request.contact_method,
                _office(help_request),
            ),
        }


# One-click actions in the staff notification. Each link opens a confirmation page in the
# staff area; nothing changes on the GET a mail scanner or link preview makes.
EMAIL_ACTIONS = ("take", "urgent", "forward", "duplicate")


def action_links(help_request: HelpRequest) -> dict[str, str]:
    """The confirmation page of each one-click action, by action."""
    return {
        action: external_url(
            "staff.confirm_action",
            lang=STAFF_LOCALE,
            reference=help_request.reference,
            action=action,
        )
        for action in EMAIL_ACTIONS
    }


def _labelled(mapping: dict[str, object], codes: list[str]) -> list[str]:
    """The German labels of ``codes``, unknown codes as they are."""
    return [str(mapping.get(code, code)) for code in codes]


def _full_facts(help_request: HelpRequest) -> dict[str, object]:
    """Everything the requester gave, labelled in German: only for the encrypted email."""
    with force_locale(STAFF_LOCALE):
        return {
            "relationship": str(labels.RELATIONSHIPS.get(help_request.relationship_kind, "")),
            "authority": str(labels.AUTHORITIES.get(help_request.authority, "")),
            "topics": _labelled(labels.TOPICS, help_request.topics),
            "urgency_text": str(labels.URGENCIES[help_request.urgency]),
            "contact_days": _labelled(labels.DAYS, help_request.contact_days),
            "contact_times": _labelled(labels.TIMES, help_request.contact_times),
            "accessibility": _labelled(
                labels.accessibility_labels(help_request.on_behalf), help_request.accessibility
            ),
        }


def _full_entity(help_request: HelpRequest, link: str) -> bytes:
    """The whole request as a text and HTML MIME entity (CRLF), to be encrypted."""
    context = {"help_request": help_request, "link": link}
    context.update(_staff_facts(help_request))
    context.update(_full_facts(help_request))
    with force_locale(STAFF_LOCALE):
        text = render_template("emails/staff_new_request_full.txt", **context)
        html = render_template("emails/staff_new_request_full.html", **context)
    entity = EmailMessage(policy=SMTP)
    entity.set_content(text, cte="quoted-printable")
    entity.add_alternative(html, subtype="html", cte="quoted-printable")
    return entity.as_bytes()


def _encrypted(email: outbox.Email, help_request: HelpRequest, link: str) -> outbox.Email:
    """``email`` with the whole request encrypted to the town's certificate, where it has one.

    An unusable certificate must not lose the notification: the content-free one goes out.
    """
    town = help_request.town
    if not town.smime_certificate:
        return email
    try:
        certificate = smime.load_certificate(town.smime_certificate, utcnow())
    except CertificateRefused as refused:
        log.warning(
            "S/MIME certificate of town %s not usable (%s); notification sent without content",
            town.slug,
            refused.reason,
        )
        return email
    entity = smime.envelope(_full_entity(help_request, link), certificate)
    return dataclasses.replace(email, encrypted_mime=entity)


def queue_new_request(
    session: Session, help_request: HelpRequest, status_token: str | None, confirm: bool = True
) -> None:
    """Queue the staff notification and, with an email address, the resident's confirmation.

    ``confirm=False`` (the address had its confirmations for today) leaves the confirmation out.
    """
    staff_link = external_url(
        "staff.request_detail", lang=STAFF_LOCALE, reference=help_request.reference
    )
    notification = _compose(
        "staff_new_request",
        "staff_new_request",
        help_request.town.inbox_email,
        STAFF_LOCALE,
        {},
        help_request=help_request,
        link=staff_link,
        actions=action_links(help_request),
        **_staff_facts(help_request),
    )
    outbox.enqueue(session, _encrypted(notification, help_request, staff_link))
    if confirm:
        queue_resident_confirmation(session, help_request, status_token)


def queue_resident_confirmation(
    session: Session, help_request: HelpRequest, status_token: str | None
) -> None:
    """With an email address, the resident's confirmation with the private status link."""
    if help_request.email and status_token:
        status_link = external_url(
            "request.status_link", lang=help_request.locale, token=status_token
        )
        outbox.enqueue(
            session,
            _compose(
                "resident_confirmation",
                "resident_confirmation",
                help_request.email,
                help_request.locale,
                {},
                help_request=help_request,
                status_link=status_link,
            ),
        )


def queue_request_changed(session: Session, help_request: HelpRequest, change: str) -> None:
    """Tell the town's inbox that the resident added information or withdrew (no content)."""
    staff_link = external_url(
        "staff.request_detail", lang=STAFF_LOCALE, reference=help_request.reference
    )
    outbox.enqueue(
        session,
        _compose(
            f"staff_request_{change}",
            "staff_request_changed",
            help_request.town.inbox_email,
            STAFF_LOCALE,
            {},
            help_request=help_request,
            change=change,
            link=staff_link,
        ),
    )


def queue_resident_message(
    session: Session, help_request: HelpRequest, text: str, token: str, expires_at: datetime
) -> None:
    """Tell the resident, in their language, that a message waits behind a fresh link.

    The message itself travels in the email only where the town allows it; otherwise the
    email says only that there is a message.
    """
    link = external_url("request.status_link", lang=help_request.locale, token=token)
    outbox.enqueue(
        session,
        _compose(
            "resident_message",
            "resident_message",
            help_request.email,
            help_request.locale,
            {},
            help_request=help_request,
            link=link,
            expires_at=expires_at,
            message_text=text if help_request.town.message_text_in_email else "",
        ),
    )


def queue_accessibility_feedback(
    session: Session, message: str, page: str, reply_to: str, locale: str
) -> None:
    """Forward feedback on accessibility to the responsible inbox, in German, with the answer
    period the statement and the confirmation promised."""
    facts = accessibility.facts(_settings())
    email = _compose(
        "accessibility_feedback",
        "accessibility_feedback",
        _settings().feedback_inbox,
        STAFF_LOCALE,
        {},
        message=message,
        page=page,
        reply_to=reply_to,
        feedback_locale=locale,
        answer_weeks=facts.answer_weeks,
    )
    outbox.enqueue(session, dataclasses.replace(email, reply_to=reply_to))
