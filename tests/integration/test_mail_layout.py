"""The HTML emails are marked with the language and text direction of the portal's language table."""

from __future__ import annotations

from flask import Flask, render_template_string
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l

from portal.i18n import LOCALES

MAIL = '{% extends "emails/_layout.html" %}{% block body %}<p>Hallo</p>{% endblock %}'


def test_an_email_takes_lang_and_dir_from_its_recipients_language_not_the_page(
    app: Flask,
) -> None:
    for locale in LOCALES:
        # The page is German; the email is rendered in the recipient's language.
        with app.test_request_context("/de/"), force_locale(locale.catalog):
            html = render_template_string(MAIL)
        assert html.startswith("<!doctype html>\n"), locale.code
        assert f'<html lang="{locale.html_lang}" dir="{locale.direction}">' in html, locale.code


def test_an_email_in_the_recipients_language_between_two_parts_of_a_german_page(
    app: Flask,
) -> None:
    # The portal finds a catalog once per request and locale: an email in Turkish sent while a
    # German page is answered is Turkish throughout, and the rest of the page German again.
    search = _l("Suchen")
    words = "{{ _('Suchen') }} {{ label }}"
    with app.test_request_context("/de/"):
        app.preprocess_request()
        assert render_template_string(words, label=search) == "Suchen Suchen"
        with force_locale("tr"):
            assert render_template_string(words, label=search) == "Arama yapın Arama yapın"
            assert gettext("Suchen") == "Arama yapın"
            with force_locale("ar"):
                assert str(search) == "بحث"
            assert str(search) == "Arama yapın"
        assert render_template_string(words, label=search) == "Suchen Suchen"
        assert gettext("Suchen") == "Suchen"
