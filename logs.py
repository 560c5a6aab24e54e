"""Logging that never shows a whole phone number.

Code logs numbers through ``verification.numbers.mask`` already; this filter is
the safety net for anything else (library messages, exception texts with SQL
parameters) that reaches Hotline's handlers.
"""

from __future__ import annotations

import logging
import re

# Runs of 7+ digits, optionally with a + and separators: phone numbers, long ids.
_NUMBER = re.compile(r"\+?\d(?:[\s-]?\d){6,}")


def _mask_match(match: re.Match[str]) -> str:
    digits = match.group(0)
    return digits[:3] + "*" * max(len(digits) - 5, 0) + digits[-2:]


def mask_numbers(text: str) -> str:
    return _NUMBER.sub(_mask_match, text)


class MaskNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_numbers(record.getMessage())
        record.args = None
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr (unless the host, e.g. gunicorn or pytest, set handlers up)
    and mask numbers on every root handler."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        if not any(isinstance(f, MaskNumbers) for f in handler.filters):
            handler.addFilter(MaskNumbers())
