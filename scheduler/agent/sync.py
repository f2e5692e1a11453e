"""The agent's network side: manifests, audio downloads, acknowledgements, play-log upload.

Nothing here decides what plays: it keeps the local cache in step with the server when the
server can be reached, and is simply skipped (with back-off) when it cannot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from scheduler import wire
from scheduler.agent.audio_cache import AudioCache
from scheduler.agent.client import ServerClient, ServerRefused, ServerUnavailable
from scheduler.agent.storage import DiskGuard, is_disk_full
from scheduler.agent.store import PlayRow, Store, StoredManifest, iso
from scheduler.agent.timeline import Cue, merge_cues, upcoming
from scheduler.domain import IsoWeek

log = logging.getLogger("loaxa.agent.sync")

PREFLIGHT = timedelta(minutes=30)  # files airing this soon are re-hashed each cycle
BAD_FILE_RETRY = timedelta(minutes=10)
UPLOAD_BACKOFF_MIN = timedelta(seconds=5)
UPLOAD_BACKOFF_MAX = timedelta(minutes=5)


@dataclass
class SyncIntervals:
    poll: timedelta = timedelta(minutes=2)  # manifest check without a live MQTT connection
    poll_with_mqtt: timedelta = timedelta(minutes=30)  # safety net when notices are pushed
    upload: timedelta = timedelta(seconds=30)
    status: timedelta = timedelta(seconds=60)
    prune: timedelta = timedelta(hours=1)
    upload_batch: int = 200


@dataclass
class SyncState:
    last_poll: datetime | None = None
    next_upload: datetime | None = None
    next_status: datetime | None = None
    next_prune: datetime | None = None
    force: bool = True  # fetch everything on the first cycle
    weeks: set[str] = field(default_factory=set)  # weeks a notice said changed
    bad_files: dict[str, datetime] = field(default_factory=dict)
    clock_offset_ms: int | None = None
    downloads: int = 0
    resumed_bytes: int = 0
    upload_backoff: timedelta = timedelta(0)
    no_room: set[str] = field(default_factory=set)  # downloads that failed for want of space


def manifest_shas(manifests: list[StoredManifest], now: datetime) -> list[str]:
    """Audio still needed (items not yet over), soonest first, each once."""
    slots = merge_cues(m.body for m in manifests)
    seen: dict[str, None] = {}
    for slot in slots:
        if slot.sha256 and slot.end > now:
            seen.setdefault(slot.sha256, None)
    return list(seen)


class Syncer:
    def __init__(self, station: str, store: Store, cache: AudioCache, client: ServerClient,
                 intervals: SyncIntervals, on_active_changed: Callable[[], None],
                 mqtt_connected: Callable[[], bool],
                 on_commands: Callable[[list[Any]], None] | None = None, disk: DiskGuard | None = None) -> None:
        self.station = station
        self.store = store
        self.cache = cache
        self.client = client
        self.intervals = intervals
        self.state = SyncState()
        self._on_active_changed = on_active_changed
        self._mqtt_connected = mqtt_connected
        self._on_commands = on_commands
        self.disk = disk

    # -- manifests ------------------------------------------------------------------------------

    def notice(self, notice: wire.Notice) -> bool:
        """Remember that `week` changed if the notice is news to us; True if a fetch is needed."""
        known = {m.version for m in (self.store.manifest(notice.week, "active"),
                                     self.store.manifest(notice.week, "pending")) if m is not None}
        if notice.version in known:
            return False
        self.state.weeks.add(notice.week)
        return True

    def refresh_manifests(self, now: datetime) -> None:
        state = self.state
        # The interval follows the broker link as it is now: when MQTT drops, polling resumes at once.
        interval = self.intervals.poll_with_mqtt if self._mqtt_connected() else self.intervals.poll
        poll_due = state.force or state.last_poll is None or now >= state.last_poll + interval
        weeks = set(state.weeks)
        if poll_due:
            index = self.client.get_json(wire.manifest_index_path(),
                                         None if state.force else self.store.get_value("index_etag"))
            if index.status == 200 and isinstance(index.data, dict):
                if index.data.get("station") not in (None, self.station):
                    raise ServerRefused(403, f"Mã truy cập này thuộc đài «{index.data.get('station')}», "
                                             f"không phải đài «{self.station}». Kiểm tra --station và --token.")
                self.store.set_value("index_etag", index.etag or "")
                if index.data.get("timezone"):
                    self.store.set_value("timezone", str(index.data["timezone"]))
                for entry in index.data.get("weeks", []):
                    week, version = str(entry["week"]), int(entry["version"])
                    active = self.store.manifest(week, "active")
                    pending = self.store.manifest(week, "pending")
                    held = {m.version for m in (active, pending) if m is not None}
                    if state.force or version not in held:
                        weeks.add(week)
            state.last_poll = now
        for week in sorted(weeks):
            self._fetch_week(week, now, state.force)
            state.weeks.discard(week)
        state.force = False

    def _fetch_week(self, week: str, now: datetime, force: bool) -> None:
        active = self.store.manifest(week, "active")
        pending = self.store.manifest(week, "pending")
        newest = pending or active
        response = self.client.get_json(wire.manifest_path(week),
                                        None if force or newest is None else newest.etag)
        if response.status == 304 or response.status == 404:
            return
        try:
            body = wire.parse_manifest(response.data)
        except ValueError as exc:
            log.error("Lịch phát tuần %s nhận được không dùng được, giữ lịch đang có: %s", week, exc)
            return
        version = body["version"]
        etag = response.etag or ""
        if self.store.get_value(f"first_seen:{week}") is None:
            # Items that aired before the box first knew the week are not reported as missed.
            self.store.set_value(f"first_seen:{week}", iso(now) or "")
        if active is None:
            # Nothing to play this week yet: better the new programme with some audio missing
            # (those items are skipped with a reason) than silence.
            self.store.put_manifest(week, "active", version, etag, body, now)
            self._on_active_changed()
        elif version == active.version:
            self.store.drop_manifest(week, "pending")
        else:
            self.store.put_manifest(week, "pending", version, etag, body, now)
        log.info("Đã nhận lịch phát tuần %s phiên bản %s", week, version)

    # -- audio ----------------------------------------------------------------------------------

    def download_missing(self, now: datetime, slots: list[Cue]) -> None:
        """Fetch missing audio soonest first; re-hash files airing within PREFLIGHT and re-fetch bad ones."""
        for slot in upcoming(slots, now, PREFLIGHT):
            if slot.sha256:
                self.cache.verify(slot.sha256)  # a corrupt file is deleted here and fetched below
        manifests = self.store.manifests("active") + self.store.manifests("pending")
        for sha in manifest_shas(manifests, now):
            if self.disk is not None and self.disk.full:
                return  # nothing starts on a full disk: what is held keeps playing
            if self.cache.present(sha):
                continue
            retry_at = self.state.bad_files.get(sha)
            if retry_at is not None and now < retry_at:
                continue
            self.fetch(sha, now)

    def fetch(self, sha: str, now: datetime, path: str | None = None) -> bool:
        """Download one file (from a command's signed `path` if given, else the usual one, also when the
        signed one is refused); ServerUnavailable propagates (the caller backs off), a refusal is remembered."""
        part = self.cache.prepare(sha)
        try:
            try:
                kept = self.client.download(sha, part, path=path)
            except ServerRefused:
                if path is None:
                    raise
                kept = self.client.download(sha, part)
            whole = self.cache.complete(sha)
        except ServerRefused as exc:
            log.error("Máy chủ từ chối tệp %s: %s", sha[:12], exc.message)
            self.state.bad_files[sha] = now + BAD_FILE_RETRY
            return False
        except OSError as exc:
            if not is_disk_full(exc) or self.disk is None:
                raise
            part.unlink(missing_ok=True)
            self.disk.on_full(f"không đủ chỗ để tải tệp âm thanh {sha[:12]}…")
            self.state.bad_files[sha] = now + BAD_FILE_RETRY
            self.state.no_room.add(sha)  # tried again as soon as space returns
            return False
        if not whole:
            log.error("Tệp %s tải về sai mã kiểm tra sha256; sẽ tải lại.", sha[:12])
            self.state.bad_files[sha] = now + BAD_FILE_RETRY
            return False
        self.state.downloads += 1
        self.state.resumed_bytes += kept
        self.state.bad_files.pop(sha, None)
        return True

    def complete(self, manifest: StoredManifest, now: datetime) -> bool:
        return all(self.cache.present(sha) for sha in manifest_shas([manifest], now))

    def promote_and_ack(self, now: datetime) -> None:
        """A pending version with all its audio becomes active; a complete active version is acknowledged."""
        changed = False
        for pending in self.store.manifests("pending"):
            if self.complete(pending, now):
                self.store.promote(pending.week)
                changed = True
                log.info("Chuyển sang lịch tuần %s phiên bản %s", pending.week, pending.version)
        if changed:
            self._on_active_changed()
        for active in self.store.manifests("active"):
            if self.store.get_value(f"acked:{active.week}") == str(active.version):
                continue
            if self.store.manifest(active.week, "pending") is not None or not self.complete(active, now):
                continue
            try:
                self.client.post_json(wire.ACK_PATH, {"week": active.week, "version": active.version})
            except ServerRefused as exc:
                log.error("Máy chủ không nhận xác nhận tuần %s: %s", active.week, exc.message)
                continue
            self.store.set_value(f"acked:{active.week}", str(active.version))

    # -- play log and status --------------------------------------------------------------------

    def upload(self, now: datetime, force: bool = False) -> int:
        """Send closed rows in batches; delete exactly the ones the server confirms.

        Rows the server refuses as invalid (a 400 naming them) are set aside at once so the rest
        flow; any other failure postpones only the upload (its own back-off), never the manifest
        checks and status of the same pass.
        """
        if not force and self.state.next_upload is not None and now < self.state.next_upload:
            return 0
        sent = 0
        try:
            for _ in range(50):
                rows = self.store.closed_plays(self.intervals.upload_batch)
                if not rows:
                    break
                try:
                    answer = self.client.post_json(wire.PLAYLOG_PATH, {"plays": [r.upload_dict() for r in rows]})
                except ServerRefused as exc:
                    if self._set_aside(rows, exc, now):
                        continue
                    raise
                accepted = [str(x) for x in answer.get("accepted", [])]
                self.store.delete_plays(accepted)
                sent += len(accepted)
                if len(rows) < self.intervals.upload_batch or not accepted:
                    break
        except (ServerUnavailable, ServerRefused) as exc:
            self.state.upload_backoff = min(max(self.state.upload_backoff * 2, UPLOAD_BACKOFF_MIN),
                                            UPLOAD_BACKOFF_MAX)
            self.state.next_upload = now + self.state.upload_backoff
            log.error("Chưa gửi được nhật ký phát (%s); thử lại sau %d giây.", exc,
                      self.state.upload_backoff.total_seconds())
            return sent
        self.state.upload_backoff = timedelta(0)
        self.state.next_upload = now + self.intervals.upload
        return sent

    def _set_aside(self, rows: list[PlayRow], refused: ServerRefused, now: datetime) -> bool:
        """Set aside the rows a 400 names as invalid (by row number, checked against play_id); True if any moved."""
        data = refused.data if isinstance(refused.data, dict) else {}
        invalid = data.get("invalid") if refused.status == 400 else None
        if not isinstance(invalid, list):
            return False
        moved = False
        for entry in invalid:
            n = entry.get("row") if isinstance(entry, dict) else None
            if not isinstance(n, int) or not 1 <= n <= len(rows):
                continue
            row = rows[n - 1]
            if entry.get("play_id") not in (None, row.play_id):
                continue
            if self.store.set_aside(row.play_id, str(entry.get("error") or refused.message)[:500], now):
                moved = True
                log.error("Máy chủ từ chối bản ghi nhật ký phát «%s» lúc %s; đã để riêng trên đầu thu: %s",
                          row.title, row.actual_start, entry.get("error"))
        return moved

    def send_status(self, now: datetime, status: Callable[[], dict[str, Any]],
                    clock: Callable[[], datetime]) -> bool:
        """Post the status when due; measures the clock offset against the server on the way."""
        if self.state.next_status is not None and now < self.state.next_status:
            return False
        before = clock()
        answer = self.client.post_json(wire.STATUS_PATH, status())
        after = clock()
        server_time = answer.get("server_time") if isinstance(answer, dict) else None
        # Emergencies ride on the status answer: how a box without a live MQTT link learns of them.
        # Remote care commands too (`commands`), for a box without a live MQTT link.
        commands = [*(answer.get("emergencies") or []), *(answer.get("commands") or [])] \
            if isinstance(answer, dict) else None
        if commands and self._on_commands is not None:
            self._on_commands(list(commands))
        if server_time:
            midpoint = before + (after - before) / 2
            self.state.clock_offset_ms = int((datetime.fromisoformat(server_time) - midpoint).total_seconds()
                                             * 1000)
        self.state.next_status = now + self.intervals.status
        return True

    def mqtt_config(self) -> dict[str, Any] | None:
        answer = self.client.get_json(wire.MQTT_PATH)
        return answer.data if answer.status == 200 and isinstance(answer.data, dict) else None

    # -- housekeeping ---------------------------------------------------------------------------

    def prune(self, now: datetime, keep_extra: set[str]) -> None:
        """Forget weeks that are over, audio nothing refers to, and handled marks older than 15 days."""
        if self.state.next_prune is not None and now < self.state.next_prune:
            return
        for manifest in self.store.manifests("active") + self.store.manifests("pending"):
            try:
                week_end = IsoWeek.parse(manifest.week).monday() + timedelta(days=8)
            except ValueError:
                continue
            if now.date() > week_end:
                self.store.drop_manifest(manifest.week)
                self._on_active_changed()
        manifests = self.store.manifests("active") + self.store.manifests("pending")
        keep = {s.sha256 for s in merge_cues(m.body for m in manifests) if s.sha256} | keep_extra
        self.cache.prune(keep)
        self.store.prune_handled(now - timedelta(days=15))
        self.state.next_prune = now + self.intervals.prune

    def cycle(self, now: datetime, slots: list[Cue], status: Callable[[], dict[str, Any]],
              clock: Callable[[], datetime]) -> bool:
        """One pass over everything; True if a status was sent. Raises ServerUnavailable when offline."""
        if self.disk is not None and self.disk.settle():
            for sha in self.state.no_room:
                self.state.bad_files.pop(sha, None)
            self.state.no_room.clear()
        self.store.flush_held()
        self.refresh_manifests(now)
        self.download_missing(now, slots)
        self.promote_and_ack(now)
        self.upload(now)
        sent = self.send_status(now, status, clock)
        self.prune(now, set())
        return sent


__all__ = ["ServerUnavailable", "SyncIntervals", "Syncer", "manifest_shas"]
