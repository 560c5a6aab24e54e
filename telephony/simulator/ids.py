"""Twilio-shaped SIDs (``CA…``, ``QU…``): unique per run, like Twilio's, so a server that
keeps its records never mistakes one run's calls for another's; minted in order, and
repeatable when a test fixes the run number."""

from __future__ import annotations

import itertools
import secrets
import threading


class Sids:
    """One counter per prefix; thread-safe, because the REST stand-in mints on its thread."""

    def __init__(self, run: int | None = None) -> None:
        self.run = secrets.randbits(64) if run is None else run
        self._counters: dict[str, itertools.count[int]] = {}
        self._lock = threading.Lock()

    def mint(self, prefix: str) -> str:
        with self._lock:
            number = next(self._counters.setdefault(prefix, itertools.count()))
        return f"{prefix}{self.run:016x}{number:016x}"
