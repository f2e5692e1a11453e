"""The loaxa schema. Instants are UTC (`UTCDateTime`); weekly windows are local wall-clock text.

Hierarchy: province → optional area (former district) → commune → station (cụm loa).
Play-log rows copy what aired (title, topic, language…) so reports survive later edits and deletes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from scheduler.db.types import UTCDateTime


class Base(DeclarativeBase):
    pass


class Province(Base):
    __tablename__ = "province"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    reading_variant: Mapped[str] = mapped_column(String(10), default="north")  # north | south
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    default_windows: Mapped[str] = mapped_column(Text, default="")  # window spec, inherited
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    communes: Mapped[list[Commune]] = relationship(back_populates="province")


class Area(Base):
    """Optional grouping: a former district or any area the province uses."""

    __tablename__ = "area"
    __table_args__ = (UniqueConstraint("province_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("province.id"))
    name: Mapped[str] = mapped_column(String(120))


class Commune(Base):
    __tablename__ = "commune"
    __table_args__ = (UniqueConstraint("province_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(ForeignKey("province.id"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"))
    name: Mapped[str] = mapped_column(String(120))
    default_windows: Mapped[str] = mapped_column(Text, default="")
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # TT 39 (scheduler.commune_choice): province-level thông thường bulletins aired as they come
    # (tu-dong) or each chosen by the commune approver (chon), the default applying after the deadline.
    upstream_mode: Mapped[str] = mapped_column(String(10), default="tu-dong")  # tu-dong | chon
    upstream_deadline_hours: Mapped[int] = mapped_column(Integer, default=24)
    upstream_default: Mapped[str] = mapped_column(String(10), default="nhan")  # nhan | khong
    upstream_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # deadlines run from here at the earliest
    # Where the commune's own ưu tiên items go against ưu tiên items from above.
    priority_order: Mapped[str] = mapped_column(String(12), default="tren-truoc")  # tren-truoc | xa-truoc
    province: Mapped[Province] = relationship(back_populates="communes")
    area: Mapped[Area | None] = relationship()
    stations: Mapped[list[Station]] = relationship(back_populates="commune")


class Station(Base):
    """A loudspeaker cluster (cụm loa) with a receiver box, or a commune studio."""

    __tablename__ = "station"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"))
    languages: Mapped[str] = mapped_column(String(60), default="vi")  # "vi;jra"
    windows: Mapped[str] = mapped_column(Text, default="")  # window spec; empty = inherit
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    speakers: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    token_hash: Mapped[str | None] = mapped_column(String(128), index=True)  # every station API call
    token_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_manifest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_log_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    commune: Mapped[Commune] = relationship(back_populates="stations")

    @property
    def language_list(self) -> tuple[str, ...]:
        return tuple(x.strip() for x in self.languages.split(";") if x.strip()) or ("vi",)


class User(Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(20))  # admin | editor | approver | operator | viewer
    # Scope (scheduler.access): one commune, else one area, else the whole province.
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("commune.id"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # In every session's fingerprint (web.auth): raised at logout, so no earlier cookie works any more.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    commune: Mapped[Commune | None] = relationship()
    area: Mapped[Area | None] = relationship()


class AudioAsset(Base):
    """A broadcast-ready audio file, addressed by the SHA-256 of its bytes."""

    __tablename__ = "audio_asset"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    cache_key: Mapped[str | None] = mapped_column(String(64), index=True)
    file_name: Mapped[str] = mapped_column(String(255))  # relative to the media dir
    duration_ms: Mapped[int] = mapped_column(Integer)
    loudness_lufs: Mapped[float | None] = mapped_column(Float)
    true_peak_dbtp: Mapped[float | None] = mapped_column(Float)
    engine: Mapped[str] = mapped_column(String(40))
    voice: Mapped[str] = mapped_column(String(80), default="")
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Bulletin(Base):
    __tablename__ = "bulletin"
    __table_args__ = (UniqueConstraint("source_id", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text, default="")
    recording_file: Mapped[str | None] = mapped_column(String(255))  # uploaded source, media-relative
    topic: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(10), default="vi")
    priority: Mapped[str] = mapped_column(String(10), default="thuong")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    plays_per_week: Mapped[int] = mapped_column(Integer, default=3)
    targets: Mapped[list[str]] = mapped_column(JSON, default=list)  # station codes, commune names, "*"
    status: Mapped[str] = mapped_column(String(12), default="nhap")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    # Who last changed the content (title, text, language, recording): may not approve it, as the author may not.
    content_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", name="fk_bulletin_content_by_id"))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    audio_asset_id: Mapped[int | None] = mapped_column(ForeignKey("audio_asset.id"))
    render_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Sent by an upstream source system (POST /api/v1/upstream/bulletins): approved by that source.
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id", ondelete="SET NULL"))
    external_id: Mapped[str | None] = mapped_column(String(120))
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    content_by: Mapped[User | None] = relationship(foreign_keys=[content_by_id])
    approver: Mapped[User | None] = relationship(foreign_keys=[approver_id])
    audio: Mapped[AudioAsset | None] = relationship()
    source: Mapped[Source | None] = relationship()


class Programme(Base):
    """One station's programme for one ISO week; `version` grows with each change."""

    __tablename__ = "programme"
    __table_args__ = (UniqueConstraint("station_id", "week"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    week: Mapped[str] = mapped_column(String(10))  # "2026-W47"
    version: Mapped[int] = mapped_column(Integer, default=1)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    notified_version: Mapped[int] = mapped_column(Integer, default=0)  # pushed over MQTT
    acked_version: Mapped[int] = mapped_column(Integer, default=0)  # station holds it with all audio
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # scheduler.programmes.inputs.inputs_digest of what it was planned from; NULL = to be rebuilt.
    inputs_hash: Mapped[str | None] = mapped_column(String(64))
    station: Mapped[Station] = relationship()
    items: Mapped[list[ProgrammeItem]] = relationship(
        back_populates="programme", cascade="all, delete-orphan", order_by="ProgrammeItem.start"
    )


class ProgrammeItem(Base):
    __tablename__ = "programme_item"
    __table_args__ = (
        Index("ix_programme_item_programme_start", "programme_id", "start"),
        Index("ix_programme_item_start", "start"),  # reports: one day across all stations
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(12))  # bulletin | jingle | relay | emergency
    bulletin_id: Mapped[int | None] = mapped_column(ForeignKey("bulletin.id", ondelete="SET NULL"))
    bulletin_code: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300), default="")
    topic: Mapped[str] = mapped_column(String(40), default="")
    language: Mapped[str] = mapped_column(String(10), default="vi")
    priority: Mapped[str] = mapped_column(String(10), default="thuong")
    audio_sha256: Mapped[str | None] = mapped_column(String(64))
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    stream_url: Mapped[str | None] = mapped_column(String(500))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # The emergency an `emergency` item airs (the manifest names it so the station can report on it).
    emergency_id: Mapped[int | None] = mapped_column(ForeignKey("emergency.id", ondelete="SET NULL"))
    programme: Mapped[Programme] = relationship(back_populates="items")
    emergency: Mapped[Emergency | None] = relationship()


