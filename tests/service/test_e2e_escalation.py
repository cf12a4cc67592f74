"""Escalation end to end: pages by DM after expiry, level by level, until someone acknowledges.

Through the real HTTP endpoint with signed slash commands and signed button
clicks, against the fake Slack (and fake PagerDuty / webhook receiver), with
a fake clock driving the 48-hour window and the chain.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.chat.slack import ActionId
from bot.clients.webhooks import SIGNATURE_HEADER
from bot.config import Config, parse_config
from bot.core.model import Notice, NoticeKind, NoticeState
from bot.core.targets import PAGERDUTY_TARGET
from tests.conftest import (
    DESK_STAFF,
    ICE,
    JAIL,
    OFFICER,
    START,
    STRANGER,
    StartService,
    config_document,
    make_settings,
    north_annex,
)
from tests.fakes.notices import updates_of
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.signed_requests import wso_payload as payload
from tests.fakes.slack import FakeSlack
from tests.fakes.waiting import eventually, settle
from tests.fakes.webhook_receiver import FakeWebhookReceiver

DEADLINE = START + timedelta(hours=48)
SERGEANT = "U0SGT"
LIEUTENANT = "U0LT"
WATCH = ["U0W1", "U0W2"]
ICE_DUTY = "U0ICEDUTY"


def escalation_document(**facility: Any) -> dict[str, Any]:
    document = config_document(
        escalation=[
            {"notify": [SERGEANT], "after": "0s"},
            {"notify": [LIEUTENANT, "S0WATCH"], "after": "15m"},
        ],
        escalation_repeat=1,
        reack_after="30m",
        **facility,
    )
    document["reminders"] = {"before": []}
    return document


@pytest.fixture
def config() -> Config:
    return parse_config(escalation_document(), source="test")


@pytest.fixture(autouse=True)
def user_groups(fake_slack: FakeSlack) -> None:
    fake_slack.usergroups["S0WATCH"] = list(WATCH)


def pages(fake_slack: FakeSlack) -> list[tuple[str, int, int]]:
    """(person, level, round) of every page sent, in order."""
    found = []
    for post in fake_slack.posts():
        meta = payload(post)
        if meta["kind"] == "escalation":
            found.append((post["channel"], meta["level"], meta["round"]))
    return found


async def expire(fake_slack: FakeSlack, clock: Any, start_service: StartService) -> Any:
    service, slack = await start_service()
    await slack.command("arrest B-1")
    await fake_slack.wait_for_posts(2)
    clock.set(DEADLINE)
    await fake_slack.wait_for(lambda: len(pages(fake_slack)) == 1, what="level 1 page")
    await settle(service)  # the page is recorded where Slack put it: a click can find it
    return service, slack


def page_post(fake_slack: FakeSlack, person: str) -> dict[str, Any]:
    return next(
        p
        for p in fake_slack.posts()
        if p["channel"] == person and payload(p)["kind"] == "escalation"
    )


async def test_levels_page_in_turn_with_user_groups_and_the_chain_repeats(
    fake_slack: FakeSlack, clock: Any, start_service: StartService
) -> None:
    service, _ = await expire(fake_slack, clock, start_service)
    assert pages(fake_slack) == [(SERGEANT, 1, 1)]
    page = page_post(fake_slack, SERGEANT)
    assert "overdue" in page["text"] and f"<#{JAIL}>" in page["text"]
    [button] = [e for b in page["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert "ack" in button["action_id"]

    clock.set(DEADLINE + timedelta(minutes=15) - timedelta(seconds=1))
    await settle(service)
    assert len(pages(fake_slack)) == 1, "level 2 paged early"
    clock.set(DEADLINE + timedelta(minutes=15))
    await fake_slack.wait_for(lambda: len(pages(fake_slack)) == 5, what="level 2 and round 2")
    assert sorted(pages(fake_slack)[1:]) == sorted(
        [(LIEUTENANT, 2, 1), (WATCH[0], 2, 1), (WATCH[1], 2, 1), (SERGEANT, 1, 2)]
    )
    clock.set(DEADLINE + timedelta(minutes=30))
    await fake_slack.wait_for(lambda: len(pages(fake_slack)) == 8, what="round 2 level 2")
    clock.set(DEADLINE + timedelta(hours=5))
    await settle(service)
    assert len(pages(fake_slack)) == 8, "the chain ran more than escalation_repeat + 1 times"


async def test_acknowledge_button_stops_paging_updates_the_page_and_repages_later(
    fake_slack: FakeSlack, clock: Any, start_service: StartService
) -> None:
    service, slack = await expire(fake_slack, clock, start_service)
    [page] = fake_slack.messages("D" + SERGEANT)  # as Slack stored it: a DM, with its ts
    custody_id = payload(page)["custody_id"]

    clock.advance(timedelta(minutes=2))
    reply = await slack.click(
        action_id=ActionId.ACKNOWLEDGE.value,
        value=custody_id,
        user_id=SERGEANT,
        channel_id="D" + SERGEANT,
        message_ts=page["ts"],
    )
    assert reply.status == 200
    await fake_slack.wait_for(lambda: bool(updates_of(fake_slack, "D" + SERGEANT, page["ts"])))
    [update] = updates_of(fake_slack, "D" + SERGEANT, page["ts"])
    assert "Acknowledged" in update["text"] and f"<@{SERGEANT}>" in update["text"]
    assert not [b for b in update["blocks"] if b["type"] == "actions"], "button still there"
    for channel in (JAIL, ICE):  # both sides hear who is handling it
        await fake_slack.wait_for(
            lambda channel=channel: len(acknowledged_posts(fake_slack, channel)) == 1,
            what=f"acknowledged notice in {channel}",
        )
        [notice] = acknowledged_posts(fake_slack, channel)
        assert payload(notice)["acknowledged_by"] == SERGEANT

    clock.set(DEADLINE + timedelta(minutes=31))  # level 2 would have gone at +15m
    await settle(service)
    assert pages(fake_slack) == [(SERGEANT, 1, 1)]
    clock.set(DEADLINE + timedelta(minutes=32))  # acknowledged at +2m; lapses at +32m
    await fake_slack.wait_for(lambda: len(pages(fake_slack)) == 2, what="re-page")
    assert pages(fake_slack)[1] == (SERGEANT, 1, 1)
    [custody] = await service.store.list_open_custodies()
    assert custody.acknowledged_by == SERGEANT
    trail = [entry.action for entry in await service.store.audit_trail(custody.id)]
    assert "paging_acknowledged" in trail


async def test_ack_command_rules(
    fake_slack: FakeSlack, clock: Any, start_service: StartService
) -> None:
    service, slack = await start_service()
    await slack.command("arrest B-2")
    not_paged = await slack.command("ack B-2")
    assert "not being paged" in not_paged.text
    unknown = await slack.command("ack B-404")
    assert "no open custody" in unknown.text

    clock.set(DEADLINE)
    await fake_slack.wait_for(lambda: len(pages(fake_slack)) == 1)
    refused = await slack.command("ack B-2", user_id=STRANGER)
    assert "Nothing was changed" in refused.text
    by_paged = await slack.command("ack B-2", user_id=SERGEANT, channel_id="D0SGT")
    assert "Acknowledged" in by_paged.text
    clock.advance(timedelta(minutes=20))
    await settle(service)
    assert len(pages(fake_slack)) == 1
    again = await slack.command("ack B-2", user_id=OFFICER)
    assert f"already acknowledged by <@{SERGEANT}> at Mon Nov 30, 14:00 CST" in again.text


async def test_transfer_ends_the_paging_at_once(
    fake_slack: FakeSlack, clock: Any, start_service: StartService
) -> None:
    service, slack = await expire(fake_slack, clock, start_service)
    await slack.command("transfer B-1")
    clock.set(DEADLINE + timedelta(hours=3))
    await settle(service)
    assert pages(fake_slack) == [(SERGEANT, 1, 1)]
    [custody] = await service.store.find_custodies("B-1")
    pending = [
        n for n in await service.store.notices_for(custody.id) if n.state is NoticeState.PENDING
    ]
    assert pending == []


async def test_restart_in_the_middle_of_a_chain_neither_loses_nor_doubles(
    fake_slack: FakeSlack, clock: Any, start_service: StartService
) -> None:
    first, _ = await expire(fake_slack, clock, start_service)
    await first.stop()
    clock.set(DEADLINE + timedelta(minutes=16))
    second, _ = await start_service()
    await fake_slack.wait_for(lambda: len(pages(fake_slack)) == 5, what="pages after restart")
    await settle(second)
    assert pages(fake_slack).count((SERGEANT, 1, 1)) == 1
    assert (LIEUTENANT, 2, 1) in pages(fake_slack)


async def test_ice_duty_is_paged_before_the_deadline(
    fake_slack: FakeSlack, clock: Any, start_service: StartService
) -> None:
    config = parse_config(
        escalation_document(ice_escalation=[{"notify": [ICE_DUTY], "before": "4h"}])
    )
    _, slack = await start_service(config=config)
    await slack.command("arrest B-3")
    clock.set(DEADLINE - timedelta(hours=4))
    await fake_slack.wait_for(lambda: len(pages(fake_slack)) == 1)
    page = page_post(fake_slack, ICE_DUTY)
    assert payload(page)["lead_seconds"] == 4 * 3600
    assert "ICE pickup needed" in page["text"]


async def test_on_call_schedule_pages_whoever_is_on_call_and_override_command(
    fake_slack: FakeSlack, clock: Any, start_service: StartService
) -> None:
    document = escalation_document()
    document["facility"][0]["escalation"] = [{"notify": ["oncall:night"], "after": "0s"}]
    document["schedule"] = [
        {
            "id": "night",
            "timezone": "America/Chicago",
            "handoff": "07:00",
            "rotation": "daily",
            "users": ["U0N1", "U0N2"],
            "start": "2026-11-30",
        }
    ]
    _, slack = await start_service(config=parse_config(document))
    await slack.command("arrest B-4")
    listing = await slack.command("oncall")
    assert "night" in listing.text
    override = await slack.command(f"oncall override night <@{DESK_STAFF}|desk> 3d")
    assert f"<@{DESK_STAFF}> is on call for `night`" in override.text
    clock.set(DEADLINE)
    await fake_slack.wait_for(lambda: len(pages(fake_slack)) == 1)
    assert pages(fake_slack) == [(DESK_STAFF, 1, 1)]


async def test_coverage_gap_is_named_in_the_logged_notice(
    fake_slack: FakeSlack, clock: Any, start_service: StartService, tmp_path: Path
) -> None:
    ics = tmp_path / "night.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:a@test\r\nDTSTAMP:20261101T000000Z\r\n"
        "DTSTART:20261128T000000Z\r\nDTEND:20261129T000000Z\r\nSUMMARY:U0N1\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    document = escalation_document()
    document["facility"][0]["escalation"] = [{"notify": ["oncall:night"], "after": "0s"}]
    document["schedule"] = [{"id": "night", "timezone": "America/Chicago", "ical": str(ics)}]
    _, slack = await start_service(config=parse_config(document, source=str(tmp_path / "x")))
    reply = await slack.command("arrest B-5")
    assert "Escalation gap" in reply.text
    [logged] = await fake_slack.wait_for_posts(1, channel=JAIL)
    assert "Escalation gap" in logged["text"] and "oncall:night" in logged["text"]


async def test_pagerduty_incident_is_triggered_acknowledged_and_resolved(
    fake_slack: FakeSlack, clock: Any, start_service: StartService, db_path: Path
) -> None:
    routing_key = "R" * 32
    async with FakePagerDuty() as pagerduty:
        config = parse_config(escalation_document(pagerduty_routing_key=routing_key))
        settings = replace(make_settings(fake_slack, db_path), pagerduty_events_url=pagerduty.url)
        service, slack = await start_service(config=config, settings=settings)
        await slack.command("arrest B-6")
        clock.set(DEADLINE)
        await pagerduty.wait_for_events(1)
        [custody] = await service.store.list_open_custodies()
        assert pagerduty.incidents[custody.id] == "triggered"
        await fake_slack.wait_for(lambda: len(pages(fake_slack)) == 1)
        await slack.command("ack B-6", user_id=SERGEANT)
        await pagerduty.wait_for_events(2)
        assert pagerduty.incidents[custody.id] == "acknowledged"
        await slack.command("release B-6 window expired")
        await pagerduty.wait_for_events(3)
        assert pagerduty.incidents[custody.id] == "resolved"
        actions = [event["event_action"] for event in pagerduty.events]
        assert actions == ["trigger", "acknowledge", "resolve"]
        assert {event["dedup_key"] for event in pagerduty.events} == {custody.id}


async def test_webhooks_receive_every_custody_event_signed(
    fake_slack: FakeSlack, clock: Any, start_service: StartService
) -> None:
    secret = "webhook-secret"
    async with FakeWebhookReceiver(secret, wall_time=lambda: clock.now().timestamp()) as receiver:
        document = escalation_document()
        document["webhook"] = [{"url": receiver.url, "secret": secret}]
        _, slack = await start_service(config=parse_config(document))
        await slack.command("arrest B-7")
        await receiver.wait_for(1)  # signed at fake time: let it land before time jumps
        clock.set(DEADLINE)
        await receiver.wait_for(3)  # logged, expired, escalation
        await slack.command("transfer B-7")
        await receiver.wait_for(4)
        kinds = [request.json["event"]["kind"] for request in receiver.accepted]
        assert kinds[0] == "logged" and kinds[-1] == "transferred"
        assert {"expired", "escalation"} <= set(kinds)
        assert all(request.signature_valid for request in receiver.requests)
        assert all(
            request.headers[SIGNATURE_HEADER].startswith("v1=") for request in receiver.requests
        )


async def test_http_end_to_end_level_1_then_level_2_then_a_click_stops_it(
    fake_slack: FakeSlack, clock: Any, start_service: StartService
) -> None:
    service, slack = await expire(fake_slack, clock, start_service)
    clock.set(DEADLINE + timedelta(minutes=15))
    await fake_slack.wait_for(lambda: len(pages(fake_slack)) == 5, what="level 2 pages")
    [page] = fake_slack.messages("D" + LIEUTENANT)

    reply = await slack.click(
        action_id=ActionId.ACKNOWLEDGE.value,
        value=payload(page)["custody_id"],
        user_id=LIEUTENANT,
        channel_id="D" + LIEUTENANT,
        message_ts=page["ts"],
    )

    assert reply.status == 200
    await fake_slack.wait_for(lambda: bool(fake_slack.calls_to("chat.update")))
    clock.set(DEADLINE + timedelta(minutes=40))  # round 2 level 2 was due at +30m
    await settle(service)
    assert len(pages(fake_slack)) == 5


async def test_acknowledge_button_from_someone_not_paged_is_refused(
    fake_slack: FakeSlack,
    clock: Any,
    start_service: StartService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A click on the sergeant's DM page by someone else can only be forged: the bot
    stores nothing and writes nothing, in that DM or anywhere else."""
    service, slack = await expire(fake_slack, clock, start_service)
    [page] = fake_slack.messages("D" + SERGEANT)

    await slack.click(
        action_id=ActionId.ACKNOWLEDGE.value,
        value=payload(page)["custody_id"],
        user_id=STRANGER,
        channel_id="D" + SERGEANT,
        message_ts=page["ts"],
    )

    await fake_slack.wait_for(
        lambda: any(r.getMessage() == "page.click_without_page" for r in caplog.records),
        what="the click to be handled",
    )
    # Only the cards were rewritten (at the expiry): no page, nothing the click named.
    rewritten = [c.payload for c in fake_slack.calls_to("chat.update")]
    assert all(payload(p)["kind"] == "logged" for p in rewritten), rewritten
    assert fake_slack.calls_to("chat.postEphemeral") == []
    [custody] = await service.store.list_open_custodies()
    assert custody.acknowledged_at is None
    assert "paging_acknowledged" not in [
        e.action for e in await service.store.audit_trail(custody.id)
    ]


