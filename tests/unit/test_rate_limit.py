"""The per-channel limiter (pure) and congestion through the real endpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.app import WsoService
from bot.core.model import Notice, NoticeKind
from bot.core.rate_limit import ChannelRateLimiter, SlidingWindowLimiter, send_priority
from bot.services.clock import FakeClock
from tests.conftest import ICE, JAIL
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.slack import FakeSlack
from tests.fakes.waiting import settle

T0 = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)


def seconds(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        pytest.param([0, 0, 0, 0, 0], [True, True, True, True, False], id="burst of 4 then wait"),
        pytest.param([0, 0, 0, 0, 1.0], [True, True, True, True, True], id="a token a second"),
        pytest.param([0, 0, 0, 0, 0.5, 1.0], [True] * 4 + [False, True], id="half a token"),
        pytest.param([0, 100, 100, 100, 100, 100], [True] * 5 + [False], id="refill caps at 4"),
    ],
)
def test_token_bucket(attempts: list[float], expected: list[bool]) -> None:
    limiter = ChannelRateLimiter(rate_per_second=1.0, burst=4)
    assert [limiter.try_acquire("C1", seconds(at)) for at in attempts] == expected


def test_channels_are_independent_and_free_at_says_when() -> None:
    limiter = ChannelRateLimiter(rate_per_second=1.0, burst=1)
    assert limiter.try_acquire("C1", T0)
    assert not limiter.try_acquire("C1", T0)
    assert limiter.try_acquire("C2", T0)
    assert limiter.free_at("C1", seconds(0.25)) == seconds(1.0)
    assert limiter.free_at("C3", T0) == T0


def test_urgent_notices_go_before_routine_reminders() -> None:
    def notice(kind: NoticeKind, due: float, seq: int) -> Notice:
        return Notice(f"n{seq}", f"c{seq}", kind, JAIL, seconds(due), seq=seq)

    reminder = notice(NoticeKind.REMINDER, 0, 1)
    expired = notice(NoticeKind.EXPIRED, 5, 2)
    page = notice(NoticeKind.ESCALATION, 3, 3)
    older_reminder = notice(NoticeKind.REMINDER, -5, 4)
    ordered = sorted([reminder, expired, page, older_reminder], key=send_priority)
    assert [n.kind for n in ordered] == [
        NoticeKind.ESCALATION,
        NoticeKind.EXPIRED,
        NoticeKind.REMINDER,
        NoticeKind.REMINDER,
    ]
    assert ordered[2] is older_reminder


async def test_a_burst_of_arrests_is_paced_per_channel_and_nothing_is_lost(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock, service: WsoService
) -> None:
    for number in range(7):
        await slack.command(f"arrest B-{number}")
    await fake_slack.wait_for_posts(4, channel=JAIL)
    await settle(service)
    assert len(fake_slack.posts(JAIL)) == 4, "more than the burst went out at once"
    assert fake_slack.calls_to("chat.postMessage")[-1].status == 200

    for expected in (5, 6, 7):
        clock.advance(timedelta(seconds=1))
        await fake_slack.wait_for_posts(expected, channel=JAIL)
        await fake_slack.wait_for_posts(expected, channel=ICE)
    bookings = sorted(post["text"].split("*")[3] for post in fake_slack.posts(JAIL))
    assert bookings == [f"B-{n}" for n in range(7)]


def test_congested_names_spent_channels_and_forgets_refilled_ones() -> None:
    limiter = ChannelRateLimiter(rate_per_second=1.0, burst=2)
    for channel in ("C1", "C1", "C2"):
        assert limiter.try_acquire(channel, T0)
    assert limiter.congested(T0) == {"C1": seconds(1.0)}
    assert limiter.congested(seconds(0.5)) == {"C1": seconds(1.0)}
    assert limiter.congested(seconds(1.0)) == {}
    # Both buckets are full again after 2 s and are dropped; a new one starts full.
    assert limiter.congested(seconds(2.0)) == {}
    assert limiter.try_acquire("C1", seconds(2.0))
    assert limiter.try_acquire("C1", seconds(2.0))
    assert not limiter.try_acquire("C1", seconds(2.0))


def test_sliding_window_allows_30_schedules_per_5_minutes_per_channel() -> None:
    limiter = SlidingWindowLimiter(limit=3, window=timedelta(minutes=5))
    assert [limiter.try_acquire("backup:C1", seconds(n)) for n in (0, 10, 20, 30)] == [
        True,
        True,
        True,
        False,
    ]
    assert limiter.try_acquire("backup:C2", seconds(30)), "channels are independent"
    # The first of the three leaves the window at 300 s.
    assert limiter.free_at("backup:C1", seconds(30)) == seconds(300)
    assert limiter.congested(seconds(30)) == {"backup:C1": seconds(300)}
    assert not limiter.try_acquire("backup:C1", seconds(299.9))
    assert limiter.try_acquire("backup:C1", seconds(300))
    assert not limiter.try_acquire("backup:C1", seconds(300))
    assert limiter.congested(seconds(1000)) == {}
