"""espeak-ng, offline, from the libespeak-ng.so and data that the PyPI package espeakng-loader ships.

libespeak-ng keeps global state, so every call into it holds one process-wide lock; a forked
child gets a fresh lock (the parent's could be held by a thread that does not exist there).
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Sequence

from audio.engines.base import SpeechEngine
from audio.errors import EngineUnavailable
from audio.segment import AudioSegment, from_pcm

# espeak_AUDIO_OUTPUT: SYNCHRONOUS returns only when the text is fully rendered, no threads.
AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_INITIALIZE_DONT_EXIT = 0x8000
ESPEAK_CHARS_UTF8 = 1
ESPEAK_ENDPAUSE = 0x1000
POS_CHARACTER = 1
ESPEAK_RATE = 1
ESPEAK_VOLUME = 2
EE_OK = 0

# Slower than espeak's 175 words/min default: loudspeakers outdoors echo.
SPEECH_RATE_WPM = 150
# espeak's default volume (100) peaks at full scale; leave headroom for the limiter.
SPEECH_VOLUME = 70

VARIANT_VOICES: dict[str, str] = {"north": "vi", "central": "vi-vn-x-central", "south": "vi-vn-x-south"}

_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Library:
    """The loaded libespeak-ng, initialised once per process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._lib: ctypes.CDLL | None = None
        self._pid = 0
        self.sample_rate = 0
        self._buffer = bytearray()
        self._callback = _SynthCallback(self._collect)

    def _collect(self, wav: ctypes._Pointer[ctypes.c_short], samples: int, _events: int | None) -> int:
        if wav and samples > 0:
            self._buffer.extend(ctypes.string_at(wav, samples * 2))
        return 0  # 0 = keep going

    def _ensure(self) -> ctypes.CDLL:
        if self._lib is not None and self._pid == os.getpid():
            return self._lib
        try:
            import espeakng_loader

            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data_path = espeakng_loader.get_data_path()
        except (ImportError, OSError, RuntimeError) as exc:
            raise EngineUnavailable(
                f"Không nạp được espeak-ng ({exc}). Hãy cài gói espeakng-loader: pip install espeakng-loader.",
                engine="espeak",
                reason="chưa cài espeakng-loader",
            ) from exc
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), ESPEAK_INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise EngineUnavailable(
                f"Không khởi động được espeak-ng (dữ liệu giọng đọc tại {data_path}). Hãy cài lại gói espeakng-loader.",
                engine="espeak",
                reason="không khởi động được thư viện",
            )
        lib.espeak_SetSynthCallback(self._callback)
        self._lib, self._pid, self.sample_rate = lib, os.getpid(), rate
        return lib

    def has_voice(self, voice: str) -> bool:
        with self.lock:
            return bool(self._ensure().espeak_SetVoiceByName(voice.encode()) == EE_OK)

    def synthesize(self, texts: Sequence[str], voice: str) -> tuple[bytes, int]:
        """Mono 16-bit PCM of all texts in order, and its sample rate."""
        with self.lock:
            lib = self._ensure()
            if lib.espeak_SetVoiceByName(voice.encode()) != EE_OK:
                raise EngineUnavailable(
                    f"espeak-ng không có giọng đọc '{voice}'.", engine="espeak", reason=f"không có giọng '{voice}'"
                )
            lib.espeak_SetParameter(ESPEAK_RATE, SPEECH_RATE_WPM, 0)
            lib.espeak_SetParameter(ESPEAK_VOLUME, SPEECH_VOLUME, 0)
            self._buffer = bytearray()
            for text in texts:
                data = text.encode("utf-8") + b"\0"
                flags = ESPEAK_CHARS_UTF8 | ESPEAK_ENDPAUSE
                err = lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, flags, None, None)
                if err != EE_OK:
                    raise EngineUnavailable(
                        f"espeak-ng báo lỗi {err} khi đọc đoạn “{text[:60]}”.",
                        engine="espeak",
                        reason=f"lỗi {err} của thư viện",
                    )
            lib.espeak_Synchronize()
            pcm, self._buffer = bytes(self._buffer), bytearray()
            return pcm, self.sample_rate


_library = _Library()


def _reset_lock_after_fork() -> None:
    _library.lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_lock_after_fork)


class EspeakEngine(SpeechEngine):
    name = "espeak"
    label = "espeak-ng"
    max_chunk_chars = 300

    def _default_voice(self, language: str) -> str:
        if language == "vi":
            return VARIANT_VOICES.get(self.settings.variant, "vi")
        return language

    def supports(self, language: str) -> bool:
        return _library.has_voice(self._default_voice(language))

    def voice_for(self, language: str) -> str:
        override = self.settings.voices.get(self.name)
        if override and override.split("-")[0] == language:
            return override
        return self._default_voice(language)

    def synthesize(self, chunks: Sequence[str], language: str, voice: str) -> AudioSegment:
        if not self.supports(language):
            raise self.unavailable(self.unsupported_reason(language))
        pcm, rate = _library.synthesize(chunks, voice)
        if not pcm:
            raise self.unavailable("không tạo ra âm thanh nào (văn bản rỗng?)")
        return from_pcm(pcm, rate)
