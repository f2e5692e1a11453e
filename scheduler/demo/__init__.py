"""The demo province: Gia Lai communes, stations and CCHC bulletins written from the seed documents.

Seeding is idempotent: running it again updates the same rows (and moves the trial station's
window to start just after `now`, so a newcomer hears something within a minute).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import accounts
from scheduler.db.models import Commune, Province, User
from scheduler.imports import import_bulletins, import_stations

DATA = Path(__file__).parent
TRIAL_STATION = "DEMO-01"
TRIAL_COMMUNE = "Xã Ia Grai"
PROVINCE = "Gia Lai"


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    password: str
    commune: str | None = None


DEMO_USERS = (
    DemoUser("quantri", "admin", "quantri-demo"),
    DemoUser("bientap", "editor", "bientap-demo"),
    DemoUser("duyet", "approver", "duyet-demo"),
    DemoUser("vanhanh", "operator", "vanhanh-demo", TRIAL_COMMUNE),
    DemoUser("baocao", "viewer", "baocao-demo"),
)


def trial_window(now: datetime, tz: ZoneInfo) -> str:
    """A daily 40-minute session starting two minutes from now (local time)."""
    start = (now.astimezone(tz) + timedelta(minutes=2)).replace(second=0, microsecond=0)
    end = start + timedelta(minutes=40)
    return f"T2-CN {start:%H:%M}-{end:%H:%M}"


def stations_csv(now: datetime, tz: ZoneInfo) -> str:
    text = (DATA / "stations.csv").read_text(encoding="utf-8")
    trial = (
        f"{TRIAL_STATION},Cụm loa thử nghiệm (trình diễn),{TRIAL_COMMUNE},Khu vực Ia Grai,{PROVINCE},vi;jra,"
        f"{trial_window(now, tz)},13.9900,107.8100,2\n"
    )
    return text.rstrip("\n") + "\n" + trial


def bulletins_csv(now: datetime, tz: ZoneInfo) -> str:
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    return (
        (DATA / "bulletins.csv")
        .read_text(encoding="utf-8")
        .replace("{valid_from}", monday.isoformat())
        .replace("{valid_to}", (monday + timedelta(weeks=8, days=-1)).isoformat())
    )


def seed(session: Session, now: datetime, tz: ZoneInfo, media_dir: Path) -> None:
    """Create or refresh the demo province, its users and approved bulletins."""
    import_stations(session, stations_csv(now, tz))
    province = session.scalar(select(Province).where(Province.name == PROVINCE))
    assert province is not None
    # The trial commune has no quiet hours so the demo plays at any time of day.
    trial_commune = session.scalar(select(Commune).where(Commune.name == "Xã Ia Grai"))
    assert trial_commune is not None
    trial_commune.policy = {"quiet_before": "", "quiet_after": ""}
    for demo_user in DEMO_USERS:
        if session.scalar(select(User).where(User.username == demo_user.username)) is None:
            accounts.create_user(session, demo_user.username, demo_user.role, demo_user.password, now,
                                 demo_user.commune)
    approver = session.scalar(select(User).where(User.username == "duyet"))
    import_bulletins(session, bulletins_csv(now, tz), DATA, media_dir, now, approver)
