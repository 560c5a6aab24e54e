"""Hotline's own hold tone: a soft chime pattern computed here, so that its length is
known (the wait document's cadence depends on it), it needs no third party, and its
licence is ours. Served as a WAV file (8 kHz, 16-bit mono, as the telephone network
carries it); Twilio caches it (Cache-Control, see queueing.routes).
"""

from __future__ import annotations

import io
import math
import struct
import wave
from functools import cache

SECONDS = 10
VERSION = 1  # in its URL: a changed tone gets a new URL, so no cache keeps the old one
RATE = 8000
# A slow, falling chime: (start second, frequency Hz), each note ringing out.
NOTES = ((0.0, 659.25), (0.6, 523.25), (1.2, 392.0), (5.0, 587.33), (5.6, 493.88), (6.2, 392.0))
NOTE_SECONDS = 2.5
LOUDNESS = 0.18  # of full scale: hold music, not an alarm


@cache
def wav() -> bytes:
    """The tone, exactly ``SECONDS`` long."""
    samples = [0.0] * (SECONDS * RATE)
    for start, frequency in NOTES:
        first = int(start * RATE)
        for n in range(min(int(NOTE_SECONDS * RATE), len(samples) - first)):
            t = n / RATE
            fade_in = min(1.0, t / 0.02)  # no click at the start of a note
            samples[first + n] += (
                fade_in * math.exp(-2.2 * t) * math.sin(2 * math.pi * frequency * t)
            )
    peak = max(1.0, max(abs(sample) for sample in samples))
    frames = struct.pack(
        f"<{len(samples)}h", *(int(32767 * LOUDNESS * sample / peak) for sample in samples)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)
    return buffer.getvalue()
