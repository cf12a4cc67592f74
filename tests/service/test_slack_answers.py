"""Every answer Slack (or its edge) can give maps to a result or a ``SendFailure``.

The answers are real HTTP answers from the fake Slack (``ANSWER_SHAPES``), and
real failures to connect: nothing here builds exception objects by hand. The
table is the contract the dispatcher relies on: ``may_have_posted`` is true
exactly where Slack may have carried out the call although it did not say so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.chat.notices import SlackMessage
from bot.clients.slack_gateway import SlackGateway
from bot.clients.slack_web_api import SlackWebApi, classify_answer
from bot.core.retry import DeliveryFailed, SendFailure
from bot.services.clock import FakeClock
from tests.conftest import BOT_TOKEN, JAIL, START
from tests.fakes.server import unused_port
from tests.fakes.slack import ANSWER_SHAPES, Answer, FakeSlack

# Short enough that a hang costs the suite little; the bot's own budgets are 3 s and 10 s.
TEST_TIMEOUT = 0.3
MESSAGE = SlackMessage(
    text="probe",
    metadata={"event_type": "wso_custody", "event_payload": {"notice_id": "n_probe"}},
)

# shape name -> (code, may_have_posted, retry_after)
EXPECTED: dict[str, tuple[str, bool, float | None]] = {
    "json_500": ("http_500", True, None),
    "json_503_fatal": ("http_503", True, None),
    "json_400": ("invalid_arguments", False, None),
    "json_404_unknown_method": ("unknown_method", False, None),
    "plain_503": ("http_503", True, None),
    "plain_502": ("http_502", True, None),
    "plain_200": ("unreadable_answer", True, None),
    "html_502": ("http_502", True, None),
    "html_200": ("unreadable_answer", True, None),
    "empty_503": ("http_503", True, None),
    "empty_200": ("unreadable_answer", True, None),
    "invalid_json_200": ("unreadable_answer", True, None),
    "invalid_json_503": ("http_503", True, None),
    "json_list_200": ("unreadable_answer", True, None),
    "ok_false": ("channel_not_found", False, None),
    "ok_false_odd_error": ("http_200", False, None),
    "redirect_302": ("http_302", False, None),
    "redirect_307": ("http_307", False, None),
    "ratelimited_retry_after": ("ratelimited", False, 7.0),
    "ratelimited_no_retry_after": ("ratelimited", False, None),
    "ratelimited_retry_after_inf": ("ratelimited", False, None),
    "ratelimited_retry_after_huge": ("ratelimited", False, 60.0),
    "hang": ("timeout", True, None),
    "reset": ("connection_error", True, None),
    "plain_503_after_posting": ("http_503", True, None),
    "html_200_after_posting": ("unreadable_answer", True, None),
    "reset_after_posting": ("connection_error", True, None),
    "hang_after_posting": ("timeout", True, None),
}


def test_the_table_covers_every_shape_the_fake_can_give() -> None:
    assert set(EXPECTED) == set(ANSWER_SHAPES)


@pytest.fixture
async def gateway(fake_slack: FakeSlack) -> Any:
    api = SlackWebApi(BOT_TOKEN, fake_slack.api_url, timeout=TEST_TIMEOUT)
    await api.open()
    yield SlackGateway(api)
    await api.close()


async def failure_of(call: Awaitable[Any]) -> SendFailure:
    with pytest.raises(DeliveryFailed) as raised:
        await call
    return raised.value.failure


@pytest.mark.parametrize("shape", sorted(EXPECTED))
async def test_a_post_answered_in_each_shape_is_classified(
    shape: str, gateway: SlackGateway, fake_slack: FakeSlack
) -> None:
    fake_slack.outage(ANSWER_SHAPES[shape], methods=["chat.postMessage"], times=1)
    failure = await failure_of(gateway.post_message(JAIL, MESSAGE))
    code, may_have_posted, retry_after = EXPECTED[shape]
    assert (failure.code, failure.may_have_posted, failure.retry_after) == (
        code,
        may_have_posted,
        retry_after,
    )
    # The answer was the fake's to give, and the next call is Slack's own again.
    assert await gateway.post_message(JAIL, MESSAGE)
    landed = [m for m in fake_slack.messages(JAIL) if m["text"] == "probe"]
    assert len(landed) == (2 if ANSWER_SHAPES[shape].process else 1)


@pytest.mark.parametrize(
    ("base_url", "code"),
    [
        pytest.param(
            lambda: f"http://127.0.0.1:{unused_port()}/api/", "connect_failed", id="refused"
        ),
        pytest.param(lambda: "http://wso-fake-slack.invalid/api/", "dns_failed", id="dns"),
    ],
)
async def test_a_call_that_never_connected_cannot_have_posted(
    base_url: Callable[[], str], code: str
) -> None:
    gateway = SlackGateway(SlackWebApi(BOT_TOKEN, base_url(), timeout=5))
    failure = await failure_of(gateway.post_message(JAIL, MESSAGE))
    assert failure.code == code
    assert not failure.may_have_posted


READS: dict[str, Callable[[SlackGateway], Awaitable[Any]]] = {
    "history": lambda g: g.find_posted(JAIL, START, lambda m: False),
    "scheduled_list": lambda g: g.scheduled_messages(),
    "dm_channel": lambda g: g.direct_message_channel("U0AAA"),
    "usergroup_members": lambda g: g.usergroup_members("S0GROUP"),
    "email_lookup": lambda g: g.user_id_for_email("sgt@example.org"),
    "usergroups": lambda g: g.usergroup_ids(),
    "schedule": lambda g: g.schedule_message(JAIL, 1_800_000_000, "backup"),
    "delete_scheduled": lambda g: g.delete_scheduled_message(JAIL, "Q1"),
    "auth_test": lambda g: g.auth_test(),
}


@pytest.mark.parametrize("shape", sorted(set(EXPECTED) - {"ok_false", "ok_false_odd_error"}))
@pytest.mark.parametrize("call", sorted(READS))
async def test_every_gateway_call_raises_only_delivery_failed(
    shape: str, call: str, gateway: SlackGateway, fake_slack: FakeSlack
) -> None:
    fake_slack.outage(ANSWER_SHAPES[shape])
    failure = await failure_of(READS[call](gateway))
    assert failure.code == EXPECTED[shape][0]


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        pytest.param(200, b'{"ok": true, "ts": "1.2"}', {"ok": True, "ts": "1.2"}, id="ok"),
        pytest.param(201, b'{"ok": true}', {"ok": True}, id="ok-other-2xx"),
        pytest.param(
            200, b'{"ok": "yes"}', SendFailure("unreadable_answer", None, True), id="ok-not-bool"
        ),
        pytest.param(200, b"\xff\xfe", SendFailure("unreadable_answer", None, True), id="not-utf8"),
        pytest.param(
            200, b"[" * 100_000, SendFailure("unreadable_answer", None, True), id="deep-json"
        ),
        pytest.param(200, b'{"ok": false}', SendFailure("http_200"), id="ok-false-no-error"),
        pytest.param(
            200, b'{"ok": false, "error": 7}', SendFailure("http_200"), id="error-not-text"
        ),
        pytest.param(
            403, b'{"ok": false, "error": "invalid_auth"}', SendFailure("invalid_auth"), id="auth"
        ),
        pytest.param(
            200,
            b'{"ok": false, "error": "ratelimited"}',
            SendFailure("ratelimited"),
            id="ratelimited-in-body",
        ),
        pytest.param(404, b"Not Found", SendFailure("http_404"), id="plain-404"),
        pytest.param(599, b"", SendFailure("http_599", None, True), id="odd-5xx"),
        pytest.param(101, b"", SendFailure("http_101"), id="odd-1xx"),
    ],
)
def test_classify_answer_table(
    status: int, body: bytes, expected: dict[str, Any] | SendFailure
) -> None:
    assert classify_answer(status, body) == expected


async def test_a_long_answer_is_refused_not_buffered_without_end(
    gateway: SlackGateway, fake_slack: FakeSlack
) -> None:
    huge = Answer.raw(200, "application/json", b'{"ok": true, "x": "' + b"a" * (17 << 20) + b'"}')
    fake_slack.outage(huge, methods=["chat.postMessage"], times=1)
    failure = await failure_of(gateway.post_message(JAIL, MESSAGE))
    assert failure.code == "answer_too_large"
    assert failure.may_have_posted


async def test_outages_end_by_time_on_the_fakes_clock(
    gateway: SlackGateway, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    outage = fake_slack.outage(ANSWER_SHAPES["plain_503"], channel=JAIL, seconds=60)
    assert (await failure_of(gateway.post_message(JAIL, MESSAGE))).code == "http_503"
    assert await gateway.post_message("C0OTHER", MESSAGE)  # other channels are not touched
    clock.advance(timedelta(seconds=60))
    assert await gateway.post_message(JAIL, MESSAGE)
    assert outage.ended and outage.answered == 1
