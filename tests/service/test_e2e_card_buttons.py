"""The custody card's buttons end to end: a signed click, the modal Slack opens, its
submission, and what the store, both channels and both cards show afterwards.

Also who may press what (a stranger is refused at the click, nothing opens), a press on
a card whose custody is closed (who closed it and when; the card is rewritten), a double
submission (one effect), a stale form, and App Home's two buttons.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.app import WsoService
from bot.chat import actions
from bot.config import Config, parse_config
from bot.core.model import CustodyState
from bot.services.clock import FakeClock
from tests.conftest import DESK_STAFF, ICE, JAIL, OFFICER, START, STRANGER, config_document
from tests.fakes.notices import kinds, updates_of
from tests.fakes.signed_requests import SignedSlackClient, SlackReply
from tests.fakes.signed_requests import wso_payload as payload
from tests.fakes.slack import Answer, FakeSlack
from tests.fakes.waiting import settle

ICE_OFFICER = "U0ERO"
# START is Saturday 2026-11-28 14:00 in Chicago; B-1 is arrested then.


@pytest.fixture
def config() -> Config:
    """County Jail with an IGSA and one ICE officer who may confirm transfers."""
    return parse_config(config_document(igsa=True, ice_staff=[ICE_OFFICER]), source="test")


async def log_b1(slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService) -> str:
    """Log B-1, wait for both cards; return the custody id."""
    await slack.command("arrest B-1")
    for channel in (JAIL, ICE):
        await fake_slack.wait_for_posts(1, channel=channel)
    [custody] = await service.store.find_custodies("B-1")
    return custody.id


def card_ts(fake_slack: FakeSlack, channel: str) -> str:
    [card] = [m for m in fake_slack.messages(channel) if payload(m)["kind"] == "logged"]
    return str(card["ts"])


async def press(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    action_id: str,
    custody_id: str,
    *,
    user: str = OFFICER,
    channel: str = JAIL,
) -> SlackReply:
    reply = await slack.click(
        action_id=action_id,
        value=custody_id,
        user_id=user,
        channel_id=channel,
        message_ts=card_ts(fake_slack, channel),
    )
    assert reply.status == 200
    return reply


async def opened_view(fake_slack: FakeSlack, count: int = 1) -> dict[str, Any]:
    await fake_slack.wait_for(
        lambda: len(fake_slack.calls_to("views.open")) >= count, what="views.open"
    )
    opened = fake_slack.calls_to("views.open")[count - 1]
    assert opened.payload["trigger_id"] == "1.2.trigger"
    view: dict[str, Any] = opened.response["view"]
    return view


async def ephemeral_to(fake_slack: FakeSlack, user: str, count: int = 1) -> str:
    def mine() -> list[Any]:
        return [c for c in fake_slack.calls_to("chat.postEphemeral") if c.payload["user"] == user]

    await fake_slack.wait_for(lambda: len(mine()) >= count, what=f"an ephemeral to {user}")
    return str(mine()[count - 1].payload["text"])


async def cards_updated(fake_slack: FakeSlack, service: WsoService) -> dict[str, str]:
    """Wait until both cards were rewritten; return each channel's latest card text."""
    for channel in (JAIL, ICE):
        ts = card_ts(fake_slack, channel)
        await fake_slack.wait_for(
            lambda channel=channel, ts=ts: bool(updates_of(fake_slack, channel, ts)),
            what=f"the card in {channel} updated",
        )
    await settle(service)
    return {
        channel: str(updates_of(fake_slack, channel, card_ts(fake_slack, channel))[-1]["blocks"])
        for channel in (JAIL, ICE)
    }


async def still_open(service: WsoService) -> None:
    """Nothing changed: B-1 is still open."""
    [custody] = await service.store.find_custodies("B-1")
    assert custody.is_open


