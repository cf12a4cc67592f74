"""The sandbox's clock: forward only, every jump announced, the lead kept across restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.sandbox.travel import TimeTravelRefused, TravelClock

REAL = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)


def clock(lead_file: Path | None = None) -> TravelClock:
    return TravelClock(lead_file, system_now=lambda: REAL)


def test_it_reads_real_time_until_moved_and_then_real_time_plus_the_lead() -> None:
    travel = clock()
    assert travel.now() == REAL
    assert travel.advance(timedelta(hours=1)) == REAL + timedelta(hours=1)
    assert travel.lead == timedelta(hours=1)


@pytest.mark.parametrize("step", [timedelta(0), timedelta(seconds=-1), timedelta(hours=-3)])
def test_a_step_backwards_or_of_nothing_is_refused_and_moves_nothing(step: timedelta) -> None:
    travel = clock()
    with pytest.raises(TimeTravelRefused, match="only goes forward"):
        travel.advance(step)
    assert travel.now() == REAL


def test_travel_to_an_instant_not_ahead_is_refused_naming_both_times() -> None:
    travel = clock()
    with pytest.raises(TimeTravelRefused, match="2026-12-02 16:00:00 UTC is not after"):
        travel.travel_to(REAL - timedelta(hours=1))
    with pytest.raises(TimeTravelRefused, match="with its offset"):
        travel.travel_to(datetime(2026, 12, 3, 14, 5))


def test_every_jump_wakes_the_listeners() -> None:
    travel = clock()
    woken: list[datetime] = []
    travel.subscribe(lambda: woken.append(travel.now()))
    travel.travel_to(REAL + timedelta(days=2))
    assert woken == [REAL + timedelta(days=2)]


def test_the_lead_is_kept_in_its_file_and_a_damaged_file_means_real_time(tmp_path: Path) -> None:
    lead_file = tmp_path / "clock.json"
    clock(lead_file).advance(timedelta(hours=5))
    assert clock(lead_file).now() == REAL + timedelta(hours=5)
    lead_file.write_text("not json")
    assert clock(lead_file).now() == REAL
