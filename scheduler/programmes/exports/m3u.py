"""Extended M3U playlist of a programme manifest, for operators who play the week by hand."""

from __future__ import annotations

from scheduler.domain import kind_label
from scheduler.programmes.exports.labels import item_title
from scheduler.wire import Manifest


def _clean(text: str) -> str:
    # An EXTINF title ends at the line end; a newline inside it would start a bogus entry.
    return " ".join(text.split())


def to_m3u(manifest: Manifest) -> str:
    """One entry per playable item in start order; items with neither audio nor stream are left out."""
    lines = [
        "#EXTM3U",
        _clean(f"#PLAYLIST:Lịch phát thanh tuần {manifest['week']} — đài {manifest['station']} "
               f"(phiên bản {manifest['version']})"),
    ]
    for item in manifest["items"]:
        url = item.get("audio_url") or item.get("stream_url")
        if not url:
            continue
        seconds = round(int(item.get("duration_ms") or 0) / 1000)
        if item.get("kind") == "relay" and not item.get("audio_url"):
            seconds = -1  # a live stream has no length of its own
        lines.append(f"# {item['start']} → {item['end']} {kind_label(str(item['kind']))}")
        title = _clean(item_title(item))
        if item.get("bulletin"):
            title = f"{item['bulletin']} — {title}"
        lines.append(f"#EXTINF:{seconds},{title}")
        lines.append(str(url))
    return "\n".join(lines) + "\n"
