"""Who may put whom on call (``/wso oncall override``): the rule, as a table."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.chat.commands import OncallOverrideCommand, parse_command
from bot.chat.replies import override_refused
from bot.config import Config, parse_config
from bot.core.oncall import schedule_people
from bot.core.override_policy import override_refusal, paging_facilities
from tests.conftest import (
    DESK_STAFF,
    OFFICER,
    OTHER_OFFICER,
    STRANGER,
    config_document,
    north_annex,
)

NORTH_OFFICER = "U0NORTH"
NORTH_STAFF = "U0NDESK"
NIGHT = ("U0N1", "U0N2")
NORTH_ROTA = "U0X1"
CONFIG_COVER = "U0CFG"
ICAL_DUTY = "U0ICE1"
TWELVE_HOURS = timedelta(hours=12)

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    "BEGIN:VEVENT\r\nUID:a@test\r\nDTSTAMP:20261101T000000Z\r\n"
    f"DTSTART:20261128T000000Z\r\nDTEND:20261129T000000Z\r\nSUMMARY:{ICAL_DUTY}\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:b@test\r\nDTSTAMP:20261101T000000Z\r\n"
    "DTSTART:20261129T000000Z\r\nDTEND:20261130T000000Z\r\nSUMMARY:duty@example.org\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def _rotation(schedule_id: str, *users: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": schedule_id,
        "timezone": "America/Chicago",
        "handoff": "07:00",
        "rotation": "daily",
        "users": list(users),
        **extra,
    }


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    ics = tmp_path_factory.mktemp("ical") / "ice.ics"
    ics.write_text(ICS)
    document = config_document(
        name="County <Jail>",
        escalation=[{"notify": ["oncall:night"], "after": "0s"}],
        ice_escalation=[{"notify": ["U0SGT", "oncall:ice-duty"], "before": "4h"}],
    )
    document["facility"].append(
        north_annex(
            officers=[NORTH_OFFICER],
            staff=[NORTH_STAFF],
            escalation=[{"notify": ["oncall:north"], "after": "0s"}],
        )
    )
    cover = {"user": CONFIG_COVER, "from": "2026-12-01 07:00", "to": "2026-12-02 07:00"}
    document["schedule"] = [
        _rotation("night", *NIGHT, overrides=[cover]),
        _rotation("north", NORTH_ROTA),
        _rotation("orphan", "U0O1"),
        {"id": "ice-duty", "timezone": "America/Chicago", "ical": str(ics)},
    ]
    return parse_config(document, source="test", base_dir=Path(ics.parent))


def test_paging_facilities_are_those_whose_chains_name_the_schedule(config: Config) -> None:
    assert [f.id for f in paging_facilities(config, "night")] == ["county-jail"]
    assert [f.id for f in paging_facilities(config, "ice-duty")] == ["county-jail"]
    assert [f.id for f in paging_facilities(config, "north")] == ["north-annex"]
    assert paging_facilities(config, "orphan") == ()


def test_schedule_people_come_from_the_rotation_the_calendar_and_config_overrides(
    config: Config,
) -> None:
    night, ice = config.schedule("night"), config.schedule("ice-duty")
    assert night is not None and ice is not None
    assert schedule_people(night) == {*NIGHT, CONFIG_COVER}
    assert schedule_people(ice) == {ICAL_DUTY, "duty@example.org"}


ALLOWED = [
    pytest.param(OFFICER, "night", NIGHT[1], id="rotation-user"),
    pytest.param(OFFICER, "night", CONFIG_COVER, id="config-override-user"),
    pytest.param(OFFICER, "night", OTHER_OFFICER, id="officer-of-the-paging-facility"),
    pytest.param(OFFICER, "night", DESK_STAFF, id="staff-of-the-paging-facility"),
    pytest.param(OFFICER, "night", OFFICER, id="the-officer-themselves"),
    pytest.param(OTHER_OFFICER, "ice-duty", ICAL_DUTY, id="named-in-the-ical-file"),
    pytest.param(NORTH_OFFICER, "north", NORTH_STAFF, id="other-facility-on-its-own-schedule"),
]


@pytest.mark.parametrize(("giver", "schedule_id", "person"), ALLOWED)
def test_allowed_overrides(config: Config, giver: str, schedule_id: str, person: str) -> None:
    schedule = config.schedule(schedule_id)
    assert schedule is not None
    assert override_refusal(config, schedule, giver, person, TWELVE_HOURS) is None


REFUSED = [
    pytest.param(
        NORTH_OFFICER,
        "night",
        NORTH_OFFICER,
        "Only the officers of County &lt;Jail&gt;, whose escalation pages `oncall:night`",
        "/wso oncall override north U0NORTH 12h",
        id="officer-of-another-facility-puts-themselves-on",
    ),
    pytest.param(
        NORTH_OFFICER,
        "night",
        NIGHT[0],
        "<@U0NORTH> is not one of them",
        "/wso oncall override north U0NORTH 12h",
        id="officer-of-another-facility-even-with-a-rotation-user",
    ),
    pytest.param(
        DESK_STAFF,
        "night",
        DESK_STAFF,
        "Only the officers of County &lt;Jail&gt;",
        "/wso oncall",
        id="staff-may-not-give-overrides",
    ),
    pytest.param(STRANGER, "night", NIGHT[0], "Only the officers of", "/wso oncall", id="stranger"),
    pytest.param(
        OFFICER,
        "night",
        NORTH_OFFICER,
        "<@U0NORTH> cannot be put on call for `night`",
        "/wso oncall override night U0AAA 12h",
        id="person-of-another-facility",
    ),
    pytest.param(
        OFFICER,
        "night",
        NORTH_ROTA,
        "<@U0X1> cannot be put on call for `night`",
        "/wso oncall override night U0AAA 12h",
        id="person-on-another-schedule",
    ),
    pytest.param(
        OFFICER,
        "ice-duty",
        "U0ANYONE",
        "not in its rotation or calendar",
        "/wso oncall override ice-duty U0AAA 12h",
        id="well-formed-id-of-nobody",
    ),
    pytest.param(
        OFFICER,
        "orphan",
        OFFICER,
        "No facility's escalation pages `oncall:orphan`",
        "/wso oncall override night U0AAA 12h",
        id="schedule-no-facility-pages",
    ),
]


@pytest.mark.parametrize(("giver", "schedule_id", "person", "says", "example"), REFUSED)
def test_refused_overrides_say_why_and_what_would_work(
    config: Config, giver: str, schedule_id: str, person: str, says: str, example: str
) -> None:
    schedule = config.schedule(schedule_id)
    assert schedule is not None
    refusal = override_refusal(config, schedule, giver, person, TWELVE_HOURS)
    assert refusal is not None
    message = override_refused(refusal).text
    assert says in message
    assert "Nothing was changed" in message
    assert refusal.example == example
    if example.startswith("/wso oncall override"):  # the example itself is accepted
        suggested = parse_command(example.removeprefix("/wso "))
        assert isinstance(suggested, OncallOverrideCommand)
        other = config.schedule(suggested.schedule_id)
        assert other is not None
        assert override_refusal(config, other, giver, suggested.user_id, TWELVE_HOURS) is None
