"""Senders per target: one slow or congested channel holds up no other notice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.app import WsoService
from bot.clock import FakeClock
from bot.model import Notice, NoticeKind
from tests.conftest import JAIL
from tests.fake_slack import FakeSlack, RecordedCall
from tests.slack_requests import SignedSlackClient
from tests.slack_requests import wso_payload as payload

SERGEANT = "U0SGT"  # level 1 of the test config's escalation chain, "after 0s"
OTHER_CHANNEL = "C0OTHER"


def first_post_of(fake_slack: FakeSlack, kind: str, channel: str | None = None) -> RecordedCall:
    for call in fake_slack.calls_to("chat.postMessage"):
        in_channel = channel is None or call.payload["channel"] == channel
        if call.ok and in_channel and payload(call.payload)["kind"] == kind:
            return call
    raise AssertionError(f"no {kind} post{'' if channel is None else ' to ' + channel}")


async def test_a_page_goes_out_while_the_expiry_notices_are_still_in_flight(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    await slack.command("arrest B-1")
    await fake_slack.wait_for_posts(2)
    fake_slack.latency = 0.5  # every Slack call now takes half a second
    clock.advance(timedelta(hours=48))
    await fake_slack.wait_for_posts(1, channel=SERGEANT)
    expired = first_post_of(fake_slack, "expired")
    page = first_post_of(fake_slack, "escalation", SERGEANT)
    # The page was planned from the expiry's chain step; it must not wait for the
    # expiry posts' Slack round trip (0.5 s) before its own request starts.
    assert page.at - expired.at < 0.25


async def test_a_backlogged_channel_does_not_hold_up_another_channels_notice(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock, service: WsoService
) -> None:
    await slack.command("arrest B-1")
    await fake_slack.wait_for_posts(2)  # one of the jail channel's burst of 4 is used
    [custody] = await service.store.find_custodies("B-1")
    now = clock.now()
    # More backlog in one channel than the dispatcher reads in one batch, all older
    # than the other channel's notice.
    backlog = [
        Notice(f"n_backlog_{i}", custody.id, NoticeKind.LOGGED, JAIL, now - timedelta(minutes=10))
        for i in range(600)
    ]
    other = Notice("n_other", custody.id, NoticeKind.LOGGED, OTHER_CHANNEL, now)
    await service.store.add_notices([*backlog, other])
    service.dispatcher.wake()

    await fake_slack.wait_for_posts(1, channel=OTHER_CHANNEL, timeout=3)
    await asyncio.sleep(0.2)
    assert len(fake_slack.posts(JAIL)) == 4, "the jail channel went past its burst"
    clock.advance(timedelta(seconds=1))
    await fake_slack.wait_for_posts(5, channel=JAIL)  # and it drains a token a second
