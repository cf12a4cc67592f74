"""The ``CustodyStore`` contract, run against every implementation on a real database.

Each test takes ``any_store``, which is parametrised over ``STORE_FACTORIES``:
adding the PostgreSQL store later is one more ``pytest.param`` in that list
(the model is APScheduler 4's ``tests/conftest.py::raw_datastore``). Nothing is
mocked: every assertion reads back what the store really wrote.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.model import (
    CUSTODY_WINDOW,
    AuditEntry,
    CountingRule,
    Custody,
    CustodyState,
    Notice,
    NoticeKind,
    NoticeState,
    WarrantForm,
)
from bot.notice_plan import plan_closing_notices, plan_notices
from storage.interface import CustodyNotOpen, CustodyStore, DuplicateOpenCustody
from storage.sqlite_store import SqliteCustodyStore, from_db_time, to_db_time


@dataclass(frozen=True)
class StoreFactory:
    """How to build one implementation, and what its database raises on a broken constraint.

    ``build(directory)`` returns a new, unopened store over a database private
    to ``directory``; calling it again with the same directory reaches the same data.
    """

    build: Callable[[Path], CustodyStore]
    integrity_error: type[Exception]


def _sqlite(directory: Path) -> CustodyStore:
    return SqliteCustodyStore(directory / "contract.db")


STORE_FACTORIES = [
    pytest.param(StoreFactory(_sqlite, sqlite3.IntegrityError), id="sqlite"),
]

COUNTY = "county-jail"
NORTH = "north-annex"
JAIL = "C0JAIL"
ICE = "C0ICE"
OFFICER = "U0AAA"
# Microseconds on purpose: they must survive the round trip.
T0 = datetime(2026, 11, 28, 20, 0, 0, 123456, tzinfo=UTC)
FAR_FUTURE = T0 + timedelta(days=30)
LEADS = (timedelta(hours=24), timedelta(hours=1))


# --- fixtures ------------------------------------------------------------------


@asynccontextmanager
async def opened(build: Callable[[], CustodyStore]) -> AsyncIterator[CustodyStore]:
    store = build()
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(params=STORE_FACTORIES)
def store_factory(request: pytest.FixtureRequest) -> StoreFactory:
    factory: StoreFactory = request.param
    return factory


@pytest.fixture
def new_store(store_factory: StoreFactory, tmp_path: Path) -> Callable[[], CustodyStore]:
    """A fresh, unopened store over this test's database (the same database each call)."""
    return functools.partial(store_factory.build, tmp_path)


@pytest.fixture
async def any_store(new_store: Callable[[], CustodyStore]) -> AsyncIterator[CustodyStore]:
    async with opened(new_store) as store:
        yield store


# --- building domain values ----------------------------------------------------


def make_custody(
    custody_id: str = "c1",
    *,
    booking: str = "B-1",
    facility_id: str = COUNTY,
    logged_at: datetime = T0,
    deadline: datetime | None = None,
    **changes: Any,
) -> Custody:
    arrested_at = logged_at - timedelta(hours=2, microseconds=654321)
    return Custody(
        id=custody_id,
        facility_id=facility_id,
        booking=booking,
        arrested_at=arrested_at,
        deadline=deadline or arrested_at + CUSTODY_WINDOW,
        logged_by=OFFICER,
        logged_at=logged_at,
        **changes,
    )


def make_notice(
    custody: Custody,
    suffix: str,
    *,
    kind: NoticeKind = NoticeKind.LOGGED,
    channel: str = JAIL,
    due_at: datetime = T0,
    lead_seconds: int | None = None,
) -> Notice:
    return Notice(
        id=f"{custody.id}-{suffix}",
        custody_id=custody.id,
        kind=kind,
        channel=channel,
        due_at=due_at,
        lead_seconds=lead_seconds,
    )


def plan(custody: Custody, channels: Sequence[str] = (JAIL, ICE)) -> list[Notice]:
    return plan_notices(custody, channels, LEADS, custody.logged_at)


def make_audit(
    custody_id: str | None, action: str = "custody_logged", at: datetime = T0, **detail: Any
) -> AuditEntry:
    return AuditEntry(at=at, actor=OFFICER, action=action, custody_id=custody_id, detail=detail)


async def add(
    store: CustodyStore, custody: Custody, notices: Sequence[Notice] | None = None
) -> list[Notice]:
    """Store a custody (with its full plan unless notices are given); return what was stored."""
    planned = plan(custody) if notices is None else notices
    await store.add_custody(custody, planned, make_audit(custody.id, at=custody.logged_at))
    return await store.notices_for(custody.id)


