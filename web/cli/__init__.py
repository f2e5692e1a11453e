"""The `loaxa` command. Subcommands live in sibling modules and load on first use.

Loading lazily keeps `loaxa agent` free of Flask and SQLAlchemy on a station's receiver box.
"""

from __future__ import annotations

import importlib
import sys

import click

from web.cli import click_vi

click_vi.install()  # before the decorators below: version_option reads its help text when applied

# name -> "module:attribute"; each module owns one area's commands.
COMMANDS: dict[str, str] = {
    "init": "web.cli.setup_cmds:init",
    "demo": "web.cli.demo_cmd:demo",
    "serve": "web.cli.service_cmds:serve",
    "scheduler": "web.cli.service_cmds:scheduler",
    "agent": "web.cli.agent_cmd:agent",
    "normalize": "web.cli.audio_cmds:normalize",
    "speak": "web.cli.audio_cmds:speak",
    "render": "web.cli.audio_cmds:render",
    "user": "web.cli.setup_cmds:user",
    "station": "web.cli.setup_cmds:station",
    "import": "web.cli.import_cmds:import_group",
    "programme": "web.cli.programme_cmds:programme",
    "emergency": "web.cli.programme_cmds:emergency",
    "cap": "web.cli.cap_cmds:cap_group",
    "source": "web.cli.cap_cmds:source",
    "apikey": "web.cli.apikey_cmds:apikey",
    "commune": "web.cli.commune_cmds:commune",
    "report": "web.cli.report_cmds:report",
    "playlist": "web.cli.playlist_cmds:playlist",
    "mqtt": "web.cli.delivery_cmds:mqtt",
    "backup": "web.cli.ops_cmds:backup",
    "restore": "web.cli.ops_cmds:restore",
    "alert": "web.cli.alert_cmds:alert",
    "care": "web.cli.care_cmds:care",
    "agent-package": "web.cli.care_cmds:agent_package",
}


# One line each for `loaxa --help`, so listing commands imports none of them.
SUMMARIES: dict[str, str] = {
    "init": "Tạo hoặc nâng cấp cơ sở dữ liệu.",
    "demo": "Chạy bản trình diễn với dữ liệu mẫu.",
    "serve": "Chạy trang quản trị và API cho đài.",
    "scheduler": "Chạy bộ lập lịch nền.",
    "agent": "Chạy phần mềm phát tại đài (cụm loa).",
    "normalize": "In cách đọc thành lời của văn bản.",
    "speak": "Đọc tệp văn bản thành MP3.",
    "render": "Đọc ngay mọi bản tin đang chờ.",
    "user": "Quản lý tài khoản.",
    "station": "Quản lý đài và mã truy cập.",
    "import": "Nhập đài, bản tin từ tệp.",
    "programme": "Lập, giải thích, xuất lịch phát.",
    "emergency": "Phát khẩn cấp.",
    "cap": "Cảnh báo CAP 1.2 vào và ra.",
    "source": "Nguồn cấp trên và khóa API.",
    "apikey": "Khóa API đọc dữ liệu (API mở).",
    "commune": "Xã: chính sách nhận tin của tuyến trên.",
    "report": "Báo cáo thời lượng phát sóng.",
    "playlist": "Danh sách phát trong ngày: xem, xác nhận đã phát.",
    "mqtt": "Cấu hình MQTT cho các đài.",
    "backup": "Sao lưu dữ liệu và âm thanh.",
    "restore": "Khôi phục từ bản sao lưu.",
    "alert": "Cảnh báo tới người phụ trách (thư, Zalo, Telegram).",
    "care": "Chăm sóc đài từ xa: khởi động lại, ampli, âm lượng, cập nhật.",
    "agent-package": "Phát hành gói phần mềm đầu thu để cập nhật từ xa.",
}


class LazyGroup(click.Group):
    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SUMMARIES.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Lệnh"):
            formatter.write_dl(rows)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # The base install (`pip install loaxa`, a receiver box) has only the agent's libraries.
            raise click.ClickException(
                f"Lệnh «loaxa {cmd_name}» cần bản cài cho máy chủ (thiếu thư viện {exc.name}): "
                "chạy «pip install 'loaxa[server]'» rồi thử lại."
            ) from None
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return click_vi.localise(command)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if "sqlalchemy" not in sys.modules:  # no database touched: not a schema problem
                raise
            from web.cli.context import schema_hint

            hint = schema_hint(exc)
            if hint is None:
                raise
            raise click.ClickException(hint) from None


@click.group(cls=LazyGroup, help="loaxa — lập lịch phát thanh cho hệ thống thông tin cơ sở (loa xã).")
@click.version_option(package_name="loaxa")
def main() -> None:
    pass


click_vi.localise(main)
