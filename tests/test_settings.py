"""Start-up refuses bad settings with a message that names the variable."""

from __future__ import annotations

import pytest

from app import create_app
from settings import ConfigError, load_settings
from tests.conftest import SECRET_KEY

GOOD = {
    "TWILIO_AUTH_TOKEN": "token",
    "HOTLINE_SECRET_KEY": SECRET_KEY,
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    for name in (
        "DATABASE_URL",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_API_BASE_URL",
        "HOTLINE_NUMBER",
        "PUBLIC_BASE_URL",
        "TWILIO_VALIDATE_SIGNATURES",
        "HOTLINE_SECRET_KEY",
        "FLOW_FILE",
        "DEFAULT_REGION",
        "OVERFLOW_NUMBER",
        "TWILIO_BYOC_TRUNK_SID",
        "SMS_SENDER",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no developer's .env


def use(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in (GOOD | values).items():
        monkeypatch.setenv(name, value)


def test_defaults_follow_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch)
    settings = load_settings()
    assert settings.default_region == "CN"
    assert settings.twilio_validate_signatures is True
    assert str(settings.twilio_api_base_url).startswith("https://api.twilio.com")
    assert settings.flow_file.name == "default_flow.yaml"
    assert (
        settings.verification_attempts_per_call,
        settings.verification_lockout_failures,
        settings.verification_lockout_minutes,
    ) == (3, 5, 30)


def test_auth_token_is_required_while_signatures_are_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use(monkeypatch)
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN"):
        load_settings().require_secrets()


def test_secret_key_is_required_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch)
    monkeypatch.delenv("HOTLINE_SECRET_KEY")
    with pytest.raises(ConfigError, match="HOTLINE_SECRET_KEY"):
        load_settings().require_secrets()
    with pytest.raises(ConfigError, match="HOTLINE_SECRET_KEY"):
        load_settings().secret_key_bytes()  # no PIN is hashed with a made-up key
    monkeypatch.setenv("TWILIO_VALIDATE_SIGNATURES", "false")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    assert load_settings().development


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEFAULT_REGION", "XX"),
        ("HOTLINE_NUMBER", "not a number"),
        ("TWILIO_ACCOUNT_SID", "AC123"),
        ("PUBLIC_BASE_URL", "hotline.example.com"),
        ("TWILIO_VALIDATE_SIGNATURES", "maybe"),
        ("FLOW_FILE", "/nowhere/flow.yaml"),
        ("VERIFICATION_LOCKOUT_FAILURES", "0"),
    ],
)
def test_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    use(monkeypatch, **{variable: value})
    with pytest.raises(ConfigError, match=variable):
        load_settings()


def test_numbers_and_regions_are_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, HOTLINE_NUMBER="+86 400 1234 5678", DEFAULT_REGION="us")
    settings = load_settings()
    assert settings.hotline_number == "+8640012345678"
    assert settings.default_region == "US"


def test_start_up_stops_with_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, DEFAULT_REGION="XX")
    with pytest.raises(SystemExit) as stopped:
        create_app()
    assert "DEFAULT_REGION" in str(stopped.value)


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    (tmp_path / ".env").write_text(
        f"TWILIO_AUTH_TOKEN=from-file\nHOTLINE_SECRET_KEY={SECRET_KEY}\n"
    )
    settings = load_settings()
    assert settings.twilio_auth_token is not None
    assert settings.twilio_auth_token.get_secret_value() == "from-file"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("+86 10 6552 9988", "+861065529988"),
        ("sip:desk@pbx.example.com", "sip:desk@pbx.example.com"),
    ],
)
def test_overflow_number_takes_a_phone_number_or_a_sip_uri(given: str, kept: str) -> None:
    assert str(load_settings(overflow_number=given).overflow_number) == kept


@pytest.mark.parametrize("given", ["desk phones", "sip:nobody", "13911112222", "client:duty team"])
def test_a_bad_overflow_number_is_named(given: str) -> None:
    with pytest.raises(ConfigError, match="OVERFLOW_NUMBER"):
        load_settings(overflow_number=given)


def test_overflow_number_may_be_the_duty_teams_browsers(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, OVERFLOW_NUMBER="client:duty_team")
    assert str(load_settings().overflow_number) == "client:duty_team"


def test_a_byoc_trunk_is_its_sid_and_reaches_the_gateway(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,  # noqa: ANN001
) -> None:
    trunk = "BY" + "ab" * 16
    use(monkeypatch, TWILIO_BYOC_TRUNK_SID=trunk, DATABASE_URL=f"sqlite:///{tmp_path}/h.db")
    assert load_settings().twilio_byoc_trunk_sid == trunk
    app = create_app(load_settings())
    assert app.extensions["twilio"].byoc_trunk_sid == trunk
    app.extensions["db"].engine.dispose()


@pytest.mark.parametrize("given", ["BY123", "TK" + "ab" * 16, "trunk-1"])
def test_a_bad_byoc_trunk_is_named(monkeypatch: pytest.MonkeyPatch, given: str) -> None:
    use(monkeypatch, TWILIO_BYOC_TRUNK_SID=given)
    with pytest.raises(ConfigError, match="TWILIO_BYOC_TRUNK_SID: not a BYOC trunk's SID"):
        load_settings()


@pytest.mark.parametrize("given", ["sms_provider", "my provider:make", "pkg.mod:"])
def test_an_sms_sender_is_named_as_module_and_factory(
    monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    use(monkeypatch, SMS_SENDER=given)
    with pytest.raises(ConfigError, match="SMS_SENDER: not package.module:factory"):
        load_settings()


@pytest.mark.parametrize("key", ["secret", "x" * 31])
def test_a_short_secret_key_is_refused_outside_development(
    monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    use(monkeypatch, HOTLINE_SECRET_KEY=key)
    for step in (
        lambda: load_settings().require_secrets(),
        lambda: load_settings().secret_key_bytes(),
    ):
        with pytest.raises(ConfigError, match="HOTLINE_SECRET_KEY: at least 32") as refused:
            step()
        assert "secrets.token_urlsafe(32)" in str(refused.value)  # how to make one
    monkeypatch.setenv("TWILIO_VALIDATE_SIGNATURES", "false")
    assert load_settings().secret_key_bytes() == key.encode()  # a developer's own machine
    use(monkeypatch, HOTLINE_SECRET_KEY="k" * 32)
    assert load_settings().secret_key_bytes() == b"k" * 32
