"""The REST gateway speaks Twilio's real API (as its OpenAPI description has it), to
whatever ``TWILIO_API_BASE_URL`` names, and turns every failure into one clear error."""

from __future__ import annotations

import io
import wave

import pytest
import requests
from twilio.rest import Client

from telephony.endpoints import Endpoint, Phone, parse_endpoint
from telephony.rest import BaseUrlHttpClient, RecordingRefused, TwilioGateway, TwilioUnavailable
from telephony.simulator import RestStandIn, Switch
from telephony.simulator.openapi import validator
from tests.conftest import ACCOUNT_SID, HOTLINE

TOKEN = "rest-token"


def gateway(mock: RestStandIn) -> TwilioGateway:
    return TwilioGateway(ACCOUNT_SID, TOKEN, HOTLINE, mock.base_url)


def test_sms_goes_to_the_configured_base_url_with_twilios_parameters(
    twilio_api: RestStandIn,
) -> None:
    sid = gateway(twilio_api).send_sms("+8613800138000", "你好 123456")
    assert sid.startswith("SM") and len(sid) == 34
    [request] = twilio_api.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.username == ACCOUNT_SID
    assert request.form == {"To": "+8613800138000", "From": HOTLINE, "Body": "你好 123456"}
    assert twilio_api.errors == []


def test_twilio_refusing_the_sms_is_one_clear_error(twilio_api: RestStandIn) -> None:
    twilio_api.fail_next(status=400, code=21211)
    with pytest.raises(TwilioUnavailable, match="refused"):
        gateway(twilio_api).send_sms("+8613800138000", "hello")


def test_an_unreachable_api_is_one_clear_error() -> None:
    unreachable = TwilioGateway(ACCOUNT_SID, TOKEN, HOTLINE, "http://127.0.0.1:9")
    with pytest.raises(TwilioUnavailable, match="could not be reached"):
        unreachable.send_sms("+8613800138000", "hello")


def test_without_credentials_nothing_is_sent(twilio_api: RestStandIn) -> None:
    for missing in (
        TwilioGateway(None, TOKEN, HOTLINE, twilio_api.base_url),
        TwilioGateway(ACCOUNT_SID, TOKEN, None, twilio_api.base_url),
    ):
        assert not missing.configured
        with pytest.raises(TwilioUnavailable, match="TWILIO_ACCOUNT_SID"):
            missing.send_sms("+8613800138000", "hello")
    assert twilio_api.requests == []


def test_the_mock_never_rebuilds_twilios_description_while_hotline_waits(
    twilio_api: RestStandIn,
) -> None:
    # Other stand-ins in the same run (the simulator's, the benchmarks') push this one's
    # validator out of the small cache; rebuilding it takes a second or more, past
    # Hotline's 3 s REST timeout on a loaded machine, and the SMS was lost in CI.
    validator.cache_clear()
    gateway(twilio_api).send_sms("+8613800138000", "hello")
    assert validator.cache_info().misses == 0
    assert len(twilio_api.messages()) == 1


# The mock is only worth trusting if it refuses what Twilio would refuse.


def test_mock_refuses_a_message_without_to(twilio_api: RestStandIn) -> None:
    response = requests.post(
        f"{twilio_api.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={"From": HOTLINE, "Body": "x"},
        auth=(ACCOUNT_SID, TOKEN),
        timeout=5,
    )
    assert response.status_code == 400
    assert "To" in twilio_api.take_errors()[0]


def test_mock_refuses_a_call_with_a_non_integer_timeout(twilio_api: RestStandIn) -> None:
    response = requests.post(
        f"{twilio_api.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json",
        data={
            "To": "+8613800138000",
            "From": HOTLINE,
            "Url": "https://example.com/x",
            "Timeout": "soon",
        },
        auth=(ACCOUNT_SID, TOKEN),
        timeout=5,
    )
    assert response.status_code == 400
    assert "integer" in twilio_api.take_errors()[0]


def test_mock_refuses_requests_without_the_accounts_basic_auth(twilio_api: RestStandIn) -> None:
    url = f"{twilio_api.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    form = {"To": "+8613800138000", "From": HOTLINE, "Body": "x"}
    assert requests.post(url, data=form, timeout=5).status_code == 400
    other = "AC" + "b2" * 16
    assert requests.post(url, data=form, auth=(other, TOKEN), timeout=5).status_code == 400
    assert len(twilio_api.take_errors()) == 2


