"""The numbers a simulated account answers for, as configured in Twilio's console."""

from __future__ import annotations

from dataclasses import dataclass

# A second number for the agent line; Hotline's settings name only the hotline number.
AGENT_LINE = "+8640012345679"


@dataclass(frozen=True)
class Number:
    """A Twilio number: "A call comes in" (``voice_url``), "Primary handler fails"
    (``fallback_url``) and "Call status changes" (``status_callback``), each None when
    the console leaves it empty. Relative URLs are resolved against the base URL of
    the call."""

    number: str
    voice_url: str
    status_callback: str | None = None
    fallback_url: str | None = None


def hotline_numbers(hotline: str, agent_line: str = AGENT_LINE) -> list[Number]:
    """Hotline's two numbers, set up as ``flask --app app webhook-urls`` prints them."""
    return [
        Number(
            hotline,
            "/voice/incoming",
            status_callback="/voice/status",
            fallback_url="/voice/fallback",
        ),
        Number(agent_line, "/agents/incoming", status_callback="/agents/status"),
    ]
