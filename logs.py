"""Logging that never shows a whole phone number, as text or as JSON lines.

Code logs numbers through ``telephony.numbers.mask`` already; the ``MaskNumbers``
filter is the safety net for anything else (library messages, exception texts with
SQL parameters) that reaches Hotline's handlers. While a webhook runs, ``CALL_SID``
holds its CallSid (set by ``calls.telemetry``), and every JSON line carries it.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Runs of 7+ digits, optionally with a + and separators: phone numbers, long ids.
_NUMBER = re.compile(r"\+?\d(?:[\s-]?\d){6,}")
# Runs of 4+ digits a caller said or keyed (spaces or hyphens between; Chinese numerals
# too): a PIN, a code, a card or phone number. Fewer are menu keys and amounts.
_DIGIT = r"[\d零〇一二三四五六七八九幺两]"
_DIGIT_RUN = re.compile(rf"{_DIGIT}(?:[\s-]?{_DIGIT}){{3,}}")
DIGITS_MASK = "****"
# The CallSid of the webhook request this thread is answering, if any.
CALL_SID: ContextVar[str | None] = ContextVar("call_sid", default=None)
_PLAIN = logging.Formatter()


def masked(number: str, last: int = 2) -> str:
    """Enough of a number to tell calls apart, not to dial it: +86*********00 (with
    ``last=4``, +86*******8000, as agents see a caller)."""
    return number[:3] + "*" * max(len(number) - 3 - last, 0) + number[-last:]


def mask_numbers(text: str) -> str:
    return _NUMBER.sub(lambda match: masked(match.group(0)), text)


def mask_digit_runs(text: str) -> str:
    """``text`` with each run of 4 or more digits as ``****``, however long it was."""
    return _DIGIT_RUN.sub(DIGITS_MASK, text)


class MaskNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_numbers(record.getMessage())
        record.args = None
        # A traceback quotes what failed (a number in an SQL parameter, say). Formatters
        # reuse a record's exc_text, so masking it once here covers every handler.
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_numbers(_PLAIN.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = mask_numbers(record.stack_info)
        return True


class TagCallSid(logging.Filter):
    """Puts the CallSid of the webhook being answered on the record (``call_sid``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.call_sid = CALL_SID.get()
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and
    ``call_sid`` and ``exception`` when there are any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        call_sid = getattr(record, "call_sid", None)
        if call_sid:
            line["call_sid"] = call_sid
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False)


def configure_logging(log_format: LogFormat = "text", level: int = logging.INFO) -> None:
    """Log to stderr in ``log_format`` (unless the host, e.g. gunicorn with a logging
    config, or pytest, set handlers up: their formats stay), and on every root handler
    mask numbers and tag lines with the webhook's CallSid."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(
            JsonLines() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
        )
        root.addHandler(handler)
        root.setLevel(level)
    for each in root.handlers:
        for kind in (MaskNumbers, TagCallSid):
            if not any(isinstance(f, kind) for f in each.filters):
                each.addFilter(kind())
