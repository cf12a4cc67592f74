"""The fakes' shared base (tests/fakes/server.py): one outage mechanism for every fake,
faults checked in rank order, and the options the benchmark's fake Slack uses."""

from __future__ import annotations

import contextlib

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clients.pagerduty import PagerDutyAction, PagerDutyClient, PagerDutyEvent
from bot.clients.webhooks import WebhookClient
from bot.core.retry import DeliveryFailed, SendFailure
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.server import Answer
from tests.fakes.slack import FakeSlack, RecordedCall
from tests.fakes.webhook_receiver import FakeWebhookReceiver

TOKEN = "xoxb-right"
EVENT = PagerDutyEvent(
    routing_key="R" * 32,
    action=PagerDutyAction.TRIGGER,
    dedup_key="c_1",
    summary="WSO window expired",
    source="wso-custody-clock/county-jail",
)


async def test_pagerduty_answers_an_outage_like_any_fake_then_is_itself_again() -> None:
    async with FakePagerDuty() as fake, PagerDutyClient(fake.url) as client:
        fake.outage(Answer.plain_text(503), times=1)
        with pytest.raises(DeliveryFailed) as failed:
            await client.send(EVENT)
        assert failed.value.failure == SendFailure("pagerduty_http_503", None, True)
        assert await client.send(EVENT) == "c_1"
        assert [call.status for call in fake.calls] == [503, 202]
        assert fake.calls[0].answered_by is not None and fake.calls[1].answered_by is None


async def test_a_webhook_receiver_can_hang_until_its_outage_ends() -> None:
    async with FakeWebhookReceiver("secret") as fake, WebhookClient(timeout_seconds=0.2) as client:
        outage = fake.outage(Answer.hang())
        with pytest.raises(DeliveryFailed) as failed:
            await client.post(fake.url, "secret", "n_1", {"kind": "expired"}, timestamp=1)
        assert failed.value.failure.code == "webhook_timeout"
        outage.end()
        await fake.wait_until(lambda: fake.calls[0].status == 504, what="the hung call answered")


async def test_an_outage_comes_before_queued_faults_and_queued_faults_wait_for_a_good_token() -> (
    None
):
    async with FakeSlack(token=TOKEN) as fake:
        good = AsyncWebClient(token=TOKEN, base_url=fake.api_url)
        wrong = AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url)
        fake.fail_next("auth.test", status=500)
        fake.outage(Answer.plain_text(502), methods=["auth.test"], times=1)

        errors = []
        for client in (good, wrong, good, good):
            try:
                await client.auth_test()
                errors.append("ok")
            except SlackApiError as error:
                errors.append(str(error.response.status_code))

        # The outage first; the token is checked before the queued 500, which waits for it.
        assert errors == ["502", "200", "500", "ok"]
        assert [call.response.get("error") for call in fake.calls] == [
            "outage:502",
            "invalid_auth",
            "internal_error",
            None,
        ]


async def test_a_bounded_call_log_keeps_the_last_calls_and_all_the_history() -> None:
    finished: list[RecordedCall] = []
    async with FakeSlack(keep_calls=3) as fake:
        fake.on_call = finished.append
        client = AsyncWebClient(token=TOKEN, base_url=fake.api_url, retry_handlers=[])
        fake.outage(Answer.reset(), methods=["chat.postMessage"], times=1)
        for n in range(5):
            with contextlib.suppress(aiohttp.ClientError):  # the reset: nothing posted
                await client.chat_postMessage(channel="C1", text=f"m{n}")

        assert [p["text"] for p in fake.posts()] == ["m2", "m3", "m4"]
        assert [m["text"] for m in fake.messages("C1")] == ["m1", "m2", "m3", "m4"]
        assert [(c.status, c.answered_by is not None) for c in finished] == [
            (-1, True),
            *[(200, False)] * 4,
        ]


async def test_control_routes_are_the_harness_own_never_recorded_or_failed() -> None:
    fake = FakeSlack()

    async def ping(request: web.Request) -> web.Response:
        return web.json_response({"calls": len(fake.calls)})

    fake.add_control_route("GET", "/api/bench.ping", ping)
    async with fake, aiohttp.ClientSession() as session:
        fake.set_down(True)
        async with session.get(fake.api_url + "bench.ping") as response:
            assert (response.status, await response.json()) == (200, {"calls": 0})
        assert fake.calls == []
        with pytest.raises(RuntimeError):
            fake.add_control_route("GET", "/api/bench.late", ping)
