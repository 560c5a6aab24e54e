"""JSON log lines (LOG_FORMAT=json): one object per line, each line written while a
webhook runs tagged with its CallSid, numbers masked, never a PIN or code."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from io import StringIO

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from logs import masked
from settings import Settings
from tests.calls.faults import broken_table
from tests.demo import customer, national

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def log_stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[StringIO]:
    """What Hotline's own handler writes to stderr, as on a server: the root logger has
    no handlers when the app starts (pytest's are put back afterwards)."""
    root = logging.getLogger()
    kept, level = root.handlers[:], root.level
    stream = StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    root.handlers.clear()
    yield stream
    root.handlers[:] = kept
    root.setLevel(level)


@pytest.fixture
def settings(settings: Settings, log_stream: StringIO) -> Settings:
    return settings.model_copy(update={"log_format": "json"})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # logs, not SQL
def test_calls_log_json_lines_tagged_with_their_call_sid_and_no_number_or_pin(
    app: Flask, phone, twilio_api, log_stream: StringIO
) -> None:
    no_pin, emily = customer(pin=False), customer(language="en")
    twilio_api.fail_next(status=500)
    # Twilio refuses the SMS code: logged.
    texted = phone(no_pin["phone"]).dial().press("2").press("#").press("*")
    keyed = phone(emily["phone"]).dial().press("2").press("#").press("999999")
    keyed.press("#").press(emily["pin"])
    assert "verified" in keyed.text
    with broken_table(app):
        keyed.press("2")  # a fault inside: logged with its traceback; the caller hears sorry
    assert "something went wrong" in keyed.text

    text = log_stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    [sms] = [line for line in lines if "not sent" in line["message"]]
    [fault] = [line for line in lines if "exception" in line]
    assert sms["call_sid"] == texted.call_sid and fault["call_sid"] == keyed.call_sid
    assert all(line.get("call_sid") in (texted.call_sid, keyed.call_sid) for line in lines)
    for number in (no_pin["phone"], emily["phone"]):
        assert number not in text and national(number) not in text
    assert emily["pin"] not in re.findall(r"\d+", text)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_json_lines_mask_numbers_that_code_forgot_to_mask(app: Flask, log_stream: StringIO) -> None:
    number = customer()["phone"]
    try:
        raise ConnectionError(f"no route to {number}")
    except ConnectionError:
        logging.getLogger("some.library").exception("dialling %s failed", number)
    [line] = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    assert line["message"] == f"dialling {masked(number)} failed"
    assert f"no route to {masked(number)}" in line["exception"]
    assert number not in log_stream.getvalue() and "call_sid" not in line  # no webhook ran


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_traceback_of_sql_with_a_bound_number_shows_it_masked(
    app: Flask, log_stream: StringIO
) -> None:
    """SQLAlchemy quotes a failed statement's parameters in its error, and so in the
    traceback of any ``log.exception`` (issue 11, item 5)."""
    number = customer()["phone"]
    with app.extensions["db"].engine.connect() as connection:
        try:
            connection.execute(text("SELECT * FROM no_such_table WHERE phone = :p"), {"p": number})
        except DBAPIError:
            logging.getLogger("hotline.test").exception("lookup failed")
    written = log_stream.getvalue()
    assert "no_such_table" in written and masked(number) in written  # the traceback is there
    assert number not in written and national(number) not in written
