"""What the bot says: the wso_custody metadata contract, wording, escaping and Slack limits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.chat.commands import MAX_REASON_CHARS
from bot.chat.notices import (
    SlackMessage,
    custody_metadata,
    format_lead,
    render_notice,
    viewer_time,
)
from bot.chat.phrases import format_local
from bot.chat.replies import arrest_receipt, custody_status, error_reply, open_custody_list
from bot.chat.slack import METADATA_EVENT_TYPE
from bot.config import Facility, parse_config
from bot.core.model import (
    CUSTODY_WINDOW,
    Custody,
    CustodyState,
    Notice,
    NoticeKind,
    WarrantForm,
)
from bot.core.notice_plan import LATE_AFTER
from tests.conftest import ARRESTED, DEADLINE, ICE, JAIL, OFFICER, config_document
from tests.unit.test_slack_limits import assert_blocks_fit

DESK = "U0DESK"
HOSTILE = "<!channel> ask <@U123> & <#C999|x> <https://evil.example|click>"

FACILITY = parse_config(config_document(), source="test").facilities[0]
NEW_YORK = Facility(
    id="north-annex",
    name="North Annex",
    timezone_name="America/New_York",
    jail_channel="C0NJAIL",
    ice_channel="C0NICE",
    officers=frozenset({OFFICER}),
)


def _custody(**overrides: Any) -> Custody:
    values: dict[str, Any] = {
        "id": "c_1",
        "facility_id": FACILITY.id,
        "booking": "B-2026-0412",
        "arrested_at": ARRESTED,
        "deadline": DEADLINE,
        "logged_by": OFFICER,
        "logged_at": ARRESTED,
        "warrant_form": WarrantForm.I_200,
        "warrant_number": "W-123456",
    }
    values.update(overrides)
    return Custody(**values)


def _closed(state: CustodyState, reason: str | None = None, **overrides: Any) -> Custody:
    return _custody(
        state=state,
        closed_at=ARRESTED + timedelta(hours=30),
        closed_by=DESK,
        close_reason=reason,
        **overrides,
    )


def _notice(kind: NoticeKind, due_at: datetime, lead: timedelta | None = None) -> Notice:
    return Notice(
        id=f"n_{kind}",
        custody_id="c_1",
        kind=kind,
        channel=JAIL,
        due_at=due_at,
        lead_seconds=None if lead is None else int(lead.total_seconds()),
        seq=1,
    )


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a block structure."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _all_text(message: SlackMessage) -> list[str]:
    return [message.text, *_strings(message.blocks)]


# Each case: a custody, a notice, and the moment it is rendered.
NOTICE_CASES = [
    pytest.param(_custody(), _notice(NoticeKind.LOGGED, ARRESTED), ARRESTED, id="logged"),
    pytest.param(
        _custody(
            arrested_at=ARRESTED - 50 * timedelta(hours=1),
            deadline=DEADLINE - 50 * timedelta(hours=1),
        ),
        _notice(NoticeKind.LOGGED, ARRESTED),
        ARRESTED,
        id="logged-already-expired",
    ),
    pytest.param(
        _custody(),
        _notice(NoticeKind.REMINDER, DEADLINE - timedelta(hours=4), timedelta(hours=4)),
        DEADLINE - timedelta(hours=4),
        id="reminder-on-time",
    ),
    pytest.param(
        _custody(),
        _notice(NoticeKind.REMINDER, DEADLINE - timedelta(hours=1), timedelta(hours=1)),
        DEADLINE - timedelta(minutes=50),
        id="reminder-late",
    ),
    pytest.param(_custody(), _notice(NoticeKind.EXPIRED, DEADLINE), DEADLINE, id="expired"),
    pytest.param(
        _closed(CustodyState.TRANSFERRED),
        _notice(NoticeKind.TRANSFERRED, ARRESTED + timedelta(hours=30)),
        ARRESTED + timedelta(hours=30),
        id="transferred",
    ),
    pytest.param(
        _closed(CustodyState.RELEASED, "bail posted"),
        _notice(NoticeKind.RELEASED, ARRESTED + timedelta(hours=30)),
        ARRESTED + timedelta(hours=30),
        id="released",
    ),
]


# --- the wso_custody metadata contract ------------------------------------------------


@pytest.mark.parametrize(("custody", "notice", "now"), NOTICE_CASES)
def test_metadata_contract(custody: Custody, notice: Notice, now: datetime) -> None:
    message = render_notice(custody, notice, FACILITY, now)

    assert message.metadata == custody_metadata(custody, notice, now)
    assert message.metadata is not None
    assert message.metadata["event_type"] == METADATA_EVENT_TYPE == "wso_custody"
    payload = message.metadata["event_payload"]
    assert payload["custody_id"] == custody.id
    assert payload["notice_id"] == notice.id
    assert payload["booking"] == custody.booking
    assert payload["facility"] == FACILITY.id
    assert payload["kind"] == notice.kind.value
    assert payload["state"] == custody.state.value
    assert payload["deadline"] == custody.deadline.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert payload["arrested_at"] == custody.arrested_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    for stamp in (payload["deadline"], payload["arrested_at"]):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
    assert type(payload["late"]) is bool
    if notice.kind is NoticeKind.REMINDER:
        assert type(payload["lead_seconds"]) is int
        assert payload["lead_seconds"] == notice.lead_seconds
    else:
        assert "lead_seconds" not in payload
    # Slack metadata values must be plain JSON scalars.
    assert all(isinstance(value, str | int | bool) for value in payload.values())


def test_metadata_deadline_is_utc_whole_seconds() -> None:
    custody = _custody(
        arrested_at=ARRESTED + timedelta(microseconds=750_000),
        deadline=DEADLINE + timedelta(microseconds=750_000),
    )
    payload = custody_metadata(custody, _notice(NoticeKind.LOGGED, ARRESTED), ARRESTED)[
        "event_payload"
    ]
    assert payload["deadline"] == "2026-11-30T20:00:00Z"
    assert payload["arrested_at"] == "2026-11-28T20:00:00Z"


@pytest.mark.parametrize(
    ("sent_after_due", "late"),
    [
        pytest.param(timedelta(0), False, id="on-time"),
        pytest.param(LATE_AFTER, False, id="at-LATE_AFTER"),
        pytest.param(LATE_AFTER + timedelta(seconds=1), True, id="after-LATE_AFTER"),
        pytest.param(timedelta(hours=2), True, id="hours-late"),
    ],
)
@pytest.mark.parametrize("kind", [NoticeKind.LOGGED, NoticeKind.EXPIRED, NoticeKind.REMINDER])
def test_metadata_late_flag(kind: NoticeKind, sent_after_due: timedelta, late: bool) -> None:
    due = DEADLINE - timedelta(hours=12) if kind is NoticeKind.REMINDER else DEADLINE
    lead = timedelta(hours=12) if kind is NoticeKind.REMINDER else None
    notice = _notice(kind, due, lead)
    payload = custody_metadata(_custody(), notice, due + sent_after_due)["event_payload"]
    assert payload["late"] is late


# --- wording ---------------------------------------------------------------------------


def test_expired_notice_says_release_required() -> None:
    message = render_notice(_custody(), _notice(NoticeKind.EXPIRED, DEADLINE), FACILITY, DEADLINE)
    assert "window expired — release required" in message.text
    assert "window expired — release required" in message.blocks[0]["text"]["text"]
    assert "B-2026-0412" in message.text
    assert "/wso release B-2026-0412 window expired" in message.text
    assert "Mon Nov 30, 14:00 CST" in message.text


@pytest.mark.parametrize(
    ("sent_after_due", "late"),
    [
        pytest.param(timedelta(0), False, id="on-time"),
        pytest.param(timedelta(seconds=1), False, id="1s, within the promise"),
        pytest.param(timedelta(seconds=2), True, id="2s"),
        pytest.param(timedelta(minutes=20), True, id="20m"),
    ],
)
def test_reminder_says_late_only_when_late(sent_after_due: timedelta, late: bool) -> None:
    due = DEADLINE - timedelta(hours=1)
    notice = _notice(NoticeKind.REMINDER, due, timedelta(hours=1))
    message = render_notice(_custody(), notice, FACILITY, due + sent_after_due)
    assert ("Late" in message.text) is late
    assert ("Late" in message.blocks[0]["text"]["text"]) is late
    if late:
        assert "was due Mon Nov 30, 13:00 CST" in message.text
    assert "1h reminder" in message.text


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        pytest.param(timedelta(hours=4), "*4h 00m left*", id="4h"),
        pytest.param(timedelta(minutes=30), "*30m 00s left*", id="30m"),
    ],
)
def test_reminder_shows_time_left(left: timedelta, expected: str) -> None:
    notice = _notice(NoticeKind.REMINDER, DEADLINE - left, left)
    message = render_notice(_custody(), notice, FACILITY, DEADLINE - left)
    assert expected in message.text


@pytest.mark.parametrize(
    ("custody", "now", "expected", "absent"),
    [
        pytest.param(
            _custody(),
            ARRESTED,
            ["WSO arrest logged", "*48h 00m left*", "on I-200 no. W-123456", f"<@{OFFICER}>"],
            ["expired"],
            id="open",
        ),
        pytest.param(
            _custody(),
            DEADLINE + timedelta(minutes=5),
            ["window already expired", "Release required", f"<@{OFFICER}>"],
            ["left*"],
            id="already-expired",
        ),
        pytest.param(
            _custody(warrant_form=None, warrant_number=None),
            ARRESTED,
            ["Arrested Sat Nov 28, 14:00 CST. ICE must take custody"],
            [" on "],
            id="no-warrant",
        ),
    ],
)
def test_logged_notice_wording(
    custody: Custody, now: datetime, expected: list[str], absent: list[str]
) -> None:
    message = render_notice(custody, _notice(NoticeKind.LOGGED, now), FACILITY, now)
    for phrase in expected:
        assert phrase in message.text
    for phrase in absent:
        assert phrase not in message.text


@pytest.mark.parametrize(
    ("state", "kind", "headline"),
    [
        pytest.param(
            CustodyState.TRANSFERRED, NoticeKind.TRANSFERRED, "Custody transferred to ICE", id="t"
        ),
        pytest.param(CustodyState.RELEASED, NoticeKind.RELEASED, "*Released*", id="r"),
    ],
)
def test_closing_notice_wording(state: CustodyState, kind: NoticeKind, headline: str) -> None:
    closed_at = ARRESTED + timedelta(hours=30)
    message = render_notice(_closed(state), _notice(kind, closed_at), FACILITY, closed_at)
    assert headline in message.text
    assert f"by <@{DESK}>" in message.text
    assert "Recorded Sun Nov 29, 20:00 CST" in message.text
    assert "no more notices" in message.text
    assert "Reason:" not in message.text


# --- escaping user input -----------------------------------------------------------------

# The bot's own control sequences: date tokens and mentions of the people who acted.
_OWN_TOKEN = re.compile(r"<!date\^\d+\^\{date_short_pretty\} \{time\}\|[^<>]*>|<@U0(AAA|DESK)>")


def _assert_no_raw_user_controls(texts: list[str]) -> None:
    for text in texts:
        leftover = _OWN_TOKEN.sub("", text)
        assert "<" not in leftover, text
        assert ">" not in leftover, text
        assert "<!channel>" not in text
        assert "<@U123>" not in text
        assert "<#C999" not in text


@pytest.mark.parametrize(
    "state", [CustodyState.RELEASED, CustodyState.TRANSFERRED], ids=["released", "transferred"]
)
def test_close_reason_is_escaped_in_text_and_blocks(state: CustodyState) -> None:
    custody = _closed(state, HOSTILE)
    kind = NoticeKind.RELEASED if state is CustodyState.RELEASED else NoticeKind.TRANSFERRED
    now = ARRESTED + timedelta(hours=30)
    message = render_notice(custody, _notice(kind, now), FACILITY, now)

    escaped = "&lt;!channel&gt; ask &lt;@U123&gt; &amp; &lt;#C999|x&gt;"
    assert escaped in message.text
    assert escaped in message.blocks[0]["text"]["text"]
    _assert_no_raw_user_controls(_all_text(message))
    assert f"<@{DESK}>" in message.text, "the bot's own mention of who closed it stays live"


def test_close_reason_escaped_in_status_reply() -> None:
    custody = _closed(CustodyState.RELEASED, HOSTILE)
    reply = custody_status(custody, FACILITY, ARRESTED + timedelta(hours=31))
    assert "&lt;!channel&gt;" in reply.text
    assert "&amp;" in reply.text
    _assert_no_raw_user_controls([reply.text, *_strings(reply.blocks)])


HOSTILE_FACILITY = replace(FACILITY, name="Jail <!here> & Annex <@U123>")


@pytest.mark.parametrize(("custody", "notice", "now"), NOTICE_CASES)
def test_facility_name_is_escaped_everywhere(
    custody: Custody, notice: Notice, now: datetime
) -> None:
    message = render_notice(custody, notice, HOSTILE_FACILITY, now)
    assert "Jail &lt;!here&gt; &amp; Annex &lt;@U123&gt;" in message.text
    _assert_no_raw_user_controls(_all_text(message))


def test_facility_name_is_escaped_in_replies() -> None:
    custody = _custody()
    texts = [
        arrest_receipt(custody, HOSTILE_FACILITY, ARRESTED).text,
        custody_status(custody, HOSTILE_FACILITY, ARRESTED).text,
        open_custody_list([(custody, HOSTILE_FACILITY)], ARRESTED, 1).text,
    ]
    for text in texts:
        assert "&lt;!here&gt;" in text
        leftover = re.sub(r"<@U0AAA>|<#C0(JAIL|ICE)>", "", text)
        assert "<" not in leftover and ">" not in leftover, text


# --- Slack limits -------------------------------------------------------------------------

LONGEST = _custody(
    booking="B" * 32,
    warrant_number="W" * 40,
    state=CustodyState.RELEASED,
    closed_at=ARRESTED + timedelta(hours=1),
    closed_by=DESK,
    # Every "&" grows five-fold when escaped: the worst case a person can type.
    close_reason="&" * MAX_REASON_CHARS,
)
LONG_NAME = replace(FACILITY, name="Maricopa County Fourth Avenue Jail & Intake Center")


@pytest.mark.parametrize(
    ("kind", "due_at", "lead"),
    [
        pytest.param(NoticeKind.LOGGED, ARRESTED, None, id="logged"),
        pytest.param(
            NoticeKind.REMINDER,
            DEADLINE - timedelta(hours=24),
            timedelta(hours=24),
            id="reminder",
        ),
        pytest.param(NoticeKind.EXPIRED, DEADLINE, None, id="expired"),
        pytest.param(NoticeKind.RELEASED, ARRESTED, None, id="released"),
        pytest.param(NoticeKind.TRANSFERRED, ARRESTED, None, id="transferred"),
    ],
)
def test_blocks_fit_slack_limits(
    kind: NoticeKind, due_at: datetime, lead: timedelta | None
) -> None:
    custody = (
        LONGEST
        if kind is not NoticeKind.TRANSFERRED
        else replace(LONGEST, state=CustodyState.TRANSFERRED)
    )
    message = render_notice(
        custody, _notice(kind, due_at, lead), LONG_NAME, due_at + timedelta(hours=3)
    )

    assert len(message.text) <= 4000
    assert_blocks_fit(message.blocks, 50)


# --- time -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        pytest.param(
            datetime(2026, 11, 30, 20, 5, tzinfo=UTC),
            "America/Chicago",
            "Mon Nov 30, 14:05 CST",
            id="chicago-winter",
        ),
        pytest.param(
            datetime(2026, 12, 1, 3, 0, tzinfo=UTC),
            "America/Chicago",
            "Mon Nov 30, 21:00 CST",
            id="chicago-previous-local-day",
        ),
        pytest.param(
            datetime(2026, 3, 7, 17, 0, tzinfo=UTC),
            "America/New_York",
            "Sat Mar 7, 12:00 EST",
            id="ny-before-spring-day-unpadded",
        ),
        pytest.param(
            datetime(2026, 3, 8, 6, 59, tzinfo=UTC),
            "America/New_York",
            "Sun Mar 8, 01:59 EST",
            id="ny-last-minute-of-EST",
        ),
        pytest.param(
            datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
            "America/New_York",
            "Sun Mar 8, 03:00 EDT",
            id="ny-first-minute-of-EDT",
        ),
        pytest.param(
            datetime(2026, 3, 9, 17, 0, tzinfo=UTC),
            "America/New_York",
            "Mon Mar 9, 13:00 EDT",
            id="ny-after-spring",
        ),
        pytest.param(
            datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
            "America/New_York",
            "Sun Nov 1, 01:30 EDT",
            id="ny-first-0130",
        ),
        pytest.param(
            datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
            "America/New_York",
            "Sun Nov 1, 01:30 EST",
            id="ny-second-0130",
        ),
        pytest.param(
            datetime(2026, 11, 2, 16, 0, tzinfo=UTC),
            "America/New_York",
            "Mon Nov 2, 11:00 EST",
            id="ny-after-fall",
        ),
        pytest.param(
            datetime(2026, 3, 8, 8, 0, tzinfo=UTC),
            "America/Chicago",
            "Sun Mar 8, 03:00 CDT",
            id="chicago-first-minute-of-CDT",
        ),
        pytest.param(
            datetime(2026, 11, 1, 7, 30, tzinfo=UTC),
            "America/Chicago",
            "Sun Nov 1, 01:30 CST",
            id="chicago-second-0130",
        ),
        pytest.param(
            datetime(2026, 7, 1, 19, 0, tzinfo=UTC),
            "America/Phoenix",
            "Wed Jul 1, 12:00 MST",
            id="phoenix-summer-still-MST",
        ),
        pytest.param(
            datetime(2026, 1, 15, 19, 0, tzinfo=UTC),
            "America/Phoenix",
            "Thu Jan 15, 12:00 MST",
            id="phoenix-winter",
        ),
        pytest.param(
            datetime(2026, 7, 1, 22, 0, tzinfo=UTC),
            "Pacific/Honolulu",
            "Wed Jul 1, 12:00 HST",
            id="honolulu",
        ),
        pytest.param(
            datetime(2026, 1, 1, 5, 0, tzinfo=UTC),
            "Pacific/Honolulu",
            "Wed Dec 31, 19:00 HST",
            id="honolulu-previous-year",
        ),
        pytest.param(
            datetime(2026, 11, 30, 14, 5, tzinfo=ZoneInfo("America/Chicago")),
            "America/New_York",
            "Mon Nov 30, 15:05 EST",
            id="aware-non-utc-input-converted",
        ),
    ],
)
def test_format_local(instant: datetime, zone: str, expected: str) -> None:
    assert format_local(instant, ZoneInfo(zone)) == expected


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        pytest.param(
            DEADLINE,
            "<!date^1796068800^{date_short_pretty} {time}|Mon Nov 30, 14:00 CST>",
            id="whole-second",
        ),
        pytest.param(
            DEADLINE + timedelta(microseconds=999_999),
            "<!date^1796068800^{date_short_pretty} {time}|Mon Nov 30, 14:00 CST>",
            id="fraction-truncated",
        ),
    ],
)
def test_viewer_time(instant: datetime, expected: str) -> None:
    assert viewer_time(instant, "Mon Nov 30, 14:00 CST") == expected


def test_notices_show_deadline_in_facility_zone_and_viewer_zone() -> None:
    custody = _custody(facility_id=NEW_YORK.id)
    message = render_notice(custody, _notice(NoticeKind.LOGGED, ARRESTED), NEW_YORK, ARRESTED)
    assert "*Mon Nov 30, 15:00 EST*" in message.text
    assert "<!date^1796068800^{date_short_pretty} {time}|Mon Nov 30, 20:00 UTC>" in message.text
    assert "Arrested Sat Nov 28, 15:00 EST" in message.text


# --- ephemeral replies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected", "absent"),
    [
        pytest.param(
            ARRESTED,
            ["*B-2026-0412*", "*Mon Nov 30, 14:00 CST*", "*48h 00m left*", "`c_1`"],
            "expired",
            id="open",
        ),
        pytest.param(
            DEADLINE + timedelta(hours=1),
            ["*the window has already expired — release required.*"],
            "left*",
            id="expired",
        ),
    ],
)
def test_arrest_receipt(now: datetime, expected: list[str], absent: str) -> None:
    reply = arrest_receipt(_custody(), FACILITY, now)
    for phrase in expected:
        assert phrase in reply.text
    assert absent not in reply.text
    assert f"<#{JAIL}>" in reply.text and f"<#{ICE}>" in reply.text
    assert "arrested Sat Nov 28, 14:00 CST on I-200 no. W-123456" in reply.text


@pytest.mark.parametrize(
    ("custody", "now", "expected"),
    [
        pytest.param(
            _custody(),
            ARRESTED + timedelta(hours=47),
            ["— *open*", "Deadline Mon Nov 30, 14:00 CST — *1h 00m left*.", f"<@{OFFICER}>"],
            id="open",
        ),
        pytest.param(
            _custody(),
            DEADLINE,
            ["*open — WINDOW EXPIRED, release required*", "Deadline Mon Nov 30, 14:00 CST — *0s*."],
            id="at-deadline",
        ),
        pytest.param(
            _custody(),
            DEADLINE + timedelta(minutes=90),
            ["WINDOW EXPIRED", "*overdue by 1h 30m*"],
            id="overdue",
        ),
        pytest.param(
            _closed(CustodyState.TRANSFERRED),
            DEADLINE + timedelta(hours=5),
            [
                "*transferred to ICE*",
                "Deadline Mon Nov 30, 14:00 CST.",
                f"Closed Sun Nov 29, 20:00 CST by <@{DESK}>.",
            ],
            id="transferred-no-overdue-shown",
        ),
        pytest.param(
            _closed(CustodyState.RELEASED, "bail posted"),
            DEADLINE,
            ["*released*", f"by <@{DESK}> — Reason (typed by <@{DESK}>): \u201cbail posted\u201d."],
            id="released-with-reason",
        ),
    ],
)
def test_custody_status(custody: Custody, now: datetime, expected: list[str]) -> None:
    reply = custody_status(custody, FACILITY, now)
    for phrase in expected:
        assert phrase in reply.text
    assert reply.text.endswith("Custody id `c_1`.")
    if not custody.is_open:
        assert "left" not in reply.text and "EXPIRED" not in reply.text


def _listed(booking: str, deadline: datetime) -> Custody:
    return _custody(
        id=f"c_{booking}",
        booking=booking,
        arrested_at=deadline - CUSTODY_WINDOW,
        deadline=deadline,
    )


NOW = DEADLINE
LIST_ROWS = [
    (_listed("B-OVERDUE", NOW - timedelta(hours=2)), FACILITY),
    (_listed("B-AT-DEADLINE", NOW), FACILITY),
    (_listed("B-SOON", NOW + timedelta(minutes=45)), NEW_YORK),
    (_listed("B-LATER", NOW + timedelta(hours=30)), FACILITY),
]


def test_open_custody_list_order_and_flags() -> None:
    reply = open_custody_list(LIST_ROWS, NOW, total=4)
    lines = reply.text.splitlines()
    assert lines[0] == "*Open WSO custodies* (4), soonest deadline first:"
    assert lines[1:] == [
        "• :rotating_light: *B-OVERDUE* — County Jail — deadline Mon Nov 30, 12:00 CST"
        " — overdue by 2h 00m",
        "• :rotating_light: *B-AT-DEADLINE* — County Jail — deadline Mon Nov 30, 14:00 CST — 0s",
        "• *B-SOON* — North Annex — deadline Mon Nov 30, 15:45 EST — 45m 00s left",
        "• *B-LATER* — County Jail — deadline Tue Dec 1, 20:00 CST — 30h 00m left",
    ]


def test_open_custody_list_keeps_the_callers_order() -> None:
    reversed_rows = list(reversed(LIST_ROWS))
    lines = open_custody_list(reversed_rows, NOW, total=4).text.splitlines()[1:]
    bookings = [re.search(r"\*(B-[A-Z-]+)\*", line).group(1) for line in lines]  # type: ignore[union-attr]
    assert bookings == ["B-LATER", "B-SOON", "B-AT-DEADLINE", "B-OVERDUE"]


@pytest.mark.parametrize(
    ("shown", "total", "more_line"),
    [
        pytest.param(4, 4, None, id="all-shown"),
        pytest.param(2, 2, None, id="two-of-two"),
        pytest.param(4, 9, "…and 5 more. Narrow with `/wso list facility ID`.", id="five-more"),
        pytest.param(1, 2, "…and 1 more. Narrow with `/wso list facility ID`.", id="one-more"),
    ],
)
def test_open_custody_list_more_line(shown: int, total: int, more_line: str | None) -> None:
    lines = open_custody_list(LIST_ROWS[:shown], NOW, total).text.splitlines()
    assert lines[0].startswith(f"*Open WSO custodies* ({total})")
    assert len(lines) == 1 + shown + (1 if more_line else 0)
    if more_line:
        assert lines[-1] == more_line
    else:
        assert "more" not in lines[-1]


def test_open_custody_list_empty() -> None:
    reply = open_custody_list([], NOW, total=0)
    assert reply.text == "No open WSO custodies."
    assert reply.blocks == []


@pytest.mark.parametrize(
    ("message", "example", "expected"),
    [
        pytest.param(
            "Unknown booking.",
            "/wso status B-2026-0412",
            ":warning: Unknown booking.\nFor example: `/wso status B-2026-0412`",
            id="with-example",
        ),
        pytest.param("Not allowed.", None, ":warning: Not allowed.", id="no-example"),
        pytest.param("Not allowed.", "", ":warning: Not allowed.", id="empty-example-omitted"),
    ],
)
def test_error_reply(message: str, example: str | None, expected: str) -> None:
    reply = error_reply(message, example)
    assert reply.text == expected
    assert reply.blocks == []


@pytest.mark.parametrize(
    ("seconds", "spoken"),
    [
        pytest.param(86400, "24h", id="a day is 24h"),
        pytest.param(43200, "12h", id="12h"),
        pytest.param(5400, "1h30m", id="90 minutes"),
        pytest.param(1800, "30m", id="30m"),
        pytest.param(172800 - 60, "47h59m", id="just under 48h"),
        pytest.param(45, "45s", id="seconds"),
    ],
)
def test_reminder_lead_is_spoken_in_hours_never_days(seconds: int, spoken: str) -> None:
    assert format_lead(seconds) == spoken


def test_the_24h_reminder_is_called_24h() -> None:
    notice = _notice(NoticeKind.REMINDER, DEADLINE - timedelta(hours=24), timedelta(hours=24))
    message = render_notice(_custody(), notice, FACILITY, DEADLINE - timedelta(hours=24))
    assert "*24h reminder*" in message.text
    assert "1d" not in message.text


def test_receipt_names_a_shared_channel_once() -> None:
    shared = replace(FACILITY, ice_channel=FACILITY.jail_channel)
    receipt = arrest_receipt(_custody(), shared, ARRESTED)
    assert receipt.text.count(f"<#{FACILITY.jail_channel}>") == 1
    both = arrest_receipt(_custody(), FACILITY, ARRESTED)
    assert f"<#{FACILITY.jail_channel}> and <#{FACILITY.ice_channel}>" in both.text


H, M, S = timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1)
PAGE, REMINDER = NoticeKind.ESCALATION, NoticeKind.REMINDER
# (notice kind, its lead, sent this long after the deadline, a phrase it shows, one it must not)
SENT_EITHER_SIDE = {
    "ice-page-before-the-deadline": (PAGE, 4 * H, -4 * H, "*4h 00m left* until the", "passed"),
    "ice-page-sent-after-the-deadline": (PAGE, H, M, "The 48-hour deadline", "left*"),
    "reminder-sent-after-the-deadline": (REMINDER, 30 * M, 5 * S, "passed *5s ago*", "left*"),
}


@pytest.mark.parametrize(
    ("kind", "lead", "after", "expected", "absent"),
    list(SENT_EITHER_SIDE.values()),
    ids=list(SENT_EITHER_SIDE),
)
def test_time_to_the_deadline_reads_right_on_either_side_of_it(
    kind: NoticeKind, lead: timedelta, after: timedelta, expected: str, absent: str
) -> None:
    """A page or reminder sent late never says "overdue by 1m 00s left"."""
    notice = _notice(kind, DEADLINE - lead, lead)
    text = render_notice(_custody(), notice, FACILITY, DEADLINE + after).text
    assert expected in text
    assert absent not in text
    assert "overdue by" not in text
