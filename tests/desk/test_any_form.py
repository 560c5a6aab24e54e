"""Whatever a browser (or anyone holding the session) posts to the desk, the answer is
the page again (303) or a refusal (400), never a failure inside."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.desk.desks import Desk

pytestmark = pytest.mark.usefixtures("demo")

ODD = st.one_of(
    st.sampled_from(["", "0", "1", "-1", "999999999999999999999", "available", "busy",
                     "wrap_up", "resolved", "made_up", "x" * 5000, "冻结", "1.5", "null"]),
    st.text(max_size=40),
)  # fmt: skip
FIELDS = st.sampled_from(["status", "call", "notes", "disposition", "agent", "password"])
forms = st.dictionaries(FIELDS, ODD, max_size=4)


def desk_posts(app: Flask) -> list[str]:
    return sorted(
        re.sub(r"<[^>]+>", "1", rule.rule)
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or ())
        and rule.rule.startswith("/desk")
        and rule.endpoint not in ("desk_auth.login", "desk_auth.logout")
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_form_to_any_desk_action_is_answered_and_fails_nothing(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    desk = Desk(client)
    desk.sign_in("A01", "hotline-A01")
    token = desk.token("/desk")
    path = data.draw(st.sampled_from(desk_posts(app)))
    form = data.draw(forms)
    caplog.set_level(logging.ERROR)
    answer = client.post(path, data=form, headers={"X-CSRFToken": token})
    assert answer.status_code in (303, 400), (path, form, answer.status_code)
    assert client.get("/desk/state").status_code == 200
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_an_id_no_row_can_have_is_not_found(client: FlaskClient) -> None:
    desk = Desk(client)
    desk.sign_in("A01", "hotline-A01")
    huge = "9" * 21
    assert client.get(f"/desk/voicemails/{huge}/recording").status_code == 404
    assert desk.post(f"/desk/voicemails/{huge}/done").status_code == 404
    assert desk.post("/desk/accept", call=huge).status_code == 400
