"""A fault belongs to the smallest thing it touched: one failing channel stops nobody else.

End to end through the real HTTP endpoint and the dispatcher, against the fake
Slack answering the way Slack's edge does during an incident (``Outage``), on a
fake clock. Every test counts what the fake Slack really received.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import WsoService
from bot.config import Config, parse_config
from bot.core.model import Notice, NoticeKind, NoticeState
from bot.services.clock import FakeClock
from storage.sqlite_store import SqliteCustodyStore
from tests.conftest import (
    ICE,
    JAIL,
    OFFICER,
    OTHER_OFFICER,
    START,
    StartService,
    make_settings,
    two_facility_document,
)
from tests.fakes.notices import copies, kinds
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.signed_requests import wso_payload as payload
from tests.fakes.slack import ANSWER_SHAPES, Answer, FakeSlack
from tests.fakes.waiting import eventually

DEADLINE = START + timedelta(hours=48)
NORTH_JAIL = "C0NJAIL"
NORTH_ICE = "C0NICE"


@pytest.fixture
def config() -> Config:
    document = two_facility_document()
    document["reminders"] = {"before": []}
    return parse_config(document, source="test")


def next_jail_call(fake_slack: FakeSlack, answer: Answer, method: str = "chat.postMessage") -> None:
    """The jail channel's next ``method`` call gets ``answer``; Slack answers the rest."""
    fake_slack.outage(answer, methods=[method], channel=JAIL, times=1)


async def notice(
    service_or_store: WsoService | SqliteCustodyStore, booking: str, kind: NoticeKind, channel: str
) -> Notice:
    store = service_or_store.store if isinstance(service_or_store, WsoService) else service_or_store
    [custody] = await store.find_custodies(booking)
    [found] = [
        n for n in await store.notices_for(custody.id) if n.kind is kind and n.channel == channel
    ]
    return found


async def arrest_at_both_facilities(slack: SignedSlackClient, fake_slack: FakeSlack) -> None:
    await slack.command("arrest B-1 facility county-jail")
    await slack.command("arrest B-2 facility north-annex", user_id=OFFICER)
    for channel in (JAIL, ICE, NORTH_JAIL, NORTH_ICE):
        await fake_slack.wait_for_posts(1, channel=channel)


