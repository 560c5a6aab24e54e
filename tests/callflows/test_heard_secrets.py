"""Digits a caller speaks or keys at a menu are kept in the call's history only with
every run of 4 or more masked (a PIN, a code, a card or phone number), while the menu
still understands what was said from the words as they were heard."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.callflows.test_menus import at_main_menu, record
from tests.demo import customer

pytestmark = pytest.mark.usefixtures("demo")

WANG, EMILY = customer(language="zh"), customer(language="en")


def test_a_pin_said_or_keyed_at_a_menu_is_not_kept(phone, db: Session) -> None:
    call = at_main_menu(phone, EMILY, "en").say("my pin is 135790")
    call.post("/voice/menu", {"Digits": "64208#"})  # as a Gather without numDigits sends
    chosen = at_main_menu(phone, WANG, "zh").say("我想查一下充值 1 3 5 7 9 0")
    assert chosen.text.startswith("充值与提现")  # understood all the same
    history = [e.data for c in (call, chosen) for e in record(db, c).events]
    kept = repr(history)
    for secret in ("135790", "64208", "1 3 5 7 9 0"):
        assert secret not in kept
    missed = [d for d in history if "speech" in d or "key" in d]
    assert {"menu": "main", "key": None, "speech": "my pin is ****", "misses": 1} in missed
    assert any(d.get("key") == "****#" for d in missed)
    assert any(d.get("speech") == "我想查一下充值 ****" for d in missed)
