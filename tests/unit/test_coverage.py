"""bot.core.coverage: which on-call levels page nobody, when, during a custody's paging."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.coverage import CoverageGap, coverage_end, escalation_gaps, paged_schedules
from bot.core.facility import Config, EscalationLevel, Facility, IceEscalationLevel, Reminders
from bot.core.model import CUSTODY_WINDOW, Custody
from bot.core.oncall import Override, Rotation, RotationPeriod, Schedule, parse_ical

NOW = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
DEADLINE = NOW + CUSTODY_WINDOW
# The expiry chain runs 15 minutes (levels after 0s and 15m); reack_after is 30 minutes.
END = DEADLINE + timedelta(minutes=45)
DAY_SHIFT_ENDS = NOW + timedelta(hours=10)
SHORT_END = DEADLINE + timedelta(minutes=30)  # a one-level expiry chain takes no time


def day_calendar() -> Schedule:
    """Someone is on call for the first ten hours of the window, nobody after."""
    data = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//wso tests//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:day\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:U0DAY\r\n"
        b"DTSTART:20261128T200000Z\r\nDTEND:20261129T060000Z\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )
    calendar = parse_ical(data, "day.ics", ZoneInfo("America/Chicago"))
    return Schedule(id="day", timezone_name="America/Chicago", ical=calendar)


DAY = day_calendar()
ALWAYS = Schedule(
    id="always",
    timezone_name="America/Chicago",
    rotation=Rotation(RotationPeriod.DAILY, time(7), ("U0R1", "U0R2")),
)


def facility(
    expiry: Sequence[Sequence[str]] = (("U0SGT",), ("oncall:day", "oncall:always", "oncall:gone")),
    ice: Sequence[Sequence[str]] = (("oncall:day",),),
) -> Facility:
    return Facility(
        id="county-jail",
        name="County Jail",
        timezone_name="America/Chicago",
        jail_channel="C0JAIL",
        ice_channel="C0ICE",
        officers=frozenset({"U0AAA"}),
        escalation=tuple(
            EscalationLevel(tuple(notify), timedelta(minutes=15 * number))
            for number, notify in enumerate(expiry)
        ),
        ice_escalation=tuple(IceEscalationLevel(tuple(n), timedelta(hours=4)) for n in ice),
        reack_after=timedelta(minutes=30),
    )


def config(*facilities: Facility) -> Config:
    return Config(Reminders(()), facilities, schedules=(DAY, ALWAYS))


def custody(arrested_at: datetime = NOW) -> Custody:
    return Custody(
        "c1", "county-jail", "B-1", arrested_at, arrested_at + CUSTODY_WINDOW, "U0AAA", NOW
    )


def expiry_gap(level: int, start: datetime, end: datetime) -> CoverageGap:
    return CoverageGap(False, level, "oncall:day", start, end)


def ice_gap(level: int, start: datetime, end: datetime) -> CoverageGap:
    return CoverageGap(True, level, "oncall:day", start, end)


LATE_ARREST = NOW - timedelta(hours=50)  # the deadline passed two hours ago


@pytest.mark.parametrize(
    ("jail", "arrested_at", "overrides", "expected"),
    [
        pytest.param(
            facility(),
            NOW,
            {},
            [expiry_gap(2, DAY_SHIFT_ENDS, END), ice_gap(1, DAY_SHIFT_ENDS, END)],
            id="every-oncall-level-with-a-gap-expiry-levels-first",
        ),
        pytest.param(
            facility(),
            NOW,
            {"day": [Override("U0X", DAY_SHIFT_ENDS, END)]},
            [],
            id="a-stored-override-fills-the-gap",
        ),
        pytest.param(
            facility(),
            NOW,
            {"day": [Override("U0X", DAY_SHIFT_ENDS, DEADLINE)], "always": []},
            [expiry_gap(2, DEADLINE, END), ice_gap(1, DEADLINE, END)],
            id="an-override-fills-part-of-it",
        ),
        pytest.param(
            facility(),
            LATE_ARREST,
            {},
            [],  # from the old deadline, [now - 2h, now) would be a gap
            id="after-the-deadline-the-window-starts-now",
        ),
        pytest.param(
            facility(expiry=(("U0SGT",), ("S0WATCH", "oncall:always")), ice=()),
            NOW,
            {},
            [],
            id="levels-that-name-people-groups-or-a-full-rotation",
        ),
        pytest.param(
            facility(expiry=(("oncall:gone",),), ice=(("oncall:day",), ("oncall:day",))),
            NOW,
            {},
            [ice_gap(1, DAY_SHIFT_ENDS, SHORT_END), ice_gap(2, DAY_SHIFT_ENDS, SHORT_END)],
            id="unknown-schedules-are-skipped-each-level-counts",
        ),
    ],
)
def test_escalation_gaps(
    jail: Facility,
    arrested_at: datetime,
    overrides: Mapping[str, Sequence[Override]],
    expected: list[CoverageGap],
) -> None:
    gaps = escalation_gaps(jail, config(jail), custody(arrested_at), NOW, overrides)
    assert gaps == expected


@pytest.mark.parametrize(
    ("arrested_at", "end"),
    [
        pytest.param(NOW, END, id="deadline-plus-expiry-chain-plus-reack"),
        pytest.param(LATE_ARREST, NOW + timedelta(minutes=45), id="past-deadline-from-now"),
    ],
)
def test_coverage_end(arrested_at: datetime, end: datetime) -> None:
    assert coverage_end(facility(), custody(arrested_at), NOW) == end


def test_paged_schedules_are_the_configured_ones_each_once_in_chain_order() -> None:
    jail = facility(
        expiry=(("oncall:always",), ("oncall:day", "oncall:gone")), ice=(("oncall:always",),)
    )
    assert paged_schedules(jail, config(jail)) == (ALWAYS, DAY)
