"""Webhook signing, verification, and the client against the fake receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import traceback
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.clients.webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookClient,
    canonical_body,
    sign,
    verify,
)
from bot.core.retry import DeliveryFailed, SendFailure
from tests.fakes.server import silent_server, unused_port
from tests.fakes.webhook_receiver import FakeWebhookReceiver

SECRET = "whsec-Zq3x-very-secret-value"
TIMESTAMP = "1764350000"
BODY = b'{"booking":"B-2026-0412","kind":"expired"}'
EVENT_ID = "n_9a1e0042"
PAYLOAD: dict[str, Any] = {
    "kind": "expired",
    "booking": "B-2026-0412",
    "facility": "county-jail",
    "deadline": "2026-11-30T20:05:00Z",
    "late": False,
    "lead_seconds": None,
    "nested": {"z": 1, "a": [3, 2, 1]},
}


@pytest.fixture
async def receiver() -> AsyncIterator[FakeWebhookReceiver]:
    async with FakeWebhookReceiver(SECRET) as fake:
        yield fake


@pytest.fixture
async def client() -> AsyncIterator[WebhookClient]:
    async with WebhookClient(timeout_seconds=5) as opened:
        yield opened


async def post(client: WebhookClient, url: str, secret: str = SECRET) -> None:
    await client.post(url, secret, EVENT_ID, PAYLOAD, timestamp=int(time.time()))


async def post_failure(client: WebhookClient, url: str, secret: str = SECRET) -> DeliveryFailed:
    with pytest.raises(DeliveryFailed) as caught:
        await post(client, url, secret)
    return caught.value


# ---------------------------------------------------------------------- sign / verify


def test_sign_known_answer() -> None:
    expected = hmac.new(SECRET.encode(), b"1764350000." + BODY, hashlib.sha256).hexdigest()
    signature = sign(SECRET, TIMESTAMP, BODY)
    assert signature == "v1=" + expected
    assert len(signature) == 3 + 64


def test_verify_accepts_a_fresh_valid_signature() -> None:
    signature = sign(SECRET, TIMESTAMP, BODY)
    assert verify(SECRET, TIMESTAMP, BODY, signature, now=float(TIMESTAMP) + 10)


@pytest.mark.parametrize(
    ("secret", "timestamp", "body"),
    [
        ("other-secret", TIMESTAMP, BODY),
        (SECRET, "1764350001", BODY),
        (SECRET, TIMESTAMP, BODY.replace(b"expired", b"expirex")),
        (SECRET, TIMESTAMP, BODY + b" "),
    ],
    ids=["secret", "timestamp", "body", "trailing-space"],
)
def test_verify_rejects_tampering(secret: str, timestamp: str, body: bytes) -> None:
    signature = sign(SECRET, TIMESTAMP, BODY)
    assert not verify(secret, timestamp, body, signature, now=float(TIMESTAMP))


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "v1=",
        "v0=" + sign(SECRET, TIMESTAMP, BODY)[3:],
        sign(SECRET, TIMESTAMP, BODY)[3:],
        sign(SECRET, TIMESTAMP, BODY).upper(),
        "v1=é" + "0" * 63,
    ],
)
def test_verify_rejects_malformed_signatures(signature: str) -> None:
    assert not verify(SECRET, TIMESTAMP, BODY, signature, now=float(TIMESTAMP))


@pytest.mark.parametrize(
    ("offset", "valid"),
    [(-301, False), (-300, True), (0, True), (300, True), (301, False), (86_400, False)],
)
def test_verify_tolerance_window(offset: int, valid: bool) -> None:
    signature = sign(SECRET, TIMESTAMP, BODY)
    now = float(TIMESTAMP) + offset
    assert verify(SECRET, TIMESTAMP, BODY, signature, now=now) is valid


def test_verify_custom_tolerance() -> None:
    signature = sign(SECRET, TIMESTAMP, BODY)
    now = float(TIMESTAMP) + 60
    assert not verify(SECRET, TIMESTAMP, BODY, signature, now=now, tolerance_seconds=30)


@pytest.mark.parametrize("timestamp", ["", "soon", "1764350000.5"])
def test_verify_rejects_non_integer_timestamps(timestamp: str) -> None:
    signature = sign(SECRET, timestamp, BODY)
    assert not verify(SECRET, timestamp, BODY, signature, now=float(TIMESTAMP))


def test_canonical_body_ignores_key_order() -> None:
    reordered = dict(reversed(list(PAYLOAD.items())))
    assert canonical_body(reordered) == canonical_body(PAYLOAD)
    assert canonical_body({"b": 1, "a": [1, 2]}) == b'{"a":[1,2],"b":1}'


# ---------------------------------------------------------------------- delivery


async def test_post_is_signed_and_canonical(
    receiver: FakeWebhookReceiver, client: WebhookClient
) -> None:
    sent_at = int(time.time())
    await client.post(receiver.url, SECRET, EVENT_ID, PAYLOAD, timestamp=sent_at)
    [received] = await receiver.wait_for(1)

    assert received.signature_valid
    assert received.status == 204
    assert received.path == "/hooks/wso"
    assert received.headers[EVENT_ID_HEADER] == EVENT_ID
    # The header names are a published contract.
    assert (EVENT_ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER) == (
        "X-WSO-Event-Id",
        "X-WSO-Timestamp",
        "X-WSO-Signature",
    )
    assert received.headers[TIMESTAMP_HEADER] == str(sent_at)
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["User-Agent"] == "wso-custody-clock"
    assert received.body == json.dumps(PAYLOAD, separators=(",", ":"), sort_keys=True).encode()
    assert received.json == PAYLOAD
    # Verified independently of the fake, with the receiver's secret.
    assert verify(
        SECRET,
        received.headers[TIMESTAMP_HEADER],
        received.body,
        received.headers[SIGNATURE_HEADER],
        now=time.time(),
    )


async def test_receiver_on_a_fake_clock_verifies_old_timestamps() -> None:
    signed_at = 1_764_350_000  # 2025, far from the real clock
    async with (
        FakeWebhookReceiver(SECRET, wall_time=lambda: signed_at + 5.0) as receiver,
        WebhookClient() as client,
    ):
        await client.post(receiver.url, SECRET, EVENT_ID, PAYLOAD, timestamp=signed_at)
        assert (await receiver.wait_for(1))[0].signature_valid


async def test_repeat_attempts_carry_the_same_event_id(
    receiver: FakeWebhookReceiver, client: WebhookClient
) -> None:
    receiver.fail_next(503)
    await post_failure(client, receiver.url)
    await post(client, receiver.url)
    assert [r.status for r in receiver.requests] == [503, 204]
    assert {r.event_id for r in receiver.requests} == {EVENT_ID}


async def test_wrong_secret_is_refused_by_the_receiver(
    receiver: FakeWebhookReceiver, client: WebhookClient
) -> None:
    wrong = "whsec-not-the-receivers-secret"
    error = await post_failure(client, receiver.url, secret=wrong)
    assert error.failure.code == "webhook_http_4xx_401"
    assert not error.failure.may_have_posted
    assert receiver.requests[0].signature_valid is False
    assert wrong not in "".join(traceback.format_exception(error)) + repr(error.failure)


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        *(
            pytest.param(
                status, None, SendFailure(f"webhook_http_{status}", None, True), id=f"{status}"
            )
            for status in (500, 502, 503)
        ),
        pytest.param(429, 12, SendFailure("webhook_ratelimited", 12.0), id="429 with Retry-After"),
        pytest.param(429, None, SendFailure("webhook_ratelimited"), id="429 without"),
        *(
            pytest.param(status, None, SendFailure(f"webhook_http_4xx_{status}"), id=f"{status}")
            for status in (400, 403, 404, 410)
        ),
    ],
)
async def test_a_failed_answer_is_classified(
    receiver: FakeWebhookReceiver,
    client: WebhookClient,
    status: int,
    retry_after: int | None,
    expected: SendFailure,
) -> None:
    receiver.fail_next(status, retry_after=retry_after)
    assert (await post_failure(client, receiver.url)).failure == expected


async def test_redirects_are_not_followed(
    receiver: FakeWebhookReceiver, client: WebhookClient
) -> None:
    receiver.fail_next(307)
    error = await post_failure(client, receiver.url)
    assert error.failure.code == "webhook_http_307"
    assert len(receiver.requests) == 1


async def test_timeout_may_have_posted() -> None:
    async with silent_server() as url, WebhookClient(timeout_seconds=0.2) as client:
        error = await post_failure(client, f"{url}/hook")
    assert error.failure.code == "webhook_timeout"
    assert error.failure.may_have_posted


async def test_connection_refused_cannot_have_posted(client: WebhookClient) -> None:
    error = await post_failure(client, f"http://127.0.0.1:{unused_port()}/hook")
    assert error.failure.code == "webhook_connect_failed"
    assert not error.failure.may_have_posted


async def test_secret_is_not_in_any_failure(
    receiver: FakeWebhookReceiver, client: WebhookClient
) -> None:
    errors = []
    for status in (400, 429, 500):
        receiver.fail_next(status, retry_after=2)
        errors.append(await post_failure(client, receiver.url))
    errors.append(await post_failure(client, f"http://127.0.0.1:{unused_port()}/hook"))
    for error in errors:
        text = "".join(traceback.format_exception(error)) + repr(error) + repr(error.failure)
        assert SECRET not in text
        assert error.failure.code in text