async def close(
    store: CustodyStore,
    custody: Custody,
    *,
    at: datetime,
    state: CustodyState = CustodyState.RELEASED,
    channels: Sequence[str] = (JAIL,),
    reason: str | None = None,
) -> Custody:
    kind = NoticeKind.TRANSFERRED if state is CustodyState.TRANSFERRED else NoticeKind.RELEASED
    return await store.close_custody(
        custody.id,
        state=state,
        at=at,
        by=OFFICER,
        reason=reason,
        closing_notices=plan_closing_notices(custody, kind, channels, at),
        audit=make_audit(custody.id, f"custody_{state.value}", at),
    )


async def notices_by_id(store: CustodyStore, custody_id: str) -> dict[str, Notice]:
    return {notice.id: notice for notice in await store.notices_for(custody_id)}


async def ready_ids(store: CustodyStore, now: datetime, limit: int = 100) -> list[str]:
    return [notice.id for notice in await store.ready_notices(now, limit)]


async def snapshot(store: CustodyStore, *custodies: Custody) -> dict[str, Any]:
    """Everything the store can tell about these custodies and its queues."""
    return {
        "custodies": [await store.get_custody(c.id) for c in custodies],
        "notices": [await store.notices_for(c.id) for c in custodies],
        "audit": [await store.audit_trail(c.id) for c in custodies],
        "by_booking": [await store.find_custodies(c.booking) for c in custodies],
        "open": await store.list_open_custodies(),
        "open_count": await store.count_open_custodies(),
        "ready": await store.ready_notices(FAR_FUTURE, 1000),
        "next_ready_at": await store.next_ready_at(),
        "in_flight": sorted(await store.notices_in_flight(), key=lambda n: n.id),
        "oldest_due": await store.oldest_ready_due_at(FAR_FUTURE),
    }


# --- lifecycle -----------------------------------------------------------------


async def test_an_empty_store_answers_every_query(any_store: CustodyStore) -> None:
    await any_store.ping()
    assert await any_store.get_custody("missing") is None
    assert await any_store.find_custodies("B-1") == []
    assert await any_store.list_open_custodies() == []
    assert await any_store.count_open_custodies() == 0
    assert await any_store.ready_notices(FAR_FUTURE, 10) == []
    assert await any_store.next_ready_at() is None
    assert await any_store.oldest_ready_due_at(FAR_FUTURE) is None
    assert await any_store.notices_in_flight() == []
    assert await any_store.notices_for("missing") == []
    assert await any_store.audit_trail("missing") == []


# --- add_custody ---------------------------------------------------------------


@pytest.mark.parametrize(
    "custody",
    [
        make_custody(
            warrant_form=WarrantForm.I_205,
            warrant_number="W-000123",
            counting_rule=CountingRule.ELAPSED_48H,
        ),
        make_custody(warrant_form=None, warrant_number=None),
    ],
    ids=["all-fields", "none-fields"],
)
async def test_get_custody_round_trips_every_field(
    any_store: CustodyStore, custody: Custody
) -> None:
    await add(any_store, custody)

    stored = await any_store.get_custody(custody.id)

    assert stored == custody
    assert stored is not None
    assert stored.arrested_at.microsecond == 469135
    assert stored.arrested_at.utcoffset() == timedelta(0)
    assert type(stored.state) is CustodyState
    assert stored.warrant_form is custody.warrant_form


async def test_add_custody_stores_the_plan_in_order_with_ascending_seq(
    any_store: CustodyStore,
) -> None:
    custody = make_custody()
    planned = plan(custody)

    stored = await add(any_store, custody, planned)

    assert [n.id for n in stored] == [n.id for n in planned]
    seqs = [n.seq for n in stored]
    assert all(seq is not None for seq in seqs)
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert stored == [replace(p, seq=s.seq) for p, s in zip(planned, stored, strict=True)]
    assert {n.lead_seconds for n in stored} == {None, 86400, 3600}


async def test_add_custody_records_its_audit_entry(any_store: CustodyStore) -> None:
    custody = make_custody()
    audit = make_audit(custody.id, booking="B-1", backdated=True, minutes=125, note=None)

    await any_store.add_custody(custody, plan(custody), audit)

    assert await any_store.audit_trail(custody.id) == [audit]


async def test_a_second_open_custody_for_the_booking_is_refused_and_nothing_stored(
    any_store: CustodyStore,
) -> None:
    first = make_custody("c1")
    await add(any_store, first)
    before = await snapshot(any_store, first)
    second = make_custody("c2", logged_at=T0 + timedelta(minutes=5))

    with pytest.raises(DuplicateOpenCustody) as refused:
        await add(any_store, second)

    assert refused.value.existing == first
    assert await any_store.get_custody(second.id) is None
    assert await any_store.notices_for(second.id) == []
    assert await any_store.audit_trail(second.id) == []
    assert await snapshot(any_store, first) == before


