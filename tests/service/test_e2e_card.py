"""The custody card end to end, over signed HTTP and the fake Slack.

One card per channel, rewritten in place (``chat.update``) at each reminder and change
of state; every other notice in its thread (the last hour's reminders and the expiry
broadcast); every page rewritten once someone acts; a late ICE page; a failing
``chat.update`` that holds nothing up; a restart that neither loses nor doubles a reply.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.app import WsoService
from bot.chat import actions
from bot.config import parse_config
from bot.core.model import NoticeKind, NoticeState
from bot.services.clock import FakeClock
from tests.conftest import (
    DEADLINE,
    DESK_STAFF,
    ICE,
    JAIL,
    START,
    StartService,
    config_document,
)
from tests.fakes.notices import copies, updates_of
from tests.fakes.server import Answer
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.signed_requests import wso_payload as payload
from tests.fakes.slack import ANSWER_SHAPES, FakeSlack
from tests.fakes.waiting import eventually, settle

SERGEANT, LIEUTENANT, ICE_DUTY = "U0SGT", "U0LT", "U0ICEDUTY"


def posts_of(fake_slack: FakeSlack, channel: str, kind: str) -> list[dict[str, Any]]:
    return [p for p in fake_slack.posts(channel) if payload(p)["kind"] == kind]


def card(fake_slack: FakeSlack, channel: str) -> dict[str, Any]:
    """The card as Slack holds it now (after any updates)."""
    [found] = [m for m in fake_slack.messages(channel) if payload(m)["kind"] == "logged"]
    return found


def card_text(message: dict[str, Any]) -> str:
    return str(message["blocks"])


async def arrest(slack: SignedSlackClient, fake_slack: FakeSlack) -> dict[str, str]:
    """Log B-1; return each channel's card ts."""
    await slack.command("arrest B-1")
    for channel in (JAIL, ICE):
        await fake_slack.wait_for_posts(1, channel=channel)
    return {channel: card(fake_slack, channel)["ts"] for channel in (JAIL, ICE)}


