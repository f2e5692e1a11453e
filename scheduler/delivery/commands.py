"""Commands to stations over MQTT (QoS 1, not retained): emergency play-now, stop, volume, resync."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import object_session, selectinload

from scheduler.db.models import Commune, Emergency, Station
from scheduler.delivery import audio_links
from scheduler.delivery.mqtt_topics import station_topics
from scheduler.delivery.publisher import BrokerUnavailable, Message, MqttPublisher
from scheduler.settings import Settings
from scheduler.wire import DEFAULT_COMMAND_TTL, Command, audio_path

log = logging.getLogger("loaxa.delivery.commands")


def signed_audio_path(secret: str, sha256: str, now: datetime, lifetime: timedelta) -> str:
    """The station API's path of one audio file with a signed link (scheduler.delivery.audio_links)
    valid from `now` for `lifetime`: the server hands the file over without looking up the station."""
    return f"{audio_path(sha256)}?link={audio_links.sign(secret, sha256, now, lifetime)}"


def emergency_command(emergency: Emergency, airing: int, play_at: datetime, secret: str | None = None) -> Command:
    """The play-now command for one play (`airing`) of an emergency, due at `play_at`; it expires
    `emergency.expires_minutes` later. The id is the same whichever way it travels (MQTT or HTTP),
    so a station obeys it once. With the server's `secret`, it carries a signed download path for
    the audio until it expires. ValueError (Vietnamese) if the bulletin has no audio."""
    bulletin = emergency.bulletin
    if bulletin.audio is None:
        raise ValueError(
            f"Bản tin khẩn cấp «{bulletin.code}» chưa có âm thanh. Hãy tạo âm thanh (loaxa render) rồi gửi lại."
        )
    expires_at = play_at + timedelta(minutes=emergency.expires_minutes)
    return Command(
        kind="play",
        id=f"emergency-{emergency.id}-{airing}",
        sent_at=play_at.isoformat(),
        expires_at=expires_at.isoformat(),
        sha256=bulletin.audio.sha256,
        duration_ms=bulletin.audio.duration_ms,
        title=bulletin.title,
        bulletin=bulletin.code,
        volume=100 if emergency.full_volume else None,
        emergency=emergency.id,
        airing=airing,
        audio_path=signed_audio_path(secret, bulletin.audio.sha256, play_at, expires_at - play_at) if secret else None,
    )


def emergency_stop_command(emergency: Emergency, airing: int, now: datetime,
                           ttl: timedelta = DEFAULT_COMMAND_TTL) -> Command:
    """Stop the emergency's play if it is what the station is airing (hold, cancel)."""
    return Command.make("stop", now, ttl, id=f"emergency-{emergency.id}-stop-{airing}", emergency=emergency.id,
                        airing=airing, title=emergency.bulletin.title)


def send_commands(stations: Sequence[Station], command: Command, settings: Settings | None = None,
                  publisher: MqttPublisher | None = None) -> dict[str, bool]:
    """Publish `command` to each station's cmd topic; station code -> confirmed by the broker.

    Never raises for a broker problem: everything is reported False and logged.
    """
    messages = [Message(station_topics(s).cmd, command.to_json(), qos=1, retain=False) for s in stations]
    if not messages:
        return {}
    try:
        if publisher is not None:
            confirmed = publisher.publish_many(messages)
        else:
            settings = settings or Settings.from_env()
            if not settings.mqtt_url:
                log.warning("Chưa cấu hình LOAXA_MQTT_URL: không gửi được lệnh «%s» tới đài.", command.kind)
                return {s.code: False for s in stations}
            with MqttPublisher(settings.mqtt_url) as own:
                confirmed = own.publish_many(messages)
    except BrokerUnavailable as exc:
        log.error("Không gửi được lệnh «%s»: %s", command.kind, exc)
        return {s.code: False for s in stations}
    return {s.code: ok for s, ok in zip(stations, confirmed, strict=True)}


def send_command(station: Station, command: Command, settings: Settings | None = None,
                 publisher: MqttPublisher | None = None) -> bool:
    """Publish one command to one station; True once the broker has it (the station gets it on connect)."""
    return send_commands([station], command, settings, publisher)[station.code]


def announce_emergency(settings: Settings | None, emergency: Emergency, station_codes: Sequence[str],
                       command: Command, publisher: MqttPublisher | None = None) -> dict[str, bool]:
    """Publish `command` (a play or stop of `emergency`) to the named stations.
    Station code -> confirmed by the broker; never raises for a broker problem."""
    session = object_session(emergency)
    if session is None or not station_codes:
        return {}
    stations = list(session.scalars(
        select(Station).options(selectinload(Station.commune).selectinload(Commune.province))
        .where(Station.code.in_(list(station_codes)))
    ))
    return send_commands(stations, command, settings, publisher)
