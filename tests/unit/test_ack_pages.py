"""Which pages an acknowledgement answers, and where the bot put them (pure helpers)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.model import CUSTODY_WINDOW, Custody, Notice, NoticeKind
from bot.services.desk import MessageLocation, active_pages, pages_seen_by

ARRESTED = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
DEADLINE = ARRESTED + CUSTODY_WINDOW
CUSTODY = Custody("c1", "county-jail", "B-1", ARRESTED, DEADLINE, "U0AAA", ARRESTED)
SERGEANT = "U0SGT"


def page(
    suffix: str,
    channel: str,
    *,
    sent: timedelta | None = timedelta(0),
    ts: str | None = "1.1",
    message_channel: str | None = "D0SGT",
) -> Notice:
    return Notice(
        id=f"p-{suffix}",
        custody_id=CUSTODY.id,
        kind=NoticeKind.ESCALATION,
        channel=channel,
        due_at=DEADLINE,
        sent_at=DEADLINE + sent if sent is not None else None,
        message_ts=ts,
        message_channel=message_channel,
        level=1,
        round=1,
    )


OWN = page("own", SERGEANT, ts="1.1")
OWN_LATER = page("own2", SERGEANT, sent=timedelta(minutes=40), ts="1.5")
OTHERS = page("lt", "U0LT", ts="1.2", message_channel="D0LT")
IN_JAIL = page("jail", "C0JAIL", ts="1.3", message_channel="C0JAIL")
NOT_SENT = page("unsent", SERGEANT, sent=None, ts=None, message_channel=None)
LOGGED = replace(OWN, id="logged", kind=NoticeKind.LOGGED, channel="C0JAIL", message_ts="1.0")


@pytest.mark.parametrize(
    ("user", "notices", "expected"),
    [
        pytest.param(SERGEANT, [OWN, OTHERS], [("D0SGT", "1.1")], id="own-dm-page"),
        pytest.param(
            SERGEANT,
            [OWN, OTHERS, IN_JAIL, OWN_LATER],
            [("D0SGT", "1.1"), ("D0SGT", "1.5")],
            id="own-pages-before-shared-ones-oldest-first",
        ),
        pytest.param("U0AAA", [OTHERS, IN_JAIL], [("C0JAIL", "1.3")], id="channel-page"),
        pytest.param("U0NOBODY", [OWN, OTHERS], [], id="someone-else's-dms-only"),
        pytest.param(SERGEANT, [NOT_SENT, LOGGED], [], id="unsent-pages-and-other-kinds"),
        pytest.param(
            SERGEANT,
            [replace(OWN, message_channel=None)],
            [(SERGEANT, "1.1")],
            id="no-recorded-dm-id-uses-the-target",
        ),
    ],
)
def test_pages_seen_by(user: str, notices: list[Notice], expected: list[tuple[str, str]]) -> None:
    assert pages_seen_by(user, notices) == [MessageLocation(c, ts) for c, ts in expected]


@pytest.mark.parametrize(
    ("acknowledged_after", "expected"),
    [
        pytest.param(None, [OWN, OTHERS, OWN_LATER], id="never-acknowledged"),
        pytest.param(timedelta(minutes=2), [OWN_LATER], id="only-pages-after-the-ack"),
        pytest.param(timedelta(hours=1), [], id="acknowledged-after-the-latest-page"),
    ],
)
def test_active_pages(acknowledged_after: timedelta | None, expected: list[Notice]) -> None:
    acknowledged_at = DEADLINE + acknowledged_after if acknowledged_after is not None else None
    custody = replace(CUSTODY, acknowledged_at=acknowledged_at, acknowledged_by="U0SGT")
    notices = [OWN, OTHERS, NOT_SENT, LOGGED, OWN_LATER]
    assert active_pages(custody, notices) == expected
