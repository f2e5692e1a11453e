"""Shared by the browser tests and their fixtures."""

from __future__ import annotations

from dataclasses import dataclass

PASSWORD = "mat-khau-2026"
TONE_HZ = 660.0  # what Chromium's fake microphone says (the mic_browser fixture)


@dataclass
class Seeded:
    """What the browser tests' fixture stored."""

    commune_id: int


# English a person should never read on a page (words of the code leaking into the interface).
ENGLISH_WORDS = ("targets", "bulletin", "emergency", "station", "submit", "approve", "draft", "status",
                 "Show this", "None", "null", "undefined", "Traceback", "Error")
# Messages issue 15 found confusing or wrong; none may come back.
OLD_MESSAGES = ("Âm thanh sẽ được tạo ở chế độ nền", "sau khi bản tin được gửi duyệt", "sau khi bản tin được duyệt",
                "Chưa chọn nơi phát (targets)", "GL-IADER-01")

# Cells at least this many characters long that render narrower than about two characters have
# wrapped one letter per line.
SQUEEZED_CELLS_JS = """() => Array.from(document.querySelectorAll('td, th')).filter(cell => {
  const text = cell.innerText.trim();
  if (text.length < 4 || cell.offsetParent === null) return false;
  const em = parseFloat(getComputedStyle(cell).fontSize) || 16;
  return cell.clientWidth < 2.2 * em;
}).map(cell => cell.innerText.trim().slice(0, 40))"""


# Boxes a person must scroll sideways inside (a wide table in an overflow wrapper).
SIDEWAYS_BOXES_JS = """() => Array.from(document.querySelectorAll('main *')).filter(el => {
  const style = getComputedStyle(el).overflowX;
  return (style === 'auto' || style === 'scroll') && el.scrollWidth > el.clientWidth + 2 && el.offsetParent !== null;
}).map(el => (el.className || el.tagName) + ' ' + el.scrollWidth + '>' + el.clientWidth)"""


def readable_problems(page: object) -> list[str]:
    """English words, old messages, squeezed table cells and sideways scrolling on the page shown."""
    text: str = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")  # type: ignore[attr-defined]
    problems = [f"English «{w}»" for w in ENGLISH_WORDS if _has_word(text, w)]
    problems += [f"old message «{m}»" for m in OLD_MESSAGES if m in text]
    problems += [f"squeezed cell «{c}»" for c in page.evaluate(SQUEEZED_CELLS_JS)]  # type: ignore[attr-defined]
    problems += [f"sideways scrolling in «{box}»" for box in page.evaluate(SIDEWAYS_BOXES_JS)]  # type: ignore[attr-defined]
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    viewport = page.viewport_size["width"]  # type: ignore[attr-defined]
    if width > viewport:
        problems.append(f"{width}px wide on a {viewport}px screen")
    return problems


def _has_word(text: str, word: str) -> bool:
    import re

    return re.search(rf"(?<![\w/.-]){re.escape(word)}(?![\w/.-])", text, flags=re.IGNORECASE) is not None
