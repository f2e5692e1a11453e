"""Locating and running ffmpeg: a system binary when it can do the job, else imageio-ffmpeg's.

pydub is pointed at the same binary. imageio-ffmpeg ships no ffprobe, so nothing here (or
elsewhere in audio/) calls pydub functions that need it: files are probed by parsing `ffmpeg -i`.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from audio.errors import AudioError

REQUIRED_FILTERS: tuple[str, ...] = ("ebur128", "alimiter", "aresample", "volume", "volumedetect")
REQUIRED_ENCODERS: tuple[str, ...] = ("libmp3lame",)
# Generous: decoding or mastering a 30-minute recording takes seconds, not minutes.
DEFAULT_TIMEOUT_S = 600.0


class FfmpegFailed(AudioError):
    """ffmpeg exited with an error; `stderr` keeps its last lines for the log."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


@dataclass(frozen=True)
class ProbeInfo:
    """What `ffmpeg -i` says about a file."""

    readable: bool
    has_audio: bool
    duration_s: float | None
    codec: str | None
    error: str  # ffmpeg's own words when the file is unreadable


def _capabilities(exe: str) -> tuple[set[str], set[str]]:
    def names(kind: str) -> set[str]:
        out = subprocess.run(
            [exe, "-hide_banner", f"-{kind}"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
        return {line.split()[1] for line in out.splitlines() if len(line.split()) > 2}

    return names("filters"), names("encoders")


# Listing a filter is not enough: Debian 12's ffmpeg 5.1 has ebur128 but refuses the
# `framelog=quiet` option audio.loudness relies on. So a candidate also has to run these.
_TRIAL_FILTERS = "volumedetect,ebur128=peak=true:framelog=quiet,alimiter=limit=0.9,aresample=44100,volume=1"


def _runs_the_chain(exe: str) -> bool:
    trial = [exe, "-hide_banner", "-nostats", "-f", "lavfi", "-i", "sine=frequency=440:duration=0.2:sample_rate=24000",
             "-af", _TRIAL_FILTERS, "-c:a", REQUIRED_ENCODERS[0], "-f", "mp3", "-"]
    done = subprocess.run(trial, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False)
    return done.returncode == 0 and len(done.stdout) > 0


def _is_capable(exe: str) -> bool:
    try:
        filters, encoders = _capabilities(exe)
        listed = set(REQUIRED_FILTERS) <= filters and set(REQUIRED_ENCODERS) <= encoders
        return listed and _runs_the_chain(exe)
    except (OSError, subprocess.SubprocessError):
        return False


@functools.cache
def ffmpeg_exe() -> str:
    """Path of an ffmpeg that runs our loudness chain and libmp3lame; the system one wins when capable."""
    candidates: list[str] = []
    system = shutil.which("ffmpeg")
    if system:
        candidates.append(system)
    try:
        import imageio_ffmpeg

        candidates.append(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        pass
    for exe in candidates:
        if _is_capable(exe):
            return exe
    raise AudioError(
        "Không tìm thấy chương trình ffmpeg có đủ bộ lọc "
        f"({', '.join(REQUIRED_FILTERS)}) và bộ mã hóa MP3 libmp3lame "
        f"(đã thử: {', '.join(candidates) or 'không có'}). "
        "Hãy cài gói imageio-ffmpeg: pip install imageio-ffmpeg."
    )


@functools.cache
def configure_pydub() -> None:
    """Make pydub use our ffmpeg (it would otherwise search PATH and warn)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pydub import AudioSegment
    AudioSegment.converter = ffmpeg_exe()


def run_ffmpeg(
    args: Sequence[str], *, input_bytes: bytes | None = None, timeout: float = DEFAULT_TIMEOUT_S
) -> subprocess.CompletedProcess[bytes]:
    """Run ffmpeg with `args`; raise FfmpegFailed (Vietnamese message) on a non-zero exit."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostats", *args]
    try:
        if input_bytes is None:
            done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False)
        else:
            done = subprocess.run(cmd, input=input_bytes, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise FfmpegFailed(f"ffmpeg chạy quá {timeout:.0f} giây và đã bị dừng. Hãy thử lại với tệp ngắn hơn.") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.decode("utf-8", "replace").strip().splitlines()[-5:])
        raise FfmpegFailed(f"ffmpeg báo lỗi (mã {done.returncode}): {tail}", stderr=tail)
    return done


def pcm_input_args(sample_rate: int) -> list[str]:
    """Arguments that make ffmpeg read mono 16-bit PCM from stdin."""
    return ["-f", "s16le", "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0"]


def pcm_output_args(sample_rate: int) -> list[str]:
    """Arguments that make ffmpeg write mono 16-bit PCM to stdout."""
    return ["-f", "s16le", "-acodec", "pcm_s16le", "-ar", str(sample_rate), "-ac", "1", "pipe:1"]


def decode_to_pcm(
    source: Path | bytes,
    *,
    sample_rate: int,
    max_seconds: float | None = None,
    filters: str | None = None,
) -> bytes:
    """Decode any audio file (path or encoded bytes) to mono 16-bit PCM at `sample_rate`."""
    args: list[str] = ["-v", "error"]
    if isinstance(source, bytes):
        args += ["-i", "pipe:0"]
    else:
        args += ["-i", str(source)]
    if max_seconds is not None:
        args += ["-t", f"{max_seconds:.3f}"]
    args += ["-vn"]
    if filters:
        args += ["-af", filters]
    args += pcm_output_args(sample_rate)
    return run_ffmpeg(args, input_bytes=source if isinstance(source, bytes) else None).stdout


_DURATION_RE = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_AUDIO_STREAM_RE = re.compile(r"Stream #\d+:\d+.*?: Audio: ([\w-]+)")


def probe(path: Path) -> ProbeInfo:
    """Parse `ffmpeg -i path` (no ffprobe needed): readable, audio stream, declared duration, codec."""
    done = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    text = done.stderr.decode("utf-8", "replace")
    # Without an output ffmpeg always exits 1; an unreadable input says so before that.
    if "Error opening input" in text or "Invalid data found" in text or "Input #0" not in text:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return ProbeInfo(False, False, None, None, lines[-1] if lines else "")
    duration: float | None = None
    m = _DURATION_RE.search(text)
    if m:
        h, mi, s = m.groups()
        duration = int(h) * 3600 + int(mi) * 60 + float(s)
    stream = _AUDIO_STREAM_RE.search(text)
    return ProbeInfo(True, stream is not None, duration, stream.group(1) if stream else None, "")
