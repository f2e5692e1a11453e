"""The board's state rules, without a database: forward only per play, a retry replaces a failure, a later
play starts the row again, and what is shown once a play has expired with no answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.db.models import Emergency, EmergencyStation
from scheduler.emergencies.tracking import airing_of, apply_report, current_airing, shown_state
from scheduler.wire import EmergencyReport

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def emergency() -> Emergency:
    return Emergency(id=7, state="dang_chay", expires_minutes=15,
                     airings=[T0.isoformat(), (T0 + timedelta(hours=1)).isoformat()])


def row() -> EmergencyStation:
    return EmergencyStation(station_code="GL-01", state="cho_gui", airing=0, via="", plays=0, reason="",
                            sent_at=None, received_at=None, started_at=None, ended_at=None)


def report(state: str, minutes: float, **kw: object) -> EmergencyReport:
    return EmergencyReport(id=f"{state}{minutes}", emergency=7, state=state,  # type: ignore[arg-type]
                           at=(T0 + timedelta(minutes=minutes)).isoformat(), **kw)  # type: ignore[arg-type]


def test_states_move_forward_only_and_keep_their_instants() -> None:
    e, r = emergency(), row()
    assert apply_report(r, e, report("playing", 1, airing=0), T0)
    assert (r.state, r.sent_at, r.received_at, r.started_at) == ("dang_phat", T0 + timedelta(minutes=1),
                                                                 T0 + timedelta(minutes=1), T0 + timedelta(minutes=1))
    assert not apply_report(r, e, report("received", 2, airing=0), T0)  # late news changes nothing
    assert apply_report(r, e, report("played", 3, airing=0), T0)
    assert (r.state, r.plays, r.ended_at) == ("da_phat", 1, T0 + timedelta(minutes=3))
    assert not apply_report(r, e, report("played", 3, airing=0), T0)  # a duplicate counts once
    assert r.plays == 1


def test_a_retry_replaces_a_failure_and_a_later_play_starts_the_row_again() -> None:
    e, r = emergency(), row()
    apply_report(r, e, report("failed", 1, airing=0, reason="Không tải được tệp"), T0)
    assert (r.state, r.reason) == ("loi", "Không tải được tệp")
    apply_report(r, e, report("playing", 2, airing=0), T0)
    assert (r.state, r.reason, r.ended_at) == ("dang_phat", "", None)
    # The repeat an hour later, named by its scheduled instant (a programme item carries no airing).
    apply_report(r, e, report("received", 59, scheduled=(T0 + timedelta(hours=1, seconds=2)).isoformat()), T0)
    assert (r.airing, r.state) == (1, "da_nhan")
    assert not apply_report(r, e, report("played", 61, airing=0), T0)  # news of an older play


def test_unreachable_is_shown_once_the_play_expired_without_an_answer() -> None:
    e, r = emergency(), row()
    r.state = "da_gui"
    assert shown_state(r, e, T0 + timedelta(minutes=14)) == "da_gui"
    assert shown_state(r, e, T0 + timedelta(minutes=15)) == "khong_toi"
    r.state = "da_nhan"
    assert shown_state(r, e, T0 + timedelta(minutes=30)) == "da_nhan"  # it answered: no guess


def test_the_current_play_is_the_latest_due_until_it_expires() -> None:
    e = emergency()
    assert current_airing(e, T0 - timedelta(seconds=1)) is None
    assert current_airing(e, T0 + timedelta(minutes=14)) == 0
    assert current_airing(e, T0 + timedelta(minutes=20)) is None
    assert current_airing(e, T0 + timedelta(hours=1, minutes=5)) == 1
    assert airing_of(e, T0 + timedelta(minutes=58)) == 1
