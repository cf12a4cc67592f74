"""The officer roster over signed HTTP: who may log an arrest, ``/wso officers``, reloads.

The roster is a real file beside a real config file; every command goes through the
bot's HTTP endpoint signed as Slack signs it, and "nothing stored" is read from the
SQLite file, "nothing posted" from the fake Slack after the dispatcher settled.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import WsoService
from bot.chat import actions
from bot.config import Config, load_config
from bot.services import audit_records
from bot.services.clock import FakeClock
from tests.conftest import DESK_STAFF, ICE, JAIL, OFFICER, STRANGER, StartService
from tests.fakes import roster_files
from tests.fakes.roster_files import COUNTY, ROSTER_KEY, facility_toml, write_config
from tests.fakes.roster_files import NORTH as NORTH_ANNEX
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.slack import FakeSlack
from tests.fakes.waiting import eventually, settle, settle_certifications, wait_until
from tests.service.test_e2e_arrest_form import GOOD
from tests.service.test_e2e_audit import export_lines

# START is Saturday 2026-11-28 14:00 in Chicago.
EXPIRED = "U0BBB"  # certified through Friday 2026-11-27
NOT_YET = "U0NEW"  # certified from Tuesday 2026-12-01
NORTH = "U0NORTH"  # on the roster at north-annex, and listed in county-jail's officers
ERO = "U0ERO"  # county-jail's ICE staff
ROWS = [
    f"{OFFICER},Dana Reyes,4417,county-jail,2025-01-15,2028-01-15",
    f"{EXPIRED},Sam Lee,5102,county-jail,2024-11-27,2026-11-27",
    f"{NOT_YET},Kim Park,6001,county-jail,2026-12-01,2028-12-01",
    f"{NORTH},Ana Cruz,K-12,north-annex,2025-01-01,2028-01-01",
]
TOML = (
    ROSTER_KEY
    + facility_toml(*COUNTY, officers=[NORTH], staff=[DESK_STAFF], ice_staff=[ERO])
    + facility_toml(*NORTH_ANNEX)
)


def write_roster(folder: Path, rows: list[str]) -> None:
    roster_files.write_roster(folder, *rows)


@pytest.fixture
def roster_config(tmp_path: Path) -> Config:
    return load_config(write_config(tmp_path, TOML, *ROWS))


@pytest.fixture
async def bot(
    start_service: StartService, roster_config: Config
) -> tuple[WsoService, SignedSlackClient]:
    return await start_service(config=roster_config)


async def assert_nothing_happened(service: WsoService, fake_slack: FakeSlack) -> None:
    assert await service.store.list_open_custodies() == []
    await settle(service)
    assert fake_slack.posts() == []


# --- who may log an arrest ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_id", "text", "says"),
    [
        pytest.param(
            EXPIRED,
            "arrest B-1",
            "Your WSO certification (badge 5102) has expired: it was valid through "
            "Fri Nov 27, 2026 (roster `officers.csv`).",
            id="expired",
        ),
        pytest.param(
            NOT_YET,
            "arrest B-1",
            "Your WSO certification (badge 6001) starts on Tue Dec 1, 2026",
            id="not-yet-certified",
        ),
        pytest.param(
            NORTH,
            "arrest B-1 facility county-jail",
            "You are on the WSO roster at North Annex (badge K-12) (roster `officers.csv`), not "
            "at County Jail. WSO arrests happen only in the officer's own jail",
            id="another-jail",
        ),
        pytest.param(
            OFFICER,
            "arrest B-1 facility north-annex",
            "WSO arrests happen only in the officer's own jail",
            id="certified-but-not-here",
        ),
        pytest.param(
            STRANGER,
            "arrest B-1 facility county-jail",
            "in a row of the officer roster (`officers.csv`)",
            id="on-no-list",
        ),
    ],
)
async def test_a_refused_arrest_gives_the_reason_and_stores_nothing(
    bot: tuple[WsoService, SignedSlackClient],
    fake_slack: FakeSlack,
    user_id: str,
    text: str,
    says: str,
) -> None:
    service, slack = bot

    reply = await slack.command(text, user_id=user_id)

    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert says in reply.text
    assert "Nothing was stored." in reply.text
    await assert_nothing_happened(service, fake_slack)


async def test_a_certified_officer_on_the_roster_alone_logs_an_arrest(
    bot: tuple[WsoService, SignedSlackClient], fake_slack: FakeSlack
) -> None:
    service, slack = bot

    reply = await slack.command("arrest B-1", user_id=OFFICER)

    assert reply.text.startswith(":white_check_mark: Logged WSO arrest of booking *B-1*")
    [custody] = await service.store.list_open_custodies()
    assert (custody.logged_by, custody.facility_id) == (OFFICER, "county-jail")


async def test_the_arrest_form_is_not_opened_for_an_expired_officer(
    bot: tuple[WsoService, SignedSlackClient], fake_slack: FakeSlack
) -> None:
    service, slack = bot

    reply = await slack.command("arrest", user_id=EXPIRED)

    assert "has expired: it was valid through Fri Nov 27, 2026" in reply.text
    assert fake_slack.calls_to("views.open") == []
    await assert_nothing_happened(service, fake_slack)


async def test_a_form_submitted_after_the_certification_ended_is_refused_on_the_form(
    bot: tuple[WsoService, SignedSlackClient],
    fake_slack: FakeSlack,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    service, slack = bot
    last_day = "U0LAST,Lee Last,7001,county-jail,2024-01-01,2026-11-28"
    write_roster(tmp_path, [*ROWS, last_day])
    assert service.reload_roster()
    await settle_certifications(service.certifications, clock.now())  # the reminder, at once
    clock.set(datetime(2026, 11, 29, 5, 30, tzinfo=UTC))  # Sat 23:30 CST, the last day
    assert (await slack.command("arrest", user_id="U0LAST")).body == ""
    [opened] = fake_slack.calls_to("views.open")

    clock.set(datetime(2026, 11, 29, 6, 5, tzinfo=UTC))  # Sun 00:05 CST
    reply = await slack.submit_view(opened.response["view"], GOOD, user_id="U0LAST")

    assert reply.json["response_action"] == "errors"
    assert reply.json["errors"][actions.ARREST_BOOKING].startswith(
        "Your WSO certification (badge 7001) has expired: it was valid through Sat Nov 28, 2026"
    )
    assert await service.store.list_open_custodies() == []
    await settle(service)
    # Its last day was within 30 days: the jail heard about that, and of nothing else.
    [reminder] = fake_slack.posts()
    assert reminder["metadata"]["event_type"] == "wso_certification"
    assert "(today is its last day)" in reminder["text"]


# --- /wso officers -------------------------------------------------------------------------


@pytest.mark.parametrize(("user_id", "channel"), [(OFFICER, JAIL), (DESK_STAFF, ICE)])
async def test_officers_and_staff_see_their_facilitys_roster(
    bot: tuple[WsoService, SignedSlackClient], user_id: str, channel: str
) -> None:
    _, slack = bot

    reply = await slack.command("officers", user_id=user_id, channel_id=channel)

    assert reply.json["response_type"] == "ephemeral"
    lines = reply.text.split("\n")
    assert lines[0].startswith("*WSO officers of County Jail* (roster `officers.csv`")
    assert lines[1] == (
        f"• :no_entry: Sam Lee, badge 5102 (<@{EXPIRED}>): *expired*, certified through "
        "Fri Nov 27, 2026; may not log WSO arrests"
    )
    assert lines[2] == (
        f"• :white_check_mark: Dana Reyes, badge 4417 (<@{OFFICER}>): certified through "
        "Sat Jan 15, 2028, expires in 413 days"
    )
    assert lines[3].startswith(f"• :hourglass: Kim Park, badge 6001 (<@{NOT_YET}>)")
    assert lines[4] == (
        f"Listed in `officers` with no roster row, so no certification on file: <@{NORTH}>"
    )
    assert "Ana Cruz" not in reply.text  # north-annex's officer


@pytest.mark.parametrize("user_id", [ERO, STRANGER])
async def test_the_roster_is_not_shown_to_others(
    bot: tuple[WsoService, SignedSlackClient], user_id: str
) -> None:
    _, slack = bot

    reply = await slack.command("officers facility county-jail", user_id=user_id)

    assert "Only the officers and staff of County Jail may see its officer roster" in reply.text
    assert "Dana Reyes" not in reply.text
    assert "For example: `/wso officers facility ID`" in reply.text


async def test_officers_asks_which_facility_when_it_cannot_tell(
    bot: tuple[WsoService, SignedSlackClient],
) -> None:
    _, slack = bot

    # NORTH may read both rosters (listed at one, on the roster of the other).
    reply = await slack.command("officers", user_id=NORTH, channel_id="C0ELSEWHERE")
    assert "Which facility's officers?" in reply.text
    assert "/wso officers facility county-jail" in reply.text

    named = await slack.command("officers facility north-annex", user_id=NORTH)
    assert "*WSO officers of North Annex*" in named.text
    assert "Ana Cruz, badge K-12" in named.text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("officers facility mars-base", "Unknown facility `mars-base`"),
        ("officers now", "Unexpected `now` after `/wso officers`: it takes only"),
    ],
)
async def test_a_malformed_officers_command_is_explained(
    bot: tuple[WsoService, SignedSlackClient], text: str, says: str
) -> None:
    _, slack = bot
    reply = await slack.command(text, user_id=OFFICER)
    assert says in reply.text
    assert "For example:" in reply.text


# --- reloading the roster ---------------------------------------------------------------


async def test_a_bad_roster_on_reload_keeps_the_old_one_and_warns_until_fixed(
    bot: tuple[WsoService, SignedSlackClient], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    service, slack = bot
    renewed = ROWS[1].replace("2026-11-27", "2028-11-27")
    write_roster(tmp_path, [ROWS[0], renewed.replace("county-jail", "county-jial"), ROWS[3]])

    assert service.reload_roster() is False

    health = (await slack.get_json("/healthz")).json
    [warning] = health["config_warnings"]
    assert f"roster: {tmp_path / 'officers.csv'}, line 3: unknown facility" in warning
    assert "the roster read before is still in force" in warning
    assert health["ok"] is True  # a warning: the clocks keep running
    still = await slack.command("arrest B-1", user_id=EXPIRED)
    assert "has expired" in still.text
    await assert_nothing_happened(service, fake_slack)

    write_roster(tmp_path, [ROWS[0], renewed, ROWS[3]])
    assert service.reload_roster() is True

    assert (await slack.get_json("/healthz")).json["config_warnings"] == []
    logged = await slack.command("arrest B-1", user_id=EXPIRED)
    assert logged.text.startswith(":white_check_mark: Logged WSO arrest")
    [custody] = await service.store.list_open_custodies()
    assert custody.logged_by == EXPIRED
    # Dropped from the file: no longer an officer anywhere.
    gone = await slack.command("officers", user_id=NOT_YET)
    assert "may see its officer roster" in gone.text


async def test_a_reload_that_removes_every_officer_of_a_facility_is_refused(
    bot: tuple[WsoService, SignedSlackClient], tmp_path: Path
) -> None:
    service, slack = bot
    write_roster(tmp_path, [ROWS[0]])  # nobody left at north-annex

    assert service.reload_roster() is False

    [warning] = await eventually(lambda: _warnings(slack), bool, "the reload's warning in /healthz")
    assert 'facility[1].officers: facility "north-annex" has no officers' in warning
    assert service.config.roster.current.entry(NORTH) is not None


def roster_events(db_path: Path) -> list[dict[str, Any]]:
    return [line for line in export_lines(db_path) if line["action"] == "roster_loaded"]


async def test_the_roster_in_force_is_an_audit_event_with_its_sha256(
    bot: tuple[WsoService, SignedSlackClient], tmp_path: Path, db_path: Path
) -> None:
    service, _ = bot
    roster = tmp_path / "officers.csv"
    [at_start] = roster_events(db_path)
    assert (at_start["actor"], at_start["source"]) == ("system", "startup")
    sha256 = hashlib.sha256(roster.read_bytes()).hexdigest()
    assert at_start["detail"] == {"path": str(roster), "sha256": sha256, "officers": 4}

    write_roster(tmp_path, [ROWS[0]])  # refused: north-annex left with nobody
    assert service.reload_roster() is False
    write_roster(tmp_path, [ROWS[0], ROWS[2], ROWS[3]])
    assert service.reload_roster() is True

    await wait_until(lambda: len(roster_events(db_path)) >= 2, what="the reload's event")
    [_, reloaded] = roster_events(db_path)  # the refused file put nothing in force
    assert (reloaded["actor"], reloaded["source"]) == ("system", "signal")
    sha256 = hashlib.sha256(roster.read_bytes()).hexdigest()
    assert reloaded["detail"] == {"path": str(roster), "sha256": sha256, "officers": 3}
    assert "Dana Reyes" not in str(reloaded)  # the roster's names stay out of the record
    assert audit_records.verify_file(db_path).exit_code == 0


async def _warnings(slack: SignedSlackClient) -> list[str]:
    return list((await slack.get_json("/healthz")).json["config_warnings"])
