"""The escalation core, pure: when each level is paged, and what an acknowledgement changes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.core.escalation import (
    EXPIRY_CHAIN,
    ICE_CHAIN,
    Chain,
    ChainLevel,
    plan_after_ack,
    plan_escalation,
    plan_expiry_chain,
    plan_pages,
)
from bot.core.model import NoticeKind
from tests.conftest import ARRESTED, DEADLINE, custody

MIN = timedelta(minutes=1)
CUSTODY = custody(ARRESTED, facility_id="jail")
SGT = ChainLevel(("U0SGT",), timedelta(0))
LT = ChainLevel(("U0LT",), 15 * MIN)
ICE_4H = ChainLevel(("U0ICE",), timedelta(0), before=timedelta(hours=4))
ICE_1H = ChainLevel(("U0ICE2",), 5 * MIN, before=timedelta(hours=1))


@pytest.mark.parametrize(
    ("levels", "repeat", "expected"),
    [
        pytest.param((SGT,), 0, [(1, 1, 0)], id="one level"),
        pytest.param((SGT, LT), 0, [(1, 1, 0), (2, 1, 15)], id="two levels"),
        pytest.param(
            (SGT, LT), 1, [(1, 1, 0), (2, 1, 15), (1, 2, 15), (2, 2, 30)], id="repeated once"
        ),
        pytest.param((LT,), 2, [(1, 1, 15), (1, 2, 30), (1, 3, 45)], id="one level, 3 rounds"),
        pytest.param((), 3, [], id="no levels"),
    ],
)
def test_expiry_chain_timing(
    levels: tuple[ChainLevel, ...], repeat: int, expected: list[tuple[int, int, int]]
) -> None:
    steps = plan_expiry_chain(CUSTODY, Chain(levels, repeat=repeat), DEADLINE)
    assert [(s.level, s.round, (s.due_at - DEADLINE) // MIN) for s in steps] == expected
    assert {s.kind for s in steps} <= {NoticeKind.PAGE_STEP}
    assert {s.channel for s in steps} <= {EXPIRY_CHAIN}


@pytest.mark.parametrize(
    ("now", "expected_ice_minutes_before"),
    [
        pytest.param(ARRESTED, [240, 55], id="logged at arrest: both ICE levels"),
        # A late entry: the 4h level's time has passed, so it is paged at once (2h before).
        pytest.param(DEADLINE - timedelta(hours=2), [120, 55], id="4h level already past: now"),
        pytest.param(DEADLINE + MIN, [], id="after the deadline: none"),
    ],
)
def test_ice_chain_pages_before_the_deadline(
    now: datetime, expected_ice_minutes_before: list[int]
) -> None:
    chain = Chain((SGT,), ice_levels=(ICE_4H, ICE_1H))
    steps = plan_escalation(CUSTODY, chain, now)
    ice = [s for s in steps if s.channel == ICE_CHAIN]
    assert [(DEADLINE - s.due_at) // MIN for s in ice] == expected_ice_minutes_before
    on_time = [s for s in ice if s.detail.get("late") != "true"]
    assert all(s.lead_seconds == int((DEADLINE - s.due_at).total_seconds()) for s in on_time)
    assert all(s.due_at == now for s in ice if s not in on_time)
    expiry = [s for s in steps if s.channel == EXPIRY_CHAIN]
    assert [s.due_at for s in expiry] == [max(DEADLINE, now)]


def test_ack_after_the_deadline_replans_the_chain_from_reack_after() -> None:
    chain = Chain((SGT, LT), repeat=1, reack_after=30 * MIN)
    pending = plan_expiry_chain(CUSTODY, chain, DEADLINE)[1:]
    acked_at = DEADLINE + 5 * MIN
    plan = plan_after_ack(CUSTODY, chain, pending, acked_at, last_level=1)
    assert plan.cancel == tuple(pending)
    assert plan.resumes_at == acked_at + 30 * MIN
    assert [(s.level, s.round, s.due_at) for s in plan.add] == [
        (1, 1, plan.resumes_at),
        (2, 1, plan.resumes_at + 15 * MIN),
        (1, 2, plan.resumes_at + 15 * MIN),
        (2, 2, plan.resumes_at + 30 * MIN),
    ]


def test_ack_before_the_deadline_keeps_the_expiry_chain_and_repages_the_ice_level() -> None:
    chain = Chain((SGT,), ice_levels=(ICE_4H, ICE_1H), reack_after=30 * MIN)
    steps = plan_escalation(CUSTODY, chain, ARRESTED)
    acked_at = DEADLINE - timedelta(hours=4) + MIN
    pending = [s for s in steps if s.due_at > acked_at]
    plan = plan_after_ack(CUSTODY, chain, pending, acked_at, last_level=1)
    assert plan.cancel == ()  # the 1h ICE level is due after the re-page time
    [repage] = plan.add
    assert (repage.channel, repage.level, repage.due_at) == (ICE_CHAIN, 1, acked_at + 30 * MIN)


def test_pages_go_to_each_person_once_or_to_the_jail_channel_when_nobody_resolves() -> None:
    [step] = plan_expiry_chain(CUSTODY, Chain((SGT,)), DEADLINE)
    pages = plan_pages(step, ["U1", "U2", "U1", ""], fallback_channel="C0JAIL")
    assert [p.channel for p in pages] == ["U1", "U2"]
    assert all(p.kind is NoticeKind.ESCALATION and p.level == 1 for p in pages)
    [fallback] = plan_pages(step, [], fallback_channel="C0JAIL")
    assert fallback.channel == "C0JAIL"
