"""The pipeline reads the normalizer's output: engines never see raw digits or abbreviations."""

from __future__ import annotations

from pathlib import Path

from tts_fakes import GttsServer

from audio.engines.gtts_engine import MAX_CHUNK_CHARS
from audio.pipeline import render_speech, speech_cache_key
from audio.settings import AudioSettings
from audio.text import Lexicon, normalize, split_sentences

BULLETIN = "UBND xã họp ngày 24/9/2021 lúc 17h30 tại hội trường."


def test_engines_receive_normalized_sentence_chunks(gtts_server: GttsServer, tmp_path: Path) -> None:
    settings = AudioSettings(engines=("gtts",), gtts_base_url=gtts_server.url)

    render_speech(BULLETIN, language="vi", title="Họp", media_dir=tmp_path, settings=settings)

    sent = [r.text for r in gtts_server.requests]
    assert sent == split_sentences(normalize(BULLETIN), max_chars=MAX_CHUNK_CHARS)
    assert not any(ch.isdigit() for ch in "".join(sent))
    assert "UBND" not in "".join(sent)


def test_southern_variant_reaches_the_normalizer(gtts_server: GttsServer, tmp_path: Path) -> None:
    settings = AudioSettings(engines=("gtts",), gtts_base_url=gtts_server.url, variant="south")

    text = "Có 105 hộ dân."
    assert normalize(text, variant="south") != normalize(text, variant="north")  # linh / lẻ

    render_speech(text, language="vi", title="t", media_dir=tmp_path, settings=settings)

    assert [r.text for r in gtts_server.requests] == split_sentences(normalize(text, variant="south"))


def test_editor_lexicon_changes_what_is_read_and_the_cache_key(gtts_server: GttsServer, tmp_path: Path) -> None:
    settings = AudioSettings(engines=("gtts",), gtts_base_url=gtts_server.url)
    lexicon = Lexicon.default().with_entries({"HTXNN": "hợp tác xã nông nghiệp"})
    text = "HTXNN Ia Grai thông báo."

    render_speech(text, language="vi", title="t", media_dir=tmp_path, settings=settings, lexicon=lexicon)

    assert "hợp tác xã nông nghiệp" in gtts_server.requests[0].text
    assert speech_cache_key(text, "vi", settings, lexicon) != speech_cache_key(text, "vi", settings)
