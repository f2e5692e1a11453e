"""A province with an area, three communes and four stations; a real SMTP server and webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from alert_receivers import SmtpServer, WebhookReceiver
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.session import transaction
from scheduler.imports import import_stations
from scheduler.settings import Settings

STATIONS = """code,name,commune,area,province,languages,windows,lat,lon,speakers
IAGRAI-01,Cụm loa thôn Plei Ơi,Ia Grai,Tây Gia Lai,Gia Lai,vi,T2-CN 05:30-06:00,,,4
IAGRAI-02,Cụm loa làng Bàu,Ia Grai,Tây Gia Lai,Gia Lai,vi,T2-CN 05:30-06:00,,,3
IADER-01,Cụm loa Ia Dêr,Ia Dêr,Tây Gia Lai,Gia Lai,vi,T2-CN 05:30-06:00,,,2
CHUPAH-01,Cụm loa trung tâm,Chư Păh,,Gia Lai,vi,T2-CN 05:30-06:00,,,2
"""


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail(smtp_server: SmtpServer) -> Iterator[SmtpServer]:
    smtp_server.inbox.messages.clear()
    smtp_server.inbox.rcpt.clear()
    yield smtp_server


@pytest.fixture
def webhooks() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def province(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with transaction(sessions) as session:
        import_stations(session, STATIONS)
    return sessions


@pytest.fixture
def alert_settings(settings: Settings, mail: SmtpServer) -> Settings:
    return replace(settings, smtp_url=mail.url, alert_from="loaxa <canhbao@tinh.gov.vn>",
                   public_url="https://loaxa.tinh.gov.vn")
