"""The ack path: a signed ``/wso`` command is answered by the web face without Bolt.

Bolt's dispatch (its middleware chain, and a poll every 10 ms for the listener's ack) cost
the arrest path about a fifth of its throughput (README, "The HTTP endpoint and its
limits"). The web face answers ``/wso`` itself, through the same handler function Bolt's
listener uses; Bolt keeps what needs its client or a trigger: the arrest form, buttons,
views and events. ``/metrics`` counts which path answered each verified request.
"""

from __future__ import annotations

import re

from bot.app import WsoService
from tests.conftest import JAIL, OFFICER
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.slack import FakeSlack

LOGGED = ":white_check_mark: Logged WSO arrest of booking *B-1*"


async def answered_by(slack: SignedSlackClient) -> dict[str, float]:
    metrics = (await slack.get_json("/metrics")).body
    return {
        path: float(count)
        for path, count in re.findall(
            r'^wso_slack_requests_total\{path="(\w+)"\} (\S+)$', metrics, re.M
        )
    }


async def test_a_command_is_answered_directly_and_stored_before_the_answer(
    service: WsoService, slack: SignedSlackClient
) -> None:
    reply = await slack.command("arrest B-1 I-200", user_id=OFFICER, channel_id=JAIL)
    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert reply.text.startswith(LOGGED)
    assert [c.booking for c in await service.store.find_custodies("B-1")] == ["B-1"]
    assert await answered_by(slack) == {"direct": 1.0}


async def test_refusals_and_help_are_answered_directly_too(slack: SignedSlackClient) -> None:
    refused = await slack.command("arrest B-1", user_id="U0STRANGER", channel_id=JAIL)
    assert refused.status == 200 and "Nothing was stored" in refused.text
    helped = await slack.command("help", user_id=OFFICER, channel_id=JAIL)
    assert "/wso arrest" in helped.text
    assert await answered_by(slack) == {"direct": 2.0}


async def test_the_form_and_buttons_still_go_through_bolt(
    slack: SignedSlackClient, fake_slack: FakeSlack
) -> None:
    opened = await slack.command("arrest", user_id=OFFICER, channel_id=JAIL)
    assert opened.status == 200
    assert len(fake_slack.calls_to("views.open")) == 1  # Bolt's client opened the form
    assert await answered_by(slack) == {"bolt": 1.0}


async def test_a_command_with_a_bad_signature_reaches_neither_path(
    slack: SignedSlackClient,
) -> None:
    from tests.fakes.signed_requests import slash_command_body

    body = slash_command_body("arrest B-1 I-200", user_id=OFFICER, channel_id=JAIL)
    refused = await slack.post(body, signature="v0=" + "0" * 64)
    assert refused.status == 401
    assert await answered_by(slack) == {}
