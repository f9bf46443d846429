"""Translated labels, keyed by codes that live elsewhere: the request's choices in
:mod:`portal.services.choices`, status and other stored codes in :mod:`portal.models`, a few
service codes beside the rules that use them. ``tests/unit/test_labels.py`` keeps both in step."""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING, Any

from babel.lists import format_list
from flask_babel import LazyString, format_time, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .i18n import EASY_LANGUAGE
from .services import choices

if TYPE_CHECKING:
    from .models import ConsultationLocation

TOPICS = {
    "therapy": _l("Therapie finden (zum Beispiel Physiotherapie oder Psychotherapie)"),
    "transport": _l("Fahrdienst, zum Beispiel zum Arzt"),
    "household": _l("Hilfe im Haushalt"),
    "care": _l("Pflege und Betreuung zu Hause"),
    "benefits": _l("Geld und Leistungen: Was steht mir zu?"),
    "debt": _l("Schulden und Geldsorgen"),
    "housing": _l("Wohnen"),
    "everyday": _l("Einsamkeit und Hilfe im Alltag"),
    "other": _l("Etwas anderes"),
}

TOPIC_GROUPS = {
    "health": _l("Gesundheit und Therapie"),
    "mobility": _l("Mobilität"),
    "care": _l("Pflege und Haushalt"),
    "money": _l("Geld und Leistungen"),
    "daily": _l("Wohnen und Alltag"),
    "other": _l("Sonstiges"),
}

URGENCIES = {
    "normal": _l("Es hat etwas Zeit"),
    "soon": _l("Bald – in den nächsten Tagen"),
    "urgent": _l("Dringend – heute oder morgen"),
}

# Translators: short urgency word used in the staff email subject and the staff inbox.
URGENCY_SHORT = {
    "normal": _l("normal"),
    "soon": _l("bald"),
    "urgent": _l("dringend"),
}

CONTACT_METHODS = {
    "callback": _l("Rückruf am Telefon"),
    "home_visit": _l("Besuch zu Hause"),
}

DAYS = {
    "mon": _l("Montag"),
    "tue": _l("Dienstag"),
    "wed": _l("Mittwoch"),
    "thu": _l("Donnerstag"),
    "fri": _l("Freitag"),
}


def _hours(start: int, end: int) -> dict[str, str]:
    """Two full hours as times of day in the current language ("08:00", "8:00 AM")."""
    return {
        "start": format_time(time(start), "short"),
        "end": format_time(time(end), "short"),
    }


# The hours come from choices.TIME_HOURS; they are formatted when the label is shown.
TIMES = {
    "morning": LazyString(
        lambda: _(
            "Vormittags (%(start)s bis %(end)s Uhr)", **_hours(*choices.TIME_HOURS["morning"])
        )
    ),
    "afternoon": LazyString(
        lambda: _(
            "Nachmittags (%(start)s bis %(end)s Uhr)", **_hours(*choices.TIME_HOURS["afternoon"])
        )
    ),
}
# Shown when no time of day was chosen: we call within these hours.
TIMES_ANY = LazyString(
    lambda: _("Zwischen %(start)s und %(end)s Uhr", **_hours(*choices.CONTACT_HOURS))
)
TIMES_HINT = LazyString(
    lambda: _(
        "Wenn Sie nichts auswählen, melden wir uns montags bis freitags zwischen %(start)s und "
        "%(end)s Uhr.",
        **_hours(*choices.CONTACT_HOURS),
    )
)

RELATIONSHIPS = {
    "child": _l("Ich bin das Kind der Person (Sohn oder Tochter)"),
    "parent": _l("Ich bin ein Elternteil"),
    "partner": _l("Ich bin mit der Person verheiratet oder lebe mit ihr in einer Partnerschaft"),
    "relative": _l("Ich bin mit der Person verwandt"),
    "neighbour": _l("Ich bin Nachbar, Nachbarin, Freund oder Freundin"),
    "carer": _l("Ich pflege oder betreue die Person"),
    "professional": _l("Ich helfe beruflich (zum Beispiel Pflegedienst, Arztpraxis, Beratung)"),
    "other": _l("Etwas anderes"),
}

AUTHORITIES = {
    "consent": _l("Die Person weiß von dieser Anfrage und ist einverstanden."),
    "legal": _l("Ich bin die rechtliche Vertretung (zum Beispiel Betreuung oder Vollmacht)."),
}

