"""Operations: the Slack-side backup expiry notice, /healthz lag and failures, /metrics,
and the heartbeat, through the real HTTP endpoint against the fake Slack."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web

from bot.app import WsoService
from bot.config import parse_config
from bot.services.clock import FakeClock
from tests.conftest import ICE, JAIL, START, StartService, config_document
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.signed_requests import wso_payload as payload
from tests.fakes.slack import FakeSlack
from tests.fakes.waiting import settle

DEADLINE = START + timedelta(hours=48)
BACKUP_AT = int((DEADLINE + timedelta(seconds=60)).timestamp())


# --- the backup expiry notice Slack posts on its own ---------------------------------


async def test_backup_is_scheduled_then_deleted_when_the_bots_own_expiry_is_out(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    await slack.command("arrest B-1")
    await fake_slack.wait_for(lambda: bool(fake_slack.scheduled(JAIL)), what="backup")
    [backup] = fake_slack.scheduled(JAIL)
    assert backup["post_at"] == BACKUP_AT
    assert "B-1" in backup["text"] and "release required" in backup["text"]
    assert fake_slack.scheduled(ICE) == []
    call = fake_slack.calls_to("chat.scheduleMessage")[0].payload
    assert "metadata" not in call  # one report says Slack drops scheduled messages with it

    clock.set(DEADLINE)
    await fake_slack.wait_for(lambda: not fake_slack.scheduled(JAIL), what="backup deleted")
    kinds = [payload(p)["kind"] for p in fake_slack.posts(JAIL)]
    assert kinds[-1] == "expired"
    fired = fake_slack.fire_scheduled(BACKUP_AT)
    assert fired == [], "the jail would have seen two expiry notices"


async def test_backup_is_deleted_when_the_custody_is_closed(
    slack: SignedSlackClient, fake_slack: FakeSlack
) -> None:
    await slack.command("arrest B-2")
    await fake_slack.wait_for(lambda: bool(fake_slack.scheduled(JAIL)))
    await slack.command("transfer B-2")
    await fake_slack.wait_for(lambda: not fake_slack.scheduled(JAIL), what="backup deleted")
    assert fake_slack.calls_to("chat.deleteScheduledMessage")


async def test_backup_posts_while_the_bot_is_dead_and_the_bot_goes_on_when_back(
    fake_slack: FakeSlack, clock: FakeClock, start_service: StartService
) -> None:
    first, slack = await start_service()
    await slack.command("arrest B-3")
    await fake_slack.wait_for(lambda: bool(fake_slack.scheduled(JAIL)))
    await first.stop()

    clock.set(DEADLINE + timedelta(minutes=5))
    [fired] = fake_slack.fire_scheduled(BACKUP_AT)
    assert "B-3" in fired["text"] and "release required" in fired["text"]
    await start_service()
    await fake_slack.wait_for(
        lambda: any(payload(p)["kind"] == "expired" for p in fake_slack.posts(JAIL)),
        what="the bot's own expiry notice after restart",
    )
    await fake_slack.wait_for(
        lambda: any(p["channel"] == "U0SGT" for p in fake_slack.posts()),
        what="paging after restart",
    )


async def test_a_burst_of_arrests_queues_backups_past_slacks_limit(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    clock: FakeClock,
    service: WsoService,
) -> None:
    fake_slack.fail_next("chat.scheduleMessage", status=200, error="restricted_too_many", times=3)
    for number in range(5):
        await slack.command(f"arrest B-{number}")
    for _ in range(6):
        clock.advance(timedelta(seconds=30))
        await settle(service)
    await fake_slack.wait_for(lambda: len(fake_slack.scheduled(JAIL)) == 5, what="5 backups")


# --- health and metrics --------------------------------------------------------------


async def test_healthz_turns_503_when_notices_are_more_than_60s_late(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    clock: FakeClock,
    service: WsoService,
) -> None:
    fake_slack.set_down(True)
    await slack.command("arrest B-4")
    clock.advance(timedelta(seconds=30))
    await settle(service)
    assert (await slack.get_json("/healthz")).status == 200
    clock.advance(timedelta(seconds=31))
    await settle(service)
    late = await slack.get_json("/healthz")
    assert late.status == 503
    assert late.json["lag_seconds"] > 60

    fake_slack.set_down(False)
    clock.advance(timedelta(seconds=60))
    await fake_slack.wait_for_posts(2)
    await settle(service)
    assert (await slack.get_json("/healthz")).status == 200


async def test_undeliverable_notices_show_in_health_and_metrics(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    fake_slack.fail_channel(ICE, "channel_not_found")
    await slack.command("arrest B-5")
    await fake_slack.wait_for_posts(1, channel=JAIL)
    await settle(service)

    health = await slack.get_json("/healthz")
    assert health.json["undeliverable_notices"] == 1
    assert health.json["last_slack_error"] == "channel_not_found"
    metrics = await slack.get_json("/metrics")
    assert "wso_undeliverable_notices 1.0" in metrics.body
    assert 'wso_delivery_errors_total{code="channel_not_found"} 1.0' in metrics.body


async def test_metrics_count_notices_by_kind_and_open_custodies(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    clock: FakeClock,
    service: WsoService,
) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    await slack.command("arrest B-6")
    await fake_slack.wait_for(lambda: len(fake_slack.calls_to("chat.postMessage")) >= 2)
    await settle(service)  # the bot has recorded the 429 and its retry time
    clock.advance(timedelta(seconds=2))
    await fake_slack.wait_for_posts(2)
    await settle(service)

    metrics = await slack.get_json("/metrics")
    assert metrics.status == 200
    assert 'wso_notices_sent_total{kind="logged"} 2.0' in metrics.body
    assert "wso_open_custodies 1.0" in metrics.body
    assert "wso_slack_ratelimited_total 1.0" in metrics.body
    assert 'wso_notices_sent_total{kind="backup"} 1.0' in metrics.body
    assert "wso_notice_lateness_seconds_count 3.0" in metrics.body
    assert "wso_dispatcher_lag_seconds 0.0" in metrics.body


# --- heartbeat -----------------------------------------------------------------------


@pytest.fixture
async def heartbeat_receiver() -> AsyncIterator[tuple[str, list[float], asyncio.Event]]:
    pings: list[float] = []

    async def ping(request: web.Request) -> web.Response:
        pings.append(asyncio.get_running_loop().time())
        pinged.set()
        return web.Response(text="OK")

    pinged = asyncio.Event()

    app = web.Application()
    app.router.add_get("/ping", ping)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/ping", pings, pinged
    await runner.cleanup()


async def test_heartbeat_pings_while_healthy_and_holds_back_while_late(
    fake_slack: FakeSlack,
    clock: FakeClock,
    start_service: StartService,
    heartbeat_receiver: tuple[str, list[float], asyncio.Event],
) -> None:
    url, pings, pinged = heartbeat_receiver
    document: dict[str, Any] = config_document()
    document["heartbeat_url"] = url
    service, slack = await start_service(config=parse_config(document))
    await asyncio.wait_for(pinged.wait(), 5)
    assert len(pings) == 1

    fake_slack.set_down(True)
    await slack.command("arrest B-7")
    clock.advance(timedelta(seconds=10))
    assert await service.heartbeat_due() is False
    fake_slack.set_down(False)
    clock.advance(timedelta(seconds=60))
    await fake_slack.wait_for_posts(2)
    await settle(service)
    assert await service.heartbeat_due() is True


async def test_a_channel_the_bot_cannot_post_to_is_reported_in_the_jail_channel(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    fake_slack.fail_channel(ICE, "not_in_channel")
    await slack.command("arrest B-8")

    await fake_slack.wait_for(
        lambda: any(payload(p)["kind"] == "delivery_problem" for p in fake_slack.posts(JAIL)),
        what="delivery problem alert in the jail channel",
    )
    [alert] = [p for p in fake_slack.posts(JAIL) if payload(p)["kind"] == "delivery_problem"]
    assert f"<#{ICE}>" in alert["text"] and "not_in_channel" in alert["text"]
    await settle(service)
    alerts = [p for p in fake_slack.posts(JAIL) if payload(p)["kind"] == "delivery_problem"]
    assert len(alerts) == 1, "one alert per stuck notice, not one per retry"


async def test_a_jail_channel_the_bot_cannot_post_to_is_reported_to_the_officers(
    slack: SignedSlackClient, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_channel(JAIL, "channel_not_found")
    await slack.command("arrest B-9")

    await fake_slack.wait_for(
        lambda: (
            {p["channel"] for p in fake_slack.posts() if payload(p)["kind"] == "delivery_problem"}
            == {"U0AAA", "U0BBB"}
        ),
        what="delivery problem alerts to each officer by DM",
    )


async def test_restart_recreates_a_lost_backup_and_deletes_an_orphan(
    fake_slack: FakeSlack, clock: FakeClock, start_service: StartService
) -> None:
    first, slack = await start_service()
    await slack.command("arrest B-10")
    await fake_slack.wait_for(lambda: len(fake_slack.scheduled(JAIL)) == 1)
    await first.stop()
    [lost] = fake_slack.scheduled(JAIL)
    fake_slack.forget_scheduled()
    orphan_text = "WSO window expired — release required: booking B-0 (custody c_0123456789abcdef)"
    fake_slack.inject_scheduled(JAIL, post_at=BACKUP_AT, text=orphan_text)

    await start_service()
    await fake_slack.wait_for(
        lambda: [s["text"] for s in fake_slack.scheduled(JAIL)] == [lost["text"]],
        what="the lost backup re-created and the orphan deleted",
    )


async def test_backups_past_slacks_30_per_5_minutes_wait_and_deletes_do_not(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    clock: FakeClock,
    service: WsoService,
) -> None:
    for number in range(33):
        await slack.command(f"arrest B-{number}")
    await fake_slack.wait_for(lambda: len(fake_slack.scheduled(JAIL)) == 30, what="30 backups")
    await settle(service)
    assert len(fake_slack.scheduled(JAIL)) == 30, "went past Slack's limit"
    refused = [c for c in fake_slack.calls_to("chat.scheduleMessage") if not c.ok]
    assert refused == [], "the bot should queue backups, not have Slack refuse them"

    # Deleting is not limited: closing a custody drops its backup at once.
    await slack.command("release B-0")
    await fake_slack.wait_for(lambda: len(fake_slack.scheduled(JAIL)) == 29, what="deleted")

    clock.advance(timedelta(minutes=5))
    await fake_slack.wait_for(lambda: len(fake_slack.scheduled(JAIL)) == 32, what="the rest")
    assert [c for c in fake_slack.calls_to("chat.scheduleMessage") if not c.ok] == []
