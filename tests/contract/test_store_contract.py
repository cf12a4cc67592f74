"""The ``CustodyStore`` contract, run against every implementation on a real database.

Each test takes ``any_store``, which is parametrised over ``STORE_FACTORIES``:
adding the PostgreSQL store later is one more ``pytest.param`` in that list
(the model is APScheduler 4's ``tests/conftest.py::raw_datastore``). Nothing is
mocked: every assertion reads back what the store really wrote.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.core.escalation import plan_pages
from bot.core.model import (
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
from bot.core.notice_plan import plan_closing_notices, plan_notices
from bot.core.targets import EXPIRY_CHAIN, ICE_CHAIN
from storage.interface import (
    AlreadyAcknowledged,
    CustodyNotOpen,
    CustodyStore,
    DatabaseDamaged,
    DatabaseInUse,
    DuplicateOpenCustody,
    OncallOverrideRecord,
)
from storage.sqlite_store import SCHEMA_VERSION, SqliteCustodyStore, from_db_time, to_db_time
from tests.conftest import SmallDisk
from tests.fakes.damaged_db import AUDIT_INDEX, DISPATCHER_INDEX, corrupt_header, corrupt_index_page


@dataclass(frozen=True)
class StoreFactory:
    """How to build one implementation, and what its database raises on a broken constraint.

    ``build(directory)`` returns a new, unopened store over a database private
    to ``directory``; calling it again with the same directory reaches the same data.
    ``exclusive``: one open store per database (SQLite: one process); a second is
    refused while the first is open. ``files(directory)``: the files, by name, that
    hold the database; deleting or replacing one under an open store is a fault
    (none for a database server).
    """

    build: Callable[[Path], CustodyStore]
    integrity_error: type[Exception]
    exclusive: bool
    files: Callable[[Path], dict[str, Path]]


def _sqlite(directory: Path) -> CustodyStore:
    return SqliteCustodyStore(directory / "contract.db")


def _sqlite_files(directory: Path) -> dict[str, Path]:
    return {"database": directory / "contract.db", "wal": directory / "contract.db-wal"}


STORE_FACTORIES = [
    pytest.param(
        StoreFactory(_sqlite, sqlite3.IntegrityError, exclusive=True, files=_sqlite_files),
        id="sqlite",
    ),
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
        "oldest_due": await store.oldest_overdue_due_at(FAR_FUTURE),
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
    assert await any_store.oldest_overdue_due_at(FAR_FUTURE) is None
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


async def test_arrests_added_at_once_each_get_their_own_outcome(any_store: CustodyStore) -> None:
    """Concurrent adds (a store may write them together) are refused or stored one by one."""
    already_open = make_custody("c_open", booking="B-OPEN")
    await add(any_store, already_open)
    fresh = [make_custody(f"c{n}", booking=f"B-{n}") for n in range(20)]
    twice = make_custody("c_twice", booking="B-3", logged_at=T0 + timedelta(seconds=1))
    again = make_custody("c_again", booking="B-OPEN", logged_at=T0 + timedelta(seconds=1))
    elsewhere = make_custody("c_north", booking="B-3", facility_id=NORTH)
    everyone = [*fresh, twice, again, elsewhere]

    outcomes = await asyncio.gather(
        *(add(any_store, custody) for custody in everyone), return_exceptions=True
    )

    by_id = dict(zip([c.id for c in everyone], outcomes, strict=True))
    assert isinstance(by_id["c_again"], DuplicateOpenCustody)
    assert by_id["c_again"].existing == already_open
    assert isinstance(by_id["c_twice"], DuplicateOpenCustody)
    assert by_id["c_twice"].existing == fresh[3]
    for custody in [*fresh, elsewhere]:
        assert by_id[custody.id] == await any_store.notices_for(custody.id)
        assert len(by_id[custody.id]) == len(plan(custody))
        assert await any_store.get_custody(custody.id) == custody
        assert len(await any_store.audit_trail(custody.id)) == 1
    for refused in (twice, again):
        assert await any_store.get_custody(refused.id) is None
        assert await any_store.notices_for(refused.id) == []
        assert await any_store.audit_trail(refused.id) == []
    assert await any_store.count_open_custodies() == 22


async def test_an_arrest_that_breaks_a_constraint_fails_alone(
    any_store: CustodyStore, store_factory: StoreFactory
) -> None:
    first = make_custody("c1", booking="B-1")
    await add(any_store, first)
    taken_id = (await any_store.notices_for(first.id))[0].id
    others = [make_custody(f"c{n}", booking=f"B-{n}") for n in range(2, 12)]
    broken = make_custody("c_broken", booking="B-BROKEN")
    clash = replace(plan(broken)[0], id=taken_id)  # a notice id that is already stored

    outcomes = await asyncio.gather(
        *(add(any_store, custody) for custody in others[:5]),
        add(any_store, broken, [clash]),  # in the middle, so it may share a transaction
        *(add(any_store, custody) for custody in others[5:]),
        return_exceptions=True,
    )

    assert isinstance(outcomes.pop(5), store_factory.integrity_error)
    assert await any_store.get_custody(broken.id) is None
    for custody, outcome in zip(others, outcomes, strict=True):
        assert not isinstance(outcome, BaseException), outcome
        assert await any_store.get_custody(custody.id) == custody


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
    assert any_store.fault() is None, "a refused write says nothing about the database"


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
        "notice_sent",  # c1-j-logged
        "notice_skipped",  # c1-i-1h
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


async def test_ready_notices_and_next_ready_at_leave_out_excluded_channels(
    any_store: CustodyStore,
) -> None:
    custody = make_custody()
    await add(
        any_store,
        custody,
        [
            make_notice(custody, "jail-1", due_at=T0),
            make_notice(custody, "jail-2", due_at=T0 + timedelta(seconds=1)),
            make_notice(custody, "ice", channel=ICE, due_at=T0 + timedelta(seconds=2)),
            make_notice(custody, "dm", channel="U0SGT", due_at=T0 + timedelta(seconds=3)),
        ],
    )
    later = T0 + timedelta(minutes=1)

    ready = await any_store.ready_notices(later, 100, exclude_channels=[JAIL])
    assert [n.id for n in ready] == ["c1-ice", "c1-dm"]
    ready = await any_store.ready_notices(later, 100, exclude_channels={JAIL, "U0SGT"})
    assert [n.id for n in ready] == ["c1-ice"]
    assert await any_store.ready_notices(later, 100, exclude_channels=[JAIL, ICE, "U0SGT"]) == []
    assert await any_store.next_ready_at(exclude_channels=[JAIL]) == T0 + timedelta(seconds=2)
    assert await any_store.next_ready_at(exclude_channels=[JAIL, ICE, "U0SGT"]) is None
    assert await any_store.next_ready_at(exclude_channels=[]) == T0
    # A long exclusion list is accepted (a store may apply only part of it).
    many = [f"C{i:08d}" for i in range(5000)]
    assert len(await any_store.ready_notices(later, 100, exclude_channels=many)) == 4


async def test_deferred_notices_are_not_ready_until_then_and_nothing_else_changes(
    any_store: CustodyStore,
) -> None:
    custody = make_custody()
    await add(
        any_store,
        custody,
        [
            make_notice(custody, "backup", due_at=T0),
            make_notice(custody, "already-later", due_at=T0),
            make_notice(custody, "sent", due_at=T0),
        ],
    )
    await any_store.defer_notices(["c1-already-later"], T0 + timedelta(minutes=10))
    await any_store.mark_sending("c1-sent", T0)
    await any_store.mark_sent("c1-sent", T0, "1.2")
    until = T0 + timedelta(minutes=5)

    await any_store.defer_notices(["c1-backup", "c1-already-later", "c1-sent", "nope"], until)

    assert await ready_ids(any_store, until - timedelta(microseconds=1)) == []
    assert await ready_ids(any_store, until) == ["c1-backup"]
    assert await ready_ids(any_store, T0 + timedelta(minutes=10)) == [
        "c1-backup",
        "c1-already-later",
    ]
    notices = await notices_by_id(any_store, custody.id)
    assert notices["c1-backup"].attempts == 0
    assert notices["c1-backup"].last_error is None
    assert notices["c1-backup"].due_at == T0
    assert notices["c1-sent"].state is NoticeState.SENT
    await any_store.defer_notices([], until)  # nothing to do is fine


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


async def test_mark_sending_claims_only_a_pending_notice(any_store: CustodyStore) -> None:
    custody = make_custody()
    await add(
        any_store,
        custody,
        [make_notice(custody, name) for name in ("pending", "skipped", "sent", "sending")],
    )
    await any_store.skip_notices(["c1-skipped"], "superseded")
    await any_store.mark_sending("c1-sent", T0)
    await any_store.mark_sent("c1-sent", T0, "1.1")
    assert await any_store.mark_sending("c1-sending", T0)
    before = await notices_by_id(any_store, custody.id)

    assert await any_store.mark_sending("c1-pending", T0)
    for lost_race in ("c1-skipped", "c1-sent", "c1-sending"):
        assert not await any_store.mark_sending(lost_race, T0 + timedelta(seconds=1))
    after = await notices_by_id(any_store, custody.id)
    for unchanged in ("c1-skipped", "c1-sent", "c1-sending"):
        assert after[unchanged] == before[unchanged]
    assert not await any_store.mark_sending("no-such-notice", T0)


async def test_a_notice_slack_has_is_recorded_sent_even_if_skipped_meanwhile(
    any_store: CustodyStore,
) -> None:
    custody = make_custody()
    await add(any_store, custody, [make_notice(custody, "r"), make_notice(custody, "done")])
    await any_store.skip_notices(["c1-r"], "superseded")
    await any_store.mark_sending("c1-done", T0)
    await any_store.mark_sent("c1-done", T0, "1.1")

    await any_store.mark_sent("c1-r", T0 + timedelta(seconds=1), "1.2")
    await any_store.mark_sent("c1-done", T0 + timedelta(seconds=2), "9.9")

    stored = await notices_by_id(any_store, custody.id)
    assert stored["c1-r"].state is NoticeState.SENT
    assert stored["c1-r"].message_ts == "1.2"
    assert stored["c1-r"].last_error is None
    assert stored["c1-done"].message_ts == "1.1", "a sent notice keeps its first record"


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


async def test_mark_failed_counts_an_attempt_that_failed_before_its_claim(
    any_store: CustodyStore,
) -> None:
    """A history lookup that fails is an attempt too: its back-off must grow."""
    custody = make_custody()
    [planned, *_] = await add(any_store, custody, [make_notice(custody, "logged")])
    for attempts in (1, 2, 3):
        await any_store.mark_failed(
            planned.id, error="http_503", retry_at=T0, may_have_posted=True, attempts=attempts
        )
        [stored] = await any_store.notices_for(custody.id)
        assert stored.attempts == attempts
    await any_store.mark_failed(
        planned.id, error="http_503", retry_at=T0, may_have_posted=True, attempts=1
    )
    [stored] = await any_store.notices_for(custody.id)
    assert stored.attempts == 3, "the count never goes down"


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


async def test_oldest_overdue_due_at_is_the_due_time_of_the_oldest_unsent_due_notice(
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

    assert await any_store.oldest_overdue_due_at(T0 - minute) is None
    assert await any_store.oldest_overdue_due_at(T0 + minute * 5) == T0
    await any_store.mark_sending("c1-old", T0)
    await any_store.mark_sent("c1-old", T0, "1.4")
    assert await any_store.oldest_overdue_due_at(T0 + minute * 5) == T0 + minute
    await any_store.mark_sending("c1-newer", T0 + minute)
    await any_store.mark_failed(
        "c1-newer", error="timeout", retry_at=T0 + minute * 10, may_have_posted=True
    )
    # Waiting for a retry is still overdue: a notice Slack keeps refusing is lag.
    assert await any_store.oldest_overdue_due_at(T0 + minute * 5) == T0 + minute
    assert await any_store.oldest_overdue_due_at(T0 + minute * 10) == T0 + minute
    await any_store.mark_sending("c1-newer", T0 + minute * 10)
    await any_store.mark_sent("c1-newer", T0 + minute * 10, "1.5")
    assert await any_store.oldest_overdue_due_at(T0 + minute * 10) is None
    assert await any_store.oldest_overdue_due_at(T0 + minute * 30) == T0 + minute * 30


async def test_slack_side_backups_waiting_their_turn_are_not_lag(
    any_store: CustodyStore,
) -> None:
    custody = make_custody()
    backup_target = f"backup:{JAIL}"
    await add(
        any_store,
        custody,
        [
            make_notice(custody, "backup", kind=NoticeKind.BACKUP, channel=backup_target),
            make_notice(custody, "delete", kind=NoticeKind.BACKUP_DELETE, channel=backup_target),
        ],
    )
    await any_store.defer_notices(["c1-backup"], T0 + timedelta(minutes=5))
    assert await any_store.oldest_overdue_due_at(T0 + timedelta(minutes=4)) is None


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
    new_store: Callable[[], CustodyStore], store_factory: StoreFactory
) -> None:
    async with opened(new_store) as first:
        custodies = await _populate(first)
        before = await snapshot(first, *custodies)
        if not store_factory.exclusive:
            async with opened(new_store) as second:
                await second.ping()
                assert await snapshot(second, *custodies) == before
    for _ in range(2):
        async with opened(new_store) as again:
            assert await snapshot(again, *custodies) == before


async def test_an_exclusive_store_refuses_a_second_store_until_the_first_is_closed(
    new_store: Callable[[], CustodyStore], store_factory: StoreFactory
) -> None:
    if not store_factory.exclusive:
        pytest.skip("several stores may share this database")
    async with opened(new_store) as first:
        custodies = await _populate(first)
        before = await snapshot(first, *custodies)
        for _ in range(2):  # a refusal leaves nothing held that would refuse the first again
            with pytest.raises(DatabaseInUse):
                await new_store().open()
        assert await snapshot(first, *custodies) == before
        await add(first, make_custody("c3", booking="B-3"))  # the first one still writes

    async with opened(new_store) as after:
        assert await after.get_custody("c3") is not None


# --- what is wrong with the database (fault) ------------------------------------


async def test_a_healthy_store_has_no_fault_and_passes_its_integrity_check(
    any_store: CustodyStore,
) -> None:
    await any_store.integrity_checked()
    assert any_store.fault() is None
    await _populate(any_store)
    assert any_store.fault() is None


@pytest.mark.parametrize("how", ["deleted", "replaced"])
@pytest.mark.parametrize("which", ["database", "wal"])
async def test_a_file_deleted_or_replaced_under_the_store_is_a_fault_naming_it(
    any_store: CustodyStore, store_factory: StoreFactory, tmp_path: Path, which: str, how: str
) -> None:
    path = store_factory.files(tmp_path).get(which)
    if path is None:
        pytest.skip(f"this store keeps no {which} file")
    await add(any_store, make_custody("c1"))
    await any_store.integrity_checked()
    assert any_store.fault() is None

    if how == "deleted":
        path.unlink()
    else:  # a copy put in its place, as a restore under the running bot would
        copy = tmp_path / "copy"
        shutil.copyfile(path, copy)
        copy.replace(path)
    fault = any_store.fault()

    assert fault is not None
    assert str(path) in fault.what and how in fault.what
    await add(any_store, make_custody("c2", booking="B-2"))
    assert any_store.fault() == fault, "what was written meanwhile is still in the lost file"


async def test_a_failed_write_is_the_fault_until_a_write_succeeds(
    store_factory: StoreFactory, small_disk: SmallDisk
) -> None:
    """The disk really fills up (a 2 MiB tmpfs): the database's own failure, nothing patched.

    ``small_disk`` mounts the tmpfs, which needs root (CI runs as root); elsewhere
    this test is skipped and says so.
    """
    store = store_factory.build(small_disk.path)
    await store.open()
    try:
        stored = make_custody("c1")
        await add(store, stored)
        custody = make_custody("c2", booking="B-2")
        with small_disk.full():
            with pytest.raises(Exception, match="full"):
                await add(store, custody)
            fault = store.fault()
            assert fault is not None
            assert "add_custody" in fault.what and "full" in fault.error
            assert await store.get_custody(stored.id) == stored  # reads still answer
            await store.skip_notices(["no-such-notice"], "superseded")  # a write of nothing
            assert store.fault() == fault, "only a write that reached the disk clears it"

        await add(store, custody)
        assert store.fault() is None
        assert await store.get_custody(custody.id) == custody
    finally:
        await store.close()


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
        lambda store, notice: store.oldest_overdue_due_at(NAIVE),
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
    ids=["ready_notices", "oldest_overdue_due_at", "sending", "sent", "failed", "close"],
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


# --- escalation: steps, pages, acknowledgements ----------------------------------

PAGED = ("U0BBB", "U0CCC")
RESPONDER = "U0BBB"


def make_step(
    custody: Custody,
    suffix: str,
    *,
    chain: str = EXPIRY_CHAIN,
    due_at: datetime = T0,
    level: int = 1,
    round_: int = 1,
    lead_seconds: int | None = None,
) -> Notice:
    """A ``page_step`` notice: one level of a chain falling due."""
    step = make_notice(
        custody,
        suffix,
        kind=NoticeKind.PAGE_STEP,
        channel=chain,
        due_at=due_at,
        lead_seconds=lead_seconds,
    )
    return replace(step, level=level, round=round_)


def make_page(
    custody: Custody,
    suffix: str,
    *,
    user: str = RESPONDER,
    due_at: datetime = T0,
    level: int = 1,
    round_: int = 1,
) -> Notice:
    """An ``escalation`` notice: a direct-message page to one person."""
    page = make_notice(custody, suffix, kind=NoticeKind.ESCALATION, channel=user, due_at=due_at)
    return replace(page, level=level, round=round_)


async def acknowledge(
    store: CustodyStore,
    custody: Custody,
    *,
    at: datetime,
    by: str = RESPONDER,
    cancel: Collection[str] = (),
    new: Sequence[Notice] = (),
    expected: datetime | None = None,
) -> Custody:
    """Acknowledge, expecting ``expected`` as the custody's current ``acknowledged_at``."""
    return await store.acknowledge(
        custody.id,
        at=at,
        by=by,
        cancel_step_ids=cancel,
        new_notices=new,
        audit=make_audit(custody.id, "paging_acknowledged", at, by=by),
        expected_acknowledged_at=expected,
    )