# The third answer to "may you ask for the person?": it ends the request without storing it.
NO_AUTHORITY = _l("Nein, oder ich weiß es nicht.")

LANGUAGES = {
    "de": _l("Deutsch"),
    "en": _l("Englisch"),
    "tr": _l("Türkisch"),
    "ar": _l("Arabisch"),
    "ru": _l("Russisch"),
    "uk": _l("Ukrainisch"),
    "pl": _l("Polnisch"),
    "ro": _l("Rumänisch"),
    "bg": _l("Bulgarisch"),
    "ku": _l("Kurdisch"),
    "fa": _l("Persisch (Farsi oder Dari)"),
    "other": _l("Eine andere Sprache"),
}


def portal_language(code: str) -> str:
    """The name of the portal language a record was made in, for staff ("Leichte Sprache")."""
    if code == EASY_LANGUAGE:
        return str(_l("Leichte Sprache"))
    return str(LANGUAGES.get(code, code))


ACCESSIBILITY = {
    "wheelchair": _l("Ich brauche einen Zugang ohne Stufen (zum Beispiel mit Rollstuhl)."),
    "hearing": _l("Ich höre schlecht oder brauche Gebärdensprache."),
    "sight": _l("Ich sehe schlecht."),
    "easy_language": _l("Bitte erklären Sie alles in Leichter Sprache."),
    "other": _l("Etwas anderes (bitte unten beschreiben)"),
}
# The same needs when someone asks for another person: they are the person's needs.
ACCESSIBILITY_OTHER = {
    **ACCESSIBILITY,
    "wheelchair": _l("Die Person braucht einen Zugang ohne Stufen (zum Beispiel mit Rollstuhl)."),
    "hearing": _l("Die Person hört schlecht oder braucht Gebärdensprache."),
    "sight": _l("Die Person sieht schlecht."),
}


def accessibility_labels(on_behalf: bool) -> dict[str, Any]:
    """The accessibility needs in the words that fit whom the request is for."""
    return ACCESSIBILITY_OTHER if on_behalf else ACCESSIBILITY


# A request's status in words: the one place for pages, emails and exports. The resident reads
# their view of it (models.request.RESIDENT_STATUSES), never who works on it or internal notes;
# staff read the short word of the workflow status (models.request.REQUEST_STATUSES).
STATUSES = {
    "received": _l("Eingegangen – wir melden uns bald bei Ihnen."),
    "in_progress": _l("In Bearbeitung – jemand kümmert sich um Ihre Anfrage."),
    "waiting_resident": _l("Wir warten auf Ihre Antwort. Bitte lesen Sie unsere Nachricht."),
    "closed": _l("Abgeschlossen – wir haben die Arbeit an Ihrer Anfrage beendet."),
    "withdrawn": _l("Zurückgezogen – Sie haben die Anfrage zurückgenommen."),
}

# Translators: short status word for the staff inbox table.
STATUS_SHORT = {
    "received": _l("neu"),
    "in_progress": _l("in Bearbeitung"),
    "waiting": _l("wartet"),
    "closed": _l("abgeschlossen"),
}

# The timeline as staff read it.
EVENTS = {
    "submitted": _l("Anfrage gesendet"),
    "entered": _l("Anfrage von uns erfasst"),
    "booked": _l("Termin gebucht"),
    "booking_moved": _l("Termin verschoben"),
    "booking_cancelled": _l("Termin abgesagt"),
    "resident_added": _l("Weitere Informationen ergänzt"),
    "withdrawn": _l("Anfrage zurückgezogen"),
    "taken": _l("Übernommen"),
    "assigned": _l("Weitergegeben an Kollegin oder Kollegen"),
    "released": _l("Zurückgegeben, wieder neu"),
    "waiting": _l("Wartet"),
    "resumed": _l("Wieder in Bearbeitung"),
    "closed": _l("Abgeschlossen"),
    "reopened": _l("Wieder geöffnet"),
    "urgency": _l("Dringlichkeit geändert"),
    "forwarded": _l("An den anderen Ort weitergeleitet"),
    "note": _l("Interne Notiz"),
    "call": _l("Anruf"),
    "staff_message": _l("Nachricht an die Person"),
    "resident_message": _l("Antwort der Person"),
    "staff_mail": _l("Antwort per E-Mail aus dem Team"),
    "resident_mail": _l("E-Mail der Person"),
    "filed_mail": _l("E-Mail von der Koordination zugeordnet"),
    "referral": _l("Weitervermittelt"),
    "referral_accepted": _l("Weitervermittlung angenommen"),
}

