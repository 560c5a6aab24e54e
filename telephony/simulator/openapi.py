"""Twilio's own OpenAPI description of its REST API (twilio/twilio-oai), to hold every
request the stand-in receives to the real API rather than to our idea of it."""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from openapi_core import Config, OpenAPI

SPEC_ENV = "TWILIO_OAI_SPEC"
# ../shared/twilio-oai beside the repository, as the project's checkouts have it.
DEFAULT_SPEC = Path(__file__).resolve().parents[3] / "shared/twilio-oai/twilio_api_v2010.json"
# The description's own format for a call's To and From, which the validator does not
# know: "The phone number, SIP address, or client identifier to call" (Calls, To). Told
# here as Twilio's pages write them (twilio.com/docs/voice/api/call-resource): +E.164, a
# client identifier, or a SIP URI of under 255 characters
# (twilio.com/docs/voice/api/sip-making-calls). Deliberately looser than
# telephony.endpoints, so the stand-in holds Hotline to Twilio, not to itself.
ENDPOINT = re.compile(r"\+[1-9][0-9]{1,14}|client:[^\s]{1,256}|sip:[^\s@]+@[^\s@]{1,245}")


def spec_path() -> Path:
    return Path(os.environ.get(SPEC_ENV) or DEFAULT_SPEC)


@lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    path = spec_path()
    if not path.is_file():
        raise FileNotFoundError(f"Twilio's OpenAPI description is missing: {path} ({SPEC_ENV})")
    with path.open(encoding="utf-8") as handle:
        spec: dict[str, Any] = json.load(handle)
    # Every path names https://api.twilio.com as its server; the stand-in serves them all.
    for item in spec["paths"].values():
        item.pop("servers", None)
    return spec


@lru_cache(maxsize=4)
def validator(base_url: str) -> OpenAPI:
    """Raises FileNotFoundError when the description is not there."""
    return OpenAPI.from_dict(
        _spec() | {"servers": [{"url": base_url}]},
        config=Config(extra_format_validators={"endpoint": is_endpoint}),
    )


def is_endpoint(value: object) -> bool:
    return isinstance(value, str) and ENDPOINT.fullmatch(value) is not None
