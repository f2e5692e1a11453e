"""A TrueType font with every Vietnamese glyph, found without the system's font packages.

matplotlib (a server dependency) ships DejaVu Sans; Debian's fonts-dejavu is the fallback.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

STYLES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
_SYSTEM_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)


@cache
def font_dirs() -> tuple[Path, ...]:
    import matplotlib

    return (Path(matplotlib.get_data_path()) / "fonts" / "ttf", *_SYSTEM_DIRS)


def dejavu(style: str = "") -> Path:
    """The DejaVu Sans file for `style` ("", "B" bold, "I" italic); FileNotFoundError says what to install."""
    name = STYLES[style]
    for folder in font_dirs():
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"Không tìm thấy phông chữ {name} để in tiếng Việt. Cài lại gói matplotlib "
        "(pip install 'loaxa[server]') hoặc gói fonts-dejavu."
    )
