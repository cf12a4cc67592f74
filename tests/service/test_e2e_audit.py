"""The audit chain end to end: each kind of change appends one event, with who, how and
which Slack request; ``/wso history`` shows a custody's trail to its facility's people;
``retention_days`` purges daily. Through signed HTTP, a real SQLite file and a fake clock.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import WsoService
from bot.chat import actions
from bot.chat.slack import ActionId
from bot.config import Config, load_config, parse_config
from bot.core.model import AuditEntry, CustodyState, Source
from bot.services import audit_records
from bot.services.clock import FakeClock
from tests.conftest import (
    COUNTY_JAIL_TOML,
    DEADLINE,
    DESK_STAFF,
    JAIL,
    OFFICER,
    STRANGER,
    StartService,
    config_document,
)
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.signed_requests import wso_payload as payload
from tests.fakes.slack import FakeSlack
from tests.fakes.waiting import eventually, settle

ICE_OFFICER = "U0ERO"
SERGEANT = "U0SGT"


def audited_config(**overrides: Any) -> Config:
    escalation = [
        {"notify": [SERGEANT], "after": "0s"},
        {"notify": ["oncall:night"], "after": "15m"},
    ]
    document = config_document(
        igsa=True, ice_staff=[ICE_OFFICER], escalation=escalation, **overrides
    )
    document["schedule"] = [
        {
            "id": "night",
            "timezone": "America/Chicago",
            "handoff": "07:00",
            "rotation": "daily",
            "users": ["U0N1", "U0N2"],
            "start": "2026-11-30",
        }
    ]
    return parse_config(document, source="test")


@pytest.fixture
def config() -> Config:
    return audited_config()


async def every_event(service: WsoService) -> list[AuditEntry]:
    """The whole chain, through the store's own reads (one custody at a time, and the rest)."""
    found = []
    for booking in ("B-1", "B-2", "B-3", "B-4", "B-5"):
        for custody in await service.store.find_custodies(booking):
            found += await service.store.audit_trail(custody.id)
    return found


def card_ts(fake_slack: FakeSlack, channel: str, custody_id: str) -> str:
    [card] = [
        m
        for m in fake_slack.messages(channel)
        if payload(m)["kind"] == "logged" and payload(m)["custody_id"] == custody_id
    ]
    return str(card["ts"])


async def custody_id(service: WsoService, booking: str) -> str:
    [custody] = await service.store.find_custodies(booking)
    return custody.id


async def test_every_kind_of_change_appends_one_event_with_who_how_and_the_request(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    service: WsoService,
    clock: FakeClock,
    db_path: Path,
) -> None:
    for booking in ("B-1", "B-2", "B-3", "B-4", "B-5"):
        await slack.command(f"arrest {booking}")
    await settle(service)
    await slack.command("note B-1 pickup set for 16:00")
    await slack.command("correct B-1 at 13:30")
    await slack.command("dispute B-1 says he was born in El Paso")
    await slack.command("void B-4 entered in error")
    await slack.command("transfer B-5", user_id=ICE_OFFICER)
    await slack.command(f"oncall override night <@{DESK_STAFF}|desk> 3d")
    await slack.command("oncall cancel 1")
    await settle(service)

    b2, b3 = await custody_id(service, "B-2"), await custody_id(service, "B-3")
    for action_id, custody in ((actions.RELEASE, b2), (actions.IGSA, b3)):
        reply = await slack.click(
            action_id=action_id,
            value=custody,
            user_id=DESK_STAFF,
            channel_id=JAIL,
            message_ts=card_ts(fake_slack, JAIL, custody),
        )
        assert reply.status == 200
    await fake_slack.wait_for(lambda: bool(fake_slack.calls_to("views.open")), what="a form")
    form = fake_slack.calls_to("views.open")[0].response["view"]
    values = {actions.RELEASE_REASON: {"selected_option": {"value": "bond"}}}
    await slack.submit_view(form, values, user_id=DESK_STAFF)

    clock.set(DEADLINE + timedelta(minutes=1))  # B-1's reminders go stale; it is paged
    await fake_slack.wait_for(lambda: bool(fake_slack.messages("D" + SERGEANT)), what="a page")
    [page] = fake_slack.messages("D" + SERGEANT)
    await slack.click(
        action_id=ActionId.ACKNOWLEDGE.value,
        value=str(payload(page)["custody_id"]),
        user_id=SERGEANT,
        channel_id="D" + SERGEANT,
        message_ts=str(page["ts"]),
    )
    await settle(service)

    events = await every_event(service)
    by_people = [e for e in events if e.actor != "system"]
    how = {(e.action, e.source, e.request_id) for e in by_people}
    assert how >= {
        ("arrest_logged", Source.SLASH_COMMAND, "1.2.abc"),
        ("note_added", Source.SLASH_COMMAND, "1.2.abc"),
        ("custody_corrected", Source.SLASH_COMMAND, "1.2.abc"),
        ("custody_disputed", Source.SLASH_COMMAND, "1.2.abc"),
        ("custody_voided", Source.SLASH_COMMAND, "1.2.abc"),
        ("custody_transferred", Source.SLASH_COMMAND, "1.2.abc"),
        ("custody_released", Source.MODAL, "1.2.submit"),
        ("custody_igsa", Source.BUTTON, "1.2.trigger"),
        ("paging_acknowledged", Source.BUTTON, "1.2.trigger"),
    }
    counts = Counter(e.action for e in by_people)
    assert counts["arrest_logged"] == 5
    assert all(counts[a] == 1 for a in ("note_added", "custody_corrected", "custody_released"))
    the_bot = Counter(e.action for e in events if e.actor == "system")
    assert the_bot["notice_sent"] >= 10 and the_bot["paged"] >= 1 and the_bot["notice_skipped"]
    assert all(e.facility_id == "county-jail" for e in events)

    # The events without a custody (the config, the override) are in the file's chain too.
    finding = audit_records.verify_file(db_path)
    assert finding.exit_code == 0, finding.message
    lines = export_lines(db_path)
    actions_in_file = [line["action"] for line in lines]
    assert actions_in_file[0] == "config_loaded"
    assert {"oncall_override", "oncall_override_cancelled"} <= set(actions_in_file)
    assert len(lines) == len(events) + 3  # config_loaded, the override and its end


