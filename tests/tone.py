"""A known tone in, the same tone found out: WAV files for Chromium's fake microphone, and a check that
decoded audio carries that frequency (browser recordings, live broadcasts)."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import numpy as np


def write_tone_wav(path: Path, frequency: float, seconds: float, rate: int = 48000) -> Path:
    """A mono 16-bit WAV of a pure sine at `frequency` (Chromium loops it as the microphone)."""
    frames = int(rate * seconds)
    data = b"".join(struct.pack("<h", int(16000 * math.sin(2 * math.pi * frequency * i / rate)))
                    for i in range(frames))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data)
    return path


def dominant_frequency(pcm: bytes, rate: int) -> float:
    """The strongest frequency of mono 16-bit PCM (0.0 for silence)."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)
    if samples.size == 0 or not np.any(samples):
        return 0.0
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    spectrum[0] = 0.0
    return float(np.argmax(spectrum) * rate / samples.size)


def tone_seconds(pcm: bytes, rate: int, frequency: float, tolerance: float = 15.0, window: float = 0.25) -> float:
    """How many seconds of the PCM carry `frequency` as their strongest, clearly audible component."""
    step = int(rate * window) * 2
    found = 0
    for start in range(0, len(pcm) - step + 1, step):
        chunk = pcm[start:start + step]
        loud = np.abs(np.frombuffer(chunk, dtype="<i2")).max() > 1000
        if loud and abs(dominant_frequency(chunk, rate) - frequency) <= tolerance:
            found += 1
    return found * window