class Emergency(Base):
    """A khẩn cấp broadcast: played at once on its targets, repeated by a rule.

    state: cho_duyet (an editor's request or a CAP alert waiting for an approver), dang_chay,
    tam_dung (held), da_huy (cancelled). `airings` lists every play instant (UTC ISO) once started.
    """

    __tablename__ = "emergency"
    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletin.id"))
    targets: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    repeat_every_minutes: Mapped[int | None] = mapped_column(Integer)
    repeat_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    repeat_count: Mapped[int] = mapped_column(Integer, default=1)
    volume: Mapped[int] = mapped_column(Integer, default=100)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(12), default="dang_chay")
    origin: Mapped[str] = mapped_column(String(10), default="web")  # web | cli | cap
    full_volume: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_minutes: Mapped[int] = mapped_column(Integer, default=15)
    airings: Mapped[list[str]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None while waiting for approval
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id", ondelete="SET NULL"))
    cap_identifier: Mapped[str | None] = mapped_column(String(300))
    cap_sender: Mapped[str | None] = mapped_column(String(300))
    cap_xml: Mapped[str | None] = mapped_column(Text)
    bulletin: Mapped[Bulletin] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    released_by: Mapped[User | None] = relationship(foreign_keys=[released_by_id])


class EmergencyStation(Base):
    """What became of one emergency on one target station: the tracking board's row.

    state: cho_gui · da_gui · da_nhan · dang_phat · da_phat · loi · da_dung · khong_toi (see
    scheduler.emergencies.tracking). `airing` is the play the state belongs to (0 = the first).
    """

    __tablename__ = "emergency_station"
    __table_args__ = (
        UniqueConstraint("emergency_id", "station_code"),
        Index("ix_emergency_station_station", "station_id", "emergency_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    emergency_id: Mapped[int] = mapped_column(ForeignKey("emergency.id", ondelete="CASCADE"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id", ondelete="SET NULL"))
    station_code: Mapped[str] = mapped_column(String(40))
    commune: Mapped[str] = mapped_column(String(120), default="")
    state: Mapped[str] = mapped_column(String(12), default="cho_gui")
    airing: Mapped[int] = mapped_column(Integer, default=0)
    via: Mapped[str] = mapped_column(String(10), default="")  # mqtt | http
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # actual start of the play
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    plays: Mapped[int] = mapped_column(Integer, default=0)  # airings played to the end
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Source(Base):
    """An upstream system allowed to push content (CAP alerts, bulletins) with its own API key."""

    __tablename__ = "source"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    key_hash: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiConsumer(Base):
    """A system allowed to read loaxa's open API (the province's dashboards, an upstream source system),
    with its own API key and scopes such as read:stations (scheduler.apikeys)."""

    __tablename__ = "api_consumer"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    key_hash: Mapped[str] = mapped_column(String(128), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CommuneDecision(Base):
    """A commune's answer to a bulletin from above under its `chon` policy: nhan (air it) or khong.

    `by_default` marks the configured default applied when the deadline passed with no answer. The
    bulletin's code and title are copied so reports stay true after the bulletin is deleted.
    """

    __tablename__ = "commune_decision"
    __table_args__ = (UniqueConstraint("bulletin_id", "commune_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int | None] = mapped_column(ForeignKey("bulletin.id", ondelete="SET NULL"))
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"))
    bulletin_code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300), default="")
    decision: Mapped[str] = mapped_column(String(10))  # nhan | khong
    by_default: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    commune: Mapped[Commune] = relationship()
    decided_by: Mapped[User | None] = relationship()


class LiveBroadcast(Base):
    """A live microphone broadcast (Phát trực tiếp): a person speaks in the browser, the stations play
    the Icecast mount at once until stopped. state: dang_phat (on air), da_ket_thuc (ended)."""

    __tablename__ = "live_broadcast"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    targets: Mapped[list[str]] = mapped_column(JSON, default=list)  # as chosen (station codes, commune names)
    stations: Mapped[list[str]] = mapped_column(JSON, default=list)  # the station codes they resolved to
    mount: Mapped[str] = mapped_column(String(120))
    stream_url: Mapped[str] = mapped_column(String(500))  # what the stations play
    state: Mapped[str] = mapped_column(String(12), default="dang_phat", index=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str] = mapped_column(String(300), default="")
    recording_file: Mapped[str | None] = mapped_column(String(255))  # media-relative MP3 of what was said
    received_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the mount was on air; stations told
    last_chunk_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # quiet too long: the speaker has gone
    started_by: Mapped[User | None] = relationship()


class PlayLog(Base):
    """As-run log: one row per play, at its actual start, with what was scheduled beside it.

    `play_id` is generated on the station and unique per station, so an upload sent twice is stored once. The
    descriptive columns are copies taken when the row arrives: reports stay true after edits.
    """

    __tablename__ = "play_log"
    __table_args__ = (
        Index("ix_play_log_station_start", "station_id", "actual_start"),
        Index("ix_play_log_scheduled", "scheduled_start"),
        Index("ix_play_log_actual_start", "actual_start"),  # reports: unscheduled plays of a day
        UniqueConstraint("station_id", "play_id", name="uq_play_log_station_play"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    play_id: Mapped[str] = mapped_column(String(64))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id", ondelete="SET NULL"))
    station_code: Mapped[str] = mapped_column(String(40))
    commune: Mapped[str] = mapped_column(String(120), default="")
    area: Mapped[str] = mapped_column(String(120), default="")
    programme_item_id: Mapped[int | None] = mapped_column(Integer)  # no FK: items are rebuilt
    week: Mapped[str] = mapped_column(String(10), default="")
    programme_version: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(12), default="bulletin")
    bulletin_code: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300), default="")
    topic: Mapped[str] = mapped_column(String(40), default="")
    language: Mapped[str] = mapped_column(String(10), default="vi")
    priority: Mapped[str] = mapped_column(String(10), default="thuong")
    scheduled_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scheduled_ms: Mapped[int] = mapped_column(Integer, default=0)
    actual_start: Mapped[datetime] = mapped_column(UTCDateTime)
    actual_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    played_ms: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str] = mapped_column(String(12))  # played | partial | skipped | failed
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10), default="agent")  # agent | manual
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(80), default="")
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(60), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class LexiconEntry(Base):
    """Editor-added abbreviation readings, overlaid on the built-in lexicon."""

    __tablename__ = "lexicon_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    abbreviation: Mapped[str] = mapped_column(String(60), unique=True)
    expansion: Mapped[str] = mapped_column(String(300))