def export_lines(path: Path) -> list[dict[str, Any]]:
    out = io.StringIO()
    assert audit_records.export_file(path, out).exit_code == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_the_config_file_s_sha256_is_recorded_at_start(
    tmp_path: Path, db_path: Path, start_service: StartService
) -> None:
    path = tmp_path / "wso.toml"
    path.write_text(COUNTY_JAIL_TOML)
    await start_service(config=load_config(path))
    [loaded] = [line for line in export_lines(db_path) if line["action"] == "config_loaded"]
    assert loaded["detail"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (loaded["actor"], loaded["source"]) == ("system", "startup")


# --- /wso history -------------------------------------------------------------------------


async def test_history_shows_the_timeline_to_the_facility_s_people_only(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    await slack.command("arrest B-1")
    await slack.command("note B-1 <!channel> pickup *today*")
    await settle(service)

    shown = await slack.command("history B-1", user_id=DESK_STAFF)

    assert shown.json["response_type"] == "ephemeral"
    assert "*History of booking B-1* at County Jail" in shown.text
    assert f"<@{OFFICER}> logged the arrest" in shown.text
    assert "sent the logged notice to <#C0JAIL>" in shown.text
    assert f"<@{OFFICER}> added a note (`/wso`)" in shown.text
    assert "<!channel>" not in shown.text and "&lt;!channel&gt;" in shown.text  # pings nobody
    assert "*today*" not in shown.text
    for refused in (STRANGER, ICE_OFFICER):  # ICE staff may confirm a transfer, not read this
        reply = await slack.command("history B-1", user_id=refused)
        assert reply.json["response_type"] == "ephemeral"
        assert "Only the officers and staff listed for County Jail" in reply.text
        assert "History of" not in reply.text


@pytest.mark.parametrize(
    ("text", "said", "example"),
    [
        ("history B-404", "No custody has been logged for booking B-404", "B-2026-0412"),
        ("history", "`/wso history` needs the booking number", "B-2026-0412"),
        ("history B-1 extra", "Unexpected `extra`", "B-1 facility county-jail"),
    ],
)
async def test_history_of_an_unknown_booking_or_a_bad_command_says_what_to_type(
    slack: SignedSlackClient, text: str, said: str, example: str
) -> None:
    reply = await slack.command(text)
    assert reply.json["response_type"] == "ephemeral"
    assert said in reply.text
    assert f"For example: `/wso history {example}`" in reply.text


async def test_history_says_when_personal_details_were_erased(
    fake_slack: FakeSlack, clock: FakeClock, start_service: StartService, db_path: Path
) -> None:
    service, slack = await start_service(config=audited_config())
    await slack.command("arrest B-1")
    await slack.command("release B-1 bail posted by his sister")
    await settle(service)
    await service.stop()
    clock.advance(timedelta(days=3))
    service, slack = await start_service(config=retention(1))
    await eventually(lambda: purges(db_path), lambda n: n == 1, "the purge at start-up")

    shown = await slack.command("history B-1")

    assert "bail posted" not in shown.text
    assert "recorded a release" in shown.text and "erased by a retention purge" in shown.text


# --- retention_days -----------------------------------------------------------------------


def retention(days: int) -> Config:
    return parse_config({**config_document(), "retention_days": days}, source="test")


async def purges(db_path: Path) -> int:
    return sum(line["action"] == "personal_data_purged" for line in export_lines(db_path))


async def test_retention_days_purges_at_start_and_then_daily(
    fake_slack: FakeSlack, clock: FakeClock, start_service: StartService, db_path: Path
) -> None:
    service, slack = await start_service(config=retention(2))
    await eventually(lambda: purges(db_path), lambda n: n == 1, "the purge at start-up")
    await slack.command("arrest B-1")
    await slack.command("release B-1 bail posted by his sister")
    await settle(service)
    [released] = await service.store.find_custodies("B-1")
    assert released.state is CustodyState.RELEASED and released.close_reason is not None

    clock.advance(timedelta(days=1, minutes=1))  # a day on: a purge, but B-1 is kept
    await eventually(lambda: purges(db_path), lambda n: n == 2, "the second purge")
    assert (await service.store.find_custodies("B-1"))[0].close_reason is not None
    clock.advance(timedelta(days=1, minutes=1))  # closed more than 2 days ago: erased
    await eventually(lambda: purges(db_path), lambda n: n == 3, "the third purge")
    assert (await service.store.find_custodies("B-1"))[0].close_reason is None
    assert audit_records.verify_file(db_path).exit_code == 0
