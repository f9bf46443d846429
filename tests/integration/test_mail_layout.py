"""The HTML emails are marked with the language and text direction of the portal's language table."""

from __future__ import annotations

from flask import Flask, render_template_string
from flask_babel import force_locale

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