class ServiceHeartbeat(Base):
    """The active background service (`loaxa scheduler`): who leads, its last beat, its jobs' bookkeeping."""

    __tablename__ = "service_heartbeat"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)  # "scheduler"
    holder: Mapped[str] = mapped_column(String(200), default="")  # "host:pid" of the leader
    pid: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when this holder took the lead
    beat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # survives a change of leader


class _AirtimeFigures:
    """Columns shared by the airtime roll-ups: what a report groups by, and what it adds up."""

    station_code: Mapped[str] = mapped_column(String(40))
    commune: Mapped[str] = mapped_column(String(120), default="")
    area: Mapped[str] = mapped_column(String(120), default="")
    topic: Mapped[str] = mapped_column(String(40), default="")
    language: Mapped[str] = mapped_column(String(10), default="vi")
    priority: Mapped[str] = mapped_column(String(10), default="thuong")
    source: Mapped[str] = mapped_column(String(10), default="own")  # own | relay | manual
    kind: Mapped[str] = mapped_column(String(12), default="bulletin")
    planned_items: Mapped[int] = mapped_column(Integer, default=0)
    planned_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    aired_items: Mapped[int] = mapped_column(Integer, default=0)
    aired_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    missed_items: Mapped[int] = mapped_column(Integer, default=0)
    emergency_items: Mapped[int] = mapped_column(Integer, default=0)