async def test_one_card_per_channel_updated_at_each_reminder_with_replies_in_its_thread(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock, service: WsoService
) -> None:
    cards = await arrest(slack, fake_slack)
    for channel in (JAIL, ICE):
        [logged] = posts_of(fake_slack, channel, "logged")
        assert "thread_ts" not in logged
        assert logged["blocks"][0]["type"] == "header"
        buttons = [
            e["action_id"]
            for b in logged["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
        ]
        assert buttons == [actions.TRANSFER, actions.RELEASE, actions.ADD_NOTE]

    steps = [(24, False, "More than 12 h"), (12, False, "12 h or less"), (4, False, "4 h or less")]
    steps += [(1, True, "4 h or less"), (0.5, True, "4 h or less")]
    for number, (lead, broadcast, stage) in enumerate(steps, start=1):
        clock.set(DEADLINE - timedelta(hours=lead))
        for channel in (JAIL, ICE):
            await fake_slack.wait_for(
                lambda channel=channel, number=number: (
                    len(updates_of(fake_slack, channel, cards[channel])) == number
                ),
                what=f"the card in {channel} updated after the {lead}h reminder",
            )
            reminder = posts_of(fake_slack, channel, "reminder")[-1]
            assert reminder["thread_ts"] == cards[channel]
            assert reminder.get("reply_broadcast", False) is broadcast, lead
            update = updates_of(fake_slack, channel, cards[channel])[-1]
            assert stage in card_text(update)
            # The same metadata as the card was posted with: kind logged, its notice id.
            assert payload(update)["notice_id"] == payload(card(fake_slack, channel))["notice_id"]
            assert payload(update)["kind"] == "logged"

    clock.set(DEADLINE)
    for channel in (JAIL, ICE):
        await fake_slack.wait_for(
            lambda channel=channel: "Window expired" in card_text(card(fake_slack, channel)),
            what=f"the card in {channel} says expired",
        )
        [expired] = posts_of(fake_slack, channel, "expired")
        assert (expired["thread_ts"], expired["reply_broadcast"]) == (cards[channel], True)
    # A page to a person is a DM, never a thread reply.
    assert all("thread_ts" not in p for p in fake_slack.posts("D" + SERGEANT))


async def test_a_closure_goes_in_the_thread_and_the_card_shows_it_without_buttons(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock, service: WsoService
) -> None:
    cards = await arrest(slack, fake_slack)
    clock.advance(timedelta(hours=3))

    await slack.command("transfer B-1", user_id=DESK_STAFF)

    for channel in (JAIL, ICE):
        await fake_slack.wait_for(
            lambda channel=channel: bool(updates_of(fake_slack, channel, cards[channel])),
            what=f"the card in {channel} updated",
        )
        [closing] = posts_of(fake_slack, channel, "transferred")
        assert closing["thread_ts"] == cards[channel]
        assert "reply_broadcast" not in closing
        now = card(fake_slack, channel)
        assert "ICE took custody" in card_text(now) and f"<@{DESK_STAFF}>" in card_text(now)
        assert not [b for b in now["blocks"] if b["type"] == "actions"], "buttons on a closed card"
        assert payload(now)["state"] == "transferred"
    await settle(service)
    assert len(fake_slack.calls_to("chat.update")) == 2  # one per channel, coalesced


@pytest.mark.parametrize(
    "shape",
    ["json_500", "plain_503", "ratelimited_retry_after", "ok_false_cant_update", "reset"],
)
async def test_a_failing_card_update_is_retried_and_holds_no_thread_reply(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    clock: FakeClock,
    service: WsoService,
    shape: str,
) -> None:
    cards = await arrest(slack, fake_slack)
    answer = (
        Answer.not_ok("cant_update_message")
        if shape == "ok_false_cant_update"
        else ANSWER_SHAPES[shape]
    )
    outage = fake_slack.outage(answer, methods=["chat.update"])

    clock.set(DEADLINE - timedelta(hours=24))
    await fake_slack.wait_for(
        lambda: bool(fake_slack.calls_to("chat.update")), what="an update attempted"
    )
    clock.set(DEADLINE - timedelta(hours=12))  # the next reply is not held by the failing update
    for channel in (JAIL, ICE):
        await fake_slack.wait_for_posts(3, channel=channel)
        assert [p["thread_ts"] for p in fake_slack.posts(channel)[1:]] == [cards[channel]] * 2
    assert not updates_of(fake_slack, JAIL, cards[JAIL])

    outage.end()
    for _ in range(3):  # retried on its schedule (5 minutes at most), not lost
        clock.advance(timedelta(minutes=5))
        await settle(service)
    for channel in (JAIL, ICE):
        assert "12 h or less" in card_text(card(fake_slack, channel)), channel
    [custody] = await service.store.list_open_custodies()
    updates = [
        n for n in await service.store.notices_for(custody.id) if n.kind is NoticeKind.CARD_UPDATE
    ]
    assert all(n.state in (NoticeState.SENT, NoticeState.SKIPPED) for n in updates)


async def test_an_acknowledgement_rewrites_every_page_and_reaches_both_channels(
    fake_slack: FakeSlack, clock: FakeClock, start_service: StartService
) -> None:
    document = config_document(escalation=[{"notify": [SERGEANT, LIEUTENANT], "after": "0s"}])
    service, slack = await start_service(config=parse_config(document))
    cards = await arrest(slack, fake_slack)
    clock.set(DEADLINE)
    for person in (SERGEANT, LIEUTENANT):
        await fake_slack.wait_for_posts(1, channel="D" + person)
    await settle(service)
    pages = {p: fake_slack.messages("D" + p)[0]["ts"] for p in (SERGEANT, LIEUTENANT)}
    clock.advance(timedelta(minutes=2))

    await slack.click(
        action_id="wso_ack",
        value=payload(fake_slack.messages("D" + SERGEANT)[0])["custody_id"],
        user_id=SERGEANT,
        channel_id="D" + SERGEANT,
        message_ts=pages[SERGEANT],
    )

    for person, ts in pages.items():  # not only the page that was pressed
        await fake_slack.wait_for(
            lambda person=person, ts=ts: bool(updates_of(fake_slack, "D" + person, ts)),
            what=f"{person}'s page updated",
        )
        [page] = fake_slack.messages("D" + person)
        assert f"Acknowledged* by <@{SERGEANT}>" in page["text"]
        assert not [b for b in page["blocks"] if b["type"] == "actions"], "button still there"
    for channel in (JAIL, ICE):
        await fake_slack.wait_for(
            lambda channel=channel: bool(posts_of(fake_slack, channel, "acknowledged")),
            what=f"the acknowledgement in {channel}",
        )
        [ack] = posts_of(fake_slack, channel, "acknowledged")
        assert ack["thread_ts"] == cards[channel]

    await slack.command("release B-1 window expired", user_id=DESK_STAFF)  # closure: again
    for person in (SERGEANT, LIEUTENANT):
        await fake_slack.wait_for(
            lambda person=person: "Released" in fake_slack.messages("D" + person)[0]["text"],
            what=f"{person}'s page says released",
        )


async def test_an_ice_page_step_already_past_at_logging_pages_at_once_marked_late(
    fake_slack: FakeSlack, clock: FakeClock, start_service: StartService
) -> None:
    document = config_document(
        ice_escalation=[
            {"notify": [ICE_DUTY], "before": "4h"},
            {"notify": [LIEUTENANT], "before": "1h"},
        ]
    )
    _, slack = await start_service(config=parse_config(document))
    clock.set(START + timedelta(hours=46))  # 2 hours left of the window when it is logged

    await slack.command("arrest B-1 at 2026-11-28 14:00")

    await fake_slack.wait_for_posts(1, channel="D" + ICE_DUTY)
    [page] = fake_slack.posts("D" + ICE_DUTY)
    assert payload(page)["late"] is True and payload(page)["level"] == 1
    assert "late page" in page["text"]
    # The 1h level is still ahead: it pages on time, not late.
    clock.set(DEADLINE - timedelta(hours=1))
    await fake_slack.wait_for_posts(1, channel="D" + LIEUTENANT)
    assert payload(fake_slack.posts("D" + LIEUTENANT)[0])["late"] is False


async def test_a_reply_left_in_doubt_by_a_restart_is_found_in_the_thread_not_posted_twice(
    fake_slack: FakeSlack, clock: FakeClock, start_service: StartService
) -> None:
    service, slack = await start_service()
    cards = await arrest(slack, fake_slack)
    await settle(service)
    # The 24h reminder lands in the jail card's thread, but the answer is lost.
    fake_slack.outage(
        ANSWER_SHAPES["plain_503_after_posting"],
        methods=["chat.postMessage"],
        channel=JAIL,
        times=1,
    )
    clock.set(DEADLINE - timedelta(hours=24))
    await eventually(
        lambda: _reminder(service, JAIL),
        lambda n: n.attempts == 1 and n.may_have_posted,
        "the reminder in doubt",
    )
    await service.stop()

    restarted, _ = await start_service()
    clock.advance(timedelta(minutes=5))
    await eventually(
        lambda: _reminder(restarted, JAIL), lambda n: n.state is NoticeState.SENT, "settled"
    )
    await settle(restarted)
    reminder_id = (await _reminder(restarted, JAIL)).id
    assert copies(fake_slack, JAIL)[reminder_id] == 1  # found, not posted twice
    assert fake_slack.calls_to("conversations.replies")
    [reply] = [m for m in fake_slack.messages(JAIL) if payload(m)["notice_id"] == reminder_id]
    assert reply["thread_ts"] == cards[JAIL]
    # The reminder found is out, so the card it owes an update to was updated too.
    assert len(updates_of(fake_slack, JAIL, cards[JAIL])) == 1


async def _reminder(service: WsoService, channel: str) -> Any:
    [custody] = await service.store.list_open_custodies()
    notices = await service.store.notices_for(custody.id)
    [found] = [
        n
        for n in notices
        if n.kind is NoticeKind.REMINDER and n.channel == channel and n.lead_seconds == 86400
    ]
    return found