async def test_the_same_booking_may_be_open_at_another_facility(any_store: CustodyStore) -> None:
    county = make_custody("c1", facility_id=COUNTY)
    north = make_custody("c2", facility_id=NORTH, logged_at=T0 + timedelta(minutes=1))
    await add(any_store, county)

    await add(any_store, north)

    assert await any_store.find_custodies("B-1", open_only=True) == [north, county]
    assert await any_store.count_open_custodies() == 2


async def test_the_same_booking_may_be_reopened_once_closed(any_store: CustodyStore) -> None:
    first = make_custody("c1")
    await add(any_store, first)
    closed = await close(any_store, first, at=T0 + timedelta(hours=1))
    second = make_custody("c2", logged_at=T0 + timedelta(hours=2))

    await add(any_store, second)

    assert await any_store.find_custodies("B-1") == [second, closed]
    assert await any_store.find_custodies("B-1", open_only=True) == [second]


def _duplicate_ids_in_one_plan(existing: Custody, custody: Custody) -> list[Notice]:
    return [make_notice(custody, "same"), make_notice(custody, "same", channel=ICE)]


def _id_of_an_existing_notice(existing: Custody, custody: Custody) -> list[Notice]:
    return [
        make_notice(custody, "fresh"),
        replace(make_notice(custody, "x"), id=f"{existing.id}-logged"),
    ]


def _notice_of_an_unknown_custody(existing: Custody, custody: Custody) -> list[Notice]:
    return [make_notice(custody, "fresh"), replace(make_notice(custody, "x"), custody_id="ghost")]


@pytest.mark.parametrize(
    "bad_notices",
    [_duplicate_ids_in_one_plan, _id_of_an_existing_notice, _notice_of_an_unknown_custody],
)
async def test_a_failing_add_custody_stores_nothing(
    any_store: CustodyStore,
    store_factory: StoreFactory,
    bad_notices: Callable[[Custody, Custody], list[Notice]],
) -> None:
    existing = make_custody("c1", booking="B-0")
    await add(any_store, existing, [make_notice(existing, "logged")])
    before = await snapshot(any_store, existing)
    custody = make_custody("c2")

    with pytest.raises(store_factory.integrity_error):
        await add(any_store, custody, bad_notices(existing, custody))

    assert await any_store.get_custody(custody.id) is None
    assert await any_store.notices_for(custody.id) == []
    assert await any_store.notices_for("ghost") == []
    assert await any_store.audit_trail(custody.id) == []
    assert await any_store.find_custodies(custody.booking) == []
    assert await snapshot(any_store, existing) == before


async def test_a_failure_at_the_audit_step_stores_no_custody_or_notices(
    any_store: CustodyStore,
) -> None:
    custody = make_custody()
    # Not JSON: the last write of the transaction fails, after the custody and notices.
    audit = replace(make_audit(custody.id), detail={"bad": object()})  # type: ignore[dict-item]

    with pytest.raises(TypeError):
        await any_store.add_custody(custody, plan(custody), audit)

    assert await any_store.get_custody(custody.id) is None
    assert await any_store.notices_for(custody.id) == []
    assert await any_store.audit_trail(custody.id) == []
    assert await any_store.count_open_custodies() == 0
    await add(any_store, custody)
    assert await any_store.get_custody(custody.id) == custody


# --- close_custody -------------------------------------------------------------


@pytest.mark.parametrize("state", [CustodyState.TRANSFERRED, CustodyState.RELEASED])
@pytest.mark.parametrize("reason", [None, "bonded out: judge's order 26-CR-9"])
async def test_close_custody_records_who_when_and_why(
    any_store: CustodyStore, state: CustodyState, reason: str | None
) -> None:
    custody = make_custody()
    await add(any_store, custody)
    at = T0 + timedelta(hours=3, microseconds=7)

    closed = await close(any_store, custody, at=at, state=state, reason=reason)

    expected = replace(custody, state=state, closed_at=at, closed_by=OFFICER, close_reason=reason)
    assert closed == expected
    assert await any_store.get_custody(custody.id) == expected
    assert await any_store.count_open_custodies() == 0
    assert await any_store.list_open_custodies() == []


