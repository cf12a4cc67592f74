"""The PagerDuty Events API v2 client against the fake, and its failure classification."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import traceback
from collections.abc import AsyncIterator

import pytest

from bot.clients.pagerduty import PagerDutyAction, PagerDutyClient, PagerDutyEvent
from bot.core.retry import DeliveryFailed
from tests.fakes.pagerduty import FakePagerDuty

ROUTING_KEY = "R0UT1NGK3Y5ECRET0000000000000032"
DEDUP_KEY = "wso:c_5f0c:expired"


def make_event(
    action: PagerDutyAction = PagerDutyAction.TRIGGER,
    *,
    routing_key: str = ROUTING_KEY,
    dedup_key: str = DEDUP_KEY,
) -> PagerDutyEvent:
    return PagerDutyEvent(
        routing_key=routing_key,
        action=action,
        dedup_key=dedup_key,
        summary="WSO window expired — release required: B-2026-0412",
        source="wso-custody-clock/county-jail",
        custom_details={"booking": "B-2026-0412", "late": False, "lead_seconds": 0},
    )


@pytest.fixture
async def fake_pd() -> AsyncIterator[FakePagerDuty]:
    async with FakePagerDuty() as fake:
        yield fake


@pytest.fixture
async def client(fake_pd: FakePagerDuty) -> AsyncIterator[PagerDutyClient]:
    async with PagerDutyClient(fake_pd.url, timeout_seconds=5) as opened:
        yield opened


async def send_failure(client: PagerDutyClient, event: PagerDutyEvent) -> DeliveryFailed:
    with pytest.raises(DeliveryFailed) as caught:
        await client.send(event)
    return caught.value


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and reads requests but never answers."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read()
        finally:
            writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


# ---------------------------------------------------------------------- body shapes


def test_trigger_body_carries_the_payload() -> None:
    assert make_event().body() == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": DEDUP_KEY,
        "payload": {
            "summary": "WSO window expired — release required: B-2026-0412",
            "source": "wso-custody-clock/county-jail",
            "severity": "critical",
            "custom_details": {"booking": "B-2026-0412", "late": False, "lead_seconds": 0},
        },
    }


@pytest.mark.parametrize("action", [PagerDutyAction.ACKNOWLEDGE, PagerDutyAction.RESOLVE])
def test_acknowledge_and_resolve_carry_only_the_keys(action: PagerDutyAction) -> None:
    assert make_event(action).body() == {
        "routing_key": ROUTING_KEY,
        "event_action": str(action),
        "dedup_key": DEDUP_KEY,
    }


def test_summary_is_cut_to_pagerduty_limit() -> None:
    event = PagerDutyEvent(ROUTING_KEY, PagerDutyAction.TRIGGER, DEDUP_KEY, "x" * 2000, "src")
    assert len(event.body()["payload"]["summary"]) == 1024


def test_custom_details_are_copied_at_construction() -> None:
    details: dict[str, str | int | bool | None] = {"booking": "B-1"}
    event = PagerDutyEvent(
        ROUTING_KEY, PagerDutyAction.TRIGGER, DEDUP_KEY, "s", "src", custom_details=details
    )
    details["booking"] = "B-2"
    assert event.body()["payload"]["custom_details"] == {"booking": "B-1"}
    assert isinstance(hash(event), int)  # frozen events stay hashable despite the mapping


@pytest.mark.parametrize(
    ("field", "value"),
    [("severity", "fatal"), ("dedup_key", ""), ("dedup_key", "k" * 256), ("routing_key", "")],
)
def test_invalid_events_are_refused_before_sending(field: str, value: str) -> None:
    arguments = {
        "routing_key": ROUTING_KEY,
        "action": PagerDutyAction.TRIGGER,
        "dedup_key": DEDUP_KEY,
        "summary": "s",
        "source": "src",
        field: value,
    }
    with pytest.raises(ValueError, match=field):
        PagerDutyEvent(**arguments)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- dedup lifecycle


async def test_trigger_acknowledge_resolve_move_one_incident(
    fake_pd: FakePagerDuty, client: PagerDutyClient
) -> None:
    assert await client.send(make_event(PagerDutyAction.TRIGGER)) == DEDUP_KEY
    assert fake_pd.incidents == {DEDUP_KEY: "triggered"}

    assert await client.send(make_event(PagerDutyAction.ACKNOWLEDGE)) == DEDUP_KEY
    assert fake_pd.incidents == {DEDUP_KEY: "acknowledged"}

    assert await client.send(make_event(PagerDutyAction.RESOLVE)) == DEDUP_KEY
    assert fake_pd.incidents == {DEDUP_KEY: "resolved"}

    events = await fake_pd.wait_for_events(3)
    assert [e["event_action"] for e in events] == ["trigger", "acknowledge", "resolve"]
    assert fake_pd.calls[0].headers["Content-Type"].startswith("application/json")


async def test_trigger_after_resolve_reopens(
    fake_pd: FakePagerDuty, client: PagerDutyClient
) -> None:
    await client.send(make_event(PagerDutyAction.TRIGGER))
    await client.send(make_event(PagerDutyAction.RESOLVE))
    await client.send(make_event(PagerDutyAction.TRIGGER))
    assert fake_pd.incidents == {DEDUP_KEY: "triggered"}
    assert fake_pd.opened[DEDUP_KEY] == 2


async def test_repeated_trigger_is_deduplicated(
    fake_pd: FakePagerDuty, client: PagerDutyClient
) -> None:
    await client.send(make_event(PagerDutyAction.TRIGGER))
    await client.send(make_event(PagerDutyAction.ACKNOWLEDGE))
    await client.send(make_event(PagerDutyAction.TRIGGER))
    assert fake_pd.incidents == {DEDUP_KEY: "acknowledged"}
    assert fake_pd.opened[DEDUP_KEY] == 1


@pytest.mark.parametrize("action", [PagerDutyAction.ACKNOWLEDGE, PagerDutyAction.RESOLVE])
async def test_follow_up_for_unknown_key_is_accepted_but_opens_nothing(
    fake_pd: FakePagerDuty, client: PagerDutyClient, action: PagerDutyAction
) -> None:
    assert await client.send(make_event(action, dedup_key="never-triggered")) == "never-triggered"
    assert fake_pd.incidents == {}
    assert len(fake_pd.events) == 1


async def test_base_url_with_trailing_slash(fake_pd: FakePagerDuty) -> None:
    async with PagerDutyClient(fake_pd.url + "/") as client:
        assert await client.send(make_event()) == DEDUP_KEY
    assert fake_pd.incidents == {DEDUP_KEY: "triggered"}


# ---------------------------------------------------------------------- failures


async def test_429_with_retry_after(fake_pd: FakePagerDuty, client: PagerDutyClient) -> None:
    fake_pd.fail_next(429, retry_after=7)
    error = await send_failure(client, make_event())
    assert error.failure.code == "pagerduty_ratelimited"
    assert error.failure.retry_after == 7.0
    assert not error.failure.may_have_posted
    assert fake_pd.incidents == {}


async def test_429_without_retry_after_leaves_backoff_to_dispatcher(
    fake_pd: FakePagerDuty, client: PagerDutyClient
) -> None:
    fake_pd.fail_next(429)
    error = await send_failure(client, make_event())
    assert error.failure.code == "pagerduty_ratelimited"
    assert error.failure.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_may_have_posted(
    fake_pd: FakePagerDuty, client: PagerDutyClient, status: int
) -> None:
    fake_pd.fail_next(status)
    error = await send_failure(client, make_event())
    assert error.failure.code == f"pagerduty_http_{status}"
    assert error.failure.may_have_posted
    assert error.failure.retry_after is None


async def test_fault_is_used_up_then_the_event_goes_through(
    fake_pd: FakePagerDuty, client: PagerDutyClient
) -> None:
    fake_pd.fail_next(500, times=2)
    for _ in range(2):
        await send_failure(client, make_event())
    assert await client.send(make_event()) == DEDUP_KEY
    assert [call.status for call in fake_pd.calls] == [500, 500, 202]
    assert len(await fake_pd.wait_for_events(1)) == 1


async def test_injected_400_is_invalid_event(
    fake_pd: FakePagerDuty, client: PagerDutyClient
) -> None:
    fake_pd.fail_next(400)
    error = await send_failure(client, make_event())
    assert error.failure.code == "pagerduty_invalid_event"
    assert not error.failure.may_have_posted


async def test_bad_routing_key_is_invalid_event(
    fake_pd: FakePagerDuty, client: PagerDutyClient
) -> None:
    error = await send_failure(client, make_event(routing_key="too-short"))
    assert error.failure.code == "pagerduty_invalid_event"
    assert fake_pd.calls[0].status == 400
    assert fake_pd.calls[0].response["status"] == "invalid event"
    assert fake_pd.incidents == {}


async def test_unknown_routing_key_is_invalid_event() -> None:
    async with (
        FakePagerDuty(routing_keys={"K" * 32}) as fake,
        PagerDutyClient(fake.url) as client,
    ):
        error = await send_failure(client, make_event())
        assert error.failure.code == "pagerduty_invalid_event"
        assert await client.send(make_event(routing_key="K" * 32)) == DEDUP_KEY


async def test_connection_refused_cannot_have_posted() -> None:
    async with PagerDutyClient(f"http://127.0.0.1:{closed_port()}") as client:
        error = await send_failure(client, make_event())
    assert error.failure.code == "pagerduty_connect_failed"
    assert not error.failure.may_have_posted


async def test_timeout_may_have_posted() -> None:
    async with silent_server() as url, PagerDutyClient(url, timeout_seconds=0.2) as client:
        error = await send_failure(client, make_event())
    assert error.failure.code == "pagerduty_timeout"
    assert error.failure.may_have_posted


# ---------------------------------------------------------------------- secrecy


def test_routing_key_is_not_in_repr_or_str() -> None:
    event = make_event()
    assert ROUTING_KEY not in repr(event)
    assert ROUTING_KEY not in str(event)
    assert DEDUP_KEY in repr(event)  # the repr is still useful


async def test_routing_key_is_not_in_failures(
    fake_pd: FakePagerDuty, client: PagerDutyClient
) -> None:
    errors = []
    for status in (400, 429, 500):
        fake_pd.fail_next(status, retry_after=3)
        errors.append(await send_failure(client, make_event()))
    async with PagerDutyClient(f"http://127.0.0.1:{closed_port()}") as refused:
        errors.append(await send_failure(refused, make_event()))
    for error in errors:
        text = "".join(traceback.format_exception(error)) + repr(error) + repr(error.failure)
        assert ROUTING_KEY not in text
        assert error.failure.code in text
