"""Settings from environment variables, with defaults that run one district on SQLite."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from audio.settings import AudioSettings
from scheduler.domain import DEFAULT_TZ

DEFAULT_SILENT_MINUTES = 15  # scheduler.liveness: one answer to "is this station online?"


def _positive(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"Biến {name}=«{raw}» không phải số nguyên. Ghi một số, ví dụ {default}.") from None
    if value < 1:
        raise ValueError(f"Biến {name}={raw} quá nhỏ: phải từ 1 trở lên.")
    return value


def _tile_url(env: dict[str, str]) -> str:
    """LOAXA_MAP_TILES: an http(s) or server-relative URL with {z}, {x} and {y}; empty means no tiles."""
    raw = env.get("LOAXA_MAP_TILES", "").strip()
    if not raw:
        return ""
    if not raw.startswith(("http://", "https://", "/")) or not all(p in raw for p in ("{z}", "{x}", "{y}")):
        raise ValueError(f"Biến LOAXA_MAP_TILES=«{raw[:200]}» không hợp lệ: cần địa chỉ http(s):// hoặc "
                         "bắt đầu bằng /, có đủ {z}, {x}, {y}, ví dụ http://10.0.0.5/tiles/{z}/{x}/{y}.png.")
    return raw


def _data_dir() -> Path:
    return Path(os.environ.get("LOAXA_DATA_DIR", "loaxa-data")).resolve()


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    media_dir: Path
    mqtt_url: str | None
    timezone: str = DEFAULT_TZ
    secret_key: str = "loaxa-dev-secret-change-me"
    public_url: str = "http://127.0.0.1:8080"
    no_change_minutes: int = 30
    silent_minutes: int = DEFAULT_SILENT_MINUTES  # no contact for this long: offline (scheduler.liveness)
    map_tiles: str = ""  # tile URL template for the map page; empty: a coordinate plot without tiles
    map_attribution: str = ""
    audio: AudioSettings = field(default_factory=AudioSettings)
    # Live broadcasts (scheduler.live): Icecast with the source password, e.g. http://source:SECRET@127.0.0.1:8000;
    # None: the Phát trực tiếp page says live broadcasts are not set up. Stations listen at icecast_public_url.
    icecast_url: str | None = None
    icecast_public_url: str | None = None
    smtp_url: str | None = None  # alerts by e-mail (scheduler.alerts.channels): smtp://host:25 …
    alert_from: str = "loaxa <canhbao@localhost>"
    # Reverse proxies in front of the server (nginx: 1). 0: X-Forwarded-For is ignored; otherwise it is
    # believed only on connections from proxy_from (web.security.trust_proxy), so the login limiter sees
    # the real client.
    proxy_hops: int = 0
    proxy_from: tuple[str, ...] = ("127.0.0.1", "::1")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read LOAXA_* variables; see docs/configuration.md."""
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("LOAXA_DATA_DIR", str(_data_dir()))).resolve()
        db_url = env.get("LOAXA_DATABASE_URL") or f"sqlite:///{data_dir / 'loaxa.sqlite3'}"
        media_dir = Path(env.get("LOAXA_MEDIA_DIR") or data_dir / "media").resolve()
        engines = tuple(e.strip() for e in env.get("LOAXA_TTS_ENGINES", "gtts,espeak").split(",") if e.strip())
        audio = AudioSettings(
            engines=engines,
            loudness_lufs=float(env.get("LOAXA_LOUDNESS_LUFS", "-16")),
            true_peak_dbtp=float(env.get("LOAXA_TRUE_PEAK_DBTP", "-1.5")),
            bitrate=env.get("LOAXA_MP3_BITRATE", "64k"),
            variant=env.get("LOAXA_READING_VARIANT", "north"),
        )
        return cls(
            data_dir=data_dir,
            database_url=db_url,
            media_dir=media_dir,
            mqtt_url=env.get("LOAXA_MQTT_URL") or None,
            timezone=env.get("LOAXA_TIMEZONE", DEFAULT_TZ),
            secret_key=env.get("LOAXA_SECRET_KEY", "loaxa-dev-secret-change-me"),
            public_url=env.get("LOAXA_PUBLIC_URL", "http://127.0.0.1:8080").rstrip("/"),
            no_change_minutes=int(env.get("LOAXA_NO_CHANGE_MINUTES", "30")),
            silent_minutes=_positive(env, "LOAXA_SILENT_MINUTES", DEFAULT_SILENT_MINUTES),
            map_tiles=_tile_url(env),
            map_attribution=env.get("LOAXA_MAP_ATTRIBUTION", "").strip(),
            audio=audio,
            icecast_url=env.get("LOAXA_ICECAST_URL") or None,
            icecast_public_url=(env.get("LOAXA_ICECAST_PUBLIC_URL") or "").rstrip("/") or None,
            smtp_url=env.get("LOAXA_SMTP_URL") or None,
            alert_from=env.get("LOAXA_ALERT_FROM") or "loaxa <canhbao@localhost>",
            proxy_hops=_positive(env, "LOAXA_PROXY_HOPS", 1) if env.get("LOAXA_PROXY_HOPS", "0").strip() != "0" else 0,
            proxy_from=tuple(a.strip() for a in env.get("LOAXA_PROXY_FROM", "127.0.0.1,::1").split(",") if a.strip()),
        )
