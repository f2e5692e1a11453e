"""Test-side audio tools built on the bundled ffmpeg directly, independent of audio/ (the code under test)."""

from __future__ import annotations

import array
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg(*args: str, input_bytes: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run the bundled ffmpeg; raises CalledProcessError on failure."""
    return subprocess.run(
        [FFMPEG, "-hide_banner", "-nostats", "-y", *args], input=input_bytes, capture_output=True, check=True
    )


def make_tone(
    path: Path,
    *,
    seconds: float,
    freq: int = 440,
    volume_db: float = -12.0,
    rate: int = 24000,
    args: tuple[str, ...] = (),
) -> Path:
    """A mono sine tone (ffmpeg's sine is -18 dBFS before `volume_db`); the extension picks the container."""
    ffmpeg(
        "-v", "error", "-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate={rate}:duration={seconds}",
        "-af", f"volume={volume_db}dB", "-ac", "1", *args, str(path),
    )  # fmt: skip
    return path


def decode(path: Path, rate: int = 24000) -> array.array[int]:
    """Mono 16-bit samples of a file."""
    raw = ffmpeg("-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(rate), "pipe:1").stdout
    return array.array("h", raw[: len(raw) - len(raw) % 2])


@dataclass(frozen=True)
class R128:
    integrated_lufs: float
    true_peak_dbtp: float


def ebur128(path: Path) -> R128:
    """Integrated loudness and true peak as ffmpeg's ebur128 filter (peak=true) reports them."""
    log = ffmpeg("-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-").stderr.decode()
    summary = log[log.rfind("Summary:") :]
    i_match = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    tp_match = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    assert i_match and tp_match, summary
    return R128(float(i_match.group(1)), float(tp_match.group(1)))


def describe(path: Path) -> str:
    """ffmpeg's description of a file (streams, tags)."""
    return subprocess.run([FFMPEG, "-hide_banner", "-i", str(path)], capture_output=True, check=False).stderr.decode()


def zero_crossings_per_second(samples: array.array[int], rate: int = 24000) -> float:
    crossings = sum(1 for a, b in zip(samples, samples[1:], strict=False) if (a < 0) != (b < 0))
    return crossings * rate / max(1, len(samples))


def rms_dbfs(samples: array.array[int]) -> float:
    import math

    if not samples:
        return -math.inf
    mean_square = sum(s * s for s in samples) / len(samples)
    return 10 * math.log10(mean_square / 32768**2) if mean_square else -math.inf