async def test_close_cancels_pending_reminders_and_expiry_and_appends_closing_notices(
    any_store: CustodyStore,
) -> None:
    custody = make_custody()
    deadline = custody.deadline
    remind = NoticeKind.REMINDER
    await add(
        any_store,
        custody,
        [
            make_notice(custody, "j-logged"),
            make_notice(custody, "j-24h", kind=remind, due_at=deadline - LEADS[0]),
            make_notice(custody, "j-1h", kind=remind, due_at=deadline - LEADS[1]),
            make_notice(custody, "j-exp", kind=NoticeKind.EXPIRED, due_at=deadline),
            make_notice(custody, "i-logged", channel=ICE),
            make_notice(custody, "i-1h", kind=remind, channel=ICE, due_at=deadline - LEADS[1]),
            make_notice(custody, "i-exp", kind=NoticeKind.EXPIRED, channel=ICE, due_at=deadline),
        ],
    )
    other = make_custody("c2", booking="B-2")
    await add(any_store, other)
    other_before = await snapshot(any_store, other)
    await any_store.mark_sending("c1-j-logged", T0)
    await any_store.mark_sent("c1-j-logged", T0, "1700000000.000100")
    await any_store.mark_sending("c1-j-24h", T0)
    await any_store.skip_notices(["c1-i-1h"], "superseded")
    before = await notices_by_id(any_store, custody.id)
    at = T0 + timedelta(minutes=5)
    closing = plan_closing_notices(custody, NoticeKind.RELEASED, [JAIL, ICE], at)

    await any_store.close_custody(
        custody.id,
        state=CustodyState.RELEASED,
        at=at,
        by=OFFICER,
        reason=None,
        closing_notices=closing,
        audit=make_audit(custody.id, "custody_released", at),
    )

    after = await any_store.notices_for(custody.id)
    cancelled = {"c1-j-1h", "c1-j-exp", "c1-i-exp"}
    assert after[: len(before)] == [
        replace(notice, state=NoticeState.CANCELLED) if notice.id in cancelled else notice
        for notice in before.values()
    ]
    appended = after[len(before) :]
    assert appended == [replace(p, seq=a.seq) for p, a in zip(closing, appended, strict=True)]
    last_seq = max(n.seq or 0 for n in before.values())
    assert all((n.seq or 0) > last_seq for n in appended)
    ready = [n.id for n in await any_store.ready_notices(at, 100) if n.custody_id == custody.id]
    assert ready == ["c1-i-logged", closing[0].id, closing[1].id]
    assert [e.action for e in await any_store.audit_trail(custody.id)] == [
        "custody_logged",
        "custody_released",
    ]
    assert await any_store.get_custody(other.id) == other
    assert await any_store.notices_for(other.id) == other_before["notices"][0]
    assert await any_store.audit_trail(other.id) == other_before["audit"][0]


async def test_closing_a_closed_custody_is_refused_and_changes_nothing(
    any_store: CustodyStore,
) -> None:
    custody = make_custody()
    await add(any_store, custody)
    closed = await close(any_store, custody, at=T0 + timedelta(hours=1))
    before = await snapshot(any_store, custody)

    with pytest.raises(CustodyNotOpen) as refused:
        await close(
            any_store,
            custody,
            at=T0 + timedelta(hours=2),
            state=CustodyState.TRANSFERRED,
            channels=(JAIL, ICE),
        )

    assert refused.value.custody == closed
    assert await snapshot(any_store, custody) == before


async def test_closing_an_unknown_custody_is_refused_and_stores_nothing(
    any_store: CustodyStore,
) -> None:
    ghost = make_custody("ghost")

    with pytest.raises(CustodyNotOpen) as refused:
        await close(any_store, ghost, at=T0)

    assert refused.value.custody is None
    assert await any_store.notices_for(ghost.id) == []
    assert await any_store.audit_trail(ghost.id) == []
    assert await any_store.ready_notices(FAR_FUTURE, 10) == []


# --- finding custodies ---------------------------------------------------------


async def test_find_custodies_newest_first_with_facility_and_open_filters(
    any_store: CustodyStore,
) -> None:
    oldest = make_custody("c1", facility_id=COUNTY, logged_at=T0)
    middle = make_custody("c2", facility_id=NORTH, logged_at=T0 + timedelta(hours=1))
    other_booking = make_custody("c9", booking="B-2", logged_at=T0 + timedelta(hours=1, minutes=5))
    for custody in (oldest, middle, other_booking):
        await add(any_store, custody)
    oldest = await close(any_store, oldest, at=T0 + timedelta(hours=1, minutes=30))
    newest = make_custody("c3", facility_id=COUNTY, logged_at=T0 + timedelta(hours=2))
    await add(any_store, newest)

    assert await any_store.find_custodies("B-1") == [newest, middle, oldest]
    assert await any_store.find_custodies("B-1", [COUNTY]) == [newest, oldest]
    assert await any_store.find_custodies("B-1", [COUNTY, NORTH]) == [newest, middle, oldest]
    assert await any_store.find_custodies("B-1", open_only=True) == [newest, middle]
    assert await any_store.find_custodies("B-1", {NORTH}, open_only=True) == [middle]
    assert await any_store.find_custodies("B-1", []) == []
    assert await any_store.find_custodies("B-1", ["elsewhere"]) == []
    assert await any_store.find_custodies("B-3") == []


