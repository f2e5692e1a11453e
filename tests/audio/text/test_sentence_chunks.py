"""split_sentences: chunks an online TTS engine accepts, cut at sentence ends, then clauses, then words."""

from __future__ import annotations

import random

import pytest

from audio.text import normalize, split_sentences


def test_one_chunk_per_sentence() -> None:
    text = "Sở Nội vụ chủ trì. Các sở phối hợp thực hiện! Có khó khăn gì không? Báo cáo kết quả..."
    assert split_sentences(text) == [
        "Sở Nội vụ chủ trì.",
        "Các sở phối hợp thực hiện!",
        "Có khó khăn gì không?",
        "Báo cáo kết quả...",
    ]


def test_line_breaks_always_end_a_chunk_and_blank_lines_vanish() -> None:
    assert split_sentences("Kính gửi:\n\n  Sở Nội vụ;\nSở Tư pháp") == ["Kính gửi:", "Sở Nội vụ;", "Sở Tư pháp"]


def test_long_sentence_is_cut_at_commas_and_semicolons() -> None:
    sentence = (
        "Tuyên truyền, phổ biến sâu rộng về tầm quan trọng, ý nghĩa, mục tiêu và tác động của cải cách hành "
        "chính đến phát triển kinh tế - xã hội của tỉnh; tuyên truyền các nội dung theo Chương trình tổng thể."
    )
    chunks = split_sentences(sentence, max_chars=100)
    assert all(len(chunk) <= 100 for chunk in chunks)
    assert all(chunk.endswith((",", ";", ".")) for chunk in chunks)
    assert " ".join(chunks) == sentence


def test_clause_longer_than_the_limit_is_cut_between_words() -> None:
    clause = "một hai ba bốn năm sáu bảy tám chín mười " * 5
    chunks = split_sentences(clause.strip(), max_chars=30)
    assert all(len(chunk) <= 30 for chunk in chunks)
    assert " ".join(chunks).split() == clause.split()


def test_word_longer_than_the_limit_stays_whole() -> None:
    assert split_sentences("ngắn rấtrấtrấtdàiiiiiiii ngắn", max_chars=10) == ["ngắn", "rấtrấtrấtdàiiiiiiii", "ngắn"]


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="Độ dài tối đa của một đoạn phải từ 1 ký tự trở lên, không phải 0"):
        split_sentences("Xin chào.", max_chars=0)


def test_empty_text_has_no_chunks() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n \n") == []


def test_random_texts_keep_every_word_in_order_within_the_limit() -> None:
    rng = random.Random(11)
    words = ["cải", "cách", "hành", "chính,", "thủ", "tục;", "nhà", "nước.", "Ủy", "ban", "nhân", "dân:", "xã"]
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randrange(1, 120)))
        limit = rng.randrange(10, 120)
        chunks = split_sentences(text, max_chars=limit)
        assert " ".join(chunks).split() == text.split()
        assert all(len(chunk) <= limit for chunk in chunks)


def test_normalized_seed_paragraph_fits_a_gtts_request() -> None:
    paragraph = normalize(
        "Thực hiện Nghị quyết số 76/NQ-CP ngày 15/7/2021 của Chính phủ về ban hành Chương trình tổng thể cải "
        "cách hành chính (CCHC) nhà nước giai đoạn 2021-2030; Quyết định số 602/QĐ-UBND ngày 17/9/2021 của Ủy "
        "ban nhân dân (UBND) tỉnh về ban hành Chương trình tổng thể TTHC nhà nước giai đoạn 2021-2025."
    )
    chunks = split_sentences(paragraph, max_chars=100)
    assert all(0 < len(chunk) <= 100 for chunk in chunks)
    assert " ".join(chunks) == paragraph
