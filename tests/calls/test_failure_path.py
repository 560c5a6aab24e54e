"""The failure path (issue 8, point 2): whatever fails inside, the caller hears an apology
and reaches a human: OVERFLOW_NUMBER, or a message for agents that is never lost. And
(point 3) every webhook answers well inside Twilio's 15 s while a table is held locked."""

from __future__ import annotations

import shutil

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import create_server
from calls.spool import Spool
from models import Call, Voicemail
from settings import Settings
from telephony.simulator import NoAnswer, Switch
from tests.calls.faults import (
    OVERFLOW,
    broken_table,
    heard_apology_and_message_prompt,
    held_lock,
    recording,
    timed,
    use_overflow,
    voicemail_of,
)

CALLER = "+8613700137000"


def test_with_an_overflow_number_a_fault_puts_the_caller_through_to_it(
    app: Flask, phone, switch: Switch
) -> None:
    use_overflow(app)
    call = phone(CALLER).dial()
    with broken_table(app):
        call.press("2")
    assert "系统暂时出现问题" in call.text and "Connecting you to a colleague" in call.text
    desk = switch.phone(OVERFLOW).call
    assert desk is not None and desk.live and call.live  # a person at the desk talks to them
    call.hang_up()
    assert not desk.live


def test_when_the_overflow_number_does_not_answer_the_caller_leaves_a_message(
    app: Flask, phone, switch: Switch, db: Session
) -> None:
    use_overflow(app)
    switch.phone(OVERFLOW).behaviour = NoAnswer()
    call = phone(CALLER).dial()
    with broken_table(app):
        call.press("2")
    assert "客服人员暂时无法接听" in call.text and "nobody could take your call" in call.text
    assert heard_apology_and_message_prompt(call)
    call.leave_message(duration=25)
    assert "we have your message" in call.text and call.hung_up
    [voicemail] = db.scalars(select(Voicemail)).all()
    assert voicemail.duration_seconds == 25 and voicemail.topic == "general"


def test_a_recording_whose_webhook_fails_is_kept_not_lost(
    app: Flask, phone, db: Session, database_url: str
) -> None:
    call = phone(CALLER).dial()
    db.execute(update(Call).where(Call.call_sid == call.call_sid).values(stage="voicemail"))
    sid = "RE" + "3" * 32
    with broken_table(app, "voicemails"):
        body = call.post(
            "/voice/queue/voicemail",
            {"RecordingUrl": f"https://api.twilio.com/Recordings/{sid}", "RecordingSid": sid},
        )
    assert "您的留言已收到" in body and "<Record" not in body  # not asked to say it again
    assert voicemail_of(database_url, call) is None  # spooled: the table was away
    phone("+8613700137001").dial()  # the next webhook that reaches the database
    voicemail = voicemail_of(database_url, call)
    assert voicemail is not None and voicemail.recording_sid == sid


def test_the_fallback_url_answers_when_the_primary_does_not(
    app: Flask, phone, switch: Switch, db: Session
) -> None:
    stopwatch = timed(switch)
    stopwatch.down.add("/voice/language")
    switch.strict = False  # Twilio logs the failure, then asks the number's Fallback URL
    call = phone(CALLER).dial().press("1")
    assert heard_apology_and_message_prompt(call)
    assert [error[:5] for error in switch.errors] == ["11200"]
    call.leave_message(duration=9)
    assert "您的留言已收到" in call.text
    [voicemail] = db.scalars(select(Voicemail)).all()
    assert voicemail.duration_seconds == 9


def test_every_webhook_answers_in_time_while_calls_are_locked(
    app: Flask, phone, switch: Switch, database_url: str
) -> None:
    stopwatch = timed(switch)
    call = phone(CALLER).dial()
    with held_lock(database_url):
        call.press("1")
        assert heard_apology_and_message_prompt(call)
        call.leave_message(duration=20)
        assert "您的留言已收到" in call.text and call.hung_up  # and the status callback
    assert stopwatch.slow() == [] and switch.errors == []
    assert len(app.extensions["spool"].pending()) == 1  # kept while the database waited
    assert len(stopwatch.timings) >= 4
    phone("+8613700137001").dial()  # the lock is gone: the spool goes in
    voicemail = voicemail_of(database_url, call)
    assert voicemail is not None and voicemail.duration_seconds == 20


def test_replaying_the_spool_twice_makes_one_voicemail(
    app: Flask, runner: FlaskCliRunner, db: Session
) -> None:
    spool: Spool = app.extensions["spool"]
    path = spool.keep(recording(caller=CALLER))
    shutil.copy(path, path.with_name("copy.json"))  # the same recording spooled twice
    result = runner.invoke(args=["spool", "replay"])
    assert result.exit_code == 0, result.output
    assert "2 recording(s) waiting" in result.output and "2 now in the database" in result.output
    assert spool.pending() == []
    [voicemail] = db.scalars(select(Voicemail)).all()
    call = db.get(Call, voicemail.call_id)
    assert call is not None and call.caller == CALLER and call.stage == "ended"
    assert voicemail.duration_seconds == 31 and voicemail.language == "zh"


def test_the_server_replays_the_spool_when_it_starts(settings: Settings, db: Session) -> None:
    assert settings.spool_dir is not None
    Spool(settings.spool_dir).keep(recording(caller=CALLER))
    app = create_server(settings)
    app.extensions["db"].engine.dispose()
    assert len(db.scalars(select(Voicemail)).all()) == 1