async def test_notice_level_round_and_lead_round_trip(any_store: CustodyStore) -> None:
    custody = make_custody()
    planned = [
        make_notice(custody, "logged"),
        make_step(
            custody,
            "ice-2",
            chain=ICE_CHAIN,
            due_at=custody.deadline - timedelta(hours=2),
            level=2,
            lead_seconds=7200,
        ),
        make_step(
            custody, "exp-3", due_at=custody.deadline + timedelta(hours=1), level=3, round_=2
        ),
        make_page(custody, "page", level=4, round_=3),
    ]

    stored = await add(any_store, custody, planned)

    assert stored == [replace(p, seq=s.seq) for p, s in zip(planned, stored, strict=True)]
    assert [(n.level, n.round) for n in stored] == [(None, None), (2, 1), (3, 2), (4, 3)]
    assert [n.lead_seconds for n in stored] == [None, 7200, None, None]
    assert [n.message_channel for n in stored] == [None] * 4


async def test_coverage_warning_round_trips_and_acknowledgement_starts_empty(
    any_store: CustodyStore,
) -> None:
    warning = "Level 2 (ice-duty) has nobody on call 02:00-06:00 ✓"
    warned = make_custody("c1", coverage_warning=warning)
    plain = make_custody("c2", booking="B-2")
    await add(any_store, warned)
    await add(any_store, plain)

    stored = await any_store.get_custody(warned.id)

    assert stored == warned
    assert stored is not None
    assert stored.coverage_warning == warning
    assert (stored.acknowledged_at, stored.acknowledged_by) == (None, None)
    stored_plain = await any_store.get_custody(plain.id)
    assert stored_plain == plain
    assert stored_plain is not None
    assert stored_plain.coverage_warning is None
    assert await any_store.list_open_custodies() == [warned, plain]
    assert await any_store.find_custodies("B-1") == [warned]
    closed = await close(any_store, warned, at=T0 + timedelta(hours=1))
    assert closed.coverage_warning == warning


