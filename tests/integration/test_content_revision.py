"""Every change to what public pages show raises the content revision, in the same transaction."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text, update

from portal.db import get_db
from portal.models import Base, HelpRequest, Service, Town
from portal.models.content import AREAS
from portal.services import content
from tests import catalogue_data
from tests.catalogue_data import CARE
from tests.conftest import answer_all, submit
from tests.expect import match_in


def _revision(app: Flask) -> content.Revision:
    with app.app_context(), get_db(app).session() as session:
        return content.current(session)


def test_editing_a_town_raises_the_revision(app: Flask) -> None:
    before = _revision(app)
    with app.app_context(), get_db(app).session() as session:
        town = session.scalars(select(Town).where(Town.slug == "verl")).one()
        town.phone = "05246 961-999"
        session.commit()
    after = _revision(app)
    assert after.number == before.number + 1
    assert after.tag != before.tag


def test_importing_and_bulk_updating_the_catalogue_raise_it(app: Flask) -> None:
    before = _revision(app)
    catalogue_data.load(app)
    loaded = _revision(app)
    assert loaded.number > before.number
    with app.app_context(), get_db(app).session() as session:
        session.execute(update(Service).where(Service.id == CARE).values(status="inactive"))
        session.commit()
    assert _revision(app).number == loaded.number + 1


def test_a_change_rolled_back_leaves_it(app: Flask) -> None:
    before = _revision(app)
    with app.app_context(), get_db(app).session() as session:
        session.execute(update(Town).where(Town.slug == "verl").values(phone="0"))
        assert content.current(session).number == before.number + 1  # seen inside
        session.rollback()
    assert _revision(app) == before


def test_an_untouched_town_or_a_help_request_leaves_it(app: Flask) -> None:
    client = app.test_client()
    before = _revision(app)
    answer_all(client)
    assert submit(client).status_code == 302
    with app.app_context(), get_db(app).session() as session:
        town = session.scalars(select(Town).where(Town.slug == "verl")).one()
        town.phone = town.phone  # assigned, not changed
        assert session.scalars(select(HelpRequest)).first() is not None
        session.commit()
    assert _revision(app) == before


def test_every_table_public_pages_read_has_an_area() -> None:
    staff_only = {"catalogue_draft", "catalogue_change"}
    public = {
        name
        for name in Base.metadata.tables
        if name.startswith("catalogue_") and name not in staff_only
    } | {"town"}
    assert set(AREAS) == public


def _verl_in_footer(client: FlaskClient) -> str:
    page = client.get("/de/impressum").get_data(as_text=True)
    return match_in(r'Rathaus Verl: <a href="tel:\d+"><bdi dir="ltr">([^<]+)<', page).group(1)


def test_the_towns_every_page_shows_are_read_once_per_revision(app: Flask) -> None:
    # The footer of every page names the towns and their phones. They are read once per
    # revision in each process: a change that raises no revision is not seen, an edit at once.
    visitor = app.test_client()
    assert _verl_in_footer(visitor) == "05246 961-0"
    with app.app_context(), get_db(app).session() as session:  # plain SQL: no revision
        session.execute(text("UPDATE town SET phone = '05246 961-1' WHERE slug = 'verl'"))
    assert _verl_in_footer(visitor) == "05246 961-0"
    with app.app_context(), get_db(app).session() as session:
        session.scalars(select(Town).where(Town.slug == "verl")).one().phone = "05246 961-2"
    assert _verl_in_footer(visitor) == "05246 961-2"