async def test_list_open_custodies_soonest_deadline_first(any_store: CustodyStore) -> None:
    late = make_custody("c1", booking="B-1", deadline=T0 + timedelta(hours=40))
    soon = make_custody("c2", booking="B-2", facility_id=NORTH, deadline=T0 + timedelta(hours=5))
    middle = make_custody("c3", booking="B-3", deadline=T0 + timedelta(hours=20))
    gone = make_custody("c4", booking="B-4", deadline=T0 + timedelta(hours=1))
    for custody in (late, soon, middle, gone):
        await add(any_store, custody)
    await close(any_store, gone, at=T0 + timedelta(minutes=1))

    assert await any_store.list_open_custodies() == [soon, middle, late]
    assert await any_store.list_open_custodies(limit=2) == [soon, middle]
    assert await any_store.list_open_custodies([COUNTY]) == [middle, late]
    assert await any_store.list_open_custodies([COUNTY], limit=1) == [middle]
    assert await any_store.list_open_custodies([NORTH, "elsewhere"]) == [soon]
    assert await any_store.count_open_custodies() == 3


# --- the dispatcher's queue ----------------------------------------------------


async def test_ready_notices_are_the_pending_due_ones_oldest_first(
    any_store: CustodyStore,
) -> None:
    a = make_custody("a", booking="B-1")
    b = make_custody("b", booking="B-2")
    minute = timedelta(minutes=1)
    await add(
        any_store,
        a,
        [
            make_notice(a, "due-30s", due_at=T0 + timedelta(seconds=30)),
            make_notice(a, "due-now", channel=ICE, due_at=T0 + minute),
            make_notice(a, "future", kind=NoticeKind.REMINDER, due_at=T0 + minute * 2),
            make_notice(a, "sending", channel="C0X"),
            make_notice(a, "sent", channel="C0Y"),
            make_notice(a, "skipped", channel="C0Z"),
        ],
    )
    await add(any_store, b, [make_notice(b, "due-10s", due_at=T0 + timedelta(seconds=10))])
    await any_store.mark_sending("a-sending", T0)
    await any_store.mark_sending("a-sent", T0)
    await any_store.mark_sent("a-sent", T0, "1.2")
    await any_store.skip_notices(["a-skipped"], "superseded")

    assert await ready_ids(any_store, T0) == []
    assert await ready_ids(any_store, T0 + minute) == ["b-due-10s", "a-due-30s", "a-due-now"]
    assert await ready_ids(any_store, T0 + minute, limit=2) == ["b-due-10s", "a-due-30s"]
    assert await ready_ids(any_store, FAR_FUTURE, limit=1) == ["b-due-10s"]
    assert len(await ready_ids(any_store, FAR_FUTURE)) == 4


async def test_ready_notices_keep_plan_order_for_equal_due_times(any_store: CustodyStore) -> None:
    custody = make_custody()
    planned = [make_notice(custody, name) for name in ("z", "a", "m", "b")]
    await add(any_store, custody, planned)

    assert await ready_ids(any_store, T0) == [n.id for n in planned]


async def test_next_ready_at_is_the_earliest_pending_ready_time(any_store: CustodyStore) -> None:
    custody = make_custody()
    await add(
        any_store,
        custody,
        [
            make_notice(custody, "first", due_at=T0 + timedelta(minutes=1)),
            make_notice(custody, "second", channel=ICE, due_at=T0 + timedelta(minutes=2)),
        ],
    )

    assert await any_store.next_ready_at() == T0 + timedelta(minutes=1)
    await any_store.mark_sending("c1-first", T0 + timedelta(minutes=1))
    assert await any_store.next_ready_at() == T0 + timedelta(minutes=2)
    await any_store.mark_sending("c1-second", T0 + timedelta(minutes=2))
    assert await any_store.next_ready_at() is None
    await any_store.mark_failed(
        "c1-first", error="ratelimited", retry_at=T0 + timedelta(minutes=7), may_have_posted=False
    )
    assert await any_store.next_ready_at() == T0 + timedelta(minutes=7)


async def test_mark_sending_puts_the_notice_in_flight(any_store: CustodyStore) -> None:
    custody = make_custody()
    [planned, *_] = await add(any_store, custody)
    at = T0 + timedelta(seconds=1, microseconds=5)

    await any_store.mark_sending(planned.id, at)

    expected = replace(planned, state=NoticeState.SENDING, attempts=1, attempted_at=at)
    assert await any_store.notices_in_flight() == [expected]
    assert (await notices_by_id(any_store, custody.id))[planned.id] == expected
    assert planned.id not in await ready_ids(any_store, FAR_FUTURE)


