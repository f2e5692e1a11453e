"""EBU R128 measurements (integrated loudness, true peak, exact length) with ffmpeg's ebur128 filter."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from audio.errors import AudioError
from audio.ffmpeg import pcm_input_args, run_ffmpeg

# ebur128 reports -70 LUFS (its absolute gate) when nothing is loud enough to measure.
SILENCE_LUFS = -70.0

# volumedetect is the cheap way to get the exact sample count and the sample peak.
_FILTERS = "volumedetect,ebur128=peak=true:framelog=quiet"
# Without true-peak oversampling (about three times faster) ebur128 reports the sample peak.
_QUICK_FILTERS = "volumedetect,ebur128=peak=sample:framelog=quiet"
# Inter-sample peaks of band-limited speech rarely pass the sample peak by more than this.
INTERSAMPLE_ALLOWANCE_DB = 1.0
_SUMMARY_I_RE = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-?inf) LUFS", re.S)
_SUMMARY_TP_RE = re.compile(r"(?:True|Sample) peak:\s*Peak:\s*(-?[\d.]+|-?inf) dBFS", re.S)
_SAMPLES_RE = re.compile(r"n_samples:\s*(\d+)")
_PEAK_RE = re.compile(r"max_volume:\s*(-?[\d.]+|-?inf) dB")


@dataclass(frozen=True)
class Loudness:
    """Integrated loudness (LUFS), true peak (dBTP), sample peak (dBFS) and length of a signal."""

    integrated_lufs: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    samples: int
    sample_rate: int

    @property
    def duration_ms(self) -> int:
        return round(self.samples * 1000 / self.sample_rate) if self.sample_rate else 0

    @property
    def is_silent(self) -> bool:
        """Nothing above ebur128's absolute gate and no sample above -60 dBFS."""
        return self.integrated_lufs <= SILENCE_LUFS + 0.05 and self.sample_peak_dbfs < -60.0


def parse_summary(stderr: str, sample_rate: int, *, true_peak: bool = True) -> Loudness:
    """Read ebur128's summary and volumedetect's totals from ffmpeg's log."""
    summary = stderr[stderr.rfind("Summary:") :]
    i_match = _SUMMARY_I_RE.search(summary)
    tp_match = _SUMMARY_TP_RE.search(summary)
    samples = _SAMPLES_RE.findall(stderr)
    sample_peak = _PEAK_RE.findall(stderr)
    if not (i_match and tp_match and samples and sample_peak):
        raise AudioError(
            "Không đọc được kết quả đo độ to (bộ lọc ebur128 của ffmpeg). "
            "Hãy kiểm tra bản ffmpeg đang dùng (cần bản có ebur128 và volumedetect)."
        )
    peak = float(tp_match.group(1))
    return Loudness(
        integrated_lufs=float(i_match.group(1)),
        true_peak_dbtp=peak if true_peak else peak + INTERSAMPLE_ALLOWANCE_DB,
        sample_peak_dbfs=float(sample_peak[-1]),
        samples=int(samples[-1]),
        sample_rate=sample_rate,
    )


def measure_pcm(pcm: bytes, sample_rate: int, *, true_peak: bool = True) -> Loudness:
    """Measure mono 16-bit PCM.

    true_peak=False skips the oversampling: true_peak_dbtp is then the sample peak plus
    INTERSAMPLE_ALLOWANCE_DB, an estimate good enough to decide whether a limiter is needed.
    """
    chain = _FILTERS if true_peak else _QUICK_FILTERS
    done = run_ffmpeg([*pcm_input_args(sample_rate), "-af", chain, "-f", "null", "-"], input_bytes=pcm)
    return parse_summary(done.stderr.decode("utf-8", "replace"), sample_rate, true_peak=true_peak)


def integrated_lufs(pcm: bytes, sample_rate: int, *, filters: str = "") -> float:
    """Integrated loudness only (no true-peak oversampling, so about three times faster)."""
    chain = f"{filters},ebur128=framelog=quiet" if filters else "ebur128=framelog=quiet"
    done = run_ffmpeg([*pcm_input_args(sample_rate), "-af", chain, "-f", "null", "-"], input_bytes=pcm)
    stderr = done.stderr.decode("utf-8", "replace")
    match = _SUMMARY_I_RE.search(stderr[stderr.rfind("Summary:") :])
    if not match:
        raise AudioError("Không đọc được kết quả đo độ to (bộ lọc ebur128 của ffmpeg).")
    return float(match.group(1))


def measure_file(path: Path, sample_rate: int) -> Loudness:
    """Measure an encoded file as a player would decode it (mono, at `sample_rate`)."""
    done = run_ffmpeg(["-i", str(path), "-vn", "-ac", "1", "-ar", str(sample_rate), "-af", _FILTERS, "-f", "null", "-"])
    return parse_summary(done.stderr.decode("utf-8", "replace"), sample_rate)
