"""Worklists at the console: callbacks and voicemails with their state and who has them,
marked done by an operator. Marking a callback done races an agent's attempt safely:
whichever comes first wins, and the other is refused, never both."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Voicemail
from telephony.simulator import Leg, Person, RestStandIn, Switch
from tests.admin.consoles import Console
from tests.concurrently import at_once
from tests.desk.desks import Desk
from tests.desk.test_voicemails import emily_leaves_a_message
from tests.queueing.test_agent_line import agent_status
from tests.queueing.test_callbacks import (
    LINA,
    asks_for_a_callback,
    available,
    number,
    the_callback,
    twilio_time,  # noqa: F401 - the clock follows Twilio's
    unknown,
)

pytestmark = pytest.mark.usefixtures("twilio_time")
NOT_CHANGED = "was not changed: an agent is calling it now, or it is closed already"


def row_of(page: str, kind: str, item_id: int) -> str:
    found = re.search(rf'<tr data-{kind}="{item_id}">(.*?)</tr>', page, re.S)
    assert found is not None, f"no {kind} {item_id} on the page"
    return found[1]


def lina_rung_for_it(app: Flask, switch: Switch, db: Session) -> Leg:
    """Lina, available at the desk, accepts the callback: her phone rings (she has not
    answered yet), and the callback is kept for her."""
    available(db, LINA)
    desk = Desk(app.test_client())
    desk.sign_in(LINA["id"], LINA["desk_password"])
    switch.phone(LINA["phone"]).behaviour = Person()
    desk.post(f"/desk/callbacks/{the_callback(db).id}/accept")
    assert desk.messages().strip() == ""
    switch.wait(0)
    ringing = switch.phone(LINA["phone"]).call
    assert ringing is not None
    return ringing


def customer_called(twilio_api: RestStandIn) -> bool:
    return any(call["To"] == number(1) for call in twilio_api.calls())


def test_callbacks_listed_with_their_state_and_marked_done(
    supervisor: Console, phone, db: Session
) -> None:
    asks_for_a_callback(unknown(phone, 1), position=1)
    callback = the_callback(db)
    page = supervisor.page("/admin/callbacks")
    row = row_of(page, "callback", callback.id)
    assert "*******5601" in row and number(1) not in page
    assert '<td class="state">open</td>' in row and "general questions" in row
    assert f'href="/admin/calls/{callback.call_id}"' in row

    supervisor.post(f"/admin/callbacks/{callback.id}/done", show="open")
    assert f"Callback {callback.id} marked done." in supervisor.messages("/admin/callbacks")
    assert f'data-callback="{callback.id}"' not in supervisor.page("/admin/callbacks")
    row = row_of(supervisor.page("/admin/callbacks?show=all"), "callback", callback.id)
    assert '<td class="state">done</td>' in row and "by operator supervisor" in row
    assert "Mark done" not in row
    timeline = supervisor.page(f"/admin/calls/{callback.call_id}")
    assert "Callback marked done by operator supervisor" in timeline
    # Done is done once.
    supervisor.post(f"/admin/callbacks/{callback.id}/done")
    assert NOT_CHANGED in supervisor.messages("/admin/callbacks")


def test_a_callback_an_agent_is_calling_cannot_be_marked_done(
    supervisor: Console, app: Flask, phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    asks_for_a_callback(unknown(phone, 1), position=1)
    lina_rung_for_it(app, switch, db).answer()  # the desk's accept: she calls at once
    callback = the_callback(db)
    assert callback.status == "calling" and customer_called(twilio_api)
    assert "李娜" in row_of(supervisor.page("/admin/callbacks"), "callback", callback.id)
    supervisor.post(f"/admin/callbacks/{callback.id}/done")
    assert NOT_CHANGED in supervisor.messages("/admin/callbacks")
    assert the_callback(db).status == "calling"


def test_an_agent_answering_for_a_callback_marked_done_calls_nobody(
    supervisor: Console, app: Flask, phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    asks_for_a_callback(unknown(phone, 1), position=1)
    ringing = lina_rung_for_it(app, switch, db)
    callback = the_callback(db)
    supervisor.post(f"/admin/callbacks/{callback.id}/done")
    assert "marked done" in supervisor.messages("/admin/callbacks")
    ringing.answer()
    assert "该客户已被其他坐席接听或已挂断" in ringing.text  # too late: gone
    assert not customer_called(twilio_api)
    assert the_callback(db).status == "done" and agent_status(db, LINA) == "available"


def test_marking_done_while_the_agent_answers_one_wins(
    supervisor: Console, app: Flask, phone, switch: Switch, twilio_api: RestStandIn, db: Session
) -> None:
    asks_for_a_callback(unknown(phone, 1), position=1)
    ringing = lina_rung_for_it(app, switch, db)
    callback = the_callback(db)
    token = supervisor.token("/admin/callbacks")
    at_once(
        [
            ringing.answer,
            lambda: supervisor.post(f"/admin/callbacks/{callback.id}/done", csrf_token=token),
        ]
    )
    said = supervisor.messages("/admin/callbacks")
    status = the_callback(db).status
    if status == "done":  # the operator first: nobody is called
        assert "marked done" in said and not customer_called(twilio_api)
    else:  # the agent first: the operator is told so
        assert status == "calling" and NOT_CHANGED in said and customer_called(twilio_api)


def test_voicemails_listed_played_and_marked_done_by_an_operator(
    supervisor: Console, phone, twilio_api: RestStandIn, db: Session
) -> None:
    emily_leaves_a_message(phone)
    voicemail = db.scalars(select(Voicemail)).one()
    page = supervisor.page("/admin/voicemails")
    row = row_of(page, "voicemail", voicemail.id)
    assert "*******7000 <span" in row and "(verified)" in row and "0:06" in row
    src = f'src="/admin/voicemails/{voicemail.id}/recording"'
    assert src in row and "api.twilio.com" not in page
    audio = supervisor.client.get(f"/admin/voicemails/{voicemail.id}/recording")
    assert audio.status_code == 200 and audio.mimetype == "audio/x-wav"
    assert audio.headers["Cache-Control"] == "private, no-store"
    assert supervisor.client.get("/admin/voicemails/99999/recording").status_code == 404

    supervisor.post(f"/admin/voicemails/{voicemail.id}/done")
    assert f"Voicemail {voicemail.id} marked done." in supervisor.messages("/admin/voicemails")
    row = row_of(supervisor.page("/admin/voicemails?show=all"), "voicemail", voicemail.id)
    assert '<td class="state">done</td>' in row and "by operator supervisor" in row
    db.rollback()
    assert db.get(Voicemail, voicemail.id).done_by is None  # operators are not agents
    supervisor.post(f"/admin/voicemails/{voicemail.id}/done")
    assert "was not changed: it is done already" in supervisor.messages("/admin/voicemails")


def test_worklists_need_an_operator(console: Console) -> None:
    for path in ("/admin/callbacks", "/admin/voicemails"):
        assert console.client.get(path).status_code == 302
    assert console.client.get("/admin/voicemails/1/recording").status_code == 401
    token = console.token()
    for path in ("/admin/callbacks/1/done", "/admin/voicemails/1/done"):
        assert console.client.post(path, data={"csrf_token": token}).status_code == 302
    console.sign_in("supervisor", "hotline-supervisor")
    # Signed in, a form without its CSRF token is refused.
    assert console.client.post("/admin/callbacks/1/done").status_code == 400
