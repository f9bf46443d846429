"""Supported languages, the language from the URL, and language-aware URL building."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel import support
from flask import Flask, abort, current_app, g, request, url_for
from flask_babel import Babel, Domain, get_locale

DEFAULT_LOCALE = "de"
TIMEZONE = "Europe/Berlin"


@dataclass(frozen=True)
class Locale:
    """A language the portal speaks.

    ``code`` names it in URLs and stored records; ``catalog`` is the Babel locale whose message
    catalog it uses (``translations/<catalog>``); ``html_lang`` is the BCP 47 tag for ``lang``
    attributes. Leichte Sprache is German for HTML and a variant of German for the catalogs.
    """

    code: str
    endonym: str
    direction: str = "ltr"
    catalog: str = ""
    html_lang: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "catalog", self.catalog or self.code)
        object.__setattr__(self, "html_lang", self.html_lang or self.code)


LOCALES = (
    Locale("de", "Deutsch"),
    Locale("en", "English"),
    Locale("tr", "Türkçe"),
    Locale("ar", "العربية", "rtl"),
    Locale("ru", "Русский"),
    Locale("uk", "Українська"),
    Locale("pl", "Polski"),
    Locale("ro", "Română"),
    Locale("bg", "Български"),
    Locale("ls", "Leichte Sprache", catalog="de@ls", html_lang="de"),
)
LOCALE_CODES = tuple(locale.code for locale in LOCALES)
# Languages that are ISO languages of their own: catalogue content is written, searched and
# published (HSDS API) in these. Leichte Sprache is not one: its readers get the German offer
# texts, marked lang="de", and the API never names "ls" as a language.
CONTENT_LANGUAGES = tuple(locale.code for locale in LOCALES if locale.code == locale.html_lang)
EASY_LANGUAGE = "ls"
_BY_CODE = {locale.code: locale for locale in LOCALES}
_BY_CATALOG = {locale.catalog: locale for locale in LOCALES}


class RequestDomain(Domain):
    """Flask-Babel's message domain, which finds the catalog once per request and locale.

    Flask-Babel looks up the request, the locale and its identifier for every string it
    translates (about 7 µs); a page translates 100 to 200 strings. The catalog found is kept
    next to the locale it was found for, so ``force_locale`` (an email in its recipient's
    language) gets that language's catalog and the page's own afterwards.
    """

    def get_translations(self) -> support.NullTranslations:
        """The catalog of the locale in force, as :class:`flask_babel.Domain` finds it."""
        try:
            context = vars(g._get_current_object()).get("_flask_babel")
        except RuntimeError:  # outside an app context
            context = None
        locale = getattr(context, "babel_locale", None)
        if locale is None:  # before the locale is chosen
            return super().get_translations()
        found = getattr(context, "portal_translations", None)
        if found is not None and found[0] is locale:
            return found[1]
        translations = super().get_translations()
        context.portal_translations = (locale, translations)
        return translations


babel = Babel()
# Every app shares this Babel object, so they share the domain (and its catalogs, loaded once
# per locale), as they share Flask-Babel's own.
babel.domain_instance = RequestDomain()


def current_locale() -> Locale:
    """The locale of the current request (German outside a language prefix)."""
    return _BY_CODE.get(g.get("lang", DEFAULT_LOCALE), _BY_CODE[DEFAULT_LOCALE])


def rendering_locale() -> Locale:
    """The locale whose catalog translates right now: an email's recipient's under ``force_locale``."""
    active = get_locale()
    return _BY_CATALOG.get(str(active), _BY_CODE[DEFAULT_LOCALE])


def catalog_of(code: str) -> str:
    """The Babel locale (for ``force_locale``) of a language code stored with a record."""
    return _BY_CODE.get(code, _BY_CODE[DEFAULT_LOCALE]).catalog


def html_lang_of(code: str) -> str:
    """The BCP 47 tag (``lang``, ``Content-Language``) of a language code stored with a record."""
    return _BY_CODE.get(code, _BY_CODE[DEFAULT_LOCALE]).html_lang


def best_locale() -> str:
    """The browser's preferred supported language, German when none matches."""
    return request.accept_languages.best_match(CONTENT_LANGUAGES, default=DEFAULT_LOCALE)


def _select_locale() -> str:
    return current_locale().catalog


def switch_language_url(code: str) -> str:
    """The current page in another language, or that language's home page.

    A catalogue topic page stays that topic's page; a search or anything else in the query
    string is not carried over.
    """
    from .security import TOPIC_ARGUMENT, topic_of_page  # security needs this module first

    endpoint = request.endpoint
    args = dict(request.view_args or {})
    if (
        endpoint
        and request.method == "GET"
        and current_app.url_map.is_endpoint_expecting(endpoint, "lang")
    ):
        args["lang"] = code
        topic = topic_of_page() if endpoint == "catalogue.index" else None
        if topic:
            args[TOPIC_ARGUMENT] = topic
        return url_for(endpoint, **args)
    return url_for("public.home", lang=code)


def init_app(app: Flask, translations: Path) -> None:
    """Wire Flask-Babel to the top-level catalogs and take the language from the URL."""
    missing = [
        locale.catalog
        for locale in LOCALES
        if locale.code != DEFAULT_LOCALE
        and not (translations / locale.catalog / "LC_MESSAGES" / "messages.mo").is_file()
    ]
    if missing:
        raise RuntimeError(
            f"No compiled catalog for {', '.join(missing)} in {translations}. "
            "Run `make translations` first."
        )
    babel.init_app(
        app,
        locale_selector=_select_locale,
        timezone_selector=lambda: TIMEZONE,
        default_translation_directories=str(translations),
        default_locale=DEFAULT_LOCALE,
        default_timezone=TIMEZONE,
    )

    # Templates ask the domain directly (Flask-Babel's own callables first look the domain up
    # in the request, for each string). jinja2.ext.i18n, which Flask-Babel added, gives the
    # environment this method.
    catalog = babel.domain_instance.get_translations
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: catalog().ugettext(s),
        ngettext=lambda s, p, n: catalog().ungettext(s, p, n),
        pgettext=lambda c, s: catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalog().unpgettext(c, s, p, n),
        newstyle=True,
    )

    @app.url_value_preprocessor
    def _pull_lang(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        if values and "lang" in values:
            lang = values.pop("lang")
            if lang not in _BY_CODE:
                g.lang = DEFAULT_LOCALE
                abort(404)
            g.lang = lang

    @app.url_defaults
    def _add_lang(endpoint: str, values: dict[str, Any]) -> None:
        if "lang" not in values and app.url_map.is_endpoint_expecting(endpoint, "lang"):
            values["lang"] = g.get("lang", DEFAULT_LOCALE)

    @app.context_processor
    def _locale_context() -> dict[str, Any]:
        return {
            "locales": LOCALES,
            "current_locale": current_locale(),
            "rendering_locale": rendering_locale,
            "switch_language_url": switch_language_url,
        }
