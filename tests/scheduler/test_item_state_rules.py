"""scheduler.item_states.decide, rule by rule: each of an item's states on the operator's day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.item_states import NO_LOG_REASON, Airtime, ItemFacts, ItemState, PlayFacts, Verdict, decide

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # 17:00 local
ITEM = ItemFacts(1, "IADER-01", T0, T0 + timedelta(minutes=2), "bulletin", "BT-1")


def verdict(*plays: PlayFacts, now: datetime = T0 + timedelta(hours=1), emergencies: tuple[Airtime, ...] = (),
            declined: frozenset[tuple[str, str]] = frozenset(), item: ItemFacts = ITEM) -> Verdict:
    return decide([item], plays, emergencies, declined, now)[item.id]


def play(result: str, source: str = "agent", reason: str = "", item_id: int | None = 1,
         start: datetime | None = None, ms: int = 0) -> PlayFacts:
    return PlayFacts("IADER-01", item_id, start, result, source, reason, ms)


def test_clock_alone_moves_an_item_from_upcoming_to_on_air_to_missed_without_a_log() -> None:
    assert verdict(now=T0 - timedelta(seconds=1)).state == ItemState.UPCOMING
    assert verdict(now=T0).state == ItemState.ON_AIR
    assert verdict(now=T0 + timedelta(minutes=1, seconds=59)).state == ItemState.ON_AIR
    late = verdict(now=T0 + timedelta(minutes=2))
    assert (late.state, late.reason) == (ItemState.MISSED, NO_LOG_REASON)


def test_aired_says_whether_the_agent_logged_it_or_an_operator_confirmed_it() -> None:
    assert verdict(play("played", ms=120_000)).label == "Đã phát (tự động)"
    assert verdict(play("played", source="manual")).label == "Đã phát (xác nhận tay)"
    # both: the agent's own log is the stronger proof
    assert not verdict(play("played", source="manual"), play("played", ms=1)).manual


def test_an_operators_missed_report_beats_a_partial_row_but_not_a_full_play() -> None:
    manual = play("skipped", source="manual", reason="Mất điện")
    assert verdict(manual, play("partial", ms=30_000)) == Verdict(ItemState.MISSED, manual=True, reason="Mất điện")
    assert verdict(manual, play("played")).state == ItemState.AIRED


def test_partial_keeps_the_longest_part_and_its_reason() -> None:
    found = verdict(play("partial", ms=10_000, reason="a"), play("partial", ms=50_000, reason="Dừng theo lệnh"))
    assert (found.state, found.played_ms, found.reason) == (ItemState.PARTIAL, 50_000, "Dừng theo lệnh")


def test_an_agent_skip_under_an_emergency_is_replaced_otherwise_missed() -> None:
    storm = Airtime("IADER-01", T0 - timedelta(minutes=5), T0 + timedelta(minutes=10))
    elsewhere = Airtime("CHUPUH-01", T0 - timedelta(minutes=5), T0 + timedelta(minutes=10))
    skipped = play("skipped", reason="Nhường lệnh khẩn cấp")
    assert verdict(skipped, emergencies=(storm,)).state == ItemState.REPLACED
    assert verdict(skipped, emergencies=(elsewhere,)) == Verdict(ItemState.MISSED, reason="Nhường lệnh khẩn cấp")
    # no row at all, but the emergency held the loudspeakers once the item began
    assert verdict(emergencies=(storm,)).state == ItemState.REPLACED
    assert verdict(emergencies=(storm,), now=T0 - timedelta(minutes=1)).state == ItemState.UPCOMING
    touching = Airtime("IADER-01", ITEM.end, ITEM.end + timedelta(minutes=5))  # cut exactly at its end
    assert verdict(emergencies=(touching,)).state == ItemState.REPLACED


def test_a_declined_bulletin_shows_as_declined_unless_something_played() -> None:
    declined = frozenset({("IADER-01", "BT-1")})
    assert verdict(declined=declined).state == ItemState.DECLINED
    assert verdict(play("played"), declined=declined).state == ItemState.AIRED


def test_a_play_of_a_rebuilt_programme_answers_by_its_scheduled_start() -> None:
    old_id = play("played", item_id=999, start=T0)
    assert verdict(old_id).state == ItemState.AIRED
    assert verdict(play("played", item_id=999, start=T0 + timedelta(minutes=1))).state == ItemState.MISSED


def test_the_emergency_item_itself_is_not_replaced_by_its_own_airtime() -> None:
    alarm = ItemFacts(2, "IADER-01", T0, T0 + timedelta(minutes=5), "emergency")
    own = Airtime("IADER-01", T0, T0 + timedelta(minutes=5))
    assert verdict(item=alarm, emergencies=(own,), now=T0 + timedelta(minutes=1)).state == ItemState.ON_AIR
