"""Schema migrations with Alembic, driven from Python (no alembic.ini needed)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

# Full-text search structures the migrations create but no model describes: the FTS5 table
# (and its shadow tables) on SQLite, the tsvector column and its GIN index on PostgreSQL.
UNMODELLED_PREFIXES = ("catalogue_search_fts", "fts_")
UNMODELLED_COLUMNS = ("search_vector",)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Whether Alembic's comparison should look at a table, index or column of this name."""
    if not name:
        return True
    if type_ == "column":
        return name not in UNMODELLED_COLUMNS
    return not (type_ in ("table", "index") and name.startswith(UNMODELLED_PREFIXES))


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration bound to ``engine``'s database."""
    config = Config()
    config.set_main_option("script_location", "portal:migrations")
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision``."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def revision(engine: Engine, message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