# The timeline as the resident reads it: only what they did and what we wrote to them.
RESIDENT_EVENTS = {
    "submitted": _l("Anfrage gesendet"),
    "entered": _l("Anfrage aufgenommen"),
    "booked": _l("Termin gebucht"),
    "booking_moved": _l("Termin verschoben"),
    "booking_cancelled": _l("Termin abgesagt"),
    "resident_added": _l("Weitere Informationen ergänzt"),
    "withdrawn": _l("Anfrage zurückgezogen"),
    "staff_message": _l("Nachricht vom Sozialen Duo"),
    "resident_message": _l("Ihre Antwort"),
    "resident_mail": _l("Ihre E-Mail"),
}

OUTCOMES = {
    "helped": _l("geholfen"),
    "referred": _l("an eine andere Stelle vermittelt"),
    "no_contact": _l("kein Kontakt möglich"),
    "withdrawn": _l("zurückgezogen"),
    "duplicate": _l("doppelt (es gibt schon eine Anfrage)"),
    "not_our_task": _l("nicht unsere Aufgabe"),
}

WAITING_FOR = {
    "resident": _l("wartet auf die Person"),
    "office": _l("wartet auf eine andere Stelle"),
}

CALL_RESULTS = {
    "reached": _l("Erreicht"),
    "not_reached": _l("Nicht erreicht"),
    "voicemail": _l("Auf die Mailbox gesprochen"),
}

CHANNELS = {
    "online": _l("Online-Formular"),
    "phone": _l("Telefon"),
    "counter": _l("Persönlich im Rathaus"),
}

# Translators: what happened to an email the portal sent, on the staff timeline.
OUTBOX_STATUSES = {
    "pending": _l("E-Mail wartet auf den Versand"),
    "sending": _l("E-Mail wird gesendet"),
    "sent": _l("E-Mail gesendet"),
    "failed": _l("E-Mail konnte nicht gesendet werden"),
    "bounced": _l("E-Mail kam als unzustellbar zurück"),
}


def audit_detail(action: str, detail: str) -> str:
    """An audit entry's detail in words where it is a code (an outcome, a call's result)."""
    table = {
        "close": OUTCOMES,
        "wait": WAITING_FOR,
        "urgency": URGENCY_SHORT,
        "call": CALL_RESULTS,
        "enter": CHANNELS,
    }.get(action)
    if table is not None and detail in table:
        return str(table[detail])
    return "" if action in ("book", "referral") else detail


ALL_EVENTS = _l("Alle Ereignisse")
# The security event log's kinds of event (portal.services.security_log.KINDS).
SECURITY_EVENTS = {
    "signin": _l("Angemeldet"),
    "signin_recovery": _l("Angemeldet mit Wiederherstellungs-Code"),
    "signin_failed": _l("Anmeldung abgelehnt"),
    "signin_wait": _l("Anmeldung abgelehnt: Wartezeit nach Fehlversuchen"),
    "code_failed": _l("Einmal-Code abgelehnt"),
    "activation": _l("Konto eingerichtet"),
    "password_change": _l("Eigenes Passwort geändert"),
    "password_reset": _l("Passwort zurückgesetzt"),
    "factor_reset": _l("Zweiter Faktor zurückgesetzt"),
    "recovery_codes": _l("Neue Wiederherstellungs-Codes"),
    "signout": _l("Abgemeldet"),
    "session_end": _l("Sitzung beendet"),
    "session_expired": _l("Sitzung abgelaufen"),
    "csrf_failed": _l("Formular ohne gültiges Sicherheitsmerkmal abgelehnt"),
    "rate_limited": _l("Zu viele Anfragen in kurzer Zeit abgelehnt"),
}

