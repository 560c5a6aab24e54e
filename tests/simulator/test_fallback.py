"""The number's Fallback URL ("Primary handler fails"): when Twilio cannot use a webhook's
answer (late, not 2xx, not TwiML), it asks the Fallback URL, with ErrorCode and ErrorUrl,
and the call carries on with that TwiML; without one, the caller hears the application
error. And a <Dial> to a SIP URI or a number that answers or not, with the Dial action."""

from __future__ import annotations

import dataclasses

import pytest

from telephony.simulator import (
    Answer,
    FlaskTransport,
    NoAnswer,
    Number,
    Relay,
    Switch,
    Transport,
    TwilioWouldFail,
)
from telephony.simulator.webhooks import Reply
from tests.simulator.conftest import ACCOUNT, CALLER, LINE, TOKEN, FakeApp

FALLBACK = Number(LINE, "/incoming", status_callback="/status", fallback_url="/fallback")


class Late(Relay):
    """The network to ``path`` takes 16 s: longer than Twilio waits."""

    def __init__(self, inner: Transport, path: str) -> None:
        super().__init__(inner)
        self.path = path

    def send(self, method: str, url: str, params: dict[str, str], signature: str) -> Reply:
        reply = self.inner.send(method, url, params, signature)
        return dataclasses.replace(reply, seconds=16.0) if url.endswith(self.path) else reply


def fallback_switch(fake: FakeApp, late: str | None = None) -> Switch:
    transport: Transport = FlaskTransport(fake.flask())
    if late is not None:
        transport = Late(transport, late)
    switch = Switch(transport, account_sid=ACCOUNT, auth_token=TOKEN, numbers=[FALLBACK], run=0)
    switch.strict = False  # Twilio logs the primary's failure, then carries on
    return switch


@pytest.mark.parametrize(
    ("reply", "code"),
    [((500, "text/html", "oops"), "11200"), ((200, "text/xml", "<Response><Say>"), "12100")],
)
def test_a_failed_answer_sends_the_call_to_the_fallback_url(
    fake: FakeApp, reply: tuple[int, str, str], code: str
) -> None:
    fake.documents |= {
        "/incoming": "<Response><Gather action='/menu'><Say>Menu</Say></Gather></Response>",
        "/menu": reply,
        "/fallback": "<Response><Say>Sorry</Say><Redirect>/fallback/next</Redirect></Response>",
        "/fallback/next": "<Response><Say>Still here</Say></Response>",
    }
    switch = fallback_switch(fake)
    call = switch.caller(CALLER).dial().press("1")
    assert call.text == "Sorry Still here"
    [asked] = fake.forms("/fallback")
    assert asked["ErrorCode"] == code and asked["ErrorUrl"] == "http://localhost/menu"
    assert asked["CallSid"] == call.call_sid and [e[:5] for e in switch.errors] == [code]


def test_an_answer_after_15_seconds_is_a_failure_too(fake: FakeApp) -> None:
    fake.documents["/fallback"] = "<Response><Say>Sorry</Say></Response>"
    call = fallback_switch(fake, late="/incoming").caller(CALLER).dial()
    assert call.text == "Sorry" and fake.forms("/fallback")[0]["ErrorCode"] == "11205"


def test_a_late_answer_fails_a_strict_run(fake: FakeApp) -> None:
    switch = fallback_switch(fake, late="/incoming")
    switch.strict = True
    with pytest.raises(TwilioWouldFail, match="11205"):
        switch.caller(CALLER).dial()


def test_a_failing_fallback_leaves_the_application_error(fake: FakeApp) -> None:
    fake.documents |= {"/incoming": (500, "text/html", ""), "/fallback": (500, "text/html", "")}
    call = fallback_switch(fake).caller(CALLER).dial()
    assert "an application error has occurred" in call.text and call.hung_up


@pytest.mark.parametrize(
    ("behaviour", "status"), [(Answer(), "completed"), (NoAnswer(), "no-answer")]
)
def test_a_dial_to_a_sip_uri_rings_it_and_reports_to_the_action(
    switch: Switch, fake: FakeApp, behaviour: Answer | NoAnswer, status: str
) -> None:
    desk = "sip:desk@pbx.example.com"
    switch.phone(desk).behaviour = behaviour
    fake.documents["/incoming"] = (
        f'<Response><Dial action="/after"><Sip>{desk}</Sip></Dial></Response>'
    )
    caller = switch.caller(CALLER).dial()
    if status == "completed":
        assert switch.phone(desk).call is not None  # the desk phone talks to the caller
        caller.hang_up()
    assert fake.forms("/after")[0]["DialCallStatus"] == status
