"""plan_notices, plan_closing_notices, triage and is_late: tables of plain values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import DEFAULT_REMINDERS
from bot.core.model import Custody, Notice, NoticeKind, NoticeState
from bot.core.notice_plan import (
    LATE_AFTER,
    copy_to,
    is_late,
    is_superseded,
    plan_closing_notices,
    plan_notices,
    triage,
)
from tests.conftest import custody

JAIL = "C0JAIL"
ICE = "C0ICE"
NOW = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)

LOGGED = NoticeKind.LOGGED
REMINDER = NoticeKind.REMINDER
EXPIRED = NoticeKind.EXPIRED
TRANSFERRED = NoticeKind.TRANSFERRED
RELEASED = NoticeKind.RELEASED


def _custody(arrested_at: datetime, custody_id: str = "c_1") -> Custody:
    return custody(arrested_at, id=custody_id, booking="B-2026-0412", logged_at=NOW)


# A planned notice, as (channel, kind, due_at offset from NOW, lead_seconds).
Row = tuple[str, NoticeKind, timedelta, int | None]


def _rows(notices: Sequence[Notice]) -> list[Row]:
    return [(n.channel, n.kind, n.due_at - NOW, n.lead_seconds) for n in notices]


def _full_plan(channel: str, deadline_in: timedelta) -> list[Row]:
    """Logged now, the five default reminders, then expiry at the deadline."""
    return [
        (channel, LOGGED, timedelta(0), None),
        (channel, REMINDER, deadline_in - 24 * H, 86_400),
        (channel, REMINDER, deadline_in - 12 * H, 43_200),
        (channel, REMINDER, deadline_in - 4 * H, 14_400),
        (channel, REMINDER, deadline_in - 1 * H, 3_600),
        (channel, REMINDER, deadline_in - 30 * M, 1_800),
        (channel, EXPIRED, deadline_in, None),
    ]


PLAN_CASES = [
    pytest.param(
        timedelta(0),
        (JAIL, ICE),
        DEFAULT_REMINDERS,
        _full_plan(JAIL, 48 * H) + _full_plan(ICE, 48 * H),
        id="arrest-now-default-leads-both-channels",
    ),
    pytest.param(
        -10 * M,
        (JAIL, ICE),
        DEFAULT_REMINDERS,
        _full_plan(JAIL, 48 * H - 10 * M) + _full_plan(ICE, 48 * H - 10 * M),
        id="arrest-10-minutes-ago-all-reminders-still-ahead",
    ),
    pytest.param(
        -40 * H,
        (JAIL, ICE),
        DEFAULT_REMINDERS,
        [
            (JAIL, LOGGED, timedelta(0), None),
            (JAIL, REMINDER, 4 * H, 14_400),
            (JAIL, REMINDER, 7 * H, 3_600),
            (JAIL, REMINDER, 7 * H + 30 * M, 1_800),
            (JAIL, EXPIRED, 8 * H, None),
            (ICE, LOGGED, timedelta(0), None),
            (ICE, REMINDER, 4 * H, 14_400),
            (ICE, REMINDER, 7 * H, 3_600),
            (ICE, REMINDER, 7 * H + 30 * M, 1_800),
            (ICE, EXPIRED, 8 * H, None),
        ],
        id="backdated-40h-drops-24h-and-12h-keeps-later",
    ),
    pytest.param(
        -36 * H,
        (JAIL,),
        DEFAULT_REMINDERS,
        [
            (JAIL, LOGGED, timedelta(0), None),
            # The 12h reminder would be due exactly now: the logged notice says it instead.
            (JAIL, REMINDER, 8 * H, 14_400),
            (JAIL, REMINDER, 11 * H, 3_600),
            (JAIL, REMINDER, 11 * H + 30 * M, 1_800),
            (JAIL, EXPIRED, 12 * H, None),
        ],
        id="backdated-reminder-due-exactly-now-is-dropped",
    ),
    pytest.param(
        -(48 * H - 20 * M),
        (JAIL,),
        DEFAULT_REMINDERS,
        [
            (JAIL, LOGGED, timedelta(0), None),
            (JAIL, EXPIRED, 20 * M, None),
        ],
        id="backdated-inside-last-reminder-only-expiry-left",
    ),
    pytest.param(
        -(48 * H + 30 * M),
        (JAIL, ICE),
        DEFAULT_REMINDERS,
        [
            (JAIL, LOGGED, timedelta(0), None),
            (JAIL, EXPIRED, timedelta(0), None),
            (ICE, LOGGED, timedelta(0), None),
            (ICE, EXPIRED, timedelta(0), None),
        ],
        id="deadline-already-passed-expired-due-now-after-logged",
    ),
    pytest.param(
        -48 * H,
        (JAIL,),
        DEFAULT_REMINDERS,
        [
            (JAIL, LOGGED, timedelta(0), None),
            (JAIL, EXPIRED, timedelta(0), None),
        ],
        id="deadline-exactly-now",
    ),
    pytest.param(
        timedelta(0),
        (JAIL, JAIL),
        DEFAULT_REMINDERS,
        _full_plan(JAIL, 48 * H),
        id="same-jail-and-ice-channel-planned-once",
    ),
    pytest.param(
        timedelta(0),
        (JAIL,),
        [H, 4 * H, 60 * M, H, 3600 * timedelta(seconds=1)],
        [
            (JAIL, LOGGED, timedelta(0), None),
            (JAIL, REMINDER, 44 * H, 14_400),
            (JAIL, REMINDER, 47 * H, 3_600),
            (JAIL, EXPIRED, 48 * H, None),
        ],
        id="duplicate-leads-collapse",
    ),
    pytest.param(
        timedelta(0),
        (JAIL,),
        [30 * M, 24 * H, 4 * H],
        [
            (JAIL, LOGGED, timedelta(0), None),
            (JAIL, REMINDER, 24 * H, 86_400),
            (JAIL, REMINDER, 44 * H, 14_400),
            (JAIL, REMINDER, 47 * H + 30 * M, 1_800),
            (JAIL, EXPIRED, 48 * H, None),
        ],
        id="leads-given-in-any-order-planned-longest-first",
    ),
    pytest.param(
        timedelta(0),
        (JAIL,),
        [],
        [(JAIL, LOGGED, timedelta(0), None), (JAIL, EXPIRED, 48 * H, None)],
        id="no-reminders-configured",
    ),
    pytest.param(
        timedelta(0),
        (JAIL,),
        [72 * H, 48 * H, 47 * H],
        [
            (JAIL, LOGGED, timedelta(0), None),
            (JAIL, REMINDER, 1 * H, 169_200),
            (JAIL, EXPIRED, 48 * H, None),
        ],
        id="leads-as-long-as-the-window-are-dropped",
    ),
    pytest.param(
        timedelta(0),
        (ICE, JAIL),
        [H],
        [
            (ICE, LOGGED, timedelta(0), None),
            (ICE, REMINDER, 47 * H, 3_600),
            (ICE, EXPIRED, 48 * H, None),
            (JAIL, LOGGED, timedelta(0), None),
            (JAIL, REMINDER, 47 * H, 3_600),
            (JAIL, EXPIRED, 48 * H, None),
        ],
        id="channels-in-the-order-given",
    ),
]


@pytest.mark.parametrize(("arrested_from_now", "channels", "leads", "expected"), PLAN_CASES)
def test_plan_notices(
    arrested_from_now: timedelta,
    channels: Sequence[str],
    leads: Sequence[timedelta],
    expected: list[Row],
) -> None:
    custody = _custody(NOW + arrested_from_now)

    planned = plan_notices(custody, channels, leads, NOW)

    assert _rows(planned) == expected
    assert all(n.custody_id == custody.id for n in planned)
    assert all(n.seq is None and n.state is NoticeState.PENDING for n in planned)
    assert all(n.attempts == 0 and n.next_attempt_at is None for n in planned)
    assert len({n.id for n in planned}) == len(planned), "notice ids must be unique"
    assert all(n.due_at >= NOW for n in planned), "nothing is planned in the past"


def test_plan_notices_accepts_a_one_shot_iterable_of_leads() -> None:
    custody = _custody(NOW)
    planned = plan_notices(custody, (JAIL, ICE), iter(DEFAULT_REMINDERS), NOW)
    assert _rows(planned) == _full_plan(JAIL, 48 * H) + _full_plan(ICE, 48 * H)


def test_plan_notices_ids_are_fresh_each_time() -> None:
    custody = _custody(NOW)
    first = plan_notices(custody, (JAIL,), DEFAULT_REMINDERS, NOW)
    second = plan_notices(custody, (JAIL,), DEFAULT_REMINDERS, NOW)
    assert {n.id for n in first}.isdisjoint({n.id for n in second})


@pytest.mark.parametrize(
    ("kind", "channels", "expected_channels"),
    [
        pytest.param(TRANSFERRED, (JAIL, ICE), [JAIL, ICE], id="transfer-both-channels"),
        pytest.param(RELEASED, (JAIL, ICE), [JAIL, ICE], id="release-both-channels"),
        pytest.param(RELEASED, (JAIL, JAIL), [JAIL], id="same-channel-once"),
        pytest.param(TRANSFERRED, (ICE, JAIL), [ICE, JAIL], id="order-kept"),
    ],
)
def test_plan_closing_notices(
    kind: NoticeKind, channels: Sequence[str], expected_channels: list[str]
) -> None:
    custody = _custody(NOW - 5 * H)
    planned = plan_closing_notices(custody, kind, channels, NOW)
    assert [n.channel for n in planned] == expected_channels
    assert all(n.kind is kind and n.due_at == NOW and n.lead_seconds is None for n in planned)
    assert all(n.custody_id == custody.id for n in planned)
    assert len({n.id for n in planned}) == len(planned)


# --- triage ------------------------------------------------------------------------------


def _n(
    label: str,
    kind: NoticeKind,
    due: timedelta,
    seq: int | None,
    channel: str = JAIL,
    custody_id: str = "c_1",
) -> Notice:
    """A ready notice whose id is ``label``, due ``due`` after NOW."""
    lead = 3_600 if kind is REMINDER else None
    return Notice(
        id=label,
        custody_id=custody_id,
        kind=kind,
        channel=channel,
        due_at=NOW + due,
        lead_seconds=lead,
        seq=seq,
    )


TRIAGE_CASES = [
    pytest.param([], [], set(), id="nothing-ready"),
    pytest.param(
        [_n("r1h", REMINDER, 47 * H, 5)],
        ["r1h"],
        set(),
        id="single-reminder-sent",
    ),
    pytest.param(
        [
            _n("r24h", REMINDER, 24 * H, 2),
            _n("r12h", REMINDER, 36 * H, 3),
            _n("r4h", REMINDER, 44 * H, 4),
        ],
        ["r4h"],
        {"r24h", "r12h"},
        id="several-due-reminders-only-latest-due-sent",
    ),
    pytest.param(
        [
            _n("r4h", REMINDER, 44 * H, 4),
            _n("r24h", REMINDER, 24 * H, 2),
            _n("r12h", REMINDER, 36 * H, 3),
        ],
        ["r4h"],
        {"r24h", "r12h"},
        id="latest-due-wins-whatever-the-input-order",
    ),
    pytest.param(
        [
            _n("logged", LOGGED, timedelta(0), 1),
            _n("r24h", REMINDER, 24 * H, 2),
            _n("r12h", REMINDER, 36 * H, 3),
        ],
        ["logged", "r12h"],
        {"r24h"},
        id="logged-never-skipped-latest-reminder-kept",
    ),
    pytest.param(
        [
            _n("r1h", REMINDER, 47 * H, 5),
            _n("r30m", REMINDER, 47 * H + 30 * M, 6),
            _n("expired", EXPIRED, 48 * H, 7),
        ],
        ["expired"],
        {"r1h", "r30m"},
        id="expiry-due-skips-every-due-reminder",
    ),
    pytest.param(
        [
            _n("logged", LOGGED, timedelta(0), 1),
            _n("r30m", REMINDER, 47 * H + 30 * M, 6),
            _n("expired", EXPIRED, 48 * H, 7),
        ],
        ["logged", "expired"],
        {"r30m"},
        id="logged-and-expiry-sent-reminder-skipped",
    ),
    pytest.param(
        [
            _n("jail-r24h", REMINDER, 24 * H, 2, JAIL),
            _n("jail-r12h", REMINDER, 36 * H, 3, JAIL),
            _n("ice-r24h", REMINDER, 24 * H, 9, ICE),
        ],
        ["jail-r12h", "ice-r24h"],
        {"jail-r24h"},
        id="channels-are-independent",
    ),
    pytest.param(
        [
            _n("jail-r1h", REMINDER, 47 * H, 5, JAIL),
            _n("jail-expired", EXPIRED, 48 * H, 7, JAIL),
            _n("ice-r1h", REMINDER, 47 * H, 12, ICE),
        ],
        ["jail-expired", "ice-r1h"],
        {"jail-r1h"},
        id="expiry-in-one-channel-does-not-skip-the-other",
    ),
    pytest.param(
        [
            _n("a-r24h", REMINDER, 24 * H, 2, custody_id="c_a"),
            _n("a-expired", EXPIRED, 48 * H, 7, custody_id="c_a"),
            _n("b-r24h", REMINDER, 20 * H, 16, custody_id="c_b"),
            _n("b-r12h", REMINDER, 32 * H, 17, custody_id="c_b"),
        ],
        ["a-expired", "b-r12h"],
        {"a-r24h", "b-r24h"},
        id="custodies-are-independent",
    ),
    pytest.param(
        [
            _n("expired", EXPIRED, timedelta(0), 7),
            _n("r1h", REMINDER, -1 * H, 5),
            _n("logged", LOGGED, timedelta(0), 1),
        ],
        ["logged", "expired"],
        {"r1h"},
        id="send-order-follows-seq-not-input-order",
    ),
    pytest.param(
        [
            _n("expired", EXPIRED, timedelta(0), 2),
            _n("logged", LOGGED, timedelta(0), 1),
        ],
        ["logged", "expired"],
        set(),
        id="expired-due-now-at-logging-goes-after-logged",
    ),
    pytest.param(
        [
            _n("late", LOGGED, -5 * M, 9),
            _n("early", LOGGED, timedelta(0), 3),
        ],
        ["early", "late"],
        set(),
        id="seq-beats-due-time",
    ),
    pytest.param(
        [
            _n("second", LOGGED, 2 * M, None),
            _n("first", LOGGED, 1 * M, None),
        ],
        ["first", "second"],
        set(),
        id="unsequenced-ordered-by-due-time",
    ),
    pytest.param(
        [
            _n("r1h", REMINDER, 47 * H, 5),
            _n("released", RELEASED, 47 * H + 10 * M, 8),
        ],
        ["r1h", "released"],
        set(),
        id="release-notice-never-skipped",
    ),
    pytest.param(
        [
            _n("expired", EXPIRED, 48 * H, 7),
            _n("transferred", TRANSFERRED, 48 * H + 5 * M, 8),
            _n("r30m", REMINDER, 47 * H + 30 * M, 6),
        ],
        ["expired", "transferred"],
        {"r30m"},
        id="transfer-notice-sent-alongside-expiry",
    ),
    pytest.param(
        [
            _n("logged", LOGGED, timedelta(0), 1),
            _n("released", RELEASED, 2 * H, 8),
            _n("expired", EXPIRED, 48 * H, 7),
        ],
        ["logged", "expired", "released"],
        set(),
        id="logged-expired-released-all-sent-in-seq-order",
    ),
]


@pytest.mark.parametrize(("ready", "expected_send", "expected_skip"), TRIAGE_CASES)
def test_triage(ready: list[Notice], expected_send: list[str], expected_skip: set[str]) -> None:
    result = triage(ready)

    sent = [n.id for n in result.send]
    skipped = [n.id for n in result.skip]
    assert set(sent) == set(expected_send)
    assert set(skipped) == expected_skip
    # Within one custody+channel thread, sends go out in plan order.
    for thread in {(n.custody_id, n.channel) for n in ready}:
        in_thread = [n.id for n in result.send if (n.custody_id, n.channel) == thread]
        assert in_thread == [label for label in expected_send if label in in_thread]
    # Every ready notice is decided exactly once.
    assert sorted(sent + skipped) == sorted(n.id for n in ready)


def test_triage_never_skips_non_reminders() -> None:
    kinds = [LOGGED, EXPIRED, TRANSFERRED, RELEASED]
    ready = [_n(f"{kind}-{i}", kind, i * M, i) for i, kind in enumerate(kinds * 2)]
    ready += [_n(f"r-{i}", REMINDER, i * H, 100 + i) for i in range(3)]
    result = triage(ready)
    assert {n.kind for n in result.skip} == {REMINDER}
    assert [n.id for n in result.send] == [n.id for n in ready if n.kind is not REMINDER]


def _maybe_out(notice: Notice) -> Notice:
    """``notice`` as an earlier attempt that may have reached Slack left it."""
    return replace(notice, attempts=1, attempted_at=notice.due_at, may_have_posted=True)


LOOK_UP_CASES = [
    pytest.param(
        [_maybe_out(_n("r24h", REMINDER, 24 * H, 2)), _n("r12h", REMINDER, 36 * H, 3)],
        ["r12h"],
        set(),
        ["r24h"],
        id="superseded-by-a-later-reminder-looked-up",
    ),
    pytest.param(
        [_maybe_out(_n("r1h", REMINDER, 47 * H, 5)), _n("expired", EXPIRED, 48 * H, 7)],
        ["expired"],
        set(),
        ["r1h"],
        id="superseded-by-the-expiry-looked-up",
    ),
    pytest.param(
        [
            _n("r24h", REMINDER, 24 * H, 2),
            _maybe_out(_n("r12h", REMINDER, 36 * H, 3)),
            _n("r4h", REMINDER, 44 * H, 4),
        ],
        ["r4h"],
        {"r24h"},
        ["r12h"],
        id="only-the-one-that-may-be-out-looked-up",
    ),
    pytest.param(
        [_n("r24h", REMINDER, 24 * H, 2), _maybe_out(_n("r12h", REMINDER, 36 * H, 3))],
        ["r12h"],
        {"r24h"},
        [],
        id="newest-reminder-that-may-be-out-is-sent-not-looked-up",
    ),
    pytest.param(
        [_maybe_out(_n("r24h", REMINDER, 24 * H, 2)), _maybe_out(_n("r12h", REMINDER, 36 * H, 3))],
        ["r12h"],
        set(),
        ["r24h"],
        id="superseding-reminder-may-be-out-too",
    ),
    pytest.param(
        [
            _maybe_out(_n("card-1", NoticeKind.CARD_UPDATE, 24 * H, 2)),
            _n("card-2", NoticeKind.CARD_UPDATE, 36 * H, 3),
        ],
        ["card-2"],
        {"card-1"},
        [],
        id="card-update-is-redone-not-looked-up",
    ),
    pytest.param(
        [
            _maybe_out(_n("jail-r24h", REMINDER, 24 * H, 2, JAIL)),
            _n("jail-r12h", REMINDER, 36 * H, 3, JAIL),
            _maybe_out(_n("ice-r24h", REMINDER, 24 * H, 9, ICE)),
        ],
        ["jail-r12h", "ice-r24h"],
        set(),
        ["jail-r24h"],
        id="alone-in-its-channel-sent",
    ),
    pytest.param(
        [_n("r-late-seq", REMINDER, 24 * H, 9), _n("r-early-seq", REMINDER, 36 * H, 3)],
        ["r-early-seq"],
        {"r-late-seq"},
        [],
        id="newest-by-due-time-not-by-seq",
    ),
    pytest.param(
        [_n("r-first", REMINDER, 36 * H, 2), _n("r-second", REMINDER, 36 * H, 3)],
        ["r-second"],
        {"r-first"},
        [],
        id="same-due-time-plan-order-breaks-the-tie",
    ),
]


@pytest.mark.parametrize(
    ("ready", "expected_send", "expected_skip", "expected_look_up"), LOOK_UP_CASES
)
def test_triage_looks_up_superseded_reminders_that_may_be_out(
    ready: list[Notice],
    expected_send: list[str],
    expected_skip: set[str],
    expected_look_up: list[str],
) -> None:
    result = triage(ready)

    assert sorted(n.id for n in result.send) == sorted(expected_send)
    assert {n.id for n in result.skip} == expected_skip
    assert [n.id for n in result.look_up] == expected_look_up
    decided = [*result.send, *result.skip, *result.look_up]
    assert sorted(n.id for n in decided) == sorted(n.id for n in ready)


SENT = NoticeState.SENT


@pytest.mark.parametrize(
    ("later", "superseded"),
    [
        (_n("r12h", REMINDER, 36 * H, 3), True),
        (_n("r12h", REMINDER, 36 * H + 1 * M, 3), False),
        (replace(_n("r12h", REMINDER, 36 * H, 3), state=SENT), True),
        (replace(_n("r12h", REMINDER, 36 * H, 3), state=NoticeState.SKIPPED), False),
        (replace(_n("r12h", REMINDER, 36 * H, 3), state=NoticeState.CANCELLED), False),
        (_n("expired", EXPIRED, 36 * H, 7), True),
        (_n("r48h", REMINDER, 0 * H, 1), False),
        (_n("logged", LOGGED, 36 * H, 1), False),
        (_n("ice-r12h", REMINDER, 36 * H, 3, ICE), False),
        (_n("other-r12h", REMINDER, 36 * H, 3, custody_id="c_2"), False),
    ],
    ids=[
        "later-reminder-due",
        "later-reminder-not-yet-due",
        "later-reminder-sent",
        "later-reminder-skipped",
        "later-reminder-cancelled",
        "expiry-due",
        "earlier-reminder",
        "logged-never-supersedes",
        "other-channel",
        "other-custody",
    ],
)
def test_is_superseded(later: Notice, superseded: bool) -> None:
    reminder = _maybe_out(_n("r24h", REMINDER, 24 * H, 2))
    assert is_superseded(reminder, [reminder, later], NOW + 36 * H) is superseded


# --- is_late -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent_after_due", "late"),
    [
        pytest.param(-timedelta(minutes=5), False, id="early"),
        pytest.param(timedelta(0), False, id="on-time"),
        pytest.param(timedelta(milliseconds=900), False, id="900ms, within the 1 s promise"),
        pytest.param(LATE_AFTER, False, id="exactly-LATE_AFTER-not-late"),
        pytest.param(LATE_AFTER + timedelta(microseconds=1), True, id="just-over-LATE_AFTER"),
        pytest.param(timedelta(seconds=61), True, id="61s"),
        pytest.param(timedelta(hours=3), True, id="hours-late"),
    ],
)
def test_is_late(sent_after_due: timedelta, late: bool) -> None:
    notice = _n("r1h", REMINDER, timedelta(0), 1)
    assert is_late(notice, NOW + sent_after_due) is late


def test_late_after_is_the_dispatchers_one_second_promise() -> None:
    assert timedelta(seconds=1) == LATE_AFTER


@pytest.mark.parametrize(
    ("kind", "expected_kind"),
    [
        pytest.param(None, REMINDER, id="same-kind"),
        pytest.param(NoticeKind.ESCALATION, NoticeKind.ESCALATION, id="other-kind"),
    ],
)
def test_copy_to_keeps_the_plan_and_detail_and_drops_the_delivery(
    kind: NoticeKind | None, expected_kind: NoticeKind
) -> None:
    sent = Notice(
        "n_sent",
        "c_1",
        REMINDER,
        JAIL,
        NOW,
        3_600,
        seq=4,
        state=NoticeState.SENT,
        attempts=2,
        sent_at=NOW,
        message_ts="1.2",
        level=2,
        round=3,
        detail={"why": "x"},
    )

    copy = copy_to(sent, "webhook:0", kind)

    assert copy.id != sent.id and copy.id.startswith("n_")
    # The detail goes with it (a late page stays late); nothing of the delivery does.
    assert copy == Notice(
        copy.id,
        "c_1",
        expected_kind,
        "webhook:0",
        NOW,
        3_600,
        level=2,
        round=3,
        detail={"why": "x"},
    )
