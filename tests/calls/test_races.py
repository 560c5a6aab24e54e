"""Two webhooks of one call that race: the loser of an answer to a prompt hears the
winner's result, and a status callback that loses runs again, so its event is kept."""

from __future__ import annotations

import pytest
from flask import request
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models import Call


def test_a_status_callback_that_loses_a_race_still_ends_the_call(
    phone, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = phone("+8613800138000").dial()
    commit, lost = Session.commit, []

    def racing_commit(self: Session) -> None:
        # Another webhook of this call committed first: the status callback's first try
        # finds the call's version changed under it.
        if request.path == "/voice/status" and not lost:
            lost.append(request.path)
            raise StaleDataError("calls: 1 row expected, 0 matched")
        commit(self)

    monkeypatch.setattr(Session, "commit", racing_commit)
    call.hang_up()
    assert lost == ["/voice/status"]
    row = db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()
    assert row.stage == "ended" and row.ended_at is not None
    assert [event.kind for event in row.events][-1] == "call.ended"
