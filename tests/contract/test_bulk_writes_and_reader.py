"""``add_custodies`` (many arrests, one transaction) and ``DatabaseReader`` (beside the bot)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.model import CUSTODY_WINDOW, Custody, CustodyState, NoticeState, WarrantForm
from storage.interface import CustodyStore, DuplicateOpenCustody
from storage.sqlite import DatabaseReader, SqliteCustodyStore, UnreadableDatabase
from storage.sqlite.reader import FacilityRows
from tests.contract.test_store_contract import (
    T0,
    any_store,
    make_audit,
    make_custody,
    make_notice,
    new_store,
    store_factory,
)

__all__ = ["any_store", "new_store", "store_factory"]  # the contract suite's fixtures


async def test_add_custodies_stores_every_arrest_with_its_notices_and_audit(
    any_store: CustodyStore,
) -> None:
    custodies = [make_custody(f"c{n}", booking=f"B-{n}") for n in range(3)]
    await any_store.add_custodies(
        [(c, [make_notice(c, "logged")], make_audit(c.id)) for c in custodies]
    )
    for custody in custodies:
        assert await any_store.get_custody(custody.id) == custody
        assert [n.id for n in await any_store.notices_for(custody.id)] == [f"{custody.id}-logged"]
        assert [e.action for e in await any_store.audit_trail(custody.id)] == ["custody_logged"]


async def test_add_custodies_stores_none_when_one_booking_is_open_already(
    any_store: CustodyStore,
) -> None:
    first = make_custody("c1", booking="B-1")
    await any_store.add_custodies([(first, [], make_audit(first.id))])
    fresh = make_custody("c2", booking="B-2")
    again = make_custody("c3", booking="B-1")

    with pytest.raises(DuplicateOpenCustody) as refusal:
        await any_store.add_custodies(
            [(fresh, [], make_audit(fresh.id)), (again, [], make_audit(again.id))]
        )

    assert refusal.value.existing == first
    assert await any_store.get_custody(fresh.id) is None
    assert await any_store.count_open_custodies() == 1


async def test_the_reader_reads_beside_an_open_store(tmp_path: Path) -> None:
    path = tmp_path / "wso.db"
    store = SqliteCustodyStore(path)
    await store.open()
    try:
        custody = make_custody()
        due = make_notice(custody, "due", due_at=T0)
        later = make_notice(custody, "later", due_at=T0 + timedelta(hours=1))
        await store.add_custodies([(custody, [due, later], make_audit(custody.id))])
        await store.mark_sending(due.id, T0)
        reader = DatabaseReader(path)

        assert reader.count_unsent_due(T0) == 1
        assert [c.id for c in reader.custodies_of_facility(custody.facility_id)] == [custody.id]
        assert reader.custodies_of_facility("elsewhere") == []
        await store.mark_sent(due.id, T0, "1.1")
        assert reader.count_unsent_due(T0 + timedelta(hours=2)) == 1
        assert [n.id for n in reader.notices([NoticeState.SENT])] == [due.id]
        assert [n.id for n in reader.notices()] == [due.id, later.id]
    finally:
        await store.close()


async def test_add_custodies_stores_a_closed_custody_with_every_field(
    any_store: CustodyStore,
) -> None:
    later = T0 + timedelta(hours=30)
    closed = make_custody(
        "c-closed",
        warrant_form=WarrantForm.I_205,
        warrant_number="W-1",
        state=CustodyState.TRANSFERRED,
        closed_at=later,
        closed_by="U0DESK",
        close_reason="picked up",
        acknowledged_at=later - timedelta(hours=1),
        acknowledged_by="U0SGT",
        disputed_at=T0,
        disputed_by="U0DESK",
        dispute_note="says he was born in El Paso",
        corrected_from=T0 - timedelta(hours=3),
        received_by="ICE badge 7",
        custody_taken_at=later - timedelta(minutes=5),
        coverage_warning="nobody on call",
        a_number="A012345678",
    )
    still_open = make_custody("c-open", booking=closed.booking)  # the booking again: allowed
    await any_store.add_custodies([(c, [], make_audit(c.id)) for c in (closed, still_open)])

    assert await any_store.get_custody(closed.id) == closed
    assert await any_store.get_custody(still_open.id) == still_open


def arrested(custody_id: str, hours: float) -> Custody:
    """A custody arrested ``hours`` after T0."""
    at = T0 + timedelta(hours=hours)
    logged = make_custody(custody_id, booking=custody_id.upper(), logged_at=at)
    return replace(logged, arrested_at=at, deadline=at + CUSTODY_WINDOW)


async def test_the_reader_pages_custodies_by_arrest_time_lazily(tmp_path: Path) -> None:
    path = tmp_path / "wso.db"
    store = SqliteCustodyStore(path)
    await store.open()
    try:
        # Stored out of order; two share an arrest time (the id orders them).
        first = [arrested(f"c{n}", hours) for n, hours in ((3, 3), (1, 1), (2, 2), (0, 2))]
        await store.add_custodies([(c, [], make_audit(c.id)) for c in first])
        before, outside = arrested("c-before", -1), arrested("c-after", 10)
        await store.add_custodies([(c, [], make_audit(c.id)) for c in (before, outside)])
        start, end = T0 + timedelta(hours=1), T0 + timedelta(hours=10)  # from c1; c-after out
        pages = DatabaseReader(path).custodies_arrested_between(start, end, page_size=2)

        assert next(pages).id == "c1"  # the first page is read; the second not yet
        late = arrested("c9", 9)
        await store.add_custodies([(late, [], make_audit(late.id))])
        assert [c.id for c in pages] == ["c0", "c2", "c3", "c9"]  # c9: read in a later page
    finally:
        await store.close()


async def test_the_reader_names_a_database_it_cannot_read(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(UnreadableDatabase, match="cannot open the database"):
        list(DatabaseReader(missing).custodies_arrested_between(T0, T0))
    assert not missing.exists()  # never created in its place
    not_a_database = tmp_path / "notes.db"
    not_a_database.write_text("hello")
    with pytest.raises(UnreadableDatabase, match="not a WSO Custody Clock database"):
        list(DatabaseReader(not_a_database).custodies_arrested_between(T0, T0))
    old = tmp_path / "old.db"
    store = SqliteCustodyStore(old)
    await store.open()
    await store.close()
    with closing(sqlite3.connect(old)) as raw:
        raw.execute("UPDATE schema_version SET version = 4")
        raw.commit()
    with pytest.raises(UnreadableDatabase, match=r"version 4; .* start `wso-bot serve` once"):
        list(DatabaseReader(old).custodies_arrested_between(T0, T0))


async def test_the_reader_counts_the_rows_of_a_facilitys_custodies(tmp_path: Path) -> None:
    path = tmp_path / "wso.db"
    store = SqliteCustodyStore(path)
    await store.open()
    try:
        here = [make_custody(f"c{n}", booking=f"B-{n}") for n in range(2)]
        elsewhere = make_custody("c9", booking="B-9", facility_id="elsewhere")
        await store.add_custodies(
            [
                (here[0], [make_notice(here[0], "a"), make_notice(here[0], "b")], make_audit("c0")),
                (here[1], [make_notice(here[1], "a")], make_audit("c1", notes="limps")),
                (elsewhere, [make_notice(elsewhere, "a")], make_audit("c9")),
            ]
        )
        await store.record_audit(make_audit("c1", action="custody_acknowledged"))
        await store.record_audit(make_audit(None, action="config_loaded"))
        reader = DatabaseReader(path)

        # c1's notes are personal: kept apart, in a row of their own (bot.core.audit_chain).
        assert reader.count_rows_of_facility(here[0].facility_id) == FacilityRows(
            custodies=2, notices=3, audit_entries=3, audit_personal=1
        )
        assert reader.count_rows_of_facility("elsewhere") == FacilityRows(1, 1, 1, 0)
        assert reader.count_rows_of_facility("nowhere") == FacilityRows(0, 0, 0, 0)
    finally:
        await store.close()