async def test_a_plain_text_503_on_one_channel_stops_no_other_facilitys_expiry(
    service: WsoService, slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    await slack.command("arrest B-1 facility county-jail")
    clock.advance(timedelta(hours=1))
    await slack.command("arrest B-2 facility north-annex")
    for channel in (JAIL, ICE, NORTH_JAIL, NORTH_ICE):
        await fake_slack.wait_for_posts(1, channel=channel)
    outage = fake_slack.outage(ANSWER_SHAPES["plain_503"], channel=JAIL)

    clock.set(DEADLINE)  # the county custody expires while its jail channel fails
    failing = await eventually(
        lambda: notice(service, "B-1", NoticeKind.EXPIRED, JAIL),
        lambda n: n.attempts > 0 and n.state is NoticeState.PENDING,
        "the failed attempt recorded on the jail expiry",
    )
    assert failing.last_error == "http_503" and failing.may_have_posted
    assert "expired" in kinds(fake_slack, ICE)

    clock.set(DEADLINE + timedelta(hours=1))  # then the North Annex custody expires
    for channel in (NORTH_JAIL, NORTH_ICE):
        await fake_slack.wait_for(
            lambda channel=channel: "expired" in kinds(fake_slack, channel),
            what=f"the North Annex expiry in {channel} while {JAIL} still fails",
        )
    health = await service.health()
    assert health["dispatcher"] == "running"
    assert health["last_slack_error"] == "http_503"

    outage.end()
    clock.advance(timedelta(seconds=60))
    await fake_slack.wait_for(
        lambda: "expired" in kinds(fake_slack, JAIL), what="the expiry once Slack is back"
    )
    assert set(copies(fake_slack, JAIL).values()) == {1}
    assert (await service.health())["last_slack_error"] is None


async def test_a_429_pauses_its_channel_for_at_most_a_minute_and_no_one_else(
    service: WsoService, slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    next_jail_call(fake_slack, Answer.ratelimited("3600"))
    await slack.command("arrest B-1")
    await fake_slack.wait_for_posts(1, channel=ICE)
    await eventually(
        lambda: notice(service, "B-1", NoticeKind.LOGGED, JAIL),
        lambda n: n.last_error == "ratelimited",
        "the 429 recorded",
    )
    await slack.command("arrest B-2")  # its jail notice must wait for the pause too
    await fake_slack.wait_for_posts(2, channel=ICE)

    clock.advance(timedelta(seconds=59))
    await slack.command("arrest B-3 facility north-annex")  # a channel that is not paused
    await fake_slack.wait_for_posts(1, channel=NORTH_JAIL)
    assert fake_slack.posts(JAIL) == [], "posted into a channel Slack asked to pause"
    second = await notice(service, "B-2", NoticeKind.LOGGED, JAIL)
    assert second.attempts == 0, "the pause is the channel's: only the notice that met it counts"

    clock.advance(timedelta(seconds=1))  # Retry-After: 3600 is honoured for 60 s at most
    await fake_slack.wait_for_posts(2, channel=JAIL)
    assert [payload(p)["booking"] for p in fake_slack.posts(JAIL)] == ["B-1", "B-2"]
    assert set(copies(fake_slack, JAIL).values()) == {1}


@pytest.mark.parametrize("retry_after", ["inf", "nan", "1e12", "-5", "soon"])
async def test_an_unreadable_retry_after_is_a_short_pause_not_a_crash(
    retry_after: str,
    service: WsoService,
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    clock: FakeClock,
) -> None:
    next_jail_call(fake_slack, Answer.ratelimited(retry_after))
    await slack.command("arrest B-1")
    await eventually(
        lambda: notice(service, "B-1", NoticeKind.LOGGED, JAIL),
        lambda n: n.last_error == "ratelimited",
        "the 429 recorded",
    )
    clock.advance(timedelta(seconds=60))
    await fake_slack.wait_for_posts(1, channel=JAIL)
    assert (await service.health())["dispatcher"] == "running"


async def test_a_crash_left_notice_whose_history_hangs_holds_back_no_other_target(
    fake_slack: FakeSlack, clock: FakeClock, start_service: StartService, db_path: Path
) -> None:
    first, slack = await start_service()
    await slack.command("arrest B-1 facility county-jail")
    clock.advance(timedelta(hours=1))
    await slack.command("arrest B-2 facility north-annex")
    for channel in (JAIL, ICE, NORTH_JAIL, NORTH_ICE):
        await fake_slack.wait_for_posts(1, channel=channel)
    await first.stop()
    # A crash while the county jail's expiry was being posted: it is left ``sending``.
    store = SqliteCustodyStore(db_path)
    await store.open()
    [custody] = await store.find_custodies("B-1")
    [expiry] = [
        n
        for n in await store.notices_for(custody.id)
        if n.kind is NoticeKind.EXPIRED and n.channel == JAIL
    ]
    assert await store.mark_sending(expiry.id, DEADLINE)
    await store.close()
    # Slack's history of that channel answers nothing at all while the bot is back.
    history = fake_slack.outage(Answer.hang(), methods=["conversations.history"], channel=JAIL)

    clock.set(DEADLINE + timedelta(hours=1))
    second, _ = await start_service()
    for channel in (NORTH_JAIL, NORTH_ICE):
        await fake_slack.wait_for(
            lambda channel=channel: "expired" in kinds(fake_slack, channel),
            timeout=2.0,
            what=f"the North Annex expiry in {channel}, not held behind a hung lookup",
        )
    history.end()  # the hung lookup gets its answer (a 504): recorded, retried later
    await eventually(
        lambda: notice(second.store, "B-1", NoticeKind.EXPIRED, JAIL),
        lambda n: n.last_error == "http_504",
        "the failed lookup recorded on the notice",
    )
    clock.advance(timedelta(seconds=5))
    await fake_slack.wait_for(lambda: "expired" in kinds(fake_slack, JAIL), what="jail expiry")
    assert set(copies(fake_slack, JAIL).values()) == {1}


async def test_a_non_json_200_after_a_real_post_is_found_not_posted_again(
    service: WsoService, slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    next_jail_call(fake_slack, ANSWER_SHAPES["html_200_after_posting"])
    await slack.command("arrest B-1")
    logged = await eventually(
        lambda: notice(service, "B-1", NoticeKind.LOGGED, JAIL),
        lambda n: n.last_error == "unreadable_answer",
        "the unreadable answer recorded",
    )
    assert logged.may_have_posted
    clock.advance(timedelta(seconds=2))
    await eventually(
        lambda: notice(service, "B-1", NoticeKind.LOGGED, JAIL),
        lambda n: n.state is NoticeState.SENT,
        "found in history",
    )
    assert copies(fake_slack, JAIL) == Counter({logged.id: 1})


@pytest.mark.parametrize("error", ["invalid_blocks", "msg_too_long"])
async def test_a_message_slack_refuses_as_too_big_is_undeliverable_and_alerted(
    error: str,
    service: WsoService,
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    clock: FakeClock,
) -> None:
    fake_slack.outage(Answer.not_ok(error), methods=["chat.postMessage"], channel=ICE)
    await slack.command("arrest B-1")
    await fake_slack.wait_for(
        lambda: "delivery_problem" in kinds(fake_slack, JAIL), what="the delivery alert"
    )
    health = await service.health()
    assert health["undeliverable_notices"] == 1
    failed = await notice(service, "B-1", NoticeKind.LOGGED, ICE)
    assert failed.last_error == error
    # Retried like every error a person must fix (every 5 minutes), never dropped.
    assert failed.next_attempt_at == clock.now() + timedelta(minutes=5)


async def step_through_retries(
    service: WsoService,
    booking: str,
    kind: NoticeKind,
    channel: str,
    clock: FakeClock,
    *,
    until: datetime,
    done: Callable[[], bool] = lambda: False,
) -> Notice:
    """Move the clock to each retry of one failing notice, until ``until`` or ``done()``."""
    failing = await eventually(
        lambda: notice(service, booking, kind, channel),
        lambda n: n.attempts > 0 and n.state is NoticeState.PENDING,
        "the first failure",
    )
    while clock.now() < until and not done():
        clock.set(max(clock.now(), failing.ready_at()))
        failing = await eventually(
            lambda: notice(service, booking, kind, channel),
            lambda n, before=failing.attempts: n.attempts > before,
            "the next failed retry",
        )
    return failing


async def test_a_jail_channel_failing_for_30_seconds_is_reported_to_the_officers_once(
    service: WsoService, slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    outage = fake_slack.outage(ANSWER_SHAPES["plain_503"], channel=JAIL)
    await slack.command("arrest B-1")
    await fake_slack.wait_for_posts(1, channel=ICE)

    def alerts() -> list[str]:
        return sorted(
            p["channel"] for p in fake_slack.posts() if payload(p)["kind"] == "delivery_problem"
        )

    await step_through_retries(
        service,
        "B-1",
        NoticeKind.LOGGED,
        JAIL,
        clock,
        until=START + timedelta(minutes=2),
        done=lambda: bool(alerts()),
    )
    await fake_slack.wait_for(lambda: alerts() == [OFFICER, OTHER_OFFICER], what="DM alerts")
    assert clock.now() - START >= timedelta(seconds=30)
    [alert, *_] = [p for p in fake_slack.posts() if payload(p)["kind"] == "delivery_problem"]
    assert "a failure on Slack's side" in alert["text"] and "invite the bot" not in alert["text"]

    def calls_to_jail() -> int:
        return sum(1 for c in fake_slack.calls if c.payload.get("channel") == JAIL)

    tries = calls_to_jail()
    clock.advance(timedelta(minutes=5))
    await fake_slack.wait_for(lambda: calls_to_jail() > tries, what="more retries")
    assert alerts() == [OFFICER, OTHER_OFFICER], "one alert per outage, not one per retry"
    outage.end()
    clock.advance(timedelta(minutes=1))
    await fake_slack.wait_for_posts(1, channel=JAIL)
    assert set(copies(fake_slack, JAIL).values()) == {1}


async def test_a_hung_expiry_post_is_cut_short_and_found_not_doubled(
    service: WsoService, slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    await slack.command("arrest B-1")
    await fake_slack.wait_for_posts(1, channel=JAIL)
    next_jail_call(fake_slack, ANSWER_SHAPES["hang_after_posting"])
    clock.set(DEADLINE)
    hung = await eventually(
        lambda: notice(service, "B-1", NoticeKind.EXPIRED, JAIL),
        lambda n: n.last_error == "timeout",
        "the hung post given up on (3 s for an urgent notice, not 10 s)",
        timeout=4.5,
    )
    clock.advance(timedelta(seconds=2))
    await eventually(
        lambda: notice(service, "B-1", NoticeKind.EXPIRED, JAIL),
        lambda n: n.state is NoticeState.SENT,
        "found in history",
    )
    assert copies(fake_slack, JAIL)[hung.id] == 1


async def test_a_wrong_bot_token_turns_health_red(
    fake_slack: FakeSlack, db_path: Path, start_service: StartService
) -> None:
    settings = replace(make_settings(fake_slack, db_path), slack_bot_token="xoxb-wrong")
    _, client = await start_service(settings=settings)
    health = await client.get_json("/healthz")
    assert health.status == 503
    assert health.json["slack_auth"] == "invalid_auth"
    assert health.json["ok"] is False


def metric(page: str, name: str) -> float:
    [value] = [line.split()[1] for line in page.splitlines() if line.startswith(name + " ")]
    return float(value)


class _StoreWithFailingReads(SqliteCustodyStore):
    """A real SQLite store whose queue reads fail while ``broken`` (a damaged index, say)."""

    broken = False

    async def ready_notices(
        self, now: datetime, limit: int, exclude_channels: Collection[str] = ()
    ) -> list[Notice]:
        if self.broken:
            raise sqlite3.DatabaseError("database disk image is malformed")
        return await super().ready_notices(now, limit, exclude_channels)


class _StoreWithFailingWrites(SqliteCustodyStore):
    """A real SQLite store whose notice writes fail while ``broken`` (a full disk, say)."""

    broken = False

    async def mark_sending(self, notice_id: str, at: datetime) -> bool:
        if self.broken:
            raise sqlite3.OperationalError("database or disk is full")
        return await super().mark_sending(notice_id, at)

    async def mark_failed(self, notice_id: str, **kwargs: Any) -> None:
        if self.broken:
            raise sqlite3.OperationalError("database or disk is full")
        await super().mark_failed(notice_id, **kwargs)


async def test_ticks_that_keep_failing_are_an_alarm_in_health_and_metrics(
    db_path: Path, clock: FakeClock, start_service: StartService
) -> None:
    store = _StoreWithFailingReads(db_path)
    _, client = await start_service(store=store)
    store.broken = True
    for failures in range(1, 4):
        clock.advance(timedelta(seconds=1))  # the loop tries again a second later
        await eventually(
            lambda: client.get_json("/healthz"),
            lambda r, n=failures: r.json.get("dispatcher_failures", {}).get("ticks", 0) >= n,
            f"{failures} failed tick(s)",
        )
    health = await client.get_json("/healthz")
    assert health.status == 503
    assert health.json["dispatcher"] == "degraded"
    assert "malformed" in health.json["dispatcher_error"]
    metrics = (await client.get_json("/metrics")).body
    assert metric(metrics, "wso_dispatcher_tick_failures_total") >= 3
    assert metric(metrics, "wso_sender_failures_total") == 0

    store.broken = False
    clock.advance(timedelta(seconds=1))
    recovered = await eventually(
        lambda: client.get_json("/healthz"),
        lambda r: r.json["dispatcher"] == "running",
        "a good tick",
    )
    assert recovered.status == 200


async def test_senders_that_keep_failing_are_an_alarm_and_nothing_is_lost(
    fake_slack: FakeSlack, db_path: Path, clock: FakeClock, start_service: StartService
) -> None:
    store = _StoreWithFailingWrites(db_path)
    _, client = await start_service(store=store)
    store.broken = True
    for number in range(3):  # each arrest's senders die recording their notices
        await client.command(f"arrest B-{number}")
        clock.advance(timedelta(seconds=2))
    health = await eventually(
        lambda: client.get_json("/healthz"),
        lambda r: r.json["dispatcher"] == "degraded",
        "degraded after three failed senders",
    )
    assert "disk is full" in health.json["dispatcher_error"]
    assert fake_slack.posts() == []

    store.broken = False
    clock.advance(timedelta(seconds=2))
    await fake_slack.wait_for_posts(6)
    assert set(copies(fake_slack, JAIL).values()) == {1}
    assert set(copies(fake_slack, ICE).values()) == {1}
    await eventually(
        lambda: client.get_json("/healthz"),
        lambda r: r.json["dispatcher"] == "running",
        "running again",
    )


async def test_a_delivery_that_calls_nobody_does_not_end_a_channels_outage(
    service: WsoService, slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    """Closing a custody whose backup was never scheduled deletes nothing: no call, no news."""
    fake_slack.outage(ANSWER_SHAPES["plain_503"], channel=JAIL)
    await slack.command("arrest B-1")
    await step_through_retries(
        service, "B-1", NoticeKind.LOGGED, JAIL, clock, until=START + timedelta(seconds=20)
    )
    await slack.command("release B-1 bail posted")  # its backup deletion asks Slack nothing
    await eventually(
        lambda: notice(service, "B-1", NoticeKind.BACKUP_DELETE, f"backup:{JAIL}"),
        lambda n: n.state is NoticeState.SENT,
        "the backup deletion settled",
    )
    assert (await service.health())["last_slack_error"] == "http_503"
    await step_through_retries(
        service, "B-1", NoticeKind.LOGGED, JAIL, clock, until=START + timedelta(seconds=40)
    )
    await fake_slack.wait_for(
        lambda: any(payload(p)["kind"] == "delivery_problem" for p in fake_slack.posts()),
        what="the officers told: 30 s of failures, not restarted by the deletion",
    )


async def test_a_backup_slack_scheduled_despite_a_503_is_found_not_scheduled_twice(
    service: WsoService, slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    next_jail_call(fake_slack, ANSWER_SHAPES["plain_503_after_posting"], "chat.scheduleMessage")
    await slack.command("arrest B-1")
    backup = await eventually(
        lambda: notice(service, "B-1", NoticeKind.BACKUP, f"backup:{JAIL}"),
        lambda n: n.last_error == "http_503",
        "the 503 recorded on the backup",
    )
    clock.set(backup.ready_at())
    found = await eventually(
        lambda: notice(service, "B-1", NoticeKind.BACKUP, f"backup:{JAIL}"),
        lambda n: n.state is NoticeState.SENT,
        "the backup found among Slack's scheduled messages",
    )
    [scheduled] = fake_slack.scheduled(JAIL)
    assert found.message_ts == scheduled["id"]
    assert len(fake_slack.calls_to("chat.scheduleMessage")) == 1


async def backups_of(service: WsoService) -> list[Notice]:
    custodies = await service.store.list_open_custodies()
    notices = await asyncio.gather(*(service.store.notices_for(c.id) for c in custodies))
    return [n for group in notices for n in group if n.kind is NoticeKind.BACKUP]


async def test_schedules_slack_refused_do_not_count_against_its_30_per_5_minutes(
    service: WsoService, slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    outage = fake_slack.outage(
        ANSWER_SHAPES["json_400"], methods=["chat.scheduleMessage"], channel=JAIL
    )
    for number in range(12):
        await slack.command(f"arrest B-{number}")
    # Refused at once, then after 1 s and 2 s more (their back-off): 36 calls in seconds,
    # past Slack's 30 per 5 minutes if refusals counted.
    for wait in (1, 2, 0):
        await eventually(
            lambda: backups_of(service),
            lambda found: all(n.ready_at() > clock.now() for n in found),
            "every backup refused (or held back) and waiting",
        )
        clock.advance(timedelta(seconds=wait))
    assert len(fake_slack.calls_to("chat.scheduleMessage")) == 36
    outage.end()
    clock.advance(timedelta(seconds=60))  # past every back-off, well inside 5 minutes
    await fake_slack.wait_for(lambda: len(fake_slack.scheduled(JAIL)) == 12, what="scheduled")