class AirtimeDaily(_AirtimeFigures, Base):
    """Airtime of one local day, rolled up by scheduler.reports.rollup (a snapshot: survives deletes)."""

    __tablename__ = "airtime_daily"
    __table_args__ = (
        Index("ix_airtime_daily_day_commune", "day", "commune"),
        Index("ix_airtime_daily_station_day", "station_code", "day"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    day: Mapped[date] = mapped_column(Date)


class AirtimeSummary(Base):
    """Narrow sums of the daily roll-up that province-wide reports read: per day or month and commune,
    one row per station (dimension "station", value = station code) and one per topic, language,
    priority, source and kind value."""

    __tablename__ = "airtime_summary"
    __table_args__ = (Index("ix_airtime_summary_grain_start", "grain", "start", "dimension", "commune"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    grain: Mapped[str] = mapped_column(String(5))  # day | month
    start: Mapped[date] = mapped_column(Date)  # the day, or the month's first day
    commune: Mapped[str] = mapped_column(String(120), default="")
    area: Mapped[str] = mapped_column(String(120), default="")
    dimension: Mapped[str] = mapped_column(String(10))  # station | topic | language | priority | source | kind
    value: Mapped[str] = mapped_column(String(40), default="")
    planned_items: Mapped[int] = mapped_column(Integer, default=0)
    planned_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    aired_items: Mapped[int] = mapped_column(Integer, default=0)
    aired_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    missed_items: Mapped[int] = mapped_column(Integer, default=0)
    emergency_items: Mapped[int] = mapped_column(Integer, default=0)


class AirtimeMissed(Base):
    """One planned item that did not air, or one skipped/failed play, with its reason."""

    __tablename__ = "airtime_missed"
    __table_args__ = (Index("ix_airtime_missed_day", "day", "scheduled_start"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    station_code: Mapped[str] = mapped_column(String(40))
    commune: Mapped[str] = mapped_column(String(120), default="")
    area: Mapped[str] = mapped_column(String(120), default="")
    scheduled_start: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(12), default="bulletin")
    bulletin_code: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300), default="")
    topic: Mapped[str] = mapped_column(String(40), default="")
    language: Mapped[str] = mapped_column(String(10), default="vi")
    priority: Mapped[str] = mapped_column(String(10), default="thuong")
    planned_ms: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str] = mapped_column(String(12), default="")  # "" = no play log at all
    reason: Mapped[str] = mapped_column(Text, default="")


class AirtimeRollupDay(Base):
    """Which local days are rolled up, when, and the last play-log id they saw (late uploads re-roll)."""

    __tablename__ = "airtime_rollup_day"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    play_log_watermark: Mapped[int] = mapped_column(BigInteger, default=0)


class AlertRule(Base):
    """One alert rule (scheduler.alerts.rules): on or off, and its threshold (minutes, MB, seconds…)."""

    __tablename__ = "alert_rule"
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)  # silent | emergency | relay | disk | clock
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    threshold: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertRecipient(Base):
    """Who hears of alerts: by e-mail and/or a webhook, for the whole province, one area or one commune.

    `kinds` lists the rules this recipient hears of (empty: all); `webhook_format` is json | telegram |
    zalo; `chat_id` is the Telegram chat or the Zalo follower id; `secret` the Zalo OA access token.
    """

    __tablename__ = "alert_recipient"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    email: Mapped[str | None] = mapped_column(String(200))
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_format: Mapped[str] = mapped_column(String(10), default="json")
    chat_id: Mapped[str | None] = mapped_column(String(120))
    secret: Mapped[str | None] = mapped_column(String(500))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"))
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("commune.id", ondelete="CASCADE"))
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    daily_summary: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    area: Mapped[Area | None] = relationship()
    commune: Mapped[Commune | None] = relationship()