@pytest.mark.parametrize("message_channel", ["D0PAGE42", None])
async def test_mark_sent_records_where_slack_posted(
    any_store: CustodyStore, message_channel: str | None
) -> None:
    custody = make_custody()
    page = make_page(custody, "page", level=2, round_=1)
    await add(any_store, custody, [page])
    await any_store.mark_sending(page.id, T0)
    sent_at = T0 + timedelta(seconds=1, microseconds=3)

    await any_store.mark_sent(page.id, sent_at, "1700000000.000300", message_channel)

    [stored] = await any_store.notices_for(custody.id)
    assert stored == replace(
        page,
        seq=stored.seq,
        state=NoticeState.SENT,
        attempts=1,
        attempted_at=T0,
        sent_at=sent_at,
        message_ts="1700000000.000300",
        message_channel=message_channel,
    )


async def test_expand_step_marks_the_step_sent_and_stores_its_pages(
    any_store: CustodyStore,
) -> None:
    custody = make_custody()
    due = custody.deadline - timedelta(hours=2)
    step = make_step(custody, "ice-2", chain=ICE_CHAIN, due_at=due, level=2, lead_seconds=7200)
    later = make_step(custody, "exp-1", due_at=custody.deadline + timedelta(minutes=30))
    stored = await add(any_store, custody, [make_notice(custody, "logged"), step, later])
    other = make_custody("c2", booking="B-2")
    await add(any_store, other, [make_step(other, "exp-1"), make_page(other, "page")])
    other_before = await snapshot(any_store, other)
    pages = plan_pages(step, PAGED, JAIL)
    at = due + timedelta(seconds=2, microseconds=9)

    assert await any_store.expand_step(step.id, pages, at) is True

    after = await any_store.notices_for(custody.id)
    assert after[:3] == [
        stored[0],
        replace(stored[1], state=NoticeState.SENT, sent_at=at),
        stored[2],
    ]
    appended = after[3:]
    assert appended == [replace(p, seq=a.seq) for p, a in zip(pages, appended, strict=True)]
    assert [(n.kind, n.channel, n.due_at, n.level, n.round, n.lead_seconds) for n in appended] == [
        (NoticeKind.ESCALATION, user, due, 2, 1, 7200) for user in PAGED
    ]
    assert all((n.seq or 0) > max(s.seq or 0 for s in stored) for n in appended)
    ready = [n.id for n in await any_store.ready_notices(at, 100) if n.custody_id == custody.id]
    assert ready == [stored[0].id, pages[0].id, pages[1].id]
    [logged, paged] = await any_store.audit_trail(custody.id)
    assert logged == make_audit(custody.id)
    assert (paged.action, paged.actor, paged.at) == ("paged", "system", at)
    assert (paged.detail["paged"], paged.detail["level"]) == (",".join(PAGED), 2)
    assert await any_store.get_custody(other.id) == other_before["custodies"][0]
    assert await any_store.notices_for(other.id) == other_before["notices"][0]