async def test_a_page_cut_short_by_a_crash_is_found_in_the_dm_and_not_sent_again(
    fake_slack: FakeSlack, clock: Any, start_service: StartService
) -> None:
    first, _ = await expire(fake_slack, clock, start_service)
    await first.stop()
    # Replay a crash mid-page: the page to the lieutenant reached Slack, then the bot died.
    await first.store.open()
    [custody] = await first.store.list_open_custodies()
    page = Notice(
        "n_crashed_page", custody.id, NoticeKind.ESCALATION, LIEUTENANT, DEADLINE, level=2, round=1
    )
    await first.store.add_notices([page])
    await first.store.mark_sending(page.id, DEADLINE)
    await first.store.close()
    fake_slack.inject_message(
        "D" + LIEUTENANT,
        text="page",
        metadata={"event_type": "wso_custody", "event_payload": {"notice_id": page.id}},
    )

    service, _ = await start_service()
    await fake_slack.wait_for(lambda: bool(fake_slack.calls_to("conversations.history")))
    await settle(service)
    assert [
        c for c in fake_slack.calls_to("chat.postMessage") if c.payload["channel"] == LIEUTENANT
    ] == []
    [stored] = [n for n in await service.store.notices_for(custody.id) if n.id == page.id]
    assert stored.state is NoticeState.SENT