TRANSFER_VALUES: dict[str, dict[str, Any]] = {
    actions.TRANSFER_DATE: {"selected_date": "2026-11-29"},
    actions.TRANSFER_TIME: {"selected_time": "09:15"},
    actions.TRANSFER_RECEIVED_BY: {"value": "Officer J. Ramos, badge 4471"},
}


# --- each button, end to end ----------------------------------------------------------


@pytest.mark.parametrize("user", [OFFICER, ICE_OFFICER], ids=["jail-officer", "ice-staff"])
async def test_ice_took_custody_asks_time_and_officer_reads_it_back_then_records_it(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    service: WsoService,
    clock: FakeClock,
    user: str,
) -> None:
    custody_id = await log_b1(slack, fake_slack, service)
    clock.advance(timedelta(hours=20))  # Sunday 10:00 in Chicago
    await press(slack, fake_slack, actions.TRANSFER, custody_id, user=user)
    form = await opened_view(fake_slack)
    blocks = {b.get("block_id"): b for b in form["blocks"]}
    assert blocks[actions.TRANSFER_TIME]["element"]["initial_time"] == "10:00"
    assert blocks[actions.TRANSFER_TIME]["element"]["timezone"] == "America/Chicago"
    assert blocks[actions.TRANSFER_DATE]["element"]["initial_date"] == "2026-11-29"

    read_back = await slack.submit_view(form, TRANSFER_VALUES, user_id=user)
    assert read_back.json["response_action"] == "push"  # over the form: Back returns to it
    confirm = read_back.json["view"]
    assert confirm["callback_id"] == actions.TRANSFER_CONFIRM
    assert "Sun Nov 29, 09:15" in str(confirm["blocks"])
    assert "badge 4471" in str(confirm["blocks"])
    [custody] = await service.store.find_custodies("B-1")
    assert custody.is_open  # nothing recorded before the read-back is confirmed

    done = await slack.submit_view(confirm, {}, user_id=user)
    assert done.json == {"response_action": "clear"}  # both views close
    [custody] = await service.store.find_custodies("B-1")
    assert custody.state is CustodyState.TRANSFERRED
    assert custody.closed_by == user
    assert custody.received_by == "Officer J. Ramos, badge 4471"
    assert custody.custody_taken_at == START + timedelta(hours=19, minutes=15)
    assert "transferred to ICE" in await ephemeral_to(fake_slack, user)
    cards = await cards_updated(fake_slack, service)
    for channel in (JAIL, ICE):
        assert "ICE took custody Sun Nov 29, 09:15" in cards[channel]
        assert "received by: \u201cOfficer J. Ramos, badge 4471\u201d" in cards[channel]
        assert actions.TRANSFER not in cards[channel]  # no buttons on a closed card
        assert "transferred" in kinds(fake_slack, channel)