async def _expand_first(store: CustodyStore, custody: Custody, step: Notice) -> None:
    assert await store.expand_step(step.id, plan_pages(step, ["U0FIRST"], JAIL), step.due_at)


async def _close_first(store: CustodyStore, custody: Custody, step: Notice) -> None:
    await close(store, custody, at=step.due_at - timedelta(minutes=1))


async def _acknowledge_first(store: CustodyStore, custody: Custody, step: Notice) -> None:
    await acknowledge(store, custody, at=step.due_at - timedelta(minutes=1), cancel=[step.id])


@pytest.mark.parametrize(
    "first",
    [_expand_first, _close_first, _acknowledge_first],
    ids=["already-expanded", "closed", "acknowledged"],
)
async def test_expand_step_of_a_step_no_longer_pending_stores_nothing(
    any_store: CustodyStore,
    first: Callable[[CustodyStore, Custody, Notice], Awaitable[None]],
) -> None:
    custody = make_custody()
    step = make_step(custody, "exp-1", due_at=custody.deadline + timedelta(minutes=15))
    await add(any_store, custody, [make_notice(custody, "logged"), step])
    await first(any_store, custody, step)
    before = await snapshot(any_store, custody)
    step_before = (await notices_by_id(any_store, custody.id))[step.id]
    assert step_before.state is not NoticeState.PENDING
    pages = plan_pages(step, ["U0LATE"], JAIL)

    expanded = await any_store.expand_step(step.id, pages, step.due_at + timedelta(seconds=1))

    assert expanded is False
    assert await snapshot(any_store, custody) == before
    assert pages[0].id not in await notices_by_id(any_store, custody.id)


async def test_expand_step_of_an_unknown_step_stores_nothing(any_store: CustodyStore) -> None:
    custody = make_custody()
    await add(any_store, custody, [make_step(custody, "exp-1")])
    before = await snapshot(any_store, custody)
    pages = plan_pages(make_step(custody, "ghost"), PAGED, JAIL)

    assert await any_store.expand_step("c1-ghost", pages, T0) is False

    assert await snapshot(any_store, custody) == before


def _page_ids_twice(custody: Custody, pages: list[Notice]) -> list[Notice]:
    return [pages[0], replace(pages[1], id=pages[0].id)]


def _page_id_of_an_existing_notice(custody: Custody, pages: list[Notice]) -> list[Notice]:
    return [pages[0], replace(pages[1], id=f"{custody.id}-logged")]


@pytest.mark.parametrize("bad_pages", [_page_ids_twice, _page_id_of_an_existing_notice])
async def test_a_failing_expand_step_leaves_the_step_pending(
    any_store: CustodyStore,
    store_factory: StoreFactory,
    bad_pages: Callable[[Custody, list[Notice]], list[Notice]],
) -> None:
    custody = make_custody()
    step = make_step(custody, "exp-1", level=2, round_=1)
    await add(any_store, custody, [make_notice(custody, "logged"), step])
    before = await snapshot(any_store, custody)
    pages = plan_pages(step, PAGED, JAIL)

    with pytest.raises(store_factory.integrity_error):
        await any_store.expand_step(step.id, bad_pages(custody, pages), T0 + timedelta(seconds=1))

    assert await snapshot(any_store, custody) == before
    assert (await notices_by_id(any_store, custody.id))[step.id].state is NoticeState.PENDING
    assert step.id in await ready_ids(any_store, T0)
    assert await any_store.expand_step(step.id, pages, T0 + timedelta(seconds=2)) is True
    assert [n.id for n in await any_store.notices_for(custody.id)][-2:] == [p.id for p in pages]


async def test_pages_stored_by_expand_step_are_ready_at_once_in_a_channel_with_later_notices(
    any_store: CustodyStore,
) -> None:
    """A level with nobody on call pages the jail channel instead (``plan_pages``).

    That channel still holds the custody's pending 1-hour reminder and expiry
    notice, due hours later; the page must not wait for them.
    """
    custody = make_custody()
    deadline = custody.deadline
    step = make_step(custody, "ice-1", chain=ICE_CHAIN, due_at=deadline - timedelta(hours=4))
    await add(
        any_store,
        custody,
        [
            make_notice(custody, "j-1h", kind=NoticeKind.REMINDER, due_at=deadline - LEADS[1]),
            make_notice(custody, "j-exp", kind=NoticeKind.EXPIRED, due_at=deadline),
            step,
        ],
    )
    [fallback] = plan_pages(step, [], JAIL)
    assert fallback.channel == JAIL

    assert await any_store.expand_step(step.id, [fallback], step.due_at) is True

    assert await ready_ids(any_store, step.due_at) == [fallback.id]
    assert await any_store.next_ready_at() == step.due_at


