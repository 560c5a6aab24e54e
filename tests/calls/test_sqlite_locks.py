"""On SQLite, a webhook that only reads takes no write lock (issue 12): while another
writer holds the lock, a caller whose request changes nothing (a late or repeated one)
still hears their prompt, instead of waiting for the lock and then the apology."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.calls.faults import held_lock
from tests.calls.test_stages import ZH, late

pytestmark = pytest.mark.usefixtures("demo")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_request_that_changes_nothing_is_answered_while_another_writes(
    phone, app: Flask, db: Session, database_url: str
) -> None:
    call = phone(ZH["phone"]).dial()
    with held_lock(database_url):
        heard = late(app, db, call, "/voice/language?turn=0", {"Digits": "2"})
    assert "普通话请按1" in heard.text and heard.gather is not None
    assert "请输入您在比太钱包注册的手机号码" in call.press("1").text
