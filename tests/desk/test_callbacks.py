"""Callbacks on the desk: the due ones an agent could take, in turn, each accepted (the
agent's phone rings, then Hotline calls the customer) or passed on."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from telephony.simulator import RestStandIn
from tests.conftest import BASE_URL
from tests.desk.desks import Desk
from tests.queueing.test_agent_line import GANG, LINA
from tests.queueing.test_callbacks import asks_for_a_callback, available, the_callback, unknown

pytestmark = pytest.mark.usefixtures("demo")


def test_a_due_callback_is_listed_and_accepted_on_the_desk(
    client: FlaskClient, phone, twilio_api: RestStandIn, db: Session
) -> None:
    asks_for_a_callback(unknown(phone, 1), position=1)
    available(db, LINA)  # available, with no event that rang her yet
    desk = Desk(client)
    desk.sign_in(LINA["id"], LINA["desk_password"])
    [item] = desk.state()["callbacks"]
    callback = the_callback(db)
    assert item["id"] == callback.id and "*******5601" in item["html"]
    assert f'<li class="callback" data-id="{callback.id}">' in desk.page()
    desk.post(f"/desk/callbacks/{callback.id}/accept")
    assert desk.messages().strip() == ""
    [ring] = twilio_api.calls()
    assert ring["To"] == LINA["phone"]
    assert ring["Url"] == f"{BASE_URL}/agents/callback?callback={callback.id}"


def test_a_callback_passed_on_the_desk_leaves_the_agents_list(
    client: FlaskClient, phone, twilio_api: RestStandIn, db: Session
) -> None:
    asks_for_a_callback(unknown(phone, 1), position=1)
    lina, gang = Desk(client), Desk(FlaskClient(client.application, use_cookies=True))
    lina.sign_in(LINA["id"], LINA["desk_password"])
    gang.sign_in(GANG["id"], GANG["desk_password"])
    callback = the_callback(db)
    lina.post(f"/desk/callbacks/{callback.id}/pass")
    assert lina.state()["callbacks"] == []
    assert [item["id"] for item in gang.state()["callbacks"]] == [callback.id]