async def test_acknowledge_cancels_pages_and_the_given_steps_and_stores_the_rest(
    any_store: CustodyStore,
) -> None:
    custody = make_custody()
    deadline = custody.deadline
    hour = timedelta(hours=1)
    ice = ICE_CHAIN
    stored = await add(
        any_store,
        custody,
        [
            make_notice(custody, "j-logged"),
            make_notice(custody, "j-exp", kind=NoticeKind.EXPIRED, due_at=deadline),
            make_notice(custody, "i-exp", kind=NoticeKind.EXPIRED, channel=ICE, due_at=deadline),
            make_step(custody, "ice-1", chain=ice, due_at=deadline - 4 * hour, level=1),
            make_step(custody, "ice-2", chain=ice, due_at=deadline - 2 * hour, level=2),
            make_step(custody, "ice-3", chain=ice, due_at=deadline - hour, level=3),
            make_step(custody, "exp-1", due_at=deadline + hour / 2),
        ],
    )
    ice_1 = stored[3]
    pages = plan_pages(ice_1, ("U0BBB", "U0CCC", "U0DDD"), JAIL)
    assert await any_store.expand_step(ice_1.id, pages, ice_1.due_at)
    await any_store.mark_sending(pages[0].id, ice_1.due_at)
    await any_store.mark_sent(pages[0].id, ice_1.due_at, "1.7", "D0BBB")
    other = make_custody("c2", booking="B-2")
    await add(
        any_store,
        other,
        [make_step(other, "ice-2", chain=ice, due_at=deadline), make_page(other, "page")],
    )
    other_before = await snapshot(any_store, other)
    before = await any_store.notices_for(custody.id)
    at = deadline - 3 * hour - timedelta(microseconds=11)
    new = [
        make_notice(custody, "j-acked", kind=NoticeKind.ACKNOWLEDGED, due_at=at),
        make_step(custody, "ice-again", chain=ice, due_at=at + hour / 2, level=1),
    ]

    acknowledged = await acknowledge(
        any_store, custody, at=at, by="U0CCC", cancel=["c1-ice-1", "c1-ice-2"], new=new
    )

    expected = replace(custody, acknowledged_at=at, acknowledged_by="U0CCC")
    assert acknowledged == expected
    assert await any_store.get_custody(custody.id) == expected
    after = await any_store.notices_for(custody.id)
    cancelled = {"c1-ice-2", pages[1].id, pages[2].id}
    assert after[: len(before)] == [
        replace(n, state=NoticeState.CANCELLED) if n.id in cancelled else n for n in before
    ]
    appended = after[len(before) :]
    assert appended == [replace(p, seq=a.seq) for p, a in zip(new, appended, strict=True)]
    assert all((n.seq or 0) > max(b.seq or 0 for b in before) for n in appended)
    pending = {n.id for n in after if n.state is NoticeState.PENDING}
    assert pending == {
        "c1-j-logged",
        "c1-j-exp",
        "c1-i-exp",
        "c1-ice-3",
        "c1-exp-1",
        "c1-j-acked",
        "c1-ice-again",
    }
    assert [e.action for e in await any_store.audit_trail(custody.id)] == [
        "custody_logged",
        "paged",  # the ICE chain's first step, expanded before the acknowledgement
        "notice_sent",  # its page
        "paging_acknowledged",
    ]
    assert (await any_store.audit_trail(custody.id))[-1] == make_audit(
        custody.id, "paging_acknowledged", at, by="U0CCC"
    )
    assert await any_store.get_custody(other.id) == other_before["custodies"][0]
    assert await any_store.notices_for(other.id) == other_before["notices"][0]
    assert await any_store.audit_trail(other.id) == other_before["audit"][0]


async def test_notices_stored_by_acknowledge_are_ready_when_due_not_behind_later_ones(
    any_store: CustodyStore,
) -> None:
    """Acknowledged before the deadline: the jail channel still holds the custody's
    1-hour reminder and expiry notice, and the ICE chain a later level's step.

    The acknowledged notice (due now) and the re-page (due ``reack_after`` from
    now) must become ready when due, not when those later notices do.
    """
    custody = make_custody()
    deadline = custody.deadline
    await add(
        any_store,
        custody,
        [
            make_notice(custody, "j-1h", kind=NoticeKind.REMINDER, due_at=deadline - LEADS[1]),
            make_notice(custody, "j-exp", kind=NoticeKind.EXPIRED, due_at=deadline),
            make_step(custody, "ice-2", chain=ICE_CHAIN, due_at=deadline - timedelta(hours=2)),
        ],
    )
    at = deadline - timedelta(hours=5)
    acked = make_notice(custody, "j-acked", kind=NoticeKind.ACKNOWLEDGED, due_at=at)
    repage = make_step(custody, "ice-again", chain=ICE_CHAIN, due_at=at + timedelta(minutes=30))

    await acknowledge(any_store, custody, at=at, new=[acked, repage])

    assert await ready_ids(any_store, at) == [acked.id]
    assert await ready_ids(any_store, repage.due_at) == [acked.id, repage.id]


async def test_acknowledging_twice_records_the_latest(any_store: CustodyStore) -> None:
    custody = make_custody()
    step = make_step(custody, "exp-2", due_at=custody.deadline + timedelta(hours=1), level=2)
    await add(any_store, custody, [make_notice(custody, "logged"), step])
    first_at = custody.deadline + timedelta(minutes=10)
    second_at = first_at + timedelta(hours=1, microseconds=1)
    await acknowledge(any_store, custody, at=first_at, by="U0BBB", cancel=[])
    pages = plan_pages(step, PAGED, JAIL)
    assert await any_store.expand_step(step.id, pages, step.due_at)

    again = await acknowledge(
        any_store, custody, at=second_at, by="U0CCC", cancel=[], expected=first_at
    )

    expected = replace(custody, acknowledged_at=second_at, acknowledged_by="U0CCC")
    assert again == expected
    assert await any_store.get_custody(custody.id) == expected
    states = {n.id: n.state for n in await any_store.notices_for(custody.id)}
    assert states == {
        "c1-logged": NoticeState.PENDING,
        step.id: NoticeState.SENT,
        pages[0].id: NoticeState.CANCELLED,
        pages[1].id: NoticeState.CANCELLED,
    }
    assert [e.action for e in await any_store.audit_trail(custody.id)] == [
        "custody_logged",
        "paging_acknowledged",
        "paged",  # the re-planned step fell due after the first acknowledgement
        "paging_acknowledged",
    ]


async def test_acknowledging_a_closed_custody_is_refused_and_changes_nothing(
    any_store: CustodyStore,
) -> None:
    custody = make_custody()
    step = make_step(custody, "exp-1", due_at=custody.deadline + timedelta(minutes=30))
    await add(any_store, custody, [make_notice(custody, "logged"), step])
    acked_at = custody.deadline + timedelta(minutes=5)
    await acknowledge(any_store, custody, at=acked_at)
    closed = await close(any_store, custody, at=acked_at + timedelta(minutes=1))
    assert (closed.acknowledged_at, closed.acknowledged_by) == (acked_at, RESPONDER)
    before = await snapshot(any_store, custody)
    at = acked_at + timedelta(minutes=2)

    with pytest.raises(CustodyNotOpen) as refused:
        await acknowledge(
            any_store,
            custody,
            at=at,
            by="U0CCC",
            cancel=[step.id],
            new=[make_notice(custody, "j-acked", kind=NoticeKind.ACKNOWLEDGED, due_at=at)],
            expected=acked_at,
        )

    assert refused.value.custody == closed
    assert await snapshot(any_store, custody) == before


async def test_acknowledging_a_closed_custody_that_someone_acked_says_closed(
    any_store: CustodyStore,
) -> None:
    """Closed wins over acknowledged-meanwhile: there is nothing left to acknowledge."""
    custody = make_custody()
    await add(any_store, custody, [make_notice(custody, "logged")])
    acked_at = custody.deadline + timedelta(minutes=5)
    await acknowledge(any_store, custody, at=acked_at)
    await close(any_store, custody, at=acked_at + timedelta(minutes=1))

    with pytest.raises(CustodyNotOpen):
        await acknowledge(any_store, custody, at=acked_at + timedelta(minutes=2), expected=None)


