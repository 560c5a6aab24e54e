"""Whatever a caller keys, or doesn't, verification answers with TwiML and verifies no one."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Call
from tests.demo import all_pins, customer

pytestmark = pytest.mark.usefixtures("demo")

ZH = customer(language="zh")
keys = st.text(alphabet="0123456789*#", max_size=24)
caller_ids = st.sampled_from(
    [ZH["phone"], "anonymous", "", "+266696687", "+8613012345678", "not-a-number", "+" + "9" * 20]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(caller=caller_ids, inputs=st.lists(st.one_of(st.none(), keys), max_size=10))
def test_any_input_gets_twiml_and_no_secret_means_no_verification(
    phone, db: Session, caller: str, inputs: list[str | None]
) -> None:
    assume(not any(entry and pin in entry for entry in inputs for pin in all_pins()))
    call = phone(caller).dial()  # each step checks: HTTP 200, text/xml, well-formed
    for entry in inputs:
        if call.gather is None:
            break
        if entry is None:
            call.silence()
        else:
            call.press(entry)
    db.rollback()
    record = db.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()
    assert not record.verified
    assert record.customer_id is None
