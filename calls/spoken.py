"""Account values as a caller should hear them: money as money, dates as dates,
references in short groups, and which voice can read a piece of free text. Plain
functions of typed values, in each language.

How a native speaker says them, and so what we write for the voice:
- Mandarin money in 元, 角 and 分, with 零 where the 角 is skipped: 4321.07 is
  "4321元零7分", 10.50 "10元5角", 10.05 "10元零5分", 12.00 "12元", 0.05 "5分".
- English money as written on a price tag, never in fen: "59.90 yuan", "35 yuan".
- Mandarin times on the 24-hour clock with two-digit minutes: 21:07 is "21点07分"
  (二十一点零七分), and on the hour just "9点".
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Literal
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
# A reference is read in groups of at most this many characters.
GROUP = 4


def money(amount: Decimal, currency: str, language: str) -> str:
    """1280.50 CNY: 1280元5角 / 1,280.50 yuan."""
    cents = int((amount * 100).quantize(Decimal(1)))
    whole, fen = divmod(cents, 100)
    if currency != "CNY":
        return (
            f"{whole:,}.{fen:02d} {currency}"
            if language == "en"
            else f"{whole}.{fen:02d}{currency}"
        )
    if language == "zh":
        return _yuan_jiao_fen(whole, fen)
    return f"{whole:,} yuan" if not fen else f"{whole:,}.{fen:02d} yuan"


def _yuan_jiao_fen(whole: int, fen: int) -> str:
    jiao, fen_only = divmod(fen, 10)
    parts = [f"{whole}元"] if whole or not fen else []
    if jiao:
        parts.append(f"{jiao}角")
    elif whole and fen_only:
        parts.append("零")  # 10.05: 十元零五分, the skipped 角 is heard
    if fen_only:
        parts.append(f"{fen_only}分")
    return "".join(parts)


def when(moment: datetime, language: str, zone: str) -> str:
    """A date and time in the hotline's zone: 11月23日21点07分 / November 23 at 9:07 PM."""
    local = moment.astimezone(ZoneInfo(zone))
    if language == "zh":
        minutes = f"{local.minute:02d}分" if local.minute else ""
        return f"{local.month}月{local.day}日{local.hour}点{minutes}"
    hour = local.hour % 12 or 12
    clock = f"{hour}:{local.minute:02d}" if local.minute else f"{hour}"
    return f"{MONTHS[local.month - 1]} {local.day} at {clock} {'AM' if local.hour < 12 else 'PM'}"


def reference(text: str, language: str) -> str:
    """One character at a time, in groups of three or four with a pause between them,
    so that 20261124 is neither "twenty million…" nor eight digits in one breath:
    "2 0 2 6, 1 1 2 4" (a comma is a pause for every voice; no SSML needed)."""
    count = -(-len(text) // GROUP)  # groups, as even as can be, the longer ones first
    size, longer = divmod(len(text), count) if text else (0, 0)
    groups, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < longer else 0)
        groups.append(" ".join(text[start:end]))
        start = end
    return ("，" if language == "zh" else ", ").join(groups)


Script = Literal["zh", "en"]
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def script_of(text: str) -> Script | None:
    """The language whose voice can read ``text``: Chinese characters need the Mandarin
    voice, Latin letters the English one; digits and signs alone, either (None)."""
    if _HAN.search(text):
        return "zh"
    if _LATIN.search(text):
        return "en"
    return None
