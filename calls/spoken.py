"""Account values as a caller should hear them: money as money, dates as dates,
references digit by digit. Plain functions of typed values, in each language."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def money(amount: Decimal, currency: str, language: str) -> str:
    """1280.50 CNY: 1280元5角 / 1,280 yuan and 50 fen (TTS would say "point five zero")."""
    cents = int((amount * 100).quantize(Decimal(1)))
    whole, fen = divmod(cents, 100)
    if currency != "CNY":
        return (
            f"{whole:,}.{fen:02d} {currency}"
            if language == "en"
            else f"{whole}.{fen:02d}{currency}"
        )
    if language == "zh":
        jiao, fen_only = divmod(fen, 10)
        parts = [f"{whole}元"] if whole or not fen else []
        if jiao:
            parts.append(f"{jiao}角")
        if fen_only:
            parts.append(f"{fen_only}分")
        return "".join(parts)
    if not fen:
        return f"{whole:,} yuan"
    return f"{whole:,} yuan and {fen} fen" if whole else f"{fen} fen"


def when(moment: datetime, language: str, zone: str) -> str:
    """A date and time in the hotline's zone: 11月23日18点 / November 23 at 6 PM."""
    local = moment.astimezone(ZoneInfo(zone))
    if language == "zh":
        minutes = f"{local.minute}分" if local.minute else ""
        return f"{local.month}月{local.day}日{local.hour}点{minutes}"
    hour = local.hour % 12 or 12
    clock = f"{hour}:{local.minute:02d}" if local.minute else f"{hour}"
    return f"{MONTHS[local.month - 1]} {local.day} at {clock} {'AM' if local.hour < 12 else 'PM'}"


def digits(reference: str) -> str:
    """One character at a time, so that 20261124 is not read as twenty million…"""
    return " ".join(reference)