def call_form(to: str, caller: str = HOTLINE) -> dict[str, str]:
    return {"To": to, "From": caller, "Url": "https://hotline.example.com/agents/ring"}


@pytest.mark.parametrize("to", ["13800138000", "li_na", "sip:desk", "tel:+8613800138000"])
def test_mock_refuses_a_call_to_what_twilio_cannot_dial(twilio_api: RestStandIn, to: str) -> None:
    url = f"{twilio_api.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    response = requests.post(url, data=call_form(to), auth=(ACCOUNT_SID, TOKEN), timeout=5)
    assert response.status_code == 400
    assert "endpoint" in twilio_api.take_errors()[0]


def test_mock_refuses_a_call_to_a_phone_number_from_a_client(twilio_api: RestStandIn) -> None:
    url = f"{twilio_api.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    form = call_form("+8613800138000", caller="client:hotline")
    assert requests.post(url, data=form, auth=(ACCOUNT_SID, TOKEN), timeout=5).status_code == 400
    assert "must be a phone number" in twilio_api.take_errors()[0]
    form = call_form("client:li_na", caller="client:hotline")  # allowed towards a client
    assert requests.post(url, data=form, auth=(ACCOUNT_SID, TOKEN), timeout=5).status_code == 201


TRUNK = "BY" + "0f" * 16


@pytest.mark.parametrize(
    ("to", "byoc"),
    [
        (Phone("+8613900000001"), TRUNK),
        (
            parse_endpoint("client:li_na", None),
            None,
        ),  # Twilio: Byoc "is only meaningful when to is a phone number"
        (parse_endpoint("sip:li_na@pbx.example.com;transport=tls", None), None),
    ],
    ids=str,
)
def test_a_ring_goes_to_the_endpoint_through_the_trunk_only_for_a_phone(
    twilio_api: RestStandIn, to: Endpoint, byoc: str | None
) -> None:
    trunked = TwilioGateway(ACCOUNT_SID, TOKEN, HOTLINE, twilio_api.base_url, TRUNK)
    sid = trunked.ring(
        to, "https://h.example/agents/ring", "https://h.example/s", ["completed"], 20
    )
    assert sid.startswith("CA")
    [call] = twilio_api.calls()
    assert call["To"] == str(to) and call["From"] == HOTLINE
    assert call.get("Byoc") == byoc
    assert twilio_api.errors == []


def test_without_a_trunk_no_byoc_is_sent(twilio_api: RestStandIn) -> None:
    gateway(twilio_api).ring(
        Phone("+8613900000001"), "https://h.example/r", "https://h.example/s", [], 20
    )
    assert "Byoc" not in twilio_api.calls()[0]


def test_twilios_own_client_passes_the_mock(twilio_api: RestStandIn) -> None:
    client = Client(ACCOUNT_SID, TOKEN, http_client=BaseUrlHttpClient(twilio_api.base_url))
    call = client.calls.create(
        to="+8613800138000",
        from_=HOTLINE,
        url="https://hotline.example.com/agents/whisper",
        timeout=20,
    )
    assert call.sid.startswith("CA")
    assert twilio_api.calls()[0]["Timeout"] == "20"
    assert twilio_api.errors == []


def test_moving_a_call_sends_twilios_update_and_a_gone_call_is_one_clear_error(
    twilio_api: RestStandIn,
) -> None:
    leg = twilio_api.switch.new_leg(caller=HOTLINE, to="+8613800138000", direction="inbound")
    leg.status = "in-progress"
    gateway(twilio_api).redirect(leg.call_sid, "https://hotline.example.com/voice/queue/requeue")
    [update] = twilio_api.call_updates()
    assert update.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{leg.call_sid}.json"
    assert update.form == {
        "Url": "https://hotline.example.com/voice/queue/requeue",
        "Method": "POST",
    }
    with pytest.raises(TwilioUnavailable, match="refused to move the call"):
        gateway(twilio_api).redirect("CA" + "9" * 32, "https://hotline.example.com/x")
    assert twilio_api.errors == []


# --- recordings, fetched by Hotline with the account's credentials ----------------------

RECORDING = "RE" + "0" * 32


@pytest.fixture
def account(twilio_api: RestStandIn) -> Switch:
    """The simulated account, holding recordings, that knows the gateway's auth token."""
    switch = Switch(account_sid=ACCOUNT_SID, auth_token=TOKEN)
    twilio_api.connect(switch)
    return switch


