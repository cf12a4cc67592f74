"""The A-number over signed HTTP: stored, shown masked to the officer alone, never posted or logged.

Every call the bot makes to the fake Slack (posts, updates, scheduled backups, DMs, views)
and every log record, at DEBUG and with its extras, is searched for the digits.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.app import WsoService
from bot.chat import actions
from bot.ops.logs import QUIETED_LIBRARIES, configure_logging
from tests.conftest import ICE, JAIL, OFFICER
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.slack import FakeSlack
from tests.fakes.waiting import settle
from tests.service.test_e2e_arrest_form import GOOD, open_form

STORED = "A098765432"
MASKED = "A-XXX-XX5432"
# Any trace of the number as stored or typed (the 8 digits alone would also give it away).
TRACES = ("098765432", "98765432", "987-654-32", "987 654 32")


@pytest.fixture
def bot_logs() -> Iterator[Callable[[], str]]:
    """What the bot writes with ``LOG_LEVEL=DEBUG``, its most talkative."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    libraries = {name: logging.getLogger(name).level for name in QUIETED_LIBRARIES}
    written = io.StringIO()
    configure_logging("DEBUG", written)
    yield written.getvalue
    root.handlers[:], level = saved
    root.setLevel(level)
    for name, library_level in libraries.items():
        logging.getLogger(name).setLevel(library_level)


def every_slack_call(fake_slack: FakeSlack) -> list[str]:
    return [json.dumps(call.payload) + json.dumps(call.response) for call in fake_slack.calls]


def assert_no_trace(text: str, where: str) -> None:
    for trace in TRACES:
        assert trace not in text, f"the A-number ({trace}) appears in {where}"


@pytest.mark.parametrize(
    "typed",
    ["A098765432", "A98765432", "a-987-654-32", "A 987 654 32"],
    ids=["padded", "eight-digits", "dashes", "groups"],
)
async def test_a_typed_a_number_is_stored_padded_and_never_leaves_the_receipt(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    service: WsoService,
    bot_logs: Callable[[], str],
    typed: str,
) -> None:
    reply = await slack.command(f"arrest B-77 I-200 anumber {typed} at 13:30")

    assert MASKED in reply.text and "never shown in a channel" in reply.text
    [custody] = await service.store.list_open_custodies()
    assert custody.a_number == STORED
    assert STORED not in repr(custody)
    await fake_slack.wait_for_posts(1, channel=JAIL)
    await fake_slack.wait_for_posts(1, channel=ICE)
    await settle(service)

    calls = every_slack_call(fake_slack)
    assert any('"chat.postMessage"' in c or JAIL in c for c in calls)
    for call in calls:
        assert_no_trace(call, "a Slack call")
        assert MASKED not in call  # not even masked: the receipt was the ephemeral ack
    for post in fake_slack.posts():
        payload = (post.get("metadata") or {}).get("event_payload") or {}
        assert payload and not any("number" in key and "warrant" not in key for key in payload)
    logged = bot_logs()
    assert '"event": "notice.sent"' in logged  # the logs were read
    assert logging.getLogger().level == logging.DEBUG
    assert_no_trace(logged, "the logs")
    trail = await service.store.audit_trail(custody.id)
    assert [entry.action for entry in trail][:1] == ["arrest_logged"]
    recorded = [[entry.before, entry.after, entry.detail] for entry in trail]
    assert_no_trace(json.dumps(recorded), "the audit entries")


async def test_the_forms_a_number_is_masked_in_the_officers_receipt_alone(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    service: WsoService,
    bot_logs: Callable[[], str],
) -> None:
    view = await open_form(slack, fake_slack)
    assert actions.ARREST_A_NUMBER in {b["block_id"] for b in view["blocks"]}
    values: dict[str, dict[str, Any]] = {
        **GOOD,
        actions.ARREST_A_NUMBER: {"value": "A-987-654-32"},
    }
    reply = await slack.submit_view(view, values, user_id=OFFICER)

    assert reply.status == 200 and reply.body == ""
    [custody] = await service.store.list_open_custodies()
    assert custody.a_number == STORED
    [receipt] = await fake_slack.wait_for_posts(1, channel=OFFICER)
    assert MASKED in receipt["text"]
    await settle(service)
    for call in every_slack_call(fake_slack):
        assert_no_trace(call, "a Slack call")
    for channel in (JAIL, ICE):
        posts = fake_slack.posts(channel)
        assert posts and all(MASKED not in json.dumps(post) for post in posts)
    logged = bot_logs()
    assert '"event": "notice.sent"' in logged  # the logs were read
    assert logging.getLogger().level == logging.DEBUG
    assert_no_trace(logged, "the logs")


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        pytest.param("A987654", "that one has 6", id="too-short"),
        pytest.param("A9876543210", "that one has 10", id="too-long"),
        pytest.param("B98765432", "the letter A", id="not-an-a"),
        pytest.param("A9876x432", "the letter A", id="not-digits"),
    ],
)
async def test_a_bad_a_number_is_refused_without_repeating_it(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    service: WsoService,
    bot_logs: Callable[[], str],
    typed: str,
    said: str,
) -> None:
    reply = await slack.command(f"arrest B-78 anumber {typed}")

    assert said in reply.text
    assert "/wso arrest B-78 anumber A123456789" in reply.text  # a right example
    assert typed not in reply.text
    assert typed not in bot_logs()
    assert await service.store.list_open_custodies() == []

    view = await open_form(slack, fake_slack)
    answer = await slack.submit_view(
        view, {**GOOD, actions.ARREST_A_NUMBER: {"value": typed}}, user_id=OFFICER
    )
    assert list(answer.json["errors"]) == [actions.ARREST_A_NUMBER]
    assert said in answer.json["errors"][actions.ARREST_A_NUMBER]
    assert typed not in answer.body
    assert await service.store.list_open_custodies() == []
    assert not fake_slack.posts()