AUDIT_ACTIONS = {
    "view": _l("Anfrage angesehen"),
    "take": _l("Anfrage übernommen"),
    "assign": _l("Anfrage weitergegeben"),
    "release": _l("Anfrage zurückgegeben"),
    "wait": _l("Auf Warten gesetzt"),
    "resume": _l("Wieder in Bearbeitung"),
    "close": _l("Anfrage abgeschlossen"),
    "reopen": _l("Anfrage wieder geöffnet"),
    "urgency": _l("Dringlichkeit geändert"),
    "forward": _l("An den anderen Ort weitergeleitet"),
    "note": _l("Notiz geschrieben"),
    "call": _l("Anruf festgehalten"),
    "message": _l("Nachricht an die Person gesendet"),
    "referral": _l("Weitervermittlung festgehalten"),
    "referral_accepted": _l("Weitervermittlung als angenommen markiert"),
    "book": _l("Termin gebucht"),
    "propose": _l("Termine vorgeschlagen"),
    "booking_move": _l("Termin verschoben"),
    "booking_cancel": _l("Termin abgesagt"),
    "enter": _l("Anfrage erfasst"),
    "mail_file": _l("E-Mail einer Anfrage zugeordnet"),
    "mail_dismiss": _l("E-Mail als erledigt markiert"),
    "town_add": _l("Stadt angelegt"),
    "town_edit": _l("Stadt geändert"),
    "location_add": _l("Beratungsort angelegt"),
    "location_edit": _l("Beratungsort geändert"),
    "signin": _l("Angemeldet"),
    "signin_failed": _l("Anmeldung fehlgeschlagen"),
    "lockout": _l("Anmeldung gesperrt nach zu vielen Fehlversuchen"),
    "signout": _l("Abgemeldet"),
    "audit_view": _l("Protokoll angesehen"),
    "security_log_view": _l("Sicherheitsprotokoll angesehen"),
    "hours_rule_add": _l("Sprechzeit eingetragen"),
    "hours_rule_change": _l("Sprechzeit geändert"),
    "hours_rule_end": _l("Sprechzeit beendet"),
    "hours_rule_delete": _l("Sprechzeit gelöscht"),
    "hours_closure_add": _l("Schließzeit eingetragen"),
    "hours_closure_delete": _l("Schließzeit gelöscht"),
    "figures_export": _l("Zahlen als CSV-Datei heruntergeladen"),
    "export": _l("Alle gespeicherten Daten der Anfrage abgerufen"),
    "erase": _l("Anfrage auf Wunsch der Person gelöscht"),
    "resident_erase": _l("Anfrage von der Person selbst gelöscht"),
    "catalogue_draft": _l("Entwurf im Angebotsverzeichnis gespeichert"),
    "catalogue_publish": _l("Eintrag im Angebotsverzeichnis veröffentlicht"),
    "catalogue_discard": _l("Entwurf im Angebotsverzeichnis verworfen"),
    "signin_recovery": _l("Angemeldet mit Wiederherstellungs-Code"),
    "account_invite": _l("Kollegin oder Kollegen eingeladen"),
    "account_role": _l("Rolle oder Ort eines Kontos geändert"),
    "account_disable": _l("Konto gesperrt"),
    "account_enable": _l("Konto wieder freigegeben"),
    "account_reset_password": _l("Passwort eines Kontos zurückgesetzt"),
    "account_reset_factor": _l("Zweiten Faktor eines Kontos zurückgesetzt"),
    "account_resend": _l("Einladungslink neu verschickt"),
    "account_activate": _l("Konto über Link eingerichtet"),
    "session_end": _l("Sitzung beendet"),
    "session_end_all": _l("Alle Sitzungen beendet"),
    "password_change": _l("Eigenes Passwort geändert"),
    "recovery_codes": _l("Neue Wiederherstellungs-Codes erstellt"),
    "account_reset_cli": _l("Zugang über die Kommandozeile zurückgesetzt"),
}

# The roles of staff accounts (see portal.services.access.PERMISSIONS).
ROLE_NAMES = {
    "caseworker": _l("Sachbearbeitung"),
    "coordinator": _l("Koordination"),
    "editor": _l("Redaktion"),
    "admin": _l("Administration"),
}

# The help catalogue's topics (see portal.services.catalogue.TOPICS).
CATALOGUE_TOPICS = {
    "therapy": _l("Therapie für Körper und Seele"),
    "transport": _l("Fahrdienste"),
    "household": _l("Hilfe im Haushalt"),
    "care": _l("Pflege zu Hause und Pflegeberatung"),
    "benefits": _l("Geld und Leistungen: Wohngeld, Grundsicherung, Pflegegrad, Bürgergeld"),
    "debt": _l("Schuldnerberatung"),
    "addiction": _l("Suchtberatung"),
    "older_people": _l("Hilfe im Alter"),
    "everyday": _l("Einsamkeit und Hilfe im Alltag"),
    "housing": _l("Wohnen"),
}

