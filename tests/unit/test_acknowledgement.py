"""bot.core.acknowledgement: who may acknowledge, which pages that answers, where they are."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.config import parse_config
from bot.core.acknowledgement import (
    Acknowledgeable,
    AckRefusal,
    MessageLocation,
    active_pages,
    assess_acknowledgement,
    pages_seen_by,
    private_reply_channel,
)
from bot.core.model import Custody, Notice, NoticeKind, NoticeState
from tests.conftest import ARRESTED, DEADLINE, DESK_STAFF, OFFICER, STRANGER, config_document

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


# --- who may acknowledge --------------------------------------------------------------

FACILITY = parse_config(config_document(), source="test").facilities[0]
LEVEL_2 = replace(OTHERS, id="p-lt2", level=2, sent_at=DEADLINE + timedelta(minutes=15))
ACKED_BETWEEN = replace(CUSTODY, acknowledged_at=DEADLINE + timedelta(minutes=5))
ACKED_AFTER_ALL = replace(CUSTODY, acknowledged_at=DEADLINE + timedelta(hours=1))


def step(suffix: str, state: NoticeState, kind: NoticeKind = NoticeKind.PAGE_STEP) -> Notice:
    return Notice(
        id=f"s-{suffix}",
        custody_id=CUSTODY.id,
        kind=kind,
        channel="escalation",
        due_at=DEADLINE + timedelta(hours=1),
        state=state,
        level=2,
        round=1,
    )


PENDING_STEP = step("pending", NoticeState.PENDING)
SENT_STEP = step("sent", NoticeState.SENT)
PENDING_REMINDER = replace(step("reminder", NoticeState.PENDING, NoticeKind.REMINDER), level=None)


@pytest.mark.parametrize(
    ("custody", "notices", "user", "expected"),
    [
        pytest.param(CUSTODY, [], SERGEANT, AckRefusal.NOT_PAGED, id="nothing-stored"),
        pytest.param(
            CUSTODY, [NOT_SENT, LOGGED], OFFICER, AckRefusal.NOT_PAGED, id="no-page-sent-yet"
        ),
        pytest.param(CUSTODY, [OWN], STRANGER, AckRefusal.NOT_ALLOWED, id="a-stranger"),
        pytest.param(
            CUSTODY, [OWN], DESK_STAFF, AckRefusal.NOT_ALLOWED, id="staff-who-were-not-paged"
        ),
        pytest.param(
            CUSTODY,
            [OWN, replace(OTHERS, sent_at=None)],
            "U0LT",
            AckRefusal.NOT_ALLOWED,
            id="whose-page-was-not-sent-yet",
        ),
        pytest.param(CUSTODY, [OWN], SERGEANT, Acknowledgeable(1, ()), id="the-person-paged"),
        pytest.param(CUSTODY, [OWN], OFFICER, Acknowledgeable(1, ()), id="an-officer-not-paged"),
        pytest.param(
            CUSTODY,
            [OWN, LEVEL_2, PENDING_STEP, SENT_STEP, PENDING_REMINDER],
            SERGEANT,
            Acknowledgeable(2, (PENDING_STEP,)),
            id="highest-level-and-only-pending-chain-steps",
        ),
        pytest.param(
            ACKED_BETWEEN,
            [OWN, LEVEL_2],
            "U0LT",
            Acknowledgeable(2, ()),
            id="pages-since-the-last-acknowledgement",
        ),
        pytest.param(
            replace(CUSTODY, acknowledged_at=DEADLINE + timedelta(minutes=20)),
            [LEVEL_2, replace(OWN_LATER, level=None)],
            SERGEANT,
            Acknowledgeable(1, ()),
            id="only-pages-since-count-and-no-level-is-level-1",
        ),
        pytest.param(
            ACKED_AFTER_ALL,
            [OWN, LEVEL_2],
            SERGEANT,
            AckRefusal.ALREADY_ACKNOWLEDGED,
            id="every-page-before-the-last-acknowledgement",
        ),
        pytest.param(
            ACKED_AFTER_ALL,
            [OWN],
            STRANGER,
            AckRefusal.NOT_ALLOWED,
            id="who-may-is-checked-before-already-acknowledged",
        ),
    ],
)
def test_assess_acknowledgement(
    custody: Custody, notices: list[Notice], user: str, expected: Acknowledgeable | AckRefusal
) -> None:
    assert assess_acknowledgement(custody, FACILITY, notices, user) == expected


@pytest.mark.parametrize(
    ("user", "reply_channel"),
    [
        pytest.param(SERGEANT, "D0SGT", id="their-own-page"),
        pytest.param(OFFICER, "C0JAIL", id="a-channel-page"),
    ],
)
def test_where_a_refused_click_is_answered(user: str, reply_channel: str) -> None:
    notices = [OWN, OTHERS, IN_JAIL, OWN_LATER]
    assert private_reply_channel(user, notices) == reply_channel


def test_no_private_reply_where_the_bot_never_paged_the_clicker() -> None:
    assert private_reply_channel(SERGEANT, [OTHERS, NOT_SENT, LOGGED]) is None