async def _acked_custody_with_a_page(store: CustodyStore) -> tuple[Custody, Notice, Notice]:
    """An expired custody with its level-1 page out and a level-2 step pending."""
    custody = make_custody()
    page = make_page(custody, "page", due_at=custody.deadline)
    step = make_step(custody, "exp-2", due_at=custody.deadline + timedelta(minutes=15), level=2)
    await add(store, custody, [make_notice(custody, "logged"), page, step])
    await store.mark_sending(page.id, custody.deadline)
    await store.mark_sent(page.id, custody.deadline, "1.5", "D0BBB")
    return custody, page, step


def _ack_notices(custody: Custody, suffix: str, at: datetime) -> list[Notice]:
    return [
        make_notice(custody, f"acked-{suffix}", kind=NoticeKind.ACKNOWLEDGED, due_at=at),
        make_step(custody, f"again-{suffix}", due_at=at + timedelta(minutes=30)),
    ]


async def test_acknowledge_is_a_compare_and_set_on_what_the_caller_read(
    any_store: CustodyStore,
) -> None:
    """A second acknowledgement made on the same reading (a double click) changes nothing."""
    custody, _, step = await _acked_custody_with_a_page(any_store)
    first_at = custody.deadline + timedelta(minutes=2)
    first = await acknowledge(
        any_store, custody, at=first_at, cancel=[step.id], new=_ack_notices(custody, "1", first_at)
    )
    before = await snapshot(any_store, custody)
    second_at = first_at + timedelta(seconds=1)

    with pytest.raises(AlreadyAcknowledged) as refused:
        await acknowledge(
            any_store,
            custody,
            at=second_at,
            by="U0CCC",
            cancel=[step.id],
            new=_ack_notices(custody, "2", second_at),
            expected=None,
        )

    assert refused.value.custody == first
    assert (first.acknowledged_at, first.acknowledged_by) == (first_at, RESPONDER)
    assert await snapshot(any_store, custody) == before


async def test_acknowledge_with_a_stale_reading_after_an_earlier_ack_is_refused(
    any_store: CustodyStore,
) -> None:
    custody, _, _ = await _acked_custody_with_a_page(any_store)
    first_at = custody.deadline + timedelta(minutes=2)
    second_at = first_at + timedelta(hours=1)
    await acknowledge(any_store, custody, at=first_at)
    latest = await acknowledge(any_store, custody, at=second_at, by="U0CCC", expected=first_at)
    before = await snapshot(any_store, custody)

    with pytest.raises(AlreadyAcknowledged) as refused:
        await acknowledge(any_store, custody, at=second_at, expected=first_at)

    assert refused.value.custody == latest
    assert await snapshot(any_store, custody) == before


@asynccontextmanager
async def second_client(
    store: CustodyStore, new_store: Callable[[], CustodyStore], factory: StoreFactory
) -> AsyncIterator[CustodyStore]:
    """Another replica over the same database; the same store where only one may open it."""
    if factory.exclusive:
        yield store
    else:
        async with opened(new_store) as replica:
            yield replica


async def test_two_replicas_acknowledging_at_once_store_exactly_one(
    any_store: CustodyStore, new_store: Callable[[], CustodyStore], store_factory: StoreFactory
) -> None:
    """Two processes over one database (or, where one process is the rule, two callers),
    each acknowledging what it read: one wins."""
    custody, _, step = await _acked_custody_with_a_page(any_store)
    at = custody.deadline + timedelta(minutes=2)
    async with second_client(any_store, new_store, store_factory) as replica:
        outcomes = await asyncio.gather(
            *(
                acknowledge(
                    store,
                    custody,
                    at=at,
                    by=by,
                    cancel=[step.id],
                    new=_ack_notices(custody, by, at),
                )
                for store, by in ((any_store, "U0BBB"), (replica, "U0CCC"))
                for _ in range(3)
            ),
            return_exceptions=True,
        )

    won = [o for o in outcomes if isinstance(o, Custody)]
    lost = [o for o in outcomes if isinstance(o, AlreadyAcknowledged)]
    assert len(won) == 1 and len(lost) == 5, outcomes
    stored = await any_store.get_custody(custody.id)
    assert stored == won[0]
    assert all(refusal.custody == stored for refusal in lost)
    winner = stored.acknowledged_by if stored else None
    notices = await any_store.notices_for(custody.id)
    assert sorted(n.id for n in notices if "acked" in n.id or "again" in n.id) == sorted(
        n.id for n in _ack_notices(custody, str(winner), at)
    )
    trail = await any_store.audit_trail(custody.id)
    assert [e.action for e in trail].count("paging_acknowledged") == 1


async def test_acknowledging_an_unknown_custody_is_refused_and_stores_nothing(
    any_store: CustodyStore,
) -> None:
    ghost = make_custody("ghost")

    with pytest.raises(CustodyNotOpen) as refused:
        await acknowledge(
            any_store, ghost, at=T0, new=[make_notice(ghost, "acked", kind=NoticeKind.ACKNOWLEDGED)]
        )

    assert refused.value.custody is None
    assert await any_store.get_custody(ghost.id) is None
    assert await any_store.notices_for(ghost.id) == []
    assert await any_store.audit_trail(ghost.id) == []


async def test_close_cancels_pending_steps_and_pages_too(any_store: CustodyStore) -> None:
    custody = make_custody()
    deadline = custody.deadline
    await add(
        any_store,
        custody,
        [
            make_notice(custody, "j-logged"),
            make_step(custody, "ice-1", chain=ICE_CHAIN, due_at=deadline - timedelta(hours=2)),
            make_step(custody, "exp-1", due_at=deadline + timedelta(minutes=30)),
            make_step(custody, "exp-2", due_at=deadline + timedelta(hours=1), level=2),
            make_page(custody, "page-pending", user="U0BBB"),
            make_page(custody, "page-sending", user="U0CCC"),
            make_page(custody, "page-sent", user="U0DDD"),
        ],
    )
    await any_store.mark_sending("c1-page-sending", T0)
    await any_store.mark_sending("c1-page-sent", T0)
    await any_store.mark_sent("c1-page-sent", T0, "1.8", "D0DDD")
    assert await any_store.expand_step("c1-ice-1", [], deadline - timedelta(hours=2))
    other = make_custody("c2", booking="B-2")
    await add(any_store, other, [make_step(other, "exp-1"), make_page(other, "page")])
    other_before = await snapshot(any_store, other)
    before = await any_store.notices_for(custody.id)

    await close(any_store, custody, at=T0 + timedelta(minutes=5))

    after = await any_store.notices_for(custody.id)
    cancelled = {"c1-exp-1", "c1-exp-2", "c1-page-pending"}
    assert after[: len(before)] == [
        replace(n, state=NoticeState.CANCELLED) if n.id in cancelled else n for n in before
    ]
    assert [n.kind for n in after[len(before) :]] == [NoticeKind.RELEASED]
    assert await any_store.get_custody(other.id) == other_before["custodies"][0]
    assert await any_store.notices_for(other.id) == other_before["notices"][0]


