"""bot.core.oncall_schedule: the one spelling of a ``notify`` entry that pages a schedule."""

from __future__ import annotations

import pytest

from bot.core.oncall_schedule import oncall_entry, schedule_id_of


@pytest.mark.parametrize(
    ("entry", "schedule_id"),
    [
        pytest.param("oncall:night", "night", id="a-schedule"),
        pytest.param("oncall:watch-commanders", "watch-commanders", id="with-a-dash"),
        pytest.param("U0SGT", None, id="a-person"),
        pytest.param("S0WATCH", None, id="a-user-group"),
        pytest.param("night", None, id="no-prefix"),
        pytest.param("ONCALL:night", None, id="the-prefix-is-lower-case"),
    ],
)
def test_schedule_id_of(entry: str, schedule_id: str | None) -> None:
    assert schedule_id_of(entry) == schedule_id
    if schedule_id is not None:
        assert oncall_entry(schedule_id) == entry
