"""The custody lifecycle through the real HTTP endpoint, signed as Slack signs, on the fake Slack.

``/wso igsa``, ``void``, ``correct``, ``dispute`` and ``note``: what the officer is told,
what both channels see (and with which ``wso_custody`` metadata), what the store and the
audit trail keep, and that a second action on a closed custody changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import WsoService
from bot.config import Config, parse_config
from bot.core.model import CustodyState, NoticeKind, NoticeState
from bot.services.clock import FakeClock
from tests.conftest import (
    DESK_STAFF,
    ICE,
    JAIL,
    OFFICER,
    OTHER_OFFICER,
    START,
    STRANGER,
    StartService,
    actions_by_people,
    config_document,
)
from tests.fakes.notices import kinds
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.signed_requests import wso_payload as payload
from tests.fakes.slack import FakeSlack
from tests.fakes.waiting import settle

ICE_OFFICER = "U0ERO"
DEADLINE = START + timedelta(hours=48)


@pytest.fixture
def config() -> Config:
    """County Jail with an IGSA and one ICE officer who may confirm transfers."""
    return parse_config(config_document(igsa=True, ice_staff=[ICE_OFFICER]), source="test")


async def logged(slack: SignedSlackClient, fake_slack: FakeSlack, text: str = "arrest B-1") -> None:
    await slack.command(text)
    await fake_slack.wait_for_posts(2)


async def the_custody(service: WsoService, booking: str = "B-1") -> tuple[str, CustodyState]:
    [custody] = await service.store.find_custodies(booking)
    return custody.id, custody.state


@pytest.mark.parametrize(
    ("text", "state", "kind", "said"),
    [
        pytest.param("igsa B-1", CustodyState.IGSA, "igsa", "IGSA", id="igsa"),
        pytest.param(
            "void B-1 warrant cancelled by ICE",
            CustodyState.VOIDED,
            "voided",
            "voided",
            id="void",
        ),
    ],
)
async def test_igsa_and_void_close_the_custody_and_tell_both_channels(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    service: WsoService,
    clock: FakeClock,
    text: str,
    state: CustodyState,
    kind: str,
    said: str,
) -> None:
    await logged(slack, fake_slack)

    reply = await slack.command(text, user_id=DESK_STAFF)

    assert reply.json["response_type"] == "ephemeral"
    assert said in reply.text and "B-1" in reply.text
    await fake_slack.wait_for_posts(4)
    for channel in (JAIL, ICE):
        assert kinds(fake_slack, channel) == ["logged", kind]
        closing = payload(fake_slack.posts(channel)[-1])
        assert (closing["state"], closing["closed_by"]) == (state.value, DESK_STAFF)
    custody_id, stored_state = await the_custody(service)
    assert stored_state is state
    notices = await service.store.notices_for(custody_id)
    reminders = [n for n in notices if n.kind in (NoticeKind.REMINDER, NoticeKind.EXPIRED)]
    assert {n.state for n in reminders} == {NoticeState.CANCELLED}
    trail = actions_by_people(await service.store.audit_trail(custody_id))
    assert trail == ["arrest_logged", f"custody_{state.value}"]

    clock.set(DEADLINE + timedelta(hours=1))  # the clock and the paging are stopped
    await settle(service)
    assert len(fake_slack.posts()) == 4

    status = await slack.command("status B-1")
    assert f"*{said if state is CustodyState.VOIDED else 'held under an IGSA'}*" in status.text

    again = await slack.command("release B-1 bail posted")
    assert "already" in again.text and f"<@{DESK_STAFF}>" in again.text
    assert "Sat Nov 28, 14:00 CST" in again.text  # when it was closed
    assert "Nothing was changed" in again.text
    assert (await the_custody(service))[1] is state
    assert len(actions_by_people(await service.store.audit_trail(custody_id))) == 2


async def test_igsa_is_refused_where_the_facility_has_none(
    fake_slack: FakeSlack, start_service: StartService
) -> None:
    service, slack = await start_service(config=parse_config(config_document(), source="test"))
    await logged(slack, fake_slack)

    reply = await slack.command("igsa B-1")

    assert "has no IGSA" in reply.text and "igsa = true" in reply.text
    assert "/wso transfer B-1" in reply.text  # what is right instead
    assert (await the_custody(service))[1] is CustodyState.OPEN
    await settle(service)
    assert len(fake_slack.posts()) == 2


async def test_a_correction_moves_the_deadline_and_every_planned_notice(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService, clock: FakeClock
) -> None:
    await logged(slack, fake_slack)  # arrested at START, Sat 14:00 CST
    clock.set(START + timedelta(minutes=30))

    reply = await slack.command("correct B-1 at 2026-11-28 11:00")  # 3 hours earlier

    assert "Corrected" in reply.text
    assert "Sat Nov 28, 11:00 CST (was Sat Nov 28, 14:00 CST)" in reply.text
    assert "Mon Nov 30, 11:00 CST" in reply.text
    await fake_slack.wait_for_posts(4)
    for channel in (JAIL, ICE):
        corrected = fake_slack.posts(channel)[-1]
        meta = payload(corrected)
        assert meta["kind"] == "corrected"
        assert meta["arrested_at"] == "2026-11-28T17:00:00Z"
        assert meta["deadline"] == "2026-11-30T17:00:00Z"
        assert meta["previous_deadline"] == "2026-11-30T20:00:00+00:00"
        assert meta["corrected_by"] == OFFICER
        assert "was Sat Nov 28, 14:00 CST" in corrected["text"]
    custody_id, _ = await the_custody(service)
    stored = await service.store.get_custody(custody_id)
    assert stored is not None and stored.corrected_from == START

    new_deadline = DEADLINE - timedelta(hours=3)
    clock.set(new_deadline - timedelta(seconds=1))
    await settle(service)
    assert "expired" not in kinds(fake_slack, JAIL)
    clock.set(new_deadline)
    await fake_slack.wait_for(lambda: "expired" in kinds(fake_slack, JAIL))
    expired = [n for n in await service.store.notices_for(custody_id) if n.kind.value == "expired"]
    assert {n.state for n in expired} == {NoticeState.CANCELLED, NoticeState.SENT}
    assert actions_by_people(await service.store.audit_trail(custody_id)) == [
        "arrest_logged",
        "custody_corrected",
    ]


# (id, the corrected time typed, what the answer says): the clock reads Sat 14:00 CST.
BAD_CORRECTIONS = {
    "into-the-future": ("2026-11-28 15:00", "is in the future"),
    "too-old": ("2026-10-01 09:00", "more than 30 days ago"),
    "unchanged": ("2026-11-28 14:00", "already recorded"),
    "not-a-time": ("teatime", "teatime"),
}


@pytest.mark.parametrize(("at", "said"), BAD_CORRECTIONS.values(), ids=BAD_CORRECTIONS.keys())
async def test_a_bad_correction_says_both_limits_and_changes_nothing(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService, at: str, said: str
) -> None:
    await logged(slack, fake_slack)
    before = await service.store.notices_for((await the_custody(service))[0])

    reply = await slack.command(f"correct B-1 at {at}")

    assert said in reply.text
    assert "For example: `/wso correct B-" in reply.text
    if at != "teatime":
        assert "must be in the past and at most 30 days ago" in reply.text
    assert await service.store.notices_for((await the_custody(service))[0]) == before


async def test_a_dispute_tells_both_channels_and_pages_the_first_level_at_once(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    await logged(slack, fake_slack)

    reply = await slack.command("dispute B-1 says he was born in El Paso")

    assert "flagged as disputed" in reply.text and "paged now" in reply.text
    await fake_slack.wait_for(lambda: len(fake_slack.posts()) == 5)
    for channel in (JAIL, ICE):
        post = fake_slack.posts(channel)[-1]
        assert payload(post)["kind"] == "disputed"
        assert payload(post)["disputed_by"] == OFFICER
        assert f"(typed by <@{OFFICER}>): \u201csays he was born in El Paso\u201d" in post["text"]
    [page] = [p for p in fake_slack.posts() if payload(p)["kind"] == "escalation"]
    assert payload(page)["level"] == 1
    assert "Disputed custody" in page["text"]
    custody_id, state = await the_custody(service)
    stored = await service.store.get_custody(custody_id)
    assert stored is not None and state is CustodyState.OPEN
    assert (stored.disputed_by, stored.dispute_note) == (OFFICER, "says he was born in El Paso")

    status = await slack.command("status B-1")
    assert "*Disputed*" in status.text and "born in El Paso" in status.text

    again = await slack.command("dispute B-1 again", user_id=DESK_STAFF)
    assert "already flagged as disputed" in again.text and "/wso note B-1" in again.text
    await settle(service)
    assert len(fake_slack.posts()) == 5


async def test_a_note_is_quoted_as_the_users_words_without_pings_or_reversal(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    await logged(slack, fake_slack)

    reply = await slack.command("note B-1 <!channel> *pickup* \u202eat 16:00\u2066 @here")

    assert "posted to both channels" in reply.text
    await fake_slack.wait_for_posts(4)
    for channel in (JAIL, ICE):
        post = fake_slack.posts(channel)[-1]
        assert payload(post)["kind"] == "note"
        assert payload(post)["note_by"] == OFFICER
        text = post["text"]
        assert f"Note (typed by <@{OFFICER}>): \u201c" in text
        assert "<!channel>" not in text and "@here" not in text and "*pickup*" not in text
        assert not any(
            ch in text for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
        )
    custody_id, _ = await the_custody(service)
    [entry] = [e for e in await service.store.audit_trail(custody_id) if e.action == "note_added"]
    assert entry.actor == OFFICER


@pytest.mark.parametrize(
    ("text", "user", "said"),
    [
        pytest.param("void B-1 mistake", STRANGER, "officers or staff", id="stranger-voids"),
        pytest.param("igsa B-1", ICE_OFFICER, "officers or staff", id="ice-staff-igsa"),
        pytest.param("note B-1 hello", STRANGER, "add a note", id="stranger-notes"),
        pytest.param("correct B-1 at 13:00", STRANGER, "correct an arrest", id="stranger-corrects"),
        pytest.param("igsa B-404", OFFICER, "no open custody", id="unknown-booking"),
        pytest.param("void B-1 " + "x" * 501, OFFICER, "keep it to 500", id="reason-over-limit"),
        pytest.param("note B-1 " + "x" * 501, OFFICER, "keep it to 500", id="note-over-limit"),
        pytest.param("void B-1", OFFICER, "needs a reason", id="void-without-reason"),
    ],
)
async def test_refused_lifecycle_actions_say_why_and_change_nothing(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    service: WsoService,
    text: str,
    user: str,
    said: str,
) -> None:
    await logged(slack, fake_slack)

    reply = await slack.command(text, user_id=user)

    assert reply.json["response_type"] == "ephemeral"
    assert said in reply.text
    assert "Nothing was changed" in reply.text or "For example" in reply.text
    custody_id, state = await the_custody(service)
    assert state is CustodyState.OPEN
    assert actions_by_people(await service.store.audit_trail(custody_id)) == ["arrest_logged"]
    await settle(service)
    assert len(fake_slack.posts()) == 2


async def test_ice_staff_may_confirm_a_transfer(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    await logged(slack, fake_slack)

    reply = await slack.command("transfer B-1", user_id=ICE_OFFICER, channel_id=ICE)

    assert "transferred to ICE" in reply.text
    assert (await the_custody(service))[1] is CustodyState.TRANSFERRED


async def test_overrides_are_listed_numbered_and_cancelled(
    fake_slack: FakeSlack, start_service: StartService
) -> None:
    document = config_document(escalation=[{"notify": ["oncall:night"], "after": "0s"}])
    night = {"id": "night", "timezone": "UTC", "users": ["U0N1"], "start": "2026-11-30"}
    night |= {"handoff": "07:00", "rotation": "weekly"}
    document["schedule"] = [night]
    service, slack = await start_service(config=parse_config(document))
    assert "No on-call overrides" in (await slack.command("oncall overrides")).text
    await slack.command(f"oncall override night <@{DESK_STAFF}|desk> 3d")

    listing = await slack.command("oncall overrides", user_id=STRANGER)

    assert f"*#1* `night`: <@{DESK_STAFF}>" in listing.text
    assert f"given by <@{OFFICER}>" in listing.text
    refused = await slack.command("oncall cancel 1", user_id=STRANGER)
    assert "may cancel it. Nothing was changed." in refused.text
    missing = await slack.command("oncall cancel 9")
    assert "no override number 9" in missing.text and "/wso oncall overrides" in missing.text

    cancelled = await slack.command("oncall cancel #1", user_id=OTHER_OFFICER)

    assert "Override #1 is cancelled" in cancelled.text
    assert "No on-call overrides" in (await slack.command("oncall overrides")).text
    again = await slack.command("oncall cancel 1")
    assert "no override number 1" in again.text
    assert await service.store.oncall_overrides("night", START) == []
