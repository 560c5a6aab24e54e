"""Twilio-shaped SIDs (``CA…``, ``QU…``), minted in order so that a run repeats exactly."""

from __future__ import annotations

import itertools
import threading


class Sids:
    """One counter per prefix; thread-safe, because the REST stand-in mints on its thread."""

    def __init__(self) -> None:
        self._counters: dict[str, itertools.count[int]] = {}
        self._lock = threading.Lock()

    def mint(self, prefix: str) -> str:
        with self._lock:
            number = next(self._counters.setdefault(prefix, itertools.count()))
        return f"{prefix}{number:032x}"
