"""The alert job: evaluate the rules, open and close alerts (one open row per condition: the
de-duplication), tell each recipient in scope once, tell them again when it recovers, and send the
daily summary. Network sends happen after the alerts are stored; a failed send is retried next run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import requests
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from scheduler.access import place_scope, station_inside
from scheduler.alerts.channels import SmtpConfig, deliver, parse_smtp_url
from scheduler.alerts.facts import active_stations, gather
from scheduler.alerts.messages import Summary, alert_message, recovery_message, summary_message
from scheduler.alerts.rules import SILENT, Condition, Rule, default_rules, evaluate
from scheduler.db.models import Alert, AlertRecipient, AlertRule, Station
from scheduler.db.session import transaction
from scheduler.liveness import is_online
from scheduler.service import heartbeat
from scheduler.settings import Settings

log = logging.getLogger("loaxa.alerts")

RETRY_WINDOW = timedelta(days=2)  # sends still owed are retried this long after the alert opened
SUMMARY_KEY = "alert_summary"


def load_rules(session: Session) -> dict[str, Rule]:
    """The built-in defaults, overlaid with what admins stored."""
    rules = default_rules()
    for row in session.scalars(select(AlertRule)):
        if row.kind in rules:
            rules[row.kind] = Rule(row.kind, row.enabled, row.threshold if rules[row.kind].threshold else 0)
    return rules


def active_recipients(session: Session) -> list[AlertRecipient]:
    return list(session.scalars(
        select(AlertRecipient).options(selectinload(AlertRecipient.area), selectinload(AlertRecipient.commune))
        .where(AlertRecipient.active).order_by(AlertRecipient.id)
    ))


def hears(recipient: AlertRecipient, kind: str, station: Station) -> bool:
    """The recipient hears of this rule (kinds) on this station (its commune/area, scheduler.access)."""
    if recipient.kinds and kind not in recipient.kinds:
        return False
    return station_inside(place_scope(recipient.area, recipient.commune), station)


@dataclass
class CheckOutcome:
    opened: list[str] = field(default_factory=list)  # alert keys
    recovered: list[str] = field(default_factory=list)
    closed_quietly: list[str] = field(default_factory=list)  # rule turned off or station gone
    sent: int = 0
    failed: list[str] = field(default_factory=list)


def _open(session: Session, condition: Condition, station: Station, now: datetime) -> Alert:
    area = station.commune.area.name if station.commune.area is not None else ""
    alert = Alert(key=condition.key, kind=condition.kind, station_id=station.id, station_code=station.code,
                  commune=station.commune.name, area=area, detail=condition.detail, opened_at=now, closed_at=None,
                  sent={}, recovery_sent={}, errors="")
    session.add(alert)
    return alert


def reconcile(session: Session, now: datetime, outcome: CheckOutcome) -> None:
    """Open the alerts of firing conditions not open yet; close open ones whose condition is fine."""
    rules = load_rules(session)
    stations = active_stations(session)
    by_code = {s.code: s for s in stations}
    facts = gather(session, stations, now, [rules[SILENT].threshold])
    conditions = {c.key: c for c in evaluate(facts, rules, now)}
    open_rows = {a.key: a for a in session.scalars(select(Alert).where(Alert.closed_at.is_(None)))}
    for key, condition in conditions.items():
        row = open_rows.get(key)
        if condition.firing is True and row is None:
            _open(session, condition, by_code[condition.station], now)
            outcome.opened.append(key)
            log.warning("cảnh báo mới %s: %s", key, condition.detail)
        elif condition.firing is False and row is not None:
            row.closed_at = now
            outcome.recovered.append(key)
            log.info("hết cảnh báo %s", key)
    for key, row in open_rows.items():
        if key not in conditions:
            # The rule was turned off or the station stopped: nothing recovered, so nobody is told.
            row.closed_at = now
            row.recovery_sent = {rid: "" for rid in row.sent}
            outcome.closed_quietly.append(key)
    session.flush()


def _smtp(settings: Settings) -> SmtpConfig | None:
    return parse_smtp_url(settings.smtp_url, settings.alert_from) if settings.smtp_url else None


def notify(session: Session, settings: Settings, now: datetime, outcome: CheckOutcome,
           http: requests.Session | None = None) -> None:
    """Send what is owed: an open alert to each recipient in scope not told yet; a recovery to each
    recipient told of the alert and not of its end."""
    recipients = active_recipients(session)
    if not recipients:
        return
    smtp = _smtp(settings)
    rows = list(session.scalars(
        select(Alert).options(selectinload(Alert.station).selectinload(Station.commune))
        .where(Alert.opened_at >= now - RETRY_WINDOW,
               or_(Alert.closed_at.is_(None), Alert.closed_at >= now - RETRY_WINDOW))
        .order_by(Alert.id)
    ))
    for alert in rows:
        station = alert.station
        if station is None:
            continue
        if alert.closed_at is None:
            owed = [r for r in recipients if str(r.id) not in alert.sent and hears(r, alert.kind, station)]
            message, column = alert_message(alert, settings.tz, settings.public_url), "sent"
        else:
            owed = [r for r in recipients if str(r.id) in alert.sent and str(r.id) not in alert.recovery_sent]
            message, column = recovery_message(alert, settings.tz, settings.public_url), "recovery_sent"
        if not owed:
            continue
        done = dict(getattr(alert, column))
        errors = []
        for recipient in owed:
            error = deliver(recipient, message, smtp, http)
            if error is None:
                done[str(recipient.id)] = now.isoformat()
                outcome.sent += 1
            else:
                errors.append(f"{recipient.name}: {error}")
                outcome.failed.append(f"{alert.key} → {recipient.name}")
        setattr(alert, column, done)
        alert.errors = "\n".join(errors)[:2000]


def check_alerts(sessions: sessionmaker[Session], settings: Settings, now: datetime,
                 http: requests.Session | None = None) -> CheckOutcome:
    """The service job's body (scheduler.service.jobs: check-alerts)."""
    outcome = CheckOutcome()
    with transaction(sessions) as session:
        reconcile(session, now, outcome)
    with transaction(sessions) as session:
        notify(session, settings, now, outcome, http)
    if outcome.opened or outcome.recovered or outcome.failed:
        log.info("cảnh báo: %d mới, %d đã hết, %d tin đã gửi, %d lỗi gửi", len(outcome.opened),
                 len(outcome.recovered), outcome.sent, len(outcome.failed))
    return outcome


