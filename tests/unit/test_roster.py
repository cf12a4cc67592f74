"""The officer roster's rules: who may log an arrest, who may see the roster, when the
expiry reminder falls due. Pure tables, on the facility's local calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.core.certification_plan import (
    CertificationReminder,
    next_reminder_at,
    reminder_due_at,
    reminders_due,
)
from bot.core.facility import Config, Reminders
from bot.core.permissions import (
    ArrestRefusalReason,
    arrest_refusal,
    may_see_roster,
)
from bot.core.roster import CertificationStatus, LiveRoster, Roster, RosterEntry
from tests.conftest import OFFICER, county_jail

NORTH_OFFICER = "U0NORTH"
LISTED_ONLY = "U0LISTED"  # in ``officers``, with no roster row
DESK = "U0DESK"
ERO = "U0ERO"


def entry(user_id: str = OFFICER, **overrides: Any) -> RosterEntry:
    values: dict[str, Any] = {
        "user_id": user_id,
        "name": "Dana Reyes",
        "badge": "4417",
        "facility_id": "county-jail",
        "certified_on": date(2025, 1, 15),
        "expires_on": date(2026, 11, 28),
    }
    values.update(overrides)
    return RosterEntry(**values)


ROWS = (
    entry(),
    entry(NORTH_OFFICER, facility_id="north-annex", expires_on=date(2028, 1, 1)),
    entry("U0NEW", certified_on=date(2026, 12, 1), expires_on=date(2028, 12, 1)),
)


def facilities(rows: tuple[RosterEntry, ...] = ROWS) -> tuple[Any, Any]:
    live = LiveRoster(Roster(rows, source="officers.csv"))
    county = county_jail(
        officers=frozenset({LISTED_ONLY, NORTH_OFFICER}),
        staff=frozenset({DESK}),
        ice_staff=frozenset({ERO}),
        roster=live,
    )
    north = county_jail(
        id="north-annex",
        timezone_name="America/New_York",
        jail_channel="C0NJAIL",
        officers=frozenset(),
        roster=live,
    )
    return county, north


# --- the certification itself ---------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "status", "days_left"),
    [
        pytest.param(date(2025, 1, 14), CertificationStatus.NOT_YET, 683, id="day-before-start"),
        pytest.param(date(2025, 1, 15), CertificationStatus.CERTIFIED, 682, id="first-day"),
        pytest.param(date(2026, 11, 28), CertificationStatus.CERTIFIED, 0, id="last-day"),
        pytest.param(date(2026, 11, 29), CertificationStatus.EXPIRED, -1, id="day-after"),
    ],
)
def test_a_certification_is_valid_from_its_date_through_its_expiry_date(
    today: date, status: CertificationStatus, days_left: int
) -> None:
    assert entry().status_on(today) is status
    assert entry().days_left(today) == days_left


def test_the_roster_finds_rows_by_person_and_facility() -> None:
    roster = Roster(ROWS, source="officers.csv")
    assert roster.entry(NORTH_OFFICER) == ROWS[1]
    assert roster.entry("U0NOBODY") is None
    assert roster.officer_ids("county-jail") == frozenset({OFFICER, "U0NEW"})
    assert roster.of_facility("north-annex") == (ROWS[1],)


def test_a_reload_replaces_the_roster_every_facility_sees() -> None:
    county, north = facilities(())
    assert not county.is_officer(OFFICER)
    county.roster.replace(Roster(ROWS))
    assert county.is_officer(OFFICER) and north.is_officer(NORTH_OFFICER)
    assert county.current_officers() == frozenset({LISTED_ONLY, NORTH_OFFICER, OFFICER, "U0NEW"})


# --- who may log an arrest --------------------------------------------------------------

# Saturday 2026-11-28 in Chicago (CST, UTC-6): OFFICER's last certified day.
LAST_DAY_EVENING = datetime(2026, 11, 29, 5, 30, tzinfo=UTC)  # 23:30 CST, Nov 29 in UTC
NEXT_DAY = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)  # 00:00 CST Nov 29


@pytest.mark.parametrize(
    ("user_id", "where", "now", "refused"),
    [
        pytest.param(OFFICER, 0, LAST_DAY_EVENING, None, id="certified-on-its-last-local-day"),
        pytest.param(OFFICER, 0, NEXT_DAY, ArrestRefusalReason.EXPIRED, id="expired-at-midnight"),
        pytest.param(
            "U0NEW", 0, NEXT_DAY, ArrestRefusalReason.NOT_YET_CERTIFIED, id="not-yet-certified"
        ),
        pytest.param(
            "U0NEW",
            0,
            datetime(2026, 12, 1, 6, 0, tzinfo=UTC),
            None,
            id="certified-from-local-midnight",
        ),
        pytest.param(NORTH_OFFICER, 1, NEXT_DAY, None, id="own-jail"),
        # Listed in county-jail's officers too: the roster says where they arrest.
        pytest.param(NORTH_OFFICER, 0, NEXT_DAY, ArrestRefusalReason.OTHER_JAIL, id="another-jail"),
        pytest.param(OFFICER, 1, LAST_DAY_EVENING, ArrestRefusalReason.OTHER_JAIL, id="not-here"),
        pytest.param(LISTED_ONLY, 0, NEXT_DAY, None, id="listed-with-no-roster-row"),
        pytest.param(
            LISTED_ONLY, 1, NEXT_DAY, ArrestRefusalReason.NOT_AN_OFFICER, id="listed-elsewhere"
        ),
        pytest.param(DESK, 0, NEXT_DAY, ArrestRefusalReason.NOT_AN_OFFICER, id="staff"),
        pytest.param("U0NOBODY", 0, NEXT_DAY, ArrestRefusalReason.NOT_AN_OFFICER, id="stranger"),
    ],
)
def test_who_may_log_an_arrest(
    user_id: str, where: int, now: datetime, refused: ArrestRefusalReason | None
) -> None:
    refusal = arrest_refusal(facilities()[where], user_id, now)

    assert (refusal.reason if refusal else None) is refused
    if refused in (ArrestRefusalReason.EXPIRED, ArrestRefusalReason.OTHER_JAIL):
        assert refusal is not None and refusal.entry is not None
        assert refusal.entry.user_id == user_id


@pytest.mark.parametrize(
    ("user_id", "may"),
    [
        (OFFICER, True),  # on the roster here (expired or not: still the jail's officer)
        (LISTED_ONLY, True),
        (DESK, True),
        (ERO, False),  # ICE staff: the jail's roster is not theirs to read
        ("U0NOBODY", False),
    ],
)
def test_who_may_see_the_roster(user_id: str, may: bool) -> None:
    assert may_see_roster(facilities()[0], user_id) is may


# --- when the expiry reminder falls due ------------------------------------------------


def config_with(rows: tuple[RosterEntry, ...]) -> Config:
    county, north = facilities(rows)
    return Config(reminders=Reminders(), facilities=(county, north), roster=county.roster)


@pytest.mark.parametrize(
    ("expires_on", "zone", "due"),
    [
        # 30 days before Fri 2027-01-15 is Wed 2026-12-16, 09:00 CST = 15:00 UTC.
        (date(2027, 1, 15), "America/Chicago", datetime(2026, 12, 16, 15, 0, tzinfo=UTC)),
        # Across the spring change: 2027-03-14 is DST day; 09:00 CDT = 14:00 UTC.
        (date(2027, 4, 13), "America/Chicago", datetime(2027, 3, 14, 14, 0, tzinfo=UTC)),
        # Phoenix keeps MST all year: 09:00 = 16:00 UTC.
        (date(2027, 7, 31), "America/Phoenix", datetime(2027, 7, 1, 16, 0, tzinfo=UTC)),
        # Honolulu, HST (UTC-10): 09:00 = 19:00 UTC.
        (date(2027, 1, 15), "Pacific/Honolulu", datetime(2026, 12, 16, 19, 0, tzinfo=UTC)),
    ],
)
def test_the_reminder_is_due_at_nine_local_30_days_before(
    expires_on: date, zone: str, due: datetime
) -> None:
    facility = county_jail(timezone_name=zone)
    assert reminder_due_at(entry(expires_on=expires_on), facility) == due


def test_reminders_due_and_the_next_one() -> None:
    soon = entry(expires_on=date(2027, 1, 15))  # due 2026-12-16 15:00 UTC
    later = entry("U0BBB", expires_on=date(2027, 3, 1))  # due 2027-01-30 15:00 UTC
    over = entry("U0OLD", expires_on=date(2026, 12, 1))  # ended before the pass below
    gone = entry("U0GONE", facility_id="closed-jail", expires_on=date(2027, 1, 1))
    config = config_with((soon, later, over, gone))
    now = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)

    [due] = reminders_due(config, now)

    assert due == CertificationReminder(
        OFFICER,
        date(2027, 1, 15),
        "county-jail",
        "C0JAIL",
        datetime(2026, 12, 16, 15, 0, tzinfo=UTC),
    )
    assert due.id == "cert_U0AAA_20270115"
    assert next_reminder_at(config, now, {due.key}) == datetime(2027, 1, 30, 15, 0, tzinfo=UTC)
    assert next_reminder_at(config, now, {due.key, (later.user_id, later.expires_on)}) is None
    # Before its time, nothing is due; a minute after, it is.
    assert reminders_due(config, due.due_at - timedelta(seconds=1)) == []
    assert reminders_due(config, due.due_at) == [due]


def test_an_officer_added_inside_the_30_days_is_reminded_at_once() -> None:
    config = config_with((entry(expires_on=date(2026, 12, 5)),))  # 7 days after START
    now = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
    assert [r.user_id for r in reminders_due(config, now)] == [OFFICER]
