"""Logging that never shows a whole phone number.

Code logs numbers through ``telephony.numbers.mask`` already; this filter is
the safety net for anything else (library messages, exception texts with SQL
parameters) that reaches Hotline's handlers.
"""

from __future__ import annotations

import logging
import re

# Runs of 7+ digits, optionally with a + and separators: phone numbers, long ids.
_NUMBER = re.compile(r"\+?\d(?:[\s-]?\d){6,}")


def masked(number: str, last: int = 2) -> str:
    """Enough of a number to tell calls apart, not to dial it: +86*********00 (with
    ``last=4``, +86*******8000, as agents see a caller)."""
    return number[:3] + "*" * max(len(number) - 3 - last, 0) + number[-last:]


def mask_numbers(text: str) -> str:
    return _NUMBER.sub(lambda match: masked(match.group(0)), text)


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
