"""gTTS (Google Translate's speech): Vietnamese, Khmer and the other languages it lists.

Requests go through gtts.gTTS itself; a subclass only swaps the host, so tests can point it at
a local server (settings.gtts_base_url) and the real Google host is never needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from gtts import gTTS, gTTSError
from gtts.lang import tts_langs

from audio.engines.online import OnlineEngine, parse_retry_after
from audio.segment import AudioSegment

RPC_PATH = "_/TranslateWebserverUi/data/batchexecute"
DEFAULT_TLD = "com"
MIN_INTERVAL_S = 0.5
# gTTS's own limit per request; split_sentences keeps chunks under it so one chunk is one request.
MAX_CHUNK_CHARS = 100
DECODE_RATE = 24000


class RedirectableGTTS(gTTS):
    """gTTS whose requests go to `base_url` instead of https://translate.google.<tld>/."""

    def __init__(self, text: str, *, base_url: str | None, **kwargs: object) -> None:
        self.base_url = base_url
        super().__init__(text, **kwargs)

    def _prepare_requests(self) -> list[Any]:
        prepared = super()._prepare_requests()
        if self.base_url:
            for request in prepared:
                request.prepare_url(f"{self.base_url.rstrip('/')}/{RPC_PATH}", None)
        return list(prepared)


class GttsEngine(OnlineEngine):
    name = "gtts"
    label = "gTTS"
    max_chunk_chars = MAX_CHUNK_CHARS
    min_interval_s = MIN_INTERVAL_S
    decode_rate = DECODE_RATE

    def service_host(self) -> str:
        return self.settings.gtts_base_url or f"https://translate.google.{DEFAULT_TLD}"

    def supports(self, language: str) -> bool:
        return language in tts_langs()

    def voice_for(self, language: str) -> str:
        # gTTS has one voice per language; an override picks the Google domain (accent), e.g. "com.vn".
        tld = self.settings.voices.get(self.name, DEFAULT_TLD)
        return language if tld == DEFAULT_TLD else f"{language}@{tld}"

    def synthesize(self, chunks: Sequence[str], language: str, voice: str) -> AudioSegment:
        tld = voice.split("@", 1)[1] if "@" in voice else DEFAULT_TLD
        return self.join_fetched(self._fetch(chunk, language, tld) for chunk in chunks)

    def _fetch(self, chunk: str, language: str, tld: str) -> bytes:
        tts = RedirectableGTTS(
            chunk,
            base_url=self.settings.gtts_base_url,
            lang=language,
            tld=tld,
            lang_check=False,
            pre_processor_funcs=[],  # the Vietnamese normalizer has already done this job
            timeout=self.settings.http_timeout_s,
        )
        for retry_index in range(self.retry.attempts):
            self.throttle.wait()
            try:
                audio = b"".join(tts.stream())
            except gTTSError as exc:
                status = exc.rsp.status_code if exc.rsp is not None else None
                if status == 429 and retry_index + 1 < self.retry.attempts:
                    after = parse_retry_after(exc.rsp.headers.get("Retry-After"))
                    self._sleep(self.retry.delay(retry_index, after))
                    continue
                raise self.unavailable(self._describe(status, exc, tld)) from exc
            if not audio:
                host = self._host_name(tld)
                raise self.unavailable(f"máy chủ {host} không trả về âm thanh cho đoạn “{chunk[:60]}”")
            return audio
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _host_name(self, tld: str) -> str:
        if self.settings.gtts_base_url:
            return urlsplit(self.settings.gtts_base_url).netloc or self.settings.gtts_base_url
        return f"translate.google.{tld}"

    def _describe(self, status: int | None, exc: gTTSError, tld: str) -> str:
        host = self._host_name(tld)
        if status is None:
            cause = exc.__context__ or exc
            return f"không kết nối được máy chủ {host} ({type(cause).__name__}); hãy kiểm tra kết nối Internet"
        if status == 200:
            return f"máy chủ {host} trả lời nhưng không kèm âm thanh"
        if status == 429:
            return (
                f"máy chủ {host} từ chối vì quá nhiều yêu cầu (HTTP 429) sau {self.retry.attempts} lần thử; "
                "hãy thử lại sau ít phút"
            )
        return f"máy chủ {host} trả lỗi HTTP {status}"
