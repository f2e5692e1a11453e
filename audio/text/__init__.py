"""Vietnamese text normalization for TTS: bulletin text in, the words an announcer says out.

normalize() reads numbers, dates, times, money, units, phone numbers, addresses, document codes,
Roman numerals and abbreviations aloud (Northern or Southern number words); split_sentences()
cuts the result into chunks an online TTS engine accepts. See docs/normalization.md.
"""

from audio.text.chunks import split_sentences
from audio.text.lexicon import Lexicon, LexiconError
from audio.text.normalizer import normalize, normalize_lines

__all__ = ["Lexicon", "LexiconError", "normalize", "normalize_lines", "split_sentences"]
