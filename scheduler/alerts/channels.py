"""Delivering a message: e-mail over SMTP (stdlib smtplib) and webhooks (a generic JSON POST, and the
Telegram Bot API and Zalo OA formats on top of it). Each send returns None or a Vietnamese error."""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from typing import Any
from urllib.parse import unquote, urlsplit

import requests

from scheduler.alerts.messages import Message
from scheduler.db.models import AlertRecipient

log = logging.getLogger("loaxa.alerts")

WEBHOOK_FORMATS: dict[str, str] = {
    "json": "JSON chung (POST)",
    "telegram": "Telegram (Bot API sendMessage)",
    "zalo": "Zalo OA (tin tư vấn)",
}
ZALO_TEXT_MAX = 2000
TELEGRAM_TEXT_MAX = 4096
TIMEOUT = 10.0


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    security: str  # plain | starttls | ssl
    sender: str


def parse_smtp_url(url: str, sender: str) -> SmtpConfig:
    """`smtp://user:pass@host:25`, `smtp+starttls://…:587` or `smtps://…:465`; ValueError (Vietnamese)."""
    parts = urlsplit(url.strip())
    security = {"smtp": "plain", "smtp+starttls": "starttls", "smtps": "ssl"}.get(parts.scheme)
    if security is None or not parts.hostname:
        raise ValueError(f"Địa chỉ máy chủ thư «{url}» không hợp lệ. Dùng smtp://máy-chủ:25, "
                         "smtp+starttls://tài-khoản:mật-khẩu@máy-chủ:587 hoặc smtps://…:465.")
    try:
        port = parts.port or {"plain": 25, "starttls": 587, "ssl": 465}[security]
    except ValueError:
        raise ValueError(f"Cổng trong địa chỉ máy chủ thư «{url}» không hợp lệ.") from None
    return SmtpConfig(parts.hostname, port, unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None, security, sender)


def send_email(config: SmtpConfig | None, to: str, message: Message) -> str | None:
    if config is None:
        return "Chưa cấu hình máy chủ thư (LOAXA_SMTP_URL)."
    # compat32 MIMEText with a Header: the default policy's folding drops a space between encoded
    # words of a long Vietnamese subject («liên lạc— đài»).
    mail = MIMEText(message.text, "plain", "utf-8")
    name, address = parseaddr(config.sender)
    mail["From"] = formataddr((str(Header(name, "utf-8")), address)) if name else address
    mail["To"] = to
    mail["Subject"] = Header(message.subject, "utf-8")  # type: ignore[assignment]  # compat32 takes a Header
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain="loaxa")
    try:
        smtp: smtplib.SMTP
        if config.security == "ssl":
            smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=TIMEOUT, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=TIMEOUT)
        with smtp:
            if config.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if config.username:
                smtp.login(config.username, config.password or "")
            smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        return f"Không gửi được thư tới {to} qua {config.host}:{config.port}: {exc}"
    return None


def webhook_request(recipient: AlertRecipient, message: Message) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON body and headers for the recipient's webhook format."""
    headers = {"User-Agent": "loaxa-alerts"}
    if recipient.webhook_format == "telegram":
        text = f"{message.subject}\n\n{message.text}"[:TELEGRAM_TEXT_MAX]
        return {"chat_id": recipient.chat_id, "text": text, "disable_web_page_preview": True}, headers
    if recipient.webhook_format == "zalo":
        if recipient.secret:
            headers["access_token"] = recipient.secret
        text = f"{message.subject}\n\n{message.text}"[:ZALO_TEXT_MAX]
        return {"recipient": {"user_id": recipient.chat_id}, "message": {"text": text}}, headers
    return dict(message.data), headers


def send_webhook(recipient: AlertRecipient, message: Message, http: requests.Session | None = None) -> str | None:
    url = recipient.webhook_url or ""
    body, headers = webhook_request(recipient, message)
    try:
        response = (http or requests).post(url, json=body, headers=headers, timeout=TIMEOUT)
    except requests.RequestException as exc:
        return f"Không gọi được webhook {url}: {exc}"
    if response.status_code >= 300:
        return f"Webhook {url} trả lỗi HTTP {response.status_code}: {response.text[:200]}"
    if recipient.webhook_format in ("telegram", "zalo"):
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if recipient.webhook_format == "telegram" and isinstance(answer, dict) and answer.get("ok") is False:
            return f"Telegram từ chối tin: {answer.get('description', '')}"
        if recipient.webhook_format == "zalo" and isinstance(answer, dict) and answer.get("error") not in (0, None):
            return f"Zalo OA từ chối tin (mã {answer.get('error')}): {answer.get('message', '')}"
    return None


def deliver(recipient: AlertRecipient, message: Message, smtp: SmtpConfig | None,
            http: requests.Session | None = None) -> str | None:
    """Send on every channel the recipient has; None if all went, else the errors joined."""
    errors = []
    if recipient.email:
        errors.append(send_email(smtp, recipient.email, message))
    if recipient.webhook_url:
        errors.append(send_webhook(recipient, message, http))
    problems = [e for e in errors if e]
    for problem in problems:
        log.warning("%s", problem)
    return "; ".join(problems) or None
