"""Every time a call records comes from the app's one clock (app.extensions["clock"]),
so a call's start, its steps and its end line up in reports whatever the wall says."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Call, CallEvent, RefundTicket, VerificationAttempt
from tests.conftest import OPEN_HOURS
from tests.demo import customer

WANG = customer(language="zh")


@pytest.mark.usefixtures("demo")
def test_a_calls_times_follow_the_apps_clock(phone, app: Flask, db: Session) -> None:
    call = phone(WANG["phone"]).dial().press("1").press("#")
    app.extensions["clock"] = lambda: OPEN_HOURS + timedelta(seconds=20)
    call.press(WANG["pin"]).press("3").press("2").press("1")  # a refund ticket, confirmed
    app.extensions["clock"] = lambda: OPEN_HOURS + timedelta(minutes=3)
    call.end(duration=180)
    db.rollback()
    row = db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()
    assert row.started_at == OPEN_HOURS
    assert row.ended_at == OPEN_HOURS + timedelta(minutes=3)
    times = db.scalars(select(CallEvent.at).where(CallEvent.call_id == row.id)).all()
    assert min(times) == OPEN_HOURS and max(times) == OPEN_HOURS + timedelta(minutes=3)
    attempt = db.scalars(select(VerificationAttempt.at)).one()
    ticket = db.scalars(select(RefundTicket.created_at)).one()
    assert attempt == ticket == OPEN_HOURS + timedelta(seconds=20)
