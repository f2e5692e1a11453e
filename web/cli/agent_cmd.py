"""`loaxa agent`: the station agent on a receiver box (base dependencies only: no Flask, no SQLAlchemy)."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

import click

from scheduler.agent.players import PLAYER_NAMES
from web.cli import logs


def _system_clock() -> datetime:
    return datetime.now(UTC)


@click.command(help="Chạy phần mềm đầu thu của đài: tải lịch phát và âm thanh về máy, phát đúng giờ kể cả khi "
                    "mất mạng, ghi và gửi nhật ký phát. Xem docs/agent.md.")
@click.option("--server", required=True, envvar="LOAXA_AGENT_SERVER", help="Địa chỉ máy chủ loaxa, ví dụ https://loaxa.tinh.gov.vn.")
@click.option("--station", required=True, envvar="LOAXA_AGENT_STATION", help="Mã đài (kiểm tra khớp với mã truy cập).")
@click.option("--token", required=True, envvar="LOAXA_AGENT_TOKEN",
              help="Mã truy cập của đài (loaxa station token MÃ_ĐÀI).")
@click.option("--cache", "cache_dir", required=True, envvar="LOAXA_AGENT_CACHE",
              type=click.Path(file_okay=False, path_type=Path), help="Thư mục lưu lịch, âm thanh và nhật ký phát.")
@click.option("--player", default="mpv", show_default=True, type=click.Choice(PLAYER_NAMES),
              help="Trình phát; null chỉ mô phỏng (không ra tiếng).")
@click.option("--player-cmd", default=None, help="Lệnh phát cho --player custom, có {source} và {volume}.")
@click.option("--mqtt", "mqtt_url", default=None, envvar="LOAXA_AGENT_MQTT",
              help="Địa chỉ máy chủ MQTT thay cho địa chỉ máy chủ loaxa báo về.")
@click.option("--no-mqtt", is_flag=True, help="Không dùng MQTT; chỉ hỏi máy chủ định kỳ qua HTTP.")
@click.option("--poll", default=120, show_default=True, type=click.IntRange(5, 86400),
              help="Số giây giữa hai lần hỏi lịch mới khi không có MQTT.")
@click.option("--upload-every", default=30, show_default=True, type=click.IntRange(1, 86400),
              help="Số giây giữa hai lần gửi nhật ký phát.")
@click.option("--status-every", default=60, show_default=True, type=click.IntRange(5, 86400),
              help="Số giây giữa hai lần báo trạng thái.")
@click.option("--volume", default=80, show_default=True, type=click.IntRange(0, 100), help="Âm lượng ban đầu.")
@click.option("--hardware-cmd", default=None,
              help="Lệnh in JSON trạng thái phần cứng, ví dụ {\"amplifier\": \"on\", \"power\": \"mains\"}.")
@click.option("--stream-silence", default=20, show_default=True, type=click.IntRange(2, 600),
              help="Số giây luồng tiếp sóng/trực tiếp im lặng hoặc mất dữ liệu thì coi là hỏng và phát mục dự phòng.")
@click.option("--stream-retry", default=30, show_default=True, type=click.IntRange(5, 3600),
              help="Số giây chờ trước khi thử lại luồng hỏng (trong khi khối tiếp sóng còn giờ).")
@click.option("--ffmpeg", default=None, envvar="LOAXA_AGENT_FFMPEG",
              help="Đường dẫn ffmpeg dùng để theo dõi luồng (mặc định: ffmpeg trong PATH).")
@click.option("--disk-reserve", default=8, show_default=True, type=click.IntRange(0, 4096),
              help="Số MB để dành trên đĩa cho nhật ký phát khi bộ nhớ đầy (đầu thu tự giải phóng khi cần).")
@click.option("--reboot-cmd", default=None, envvar="LOAXA_AGENT_REBOOT_CMD",
              help="Lệnh khởi động lại đầu thu khi trung tâm yêu cầu, ví dụ \"sudo /sbin/reboot\".")
@click.option("--amplifier-cmd", default=None, envvar="LOAXA_AGENT_AMPLIFIER_CMD",
              help="Lệnh bật/tắt ampli, có {state} (on hoặc off), ví dụ \"/usr/local/bin/ampli {state}\".")
@click.option("--home", "home", default=None, envvar="LOAXA_AGENT_HOME",
              type=click.Path(file_okay=False, path_type=Path),
              help="Thư mục các phiên bản phần mềm (cập nhật từ xa); --supervise đặt sẵn.")
@click.option("--supervise", is_flag=True,
              help="Chạy trình khởi chạy: chạy lại phần mềm khi dừng, cài phiên bản mới và tự quay lại phiên bản "
                   "cũ nếu phiên bản mới không báo hoạt động tốt. Cần --home.")
@click.option("--health-timeout", default=60, show_default=True, type=click.IntRange(1, 3600),
              help="Số giây phiên bản mới phải báo hoạt động tốt, quá thì tự quay lại phiên bản cũ.")
@click.option("-v", "--verbose", is_flag=True, help="Ghi nhật ký chi tiết.")
def agent(server: str, station: str, token: str, cache_dir: Path, player: str, player_cmd: str | None,
          mqtt_url: str | None, no_mqtt: bool, poll: int, upload_every: int, status_every: int, volume: int,
          hardware_cmd: str | None, stream_silence: int, stream_retry: int, ffmpeg: str | None,
          reboot_cmd: str | None, amplifier_cmd: str | None, home: Path | None, supervise: bool, health_timeout: int,
          disk_reserve: int, verbose: bool) -> None:
    from scheduler.agent.agent import Agent, AgentConfig
    from scheduler.agent.care import CareConfig
    from scheduler.agent.players import make_player
    from scheduler.agent.status import command_hardware, no_hardware
    from scheduler.agent.sync import SyncIntervals
    from scheduler.agent.watchdog import WatchdogSettings, monitor_factory

    logs.setup(f"đầu thu {station}", verbose)
    if supervise:
        _supervise(home, health_timeout)
        return
    try:
        backend = make_player(player, _system_clock, player_cmd)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    config = AgentConfig(
        server=server, station=station, token=token, cache_dir=cache_dir, mqtt=not no_mqtt, mqtt_url=mqtt_url,
        default_volume=volume,
        intervals=SyncIntervals(poll=timedelta(seconds=poll), upload=timedelta(seconds=upload_every),
                                status=timedelta(seconds=status_every)),
        watchdog=WatchdogSettings(silence=timedelta(seconds=stream_silence), retry=timedelta(seconds=stream_retry)),
        care=CareConfig(reboot_cmd=reboot_cmd, amplifier_cmd=amplifier_cmd, home=home),
        reserve_bytes=disk_reserve * 1024 * 1024,
    )
    hardware = command_hardware(hardware_cmd) if hardware_cmd else no_hardware
    station_agent = Agent(config, clock=_system_clock, player=backend, hardware=hardware,
                          monitors=monitor_factory(config.watchdog, ffmpeg))
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("loaxa.agent").info("Nhận tín hiệu %s: đang dừng.", signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _stop)
    click.echo(f"Đầu thu đài {station} đang chạy (máy chủ {server}, trình phát {player}). Ctrl+C để dừng.", err=True)
    station_agent.run_forever(stop)
    if station_agent.exit_code:
        click.echo("Phần mềm đầu thu dừng để khởi động lại theo lệnh của trung tâm.", err=True)
        raise SystemExit(station_agent.exit_code)


LAUNCHER_ONLY = ("supervise", "health_timeout", "home")


def _child_args(ctx: click.Context) -> list[str]:
    """The options this command was given, minus the launcher's own, for the agent it runs."""
    args: list[str] = []
    for param in ctx.command.params:
        name = param.name
        if not isinstance(param, click.Option) or name is None or name in LAUNCHER_ONLY:
            continue
        source = ctx.get_parameter_source(name)
        if source != click.core.ParameterSource.COMMANDLINE:  # the child inherits the environment itself
            continue
        value = ctx.params[name]
        flag = max(param.opts, key=len)
        if param.is_flag:
            if value:
                args.append(flag)
        else:
            args += [flag, str(value)]
    return args


def _supervise(home: Path | None, health_timeout: int) -> None:
    from scheduler.agent.launcher import Launcher

    if home is None:
        raise click.ClickException("--supervise cần --home THƯ_MỤC (nơi giữ các phiên bản phần mềm đầu thu).")
    launcher = Launcher(home=home.resolve(), agent_args=_child_args(click.get_current_context()),
                        health_timeout=float(health_timeout))
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _stop)
    click.echo(f"Trình khởi chạy đầu thu đang chạy (thư mục {home}).", err=True)
    raise SystemExit(launcher.run(stop))