# --- on-call overrides -----------------------------------------------------------


def make_override(
    user_id: str, starts_at: datetime, ends_at: datetime, schedule_id: str = "ice-duty"
) -> OncallOverrideRecord:
    return OncallOverrideRecord(
        schedule_id=schedule_id,
        user_id=user_id,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=OFFICER,
        created_at=T0 - timedelta(days=1, microseconds=17),
    )


async def test_oncall_overrides_are_the_unended_ones_of_the_schedule_earliest_first(
    new_store: Callable[[], CustodyStore],
) -> None:
    now = T0
    hour = timedelta(hours=1)
    later = make_override("U0LATER", now + 2 * hour, now + 5 * hour)
    current = make_override("U0NOW", now - hour, now + timedelta(microseconds=1))
    ended_now = make_override("U0ENDED", now - 3 * hour, now)
    long_ago = make_override("U0OLD", now - 9 * hour, now - 8 * hour)
    overlapping = make_override("U0MID", now - hour / 2, now + 3 * hour)
    elsewhere = make_override("U0ELSE", now - hour, now + hour, schedule_id="jail-duty")

    async with opened(new_store) as store:
        for override in (later, ended_now, elsewhere, current, long_ago, overlapping):
            audit = make_audit(None, "oncall_override", now, schedule=override.schedule_id)
            await store.add_oncall_override(override, audit)

        assert await store.oncall_overrides("ice-duty", now) == [current, overlapping, later]
        assert await store.oncall_overrides("jail-duty", now) == [elsewhere]
        assert await store.oncall_overrides("ice-duty", now + hour) == [overlapping, later]
        assert await store.oncall_overrides("ice-duty", now - 8 * hour - timedelta(seconds=1)) == [
            long_ago,
            ended_now,
            current,
            overlapping,
            later,
        ]
        assert await store.oncall_overrides("ice-duty", now + 5 * hour) == []
        assert await store.oncall_overrides("nobody", now) == []

    async with opened(new_store) as reopened:
        assert await reopened.oncall_overrides("ice-duty", now) == [current, overlapping, later]


# --- schema migration (SQLite) ---------------------------------------------------

# What schema versions after 1 added to the tables version 1 had (and one table of its own).
_ADDED_SINCE_VERSION_1 = {
    "custodies": (
        *("acknowledged_at", "acknowledged_by", "coverage_warning"),
        *("counting_rule_version", "counting_hours", "holiday_region"),
        "a_number",
    ),
    "notices": ("level", "round", "message_channel", "detail", "target_kind"),
}


async def _create_version_1_database(path: Path, custody: Custody, notice: Notice) -> None:
    """A database as schema version 1 left it: rows written by today's store, then every
    column and table added since dropped (the migration test of the last release's own
    file is in test_store_migration.py)."""
    async with opened(functools.partial(SqliteCustodyStore, path)) as store:
        await store.add_custody(custody, [notice], make_audit(custody.id))
    with closing(sqlite3.connect(path)) as raw:
        for table, columns in _ADDED_SINCE_VERSION_1.items():
            for column in columns:
                raw.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        raw.execute("DROP TABLE oncall_overrides")
        raw.execute("UPDATE schema_version SET version = 1")
        raw.commit()


def _raw_query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as raw:
        return raw.execute(sql).fetchall()


