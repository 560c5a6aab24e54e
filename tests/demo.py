"""The shipped demo data set, as tests pick callers from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEMO_FILE = Path(__file__).resolve().parents[1] / "ops" / "demo_data.json"
DEMO: dict[str, Any] = json.loads(DEMO_FILE.read_text(encoding="utf-8"))


def customer(
    *, language: str | None = None, status: str = "active", pin: bool = True
) -> dict[str, Any]:
    """The first demo customer that fits; its ``phone`` and ``pin`` are as in the file."""
    for record in DEMO["customers"]:
        if (
            record["status"] == status
            and (language is None or record["language"] == language)
            and (record["pin"] is not None) == pin
        ):
            return record
    raise LookupError(f"no demo customer with language={language} status={status} pin={pin}")


def national(phone: str) -> str:
    """A +86 number as a mainland caller keys it in: 13800138000."""
    assert phone.startswith("+86")
    return phone[3:]


def all_pins() -> list[str]:
    return [r["pin"] for r in DEMO["customers"] + DEMO["agents"] if r.get("pin")]
