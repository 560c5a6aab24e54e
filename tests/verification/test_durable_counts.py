"""DATABASE_SYNCHRONOUS_COMMIT=false trades the last moments of calls' progress in a
crash of PostgreSQL for speed (issue 12), never a lockout count: a guesser whose counted
PINs a crash forgot would get attempts back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app import create_app
from settings import Settings
from tests.conftest import OPEN_HOURS
from verification import guard


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("synchronous", [True, False])
def test_lockout_counts_commit_durably_whatever_the_setting(
    settings: Settings, synchronous: bool
) -> None:
    app = create_app(settings.model_copy(update={"database_synchronous_commit": synchronous}))
    engine = app.extensions["db"].engine
    try:
        with Session(engine) as session:
            shown = session.scalar(text("SHOW synchronous_commit"))
            assert shown == ("on" if synchronous else "off")
            assert guard.reserve_attempt(
                session, "customer:C1", limit=5, lock_for=timedelta(minutes=30), now=OPEN_HOURS
            )
            assert session.scalar(text("SHOW synchronous_commit")) == "on"
            session.commit()
            # The next transaction is the setting's again.
            assert session.scalar(text("SHOW synchronous_commit")) == shown
    finally:
        engine.dispose()
