"""Browsing only reads: on PostgreSQL its transaction cannot write, and the same searches asked
again and again on one pooled connection (whose statements are prepared by then) answer alike."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from portal import create_app, db
from portal.db import get_db
from portal.models import Town
from tests import catalogue_data
from tests.catalogue_data import CARE, GERMAN_ONLY
from tests.conftest import clean

SEARCHES = [
    "/de/catalogue/?q=Pflege",
    "/tr/catalogue/?q=bak%C4%B1m",
    "/en/catalogue/?topic=benefits",
    "/api/hsds/services?search=Pflege",
    "/api/hsds/services?per_page=1&page=3",
]


@pytest.mark.full_database
def test_a_reading_request_cannot_write_on_postgresql(app: Flask) -> None:
    if get_db(app).engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no read-only transactions; there reads roll back")
    with (
        app.test_request_context("/de/catalogue/"),
        pytest.raises(DBAPIError, match="read-only transaction"),
    ):
        db.session().execute(update(Town).values(phone="0"))
    with app.test_request_context("/de/catalogue/", method="POST"):  # not a read: may write
        db.session().execute(update(Town).where(Town.slug == "verl").values(phone="05246 1"))
        db.rollback()


def test_searches_asked_many_times_answer_as_the_first_time(app_config: dict[str, Any]) -> None:
    application = create_app({**app_config, "search_cache_entries": 0})  # every time the database
    clean(application)
    try:
        catalogue_data.load(application)
        client = application.test_client()
        first = [client.get(url).get_data(as_text=True) for url in SEARCHES]
        assert CARE in first[0] and GERMAN_ONLY in first[2]
        for _ in range(7):  # psycopg prepares a statement on its fifth use
            assert [client.get(url).get_data(as_text=True) for url in SEARCHES] == first
    finally:
        get_db(application).engine.dispose()
