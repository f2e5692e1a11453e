"""Retained programme notices: "week W of station S is now at version V; fetch it from URL".

push_pending() is what the scheduler service calls every minute: it (re)publishes notices for
programmes whose version is newer than the one last pushed, and records the pushed version only
once the broker has confirmed it. Without a broker (LOAXA_MQTT_URL unset) it does nothing:
stations poll HTTP instead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from scheduler.db.models import Commune, Programme, Station
from scheduler.delivery.mqtt_topics import station_topics
from scheduler.delivery.publisher import BrokerUnavailable, Message, MqttPublisher
from scheduler.programmes import current_weeks
from scheduler.settings import Settings
from scheduler.wire import Notice, manifest_path

log = logging.getLogger("loaxa.delivery.notices")

BATCH = 2000


def notice_for(programme: Programme, settings: Settings, now: datetime | None = None) -> Notice:
    return Notice(
        station=programme.station.code,
        week=programme.week,
        version=programme.version,
        content_hash=programme.content_hash,
        manifest_url=settings.public_url + manifest_path(programme.week),
        published_at=(now or programme.built_at).isoformat(),
    )


def notice_message(programme: Programme, settings: Settings, now: datetime | None = None) -> Message:
    return Message(station_topics(programme.station).programme, notice_for(programme, settings, now).to_json(),
                   qos=1, retain=True)


def notify_changed(session: Session, settings: Settings, programmes: Sequence[Programme],
                   publisher: MqttPublisher | None = None, now: datetime | None = None) -> int:
    """Publish a retained notice per programme; confirmed ones get notified_version = version.

    Returns how many were confirmed. Never raises for a broker problem: it logs and returns 0
    (stations still poll), leaving notified_version behind so push_pending() retries.
    """
    if not programmes:
        return 0
    if publisher is None and not settings.mqtt_url:
        return 0
    messages = [notice_message(p, settings, now) for p in programmes]
    try:
        if publisher is not None:
            confirmed = publisher.publish_many(messages)
        else:
            assert settings.mqtt_url is not None
            with MqttPublisher(settings.mqtt_url) as own:
                confirmed = own.publish_many(messages)
    except BrokerUnavailable as exc:
        log.warning("Chưa gửi được thông báo lịch phát qua MQTT: %s", exc)
        return 0
    count = 0
    for programme, ok in zip(programmes, confirmed, strict=True):
        if ok:
            programme.notified_version = programme.version
            count += 1
    session.flush()
    return count


@dataclass
class PushResult:
    published: int = 0
    pending: int = 0  # still to push (broker down or not confirmed)
    skipped: bool = False  # no broker configured, or backing off after a failure
    error: str = ""
    stations: list[str] = field(default_factory=list)


@dataclass
class _Backoff:
    until: datetime | None = None
    delay: timedelta = timedelta(0)


_BACKOFF: dict[str, _Backoff] = {}
MIN_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(minutes=10)


def _pending(session: Session, weeks: Sequence[str]) -> list[Programme]:
    return list(session.scalars(
        select(Programme)
        .options(selectinload(Programme.station).selectinload(Station.commune).selectinload(Commune.province))
        .where(Programme.version > Programme.notified_version, Programme.week.in_(weeks))
        .order_by(Programme.week, Programme.id)
    ))


def push_pending(sessions: sessionmaker[Session], settings: Settings, now: datetime,
                 publisher: MqttPublisher | None = None) -> PushResult:
    """(Re)publish notices for this and next week's programmes not yet pushed; safe to call every minute.

    After a broker failure further calls are skipped for a back-off delay (30 s doubling to 10 min).
    """
    result = PushResult()
    if publisher is None and not settings.mqtt_url:
        result.skipped = True
        return result
    key = settings.mqtt_url or "injected"
    backoff = _BACKOFF.setdefault(key, _Backoff())
    if publisher is None and backoff.until is not None and now < backoff.until:
        result.skipped = True
        return result
    weeks = [str(w) for w in current_weeks(now, settings.tz)]
    own: MqttPublisher | None = None
    try:
        if publisher is None:
            assert settings.mqtt_url is not None
            own = publisher = MqttPublisher(settings.mqtt_url).open()
        with sessions() as session:
            programmes = _pending(session, weeks)
            for start in range(0, len(programmes), BATCH):
                batch = programmes[start : start + BATCH]
                done = notify_changed(session, settings, batch, publisher, now)
                session.commit()
                result.published += done
                result.stations += [p.station.code for p in batch if p.notified_version == p.version]
            result.pending = len(programmes) - result.published
    except BrokerUnavailable as exc:
        backoff.delay = min(max(backoff.delay * 2, MIN_BACKOFF), MAX_BACKOFF)
        backoff.until = now + backoff.delay
        result.error = str(exc)
        log.warning("Máy chủ MQTT không sẵn sàng (%s); thử lại sau %d giây.", exc, backoff.delay.total_seconds())
        return result
    finally:
        if own is not None:
            own.close()
    backoff.delay, backoff.until = timedelta(0), None
    return result