CATALOGUE_TOPIC_HINTS = {
    "therapy": _l("Physiotherapie, Ergotherapie, Psychotherapie, Selbsthilfe"),
    "transport": _l("Fahrten zum Arzt, zum Einkaufen oder zu Terminen"),
    "household": _l("Putzen, Einkaufen, Essen auf Rädern"),
    "care": _l("Ambulante Pflege, Tagespflege, Hausnotruf, Pflegegrad"),
    "benefits": _l("Welche Hilfe vom Amt Ihnen zusteht und wie Sie sie beantragen"),
    "debt": _l("Wenn die Rechnungen zu viel werden"),
    "addiction": _l("Alkohol, Medikamente, Glücksspiel – auch für Angehörige"),
    "older_people": _l("Beratung, Treffpunkte, Wohnen im Alter"),
    "everyday": _l("Besuche, Nachbarschaftshilfe, Hilfe bei Formularen"),
    "housing": _l("Wohnung finden, Wohnung behalten, Wohnung anpassen"),
}

COSTS = {
    "free": _l("Kostenlos"),
    "partly": _l("Teilweise kostenlos – oft zahlt eine Kasse oder das Amt"),
    "paid": _l("Kostet Geld – oft zahlt eine Kasse oder das Amt einen Teil"),
    "unknown": _l("Kosten bitte beim Anbieter erfragen"),
}

LOCATION_KINDS = {
    "phone": _l("Am Telefon – wir rufen Sie an"),
    "home_visit": _l("Besuch zu Hause"),
}

LOCATION_HINTS = {
    "in_person": _l("Sie kommen zur Sprechstunde ins Rathaus."),
    "phone": _l("Wir rufen Sie zur gebuchten Zeit an. Sie brauchen nur ein Telefon."),
    "home_visit": _l("Wenn der Weg ins Rathaus zu schwer ist, kommen wir zu Ihnen nach Hause."),
}

SLOT_PROBLEMS = {
    "malformed": _l("Diesen Termin gibt es nicht. Bitte wählen Sie einen Termin aus der Liste."),
    "past": _l(
        "Dieser Termin ist schon vorbei oder beginnt zu bald. Bitte wählen Sie einen späteren Termin."
    ),
    "outside": _l(
        "Zu dieser Zeit gibt es keine Sprechstunde. Bitte wählen Sie einen Termin aus der Liste."
    ),
    "taken": _l("Dieser Termin ist leider gerade vergeben worden. Bitte wählen Sie einen anderen."),
    "same": _l("Das ist Ihr jetziger Termin. Bitte wählen Sie eine andere Zeit."),
}

BOOKING_STATUSES = {
    "active": _l("Gebucht"),
    "cancelled": _l("Abgesagt"),
    "moved": _l("Verschoben"),
}


def town_list(names: list[str], style: str = "standard") -> str:
    """Town names as a list in the current language: "Verl und Schloß Holte-Stukenbrock".

    ``style`` "or" joins with the language's "or" instead.
    """
    return format_list(names, style=style, locale=get_locale() or "de")  # type: ignore[arg-type]


def _is_town_hall(location: ConsultationLocation) -> bool:
    """Whether the location is its town's town hall under the name seeding gave it."""
    return (
        location.kind == "in_person"
        and location.town is not None
        and location.name in ("", "Rathaus", f"Rathaus {location.town.name}")
    )


def location_name(location: ConsultationLocation) -> str:
    """A location's name in the current language, e.g. "Rathaus Verl" or "Besuch zu Hause".

    A place an administrator named otherwise keeps that name.
    """
    if _is_town_hall(location):
        assert location.town is not None
        return _("Rathaus %(town)s", town=location.town.name)
    if location.kind == "in_person":
        return location.name
    return str(LOCATION_KINDS.get(location.kind, location.name))


def contact_method(code: str, office: ConsultationLocation | None = None) -> str:
    """A contact method's label; ``office`` is the location an "office_…" method names."""
    if code in CONTACT_METHODS:
        return str(CONTACT_METHODS[code])
    if office is not None and _is_town_hall(office):
        assert office.town is not None
        return _("Termin im Rathaus %(town)s", town=office.town.name)
    if office is not None:
        return _("Termin vor Ort: %(place)s", place=office.name)
    return _("Termin vor Ort")