# --- acknowledgements count once --------------------------------------------------------

ROUTING_KEY = "R" * 32


@pytest.fixture
async def pagerduty() -> AsyncIterator[FakePagerDuty]:
    async with FakePagerDuty() as fake:
        yield fake


Expired = tuple[Any, Any, dict[str, Any]]


@pytest.fixture
async def expired_with_pagerduty(
    fake_slack: FakeSlack,
    clock: Any,
    start_service: StartService,
    db_path: Path,
    pagerduty: FakePagerDuty,
) -> Expired:
    """B-1 expired with PagerDuty's incident open and the sergeant paged; 2 minutes later."""
    config = parse_config(escalation_document(pagerduty_routing_key=ROUTING_KEY))
    settings = replace(make_settings(fake_slack, db_path), pagerduty_events_url=pagerduty.url)
    service, slack = await start_service(config=config, settings=settings)
    await slack.command("arrest B-1")
    await fake_slack.wait_for_posts(2)
    clock.set(DEADLINE)
    await fake_slack.wait_for(lambda: len(pages(fake_slack)) == 1, what="level 1 page")
    await pagerduty.wait_for_events(1)
    await settle(service)
    [page] = fake_slack.messages("D" + SERGEANT)
    clock.advance(timedelta(minutes=2))
    return service, slack, page


