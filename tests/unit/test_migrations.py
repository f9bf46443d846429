"""The migrations create exactly the schema the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from portal.db import get_db
from portal.migrate import include_name
from portal.models import Base


@pytest.mark.full_database  # inspects the schema on a connection of its own
def test_migrations_match_the_models(app: Flask) -> None:
    with get_db(app).engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        assert compare_metadata(context, Base.metadata) == []
