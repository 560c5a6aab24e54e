"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from models import Base
from models.db import upgrade


def test_migrated_database_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrade_is_a_no_op_when_current(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    assert "calls" in inspect(engine).get_table_names()


def test_first_start_creates_and_migrates_a_fresh_sqlite_file(tmp_path, settings) -> None:  # noqa: ANN001
    from app import create_server

    path = tmp_path / "fresh.db"
    app = create_server(settings.model_copy(update={"database_url": f"sqlite:///{path}"}))
    assert path.exists()
    assert set(Base.metadata.tables) <= set(inspect(app.extensions["db"].engine).get_table_names())
    app.extensions["db"].engine.dispose()