class Alert(Base):
    """One occurrence of a rule on one station, from when it fired until it recovered.

    `key` names the condition (e.g. "silent:IAGRAI-01", "emergency:7:IAGRAI-01"); at most one open row per
    key is the de-duplication. `sent` / `recovery_sent` map recipient id -> when it was told (failed
    deliveries are retried while the row needs them).
    """

    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_key_open", "key", "closed_at"), Index("ix_alert_opened", "opened_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id", ondelete="SET NULL"))
    station_code: Mapped[str] = mapped_column(String(40))
    commune: Mapped[str] = mapped_column(String(120), default="")
    area: Mapped[str] = mapped_column(String(120), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    recovery_sent: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    errors: Mapped[str] = mapped_column(Text, default="")

    station: Mapped[Station | None] = relationship()


class StationCommand(Base):
    """One remote-care command to a station (scheduler.delivery.care): restart, reboot, amplifier, volume,
    resync, update. Sent over MQTT, and handed over HTTP on the station's status until it answers;
    `result` is what the box reported (CareResult): "" while waiting, then running | ok | failed."""

    __tablename__ = "station_command"
    __table_args__ = (Index("ix_station_command_station", "station_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    command_id: Mapped[str] = mapped_column(String(64), unique=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the wire Command
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(80), default="")
    via: Mapped[str] = mapped_column(String(10), default="")  # mqtt | http
    result: Mapped[str] = mapped_column(String(10), default="")
    result_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message: Mapped[str] = mapped_column(Text, default="")


class AgentPackage(Base):
    """A station agent release the server publishes (a wheel under the media dir), for `update` commands."""

    __tablename__ = "agent_package"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_name: Mapped[str] = mapped_column(String(255))  # relative to the media dir
    size: Mapped[int] = mapped_column(Integer, default=0)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[str] = mapped_column(String(80), default="")


class ManifestChange(Base):
    """One row per transaction that changed what a station's manifest answer depends on
    (scheduler.db.changes): append-only, so writers never wait for one another; pruned after a day."""

    __tablename__ = "manifest_change"
    __table_args__ = (Index("ix_manifest_change_tx", "tx"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(primary_key=True)
    # PostgreSQL: the writing transaction's id (pg_current_xact_id), so readers can tell which
    # transactions may still commit a row they have not seen yet. NULL on SQLite (one writer at a time).
    tx: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # the database's clock; only for pruning


from scheduler.db import changes as _changes  # noqa: E402,F401  (records changes for every Session)
