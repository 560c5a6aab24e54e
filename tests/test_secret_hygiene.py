"""No PIN, SMS code or desk password in clear text, in the database or the logs (SPEC §5,
§7)."""

from __future__ import annotations

import json
import logging
import re
import warnings

import pytest
from sqlalchemy import Engine, MetaData, select
from sqlalchemy.orm import Session

from logs import mask_numbers
from tests.demo import DEMO, all_pins, customer, national
from tests.desk.desks import Desk

pytestmark = pytest.mark.usefixtures("demo")


HASHED = re.compile(r"^hmac-sha256-v1\$[0-9a-f]{64}$")
# Desk passwords: Argon2id (verification.passwords), salted, with its parameters.
PASSWORD_HASHED = re.compile(r"^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[\w+/]+\$[\w+/]+$")


def digit_runs(text: str) -> set[str]:
    """Whole runs of digits: a secret hides in one, not in a longer number or a timestamp."""
    return set(re.findall(r"\d+", text))


def stored_text(engine: Engine) -> tuple[str, list[str], list[str]]:
    """Every text and JSON value in the database, every value of a ``*_hash`` column but
    the desk passwords', and theirs."""
    metadata = MetaData()
    with warnings.catch_warnings():
        # SQLAlchemy cannot reflect SQLite's indexes on expressions (migration 0018's):
        # only the tables' rows are read here.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        metadata.reflect(engine)
    texts, hashes, passwords = [], [], []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)).mappings():
                for column, value in row.items():
                    if column == "password_hash" and value is not None:
                        passwords.append(value)
                    elif column.endswith("_hash") and value is not None:
                        hashes.append(value)
                    elif isinstance(value, str | dict | list):
                        texts.append(json.dumps(value, ensure_ascii=False))
    return "\n".join(texts), hashes, passwords


def test_no_pin_or_code_in_the_database_or_the_logs(
    phone, twilio_api, engine: Engine, db: Session, client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    desk = Desk(client)
    desk.sign_in("A01", "wrong-password")
    desk.sign_in("A01", DEMO["agents"][0]["desk_password"])
    zh, no_pin = customer(language="zh"), customer(pin=False)
    phone(zh["phone"]).dial().press("1").press("#").press("111111").press("#").press(zh["pin"])
    phone("anonymous").dial().press("1").press(national(zh["phone"])).press(zh["pin"])
    sms_call = phone(no_pin["phone"]).dial().press("1").press("#").press("*")
    code = re.findall(r"\d{6}", twilio_api.messages()[0]["Body"])[0]
    sms_call.press(code)
    assert "身份验证成功" in sms_call.text or "verified" in sms_call.text

    stored, hashes, passwords = stored_text(engine)
    assert hashes and all(HASHED.match(value) for value in hashes)
    assert passwords and all(PASSWORD_HASHED.match(value) for value in passwords)
    in_database, in_logs = digit_runs(stored), digit_runs(caplog.text)
    for secret in [*all_pins(), code]:
        assert secret not in in_database, f"a PIN or code is stored in clear: {secret}"
        assert secret not in in_logs, f"a PIN or code is logged: {secret}"
    for agent in DEMO["agents"]:
        password = agent["desk_password"]
        assert password not in stored and password not in caplog.text


def test_logs_mask_phone_numbers(phone, twilio_api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    twilio_api.fail_next(status=500)
    no_pin = customer(pin=False)
    phone(no_pin["phone"]).dial().press("1").press("#").press("*")  # the SMS fails: logged
    assert "not sent" in caplog.text
    assert no_pin["phone"] not in caplog.text
    assert national(no_pin["phone"]) not in caplog.text


def test_the_log_filter_masks_numbers_that_code_forgot_to_mask() -> None:
    masked = mask_numbers("from +8613800138000 (13800138000) at 10:00, PIN prompt 2 of 3")
    assert masked == "from +86*********00 (138******00) at 10:00, PIN prompt 2 of 3"
    assert all(record["phone"] not in mask_numbers(str(DEMO)) for record in DEMO["customers"])