async def test_sqlite_migrates_a_version_1_database(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    old = make_custody("c1", warrant_form=WarrantForm.I_200, warrant_number="W-9")
    old_notice = make_notice(
        old, "j-1h", kind=NoticeKind.REMINDER, due_at=old.deadline - LEADS[1], lead_seconds=3600
    )
    await _create_version_1_database(path, old, old_notice)
    build = functools.partial(SqliteCustodyStore, path)
    at = old.deadline + timedelta(minutes=5)

    async with opened(build) as store:
        assert await store.get_custody(old.id) == old
        [notice] = await store.notices_for(old.id)
        assert notice == replace(old_notice, seq=notice.seq)
        assert (notice.level, notice.round, notice.message_channel) == (None, None, None)

        step = make_step(old, "exp-1", due_at=at, level=2, round_=1)
        acked = await acknowledge(store, old, at=at, new=[step])
        assert (acked.acknowledged_at, acked.acknowledged_by) == (at, RESPONDER)
        [page] = plan_pages(step, [RESPONDER], JAIL)
        assert await store.expand_step(step.id, [page], at) is True
        await store.mark_sending(page.id, at)
        await store.mark_sent(page.id, at, "1.9", "D0BBB")
        stored_page = (await notices_by_id(store, old.id))[page.id]
        assert (stored_page.level, stored_page.round, stored_page.message_channel) == (
            2,
            1,
            "D0BBB",
        )
        warned = make_custody("c2", booking="B-2", coverage_warning="nobody on call")
        await add(store, warned)
        assert await store.get_custody(warned.id) == warned
        override = make_override("U0COVER", at, at + timedelta(hours=1))
        await store.add_oncall_override(override, make_audit(None, "oncall_override", at))
        assert await store.oncall_overrides("ice-duty", at) == [override]

    assert SCHEMA_VERSION == 8
    assert _raw_query(path, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    async with opened(build) as reopened:
        assert await reopened.get_custody(old.id) == acked
        assert await reopened.oncall_overrides("ice-duty", at) == [override]
    assert _raw_query(path, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]


def _two_reminders_then_expiry(custody: Custody) -> list[Notice]:
    """In the jail channel: reminders due at T0 and a minute later, the expiry a minute on."""
    minute = timedelta(minutes=1)
    return [
        make_notice(custody, "r24", kind=NoticeKind.REMINDER, due_at=T0),
        make_notice(custody, "r12", kind=NoticeKind.REMINDER, due_at=T0 + minute),
        make_notice(custody, "expired", kind=NoticeKind.EXPIRED, due_at=T0 + 2 * minute),
    ]


async def test_skip_superseded_reminders_skips_across_the_whole_backlog(
    any_store: CustodyStore,
) -> None:
    custody = make_custody()
    minute = timedelta(minutes=1)
    ice = make_notice(custody, "r12-ice", kind=NoticeKind.REMINDER, channel=ICE, due_at=T0)
    await add(any_store, custody, [*_two_reminders_then_expiry(custody), ice])

    assert await any_store.skip_superseded_reminders(T0 + 90 * timedelta(seconds=1)) == 1
    states = {n.id: n.state for n in await any_store.notices_for(custody.id)}
    assert states["c1-r24"] is NoticeState.SKIPPED
    assert states["c1-r12"] is NoticeState.PENDING
    assert states["c1-r12-ice"] is NoticeState.PENDING  # nothing later in its channel
    assert await any_store.skip_superseded_reminders(T0 + 5 * minute) == 1
    states = {n.id: n.state for n in await any_store.notices_for(custody.id)}
    assert states["c1-r12"] is NoticeState.SKIPPED
    assert states["c1-expired"] is NoticeState.PENDING


async def _recovered_after_crash(store: CustodyStore, notice_id: str) -> None:
    assert await store.mark_sending(notice_id, T0)
    await store.mark_pending(notice_id, may_have_posted=True)


async def _recovered_without_lookup(store: CustodyStore, notice_id: str) -> None:
    assert await store.mark_sending(notice_id, T0)
    await store.mark_pending(notice_id, may_have_posted=False)


async def _timed_out(store: CustodyStore, notice_id: str) -> None:
    retry_at = T0 + timedelta(seconds=30)
    await store.mark_failed(notice_id, error="timeout", retry_at=retry_at, may_have_posted=True)


async def _refused(store: CustodyStore, notice_id: str) -> None:
    retry_at = T0 + timedelta(seconds=30)
    await store.mark_failed(notice_id, error="http_429", retry_at=retry_at, may_have_posted=False)


@pytest.mark.parametrize(
    ("earlier_attempt", "superseded_state"),
    [
        (_recovered_after_crash, NoticeState.PENDING),
        (_timed_out, NoticeState.PENDING),
        (_recovered_without_lookup, NoticeState.SKIPPED),
        (_refused, NoticeState.SKIPPED),
    ],
    ids=["crash-after-post", "timeout", "crash-history-lookup-off", "refused-not-posted"],
)
async def test_skip_superseded_reminders_leaves_one_that_may_have_posted_to_be_looked_up(
    any_store: CustodyStore,
    earlier_attempt: Callable[[CustodyStore, str], Awaitable[None]],
    superseded_state: NoticeState,
) -> None:
    """A reminder that may be in Slack is left pending, superseded by a later reminder or
    by the expiry alike: its sender looks in history before it is recorded either way."""
    custody = make_custody()
    minute = timedelta(minutes=1)
    await add(any_store, custody, _two_reminders_then_expiry(custody))
    await earlier_attempt(any_store, "c1-r24")

    for now in (T0 + 90 * timedelta(seconds=1), T0 + 5 * minute):
        await any_store.skip_superseded_reminders(now)
        states = {n.id: n.state for n in await any_store.notices_for(custody.id)}
        assert states["c1-r24"] is superseded_state
    assert states["c1-r12"] is NoticeState.SKIPPED  # never attempted: skipped blind
    assert states["c1-expired"] is NoticeState.PENDING


async def test_count_open_custodies_by_facility(any_store: CustodyStore) -> None:
    await add(any_store, make_custody())
    await add(any_store, make_custody("c2", booking="B-2", facility_id="annex"))
    assert await any_store.count_open_custodies() == 2
    assert await any_store.count_open_custodies(["annex"]) == 1
    assert await any_store.count_open_custodies([]) == 0


async def test_bring_forward_moves_only_the_named_channels_notices(
    any_store: CustodyStore,
) -> None:
    """The backup is deleted once the expiry is out in *its* channel, not in another."""
    custody = make_custody()
    later = T0 + timedelta(hours=1)
    jail, ice = (
        make_notice(
            custody, name, kind=NoticeKind.BACKUP_DELETE, channel=f"backup:{channel}", due_at=later
        )
        for name, channel in (("jail", JAIL), ("ice", "C0ICE"))
    )
    await add(any_store, custody, [jail, ice])

    await any_store.bring_forward(
        custody.id, NoticeKind.BACKUP_DELETE, T0, channel=f"backup:{JAIL}"
    )
    due = {n.id: n.due_at for n in await any_store.notices_for(custody.id)}
    assert due == {jail.id: T0, ice.id: later}

    await any_store.bring_forward(custody.id, NoticeKind.BACKUP_DELETE, T0)
    due = {n.id: n.due_at for n in await any_store.notices_for(custody.id)}
    assert due == {jail.id: T0, ice.id: T0}


# --- SQLite: one process per file, damage, deleted files ---------------------------


async def _written_database(path: Path) -> None:
    async with opened(functools.partial(SqliteCustodyStore, path)) as store:
        await _populate(store)


async def test_sqlite_refusal_names_the_database_the_lock_file_and_the_holder(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wso.db"
    other_name = tmp_path / "other-name.db"
    other_name.symlink_to(path)

    async with opened(functools.partial(SqliteCustodyStore, path)):
        with pytest.raises(DatabaseInUse) as refusal:
            await SqliteCustodyStore(path).open()
        with pytest.raises(DatabaseInUse):  # the same file by another name
            await SqliteCustodyStore(other_name).open()

    message = str(refusal.value)
    assert str(path) in message
    assert f"{path}.lock" in message
    assert f"pid {os.getpid()} (this process" in message


async def test_sqlite_refuses_a_database_with_a_corrupt_index_page(tmp_path: Path) -> None:
    path = tmp_path / "wso.db"
    await _written_database(path)
    backup = tmp_path / "backup.db"
    shutil.copyfile(path, backup)
    corrupt_index_page(path, DISPATCHER_INDEX)

    with pytest.raises(DatabaseDamaged) as refusal:
        await SqliteCustodyStore(path).open()

    message = str(refusal.value)
    assert f"the database {path} is damaged: PRAGMA quick_check found" in message
    assert "restore wso.db from a backup" in message
    assert f"sqlite3 {path} 'PRAGMA integrity_check'" in message
    shutil.copyfile(backup, path)  # as the message says; and the refusal let go of the lock
    async with opened(functools.partial(SqliteCustodyStore, path)) as restored:
        await restored.integrity_checked()
        assert restored.fault() is None
        assert await restored.count_open_custodies() == 1


async def test_sqlite_refuses_a_file_with_a_corrupt_header(tmp_path: Path) -> None:
    path = tmp_path / "wso.db"
    await _written_database(path)
    corrupt_header(path)

    with pytest.raises(DatabaseDamaged) as refusal:
        await SqliteCustodyStore(path).open()

    message = str(refusal.value)
    assert f"the database {path} is damaged: file is not a database" in message
    assert f"sqlite3 {path} 'PRAGMA integrity_check'" in message


async def test_sqlite_damage_found_after_open_is_the_fault(tmp_path: Path) -> None:
    """A check still running when ``open`` stops waiting (a large file) reports later."""
    path = tmp_path / "wso.db"
    await _written_database(path)
    corrupt_index_page(path, AUDIT_INDEX)
    store = SqliteCustodyStore(path, integrity_wait_seconds=0)

    await store.open()  # not refused: the check was left to finish in the background
    try:
        with pytest.raises(DatabaseDamaged, match="PRAGMA quick_check found"):
            await store.integrity_checked()
        fault = store.fault()
    finally:
        await store.close()

    assert fault is not None
    assert fault.what == "database damaged" and f"the database {path} is damaged" in fault.error


async def test_sqlite_records_made_after_the_wal_was_deleted_survive_a_clean_stop(
    tmp_path: Path,
) -> None:
    """What the fault advises for a deleted WAL (stop cleanly) does keep the records."""
    path = tmp_path / "wso.db"
    wal = tmp_path / "wso.db-wal"
    build = functools.partial(SqliteCustodyStore, path)
    store = build()
    await store.open()
    try:
        before = make_custody("c1")
        await add(store, before)
        wal.unlink()
        after = make_custody("c2", booking="B-2")
        await add(store, after)
        fault = store.fault()
    finally:
        await store.close()

    assert fault is not None and "SIGTERM, not kill -9" in fault.error
    async with opened(build) as reopened:
        assert await reopened.get_custody(before.id) == before
        assert await reopened.get_custody(after.id) == after