@pytest.mark.parametrize("message_ts", ["1700000000.000200", None])
async def test_mark_sent_records_the_message(
    any_store: CustodyStore, message_ts: str | None
) -> None:
    custody = make_custody()
    [planned, *_] = await add(any_store, custody)
    await any_store.mark_sending(planned.id, T0)
    await any_store.mark_failed(planned.id, error="timeout", retry_at=T0, may_have_posted=True)
    await any_store.mark_sending(planned.id, T0 + timedelta(seconds=2))
    sent_at = T0 + timedelta(seconds=3, microseconds=1)

    await any_store.mark_sent(planned.id, sent_at, message_ts)

    [stored] = [n for n in await any_store.notices_for(custody.id) if n.id == planned.id]
    assert stored.state is NoticeState.SENT
    assert stored.sent_at == sent_at
    assert stored.message_ts == message_ts
    assert stored.attempts == 2
    assert stored.attempted_at == T0 + timedelta(seconds=2)
    assert await any_store.notices_in_flight() == []
    assert planned.id not in await ready_ids(any_store, FAR_FUTURE)


@pytest.mark.parametrize("may_have_posted", [True, False])
async def test_mark_failed_returns_the_notice_to_pending_until_retry_at(
    any_store: CustodyStore, may_have_posted: bool
) -> None:
    custody = make_custody()
    [planned, *_] = await add(any_store, custody, [make_notice(custody, "logged")])
    await any_store.mark_sending(planned.id, T0)
    retry_at = T0 + timedelta(minutes=5)

    await any_store.mark_failed(
        planned.id, error="http_503", retry_at=retry_at, may_have_posted=may_have_posted
    )

    [stored] = await any_store.notices_for(custody.id)
    assert stored == replace(
        planned,
        state=NoticeState.PENDING,
        attempts=1,
        attempted_at=T0,
        next_attempt_at=retry_at,
        last_error="http_503",
        may_have_posted=may_have_posted,
    )
    assert await any_store.notices_in_flight() == []
    assert await ready_ids(any_store, retry_at - timedelta(microseconds=1)) == []
    assert await ready_ids(any_store, retry_at) == [planned.id]
    assert await any_store.next_ready_at() == retry_at


async def test_mark_failed_holds_back_later_notices_of_the_same_custody_and_channel(
    any_store: CustodyStore,
) -> None:
    a = make_custody("a", booking="B-1")
    b = make_custody("b", booking="B-2")
    minute = timedelta(minutes=1)
    await add(
        any_store,
        a,
        [
            make_notice(a, "j-logged"),
            make_notice(a, "j-soon", kind=NoticeKind.REMINDER, due_at=T0 + minute),
            make_notice(a, "i-logged", channel=ICE),
            make_notice(a, "j-late", kind=NoticeKind.EXPIRED, due_at=T0 + minute * 60),
        ],
    )
    await add(any_store, b, [make_notice(b, "j-logged")])
    await any_store.mark_sending("a-j-logged", T0)
    retry_at = T0 + minute * 10

    await any_store.mark_failed(
        "a-j-logged", error="ratelimited", retry_at=retry_at, may_have_posted=False
    )

    assert await ready_ids(any_store, retry_at - minute) == ["a-i-logged", "b-j-logged"]
    assert await ready_ids(any_store, retry_at) == [
        "a-i-logged",
        "b-j-logged",
        "a-j-logged",
        "a-j-soon",
    ]
    assert "a-j-late" not in await ready_ids(any_store, T0 + minute * 59)
    assert await any_store.next_ready_at() == T0


async def test_mark_failed_does_not_hold_back_earlier_notices(any_store: CustodyStore) -> None:
    custody = make_custody()
    await add(
        any_store,
        custody,
        [
            make_notice(custody, "early", due_at=T0 + timedelta(minutes=1)),
            make_notice(custody, "later", kind=NoticeKind.REMINDER),
        ],
    )
    await any_store.mark_sending("c1-later", T0)

    await any_store.mark_failed(
        "c1-later", error="timeout", retry_at=T0 + timedelta(hours=1), may_have_posted=True
    )

    assert await ready_ids(any_store, T0 + timedelta(minutes=1)) == ["c1-early"]


async def test_closing_notices_wait_behind_a_failed_notice_of_the_same_channel(
    any_store: CustodyStore,
) -> None:
    """mark_failed: "a channel never sees a custody's notices out of order".

    The logged notice failed and waits for its retry; the custody is then
    released. The release notice is a later notice of the same custody and
    channel, so it must not become ready before the logged notice does.
    """
    custody = make_custody()
    await add(any_store, custody, plan(custody, [JAIL]))
    [logged] = [n for n in await any_store.notices_for(custody.id) if n.kind is NoticeKind.LOGGED]
    await any_store.mark_sending(logged.id, T0)
    retry_at = T0 + timedelta(minutes=10)
    await any_store.mark_failed(
        logged.id, error="http_500", retry_at=retry_at, may_have_posted=True
    )

    await close(any_store, custody, at=T0 + timedelta(minutes=1), channels=[JAIL])

    [released] = [
        n for n in await any_store.notices_for(custody.id) if n.kind is NoticeKind.RELEASED
    ]
    assert await ready_ids(any_store, T0 + timedelta(minutes=2)) == []
    assert await ready_ids(any_store, retry_at) == [logged.id, released.id]


