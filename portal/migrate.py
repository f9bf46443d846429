"""Schema migrations with Alembic, driven from Python (no alembic.ini needed)."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
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
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision``."""
    _run(engine, command.downgrade, revision)


def _run(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    """Run a migration step in one transaction.

    On SQLite, Alembic's batch mode rebuilds a table by copying it and dropping the old one;
    with foreign keys enforced, that drop would cascade into the rows that point at it. So
    foreign keys are off while migrating (SQLite only allows switching them outside a
    transaction), and the result is checked before they are switched on again.
    """
    config = alembic_config(engine)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                step(config, revision)
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("the migration left rows that break a foreign key")
        finally:
            if sqlite:
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def revision(engine: Engine, message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)


def head_revision() -> str:
    """The newest revision among the migrations this code brings."""
    config = Config()
    config.set_main_option("script_location", "portal:migrations")
    head = ScriptDirectory.from_config(config).get_current_head()
    return head or ""
