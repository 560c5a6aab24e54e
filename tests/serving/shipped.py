"""The serving setup as shipped, and the wait it must fit in."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "nginx" / "hotline.conf"
TWILIO_WAIT = 15  # seconds Twilio waits for a webhook's answer (its error 11205)
