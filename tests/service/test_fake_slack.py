"""Tests for tests/fakes/slack.py, driven by the real slack_sdk AsyncWebClient."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import FakeSlack

TOKEN = "xoxb-test"
METADATA = {"event_type": "custody_clock", "event_payload": {"case_id": "C-1", "deadline": 17}}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=fake.api_url)


async def test_random_port_and_api_url(fake: FakeSlack) -> None:
    assert fake.port > 0
    assert fake.api_url == f"http://127.0.0.1:{fake.port}/api/"
    async with FakeSlack() as other:
        assert other.port != fake.port


async def test_auth_test_shape(fake: FakeSlack, client: AsyncWebClient) -> None:
    resp = await client.auth_test()
    assert resp["user_id"] == "U0BOT"
    assert resp["bot_id"] == "B0BOT"
    assert resp["team_id"] == "T0FAKE"
    (call,) = fake.calls_to("auth.test")
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.status == 200


async def test_post_message_recorded_with_metadata(fake: FakeSlack, client: AsyncWebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    resp = await client.chat_postMessage(
        channel="C1", text="hello", blocks=blocks, metadata=METADATA
    )
    assert resp["ok"] is True
    assert resp["channel"] == "C1"
    assert resp["message"]["metadata"] == METADATA

    (call,) = fake.calls_to("chat.postMessage")
    assert call.payload["metadata"] == METADATA
    assert call.payload["blocks"] == blocks
    assert call.headers["Content-Type"].startswith("application/json")
    assert fake.posts("C1") == [call.payload]
    assert fake.posts("C2") == []

    (stored,) = fake.messages("C1")
    assert stored["ts"] == resp["ts"]
    assert stored["text"] == "hello"
    assert stored["metadata"] == METADATA
    assert stored["bot_id"] == "B0BOT"


async def test_post_message_validation(fake: FakeSlack, client: AsyncWebClient) -> None:
    # chat_postMessage(channel=...) without text emits a UserWarning (an error under
    # filterwarnings=error), so go through api_call to reach the server.
    with pytest.raises(SlackApiError) as exc:
        await client.api_call("chat.postMessage", json={"channel": "C1"})
    assert exc.value.response["error"] == "no_text"
    with pytest.raises(SlackApiError) as exc:
        await client.api_call("chat.postMessage", json={"text": "x"})
    assert exc.value.response["error"] == "channel_not_found"
    assert fake.posts() == []
    assert fake.messages("C1") == []
    assert len(fake.calls) == 2


async def test_ts_strictly_increasing(fake: FakeSlack, client: AsyncWebClient) -> None:
    results = await asyncio.gather(
        *(client.chat_postMessage(channel="C1", text=f"m{i}") for i in range(15))
    )
    ts_values = [r["ts"] for r in results]
    assert len(set(ts_values)) == 15
    stored = [m["ts"] for m in fake.messages("C1")]
    assert all(len(t.split(".")[1]) == 6 for t in stored)
    as_float = [float(t) for t in stored]
    assert as_float == sorted(as_float)
    assert all(a < b for a, b in itertools.pairwise(as_float))
    assert abs(as_float[0] - time.time()) < 60


async def test_429_error_exposes_retry_after(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as exc:
        await client.chat_postMessage(channel="C1", text="x")
    assert exc.value.response.status_code == 429
    assert exc.value.response["error"] == "ratelimited"
    assert exc.value.response.headers["Retry-After"] == "7"
    assert exc.value.response.headers["retry-after"] == "7"  # case-insensitive
    assert fake.messages("C1") == []
    assert fake.posts() == []
    # The fault was used up: the next call succeeds.
    await client.chat_postMessage(channel="C1", text="y")
    assert [p["text"] for p in fake.posts()] == ["y"]
    assert [c.status for c in fake.calls] == [429, 200]


async def test_fail_next_times_and_default_retry_after(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.fail_next("chat.update", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as exc:
            await client.chat_update(channel="C1", ts="1.000001", text="x")
        assert exc.value.response.headers["Retry-After"] == "1"
    with pytest.raises(SlackApiError) as exc:
        await client.chat_update(channel="C1", ts="1.000001", text="x")
    assert exc.value.response.status_code == 200
    assert exc.value.response["error"] == "message_not_found"


async def test_503_and_200_error_faults(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.fail_next("chat.postMessage", status=503)
    fake.fail_next("chat.postMessage", status=200, error="not_in_channel")
    with pytest.raises(SlackApiError) as exc:
        await client.chat_postMessage(channel="C1", text="x")
    assert exc.value.response.status_code == 503
    assert exc.value.response["error"] == "internal_error"
    with pytest.raises(SlackApiError) as exc:
        await client.chat_postMessage(channel="C1", text="x")
    assert exc.value.response.status_code == 200
    assert exc.value.response["error"] == "not_in_channel"
    assert fake.messages("C1") == []
    assert len(fake.calls_to("chat.postMessage")) == 2


async def test_rate_limit_retry_handler_retries_once(fake: FakeSlack) -> None:
    client = AsyncWebClient(
        token=TOKEN,
        base_url=fake.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    # slack_sdk sleeps int(Retry-After) + random() seconds, so 0 keeps this under 1 s.
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    resp = await client.chat_postMessage(channel="C1", text="retried", metadata=METADATA)
    assert resp["ok"] is True
    calls = fake.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[0].payload == calls[1].payload
    assert len(fake.messages("C1")) == 1


async def test_channel_fault_until_cleared(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.fail_channel("C_GONE", "channel_not_found")
    for _ in range(2):
        with pytest.raises(SlackApiError) as exc:
            await client.chat_postMessage(channel="C_GONE", text="x")
        assert exc.value.response["error"] == "channel_not_found"
    ok = await client.chat_postMessage(channel="C_OK", text="fine")
    assert ok["ok"] is True
    fake.clear_faults()
    await client.chat_postMessage(channel="C_GONE", text="back")
    assert [p["text"] for p in fake.posts("C_GONE")] == ["back"]
    assert len(fake.calls_to("chat.postMessage")) == 4


async def test_set_down(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.set_down(True)
    for call in (client.auth_test(), client.chat_postMessage(channel="C1", text="x")):
        with pytest.raises(SlackApiError) as exc:
            await call
        assert exc.value.response.status_code == 503
    assert fake.messages("C1") == []
    fake.set_down(False)
    await client.chat_postMessage(channel="C1", text="x")
    assert [c.status for c in fake.calls] == [503, 503, 200]


async def test_invalid_token() -> None:
    async with FakeSlack(token="xoxb-right") as strict:
        bad = AsyncWebClient(token="xoxb-wrong", base_url=strict.api_url)
        with pytest.raises(SlackApiError) as exc:
            await bad.chat_postMessage(channel="C1", text="x")
        assert exc.value.response.status_code == 200
        assert exc.value.response["error"] == "invalid_auth"
        assert strict.messages("C1") == []
        good = AsyncWebClient(token="xoxb-right", base_url=strict.api_url)
        await good.chat_postMessage(channel="C1", text="x")
        assert len(strict.posts()) == 1
        assert [c.response.get("error") for c in strict.calls] == ["invalid_auth", None]


async def test_history_metadata_filtering_and_pagination(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    ts = [
        (await client.chat_postMessage(channel="C1", text=f"m{i}", metadata=METADATA))["ts"]
        for i in range(5)
    ]
    plain = await client.conversations_history(channel="C1")
    assert [m["text"] for m in plain["messages"]] == ["m4", "m3", "m2", "m1", "m0"]
    assert all("metadata" not in m for m in plain["messages"])
    assert plain["has_more"] is False

    rich = await client.conversations_history(channel="C1", include_all_metadata=True)
    assert all(m["metadata"] == METADATA for m in rich["messages"])
    (call,) = fake.calls_to("conversations.history")[1:]
    assert call.payload["include_all_metadata"] == "1"  # slack_sdk sends bools as 1/0

    window = await client.conversations_history(channel="C1", oldest=ts[1], latest=ts[4])
    assert [m["ts"] for m in window["messages"]] == [ts[3], ts[2]]
    inclusive = await client.conversations_history(
        channel="C1", oldest=ts[1], latest=ts[4], inclusive=True
    )
    assert [m["ts"] for m in inclusive["messages"]] == [ts[4], ts[3], ts[2], ts[1]]

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await client.conversations_history(channel="C1", limit=2, cursor=cursor)
        pages += 1
        seen += [m["ts"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] is bool(cursor)
        if not cursor:
            break
    assert pages == 3
    assert seen == list(reversed(ts))


async def test_history_get_with_query_params(fake: FakeSlack) -> None:
    await fake_post(fake, "C1", "hi")
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            fake.api_url + "conversations.history",
            params={"channel": "C1", "include_all_metadata": "true"},
        ) as resp,
    ):
        body = await resp.json()
    assert body["ok"] is True
    assert body["messages"][0]["metadata"] == {"event_type": "x", "event_payload": {}}


async def fake_post(fake: FakeSlack, channel: str, text: str) -> None:
    # A form-encoded client: blocks/metadata arrive as JSON strings.
    form = {
        "channel": channel,
        "text": text,
        "blocks": json.dumps([{"type": "divider"}]),
        "metadata": json.dumps({"event_type": "x", "event_payload": {}}),
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(fake.api_url + "chat.postMessage", data=form) as resp,
    ):
        assert (await resp.json())["ok"] is True
    assert fake.calls_to("chat.postMessage")[-1].payload["blocks"] == [{"type": "divider"}]


async def test_update_changes_stored_message(fake: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C1", text="v1", metadata=METADATA)
    updated = await client.chat_update(channel="C1", ts=posted["ts"], text="v2")
    assert updated["ts"] == posted["ts"]
    (stored,) = fake.messages("C1")
    assert stored["text"] == "v2"
    assert stored["metadata"] == METADATA
    assert "edited" in stored
    with pytest.raises(SlackApiError) as exc:
        await client.chat_update(channel="C1", ts="123.000000", text="nope")
    assert exc.value.response["error"] == "message_not_found"


async def test_scheduled_messages_lifecycle(fake: FakeSlack, client: AsyncWebClient) -> None:
    now = int(time.time())
    first = await client.chat_scheduleMessage(channel="C1", post_at=now + 60, text="soon")
    second = await client.chat_scheduleMessage(channel="C1", post_at=now + 3600, text="later")
    third = await client.chat_scheduleMessage(channel="C2", post_at=now + 120, text="other")
    assert first["scheduled_message_id"].startswith("Q")
    assert first["post_at"] == now + 60

    listed = await client.chat_scheduledMessages_list(channel="C1")
    assert [m["id"] for m in listed["scheduled_messages"]] == [
        first["scheduled_message_id"],
        second["scheduled_message_id"],
    ]
    assert listed["scheduled_messages"][0]["channel_id"] == "C1"
    assert listed["scheduled_messages"][0]["text"] == "soon"

    await client.chat_deleteScheduledMessage(
        channel="C1", scheduled_message_id=second["scheduled_message_id"]
    )
    with pytest.raises(SlackApiError) as exc:
        await client.chat_deleteScheduledMessage(
            channel="C1", scheduled_message_id=second["scheduled_message_id"]
        )
    assert exc.value.response["error"] == "invalid_scheduled_message_id"

    fired = fake.fire_scheduled(now + 600)
    assert sorted(m["text"] for m in fired) == ["other", "soon"]
    (msg,) = fake.messages("C1")
    assert msg["text"] == "soon"
    assert float(msg["ts"]) >= now + 60
    assert [m["text"] for m in fake.messages("C2")] == ["other"]
    left = await client.chat_scheduledMessages_list()
    assert left["scheduled_messages"] == []
    with pytest.raises(SlackApiError):
        await client.chat_deleteScheduledMessage(
            channel="C2", scheduled_message_id=third["scheduled_message_id"]
        )
    # Posts after firing still get later ts values.
    later = await client.chat_postMessage(channel="C1", text="after")
    assert float(later["ts"]) > float(msg["ts"])
    history = await client.conversations_history(channel="C1")
    assert [m["text"] for m in history["messages"]] == ["after", "soon"]


async def test_wait_for_posts(fake: FakeSlack, client: AsyncWebClient) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)  # the posts must come after the wait began: the point here
        await client.chat_postMessage(channel="C1", text="a")
        await client.chat_postMessage(channel="C1", text="b")

    task = asyncio.create_task(later())
    posts = await fake.wait_for_posts(2, channel="C1", timeout=2.0)
    await task
    assert [p["text"] for p in posts] == ["a", "b"]


async def test_wait_for_posts_timeout(fake: FakeSlack, client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel="C1", text="only one")
    fake.fail_next("chat.postMessage", status=200, error="not_in_channel")
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C1", text="failed")
    started = time.monotonic()
    with pytest.raises(AssertionError) as exc:
        await fake.wait_for_posts(2, channel="C1", timeout=0.1)
    assert time.monotonic() - started < 1.0
    assert "not_in_channel" in str(exc.value)
    assert "only one" in str(exc.value)


async def test_latency(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.latency = 0.15
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started >= 0.15


async def test_other_methods(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.usergroups["S1"] = ["U1", "U2"]
    assert (await client.usergroups_users_list(usergroup="S1"))["users"] == ["U1", "U2"]
    with pytest.raises(SlackApiError) as exc:
        await client.usergroups_users_list(usergroup="S404")
    assert exc.value.response["error"] == "no_such_subteam"

    assert (await client.conversations_open(users="U1"))["channel"]["id"] == "DU1"
    assert (await client.users_info(user="U1"))["user"]["tz"] == "America/Chicago"
    eph = await client.chat_postEphemeral(channel="C1", user="U1", text="psst")
    assert eph["message_ts"]

    home = {"type": "home", "blocks": []}
    published = await client.views_publish(user_id="U1", view=home)
    assert published["view"]["id"].startswith("V")
    opened = await client.views_open(trigger_id="t1", view={"type": "modal", "blocks": []})
    updated = await client.views_update(
        view_id=opened["view"]["id"], view={"type": "modal", "blocks": []}
    )
    assert updated["view"]["id"] == opened["view"]["id"]

    with pytest.raises(SlackApiError) as exc:
        await client.api_call("bogus.method", json={"x": 1})
    assert exc.value.response["error"] == "unknown_method"
    assert fake.calls_to("bogus.method")[0].payload == {"x": 1}
    # conversations.open uses params=, which slack_sdk puts in the query string.
    (open_call,) = fake.calls_to("conversations.open")
    assert open_call.payload["users"] == "U1"
