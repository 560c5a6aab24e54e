"""``Database.reading``: a report reads one snapshot and never holds up a webhook."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from models import Call
from models.calls import CallStage


def new_call(sid: str) -> Call:
    return Call.begun(sid, datetime(2026, 11, 24, 2, 0, tzinfo=UTC), CallStage.LANGUAGE)


def test_a_reader_neither_blocks_writers_nor_sees_them_midway(app: Flask) -> None:
    db = app.extensions["db"]
    with db.reading() as reader:
        before = reader.scalar(select(func.count()).select_from(Call))
        # A webhook writes meanwhile: on SQLite it would wait for a reader that had
        # taken the write lock, and give up after models.db.WAIT_SECONDS.
        with db.sessions() as writer, writer.begin():
            writer.add(new_call("CA" + "1" * 32))
        assert reader.scalar(select(func.count()).select_from(Call)) == before  # one snapshot
    with db.reading() as reader:
        assert reader.scalar(select(func.count()).select_from(Call)) == before + 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_reader_cannot_write(app: Flask) -> None:
    with app.extensions["db"].reading() as reader, pytest.raises(DBAPIError, match="read-only"):
        reader.add(new_call("CA" + "2" * 32))
        reader.flush()
