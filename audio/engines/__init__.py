"""Speech engines behind one interface, and the registry the pipeline picks them from by name."""

from __future__ import annotations

from collections.abc import Callable

from audio.engines.base import SpeechEngine
from audio.errors import AudioError
from audio.settings import AudioSettings


def _gtts(settings: AudioSettings) -> SpeechEngine:
    from audio.engines.gtts_engine import GttsEngine

    return GttsEngine(settings)


def _edge(settings: AudioSettings) -> SpeechEngine:
    from audio.engines.edge_engine import EdgeEngine

    return EdgeEngine(settings)


def _espeak(settings: AudioSettings) -> SpeechEngine:
    from audio.engines.espeak_engine import EspeakEngine

    return EspeakEngine(settings)


# name -> factory. Tests and deployments may register their own engine under a name.
ENGINE_FACTORIES: dict[str, Callable[[AudioSettings], SpeechEngine]] = {
    "gtts": _gtts,
    "edge": _edge,
    "espeak": _espeak,
}


def create_engine(name: str, settings: AudioSettings) -> SpeechEngine:
    """Build the engine registered as `name`; an unknown name is a configuration error."""
    factory = ENGINE_FACTORIES.get(name)
    if factory is None:
        raise AudioError(
            f"Không có bộ đọc tên '{name}'. Các bộ đọc dùng được: {', '.join(ENGINE_FACTORIES)}. "
            "Hãy sửa danh sách bộ đọc trong cấu hình âm thanh."
        )
    return factory(settings)


__all__ = ["ENGINE_FACTORIES", "SpeechEngine", "create_engine"]
