"""Only Twilio, signing for the URL it called, is answered; others get 403 and change nothing."""

from __future__ import annotations

import logging
from urllib.parse import urlparse

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator, add_port, remove_port
from werkzeug.datastructures import MultiDict

from app import create_app
from models import Call
from settings import Settings
from telephony.signatures import signed
from telephony.simulator import Switch, sign
from tests.conftest import BASE_URL, TOKEN
from tests.routes import twilio_routes

PARAMS = Switch().caller().params()


def calls_recorded(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Call)) or 0


def post(client: FlaskClient, path: str, params: dict[str, str], signature: str | None):
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    return client.post(path, data=params, headers=headers)


def test_correctly_signed_request_is_answered(client: FlaskClient, db: Session) -> None:
    url = BASE_URL + "/voice/incoming"
    response = post(client, "/voice/incoming", PARAMS, sign(TOKEN, url, PARAMS))
    assert response.status_code == 200
    assert calls_recorded(db) == 1


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "not-a-signature",
        sign("someone-elses-token", BASE_URL + "/voice/incoming", PARAMS),
    ],
    ids=["missing", "empty", "garbage", "other-token"],
)
def test_unsigned_or_badly_signed_request_is_refused(
    client: FlaskClient, db: Session, signature: str | None
) -> None:
    response = post(client, "/voice/incoming", PARAMS, signature)
    assert response.status_code == 403
    assert calls_recorded(db) == 0


def test_tampered_parameters_are_refused(client: FlaskClient, db: Session) -> None:
    signature = sign(TOKEN, BASE_URL + "/voice/incoming", PARAMS)
    forged = PARAMS | {"From": "+8613900139000"}
    assert post(client, "/voice/incoming", forged, signature).status_code == 403
    added = PARAMS | {"Digits": "1"}
    assert post(client, "/voice/incoming", added, signature).status_code == 403
    assert calls_recorded(db) == 0


def test_request_replayed_to_another_url_is_refused(client: FlaskClient, db: Session) -> None:
    # Signed for the status callback, sent to the PIN check: the URL is part of the signature.
    status_signature = sign(TOKEN, BASE_URL + "/voice/status", PARAMS)
    response = post(client, "/voice/verify/secret", PARAMS, status_signature)
    assert response.status_code == 403
    query_signature = sign(TOKEN, BASE_URL + "/voice/incoming?x=1", PARAMS)
    assert post(client, "/voice/incoming", PARAMS, query_signature).status_code == 403
    assert calls_recorded(db) == 0


def test_every_webhook_checks_the_signature(app: Flask, client: FlaskClient) -> None:
    # Pages and JSON are not Twilio's: they need a signed-in person or a token instead
    # (tests/test_every_route.py walks them).
    webhooks = [rule.rule for rule in twilio_routes(app)]
    assert {"/voice/incoming", "/voice/status", "/voice/queue/wait", "/voice/fallback"} <= set(
        webhooks
    )
    for path in webhooks:
        assert post(client, path, PARAMS, None).status_code == 403, path
        signed = post(client, path, PARAMS, sign(TOKEN, BASE_URL + path, PARAMS))
        assert signed.status_code == 200, path


def test_shared_key_signatures_are_refused_clearly(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    signature = sign(TOKEN, BASE_URL + "/voice/incoming", PARAMS)
    response = client.post(
        "/voice/incoming",
        data=PARAMS,
        headers={
            "X-Twilio-Signature": signature,
            "X-Twilio-Webhooks-Signature-Settings": "key=sharedkey_1,algorithm=HMAC_SHA256",
        },
    )
    assert response.status_code == 403
    assert "shared key" in caplog.text


def test_behind_a_proxy_the_public_url_is_checked(settings: Settings) -> None:
    public = "https://hotline.example.com"
    app = create_app(settings.model_copy(update={"public_base_url": public}))
    client = app.test_client()
    # Twilio signed the public https URL; the app sees plain http on localhost.
    good = sign(TOKEN, public + "/voice/incoming", PARAMS)
    assert post(client, "/voice/incoming", PARAMS, good).status_code == 200
    internal = sign(TOKEN, BASE_URL + "/voice/incoming", PARAMS)
    assert post(client, "/voice/incoming", PARAMS, internal).status_code == 403
    # And TwiML then points Twilio at the public URL.
    body = post(client, "/voice/incoming", PARAMS, good).get_data(as_text=True)
    assert f'action="{public}/voice/language?turn=' in body
    app.extensions["db"].engine.dispose()


def test_query_string_is_checked_as_sent(app: Flask, client: FlaskClient) -> None:
    # Percent-encoding must reach the validator untouched, or the signature breaks.
    url = BASE_URL + "/voice/status?note=a%20b&z=%2B1"
    response = post(client, "/voice/status?note=a%20b&z=%2B1", PARAMS, sign(TOKEN, url, PARAMS))
    assert response.status_code == 200


def test_validation_off_needs_the_setting_and_warns(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    off = settings.model_copy(update={"twilio_validate_signatures": False})
    app = create_app(off)
    assert "TWILIO_VALIDATE_SIGNATURES is false" in caplog.text
    assert post(app.test_client(), "/voice/incoming", PARAMS, None).status_code == 200
    app.extensions["db"].engine.dispose()


_URLS = st.builds(
    lambda scheme, port, path: f"{scheme}://hotline.example{port}/voice/{path}",
    st.sampled_from(["http", "https"]),
    st.sampled_from(["", ":80", ":443", ":8443"]),
    st.text(alphabet="abc/?=&%20", max_size=20),
)
_FORMS = st.lists(
    st.tuples(st.sampled_from(["CallSid", "Digits", "From", "SpeechResult"]), st.text(max_size=8)),
    max_size=6,
)


@given(url=_URLS, pairs=_FORMS, with_port=st.booleans(), forged=st.booleans())
def test_one_hmac_check_accepts_exactly_what_twilio_validator_does(
    url: str, pairs: list[tuple[str, str]], with_port: bool, forged: bool
) -> None:
    """The signature check computes one HMAC where the library's validate computes two
    (telephony.signatures.signed): it must accept and refuse the very same requests,
    whichever form of the URL Twilio signed, with repeated parameters too."""
    validator = RequestValidator(TOKEN)
    form = MultiDict(pairs)
    parsed = urlparse(url)
    signature = validator.compute_signature(
        add_port(parsed) if with_port else remove_port(parsed), form
    )
    if forged:
        signature = RequestValidator("another token").compute_signature(url, form)
    assert signed(validator, url, form, signature) == validator.validate(url, form, signature)
    assert signed(validator, url, form, signature) is not forged


@pytest.mark.parametrize("public", [BASE_URL, "http://localhost:8000"])
def test_a_genuine_webhook_costs_one_hmac(
    settings: Settings, public: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where PUBLIC_BASE_URL names no port and where it names one (Twilio signs the URL
    as configured, port and all)."""
    app = create_app(settings.model_copy(update={"public_base_url": public}))
    computed = []
    original = RequestValidator.compute_signature

    def counting(self: RequestValidator, uri: str, params: object, algorithm: object = None) -> str:
        computed.append(uri)
        return original(self, uri, params, algorithm)

    monkeypatch.setattr(RequestValidator, "compute_signature", counting)
    signature = sign(TOKEN, f"{public}/voice/incoming", PARAMS)
    computed.clear()  # signing above computed one too
    response = post(app.test_client(), "/voice/incoming", PARAMS, signature)
    app.extensions["db"].engine.dispose()
    assert response.status_code == 200 and len(computed) == 1