@pytest.mark.parametrize(
    ("values", "block", "said"),
    [
        pytest.param(
            {**TRANSFER_VALUES, actions.TRANSFER_TIME: {"selected_time": "11:00"}},
            actions.TRANSFER_TIME,
            "in the future",
            id="in-the-future",
        ),
        pytest.param(
            {
                **TRANSFER_VALUES,
                actions.TRANSFER_DATE: {"selected_date": "2026-11-28"},
                actions.TRANSFER_TIME: {"selected_time": "13:00"},
            },
            actions.TRANSFER_TIME,
            "before the arrest",
            id="before-the-arrest",
        ),
        pytest.param(
            {**TRANSFER_VALUES, actions.TRANSFER_RECEIVED_BY: {"value": " \u202e\u2066 "}},
            actions.TRANSFER_RECEIVED_BY,
            "name or badge",
            id="officer-only-invisible-characters",
        ),
        pytest.param(
            {**TRANSFER_VALUES, actions.TRANSFER_RECEIVED_BY: {"value": "x" * 81}},
            actions.TRANSFER_RECEIVED_BY,
            "keep it to 80",
            id="officer-too-long",
        ),
    ],
)
async def test_a_bad_transfer_form_is_answered_on_its_field_and_nothing_changes(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    service: WsoService,
    clock: FakeClock,
    values: dict[str, dict[str, Any]],
    block: str,
    said: str,
) -> None:
    custody_id = await log_b1(slack, fake_slack, service)
    clock.advance(timedelta(hours=20))
    await press(slack, fake_slack, actions.TRANSFER, custody_id)
    reply = await slack.submit_view(await opened_view(fake_slack), values, user_id=OFFICER)

    assert reply.json["response_action"] == "errors"
    assert list(reply.json["errors"]) == [block]
    assert said in reply.json["errors"][block]
    assert "e.g." in reply.json["errors"][block]
    await still_open(service)


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        pytest.param(
            {actions.RELEASE_REASON: {"selected_option": {"value": "window_expired"}}},
            "Window expired",
            id="window-expired",
        ),
        pytest.param(
            {
                actions.RELEASE_REASON: {"selected_option": {"value": "bond"}},
                actions.RELEASE_DETAILS: {"value": "receipt 5521"},
            },
            "Bond posted: receipt 5521",
            id="bond-with-details",
        ),
        pytest.param(
            {
                actions.RELEASE_REASON: {"selected_option": {"value": "other"}},
                actions.RELEASE_DETAILS: {"value": "writ to state prison"},
            },
            "writ to state prison",
            id="other-typed",
        ),
    ],
)
async def test_released_records_the_reason_from_the_list_and_the_text(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    service: WsoService,
    values: dict[str, dict[str, Any]],
    reason: str,
) -> None:
    custody_id = await log_b1(slack, fake_slack, service)
    await press(slack, fake_slack, actions.RELEASE, custody_id, user=DESK_STAFF)
    form = await opened_view(fake_slack)
    options = form["blocks"][1]["element"]["options"]
    assert [o["text"]["text"] for o in options] == [
        "Window expired",
        "Charges dropped / court release",
        "Bond posted",
        "Sentence served",
        "Other",
    ]

    done = await slack.submit_view(form, values, user_id=DESK_STAFF)
    assert done.body == ""
    [custody] = await service.store.find_custodies("B-1")
    assert (custody.state, custody.close_reason) == (CustodyState.RELEASED, reason)
    assert "released" in await ephemeral_to(fake_slack, DESK_STAFF)
    cards = await cards_updated(fake_slack, service)
    assert "Released" in cards[JAIL] and reason.split(":")[0] in cards[ICE]


