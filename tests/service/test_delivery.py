"""Delivery under failure: Slack 429/5xx/refusals, restarts and crashes mid-send.

Each test counts what the fake Slack really received: every notice exactly
once, in order, none lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import WsoService
from bot.chat.notices import SlackMessage
from bot.clients.slack_gateway import SlackGateway, make_web_client
from bot.config import Config
from bot.core.model import NoticeKind, NoticeState
from bot.services.clock import FakeClock, SystemClock
from tests.conftest import BOT_TOKEN, ICE, JAIL, SIGNING_SECRET, START, make_settings
from tests.fakes.notices import notice_counts
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.signed_requests import wso_payload as payload
from tests.fakes.slack import FakeSlack
from tests.fakes.waiting import settle

DEADLINE = START + timedelta(hours=48)
ServiceFactory = Callable[..., Any]


async def arrest_and_try_both_channels(
    slack: SignedSlackClient, fake_slack: FakeSlack, booking: str
) -> None:
    """Log an arrest and wait until its logged notice was tried in both channels."""
    await slack.command(f"arrest {booking}")
    await fake_slack.wait_for(lambda: len(fake_slack.calls_to("chat.postMessage")) >= 2)


async def test_429_is_honoured_through_retry_after_and_posts_once(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock, service: WsoService
) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=7)
    await arrest_and_try_both_channels(slack, fake_slack, "B-1")
    await settle(service)
    assert len(fake_slack.posts()) == 1  # one channel got through, the other was rate-limited

    clock.advance(timedelta(seconds=6))
    await settle(service)
    assert len(fake_slack.posts()) == 1, "retried before Retry-After"
    clock.advance(timedelta(seconds=1))
    await fake_slack.wait_for_posts(2)
    assert set(notice_counts(fake_slack).values()) == {1}
    assert {post["channel"] for post in fake_slack.posts()} == {JAIL, ICE}


async def test_5xx_is_retried_with_backoff_after_checking_history(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock, service: WsoService
) -> None:
    fake_slack.fail_next("chat.postMessage", status=503, times=2)
    await arrest_and_try_both_channels(slack, fake_slack, "B-2")

    for _ in range(4):  # back-off of 1 s, then 2 s
        clock.advance(timedelta(seconds=1))
        await settle(service)
    await fake_slack.wait_for_posts(2)
    assert set(notice_counts(fake_slack).values()) == {1}
    # Slack may have posted despite the 5xx, so the bot looked before posting again.
    assert fake_slack.calls_to("conversations.history")


async def test_a_5xx_that_did_post_is_found_in_history_and_not_posted_again(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock, service: WsoService
) -> None:
    fake_slack.fail_channel(JAIL, "internal_error")
    fake_slack.fail_next("chat.postMessage", status=503)
    await arrest_and_try_both_channels(slack, fake_slack, "B-3")
    fake_slack.clear_faults()
    [custody] = await service.store.find_custodies("B-3")
    jail_logged = next(
        n
        for n in await service.store.notices_for(custody.id)
        if n.channel == JAIL and n.kind is NoticeKind.LOGGED
    )
    assert jail_logged.may_have_posted or jail_logged.state is NoticeState.SENT
    if jail_logged.state is not NoticeState.SENT:
        # Pretend the 5xx'd call had in fact reached the channel.
        fake_slack.inject_message(
            JAIL,
            text="posted",
            metadata={
                "event_type": "wso_custody",
                "event_payload": {"notice_id": jail_logged.id},
            },
        )
    clock.advance(timedelta(seconds=5))
    await fake_slack.wait_for(lambda: len(fake_slack.posts(ICE)) == 1)
    await settle(service)
    assert [payload(p)["notice_id"] for p in fake_slack.messages(JAIL)].count(jail_logged.id) == 1
    refreshed = {n.id: n for n in await service.store.notices_for(custody.id)}
    assert refreshed[jail_logged.id].state is NoticeState.SENT


async def test_channel_refusal_is_retried_until_fixed_and_never_dropped(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock, service: WsoService
) -> None:
    fake_slack.fail_channel(ICE, "not_in_channel")
    await slack.command("arrest B-4")
    await fake_slack.wait_for_posts(1, channel=JAIL)
    clock.advance(timedelta(minutes=20))
    await settle(service)
    assert fake_slack.posts(ICE) == []
    health = await service.health()
    assert health["last_slack_error"] == "not_in_channel"

    fake_slack.clear_faults()
    clock.advance(timedelta(minutes=5))
    await fake_slack.wait_for_posts(1, channel=ICE)
    assert set(notice_counts(fake_slack).values()) == {1}


async def test_dead_slack_for_minutes_loses_nothing(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock, service: WsoService
) -> None:
    fake_slack.set_down(True)
    reply = await slack.command("arrest B-5")
    assert reply.status == 200, "a dead Slack Web API must not block the command"
    for _ in range(12):  # two minutes of fake time
        clock.advance(timedelta(seconds=10))
        await settle(service)
    assert fake_slack.posts() == []

    fake_slack.set_down(False)
    clock.advance(timedelta(seconds=61))
    await fake_slack.wait_for_posts(2)
    await settle(service)
    assert set(notice_counts(fake_slack).values()) == {1}


async def logged_then_stopped(
    start_service: Callable[[], Any], fake_slack: FakeSlack, booking: str
) -> WsoService:
    """A service that logged one arrest, told both channels, and stopped."""
    service, slack = await start_service()
    await slack.command(f"arrest {booking}")
    await fake_slack.wait_for_posts(2)
    await service.stop()
    return service


async def test_restart_sends_only_the_latest_overdue_reminder_marked_late(
    start_service: Callable[[], Any], fake_slack: FakeSlack, clock: FakeClock
) -> None:
    await logged_then_stopped(start_service, fake_slack, "B-6")

    clock.set(DEADLINE - timedelta(hours=11))  # the 24h and 12h reminders were missed
    second, _ = await start_service()
    await fake_slack.wait_for_posts(4)
    await settle(second)
    for channel in (JAIL, ICE):
        [logged, late] = fake_slack.posts(channel)
        assert payload(logged)["kind"] == "logged"
        assert payload(late)["kind"] == "reminder"
        assert payload(late)["lead_seconds"] == 43200
        assert payload(late)["late"] is True
        assert "Late reminder" in late["text"]
    [custody] = await second.store.list_open_custodies()
    states = {
        n.lead_seconds: n.state
        for n in await second.store.notices_for(custody.id)
        if n.kind is NoticeKind.REMINDER and n.channel == JAIL
    }
    assert states[86400] is NoticeState.SKIPPED
    assert states[43200] is NoticeState.SENT
    assert states[3600] is NoticeState.PENDING

    clock.set(DEADLINE - timedelta(hours=4))
    await fake_slack.wait_for_posts(6)
    clock.set(DEADLINE)  # jumps over the 1h and 30m reminders: the expiry supersedes them
    await fake_slack.wait_for_posts(8)
    await settle(second)
    assert [payload(p)["kind"] for p in fake_slack.posts(JAIL)][-1] == "expired"
    assert len(fake_slack.posts(JAIL)) + len(fake_slack.posts(ICE)) == 8
    assert set(notice_counts(fake_slack).values()) == {1}


async def test_restart_after_the_deadline_always_sends_the_expiry(
    start_service: Callable[[], Any], fake_slack: FakeSlack, clock: FakeClock
) -> None:
    await logged_then_stopped(start_service, fake_slack, "B-7")

    clock.set(DEADLINE + timedelta(hours=3))
    second, _ = await start_service()
    await fake_slack.wait_for_posts(4)
    await settle(second)
    for channel in (JAIL, ICE):
        kinds = [payload(p)["kind"] for p in fake_slack.posts(channel)]
        assert kinds == ["logged", "expired"]
        assert payload(fake_slack.posts(channel)[-1])["late"] is True


async def test_crash_between_slack_accepting_and_marking_sent_is_not_doubled(
    start_service: Callable[[], Any], fake_slack: FakeSlack, clock: FakeClock
) -> None:
    first = await logged_then_stopped(start_service, fake_slack, "B-8")
    # Replay a crash: the 24h reminders were claimed; Slack got the jail one only.
    await first.store.open()
    [custody] = await first.store.list_open_custodies()
    reminders = {
        n.channel: n for n in await first.store.notices_for(custody.id) if n.lead_seconds == 86400
    }
    clock.set(reminders[JAIL].due_at)
    for notice in reminders.values():
        await first.store.mark_sending(notice.id, clock.now())
    await first.store.close()
    fake_slack.inject_message(
        JAIL,
        text="24h reminder",
        metadata={
            "event_type": "wso_custody",
            "event_payload": {"notice_id": reminders[JAIL].id},
        },
    )

    second, _ = await start_service()
    await fake_slack.wait_for_posts(3)
    await settle(second)
    assert [payload(p)["notice_id"] for p in fake_slack.posts(ICE)][-1] == reminders[ICE].id
    jail_ids = [payload(m)["notice_id"] for m in fake_slack.messages(JAIL)]
    assert jail_ids.count(reminders[JAIL].id) == 1
    states = {n.id: n.state for n in await second.store.notices_for(custody.id)}
    assert states[reminders[JAIL].id] is NoticeState.SENT
    assert states[reminders[ICE].id] is NoticeState.SENT


async def test_a_superseded_reminder_posted_before_a_crash_is_found_and_recorded_sent(
    start_service: Callable[[], Any], fake_slack: FakeSlack, clock: FakeClock
) -> None:
    """The record says what people saw: a later reminder being due on restart does not
    make a reminder Slack already shows "skipped", nor does it post one Slack lacks."""
    first = await logged_then_stopped(start_service, fake_slack, "B-8S")
    # Replay a crash: the 24h reminders were claimed; Slack got the jail one only.
    await first.store.open()
    [custody] = await first.store.list_open_custodies()
    notices = await first.store.notices_for(custody.id)
    reminders = {n.channel: n for n in notices if n.lead_seconds == 86400}
    later = {n.channel: n for n in notices if n.lead_seconds == 43200}
    clock.set(reminders[JAIL].due_at)
    for notice in reminders.values():
        await first.store.mark_sending(notice.id, clock.now())
    await first.store.close()
    posted = fake_slack.inject_message(
        JAIL,
        text="24h reminder",
        metadata={
            "event_type": "wso_custody",
            "event_payload": {"notice_id": reminders[JAIL].id},
        },
    )

    clock.set(later[JAIL].due_at)  # down until the 12h reminders fell due too
    second, _ = await start_service()
    await fake_slack.wait_for_posts(4)
    await settle(second)
    stored = {n.id: n for n in await second.store.notices_for(custody.id)}
    assert stored[reminders[JAIL].id].state is NoticeState.SENT
    assert stored[reminders[JAIL].id].message_ts == posted["ts"]
    assert stored[reminders[ICE].id].state is NoticeState.SKIPPED  # not posted late
    assert stored[reminders[ICE].id].last_error == "superseded"
    for channel in (JAIL, ICE):
        assert stored[later[channel].id].state is NoticeState.SENT
        assert [payload(p)["kind"] for p in fake_slack.posts(channel)] == ["logged", "reminder"]
        assert payload(fake_slack.posts(channel)[-1])["notice_id"] == later[channel].id
    assert set(notice_counts(fake_slack).values()) == {1}


async def test_notices_go_out_within_a_second_of_due_on_the_real_clock(
    fake_slack: FakeSlack, db_path: Path, config: Config
) -> None:
    service = WsoService(make_settings(fake_slack, db_path), config, clock=SystemClock())
    await service.start(host="127.0.0.1", port=0)
    try:
        async with SignedSlackClient(f"http://127.0.0.1:{service.port}", SIGNING_SECRET) as slack:
            arrested = datetime.now(UTC) - timedelta(hours=48) + timedelta(seconds=2)
            await slack.command(f"arrest B-9 at {arrested:%Y-%m-%dT%H:%M:%SZ}")
            deadline = arrested.replace(microsecond=0) + timedelta(hours=48)
            await fake_slack.wait_for_posts(4, timeout=6)
            seen_at = time.time()
            [custody] = await service.store.find_custodies("B-9")
            sent_at = [
                n.sent_at
                for n in await service.store.notices_for(custody.id)
                if n.kind is NoticeKind.EXPIRED
            ]
        expired = [p for p in fake_slack.posts() if payload(p)["kind"] == "expired"]
        assert len(expired) == 2
        lateness = seen_at - deadline.timestamp()
        assert lateness <= 1.0, f"expiry went out {lateness:.3f}s after the deadline"
        assert all(at is not None and at >= deadline for at in sent_at), "sent before the deadline"
    finally:
        await service.stop()


async def test_a_429_storm_is_ridden_out_without_loss_or_doubles(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock, service: WsoService
) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=2, times=12)
    for number in range(3):
        await slack.command(f"arrest B-{number}")
    for _ in range(20):
        clock.advance(timedelta(seconds=1))
        await settle(service)
    await fake_slack.wait_for_posts(6)
    await settle(service)
    assert len(fake_slack.calls_to("chat.postMessage")) >= 18  # 12 refused, 6 delivered
    assert sorted(notice_counts(fake_slack).values()) == [1] * 6


async def test_history_shows_a_posted_message_at_once_against_the_fake(
    fake_slack: FakeSlack, clock: FakeClock
) -> None:
    """The measurement the README quotes: how late conversations.history shows a post."""
    gateway = SlackGateway(make_web_client(BOT_TOKEN, fake_slack.api_url))
    message = SlackMessage(
        text="probe",
        metadata={"event_type": "wso_custody", "event_payload": {"notice_id": "n_probe"}},
    )
    # The fake stamps ts by the test clock, as Slack stamps by its own: search from that clock.
    posted_at = clock.now()
    _, ts = await gateway.post_message(JAIL, message)
    started = time.monotonic()
    found = await gateway.find_posted(
        JAIL,
        posted_at - timedelta(seconds=30),
        lambda m: (m.get("metadata") or {}).get("event_payload", {}).get("notice_id") == "n_probe",
    )
    delay = time.monotonic() - started
    assert found == ts
    assert delay < 0.5