def acknowledged_posts(fake_slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [p for p in fake_slack.posts(channel) if payload(p)["kind"] == "acknowledged"]


async def assert_acknowledged_once(
    service: Any, fake_slack: FakeSlack, pagerduty: FakePagerDuty, clock: Any
) -> None:
    """One audit row, one stored and posted notice a channel, one PagerDuty acknowledge,
    one re-page."""
    [custody] = await service.store.list_open_custodies()
    assert custody.acknowledged_at == DEADLINE + timedelta(minutes=2)
    trail = [e.action for e in await service.store.audit_trail(custody.id)]
    assert trail.count("paging_acknowledged") == 1
    stored = [
        n.channel
        for n in await service.store.notices_for(custody.id)
        if n.kind is NoticeKind.ACKNOWLEDGED
    ]
    assert sorted(stored) == sorted([JAIL, ICE, PAGERDUTY_TARGET])
    await fake_slack.wait_for(lambda: len(acknowledged_posts(fake_slack, JAIL)) == 1)
    await pagerduty.wait_for_events(2)
    # Paging resumes reack_after (30m) later; its next level is paged 15 minutes after that.
    clock.set(custody.acknowledged_at + timedelta(minutes=30))
    await fake_slack.wait_for(lambda: len(pages(fake_slack)) == 2, what="the re-page")
    clock.advance(timedelta(minutes=15))
    await fake_slack.wait_for(
        lambda: (LIEUTENANT, 2, 1) in pages(fake_slack), what="level 2 after the re-page"
    )
    sent = Counter(pages(fake_slack))
    assert sent[(SERGEANT, 1, 1)] == 2, sent  # the first page and one re-page
    assert all(count == 1 for key, count in sent.items() if key != (SERGEANT, 1, 1)), sent
    assert len(acknowledged_posts(fake_slack, JAIL)) == 1
    await fake_slack.wait_for(lambda: len(acknowledged_posts(fake_slack, ICE)) == 1)
    actions = [event["event_action"] for event in pagerduty.events]
    assert actions.count("acknowledge") == 1, actions


async def test_a_double_clicked_acknowledge_counts_once(
    fake_slack: FakeSlack, clock: Any, pagerduty: FakePagerDuty, expired_with_pagerduty: Expired
) -> None:
    service, slack, page = expired_with_pagerduty
    click = {
        "action_id": ActionId.ACKNOWLEDGE.value,
        "value": payload(page)["custody_id"],
        "user_id": SERGEANT,
        "channel_id": "D" + SERGEANT,
        "message_ts": page["ts"],
    }

    replies = await asyncio.gather(slack.click(**click), slack.click(**click))

    assert [reply.status for reply in replies] == [200, 200]
    await fake_slack.wait_for(
        lambda: (
            len(updates_of(fake_slack, "D" + SERGEANT, page["ts"]))
            + len(fake_slack.calls_to("chat.postEphemeral"))
            == 2
        ),
        what="both clicks answered",
    )
    [update] = updates_of(fake_slack, "D" + SERGEANT, page["ts"])
    assert "Acknowledged" in update["text"]
    [second] = fake_slack.calls_to("chat.postEphemeral")
    assert (second.payload["channel"], second.payload["user"]) == ("D" + SERGEANT, SERGEANT)
    assert (
        f"already acknowledged by <@{SERGEANT}> at Mon Nov 30, 14:02 CST" in second.payload["text"]
    )
    await assert_acknowledged_once(service, fake_slack, pagerduty, clock)


async def test_two_ack_commands_at_once_count_once(
    fake_slack: FakeSlack, clock: Any, pagerduty: FakePagerDuty, expired_with_pagerduty: Expired
) -> None:
    service, slack, _ = expired_with_pagerduty

    replies = await asyncio.gather(
        slack.command("ack B-1", user_id=SERGEANT, channel_id="D" + SERGEANT),
        slack.command("ack B-1", user_id=OFFICER),
    )

    [custody] = await service.store.list_open_custodies()
    winner = custody.acknowledged_by
    assert winner in (SERGEANT, OFFICER)
    texts = sorted(reply.text for reply in replies)
    assert texts[0].startswith(":information_source:")
    assert f"already acknowledged by <@{winner}> at Mon Nov 30, 14:02 CST" in texts[0]
    assert "Nothing was changed" in texts[0]
    assert texts[1].startswith(":white_check_mark: Acknowledged: paging for booking *B-1*")
    await assert_acknowledged_once(service, fake_slack, pagerduty, clock)


async def test_ack_after_the_latest_page_was_acknowledged_says_who_and_when(
    fake_slack: FakeSlack, clock: Any, start_service: StartService
) -> None:
    service, slack = await expire(fake_slack, clock, start_service)
    clock.advance(timedelta(minutes=3))
    first = await slack.command("ack B-1", user_id=SERGEANT)
    assert "Acknowledged:" in first.text
    clock.advance(timedelta(minutes=5))

    again = await slack.command("ack B-1", user_id=OFFICER)

    assert f"already acknowledged by <@{SERGEANT}> at Mon Nov 30, 14:03 CST" in again.text
    assert "paging starts again at mon nov 30, 14:33 cst" in again.text.lower()
    [custody] = await service.store.list_open_custodies()
    assert custody.acknowledged_by == SERGEANT
    trail = [e.action for e in await service.store.audit_trail(custody.id)]
    assert trail.count("paging_acknowledged") == 1


async def test_a_click_updates_the_stored_page_not_the_message_the_payload_names(
    fake_slack: FakeSlack, clock: Any, start_service: StartService
) -> None:
    service, slack = await expire(fake_slack, clock, start_service)
    [page] = fake_slack.messages("D" + SERGEANT)
    logged = fake_slack.messages(JAIL)[0]

    await slack.click(
        action_id=ActionId.ACKNOWLEDGE.value,
        value=payload(page)["custody_id"],
        user_id=SERGEANT,
        channel_id=JAIL,  # the payload claims the click came from the jail channel's message
        message_ts=logged["ts"],
    )

    await fake_slack.wait_for(lambda: bool(updates_of(fake_slack, "D" + SERGEANT, page["ts"])))
    [update] = updates_of(fake_slack, "D" + SERGEANT, page["ts"])
    assert "Acknowledged" in update["text"]
    # The card the payload named is only ever rewritten as the card (its own update).
    card_updates = updates_of(fake_slack, JAIL, logged["ts"])
    assert all(payload(u)["notice_id"] == payload(logged)["notice_id"] for u in card_updates)
    [page_after] = fake_slack.messages("D" + SERGEANT)
    assert "Acknowledged" in page_after["text"]
    [custody] = await service.store.list_open_custodies()
    assert custody.acknowledged_by == SERGEANT


async def test_a_page_that_fell_back_to_the_jail_channel_is_updated_there(
    fake_slack: FakeSlack, clock: Any, start_service: StartService
) -> None:
    """A level that resolves to nobody pages the jail channel; an officer there answers it."""
    fake_slack.usergroups["S0EMPTY"] = []
    document = escalation_document()
    document["facility"][0]["escalation"] = [{"notify": ["S0EMPTY"], "after": "0s"}]
    document["facility"][0]["escalation_repeat"] = 0  # one page: round 2 would be due with it
    service, slack = await start_service(config=parse_config(document))
    await slack.command("arrest B-8")
    await fake_slack.wait_for_posts(2)
    clock.set(DEADLINE)
    await fake_slack.wait_for(lambda: pages(fake_slack) == [(JAIL, 1, 1)], what="channel page")
    await settle(service)
    [page] = [m for m in fake_slack.messages(JAIL) if payload(m)["kind"] == "escalation"]

    await slack.click(
        action_id=ActionId.ACKNOWLEDGE.value,
        value=payload(page)["custody_id"],
        user_id=OFFICER,
        channel_id="D" + OFFICER,  # an odd payload: not where the page is
        message_ts="1.000001",
    )

    await fake_slack.wait_for(lambda: bool(updates_of(fake_slack, JAIL, page["ts"])))
    [update] = updates_of(fake_slack, JAIL, page["ts"])
    assert "Acknowledged" in update["text"]


# --- who may change who is on call ------------------------------------------------------


def two_jails_with_schedules() -> Config:
    document = escalation_document()
    document["facility"][0]["escalation"] = [{"notify": ["oncall:night"], "after": "0s"}]
    document["facility"].append(
        north_annex(
            officers=[NORTH_OFFICER], escalation=[{"notify": ["oncall:north"], "after": "0s"}]
        )
    )
    rotation = {"timezone": "America/Chicago", "handoff": "07:00", "rotation": "daily"}
    document["schedule"] = [
        {"id": "night", "users": ["U0N1", "U0N2"], "start": "2026-11-30", **rotation},
        {"id": "north", "users": ["U0X1"], **rotation},
    ]
    return parse_config(document)


NORTH_OFFICER = "U0NORTH"


def override_audit_rows(db_path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db_path) as db:
        rows = db.execute(
            "SELECT actor, values_after FROM audit_log WHERE action = 'oncall_override' ORDER BY id"
        ).fetchall()
    return [(str(actor), str(detail)) for actor, detail in rows]


async def test_an_officer_cannot_put_themselves_on_another_jails_on_call(
    fake_slack: FakeSlack, clock: Any, start_service: StartService, db_path: Path
) -> None:
    service, slack = await start_service(config=two_jails_with_schedules())
    await slack.command("arrest B-1 facility county-jail")

    hijack = await slack.command(
        "oncall override night <@U0NORTH|north> 14d", user_id=NORTH_OFFICER
    )
    outsider = await slack.command("oncall override night U0NORTH 12h", user_id=OFFICER)

    assert "Only the officers of County Jail" in hijack.text
    assert "For example: `/wso oncall override north U0NORTH 14d`" in hijack.text
    assert "<@U0NORTH> cannot be put on call for `night`" in outsider.text
    assert "For example: `/wso oncall override night U0AAA 12h`" in outsider.text
    assert await service.store.oncall_overrides("night", clock.now()) == []
    assert override_audit_rows(db_path) == []

    accepted = await slack.command("oncall override night U0N2 3d", user_id=OFFICER)
    assert "<@U0N2> is on call for `night`" in accepted.text
    [row] = override_audit_rows(db_path)
    assert row[0] == OFFICER and "U0N2" in row[1]
    [override] = await service.store.oncall_overrides("night", clock.now())
    assert (override.user_id, override.created_by) == ("U0N2", OFFICER)

    clock.set(DEADLINE)  # the rotation would page U0N1; the override pages U0N2, never U0NORTH
    await fake_slack.wait_for(lambda: len(pages(fake_slack)) == 1, what="the page")
    assert pages(fake_slack) == [("U0N2", 1, 1)]


async def test_a_user_group_slack_does_not_know_neither_stops_the_bot_nor_silences_its_level(
    fake_slack: FakeSlack, clock: Any, start_service: StartService
) -> None:
    document = escalation_document()
    document["facility"][0]["escalation"] = [{"notify": ["S0DELETED"], "after": "0s"}]
    document["facility"][0]["escalation_repeat"] = 0
    service, slack = await start_service(config=parse_config(document))

    healthz = f"http://127.0.0.1:{service.port}/healthz"
    async with aiohttp.ClientSession() as session, session.get(healthz) as response:
        health = await response.json()
    [warning] = health["config_warnings"]
    assert warning.startswith("facility[0].escalation[0].notify[0]: Slack has no user group")
    assert "S0DELETED" in warning

    await slack.command("arrest B-8")
    await fake_slack.wait_for_posts(2)
    clock.set(DEADLINE)
    await fake_slack.wait_for(lambda: len(pages(fake_slack)) == 1, what="the level's page")

    assert pages(fake_slack) == [(JAIL, 1, 1)]
    [lookup] = fake_slack.calls_to("usergroups.users.list")
    assert lookup.response["error"] == "no_such_subteam"
    assert len((await service.health())["config_warnings"]) == 1, "one warning per key"


async def test_a_user_group_deleted_while_running_pages_the_others_on_its_level(
    fake_slack: FakeSlack, clock: Any, start_service: StartService
) -> None:
    service, slack = await start_service()  # level 2: the lieutenant and S0WATCH
    assert (await service.health())["config_warnings"] == []
    await slack.command("arrest B-9")
    await fake_slack.wait_for_posts(2)
    clock.set(DEADLINE)
    await fake_slack.wait_for(lambda: len(pages(fake_slack)) == 1, what="level 1")
    del fake_slack.usergroups["S0WATCH"]
    clock.set(DEADLINE + timedelta(minutes=15))
    await fake_slack.wait_for(lambda: len(pages(fake_slack)) == 3, what="level 2, round 2")

    assert sorted(pages(fake_slack)) == [(LIEUTENANT, 2, 1), (SERGEANT, 1, 1), (SERGEANT, 1, 2)]
    [warning] = (await service.health())["config_warnings"]
    assert warning.startswith("facility[0].escalation[1].notify[1]: Slack answered no_such_subteam")


async def test_a_user_group_lookup_that_fails_for_now_is_retried_not_skipped(
    fake_slack: FakeSlack, clock: Any, start_service: StartService
) -> None:
    document = escalation_document()
    document["facility"][0]["escalation"] = [{"notify": ["S0WATCH"], "after": "0s"}]
    service, slack = await start_service(config=parse_config(document))
    await slack.command("arrest B-10")
    await fake_slack.wait_for_posts(2)
    fake_slack.fail_next("usergroups.users.list", status=503)
    clock.set(DEADLINE)
    await fake_slack.wait_for(
        lambda: bool(fake_slack.calls_to("usergroups.users.list")), what="the failed lookup"
    )
    [custody] = await service.store.list_open_custodies()
    step = await wait_for_step_failure(service, custody.id)
    assert step.last_error == "http_503" and pages(fake_slack) == []

    clock.advance(timedelta(seconds=1))  # the step's first retry
    await fake_slack.wait_for(lambda: len(pages(fake_slack)) == 2, what="the group's pages")

    assert sorted(pages(fake_slack)) == [(WATCH[0], 1, 1), (WATCH[1], 1, 1)]
    assert (await service.health())["config_warnings"] == []


async def wait_for_step_failure(service: Any, custody_id: str) -> Notice:
    """The first page step once the dispatcher has recorded its failed attempt."""

    async def failed_steps() -> list[Notice]:
        return [
            n
            for n in await service.store.notices_for(custody_id)
            if n.kind is NoticeKind.PAGE_STEP and n.last_error
        ]

    [step, *_] = await eventually(failed_steps, bool, "the page step's failure recorded")
    return step
