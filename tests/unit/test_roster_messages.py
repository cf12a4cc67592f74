"""What people read about the roster: refusals, ``/wso officers``, the expiry reminder.

Names come from a file people type: none may ping, format or speak for the bot."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.chat.roster_messages import (
    OFFICERS_SHOWN,
    arrest_refused,
    certification_reminder,
    officers_list,
)
from bot.core.certification_plan import CertificationReminder
from bot.core.permissions import ArrestRefusal, ArrestRefusalReason
from bot.core.roster import LiveRoster, Roster, RosterEntry
from tests.conftest import OFFICER, county_jail

HOSTILE = "<!channel> *Boss* `code` @here"
# Saturday 2026-11-28, 14:00 CST.
NOW = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)


def row(user_id: str, name: str, expires_on: date, **overrides: Any) -> RosterEntry:
    values: dict[str, Any] = {
        "user_id": user_id,
        "name": name,
        "badge": "4417",
        "facility_id": "county-jail",
        "certified_on": date(2024, 1, 1),
        "expires_on": expires_on,
    }
    values.update(overrides)
    return RosterEntry(**values)


def facility_with(*rows: RosterEntry, listed: frozenset[str] = frozenset()) -> Any:
    return county_jail(
        name="County <Jail>",
        officers=listed,
        roster=LiveRoster(Roster(rows, source="officers.csv")),
    )


def assert_harmless(text: str) -> None:
    assert "<!channel>" not in text and "@here" not in text
    assert "*Boss*" not in text and "`code`" not in text
    assert "&lt;!channel&gt;" in text


def test_the_officers_list_says_where_each_certification_stands() -> None:
    facility = facility_with(
        row("U0OK", "Ana Cruz", date(2028, 1, 15)),
        row("U0SOON", "Sam Lee", date(2026, 12, 28)),
        row("U0LAST", "Kim Park", date(2026, 11, 28)),
        row("U0OLD", "Old Timer", date(2026, 10, 1)),
        row("U0NEW", "New Hire", date(2028, 12, 1), certified_on=date(2026, 12, 1)),
        listed=frozenset({"U0LISTED", "U0OK"}),
    )

    text = officers_list(facility, NOW).text
    lines = text.split("\n")

    assert lines[0] == (
        "*WSO officers of County &lt;Jail&gt;* (roster `officers.csv`, as of Sat Nov 28, 2026, "
        "facility time)"
    )
    assert lines[1:] == [
        "• :no_entry: Old Timer, badge 4417 (<@U0OLD>): *expired*, certified through "
        "Thu Oct 1, 2026; may not log WSO arrests",
        "• :warning: Kim Park, badge 4417 (<@U0LAST>): certified through Sat Nov 28, 2026, "
        "today is its last day",
        "• :warning: Sam Lee, badge 4417 (<@U0SOON>): certified through Mon Dec 28, 2026, "
        "expires in 30 days",
        "• :white_check_mark: Ana Cruz, badge 4417 (<@U0OK>): certified through "
        "Sat Jan 15, 2028, expires in 413 days",
        "• :hourglass: New Hire, badge 4417 (<@U0NEW>): certified from Tue Dec 1, 2026; may "
        "not log WSO arrests before then",
        "Listed in `officers` with no roster row, so no certification on file: <@U0LISTED>",
    ]


def test_without_a_roster_the_officers_list_says_none_is_configured() -> None:
    text = officers_list(county_jail(officers=frozenset({OFFICER, "U0BBB"})), NOW).text
    assert text == (
        "*WSO officers of County Jail*\n"
        "Listed in `officers` (no officer roster is configured), so no certification on file: "
        "<@U0AAA>, <@U0BBB>"
    )


def test_the_officers_list_is_bounded_and_says_how_many_more() -> None:
    rows = [row(f"U0{n:04d}", f"Officer {n}", date(2028, 1, 1)) for n in range(OFFICERS_SHOWN + 7)]
    text = officers_list(facility_with(*rows), NOW).text
    assert text.count("\n• ") == OFFICERS_SHOWN
    assert text.endswith("…and 7 more")
    assert len(text) < 40_000


def test_names_from_the_roster_are_neutralised_everywhere() -> None:
    hostile = row(OFFICER, HOSTILE, date(2026, 12, 20))
    facility = facility_with(hostile)
    reminder = CertificationReminder(OFFICER, hostile.expires_on, facility.id, "C0JAIL", NOW)

    message = certification_reminder(reminder, hostile, facility, NOW)

    assert_harmless(officers_list(facility, NOW).text)
    assert_harmless(message.text)
    assert all("<!channel>" not in block["text"]["text"] for block in message.blocks)


def test_the_reminder_names_the_officer_the_date_and_carries_its_id() -> None:
    dana = row(OFFICER, "Dana Reyes", date(2026, 12, 28))
    facility = facility_with(dana)
    reminder = CertificationReminder(OFFICER, dana.expires_on, facility.id, "C0JAIL", NOW)

    message = certification_reminder(reminder, dana, facility, NOW)

    assert message.text == (
        ":date: *WSO certification expiring* at County &lt;Jail&gt;: Dana Reyes, badge 4417 "
        "(<@U0AAA>) is certified through Mon Dec 28, 2026 (expires in 30 days). After that day "
        "they may not log WSO arrests until the officer roster shows a renewed certification."
    )
    assert message.metadata == {
        "event_type": "wso_certification",
        "event_payload": {
            "notice_id": "cert_U0AAA_20261228",
            "kind": "certification_expiring",
            "facility": "county-jail",
            "user_id": OFFICER,
            "expires_on": "2026-12-28",
        },
    }


@pytest.mark.parametrize(
    ("reason", "entry", "says"),
    [
        pytest.param(
            ArrestRefusalReason.EXPIRED,
            row(OFFICER, "Dana", date(2026, 11, 27)),
            "Your WSO certification (badge 4417) has expired: it was valid through "
            "Fri Nov 27, 2026 (roster `officers.csv`).",
            id="expired",
        ),
        pytest.param(
            ArrestRefusalReason.NOT_YET_CERTIFIED,
            row(OFFICER, "Dana", date(2028, 1, 1), certified_on=date(2026, 12, 1)),
            "Your WSO certification (badge 4417) starts on Tue Dec 1, 2026 (roster "
            "`officers.csv`); until then you may not log WSO arrests.",
            id="not-yet",
        ),
        pytest.param(
            ArrestRefusalReason.OTHER_JAIL,
            row(OFFICER, "Dana", date(2028, 1, 1), facility_id="north-annex"),
            "You are on the WSO roster at North Annex (badge 4417) (roster `officers.csv`), not "
            "at County &lt;Jail&gt;. WSO arrests happen only in the officer's own jail",
            id="other-jail",
        ),
    ],
)
def test_each_refusal_gives_its_reason(
    reason: ArrestRefusalReason, entry: RosterEntry, says: str
) -> None:
    facility = facility_with(entry)
    north = county_jail(id="north-annex", name="North Annex")

    reply = arrest_refused(ArrestRefusal(reason, entry), facility, OFFICER, north)

    assert reply.refused
    assert says in reply.text
    assert reply.text.endswith(
        "Nothing was stored. A certified WSO officer of County &lt;Jail&gt; can log it."
    )


def test_someone_on_no_list_is_told_the_roster_can_add_them() -> None:
    facility = facility_with(row("U0OTHER", "Ana", date(2028, 1, 1)))
    refusal = ArrestRefusal(ArrestRefusalReason.NOT_AN_OFFICER)

    text = arrest_refused(refusal, facility, "U0NOBODY", None).text

    assert "<@U0NOBODY> is not one of them. Nothing was stored." in text
    assert (
        "can add your Slack user id `U0NOBODY` in a row of the officer roster (`officers.csv`)."
        in text
    )