def build_summary(session: Session, recipient: AlertRecipient, stations: Sequence[Station], settings: Settings,
                  now: datetime) -> Summary:
    scope = place_scope(recipient.area, recipient.commune)
    mine = [s for s in stations if station_inside(scope, s)]
    codes = {s.code for s in mine}
    since = now - timedelta(days=1)
    open_alerts = [a for a in session.scalars(select(Alert).where(Alert.closed_at.is_(None)).order_by(Alert.opened_at))
                   if a.station_code in codes and (not recipient.kinds or a.kind in recipient.kinds)]
    recent = [a for a in session.scalars(select(Alert).where(or_(Alert.opened_at >= since, Alert.closed_at >= since)))
              if a.station_code in codes and (not recipient.kinds or a.kind in recipient.kinds)]
    return Summary(
        scope=scope.label, day=now.astimezone(settings.tz).strftime("%d/%m/%Y"), stations=len(mine),
        online=sum(is_online(s, now, settings.silent_minutes) for s in mine), open_alerts=open_alerts,
        opened_today=sum(a.opened_at >= since for a in recent),
        recovered_today=sum(a.closed_at is not None and a.closed_at >= since for a in recent),
    )


def send_summaries(sessions: sessionmaker[Session], settings: Settings, now: datetime,
                   http: requests.Session | None = None) -> dict[str, str | None]:
    """Send today's summary to each recipient who wants one and has not had it today (local day);
    recipient name -> None when sent, else the error (retried at the next run the same day)."""
    today = now.astimezone(settings.tz).date().isoformat()
    results: dict[str, str | None] = {}
    with transaction(sessions) as session:
        state = heartbeat.load_state(session, SUMMARY_KEY)
        done: list[int] = list(state.get("sent", [])) if state.get("day") == today else []
        stations = active_stations(session)
        smtp = _smtp(settings)
        for recipient in active_recipients(session):
            if not recipient.daily_summary or recipient.id in done:
                continue
            message = summary_message(build_summary(session, recipient, stations, settings, now), settings.tz,
                                      settings.public_url)
            error = deliver(recipient, message, smtp, http)
            results[recipient.name] = error
            if error is None:
                done.append(recipient.id)
        heartbeat.save_state(session, SUMMARY_KEY, {"day": today, "sent": done})
    return results
