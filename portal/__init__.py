"""The Soziales Duo portal: a Flask application factory."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import flask_babel
from flask import Flask, current_app, g
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    db,
    i18n,
    labels,
    links,
    logs,
    metrics,
    observe,
    page_cache,
    security,
    seo,
    sessions,
    static_files,
)
from .config import ConfigError, Settings, attach, load_settings, settings_of
from .legal.contact import TownContact
from .mail import delivery

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create the portal; ``config`` overrides settings (tests use it)."""
    instance_path = Path(
        (config or {}).get("instance_path")
        or os.environ.get("PORTAL_INSTANCE_PATH")
        or ROOT / "instance"
    ).resolve()
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    overrides = {k: v for k, v in (config or {}).items() if k != "instance_path"}
    settings = load_settings(instance_path, overrides, framework_keys=Flask.default_config)
    configure_flask(app, settings)
    configure_logging(app)
    db.init_app(app, settings)
    i18n.init_app(app, ROOT / "translations")
    security.init_app(app, settings)
    sessions.init_app(app, settings)
    seo.init_app(app)
    static_files.init_app(app)
    page_cache.init_app(app, settings)  # wraps ProxyFix; the request log must wrap the cache
    delivery.init_app(app)
    register_blueprints(app)
    register_cli(app)
    # Last: the request log, request ids and latency metrics wrap every other layer.
    observe.init_app(app, trust_request_id=settings.proxy_count > 0)
    return app


def configure_flask(app: Flask, settings: Settings) -> None:
    """Copy what Flask and its extensions read from ``app.config``."""
    attach(app, settings)
    app.config.update(
        SECRET_KEY=settings.secret_key or os.urandom(32).hex(),
        DEBUG=settings.debug,
        TESTING=settings.testing,
        # Also the oldest a cookie may be since it was last written (Flask checks its signature
        # time): a staff cookie dies with the absolute session timeout.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.staff_absolute_hours),
        MAX_CONTENT_LENGTH=64 * 1024,
        MAIL_SERVER=settings.mail_server,
        MAIL_PORT=settings.mail_port,
        MAIL_USE_TLS=settings.mail_use_tls,
        MAIL_USE_SSL=settings.mail_use_ssl,
        MAIL_USERNAME=settings.mail_username or None,
        MAIL_PASSWORD=settings.mail_password or None,
        MAIL_DEFAULT_SENDER=settings.mail_sender,
        MAIL_SUPPRESS_SEND=False,  # tests talk to a real SMTP server too
        MAIL_DEBUG=False,  # the SMTP transcript would put addresses into the log
        PREFERRED_URL_SCHEME="https" if settings.secure_cookies else "http",
    )
    if settings.proxy_count:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.proxy_count, x_proto=settings.proxy_count
        )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals.update(
        labels=labels,
        format_date=flask_babel.format_date,
        format_time=flask_babel.format_time,
        format_datetime=flask_babel.format_datetime,
        get_locale=flask_babel.get_locale,
        town_list=town_list,
        town_contacts=town_contacts,
    )
    app.jinja_env.filters["tel"] = links.tel_href


def town_contacts() -> list[TownContact]:
    """The member towns' names and phones; the configured defaults when the database is down.

    Error pages need them most when nothing else works, so a failing database must not
    take the phone numbers with it.
    """
    from .services import towns
    from .views import cached_search

    if "town_contacts" not in g:
        try:
            # Read once per content revision (an edit to a town raises it), not on every page.
            reading = cached_search()
            g.town_contacts = reading.per_revision(
                "towns", lambda: [TownContact.of(town) for town in towns.all_towns(reading.session)]
            ).copy()
        except SQLAlchemyError:
            logging.getLogger("portal").warning("database unavailable; towns from configuration")
            g.town_contacts = [TownContact.of(town) for town in settings_of(current_app).towns()]
    contacts: list[TownContact] = g.town_contacts
    return contacts


def town_list(style: str = "standard") -> str:
    """The member towns' names as a list for sentences such as "Hilfe in %(towns)s"."""
    if "town_names" not in g:
        g.town_names = [town.name for town in town_contacts()]
    return labels.town_list(g.town_names, style)


def configure_logging(app: Flask) -> None:
    """Log to stderr without request data: JSON lines, readable ones in debug mode (the test
    suite keeps pytest's capture). Personal data never reaches a log line."""
    if not app.testing:
        logs.configure(readable=app.debug)
    problem = metrics.check_multiprocess_dir()
    if problem:
        raise ConfigError(problem)


def register_blueprints(app: Flask) -> None:
    """One blueprint per area, plus the error pages."""
    from .views import (
        api,
        booking,
        catalogue,
        errors,
        health,
        public,
        receipt,
        requests,
        seo,
        staff,
    )

    app.register_blueprint(public.bp)
    app.register_blueprint(requests.bp)
    app.register_blueprint(booking.bp)
    app.register_blueprint(catalogue.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(receipt.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(seo.bp)
    errors.init_app(app)


def register_cli(app: Flask) -> None:
    """The ``flask --app portal …`` command groups."""
    from . import cli

    cli.init_app(app)
