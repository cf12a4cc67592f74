"""The arrest form over signed HTTP: opened by ``/wso arrest``, refused field by field, logged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.app import WsoService
from bot.chat import actions
from bot.config import parse_config
from bot.services.clock import FakeClock
from tests.conftest import ICE, JAIL, OFFICER, STRANGER, StartService, two_facility_document
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.slack import Answer, FakeSlack

# START is Saturday 2026-11-28 14:00 in Chicago.
GOOD: dict[str, dict[str, Any]] = {
    actions.ARREST_BOOKING: {"value": "b-form-1"},
    actions.ARREST_WARRANT_FORM: {"selected_option": {"value": "I-205"}},
    actions.ARREST_WARRANT_NUMBER: {"value": "W-9"},
    actions.ARREST_DATE: {"selected_date": "2026-11-28"},
    actions.ARREST_TIME: {"selected_time": "13:30"},
    actions.ARREST_NOTES: {"value": "brought in by patrol"},
}


async def open_form(slack: SignedSlackClient, fake_slack: FakeSlack) -> dict[str, Any]:
    reply = await slack.command("arrest")
    assert reply.status == 200
    assert reply.body == ""  # acked empty: the form is the answer
    [opened] = fake_slack.calls_to("views.open")
    assert opened.payload["trigger_id"] == "1.2.abc"
    view: dict[str, Any] = opened.response["view"]
    return view


async def test_arrest_alone_opens_the_form_with_the_trigger(
    slack: SignedSlackClient, fake_slack: FakeSlack
) -> None:
    view = await open_form(slack, fake_slack)

    assert view["callback_id"] == actions.ARREST_MODAL
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert actions.ARREST_FACILITY not in blocks  # one facility: nothing to pick
    assert blocks[actions.ARREST_TIME]["element"]["initial_time"] == "14:00"
    assert blocks[actions.ARREST_TIME]["element"]["timezone"] == "America/Chicago"
    assert blocks[actions.ARREST_DATE]["element"]["initial_date"] == "2026-11-28"


async def test_a_form_slack_would_not_open_falls_back_to_the_typed_command(
    slack: SignedSlackClient, fake_slack: FakeSlack
) -> None:
    fake_slack.outage(Answer.json_error(200, "expired_trigger_id"), methods=["views.open"])
    reply = await slack.command("arrest")

    assert "did not open the arrest form" in reply.text
    assert "/wso arrest B-2026-0412 I-200" in reply.text


async def test_someone_who_is_an_officer_nowhere_gets_no_form(
    slack: SignedSlackClient, fake_slack: FakeSlack
) -> None:
    reply = await slack.command("arrest", user_id=STRANGER)

    assert "not listed as a WSO officer" in reply.text
    assert not fake_slack.calls_to("views.open")


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        pytest.param(actions.ARREST_BOOKING, {"value": "B 12"}, "one word", id="booking-two-words"),
        pytest.param(actions.ARREST_BOOKING, {"value": "B_12!"}, "not a booking", id="booking-bad"),
        pytest.param(
            actions.ARREST_WARRANT_NUMBER, {"value": "W/9"}, "not a warrant", id="warrant-bad"
        ),
        pytest.param(
            actions.ARREST_TIME, {"selected_time": "14:30"}, "future", id="time-in-the-future"
        ),
        pytest.param(
            actions.ARREST_DATE, {"selected_date": "2026-09-01"}, "30 days", id="date-too-old"
        ),
        pytest.param(
            actions.ARREST_NOTES, {"value": "x" * 501}, "keep them to 500", id="notes-too-long"
        ),
    ],
)
async def test_a_bad_field_is_answered_on_that_field_and_nothing_is_stored(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    service: WsoService,
    field: str,
    value: dict[str, Any],
    said: str,
) -> None:
    view = await open_form(slack, fake_slack)
    reply = await slack.submit_view(view, {**GOOD, field: value}, user_id=OFFICER)

    assert reply.status == 200
    assert reply.json["response_action"] == "errors"
    assert list(reply.json["errors"]) == [field]
    assert said in reply.json["errors"][field]
    assert await service.store.list_open_custodies() == []
    assert not fake_slack.posts()


async def test_autumn_repeat_hour_is_refused_with_both_offsets(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock, service: WsoService
) -> None:
    clock.set(clock.now().replace(month=11, day=1, hour=12))  # 2026-11-01 06:00 CST
    view = await open_form(slack, fake_slack)
    values = {
        **GOOD,
        actions.ARREST_DATE: {"selected_date": "2026-11-01"},
        actions.ARREST_TIME: {"selected_time": "01:30"},
    }
    reply = await slack.submit_view(view, values, user_id=OFFICER)

    assert "-05:00" in reply.json["errors"][actions.ARREST_TIME]
    assert "-06:00" in reply.json["errors"][actions.ARREST_TIME]
    assert await service.store.list_open_custodies() == []


async def test_a_valid_form_logs_the_custody_closes_and_sends_the_receipt(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    view = await open_form(slack, fake_slack)
    reply = await slack.submit_view(view, GOOD, user_id=OFFICER)

    assert reply.status == 200 and reply.body == ""  # an empty ack closes the form
    [custody] = await service.store.list_open_custodies()
    assert (custody.booking, custody.warrant_number) == ("B-FORM-1", "W-9")
    assert custody.warrant_form is not None and custody.warrant_form.value == "I-205"
    assert custody.arrested_at.isoformat() == "2026-11-28T19:30:00+00:00"
    await fake_slack.wait_for_posts(1, channel=JAIL)
    await fake_slack.wait_for_posts(1, channel=ICE)
    [receipt] = await fake_slack.wait_for_posts(1, channel=OFFICER)
    assert "B-FORM-1" in receipt["text"] and "brought in by patrol" in receipt["text"]
    entry = (await service.store.audit_trail(custody.id))[0]
    logged = ("arrest_logged", "modal", "1.2.submit")
    assert (entry.action, entry.source, entry.request_id) == logged
    assert entry.detail["notes"] == "brought in by patrol"


async def test_a_second_open_custody_is_an_error_on_the_booking(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    await slack.command("arrest B-FORM-1 at 09:00")
    view = await open_form(slack, fake_slack)
    reply = await slack.submit_view(view, GOOD, user_id=OFFICER)

    assert "already has an open custody" in reply.json["errors"][actions.ARREST_BOOKING]
    assert len(await service.store.list_open_custodies()) == 1


async def test_a_form_left_open_over_an_hour_is_refused(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock, service: WsoService
) -> None:
    view = await open_form(slack, fake_slack)
    clock.advance(timedelta(minutes=61))
    reply = await slack.submit_view(view, GOOD, user_id=OFFICER)

    assert "out of date" in reply.json["errors"][actions.ARREST_BOOKING]
    assert await service.store.list_open_custodies() == []


async def test_a_form_for_a_facility_no_longer_configured_is_refused(
    fake_slack: FakeSlack, start_service: StartService
) -> None:
    two = parse_config(two_facility_document(), source="test")
    first, before = await start_service(config=two)
    view = await open_form(before, fake_slack)
    assert {o["value"] for o in _block(view, actions.ARREST_FACILITY)["element"]["options"]} == {
        "county-jail",
        "north-annex",
    }
    await first.stop()  # the config changes: the bot restarts without north-annex
    only_county = parse_config(
        {**two_facility_document(), "facility": two_facility_document()["facility"][:1]},
        source="test",
    )
    service, after = await start_service(config=only_county)
    values = {**GOOD, actions.ARREST_FACILITY: {"selected_option": {"value": "north-annex"}}}
    reply = await after.submit_view(view, values, user_id=OFFICER)

    assert "no longer in the bot's config" in reply.json["errors"][actions.ARREST_FACILITY]
    assert await service.store.list_open_custodies() == []


def _block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)
