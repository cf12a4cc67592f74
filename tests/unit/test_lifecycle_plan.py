"""The lifecycle's rules: which corrections are refused, and what a correction, a dispute
and a note plan."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.core.facility import Config, EscalationLevel, Reminders
from bot.core.lifecycle_plan import (
    CorrectionRefusal,
    correction_refusal,
    plan_corrected_custody,
    plan_disputed_custody,
    plan_note,
)
from bot.core.model import NoticeKind
from bot.core.policy import CountingPolicy, recount
from bot.core.targets import EXPIRY_CHAIN
from tests.conftest import ICE, JAIL, START, county_jail, custody

NOW = START + timedelta(hours=1)
OPEN = custody(START)
FACILITY = county_jail(escalation=(EscalationLevel(("U0SGT",), timedelta(0)),))
CONFIG = Config(Reminders((timedelta(hours=24), timedelta(hours=1))), (FACILITY,))


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        pytest.param(START - timedelta(hours=3), None, id="earlier"),
        pytest.param(NOW, None, id="now"),
        pytest.param(NOW + timedelta(seconds=1), CorrectionRefusal.IN_THE_FUTURE, id="future"),
        pytest.param(NOW - timedelta(days=30), None, id="thirty-days"),
        pytest.param(
            NOW - timedelta(days=30, seconds=1), CorrectionRefusal.TOO_OLD, id="over-30-days"
        ),
        pytest.param(START, CorrectionRefusal.UNCHANGED, id="unchanged"),
    ],
)
def test_which_corrections_are_refused(new: datetime, expected: CorrectionRefusal | None) -> None:
    corrected = recount(OPEN, FACILITY.policy, FACILITY.zone, new)
    assert correction_refusal(OPEN, corrected, NOW) is expected


def test_the_same_arrest_time_counted_under_another_rule_is_a_correction() -> None:
    """``/wso correct B policy`` after the facility's policy changed: the time stays."""
    old = custody(NOW - timedelta(days=40))  # long open: the 30-day limit is for typed times
    other = recount(old, CountingPolicy(hours=36), FACILITY.zone)
    assert (other.arrested_at, other.counting_hours) == (old.arrested_at, 36)
    assert correction_refusal(old, other, NOW) is None
    same = recount(old, FACILITY.policy, FACILITY.zone)
    assert correction_refusal(old, same, NOW) is CorrectionRefusal.UNCHANGED


def test_a_correction_plans_again_from_the_new_deadline_and_says_so_first() -> None:
    earlier = START - timedelta(hours=47, minutes=30)  # deadline 30 min from START, passed at NOW
    moved = custody(earlier)

    plan = plan_corrected_custody(OPEN, moved, "U0AAA", FACILITY, CONFIG, NOW)

    told = [n for n in plan if n.kind is NoticeKind.CORRECTED]
    assert [n.channel for n in told] == [JAIL, ICE]
    assert told[0].detail["from_deadline"] == OPEN.deadline.isoformat()
    assert NoticeKind.LOGGED not in {n.kind for n in plan}
    assert NoticeKind.REMINDER not in {n.kind for n in plan}  # all already past
    expired = [n for n in plan if n.kind is NoticeKind.EXPIRED]
    assert {n.due_at for n in expired} == {NOW}  # already due: due now
    steps = [n for n in plan if n.kind is NoticeKind.PAGE_STEP]
    assert [(s.channel, s.level, s.due_at) for s in steps] == [(EXPIRY_CHAIN, 1, NOW)]


def test_a_dispute_pages_level_one_now_where_there_is_one() -> None:
    plan = plan_disputed_custody(OPEN, "U0AAA", "says he is a citizen", FACILITY, CONFIG, NOW)
    assert [(n.kind, n.channel) for n in plan] == [
        (NoticeKind.DISPUTED, JAIL),
        (NoticeKind.DISPUTED, ICE),
        (NoticeKind.PAGE_STEP, EXPIRY_CHAIN),
    ]
    assert (plan[2].level, plan[2].round, plan[2].due_at) == (1, 1, NOW)
    assert plan[2].detail == {"cause": "disputed"}
    unpaged = plan_disputed_custody(OPEN, "U0AAA", "x", county_jail(), CONFIG, NOW)
    assert NoticeKind.PAGE_STEP not in {n.kind for n in unpaged}


def test_a_note_goes_to_both_channels_with_its_author() -> None:
    plan = plan_note(OPEN, "U0AAA", "pickup at 16:00", FACILITY, CONFIG, NOW)
    assert [(n.kind, n.channel, n.detail) for n in plan] == [
        (NoticeKind.NOTE, channel, {"by": "U0AAA", "text": "pickup at 16:00"})
        for channel in (JAIL, ICE)
    ]
