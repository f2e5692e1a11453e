"""/healthz (is every part up? JSON, 503 if not) and /metrics (Prometheus text exposition).

Neither needs a login: nginx limits /metrics to the monitoring host (deploy/nginx/loaxa.conf).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from flask import Blueprint, Response, current_app, jsonify

from scheduler.ops.health import run_checks
from scheduler.ops.metrics import Snapshot, collect
from scheduler.service.config import ServiceConfig
from web.context import now, settings

bp = Blueprint("health", __name__)

BROKER_TIMEOUT_SECONDS = 2.0


def _service_config() -> ServiceConfig:
    try:
        return ServiceConfig.from_env()
    except ValueError:  # the scheduler itself reports a bad variable; health uses the defaults
        return ServiceConfig()


def scheduler_max_age(config: ServiceConfig) -> timedelta:
    """A leader beats every poll period; three missed beats and half a minute mean it is gone."""
    return timedelta(seconds=3 * config.leader_poll_seconds + 30)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    ext = current_app.extensions["loaxa"]
    cfg = settings()
    checks = run_checks(
        ext["engine"], ext["sessions"], cfg.media_dir, cfg.mqtt_url, now(),
        scheduler_max_age(_service_config()), BROKER_TIMEOUT_SECONDS,
    )  # fmt: skip
    failed = [c.name for c in checks if not c.ok]
    body = {
        "status": "fail" if failed else "ok",
        "message": (
            "Có bộ phận lỗi: " + ", ".join(c.message for c in checks if not c.ok)
            if failed
            else "Mọi bộ phận hoạt động bình thường."
        ),
        "failed": failed,
        "checked_at": now().isoformat(),
        "checks": {c.name: c.as_json() for c in checks},
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 503 if failed else 200


def _families(snap: Snapshot) -> Iterator[object]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    stations = GaugeMetricFamily("loaxa_stations", "Active stations by contact state", labels=["state"])
    stations.add_metric(["online"], snap.stations_online)
    stations.add_metric(["offline"], snap.stations_offline)
    yield stations
    yield GaugeMetricFamily(
        "loaxa_stations_never_seen", "Active stations that never contacted the server", value=snap.stations_never_seen
    )
    yield GaugeMetricFamily(
        "loaxa_programmes_awaiting_delivery",
        "Programmes of this week or later whose version the station has not acknowledged",
        value=snap.programmes_awaiting_delivery,
    )
    yield GaugeMetricFamily(
        "loaxa_render_queue", "Approved bulletins waiting for their audio", value=snap.render_queue
    )
    yield GaugeMetricFamily(
        "loaxa_render_failed", "Approved bulletins whose last audio render failed", value=snap.render_failed
    )
    age = GaugeMetricFamily(
        "loaxa_playlog_upload_age_seconds", "Seconds since each station's last play-log upload", labels=["station"]
    )
    for code, seconds in sorted(snap.playlog_age_seconds.items()):
        age.add_metric([code], seconds)
    yield age
    yield GaugeMetricFamily(
        "loaxa_playlog_upload_age_max_seconds",
        "Longest time since a station's last play-log upload",
        value=max(snap.playlog_age_seconds.values(), default=0.0),
    )
    delay = GaugeMetricFamily(
        "loaxa_playlog_delay_seconds",
        "Delay between a play and its log reaching the server, over rows received in the last hour",
        labels=["stat"],
    )
    delay.add_metric(["max"], snap.playlog_delay_max_seconds)
    delay.add_metric(["mean"], snap.playlog_delay_mean_seconds)
    yield delay
    yield GaugeMetricFamily(
        "loaxa_playlog_recent_rows", "Play-log rows received in the last hour", value=snap.playlog_recent_rows
    )
    if snap.scheduler_beat_age_seconds is not None:
        yield GaugeMetricFamily(
            "loaxa_scheduler_heartbeat_age_seconds",
            "Seconds since the scheduler leader's last heartbeat",
            value=snap.scheduler_beat_age_seconds,
        )
    failures = CounterMetricFamily("loaxa_job_failures", "Failed runs of each scheduler job", labels=["job"])
    for job, count in sorted(snap.job_failures.items()):
        failures.add_metric([job], count)
    yield failures


class _SnapshotCollector:
    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def collect(self) -> Iterator[object]:
        yield from _families(self.snap)


@bp.get("/metrics")
def metrics() -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    ext = current_app.extensions["loaxa"]
    cfg = settings()
    with ext["sessions"]() as session:
        snap = collect(session, now(), cfg.tz, cfg.silent_minutes)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(snap))  # type: ignore[arg-type]
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
