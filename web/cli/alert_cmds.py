"""`loaxa alert`: the alert rules, who hears of alerts, the alerts open now, and a check or summary on demand."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler.alerts.channels import WEBHOOK_FORMATS, deliver, parse_smtp_url
from scheduler.alerts.config import (
    AlertConfigInvalid,
    RecipientInput,
    add_recipient,
    recipient_scope,
    remove_recipient,
    set_rule,
)
from scheduler.alerts.engine import check_alerts, load_rules, send_summaries
from scheduler.alerts.messages import trial_message
from scheduler.alerts.rules import KINDS, RULE_KINDS
from scheduler.db.models import Alert, AlertRecipient
from scheduler.db.session import transaction
from web.app import system_clock
from web.cli.context import load_env


@click.group(help="Cảnh báo tới người phụ trách qua thư điện tử và webhook (Zalo OA, Telegram, JSON). "
                  "Xem docs/operations.md.")
def alert() -> None:
    pass


@alert.command("rules", help="Các quy tắc cảnh báo, bật/tắt và ngưỡng.")
def rules_list() -> None:
    env = load_env()
    with env.sessions() as session:
        rules = load_rules(session)
    for kind in KINDS:
        spec, rule = RULE_KINDS[kind], rules[kind]
        threshold = f"ngưỡng {rule.threshold} {spec.unit}" if spec.unit else "không có ngưỡng"
        click.echo(f"{kind:<10} {'bật' if rule.enabled else 'tắt':<4} {spec.label} ({threshold})")


@alert.command("rule", help=f"Bật/tắt một quy tắc và đặt ngưỡng. KIND: {', '.join(KINDS)}.")
@click.argument("kind")
@click.option("--threshold", type=int, default=None, help="Ngưỡng mới (phút, MB, giây, số lần… tùy quy tắc).")
@click.option("--on/--off", "enabled", default=True, help="Bật (mặc định) hoặc tắt quy tắc.")
def rule_set(kind: str, threshold: int | None, enabled: bool) -> None:
    env = load_env()
    try:
        with transaction(env.sessions) as session:
            rule = set_rule(session, kind, enabled, threshold, None, system_clock())
    except AlertConfigInvalid as exc:
        raise click.ClickException(str(exc)) from None
    spec = RULE_KINDS[kind]
    click.echo(f"Quy tắc «{spec.label}»: {'bật' if rule.enabled else 'tắt'}"
               + (f", ngưỡng {rule.threshold} {spec.unit}." if spec.unit else "."))


@alert.group("recipient", help="Người nhận cảnh báo: theo xã, khu vực hoặc toàn tỉnh.")
def recipient() -> None:
    pass


@recipient.command("add", help="Thêm người nhận (cần --email hoặc --webhook).")
@click.argument("name")
@click.option("--email", default="", help="Địa chỉ thư điện tử.")
@click.option("--webhook", default="", help="Địa chỉ webhook (http/https).")
@click.option("--format", "webhook_format", default="json", show_default=True, type=click.Choice(list(WEBHOOK_FORMATS)),
              help="Kiểu webhook: json (chung), telegram (Bot API sendMessage), zalo (Zalo OA).")
@click.option("--chat-id", default="", help="Telegram: chat_id; Zalo OA: user_id của người theo dõi.")
@click.option("--secret-file", type=click.File("r", encoding="utf-8"), default=None,
              help="Tệp chứa access token của Zalo OA (không ghi trên dòng lệnh).")
@click.option("--commune", default="", help="Chỉ nhận cảnh báo của đài thuộc xã này.")
@click.option("--area", default="", help="Chỉ nhận cảnh báo của đài thuộc khu vực này.")
@click.option("--rules", "kinds", default="",
              help=f"Chỉ các quy tắc này, cách nhau bằng dấu phẩy ({', '.join(KINDS)}).")
@click.option("--summary/--no-summary", default=True, help="Nhận bản tóm tắt hằng ngày (mặc định có).")
def recipient_add(name: str, email: str, webhook: str, webhook_format: str, chat_id: str,
                  secret_file: click.utils.LazyFile | None, commune: str, area: str, kinds: str, summary: bool) -> None:
    env = load_env()
    data = RecipientInput(name=name, email=email, webhook_url=webhook, webhook_format=webhook_format, chat_id=chat_id,
                          secret=secret_file.read().strip() if secret_file else "", area=area, commune=commune,
                          kinds=[k.strip() for k in kinds.split(",") if k.strip()], daily_summary=summary)
    try:
        with transaction(env.sessions) as session:
            saved = add_recipient(session, data, None, system_clock())
            scope = recipient_scope(saved)
    except AlertConfigInvalid as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã thêm người nhận «{name}» ({scope}).")


@recipient.command("list", help="Danh sách người nhận.")
def recipient_list() -> None:
    env = load_env()
    with env.sessions() as session:
        rows = list(session.scalars(select(AlertRecipient).options(
            selectinload(AlertRecipient.area), selectinload(AlertRecipient.commune)).order_by(AlertRecipient.name)))
        if not rows:
            click.echo("Chưa có người nhận nào. Thêm bằng: loaxa alert recipient add TÊN --email …")
        for r in rows:
            channels = ", ".join(c for c in (r.email or "", f"{r.webhook_format}: {r.webhook_url}" if r.webhook_url
                                              else "") if c)
            kinds = ", ".join(r.kinds) if r.kinds else "mọi quy tắc"
            click.echo(f"{r.name}  [{recipient_scope(r)}]  {channels}  ({kinds}"
                       f"{', có tóm tắt hằng ngày' if r.daily_summary else ''})")


@recipient.command("remove", help="Xóa người nhận.")
@click.argument("name")
def recipient_remove(name: str) -> None:
    env = load_env()
    try:
        with transaction(env.sessions) as session:
            remove_recipient(session, name, None, system_clock())
    except AlertConfigInvalid as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã xóa người nhận «{name}».")


@recipient.command("test", help="Gửi thử một tin tới người nhận.")
@click.argument("name")
def recipient_test(name: str) -> None:
    env = load_env()
    with env.sessions() as session:
        row = session.scalar(select(AlertRecipient).where(AlertRecipient.name == name))
        if row is None:
            raise click.ClickException(f"Không có người nhận «{name}».")
        try:
            smtp = parse_smtp_url(env.settings.smtp_url, env.settings.alert_from) if env.settings.smtp_url else None
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        error = deliver(row, trial_message(name), smtp)
    if error:
        raise click.ClickException(error)
    click.echo(f"Đã gửi tin thử tới «{name}».")


@alert.command("list", help="Các cảnh báo đang mở.")
def alert_list() -> None:
    env = load_env()
    with env.sessions() as session:
        rows = list(session.scalars(select(Alert).where(Alert.closed_at.is_(None)).order_by(Alert.opened_at)))
    if not rows:
        click.echo("Không có cảnh báo nào đang mở.")
    for a in rows:
        since = a.opened_at.astimezone(env.settings.tz).strftime("%H:%M %d/%m/%Y")
        click.echo(f"{since}  {a.station_code:<12} {RULE_KINDS[a.kind].label}: {a.detail}")


@alert.command("check", help="Xét các quy tắc ngay và gửi cảnh báo (việc của loaxa scheduler mỗi phút).")
def alert_check() -> None:
    env = load_env()
    try:
        outcome = check_alerts(env.sessions, env.settings, system_clock())
    except ValueError as exc:  # a bad LOAXA_SMTP_URL
        raise click.ClickException(str(exc)) from None
    click.echo(f"Cảnh báo mới: {len(outcome.opened)}; đã trở lại bình thường: {len(outcome.recovered)}; "
               f"tin đã gửi: {outcome.sent}; gửi lỗi: {len(outcome.failed)}.")
    for failed in outcome.failed:
        click.echo(f"  gửi lỗi: {failed}", err=True)


@alert.command("summary", help="Gửi ngay bản tóm tắt hôm nay cho ai chưa nhận.")
def alert_summary() -> None:
    env = load_env()
    try:
        results = send_summaries(env.sessions, env.settings, system_clock())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if not results:
        click.echo("Không có ai cần gửi (đã gửi hôm nay, hoặc chưa ai nhận tóm tắt).")
    for name, error in results.items():
        click.echo(f"{name}: {'đã gửi' if error is None else error}")
