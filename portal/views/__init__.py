"""Blueprints: parse the request, call a service, render or redirect."""

from flask import current_app

from ..config import Settings


def current_settings() -> Settings:
    """The typed settings of the running app."""
    settings: Settings = current_app.extensions["portal.settings"]
    return settings
