"""No PIN or SMS code in clear text, in the database or the logs (SPEC §5, §7)."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import Engine, MetaData, select
from sqlalchemy.orm import Session

from logs import mask_numbers
from tests.demo import DEMO, all_pins, customer, national

pytestmark = pytest.mark.usefixtures("demo")


def every_value(engine: Engine) -> str:
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        rows = [
            str(tuple(row))
            for table in metadata.sorted_tables
            for row in connection.execute(select(table))
        ]
    return "\n".join(rows)


def test_no_pin_or_code_in_the_database_or_the_logs(
    phone, twilio_api, engine: Engine, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    zh, no_pin = customer(language="zh"), customer(pin=False)
    phone(zh["phone"]).dial().press("1").press("111111").press(zh["pin"])
    phone("anonymous").dial().press("1").press(national(zh["phone"])).press(zh["pin"])
    sms_call = phone(no_pin["phone"]).dial().press("1")
    code = re.search(r"\d{6}", twilio_api.messages()[0]["Body"]).group(0)  # type: ignore[union-attr]
    sms_call.press(code)
    assert "身份验证成功" in sms_call.text or "verified" in sms_call.text

    stored = every_value(engine)
    logged = caplog.text
    for secret in [*all_pins(), code]:
        assert secret not in stored, f"a PIN or code is stored in clear: {secret}"
        assert secret not in logged, f"a PIN or code is logged: {secret}"


def test_logs_mask_phone_numbers(phone, twilio_api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    twilio_api.fail_next(status=500)
    no_pin = customer(pin=False)
    phone(no_pin["phone"]).dial().press("1")  # the SMS fails, and that is logged
    assert "not sent" in caplog.text
    assert no_pin["phone"] not in caplog.text
    assert national(no_pin["phone"]) not in caplog.text


def test_the_log_filter_masks_numbers_that_code_forgot_to_mask() -> None:
    masked = mask_numbers("from +8613800138000 (13800138000) at 10:00, PIN prompt 2 of 3")
    assert masked == "from +86*********00 (138******00) at 10:00, PIN prompt 2 of 3"
    assert all(record["phone"] not in mask_numbers(str(DEMO)) for record in DEMO["customers"])