def recording_url(account: str = ACCOUNT_SID, rest: str = f"Recordings/{RECORDING}") -> str:
    return f"https://api.twilio.com/2010-04-01/Accounts/{account}/{rest}"


def test_a_recording_is_fetched_through_the_base_url_with_the_accounts_credentials(
    twilio_api: RestStandIn, account: Switch
) -> None:
    account.recordings[RECORDING] = 3
    audio = TwilioGateway(ACCOUNT_SID, TOKEN, HOTLINE, twilio_api.base_url).fetch_recording(
        recording_url()
    )
    assert audio.content_type == "audio/x-wav"
    with wave.open(io.BytesIO(audio.data)) as wav:
        assert wav.getnframes() / wav.getframerate() == 3
    [request] = twilio_api.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING}"
    assert (request.method, request.username) == ("GET", ACCOUNT_SID)


def test_a_stored_mp3_or_wav_url_is_fetched_as_the_recordings_wav(
    twilio_api: RestStandIn, account: Switch
) -> None:
    account.recordings[RECORDING] = 1
    gateway = TwilioGateway(ACCOUNT_SID, TOKEN, HOTLINE, twilio_api.base_url)
    for stored in (recording_url() + ".mp3", recording_url() + ".wav"):
        assert gateway.fetch_recording(stored).content_type == "audio/x-wav"
    assert {r.path for r in twilio_api.requests} == {
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING}"
    }


@pytest.mark.parametrize(
    "stored",
    [
        f"https://evil.example.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING}",
        f"http://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING}",
        f"https://api.twilio.com.evil.example/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING}",
        f"https://user@api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING}",
        f"https://api.twilio.com:8443/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING}",
        recording_url(account="AC" + "b2" * 16),
        recording_url(rest="Calls.json"),
        recording_url(rest=f"Recordings/{RECORDING}.json"),
        recording_url(rest=f"Recordings/{RECORDING}/Transcriptions.json"),
        recording_url(rest=f"Messages/MM{'0' * 32}/Media/ME{'0' * 32}"),
        recording_url(rest=f"Recordings/{RECORDING}/../../Calls.json"),
        recording_url() + "?x=1",
        recording_url() + "\n",
        "",
    ],
    ids=[
        "another-host",
        "plain-http",
        "a-lookalike-host",
        "userinfo",
        "another-port",
        "another-account",
        "not-a-recording",
        "the-recordings-metadata",
        "below-a-recording",
        "message-media",
        "dot-dot",
        "a-query",
        "a-trailing-newline",
        "nothing",
    ],
)
def test_anything_but_this_accounts_recording_is_refused_without_a_request(
    twilio_api: RestStandIn, stored: str
) -> None:
    gateway = TwilioGateway(ACCOUNT_SID, TOKEN, HOTLINE, twilio_api.base_url)
    with pytest.raises(RecordingRefused):
        gateway.fetch_recording(stored)
    assert twilio_api.requests == []


def test_a_recording_twilio_does_not_have_and_an_unset_account_are_clear_errors(
    twilio_api: RestStandIn, account: Switch
) -> None:
    with pytest.raises(TwilioUnavailable, match="404"):
        TwilioGateway(ACCOUNT_SID, TOKEN, None, twilio_api.base_url).fetch_recording(
            recording_url()
        )
    with pytest.raises(TwilioUnavailable, match="TWILIO_ACCOUNT_SID"):
        TwilioGateway(None, None, HOTLINE, twilio_api.base_url).fetch_recording(recording_url())
    assert len(twilio_api.requests) == 1
    with pytest.raises(TwilioUnavailable, match="could not be reached"):
        TwilioGateway(ACCOUNT_SID, TOKEN, HOTLINE, "http://127.0.0.1:9").fetch_recording(
            recording_url()
        )


def test_the_mock_refuses_media_to_a_wrong_auth_token(
    twilio_api: RestStandIn, account: Switch
) -> None:
    account.recordings[RECORDING] = 1
    with pytest.raises(TwilioUnavailable, match="400"):
        TwilioGateway(ACCOUNT_SID, "not-the-token", HOTLINE, twilio_api.base_url).fetch_recording(
            recording_url()
        )
    assert "auth token" in twilio_api.take_errors()[0]
