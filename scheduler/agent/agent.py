"""The station agent: plays the cached programme on time, obeys commands, keeps a durable play log.

Everything that decides is driven by an explicit `now`: `run_once(now)` is one deterministic step
(commands, playback, then the network), and `run_forever()` is the real loop, where playback and
the network run in separate threads so a slow download never delays an item.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

from scheduler import wire
from scheduler.agent.audio_cache import AudioCache
from scheduler.agent.care import Care, CareConfig
from scheduler.agent.client import ServerClient, ServerRefused, ServerUnavailable
from scheduler.agent.emergency import EmergencyReports
from scheduler.agent.mqtt_link import MqttConfig, MqttLink
from scheduler.agent.players import Player
from scheduler.agent.status import Hardware, agent_version, no_hardware
from scheduler.agent.storage import DEFAULT_RESERVE_BYTES, DiskFull, DiskGuard
from scheduler.agent.store import PlayRow, Store, iso, parse_iso
from scheduler.agent.sync import Syncer, SyncIntervals, manifest_shas
from scheduler.agent.timeline import Cue, due, may_replay, merge_cues, start_deadline
from scheduler.agent.updater import Updater
from scheduler.agent.watchdog import MonitorFactory, StreamMonitor, WatchdogSettings
from scheduler.domain import DEFAULT_TZ, kind_label

log = logging.getLogger("loaxa.agent")

Clock = Callable[[], datetime]
PROGRESS_EVERY = timedelta(seconds=10)
ALIVE_EVERY = timedelta(seconds=30)
OUTAGE_MIN = timedelta(minutes=1)
STREAM_EMERGENCY_DEFAULT = timedelta(minutes=15)
HUNG_PLAYER_SLACK = timedelta(seconds=60)
MQTT_CONFIG_RETRY = timedelta(minutes=10)
EMERGENCY_COVER = timedelta(minutes=10)  # a play-now command and the same emergency in the programme
RECEIVED_AHEAD = timedelta(minutes=2)
SAME_PLAY = timedelta(seconds=5)  # a programme emergency item and its play-now: placing may shift it by seconds
AIRED_KEY = "aired_emergencies"  # a programme emergency play this near counts as received
FALLBACK_AHEAD = timedelta(minutes=30)  # a failed stream's block may be filled by an item due this soon after it


# At most this much of an item's tail gives way so that the next item starts on the clock: a start
# made late by the box's own work is not passed on to every item after it.
CATCH_UP = timedelta(milliseconds=500)
# The next programme item is made ready this long before its start: its audio hashed and its play row
# written (a commit waits for the disk: 0.2–0.6 s while another program writes), so that at the start
# itself the box only starts the player; what guards no sound is written after it.
PREPARE_AHEAD = timedelta(seconds=2)
# A relay earlier still: joining a stream takes mpv about a second of live audio to probe on top of its
# own start-up (1.4 s on a busy box); the relay then plays that much behind live (docs/agent.md).
STREAM_AHEAD = timedelta(seconds=4)


def prepare_ahead(slot: Cue) -> timedelta:
    """How long before its start an item is made ready (its row written, its player started)."""
    return STREAM_AHEAD if slot.stream_url and not slot.sha256 else PREPARE_AHEAD


@dataclass
class AgentConfig:
    server: str
    station: str
    token: str
    cache_dir: Path
    mqtt: bool = True  # use the broker the server names (or mqtt_url) when there is one
    mqtt_url: str | None = None
    default_volume: int = 80
    intervals: SyncIntervals = field(default_factory=SyncIntervals)
    watchdog: WatchdogSettings = field(default_factory=WatchdogSettings)
    reserve_bytes: int = DEFAULT_RESERVE_BYTES  # kept free for the play log (scheduler.agent.storage)
    care: CareConfig = field(default_factory=CareConfig)  # remote care: reboot, amplifier, updates


@dataclass
class Playing:
    play_id: str
    slot: Cue
    started: datetime
    last_progress: datetime
    emergency: bool = False
    monitor: StreamMonitor | None = None  # streams: the watchdog listening beside the player
    stream: bool = False
    note: str = ""  # why this play began as it did (a fallback, a retry): kept on its row


@dataclass(frozen=True)
class Ready:
    """The next programme item, made ready before its start: its row already on disk, its source checked."""

    slot: Cue
    row: PlayRow
    source: str


@dataclass
class StreamFault:
    """A relay or live stream that failed in its block: the box falls back and retries it until the block ends."""

    slot: Cue
    since: datetime
    retry_at: datetime
    reason: str
    failures: int = 1

    def as_status(self) -> dict[str, Any]:
        return {"title": self.slot.title, "stream_url": self.slot.stream_url, "kind": self.slot.kind,
                "since": iso(self.since), "retry_at": iso(self.retry_at), "reason": self.reason,
                "failures": self.failures}


class Agent:
    def __init__(self, config: AgentConfig, *, clock: Clock, player: Player,
                 http: requests.Session | None = None, sleep: Callable[[float], None] | None = None,
                 hardware: Hardware = no_hardware, monitors: MonitorFactory | None = None) -> None:
        self.config = config
        self.clock = clock
        self.player = player
        self.hardware = hardware
        self.monitors = monitors  # None: no silence watch (a stream is only seen failing when the player stops)
        self.fault: StreamFault | None = None
        self.paused_live: Cue | None = None  # a live broadcast an emergency cut: it resumes after the emergency
        self._sleep = sleep
        self.store = Store(config.cache_dir / "agent.sqlite3")
        self.cache = AudioCache(config.cache_dir)
        self.disk = DiskGuard(config.cache_dir, self.cache, self._needed_audio, clock, config.reserve_bytes)
        self.store.on_full = self.disk.on_full
        self.client = ServerClient(config.server, config.token, http)
        self.syncer = Syncer(config.station, self.store, self.cache, self.client, config.intervals,
                             on_active_changed=self._reload_slots, mqtt_connected=self._mqtt_connected,
                             on_commands=self._http_commands, disk=self.disk)
        self.inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.wake = threading.Event()  # playback: a command arrived
        self.net_wake = threading.Event()  # network: a notice arrived
        self.mqtt: MqttLink | None = None
        self.current: Playing | None = None
        self.ready: Ready | None = None
        self._after_start: list[Callable[[], None]] = []  # durable writes that guard no sound: after the start
        self.slots: list[Cue] = []
        self.volume = int(self.store.get_value("volume") or config.default_volume)
        self._net_next: datetime | None = None
        self._backoff = timedelta(0)
        self._last_alive: datetime | None = None
        self._down: tuple[datetime, datetime] | None = None
        self._mqtt_next: datetime | None = None
        self.reports = EmergencyReports(self.store, self._publish_event, self.net_wake.set)
        self._reload_slots()
        self.handled = self.store.handled_keys()
        self._recover(clock())
        self.exit_code = 0  # wire.RESTART_EXIT_CODE once a restart was asked for
        self._stop: threading.Event | None = None
        self.care = Care(self.store, config.care, self._request_restart)
        self.care.started(clock())
        self.updater = Updater(config.care.home, self.client, self.care)
        self.updater.report(clock())

    # -- start-up -------------------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.store.get_value("timezone") or DEFAULT_TZ)

    def _local(self, instant: datetime) -> str:
        return instant.astimezone(self.tz).strftime("%H:%M:%S ngày %d/%m/%Y")

    def _reload_slots(self) -> None:
        self.slots = merge_cues(m.body for m in self.store.manifests("active"))

    # -- emergency reports (scheduler.agent.emergency) ------------------------------------------

    def _publish_event(self, payload: bytes) -> bool:
        return self.mqtt is not None and self.mqtt.publish_event(payload)

    def _report(self, slot: Cue, state: wire.EmergencyState, at: datetime, reason: str = "") -> None:
        if slot.emergency is not None:
            self.reports.report(slot.emergency, state, at, airing=slot.airing,
                                scheduled=slot.start if slot.airing is None else None, reason=reason)

    def _note_emergency_items(self, now: datetime) -> None:
        """An emergency play of the programme is near and the box holds it: report it received (only
        when near, so a day of hourly repeats does not hide how the current play went)."""
        for slot in self.slots:
            if slot.start > now + RECEIVED_AHEAD:
                break
            if slot.emergency is not None and slot.end > now and self.reports.first_sight(slot.key, now):
                self._report(slot, "received", now)

    def _already_airing(self, cmd: wire.Command, now: datetime) -> bool:
        """This emergency plays now, or this very play (by airing, or by scheduled instant) already began."""
        playing = self.current
        if playing is not None and cmd.emergency is not None and playing.slot.emergency == cmd.emergency:
            return True
        scheduled = datetime.fromisoformat(cmd.sent_at) if cmd.sent_at else now
        return self._began(cmd.emergency, cmd.airing, cmd.sha256, scheduled)

    def _http_commands(self, commands: list[Any]) -> None:
        """Commands handed over HTTP (the status answer) go through the same inbox as MQTT ones."""
        for data in commands:
            self.inbox.put((f"http/{wire.CMD_TOPIC}", json.dumps(data).encode()))
        self.wake.set()

    def _recover(self, now: datetime) -> None:
        """Close rows left open by a crash or power cut (`partial`) and note how long the box was down."""
        last_alive = parse_iso(self.store.get_value("alive_at"))
        if last_alive is not None and now - last_alive > OUTAGE_MIN:
            self._down = (last_alive, now)
        by_key = {s.key: s for s in self.slots}
        for row in self.store.open_plays():
            start = datetime.fromisoformat(row.actual_start)
            if start > now:
                self.store.withdraw_play(row.play_id)  # made ready ahead (PREPARE_AHEAD); its start never came
                continue
            end = parse_iso(row.progress_at) or start
            played_ms = max(0, int((end - start).total_seconds() * 1000))
            slot = by_key.get(row.item_key)
            replay = slot is not None and may_replay(slot, played_ms, now)
            reason = (f"Bị ngắt sau {played_ms // 1000} giây vì đầu thu khởi động lại (mất điện hoặc lỗi)"
                      + ("; phát lại từ đầu vì vẫn còn trong giờ phát." if replay else "; không phát lại."))
            self.store.finish_play(row.play_id, end, played_ms, "partial", reason,
                                   handled_key=None if replay else row.item_key)
            if not replay:
                self.handled.add(row.item_key)
            log.warning("Mục «%s»: %s", row.title, reason)

    # -- inbound messages -----------------------------------------------------------------------

    def deliver(self, topic: str, payload: bytes) -> None:
        """Called from the MQTT thread (or a test): queue the message and wake the loops."""
        self.inbox.put((topic, payload))
        self.wake.set()
        self.net_wake.set()

    def _process_inbox(self, now: datetime) -> None:
        while True:
            try:
                topic, payload = self.inbox.get_nowait()
            except queue.Empty:
                return
            try:
                if topic.endswith("/" + wire.PROGRAMME_TOPIC):
                    if self.syncer.notice(wire.Notice.from_json(payload)):
                        self.net_wake.set()
                elif topic.endswith("/" + wire.CMD_TOPIC):
                    self.command(wire.Command.from_json(payload), now)
            except ValueError as exc:
                log.error("Bỏ qua tin nhắn MQTT không hợp lệ trên %s: %s", topic, exc)

    def command(self, cmd: wire.Command, now: datetime) -> None:
        """Obey a command from the centre; each command id is obeyed once."""
        key = f"cmd:{cmd.id}"
        if key in self.handled:
            return
        # Marked before acting: a repeated delivery (QoS 1, or after a restart) is not obeyed twice.
        self._handle(key, now)
        if cmd.kind in wire.CARE_KINDS:
            self._care(cmd, now)
        elif cmd.kind == "stop":
            playing = self.current
            # A stop naming an emergency (hold, cancel) only ends that emergency, never the programme.
            def aimed(slot: Cue) -> bool:
                if cmd.live is not None:
                    return slot.live == cmd.live
                return cmd.emergency is None or slot.emergency == cmd.emergency

            if playing is not None and aimed(playing.slot) and cmd.live is not None:
                self.player.stop()  # the speaker ended it: the live play is whole
                self._finish(now, "played", "Người nói đã kết thúc buổi phát trực tiếp.")
            elif playing is not None and aimed(playing.slot):
                self._interrupt(now, "Dừng theo lệnh của trung tâm.", allow_replay=False)
            if self.paused_live is not None and aimed(self.paused_live):
                self.paused_live = None  # ended while an emergency played: nothing to resume
            fault = self.fault
            if fault is not None and aimed(fault.slot):
                self._handle(fault.slot.key, now)  # a failed stream stopped by the centre is not retried
                self.fault = None
                self._announce(now)
        else:
            self._emergency(cmd, key, now)

    def _care(self, cmd: wire.Command, now: datetime) -> None:
        """Remote care (scheduler.agent.care); the result goes out with a status sent at once."""
        if cmd.expired(now):
            self.care.record(cmd, "failed", "Lệnh đến đầu thu quá muộn (đã hết hạn) nên không thực hiện.", now)
        elif cmd.kind == "volume" and cmd.volume is not None:
            self.volume = cmd.volume
            self.store.set_value("volume", str(cmd.volume))
            self.care.record(cmd, "ok", f"Đã đặt âm lượng {cmd.volume}.", now)
        elif cmd.kind == "resync":
            self.syncer.state.force = True
            bad = [sha for sha in self.cache.cached() if not self.cache.verify(sha, force=True)]
            self.care.record(cmd, "ok", "Đã kiểm tra lại lịch phát và âm thanh"
                             + (f"; {len(bad)} tệp hỏng sẽ được tải lại." if bad else "; mọi tệp đều đúng."), now)
        elif cmd.kind == "update":
            if self.updater.update(cmd, now):
                self._request_restart()
        else:
            self.care.handle(cmd, now)
        self.syncer.state.next_status = None
        self._net_next = None
        self.net_wake.set()

    def _request_restart(self) -> None:
        """Stop the loops and exit with wire.RESTART_EXIT_CODE: the launcher or systemd starts the agent again."""
        self.exit_code = wire.RESTART_EXIT_CODE
        if self._stop is not None:
            self._stop.set()
        self.wake.set()
        self.net_wake.set()

    def _emergency(self, cmd: wire.Command, key: str, now: datetime) -> None:
        """A play-now command: an emergency, or a live broadcast (same pre-emption, its own kind and priority)."""
        duration = cmd.duration_ms or (
            int(STREAM_EMERGENCY_DEFAULT.total_seconds() * 1000) if cmd.stream_url else 0)
        live = cmd.live is not None
        slot = Cue(key=key, start=now, end=now + timedelta(milliseconds=duration),
                   kind=wire.LIVE_KIND if live else "emergency", title=cmd.title, bulletin=cmd.bulletin,
                   priority=wire.LIVE_PRIORITY if live else "khan_cap", sha256=cmd.sha256,
                   stream_url=cmd.stream_url, duration_ms=duration, emergency=cmd.emergency, airing=cmd.airing,
                   volume=cmd.volume, live=cmd.live)
        if live and self.current is not None and self.current.emergency and self.current.slot.kind != wire.LIVE_KIND:
            self._log_closed(slot, now, "skipped", "Không phát trực tiếp vì đài đang phát bản tin khẩn cấp.", key)
            return
        if cmd.expired(now):
            self._log_closed(slot, now, "skipped",
                             f"Lệnh phát khẩn cấp gửi lúc {self._local(datetime.fromisoformat(cmd.sent_at))} "
                             "đến quá muộn nên không phát.", key, report="expired")
            return
        if self._already_airing(cmd, now):
            return  # the same play reached the box both ways (MQTT, HTTP, programme)
        self._report(slot, "received", now)
        # Silence what plays first: the pre-emption must not wait for a download.
        if not live:
            self._pause_live(now)
        self._interrupt(now, f"Bị ngắt để phát {'trực tiếp' if live else 'bản tin khẩn cấp'} «{cmd.title}».",
                        allow_replay=True)
        covered = self._programme_slot_for(cmd.sha256, now)
        if covered is not None:
            # The same emergency is in the programme too: this play stands for that item.
            slot = replace(covered, emergency=cmd.emergency or covered.emergency, airing=cmd.airing,
                           volume=cmd.volume)
        source = cmd.stream_url
        if cmd.sha256:
            if self._emergency_audio(cmd.sha256, now, cmd.audio_path):
                source = str(self.cache.path(cmd.sha256))
            elif source is None:
                self._log_closed(slot, now, "failed",
                                 f"Không tải được tệp âm thanh khẩn cấp (sha256 {cmd.sha256[:12]}…) từ máy chủ.",
                                 key)
                return
        assert source is not None
        self._begin(slot, source, now, volume=cmd.volume if cmd.volume is not None else self.volume, emergency=True,
                    scheduled=datetime.fromisoformat(cmd.sent_at) if cmd.sent_at else now)

    def _emergency_audio(self, sha256: str, now: datetime, path: str | None = None) -> bool:
        """An emergency's audio on the box, fetched now by the playback thread if missing (from the
        command's signed `path` when it has one): a warning must not wait for the next network pass."""
        try:
            if not self.cache.verify(sha256, force=True):
                self.syncer.fetch(sha256, now, path)
        except (ServerUnavailable, OSError) as exc:
            log.error("Không tải được tệp khẩn cấp: %s", exc)
        return self.cache.verify(sha256)

    def _programme_slot_for(self, sha256: str | None, now: datetime) -> Cue | None:
        """An unplayed programme emergency item with this audio starting within EMERGENCY_COVER of now."""
        if not sha256:
            return None
        near = [s for s in self.slots if s.sha256 == sha256 and s.kind == "emergency" and s.key not in self.handled
                and abs(s.start - now) <= EMERGENCY_COVER]
        return min(near, key=lambda s: abs(s.start - now)) if near else None

    def _remember_emergency(self, slot: Cue, scheduled: datetime, now: datetime) -> None:
        recent = [r for r in (self.store.get_json(AIRED_KEY) or [])
                  if now - datetime.fromisoformat(r["began"]) <= EMERGENCY_COVER * 2]
        recent.append({"emergency": slot.emergency, "airing": slot.airing, "sha256": slot.sha256,
                       "scheduled": iso(scheduled), "began": iso(now)})
        self.store.set_json(AIRED_KEY, recent)

    def _began(self, emergency: int | None, airing: int | None, sha256: str | None, scheduled: datetime) -> bool:
        """A play of this emergency already began: the same airing, or one scheduled at the same moment
        (programme items carry no airing); without an emergency number, the same audio within the cover."""
        for r in self.store.get_json(AIRED_KEY) or []:
            at = datetime.fromisoformat(r["scheduled"])
            if emergency is not None and r["emergency"] == emergency:
                if (airing is not None and r["airing"] == airing) or abs(at - scheduled) <= SAME_PLAY:
                    return True
            elif emergency is None and sha256 and r["sha256"] == sha256 and abs(at - scheduled) <= EMERGENCY_COVER:
                return True
        return False

    def _aired_by_command(self, slot: Cue) -> bool:
        """A programme emergency item already aired by a play-now command moments before or after."""
        if not slot.sha256 or slot.kind != "emergency":
            return False
        return self._began(slot.emergency, None, slot.sha256, slot.start)

    # -- playback -------------------------------------------------------------------------------

    def _handle(self, key: str, now: datetime) -> None:
        self.store.mark_handled(key, now)
        self.handled.add(key)

    def _row(self, slot: Cue, now: datetime, result: str, reason: str = "") -> PlayRow:
        return PlayRow(
            play_id=uuid.uuid4().hex, item_key=slot.key, kind=slot.kind, actual_start=iso(now) or "",
            result=result, item_id=slot.item_id, week=slot.week, version=slot.version, bulletin=slot.bulletin,
            title=slot.title, language=slot.language, priority=slot.priority, sha256=slot.sha256,
            stream_url=slot.stream_url, scheduled_start=iso(slot.start), scheduled_ms=slot.play_ms,
            progress_at=iso(now), reason=reason,
        )

    def _log_closed(self, slot: Cue, now: datetime, result: str, reason: str, key: str,
                    report: wire.EmergencyState = "failed") -> None:
        self._report(slot, report, now, reason)
        row = self._row(slot, now, result, reason)
        row.actual_end = row.actual_start
        self.store.log_closed(row, handled_key=key)
        self.handled.add(key)
        log.warning("Mục «%s» lúc %s: %s", slot.title, self._local(slot.start), reason)

    def _begin(self, slot: Cue, source: str, now: datetime, volume: int, emergency: bool = False,
               scheduled: datetime | None = None, reason: str = "") -> None:
        ready = self.ready
        if ready is not None and (ready.slot.key, ready.source, "") == (slot.key, source, reason):
            # Its row is already on disk (_prepare): start the sound now, stamp the real start after it.
            self.ready = None
            row = replace(ready.row, actual_start=iso(now) or "", progress_at=iso(now))
            self._after_start.append(lambda: self.store.stamp_start(row.play_id, now))
            self._after_start.append(self.player.cancel)  # a player prepared with another volume
        else:
            row = self._row(slot, now, "playing", reason)
            self.store.start_play(row)  # before the sound: a crash from here on leaves a row to recover
            if ready is not None and ready.slot.key == slot.key:  # started another way (early, as a fallback)
                self.ready = None
                self._after_start.append(lambda: self.store.withdraw_play(ready.row.play_id))
                self._after_start.append(self.player.cancel)
        length = slot.play_ms if slot.kind != "relay" else int((slot.end - now).total_seconds() * 1000)
        self.player.start(source, length, volume)
        stream = slot.stream_url is not None and source == slot.stream_url
        monitor = self.monitors(source) if stream and self.monitors is not None else None
        self.current = Playing(row.play_id, slot, now, now, emergency, monitor, stream, reason)
        if emergency:
            # The same play arriving another way (MQTT, HTTP, programme) is not aired twice.
            self._remember_emergency(slot, scheduled or slot.start, now)
        self._report(slot, "playing", now)
        log.info("Bắt đầu phát: %s «%s»", kind_label(slot.kind).lower(), slot.title)

    def _finish(self, now: datetime, result: str, reason: str = "", defer: bool = False) -> None:
        """Close the playing row. Deferred: written once the next item of this step has started (a crash
        before that leaves the row open, and recovery closes it as it would have been closed anyway)."""
        playing = self.current
        assert playing is not None
        if playing.monitor is not None:
            playing.monitor.stop()
        played_ms = int((now - playing.started).total_seconds() * 1000)
        reason = " ".join(r for r in (playing.note, reason) if r)

        def record() -> None:
            self.store.finish_play(playing.play_id, now, played_ms, result, reason, handled_key=playing.slot.key)
            self._report(playing.slot, "played" if result == "played" else "failed", now, reason)

        if defer:
            self._after_start.append(record)
        else:
            record()
        self.handled.add(playing.slot.key)
        self.current = None

    def _interrupt(self, now: datetime, reason: str, allow_replay: bool) -> None:
        """Stop what plays; log it `partial`, and leave it due again if the replay rule allows."""
        playing = self.current
        if playing is None:
            return
        self.player.stop()
        if playing.monitor is not None:
            playing.monitor.stop()
        played_ms = int((now - playing.started).total_seconds() * 1000)
        self._report(playing.slot, "stopped", now, reason)
        replay = allow_replay and not playing.emergency and may_replay(playing.slot, played_ms, now)
        key = None if replay else playing.slot.key
        self.store.finish_play(playing.play_id, now, played_ms, "partial",
                               reason + (" Sẽ phát lại từ đầu." if replay else ""), handled_key=key)
        if key is not None:
            self.handled.add(key)
        self.current = None

    def _missed_reason(self, slot: Cue) -> str:
        if self._down is not None and self._down[0] <= start_deadline(slot) <= self._down[1]:
            return (f"Không phát được: đầu thu không hoạt động từ {self._local(self._down[0])} "
                    f"đến {self._local(self._down[1])}.")
        return "Quá giờ phát mà chưa phát được (mục trước phát quá giờ hoặc có lệnh khẩn cấp)."

    def _source(self, slot: Cue, now: datetime) -> str | None:
        """The file or stream to play, or None after logging why the item cannot air."""
        if slot.sha256:
            # Hashed moments ago by _prepare: unless its size or mtime changed since, it is not hashed again.
            fresh = self.ready is None or self.ready.slot.key != slot.key
            if self.cache.verify(slot.sha256, force=fresh):
                return str(self.cache.path(slot.sha256))
            if slot.kind == "emergency" and self._emergency_audio(slot.sha256, now):
                return str(self.cache.path(slot.sha256))
            self._log_closed(slot, now, "skipped",
                             f"Thiếu hoặc hỏng tệp âm thanh (sha256 {slot.sha256[:12]}…) đến giờ phát; "
                             "đầu thu sẽ tải lại tệp.", slot.key)
            self.net_wake.set()
            return None
        if slot.stream_url:
            return slot.stream_url
        self._log_closed(slot, now, "skipped", "Mục không có tệp âm thanh hay địa chỉ tiếp sóng.", slot.key)
        return None

    def _keep_alive(self, now: datetime) -> None:
        if self._last_alive is None or now - self._last_alive >= ALIVE_EVERY:
            self._last_alive = now
            with contextlib.suppress(DiskFull):  # only dates an outage; playing matters more
                self.store.set_value("alive_at", iso(now) or "")

    def _needed_audio(self) -> set[str]:
        """Audio an item still to air needs, and what plays now: all a full disk may not evict."""
        manifests = self.store.manifests("active") + self.store.manifests("pending")
        needed = set(manifest_shas(manifests, self.clock()))
        playing = self.current
        if playing is not None and playing.slot.sha256:
            needed.add(playing.slot.sha256)
        return needed

    def _next_is_on_the_clock(self, emergency: bool, slot: Cue, started: datetime, now: datetime) -> bool:
        """True when this programme item's scheduled end has come, its audio has played all but at most
        CATCH_UP of its length (a late start is not passed on to every later item), and the next item
        is due now."""
        if emergency or slot.kind in ("relay", wire.LIVE_KIND) or now < slot.end:
            return False
        if now < started + timedelta(milliseconds=slot.play_ms) - CATCH_UP:
            return False
        # Another item, not this one (a replay is not yet handled while it plays).
        return due(self.slots, now, self.handled | {slot.key}).start is not None

    def _next_item(self, now: datetime) -> Cue | None:
        """The first programme item not yet handled that starts after `now`."""
        return next((slot for slot in self.slots if slot.start > now and slot.key not in self.handled), None)

    def _prepare(self, now: datetime) -> None:
        """Make the next item ready before its start (`prepare_ahead`: audio hashed, row written), and
        withdraw a row made ready for a start that has passed unused (the item did not start on time:
        it gets a fresh row when it does start)."""
        ready = self.ready
        if ready is not None:
            if ready.slot.start > now and ready.slot.key not in self.handled and ready.slot in self.slots:
                return
            self.ready = None
            self.player.cancel()
            self.store.withdraw_play(ready.row.play_id)
        slot = self._next_item(now)
        if slot is None or slot.start - now > prepare_ahead(slot):
            return
        if slot.sha256:
            if not self.cache.verify(slot.sha256, force=True):
                return  # missing or corrupt: at its start the box logs why (and fetches it again)
            source = str(self.cache.path(slot.sha256))
        elif slot.stream_url:
            source = slot.stream_url
        else:
            return
        row = self._row(slot, slot.start, "playing")
        self.store.start_play(row)
        self.ready = Ready(slot, row, source)
        self.player.prepare(source, self._volume(slot))

    def _volume(self, slot: Cue) -> int:
        """A programme emergency plays at its own volume when it has one; everything else at the station's."""
        own = slot.volume if slot.kind == "emergency" else None
        return own if own is not None else self.volume

    def seconds_to_next_event(self, now: datetime) -> float | None:
        """How long until the playback loop has something to do on the clock: the next programme item
        not yet handled is made ready or starts, or the playing item's audio length is over (the next
        may follow it)."""
        nxt = self._next_item(now)
        events = [] if nxt is None else [nxt.start - prepare_ahead(nxt), nxt.start]
        playing = self.current
        if playing is not None:
            audio_end = playing.started + timedelta(milliseconds=playing.slot.play_ms)
            events.append(max(playing.slot.end, audio_end - CATCH_UP))
        ahead = [(at - now).total_seconds() for at in events if at > now]
        return min(ahead) if ahead else None

    def step_playback(self, now: datetime) -> None:
        """Finish what ended, log what was missed, start what is due; then write what guards no sound
        and make the next item ready."""
        try:
            self._step_playback(now)
        finally:
            self._write_after_start()
            self._keep_alive(now)
            self._prepare(now)

    def _write_after_start(self) -> None:
        after, self._after_start = self._after_start, []
        for write in after:
            write()

    def _step_playback(self, now: datetime) -> None:
        self._note_emergency_items(now)
        playing = self.current
        if playing is not None:
            status = self.player.poll()
            slot = playing.slot
            lost = self._stream_failure(playing, status.state, status.error, now)
            if slot.kind == "relay" and now >= slot.end:
                self.player.stop()
                self._finish(now, "played", defer=True)
            elif lost:
                self._stream_lost(now, lost)
            elif status.state == "done":
                self._finish(now, "played", defer=True)
            elif status.state == "failed":
                self._finish(now, "failed", status.error, defer=True)
            elif now >= playing.started + timedelta(milliseconds=slot.play_ms * 1.5) + HUNG_PLAYER_SLACK:
                self.player.stop()
                self._finish(now, "played", "Trình phát không tự dừng; đầu thu đã dừng nó.")
            elif self._next_is_on_the_clock(playing.emergency, slot, playing.started, now):
                # Back to back: the next item starts at its own time, not when this player reports its
                # end (a player's start-up and tail would otherwise make every later item later still).
                self.player.stop()
                self._finish(now, "played", defer=True)
            else:
                urgent = None if playing.emergency and slot.kind != wire.LIVE_KIND else self._due_emergency(now)
                if urgent is None:
                    self._stream_recovered(playing, now)
                    if now - playing.last_progress >= PROGRESS_EVERY:
                        self.store.progress(playing.play_id, now)
                        playing.last_progress = now
                    return
                self._pause_live(now)
                self._interrupt(now, f"Bị ngắt để phát bản tin khẩn cấp «{urgent.title}».", allow_replay=True)
        if self._resume_live(now) or self._waiting_to_retry(now):
            return
        for _ in range(len(self.slots) + 1):
            plan = due(self.slots, now, self.handled)
            for slot in plan.missed:
                if self._aired_by_command(slot):
                    self._handle(slot.key, now)  # this emergency play already aired by its play-now
                    continue
                seen = self.store.get_value(f"first_seen:{slot.week}")
                if seen and slot.start < datetime.fromisoformat(seen):
                    self._handle(slot.key, now)  # aired before this box ever knew of it: nothing to report
                    continue
                self._log_closed(slot, now, "skipped", self._missed_reason(slot), slot.key, report="expired")
            start = self._due_emergency(now) or plan.start
            if start is None:
                return
            if self._aired_by_command(start):
                self._handle(start.key, now)
                continue
            source = self._source(start, now)
            if source is not None:
                self._begin(start, source, now, self._volume(start), emergency=start.kind == "emergency")
                return

    # -- live broadcasts around emergencies ------------------------------------------------------

    def _pause_live(self, now: datetime) -> None:
        """A live broadcast about to be cut by an emergency is remembered, to resume once the warning ends."""
        playing = self.current
        if playing is not None and playing.slot.kind == wire.LIVE_KIND and now < playing.slot.end:
            self.paused_live = playing.slot

    def _resume_live(self, now: datetime) -> bool:
        """Nothing plays, no emergency is due, and the paused live broadcast still lasts: join it again."""
        slot = self.paused_live
        if slot is None or self.current is not None or self._due_emergency(now) is not None:
            return False
        self.paused_live = None
        if now >= slot.end or slot.stream_url is None:
            return False
        self._begin(slot, slot.stream_url, now, slot.volume if slot.volume is not None else self.volume,
                    emergency=True, reason="Tiếp tục phát trực tiếp sau bản tin khẩn cấp.")
        return True

    # -- stream watchdog (scheduler.agent.watchdog; docs/agent.md, "Relay watchdog") ----------------

    def _stream_failure(self, playing: Playing, state: str, error: str, now: datetime) -> str:
        """Why the stream now playing has failed, or "" while it is fine (or is not a stream)."""
        if not playing.stream or now >= playing.slot.end:
            return ""
        if state == "failed":
            return f"Trình phát dừng vì lỗi: {error}"
        if state == "done":
            return "Luồng kết thúc trước giờ"
        if playing.monitor is not None:
            health = playing.monitor.health()
            if health != "listening":
                seconds = int(self.config.watchdog.silence.total_seconds())
                what = playing.monitor.reason()
                return f"{what} {seconds} giây" if health == "silent" else what
        return ""

    def _stream_lost(self, now: datetime, why: str) -> None:
        """Stop the failed stream, log what aired of it, report at once, and hold it for a retry."""
        playing = self.current
        assert playing is not None
        self.player.stop()
        if playing.monitor is not None:
            playing.monitor.stop()
        slot = playing.slot
        retry_at = now + self.config.watchdog.retry
        reason = (f"{why}; đầu thu phát mục dự phòng và thử lại luồng lúc {self._local(retry_at)} "
                  "nếu vẫn còn trong giờ phát.")
        played_ms = int((now - playing.started).total_seconds() * 1000)
        self.store.finish_play(playing.play_id, now, played_ms, "partial" if played_ms >= 1000 else "failed",
                               " ".join(r for r in (playing.note, reason) if r), handled_key=None)
        self._report(slot, "failed", now, reason)
        self.current = None
        previous = self.fault
        if previous is not None and previous.slot.key == slot.key:
            previous.retry_at, previous.reason, previous.failures = retry_at, why, previous.failures + 1
        else:
            self.fault = StreamFault(slot, now, retry_at, why)
        log.warning("Luồng «%s» (%s) hỏng: %s", slot.title, slot.stream_url, reason)
        self._announce(now)

    def _stream_recovered(self, playing: Playing, now: datetime) -> None:
        """A retried stream that has played a whole silence span without fault is healthy again."""
        fault = self.fault
        if (fault is not None and playing.slot.key == fault.slot.key
                and now - playing.started >= self.config.watchdog.silence):
            self.fault = None
            log.info("Luồng «%s» đã phát lại bình thường.", playing.slot.title)
            self._announce(now)

    def _waiting_to_retry(self, now: datetime) -> bool:
        """While a failed stream waits for its retry, play a fallback (the next item); True means wait."""
        fault = self.fault
        if fault is None:
            return False
        if now >= start_deadline(fault.slot) or fault.slot.key in self.handled:
            self._handle(fault.slot.key, now)  # the block is over: nothing left to retry
            self.fault = None
            self._announce(now)
            return False
        if self._due_emergency(now) is not None:
            return False
        if now >= fault.retry_at:
            if any(s.key == fault.slot.key for s in self.slots):
                return False  # the normal pass starts the relay again
            assert fault.slot.stream_url is not None  # a stream sent by command (a live broadcast): restart it
            own = fault.slot.volume
            self._begin(fault.slot, fault.slot.stream_url, now, own if own is not None else self.volume,
                        emergency=True, reason=f"Thử lại luồng lần {fault.failures + 1}.")
            return True
        fallback = self._fallback_item(fault, now)
        if fallback is not None:
            source = self._source(fallback, now)
            if source is not None:
                self._begin(fallback, source, now, self.volume,
                            reason=f"Phát sớm thay cho «{fault.slot.title}» đang mất tín hiệu.")
        return True

    def _fallback_item(self, fault: StreamFault, now: datetime) -> Cue | None:
        """The next unplayed file item due within FALLBACK_AHEAD of the failed block's end."""
        for slot in self.slots:
            if slot.start > fault.slot.end + FALLBACK_AHEAD:
                return None
            if (slot.start > now and slot.key not in self.handled and slot.sha256 and slot.kind not in
                    ("relay", "emergency") and self.cache.verify(slot.sha256)):
                return slot
        return None

    def _announce(self, now: datetime) -> None:
        """Tell the centre now: the retained MQTT status at once, and the HTTP status on the next pass."""
        self.syncer.state.next_status = None
        self.net_wake.set()
        if self.mqtt is not None:
            self.mqtt.publish_status(self.status(now))

    def _due_emergency(self, now: datetime) -> Cue | None:
        """A programme emergency item whose time has come: it pre-empts whatever plays."""
        for slot in self.slots:
            if slot.start > now:
                return None
            if slot.kind == "emergency" and slot.key not in self.handled and now < start_deadline(slot):
                return slot
        return None

    # -- network --------------------------------------------------------------------------------

    def _mqtt_connected(self) -> bool:
        return self.mqtt is not None and self.mqtt.connected.is_set()

    def status(self, now: datetime) -> dict[str, Any]:
        playing = self.current
        manifests: dict[str, dict[str, int]] = {}
        for slot_name in ("active", "pending"):
            for m in self.store.manifests(slot_name):
                manifests.setdefault(m.week, {})[slot_name] = m.version
        return {
            "state": "online",
            "at": iso(now),
            "agent_version": agent_version(),
            "clock_offset_ms": self.syncer.state.clock_offset_ms,
            "disk_free_mb": self.cache.free_bytes() // (1024 * 1024),
            "volume": self.volume,
            **self._hardware(),
            "player": self.player.name,
            "playing": None if playing is None else {
                "title": playing.slot.title, "kind": playing.slot.kind, "bulletin": playing.slot.bulletin,
                "since": iso(playing.started), "emergency": playing.emergency,
            },
            "manifests": manifests,
            "outbox": self.store.outbox_size(),
            "storage": self.disk.status(),
            "plays_set_aside": self.store.set_aside_count(),
            "stream_fault": None if self.fault is None else self.fault.as_status(),
            "mqtt": self._mqtt_connected(),
            "care": self.care.results()[:10],
        }

    def _hardware(self) -> dict[str, Any]:
        """The hardware probe; an amplifier it cannot see is reported as last switched by command."""
        data = self.hardware()
        if data.get("amplifier", "unknown") == "unknown" and self.care.amplifier is not None:
            data = {**data, "amplifier": self.care.amplifier}
        return data

    def ensure_mqtt(self, now: datetime) -> None:
        """Connect to the broker the server names (cached for offline restarts); never raises."""
        if not self.config.mqtt or self.mqtt is not None:
            return
        if self._mqtt_next is not None and now < self._mqtt_next:
            return
        self._mqtt_next = now + MQTT_CONFIG_RETRY
        data = self.store.get_json("mqtt_config")
        try:
            fresh = self.syncer.mqtt_config()
            if fresh is not None:
                data = fresh
                self.store.set_json("mqtt_config", fresh)
        except (ServerUnavailable, ServerRefused) as exc:
            log.info("Chưa lấy được cấu hình MQTT từ máy chủ (%s); dùng bản đã lưu nếu có.", exc)
        if not data:
            return
        try:
            config = MqttConfig.from_api(data, self.config.mqtt_url)
            if config is None:
                return
            self.mqtt = MqttLink(config, self.deliver, on_connected=self._on_mqtt_connected)
            self.mqtt.start()
        except (ValueError, KeyError, OSError) as exc:
            log.error("Cấu hình MQTT không dùng được: %s", exc)
            self.mqtt = None

    def _on_mqtt_connected(self) -> None:
        # A notice may have been missed while disconnected: check the index at once.
        self.syncer.state.last_poll = None
        self.syncer.state.next_status = None
        self.net_wake.set()

    def step_network(self, now: datetime) -> None:
        """One network pass unless backing off; failures only postpone it (5 s doubling to 5 min)."""
        if self._net_next is not None and now < self._net_next and not self.syncer.state.weeks:
            return
        try:
            self.ensure_mqtt(now)
            if self.syncer.cycle(now, self.slots, lambda: self.status(now), self.clock):
                if self.mqtt:
                    self.mqtt.publish_status(self.status(now))
                if self.updater.network_ok(now):
                    self.syncer.state.next_status = None  # the update's result goes out at once
            self.reports.flush(self.client)
            self._backoff = timedelta(0)
            self._net_next = None
        except ServerUnavailable as exc:
            self._backoff = min(max(self._backoff * 2, timedelta(seconds=5)), timedelta(minutes=5))
            self._net_next = now + self._backoff
            log.warning("%s Thử lại sau %d giây.", exc, self._backoff.total_seconds())
        except ServerRefused as exc:
            self._backoff = timedelta(minutes=10) if exc.status in (401, 403) else timedelta(minutes=1)
            self._net_next = now + self._backoff
            log.error("Máy chủ từ chối yêu cầu (%s): %s", exc.status, exc.message)
        except OSError as exc:
            self._backoff = timedelta(minutes=1)
            self._net_next = now + self._backoff
            log.error("Lỗi ghi đĩa trên đầu thu: %s", exc)

    # -- loops ----------------------------------------------------------------------------------

    def tick_playback(self, now: datetime) -> None:
        """Commands, then playback: what the playback thread runs every tick (never touches the network
        except to fetch an emergency's audio)."""
        try:
            self._process_inbox(now)
        finally:
            self._write_after_start()  # a play-now command started at once: its writes follow the sound
        self.step_playback(now)

    def run_once(self, now: datetime) -> None:
        """One deterministic step: commands and playback, the network, then playback again."""
        self.tick_playback(now)
        self.step_network(now)
        self.tick_playback(now)

    def run_forever(self, stop: threading.Event, threaded: bool = True, tick: float = 0.25) -> None:
        """The real loop. Threaded: playback wakes every `tick` s or at once on a command; the network
        runs beside it. Not threaded: run_once then the injected sleep (simulation)."""
        self._stop = stop
        if not threaded:
            sleep = self._sleep or (lambda s: stop.wait(s) and None)
            while not stop.is_set():
                self.run_once(self.clock())
                sleep(tick)
            self.shutdown()
            return
        network = threading.Thread(target=self._network_loop, args=(stop,), name="loaxa-agent-net", daemon=True)
        network.start()
        try:
            while not stop.is_set():
                try:
                    self.tick_playback(self.clock())
                except Exception:  # a crash here restarts the box into the same fault: log and carry on
                    log.exception("Lỗi không lường trước ở phần phát; tiếp tục.")
                # Wake at the next item's start itself, not up to a tick after it.
                nxt = self.seconds_to_next_event(self.clock())
                self.wake.wait(tick if nxt is None else max(0.0, min(tick, nxt)))
                self.wake.clear()
        finally:
            stop.set()
            self.net_wake.set()
            network.join(timeout=30)
            self.shutdown()

    def _network_loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.step_network(self.clock())
            except Exception:  # the network side must never take playback down with it
                log.exception("Lỗi không lường trước ở phần đồng bộ; tiếp tục.")
            self.net_wake.wait(1.0)
            self.net_wake.clear()

    def shutdown(self) -> None:
        """Stop cleanly: close the current row (it follows the replay rule), say offline, close files."""
        now = self.clock()
        self._interrupt(now, "Đầu thu được tắt theo yêu cầu.", allow_replay=True)
        self.player.cancel()
        if self.mqtt is not None:
            self.mqtt.stop({"state": "offline", "at": iso(now)})
            self.mqtt = None
        self.store.close()
