"""Retained programme notices: "week W of station S is now at version V; fetch it from URL".

push_pending() is what the scheduler service calls every minute: it (re)publishes notices for
programmes whose version is newer than the one last pushed, and records the pushed version only
once the broker has confirmed it. Without a broker (LOAXA_MQTT_URL unset) it does nothing:
stations poll HTTP instead. A national programme change is tens of thousands of notices: the
pending programmes are read as plain columns in one query, and the pushed versions recorded per
batch in one UPDATE per distinct version.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import Commune, Programme, Province, Station
from scheduler.db.session import again_if_transient
from scheduler.delivery.mqtt_topics import TopicNamer
from scheduler.delivery.poll_cache import Bound
from scheduler.delivery.publisher import BrokerUnavailable, Message, MqttPublisher
from scheduler.programmes import current_weeks
from scheduler.settings import Settings
from scheduler.wire import Notice, manifest_path

log = logging.getLogger("loaxa.delivery.notices")

BATCH = 2000


@dataclass(frozen=True)
class PendingNotice:
    """A programme whose notice is due, as the notice and its topic need it."""

    programme_id: int
    station: str
    topic: str
    week: str
    version: int
    content_hash: str
    built_at: datetime


def notice_for(pending: PendingNotice, settings: Settings, now: datetime | None = None) -> Notice:
    return Notice(
        station=pending.station,
        week=pending.week,
        version=pending.version,
        content_hash=pending.content_hash,
        manifest_url=settings.public_url + manifest_path(pending.week),
        published_at=(now or pending.built_at).isoformat(),
    )


def notify_changed(session: Session, settings: Settings, pending: Sequence[PendingNotice],
                   publisher: MqttPublisher | None = None, now: datetime | None = None) -> list[PendingNotice]:
    """Publish a retained notice per programme; confirmed ones get notified_version = version.

    Returns the confirmed ones. Never raises for a broker problem: it logs and returns none
    (stations still poll), leaving notified_version behind so push_pending() retries.
    """
    if not pending:
        return []
    if publisher is None and not settings.mqtt_url:
        return []
    messages = [Message(p.topic, notice_for(p, settings, now).to_json(), qos=1, retain=True) for p in pending]
    try:
        if publisher is not None:
            confirmed = publisher.publish_many(messages)
        else:
            assert settings.mqtt_url is not None
            with MqttPublisher(settings.mqtt_url) as own:
                confirmed = own.publish_many(messages)
    except BrokerUnavailable as exc:
        log.warning("Chưa gửi được thông báo lịch phát qua MQTT: %s", exc)
        return []
    done = [p for p, ok in zip(pending, confirmed, strict=True) if ok]
    record_notified(session, done)
    return done


def record_notified(session: Session, pushed: Sequence[PendingNotice]) -> None:
    """notified_version = the version just published, for a whole batch in one UPDATE per distinct
    version (not one per programme). Never moves it back; a programme changed again since it was
    read stays pending and is pushed again with its new version."""
    by_version: dict[int, list[int]] = defaultdict(list)
    for p in pushed:
        by_version[p.version].append(p.programme_id)
    for version, ids in by_version.items():
        mark = (update(Programme)
                .where(Programme.id.in_(ids), Programme.version == version, Programme.notified_version < version)
                .values(notified_version=version)
                .execution_options(synchronize_session=False))
        # The told stations acknowledge while this runs, and an ack group updating two of these rows can
        # deadlock with it: PostgreSQL then rolls one statement back. Here that is this one, within its
        # savepoint: run it again (the acks retry theirs: scheduler.delivery.acks).
        again_if_transient(partial(_in_savepoint, session, mark))


def _in_savepoint(session: Session, statement: Any) -> None:
    with session.begin_nested():
        session.execute(statement)


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


def _pending(session: Session, weeks: Sequence[str]) -> list[PendingNotice]:
    """Programmes of `weeks` whose version was not pushed yet, with their station's topic (one query)."""
    rows = session.execute(
        select(Programme.id, Programme.week, Programme.version, Programme.content_hash, Programme.built_at,
               Station.code, Commune.name, Province.name)
        .join(Station, Programme.station_id == Station.id)
        .join(Commune, Station.commune_id == Commune.id)
        .join(Province, Commune.province_id == Province.id)
        .where(Programme.version > Programme.notified_version, Programme.week.in_(weeks))
        .order_by(Programme.week, Programme.id)
    )
    topics = TopicNamer()
    return [PendingNotice(pid, code, topics.topics(province, commune, code).programme, week, version,
                          content_hash, built_at)
            for pid, week, version, content_hash, built_at, code, commune, province in rows]


def push_pending(sessions: sessionmaker[Session], settings: Settings, now: datetime,
                 publisher: MqttPublisher | None = None, bound: Bound | None = None) -> PushResult:
    """(Re)publish notices for this and next week's programmes not yet pushed; safe to call every minute.

    Notices go out only `bound` (scheduler.delivery.poll_cache.POLL_BOUND) after the read that found the
    programmes: by then every node answering polls from memory has seen the change, so the told station
    never fetches the old version. After a broker failure further calls are skipped for a back-off delay
    (30 s doubling to 10 min).
    """
    bound = bound or Bound()
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
            pending = _pending(session, weeks)
            if pending:
                bound.wait_past(bound.monotonic())
            for start in range(0, len(pending), BATCH):
                done = notify_changed(session, settings, pending[start : start + BATCH], publisher, now)
                session.commit()
                result.published += len(done)
                result.stations += [p.station for p in done]
            result.pending = len(pending) - result.published
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
