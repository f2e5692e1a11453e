"""Checking and decoding uploaded recordings (for languages without a voice: Jrai, Bahnar...)."""

from __future__ import annotations

from pathlib import Path

from audio.errors import AudioError, RecordingRejected
from audio.ffmpeg import decode_to_pcm, probe
from audio.loudness import measure_pcm
from audio.segment import AudioSegment, from_pcm
from audio.settings import AudioSettings

# Every format a person may upload; the upload form offers exactly these. Not raw .aac (ADTS): its header
# gives no true length, so the truncation check cannot tell a whole file from a cut one.
SUPPORTED_EXTENSIONS: tuple[str, ...] = (
    ".mp3", ".wav", ".m4a", ".ogg", ".oga", ".opus", ".flac",
    ".webm",  # recorded in the browser
)
MIN_SECONDS = 1.0
# A file decoding to clearly less than its header declares was cut off in transfer.
TRUNCATION_TOLERANCE_S = 0.5
TRUNCATION_TOLERANCE_RATIO = 0.03
SILENT_PEAK_DBFS = -50.0


def supported_names() -> str:
    """The accepted formats as a person reads them: "MP3, WAV, … hoặc WEBM"."""
    names = [e.lstrip(".").upper() for e in SUPPORTED_EXTENSIONS]
    return ", ".join(names[:-1]) + " hoặc " + names[-1]


def _seconds(value: float) -> str:
    minutes, seconds = divmod(round(value), 60)
    if minutes:
        return f"{minutes} phút {seconds} giây"
    return f"{value:.1f}".replace(".", ",") + " giây"


def _reject(source: Path, problem: str, advice: str) -> RecordingRejected:
    return RecordingRejected(f"Không nhận bản ghi '{source.name}': {problem}. {advice}")


def load_recording(source: Path, settings: AudioSettings) -> AudioSegment:
    """Decode `source` to mono PCM at the output rate, or raise RecordingRejected saying why."""
    if not source.is_file():
        raise _reject(source, "không tìm thấy tệp", "Hãy chọn lại tệp cần tải lên.")
    if source.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise _reject(
            source,
            f"định dạng '{source.suffix or '(không có đuôi)'}' chưa được hỗ trợ",
            f"Hãy tải lên tệp {supported_names()}.",
        )
    if source.stat().st_size == 0:
        raise _reject(source, "tệp rỗng (0 byte)", "Hãy ghi âm lại hoặc chọn đúng tệp.")
    limit = settings.max_recording_seconds
    info = probe(source)
    if not info.readable or not info.has_audio:
        raise _reject(
            source,
            "tệp không phải âm thanh hoặc đã hỏng" + (f" (ffmpeg: {info.error})" if info.error else ""),
            "Hãy xuất lại bản ghi dưới dạng MP3 hoặc WAV rồi tải lên lại.",
        )
    too_long = _reject(
        source,
        f"bản ghi dài hơn giới hạn {_seconds(limit)}",
        "Hãy cắt ngắn hoặc chia thành nhiều bản ghi.",
    )
    if info.duration_s is not None and info.duration_s > limit + TRUNCATION_TOLERANCE_S:
        raise too_long
    try:
        # Decoding stops just past the limit, so a header that lies about length costs no more.
        pcm = decode_to_pcm(source, sample_rate=settings.sample_rate, max_seconds=limit + 1.0)
    except AudioError as exc:
        raise _reject(source, f"không giải mã được âm thanh ({exc})", "Hãy xuất lại bản ghi rồi tải lên lại.") from exc
    seconds = len(pcm) / 2 / settings.sample_rate
    if seconds > limit:
        raise too_long
    if info.duration_s is not None and info.duration_s - seconds > max(
        TRUNCATION_TOLERANCE_S, TRUNCATION_TOLERANCE_RATIO * info.duration_s
    ):
        raise _reject(
            source,
            f"tệp bị hỏng hoặc bị cắt cụt: chỉ đọc được {_seconds(seconds)} trong "
            f"{_seconds(info.duration_s)} ghi ở đầu tệp",
            "Hãy tải lên lại tệp gốc.",
        )
    if seconds < MIN_SECONDS:
        raise _reject(source, f"bản ghi quá ngắn ({_seconds(seconds)})", "Hãy tải lên bản ghi dài ít nhất 1 giây.")
    level = measure_pcm(pcm, settings.sample_rate)
    if level.is_silent or level.sample_peak_dbfs < SILENT_PEAK_DBFS:
        raise _reject(
            source,
            f"bản ghi chỉ có khoảng lặng (mức to nhất {level.sample_peak_dbfs:.0f} dBFS)".replace("-inf", "âm vô cùng"),
            "Hãy kiểm tra micrô và ghi âm lại.",
        )
    return from_pcm(pcm, settings.sample_rate)