@pytest.mark.parametrize("may_have_posted", [True, False])
async def test_mark_pending_returns_an_in_flight_notice(
    any_store: CustodyStore, may_have_posted: bool
) -> None:
    custody = make_custody()
    [planned, *_] = await add(any_store, custody)
    await any_store.mark_sending(planned.id, T0)

    await any_store.mark_pending(planned.id, may_have_posted=may_have_posted)

    [stored] = [n for n in await any_store.notices_for(custody.id) if n.id == planned.id]
    assert stored == replace(planned, attempts=1, attempted_at=T0, may_have_posted=may_have_posted)
    assert await any_store.notices_in_flight() == []
    assert (await ready_ids(any_store, T0))[0] == planned.id


async def test_mark_pending_leaves_a_sent_notice_sent(any_store: CustodyStore) -> None:
    custody = make_custody()
    [planned, *_] = await add(any_store, custody)
    await any_store.mark_sending(planned.id, T0)
    await any_store.mark_sent(planned.id, T0, "1.1")
    before = await any_store.notices_for(custody.id)

    await any_store.mark_pending(planned.id, may_have_posted=True)

    assert await any_store.notices_for(custody.id) == before


async def test_skip_notices_skips_only_pending_ones(any_store: CustodyStore) -> None:
    custody = make_custody()
    await add(
        any_store, custody, [make_notice(custody, name) for name in ("p1", "p2", "in", "out")]
    )
    await any_store.mark_sending("c1-in", T0)
    await any_store.mark_sending("c1-out", T0)
    await any_store.mark_sent("c1-out", T0, "1.3")
    before = await notices_by_id(any_store, custody.id)

    await any_store.skip_notices({"c1-p1", "c1-in", "c1-out"}, "superseded")
    await any_store.skip_notices([], "superseded")

    after = await notices_by_id(any_store, custody.id)
    assert after["c1-p1"].state is NoticeState.SKIPPED
    assert {k: v for k, v in after.items() if k != "c1-p1"} == {
        k: v for k, v in before.items() if k != "c1-p1"
    }
    assert await ready_ids(any_store, FAR_FUTURE) == ["c1-p2"]
    await any_store.skip_notices(["c1-p2"], "superseded")
    assert await any_store.next_ready_at() is None


async def test_oldest_ready_due_at_is_the_due_time_of_the_oldest_ready_notice(
    any_store: CustodyStore,
) -> None:
    custody = make_custody()
    minute = timedelta(minutes=1)
    await add(
        any_store,
        custody,
        [
            make_notice(custody, "old", due_at=T0),
            make_notice(custody, "newer", channel=ICE, due_at=T0 + minute),
            make_notice(custody, "future", channel="C0X", due_at=T0 + minute * 30),
        ],
    )

    assert await any_store.oldest_ready_due_at(T0 - minute) is None
    assert await any_store.oldest_ready_due_at(T0 + minute * 5) == T0
    await any_store.mark_sending("c1-old", T0)
    await any_store.mark_sent("c1-old", T0, "1.4")
    assert await any_store.oldest_ready_due_at(T0 + minute * 5) == T0 + minute
    await any_store.mark_sending("c1-newer", T0 + minute)
    await any_store.mark_failed(
        "c1-newer", error="timeout", retry_at=T0 + minute * 10, may_have_posted=True
    )
    assert await any_store.oldest_ready_due_at(T0 + minute * 5) is None
    assert await any_store.oldest_ready_due_at(T0 + minute * 10) == T0 + minute


# --- audit ---------------------------------------------------------------------


async def test_audit_trail_is_oldest_first_with_details_intact(any_store: CustodyStore) -> None:
    custody = make_custody()
    await add(any_store, custody)
    second = make_audit(custody.id, "status_viewed", T0 + timedelta(seconds=1), by="desk")
    third = make_audit(
        custody.id, "note", T0 + timedelta(seconds=1), text='ü ✓ "quoted"', n=-3, ok=False, x=None
    )
    await any_store.record_audit(second)
    await any_store.record_audit(make_audit("c-other", "custody_logged"))
    await any_store.record_audit(make_audit(None, "config_reloaded"))
    await any_store.record_audit(third)

    trail = await any_store.audit_trail(custody.id)

    assert trail == [make_audit(custody.id, at=T0), second, third]
    assert type(trail[2].detail["ok"]) is bool
    assert type(trail[2].detail["n"]) is int
    assert await any_store.audit_trail("c-other") == [make_audit("c-other", "custody_logged")]


