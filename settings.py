"""Hotline's settings: environment variables (and an optional .env), checked at start-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from telephony.endpoints import Endpoint, parse_endpoint
from validation import problems

DEFAULT_FLOW_FILE = Path(__file__).resolve().parent / "flowfile" / "default_flow.yaml"
# Settings that are names of things: what each must look like, and how to say it.
SHAPES = {
    # The SID of a BYOC trunk (twilio.com/docs/voice/bring-your-own-carrier-byoc/api/
    # byoctrunk-resource), as the Calls API's Byoc parameter takes it.
    "twilio_byoc_trunk_sid": (
        re.compile(r"BY[0-9a-fA-F]{32}"),
        "a BYOC trunk's SID: BY and 32 hexadecimal digits",
    ),
    "sms_sender": (
        re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*"),
        "package.module:factory (a module and a name in it)",
    ),
}

# A bearer token shorter than this could be guessed by a scraper left running.
MIN_TOKEN_LENGTH = 16
# The key of every PIN and code hash and of the desk's sessions: one that short
# would make a stolen database's PINs worth guessing offline (token_urlsafe(32) is 43).
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,  # VAR= means "not set", as operators expect
        extra="ignore",
        frozen=True,
    )

    database_url: str | None = None
    # False: a commit returns before it is on disk (PostgreSQL's synchronous_commit=off,
    # postgresql.org/docs/current/wal-async-commit.html; SQLite's synchronous=NORMAL in
    # WAL mode, sqlite.org/pragma.html#pragma_synchronous). A crash of the machine may
    # lose the last moments of calls' progress, never corrupt them, and never a lockout
    # count: verification.guard's transactions commit durably whatever this says.
    database_synchronous_commit: bool = True
    twilio_auth_token: SecretStr | None = None
    twilio_account_sid: Annotated[str | None, Field(pattern=r"^AC[0-9a-fA-F]{32}$")] = None
    twilio_api_base_url: AnyHttpUrl = AnyHttpUrl("https://api.twilio.com")
    # An API key of the account (SK…) and its secret: they sign the desk's access tokens
    # for Twilio's Voice JavaScript SDK (telephony.tokens); without them, no token.
    twilio_api_key: Annotated[str | None, Field(pattern=r"^SK[0-9a-fA-F]{32}$")] = None
    twilio_api_secret: SecretStr | None = None
    hotline_number: str | None = None
    public_base_url: AnyHttpUrl | None = None
    twilio_validate_signatures: bool = True
    hotline_secret_key: SecretStr | None = None
    flow_file: Path = DEFAULT_FLOW_FILE
    default_region: str = "CN"
    # SPEC §5: "Both limits are settings."
    verification_attempts_per_call: Annotated[int, Field(ge=1, le=10)] = 3
    verification_lockout_failures: Annotated[int, Field(ge=1, le=100)] = 5
    verification_lockout_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    # SMS codes texted in any 24 hours, per customer and per caller ID (SPEC §5).
    sms_codes_per_customer_per_day: Annotated[int, Field(ge=1, le=100)] = 5
    sms_codes_per_caller_per_day: Annotated[int, Field(ge=1, le=1000)] = 10
    # SPEC §6: after this long in a queue, a caller may leave a voicemail or ask for a callback.
    queue_max_wait_seconds: Annotated[int, Field(ge=30, le=4 * 3600)] = 600
    # SPEC §2: humans to reach when Hotline cannot serve (database down, an urgent
    # caller and no agent on): a phone number, or a SIP URI such as the team's desk
    # phones, or a client: identity (telephony.endpoints).
    overflow_number: Annotated[Endpoint | None, NoDecode] = None  # written, not JSON
    # SPEC §2: a BYOC trunk (README "Callers in mainland China") that carries Hotline's
    # calls to phone numbers: agents rung on their phones, customers called back.
    twilio_byoc_trunk_sid: str | None = None
    # Who sends SMS codes: ``package.module:factory``, called with the settings at
    # start-up (telephony.sms); unset, Twilio's Messages API.
    sms_sender: str | None = None
    # Where recordings wait while the database is down (calls.spool); instance/spool
    # when unset. Each server replays what it spooled: keep it on a lasting disk.
    spool_dir: Path | None = None
    # SPEC §2: the longest an agent stays in wrap-up before being ready again.
    agent_wrap_up_seconds: Annotated[int, Field(ge=5, le=600)] = 30
    # SPEC §2: how often a callback is tried (attempts that do not reach the customer),
    # and how long after a failed attempt the next may be made.
    callback_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    callback_retry_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 10
    # The bearer token Prometheus scrapes /metrics with (admin.metrics); unset, the
    # endpoint is off.
    metrics_token: SecretStr | None = None
    # Log lines as text for people, or one JSON object per line for a log collector
    # (logs.JsonLines), each tagged with the CallSid of the webhook that wrote it.
    log_format: Literal["text", "json"] = "text"
    # Reports (reports.figures): a queued caller answered within this many seconds counts
    # towards the service level, Amazon Connect's "service level X".
    service_level_seconds: Annotated[int, Field(ge=1, le=3600)] = 20

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region code such as CN, US or GB")
        return region

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(f"at least {MIN_TOKEN_LENGTH} characters (try: openssl rand -hex 32)")
        return value

    @field_validator("overflow_number", mode="before")
    @classmethod
    def _endpoint(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_endpoint(value, None) if value.strip() else None
        return value

    @field_validator("twilio_byoc_trunk_sid", "sms_sender")
    @classmethod
    def _written_as(cls, value: str | None, info: ValidationInfo) -> str | None:
        pattern, shape = SHAPES[info.field_name or ""]
        if value is not None and not pattern.fullmatch(value):
            raise ValueError(f"not {shape}")
        return value

    @field_validator("hotline_number")
    @classmethod
    def _e164_number(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException as exc:
            raise ValueError(f"{value!r} is not a phone number in +E.164 form") from exc
        if not phonenumbers.is_possible_number(number):
            raise ValueError(f"{value!r} is not a possible phone number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    @field_validator("flow_file")
    @classmethod
    def _flow_file_exists(cls, value: Path) -> Path:
        if not value.is_file():
            raise ValueError(f"no flow file at {value}")
        return value

    @property
    def development(self) -> bool:
        return not self.twilio_validate_signatures

    def missing_secrets(self) -> list[str]:
        """What a server needs before it may answer webhooks. Checked when it starts
        serving, not when a command that needs neither (``flow check``) runs."""
        missing = []
        if self.twilio_validate_signatures and not self.twilio_auth_token:
            missing.append("TWILIO_AUTH_TOKEN: required while TWILIO_VALIDATE_SIGNATURES is true")
        if not self.development:
            missing += self._secret_key_problems()
        return missing

    def require_secrets(self) -> None:
        _refuse(self.missing_secrets())

    def secret_key_bytes(self) -> bytes:
        """The key of PIN and code hashes: all that importing and verifying need."""
        if not self.development:
            _refuse(self._secret_key_problems())
        if self.hotline_secret_key:
            return self.hotline_secret_key.get_secret_value().encode()
        # Development only: a fixed, public key.
        return b"hotline-development-key-not-secret"

    def _secret_key_problems(self) -> list[str]:
        if not self.hotline_secret_key:
            return [NO_SECRET_KEY]
        if len(self.hotline_secret_key.get_secret_value()) < MIN_SECRET_KEY_LENGTH:
            return [SHORT_SECRET_KEY]
        return []


NO_SECRET_KEY = (
    "HOTLINE_SECRET_KEY: required outside local development (TWILIO_VALIDATE_SIGNATURES=false)"
)


SHORT_SECRET_KEY = (
    f"HOTLINE_SECRET_KEY: at least {MIN_SECRET_KEY_LENGTH} characters outside local development"
    " (make one: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
)


def _refuse(missing: list[str]) -> None:
    if missing:
        raise ConfigError("invalid settings:\n  " + "\n  ".join(missing))


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning pydantic's errors into one that names each variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc)) from None


def describe_errors(exc: ValidationError) -> str:
    # Settings are named as the environment variables an operator sets.
    return "invalid settings:\n  " + "\n  ".join(problems(exc, top="settings", name=str.upper))
