"""The PagerDuty Events API v2 client against the fake, and its failure classification."""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator

import pytest

from bot.clients.pagerduty import PagerDutyAction, PagerDutyClient, PagerDutyEvent
from bot.core.retry import DeliveryFailed, SendFailure
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.server import silent_server, unused_port

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


TRIGGER = PagerDutyAction.TRIGGER
ACK = PagerDutyAction.ACKNOWLEDGE
RESOLVE = PagerDutyAction.RESOLVE


@pytest.mark.parametrize(
    ("actions", "state", "opened"),
    [
        pytest.param([TRIGGER, RESOLVE, TRIGGER], "triggered", 2, id="reopened"),
        pytest.param([TRIGGER, ACK, TRIGGER], "acknowledged", 1, id="deduplicated"),
    ],
)
async def test_incident_state_follows_the_events(
    fake_pd: FakePagerDuty,
    client: PagerDutyClient,
    actions: list[PagerDutyAction],
    state: str,
    opened: int,
) -> None:
    for action in actions:
        await client.send(make_event(action))
    assert fake_pd.incidents == {DEDUP_KEY: state}
    assert fake_pd.opened[DEDUP_KEY] == opened


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


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        pytest.param(429, 7, SendFailure("pagerduty_ratelimited", 7.0), id="429 with Retry-After"),
        # Without Retry-After the dispatcher's own back-off decides.
        pytest.param(429, None, SendFailure("pagerduty_ratelimited"), id="429 without"),
        *(
            pytest.param(
                status, None, SendFailure(f"pagerduty_http_{status}", None, True), id=f"{status}"
            )
            for status in (500, 502, 503)
        ),
        pytest.param(400, None, SendFailure("pagerduty_invalid_event"), id="injected 400"),
    ],
)
async def test_a_failed_answer_is_classified(
    fake_pd: FakePagerDuty,
    client: PagerDutyClient,
    status: int,
    retry_after: int | None,
    expected: SendFailure,
) -> None:
    fake_pd.fail_next(status, retry_after=retry_after)
    assert (await send_failure(client, make_event())).failure == expected
    assert fake_pd.incidents == {}


async def test_fault_is_used_up_then_the_event_goes_through(
    fake_pd: FakePagerDuty, client: PagerDutyClient
) -> None:
    fake_pd.fail_next(500, times=2)
    for _ in range(2):
        await send_failure(client, make_event())
    assert await client.send(make_event()) == DEDUP_KEY
    assert [call.status for call in fake_pd.calls] == [500, 500, 202]
    assert len(await fake_pd.wait_for_events(1)) == 1


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
    async with PagerDutyClient(f"http://127.0.0.1:{unused_port()}") as client:
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
    async with PagerDutyClient(f"http://127.0.0.1:{unused_port()}") as refused:
        errors.append(await send_failure(refused, make_event()))
    for error in errors:
        text = "".join(traceback.format_exception(error)) + repr(error) + repr(error.failure)
        assert ROUTING_KEY not in text
        assert error.failure.code in text