# --- durability ----------------------------------------------------------------


async def _populate(store: CustodyStore) -> tuple[Custody, Custody]:
    active = make_custody("c1", warrant_form=WarrantForm.I_200, warrant_number="W-1")
    notices = await add(store, active)
    await store.mark_sending(notices[0].id, T0)
    await store.mark_sent(notices[0].id, T0, "1.5")
    await store.mark_sending(notices[1].id, T0)
    await store.mark_sending(notices[3].id, T0)
    await store.mark_failed(
        notices[3].id, error="timeout", retry_at=T0 + timedelta(minutes=3), may_have_posted=True
    )
    await store.skip_notices([notices[2].id], "superseded")
    await store.record_audit(make_audit(active.id, "note", T0, text="kept"))
    done = make_custody("c2", booking="B-2", facility_id=NORTH)
    await add(store, done)
    await close(store, done, at=T0 + timedelta(hours=1), state=CustodyState.TRANSFERRED)
    return active, done


async def test_everything_survives_closing_and_reopening(
    new_store: Callable[[], CustodyStore],
) -> None:
    async with opened(new_store) as first:
        custodies = await _populate(first)
        before = await snapshot(first, *custodies)

    async with opened(new_store) as reopened:
        assert await snapshot(reopened, *custodies) == before

    assert len(before["in_flight"]) == 1
    assert before["custodies"][1].state is CustodyState.TRANSFERRED


async def test_opening_again_migrates_idempotently_and_sees_one_database(
    new_store: Callable[[], CustodyStore],
) -> None:
    async with opened(new_store) as first:
        custodies = await _populate(first)
        before = await snapshot(first, *custodies)
        async with opened(new_store) as second:
            await second.ping()
            assert await snapshot(second, *custodies) == before
    for _ in range(2):
        async with opened(new_store) as again:
            assert await snapshot(again, *custodies) == before


# --- naive datetimes -----------------------------------------------------------

NAIVE = datetime(2026, 11, 28, 20, 0)


@pytest.mark.parametrize(
    "build",
    [
        lambda: make_custody(logged_at=NAIVE),
        lambda: replace(make_custody(), closed_at=NAIVE),
        lambda: replace(make_notice(make_custody(), "n"), due_at=NAIVE),
        lambda: replace(make_notice(make_custody(), "n"), next_attempt_at=NAIVE),
        lambda: make_audit("c1", at=NAIVE),
    ],
    ids=["custody", "closed_at", "notice", "next_attempt_at", "audit"],
)
def test_domain_values_reject_naive_datetimes(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build()


StoreCall = Callable[[CustodyStore, Notice], Awaitable[object]]


@pytest.mark.parametrize(
    "call",
    [
        lambda store, notice: store.ready_notices(NAIVE, 10),
        lambda store, notice: store.oldest_ready_due_at(NAIVE),
        lambda store, notice: store.mark_sending(notice.id, NAIVE),
        lambda store, notice: store.mark_sent(notice.id, NAIVE, "1.6"),
        lambda store, notice: store.mark_failed(
            notice.id, error="x", retry_at=NAIVE, may_have_posted=False
        ),
        lambda store, notice: store.close_custody(
            notice.custody_id,
            state=CustodyState.RELEASED,
            at=NAIVE,
            by=OFFICER,
            reason=None,
            closing_notices=[replace(notice, id="closing", kind=NoticeKind.RELEASED)],
            audit=make_audit(notice.custody_id, "custody_released"),
        ),
    ],
    ids=["ready_notices", "oldest_ready_due_at", "sending", "sent", "failed", "close"],
)
async def test_the_store_rejects_naive_datetimes_and_changes_nothing(
    any_store: CustodyStore, call: StoreCall
) -> None:
    custody = make_custody()
    [notice, *_] = await add(any_store, custody)
    before = await snapshot(any_store, custody)

    with pytest.raises(ValueError, match="naive"):
        await call(any_store, notice)

    assert await snapshot(any_store, custody) == before


def test_sqlite_time_text_is_utc_fixed_width_and_sorts_as_time() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_db_time(NAIVE)
    chicago = timezone(timedelta(hours=-6))
    instants = [
        T0,
        T0 + timedelta(microseconds=1),
        datetime(2026, 11, 28, 15, 0, tzinfo=chicago),  # 21:00 UTC
        T0 + timedelta(days=400),
    ]
    texts = [to_db_time(instant) for instant in instants]
    assert texts[2] == "2026-11-28T21:00:00.000000Z"
    assert [from_db_time(text) for text in texts] == instants
    assert sorted(texts) == texts and len({len(text) for text in texts}) == 1