async def test_released_as_other_needs_the_text(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    custody_id = await log_b1(slack, fake_slack, service)
    await press(slack, fake_slack, actions.RELEASE, custody_id)
    values = {actions.RELEASE_REASON: {"selected_option": {"value": "other"}}}
    reply = await slack.submit_view(await opened_view(fake_slack), values, user_id=OFFICER)

    assert 'since the reason is "Other"' in reply.json["errors"][actions.RELEASE_DETAILS]
    await still_open(service)


async def test_igsa_records_at_one_confirmed_press(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    custody_id = await log_b1(slack, fake_slack, service)
    [card] = [b for b in fake_slack.messages(JAIL)[0]["blocks"] if b["type"] == "actions"]
    [igsa] = [e for e in card["elements"] if e["action_id"] == actions.IGSA]
    assert igsa["confirm"]["confirm"]["text"] == "Record IGSA"  # Slack asks before the click

    await press(slack, fake_slack, actions.IGSA, custody_id)
    assert "IGSA" in await ephemeral_to(fake_slack, OFFICER)
    assert not fake_slack.calls_to("views.open")
    [custody] = await service.store.find_custodies("B-1")
    assert custody.state is CustodyState.IGSA
    cards = await cards_updated(fake_slack, service)
    assert "Held under an IGSA" in cards[ICE]


async def test_add_note_posts_the_note_in_both_channels(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    custody_id = await log_b1(slack, fake_slack, service)
    await press(slack, fake_slack, actions.ADD_NOTE, custody_id, channel=ICE)
    values = {actions.NOTE_TEXT: {"value": "pickup at 14:00 \u202eby phone"}}
    done = await slack.submit_view(await opened_view(fake_slack), values, user_id=OFFICER)

    assert done.body == ""
    assert "note" in await ephemeral_to(fake_slack, OFFICER)
    [answer] = fake_slack.calls_to("chat.postEphemeral")
    assert answer.payload["channel"] == ICE  # the card's channel that was pressed
    for channel in (JAIL, ICE):
        posts = await fake_slack.wait_for_posts(2, channel=channel)
        [note] = [p for p in posts if payload(p)["kind"] == "note"]
        assert "pickup at 14:00 by phone" in note["text"]  # the bidi override is gone
    await still_open(service)


# --- who may press what, closed cards, double and stale submissions ------------------------


@pytest.mark.parametrize(
    ("action_id", "user", "who"),
    [
        pytest.param(actions.TRANSFER, STRANGER, "officers, staff or ICE staff", id="transfer"),
        pytest.param(actions.RELEASE, STRANGER, "officers or staff", id="release"),
        pytest.param(actions.RELEASE, ICE_OFFICER, "officers or staff", id="release-ice-staff"),
        pytest.param(actions.IGSA, ICE_OFFICER, "officers or staff", id="igsa-ice-staff"),
        pytest.param(actions.ADD_NOTE, STRANGER, "officers or staff", id="note"),
    ],
)
async def test_someone_not_listed_is_refused_at_the_click_and_nothing_opens(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    service: WsoService,
    action_id: str,
    user: str,
    who: str,
) -> None:
    custody_id = await log_b1(slack, fake_slack, service)
    await press(slack, fake_slack, action_id, custody_id, user=user)

    text = await ephemeral_to(fake_slack, user)
    assert who in text and "Nothing was changed" in text and user in text
    assert not fake_slack.calls_to("views.open")
    await still_open(service)


@pytest.mark.parametrize(
    ("note", "who", "said"),
    [
        pytest.param("x" * 501, OFFICER, "keep it to 500", id="note-over-its-limit"),
        pytest.param("hello", STRANGER, "officers or staff", id="submitted-by-a-stranger"),
    ],
)
async def test_a_note_form_refused_says_why_on_the_form_and_posts_nothing(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    service: WsoService,
    note: str,
    who: str,
    said: str,
) -> None:
    custody_id = await log_b1(slack, fake_slack, service)
    await press(slack, fake_slack, actions.ADD_NOTE, custody_id)
    values = {actions.NOTE_TEXT: {"value": note}}
    reply = await slack.submit_view(await opened_view(fake_slack), values, user_id=who)

    assert said in reply.json["errors"][actions.NOTE_TEXT]
    await settle(service)
    assert "note" not in kinds(fake_slack, JAIL)


@pytest.mark.parametrize("action_id", actions.CARD_ACTION_IDS, ids=lambda a: a.split("_")[-1])
async def test_a_button_on_a_closed_custodys_card_says_who_closed_it_and_redraws_the_card(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService, action_id: str
) -> None:
    custody_id = await log_b1(slack, fake_slack, service)
    await slack.command("release B-1 bond posted", user_id=DESK_STAFF)
    await cards_updated(fake_slack, service)
    before = len(fake_slack.calls_to("chat.update"))

    await press(slack, fake_slack, action_id, custody_id)
    text = await ephemeral_to(fake_slack, OFFICER)
    assert f"already released by <@{DESK_STAFF}> at Sat Nov 28" in text
    assert not fake_slack.calls_to("views.open")
    await fake_slack.wait_for(
        lambda: len(fake_slack.calls_to("chat.update")) >= before + 2, what="cards redrawn"
    )
    [custody] = await service.store.find_custodies("B-1")
    assert custody.close_reason == "bond posted"


async def test_the_same_release_submitted_twice_releases_once_and_says_so_the_second_time(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    custody_id = await log_b1(slack, fake_slack, service)
    await press(slack, fake_slack, actions.RELEASE, custody_id)
    form = await opened_view(fake_slack)
    values = {actions.RELEASE_REASON: {"selected_option": {"value": "bond"}}}

    first = await slack.submit_view(form, values, user_id=OFFICER)
    second = await slack.submit_view(form, values, user_id=OFFICER)

    assert first.body == ""
    assert "already released by" in second.json["errors"][actions.RELEASE_REASON]
    await settle(service)
    for channel in (JAIL, ICE):
        assert kinds(fake_slack, channel).count("released") == 1


async def test_a_double_click_on_igsa_records_once(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    custody_id = await log_b1(slack, fake_slack, service)
    await press(slack, fake_slack, actions.IGSA, custody_id)
    await press(slack, fake_slack, actions.IGSA, custody_id)

    second = await ephemeral_to(fake_slack, OFFICER, 2)
    assert "already recorded as held under an IGSA by" in second
    await settle(service)
    assert kinds(fake_slack, JAIL).count("igsa") == 1


async def test_a_transfer_read_back_confirmed_after_the_custody_closed_records_nothing(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService, clock: FakeClock
) -> None:
    custody_id = await log_b1(slack, fake_slack, service)
    clock.advance(timedelta(hours=20))
    await press(slack, fake_slack, actions.TRANSFER, custody_id)
    read_back = await slack.submit_view(
        await opened_view(fake_slack), TRANSFER_VALUES, user_id=OFFICER
    )
    await slack.command("release B-1 bond posted", user_id=DESK_STAFF)

    done = await slack.submit_view(read_back.json["view"], {}, user_id=OFFICER)
    assert done.json["response_action"] == "update"
    assert "already released by" in str(done.json["view"]["blocks"])
    [custody] = await service.store.find_custodies("B-1")
    assert (custody.state, custody.received_by) == (CustodyState.RELEASED, None)


async def test_a_form_left_open_over_an_hour_is_refused_inline(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService, clock: FakeClock
) -> None:
    custody_id = await log_b1(slack, fake_slack, service)
    await press(slack, fake_slack, actions.ADD_NOTE, custody_id)
    form = await opened_view(fake_slack)
    clock.advance(timedelta(minutes=61))
    reply = await slack.submit_view(form, {actions.NOTE_TEXT: {"value": "late"}}, user_id=OFFICER)

    assert "out of date" in reply.json["errors"][actions.NOTE_TEXT]
    assert "61 minutes" in reply.json["errors"][actions.NOTE_TEXT]
    await settle(service)
    assert "note" not in kinds(fake_slack, JAIL)


async def test_a_form_slack_would_not_open_is_answered_and_nothing_changes(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    custody_id = await log_b1(slack, fake_slack, service)
    fake_slack.outage(Answer.json_error(200, "expired_trigger_id"), methods=["views.open"])
    await press(slack, fake_slack, actions.RELEASE, custody_id)

    text = await ephemeral_to(fake_slack, OFFICER)
    assert "did not open the form" in text and "/wso transfer" in text
    await still_open(service)


# --- App Home's buttons -----------------------------------------------------------------


async def test_app_home_details_opens_the_custodys_status_and_log_an_arrest_opens_the_form(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    custody_id = await log_b1(slack, fake_slack, service)
    await slack.click(
        action_id=actions.HOME_STATUS,
        value=custody_id,
        user_id=OFFICER,
        channel_id="",
        message_ts="",
    )
    details = await opened_view(fake_slack)
    assert "B-1" in str(details["blocks"]) and "left" in str(details["blocks"])

    await slack.click(
        action_id=actions.HOME_OPEN_ARREST_FORM,
        value="open",
        user_id=OFFICER,
        channel_id="",
        message_ts="",
    )
    form = await opened_view(fake_slack, 2)
    assert form["callback_id"] == actions.ARREST_MODAL
