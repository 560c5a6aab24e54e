"""The audio of what a caller recorded, as the REST stand-in serves it at a RecordingUrl:
a real WAV file (8 kHz, 16-bit mono) of the recording's length, a murmur of syllables,
so that whatever plays it has real audio to play."""

from __future__ import annotations

import io
import math
import struct
import wave
from functools import lru_cache

RATE = 8000
SYLLABLES_PER_SECOND = 4
LOUDNESS = 0.2  # of full scale


@lru_cache(maxsize=8)
def recording_wav(seconds: int) -> bytes:
    frames = max(seconds, 1) * RATE
    samples = (
        LOUDNESS
        * abs(math.sin(math.pi * SYLLABLES_PER_SECOND * n / RATE))  # one swell a syllable
        * math.sin(2 * math.pi * (180 + 40 * math.sin(n / RATE)) * n / RATE)  # a voice's pitch
        for n in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(struct.pack(f"<{frames}h", *(int(32767 * s) for s in samples)))
    return buffer.getvalue()
