"""Socket Mode end to end: the bot dials out to a fake Slack Socket Mode server.

The bot calls ``apps.connections.open`` on the fake Slack, which answers the fake
socket server's URL; commands arrive there as envelopes and the answer is the ack's
payload. ``/healthz`` (on ``PORT``, as in HTTP mode) reports the link throughout.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.app import WsoService
from bot.chat import actions
from bot.config import Config
from bot.services.clock import FakeClock
from bot.socket_mode import ALARM_AFTER_FAILURES, SocketLimits
from tests.conftest import ICE, JAIL, OFFICER, SIGNING_SECRET, make_settings
from tests.fakes.notices import kinds
from tests.fakes.server import Answer
from tests.fakes.signed_requests import (
    SignedSlackClient,
    SlackReply,
    click_payload,
    view_submission_payload,
)
from tests.fakes.signed_requests import wso_payload as payload
from tests.fakes.slack import FakeSlack
from tests.fakes.socket_mode import FakeSocketMode
from tests.fakes.waiting import eventually

APP_TOKEN = "xapp-1-A0FAKE-1-test"
# Fractions of a second, so that the watchdog's rounds fit a test. slack_sdk's own ping
# check takes 40 s to give up on a link: whatever is replaced within a test was replaced
# by the watchdog.
FAST = SocketLimits(
    check_seconds=0.05, stale_seconds=5.0, connect_seconds=1.0, red_after_seconds=0.3
)

Start = Callable[..., Awaitable[tuple[WsoService, SignedSlackClient]]]


@pytest.fixture
async def socket(fake_slack: FakeSlack) -> AsyncIterator[FakeSocketMode]:
    async with FakeSocketMode() as server:
        fake_slack.socket_url = server.url
        fake_slack.app_token = APP_TOKEN
        yield server


@pytest.fixture
async def start_socket_bot(
    fake_slack: FakeSlack, db_path: Path, config: Config, clock: FakeClock
) -> AsyncIterator[Start]:
    """Start the bot in Socket Mode (no signing secret); returns it and a /healthz client."""
    started: list[tuple[WsoService, SignedSlackClient]] = []

    async def start(limits: SocketLimits = FAST) -> tuple[WsoService, SignedSlackClient]:
        settings = replace(
            make_settings(fake_slack, db_path), slack_signing_secret="", slack_app_token=APP_TOKEN
        )
        service = WsoService(settings, config, clock=clock, socket_limits=limits)
        await service.start(host="127.0.0.1", port=0)
        client = SignedSlackClient(f"http://127.0.0.1:{service.port}", SIGNING_SECRET)
        await client.__aenter__()
        started.append((service, client))
        return service, client

    yield start
    for service, client in started:
        await client.__aexit__(None, None, None)
        await service.stop()


def socket_state(reply: SlackReply) -> dict[str, Any]:
    state: dict[str, Any] = reply.json["socket"]
    return state


async def test_commands_over_the_socket_before_and_after_slack_drops_it(
    socket: FakeSocketMode, fake_slack: FakeSlack, start_socket_bot: Start
) -> None:
    service, http = await start_socket_bot()
    health = await eventually(
        lambda: http.get_json("/healthz"),
        lambda r: socket_state(r)["state"] == "connected",
        "the socket to connect",
    )
    assert health.status == 200
    assert socket_state(health)["reconnects"] == 0
    assert socket_state(health)["since"].endswith("Z")

    ack = await socket.command("arrest B-1", user_id=OFFICER, channel_id=JAIL)

    assert ack["envelope_id"] == "env-1"
    assert ack["payload"]["response_type"] == "ephemeral"
    assert "B-1" in ack["payload"]["text"]
    assert "48h 00m left" in ack["payload"]["text"]
    await fake_slack.wait_for_posts(1, channel=JAIL)
    await fake_slack.wait_for_posts(1, channel=ICE)
    assert [c.booking for c in await service.store.list_open_custodies()] == ["B-1"]
    assert len(fake_slack.calls_to("apps.connections.open")) == 1

    await socket.drop()
    health = await eventually(
        lambda: http.get_json("/healthz"),
        lambda r: socket_state(r)["state"] == "connected" and socket_state(r)["reconnects"] >= 1,
        "the socket to come back",
    )
    assert health.status == 200
    assert len(fake_slack.calls_to("apps.connections.open")) >= 2
    assert socket.connections >= 2

    ack = await socket.command("arrest B-2", user_id=OFFICER, channel_id=JAIL)

    assert "B-2" in ack["payload"]["text"]
    await fake_slack.wait_for_posts(2, channel=JAIL)
    assert kinds(fake_slack, JAIL) == ["logged", "logged"]
    bookings = sorted(c.booking for c in await service.store.list_open_custodies())
    assert bookings == ["B-1", "B-2"]


async def test_socket_mode_has_no_inbound_slack_endpoint(
    socket: FakeSocketMode, start_socket_bot: Start
) -> None:
    _, http = await start_socket_bot()

    reply = await http.command("arrest B-1")

    assert reply.status == 404
    assert (await http.get_json("/metrics")).status == 200


async def test_a_silent_link_is_replaced_by_the_watchdog(
    socket: FakeSocketMode, fake_slack: FakeSlack, start_socket_bot: Start
) -> None:
    _, http = await start_socket_bot(replace(FAST, stale_seconds=0.5))
    await socket.wait_for_connections(1)

    socket.freeze()  # open, but no pong and no ack: only our own ping can tell

    health = await eventually(
        lambda: http.get_json("/healthz"),
        lambda r: (
            socket_state(r)["watchdog_reconnects"] >= 1 and socket_state(r)["state"] == "connected"
        ),
        "the watchdog to replace the silent link",
    )
    assert health.status == 200
    assert socket.connections >= 2
    assert len(fake_slack.calls_to("apps.connections.open")) >= 2
    ack = await socket.command("arrest B-9", user_id=OFFICER, channel_id=JAIL)
    assert "B-9" in ack["payload"]["text"]


async def test_a_watchdog_failing_again_and_again_is_an_alarm_until_slack_answers(
    socket: FakeSocketMode, fake_slack: FakeSlack, start_socket_bot: Start
) -> None:
    outage = fake_slack.outage(Answer.plain_text(503), methods=["apps.connections.open"])
    _, http = await start_socket_bot()

    red = await eventually(
        lambda: http.get_json("/healthz"),
        lambda r: "alarm" in socket_state(r),
        "the watchdog's failures to raise the alarm",
    )
    assert red.status == 503
    assert red.json["ok"] is False
    state = socket_state(red)
    assert state["state"] == "disconnected"
    assert state["failures_in_a_row"] >= ALARM_AFTER_FAILURES
    assert state["last_error"].startswith("apps.connections.open: ")
    assert "503" in state["last_error"]
    assert socket.connections == 0

    outage.end()

    green = await eventually(
        lambda: http.get_json("/healthz"),
        lambda r: r.status == 200,
        "the socket to connect once Slack answers",
    )
    assert socket_state(green)["state"] == "connected"
    assert socket_state(green)["failures_in_a_row"] == 0
    assert "alarm" not in socket_state(green)


async def test_down_longer_than_the_bound_turns_healthz_red(
    socket: FakeSocketMode, fake_slack: FakeSlack, start_socket_bot: Start
) -> None:
    fake_slack.outage(Answer.plain_text(503), methods=["apps.connections.open"])
    # One watchdog round in the test's time: one failure, no alarm, only the time down.
    _, http = await start_socket_bot(replace(FAST, check_seconds=60.0))

    red = await eventually(
        lambda: http.get_json("/healthz"),
        lambda r: r.status == 503,
        "healthz to turn red",
    )
    assert socket_state(red)["state"] == "disconnected"
    assert socket_state(red)["ok"] is False
    assert "alarm" not in socket_state(red)


async def test_an_event_over_the_socket_is_acked_and_handled(
    socket: FakeSocketMode, fake_slack: FakeSlack, start_socket_bot: Start
) -> None:
    await start_socket_bot()
    event = {"type": "app_home_opened", "user": OFFICER, "tab": "home", "channel": "D0HOME"}
    callback = {"type": "event_callback", "team_id": "T0FAKE", "api_app_id": "A0FAKE"}

    ack = await socket.request("events_api", {**callback, "event": event, "event_id": "Ev1"})

    assert set(ack) == {"envelope_id"}  # an event's ack carries nothing back
    await fake_slack.wait_for(lambda: bool(fake_slack.calls_to("views.publish")))
    [publish] = fake_slack.calls_to("views.publish")
    assert publish.payload["user_id"] == OFFICER
    assert publish.payload["view"]["type"] == "home"


async def test_a_card_button_and_its_modal_over_the_socket(
    socket: FakeSocketMode, fake_slack: FakeSlack, start_socket_bot: Start
) -> None:
    service, _ = await start_socket_bot()
    await socket.command("arrest B-1", user_id=OFFICER, channel_id=JAIL)
    await fake_slack.wait_for_posts(1, channel=JAIL)
    [card] = fake_slack.messages(JAIL)
    [custody] = await service.store.list_open_custodies()
    click = click_payload(
        action_id=actions.ADD_NOTE,
        value=custody.id,
        user_id=OFFICER,
        channel_id=JAIL,
        message_ts=card["ts"],
    )

    ack = await socket.request("interactive", click)

    assert set(ack) == {"envelope_id"}  # a click's ack carries nothing back
    await fake_slack.wait_for(lambda: bool(fake_slack.calls_to("views.open")))
    view = fake_slack.calls_to("views.open")[0].response["view"]
    values = {actions.NOTE_TEXT: {"value": "pickup at 14:00"}}
    ack = await socket.request(
        "interactive", view_submission_payload(view, values, user_id=OFFICER)
    )

    assert not ack.get("payload")  # an empty answer: the modal closes
    posts = await fake_slack.wait_for_posts(2, channel=ICE)
    [note] = [p for p in posts if payload(p)["kind"] == "note"]
    assert "pickup at 14:00" in note["text"]
