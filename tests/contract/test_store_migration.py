"""A database written by an earlier release opens with this one and keeps working.

``data/wso-v2.db`` … ``data/wso-v5.db`` were written through the store of the last
releases with schema versions 2 to 5 (``data/make_v2_db.py`` … ``make_v5_db.py`` say
how), with the same content. Opening one migrates it in place to the current version:
from 2, each notice's target kind becomes a column, filled by SQL that must read every
address as ``bot.core.targets.target_kind`` does; from 3, the custodies table is rebuilt
so that its state admits ``igsa`` and ``voided``, with the new columns, its indexes and
the notices' foreign key intact; from 4, custodies record the whole counting rule; from
5 (``wso-v5.db``), the optional A-number; from 6, the ledger of officers'
certification reminders is added.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.certification_plan import CertificationReminder
from bot.core.model import (
    AuditEntry,
    CountingRule,
    Custody,
    CustodyState,
    Notice,
    NoticeKind,
    NoticeState,
)
from bot.core.policy import PolicyStamp
from bot.core.targets import TargetKind, target_kind
from storage.interface import DuplicateOpenCustody
from storage.sqlite import SCHEMA_VERSION, SqliteCustodyStore
from storage.sqlite.queries import QUERIES

V2_DATABASE = Path(__file__).parent / "data" / "wso-v2.db"
V3_DATABASE = Path(__file__).parent / "data" / "wso-v3.db"
V4_DATABASE = Path(__file__).parent / "data" / "wso-v4.db"
V5_DATABASE = Path(__file__).parent / "data" / "wso-v5.db"
# When the v2 file's notices were last touched: everything pending is due by then.
AFTER_V2 = datetime(2026, 3, 5, 0, 0, tzinfo=UTC)
CUSTODIES = ("custody-1", "custody-2", "custody-3", "custody-4")


def raw_query(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Read-only: a missing file is an error, never an empty database made in its place."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as raw:
        return raw.execute(sql).fetchall()


@pytest.fixture(
    params=[V2_DATABASE, V3_DATABASE, V4_DATABASE, V5_DATABASE],
    ids=["from-v2", "from-v3", "from-v4", "from-v5"],
)
def v2_copy(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A copy of an earlier release's database (version 2, then 3, 4 and 5)."""
    path = tmp_path / "wso.db"
    shutil.copyfile(request.param, path)
    return path


@pytest.fixture
async def migrated(v2_copy: Path) -> AsyncIterator[SqliteCustodyStore]:
    store = SqliteCustodyStore(v2_copy)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def test_the_committed_files_are_databases_of_versions_2_to_5() -> None:
    assert raw_query(V2_DATABASE, "SELECT version FROM schema_version") == [(2,)]
    columns = {row[1] for row in raw_query(V2_DATABASE, "PRAGMA table_info(notices)")}
    assert "target_kind" not in columns
    assert raw_query(V3_DATABASE, "SELECT version FROM schema_version") == [(3,)]
    custody_columns = {row[1] for row in raw_query(V3_DATABASE, "PRAGMA table_info(custodies)")}
    assert "disputed_at" not in custody_columns
    assert raw_query(V4_DATABASE, "SELECT version FROM schema_version") == [(4,)]
    custody_columns = {row[1] for row in raw_query(V4_DATABASE, "PRAGMA table_info(custodies)")}
    assert "disputed_at" in custody_columns
    assert "a_number" not in custody_columns
    assert "counting_rule_version" not in custody_columns
    assert raw_query(V5_DATABASE, "SELECT version FROM schema_version") == [(5,)]
    custody_columns = {row[1] for row in raw_query(V5_DATABASE, "PRAGMA table_info(custodies)")}
    assert "counting_rule_version" in custody_columns
    assert "a_number" not in custody_columns
    v5_tables = {row[0] for row in raw_query(V5_DATABASE, "SELECT name FROM sqlite_master")}
    assert "certification_reminders" not in v5_tables


async def test_the_custodies_table_is_rebuilt_with_its_indexes_and_foreign_key(
    v2_copy: Path, migrated: SqliteCustodyStore
) -> None:
    [(table_sql,)] = raw_query(
        v2_copy, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'custodies'"
    )
    assert "'igsa', 'voided'" in table_sql
    indexes = raw_query(
        v2_copy, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'custodies'"
    )
    assert {name for (name,) in indexes} >= {
        "custodies_one_open_per_booking",
        "custodies_by_booking",
        "custodies_open_by_deadline",
    }
    assert raw_query(v2_copy, "PRAGMA foreign_key_check") == []
    [reference] = raw_query(v2_copy, "PRAGMA foreign_key_list(notices)")
    assert reference[2] == "custodies"
    assert len(raw_query(v2_copy, "SELECT id FROM custodies")) == len(CUSTODIES)
    orphan = Notice("orphan", "no-such-custody", NoticeKind.NOTE, "C0FACILITY1", AFTER_V2)
    with pytest.raises(sqlite3.IntegrityError):
        await migrated.add_notices([orphan])


@pytest.mark.parametrize("state", [CustodyState.IGSA, CustodyState.VOIDED], ids=str)
async def test_a_migrated_database_closes_a_custody_in_the_new_states(
    migrated: SqliteCustodyStore, state: CustodyState
) -> None:
    closed = await migrated.close_custody(
        "custody-1",
        state=state,
        at=AFTER_V2,
        by="U0OFFICER1",
        reason="entered in error" if state is CustodyState.VOIDED else None,
        closing_notices=[],
        audit=AuditEntry(AFTER_V2, "U0OFFICER1", f"custody.{state.value}", "custody-1"),
    )
    assert closed.state is state
    assert (await migrated.get_custody("custody-1")) == closed


async def test_a_version_2_database_is_migrated_in_place(
    v2_copy: Path, migrated: SqliteCustodyStore
) -> None:
    assert SCHEMA_VERSION == 8
    assert raw_query(v2_copy, "SELECT version FROM schema_version") == [(8,)]
    stored = raw_query(v2_copy, "SELECT channel, target_kind FROM notices")
    assert len(stored) == 44
    assert all(kind == target_kind(str(channel)) for channel, kind in stored)
    # Every kind a version-2 bot could write (card and page updates came later).
    later = {TargetKind.CARD, TargetKind.PAGE_UPDATE}
    assert {kind for _, kind in stored} == set(TargetKind) - later


async def test_custodies_stored_before_counting_policies_read_as_elapsed_48h_v1(
    migrated: SqliteCustodyStore,
) -> None:
    """Every custody an earlier release stored was counted as 48 elapsed hours, v1."""
    custodies = [await migrated.get_custody(custody_id) for custody_id in CUSTODIES]
    assert [PolicyStamp.of(c) for c in custodies if c is not None] == [
        PolicyStamp(CountingRule.ELAPSED_48H, version=1, hours=48, holiday_region=None)
    ] * len(CUSTODIES)
    assert all(
        c is not None and c.deadline == c.arrested_at + timedelta(hours=48) for c in custodies
    )


async def test_notices_read_from_a_migrated_database_carry_their_target(
    migrated: SqliteCustodyStore,
) -> None:
    notices = [n for c in CUSTODIES for n in await migrated.notices_for(c)]
    assert all(n.target_kind is target_kind(n.channel) for n in notices)
    assert all(n.target.address == n.channel for n in notices)


async def test_a_migrated_database_keeps_working(migrated: SqliteCustodyStore) -> None:
    open_custodies = await migrated.list_open_custodies()
    assert [c.id for c in open_custodies] == ["custody-2", "custody-1"]
    closed = await migrated.get_custody("custody-4")
    assert closed is not None and closed.state is CustodyState.RELEASED
    assert closed.acknowledged_by == "U0ONCALL1"

    ready = await migrated.ready_notices(AFTER_V2, 100)
    assert {n.state for n in ready} == {NoticeState.PENDING}
    assert "custody-2-dm" in {n.id for n in ready}  # its retry time has come
    assert await migrated.mark_sending("custody-2-r4", AFTER_V2)
    await migrated.mark_sent("custody-2-r4", AFTER_V2, "1772700000.000100", "C0FACILITY1")

    custody = open_custodies[0]
    acknowledged = await migrated.acknowledge(
        custody.id,
        at=AFTER_V2,
        by="U0ONCALL1",
        cancel_step_ids=[],
        new_notices=[
            Notice("custody-2-ack", custody.id, NoticeKind.ACKNOWLEDGED, "C0FACILITY1", AFTER_V2)
        ],
        audit=AuditEntry(AFTER_V2, "U0ONCALL1", "custody.acknowledged", custody.id),
        expected_acknowledged_at=None,
    )
    assert acknowledged.acknowledged_at == AFTER_V2
    released = await migrated.close_custody(
        custody.id,
        state=CustodyState.RELEASED,
        at=AFTER_V2,
        by="U0OFFICER1",
        reason=None,
        closing_notices=[],
        audit=AuditEntry(AFTER_V2, "U0OFFICER1", "custody.released", custody.id),
    )
    assert released.state is CustodyState.RELEASED

    new = Custody(
        id="custody-5",
        facility_id="fac-1",
        booking="B-1001",  # custody-1's booking, open at fac-1: refused below
        arrested_at=AFTER_V2,
        deadline=AFTER_V2 + timedelta(hours=48),
        logged_by="U0OFFICER1",
        logged_at=AFTER_V2,
    )
    later = Notice("custody-5-r", new.id, NoticeKind.REMINDER, "webhook:0", AFTER_V2)
    audit = AuditEntry(AFTER_V2, "U0OFFICER1", "custody.logged", new.id)
    with pytest.raises(DuplicateOpenCustody):
        await migrated.add_custody(new, [later], audit)
    new = replace(new, booking="B-2000")
    await migrated.add_custody(new, [later], audit)
    [stored] = await migrated.notices_for(new.id)
    assert stored.target_kind is TargetKind.WEBHOOK

    trail = [entry.action for entry in await migrated.audit_trail("custody-2")]
    assert trail == ["custody.logged", "notice_sent", "custody.acknowledged", "custody.released"]
    assert [e.action for e in await migrated.audit_trail("custody-4")] == [
        "custody.logged",
        "custody.acknowledged",
        "custody.released",
    ]
    [override] = await migrated.oncall_overrides("sched-1", AFTER_V2)
    assert override.user_id == "U0COVER"


async def test_a_migrated_database_stores_an_a_number_and_reads_by_arrest_time(
    v2_copy: Path, migrated: SqliteCustodyStore
) -> None:
    assert "a_number" in {row[1] for row in raw_query(v2_copy, "PRAGMA table_info(custodies)")}
    assert all(c.a_number is None for c in await migrated.find_custodies("B-1001"))
    new = Custody(
        id="custody-6",
        facility_id="fac-2",
        booking="B-3000",
        arrested_at=AFTER_V2,
        deadline=AFTER_V2 + timedelta(hours=48),
        logged_by="U0OFFICER1",
        logged_at=AFTER_V2,
        a_number="A012345678",
    )
    await migrated.add_custody(new, [], AuditEntry(AFTER_V2, "U0OFFICER1", "x", new.id))
    assert (await migrated.get_custody(new.id)) == new
    [plan] = raw_query(
        v2_copy,
        "EXPLAIN QUERY PLAN SELECT * FROM custodies WHERE arrested_at >= '2026' ORDER BY "
        "arrested_at, id",
    )
    assert "custodies_by_arrest" in str(plan)


async def reopen(path: Path) -> None:
    store = SqliteCustodyStore(path)
    await store.open()
    await store.close()


async def test_a_current_database_opens_unchanged(v2_copy: Path) -> None:
    await reopen(v2_copy)  # migrated to the current version
    schema = raw_query(v2_copy, "SELECT type, name, sql FROM sqlite_master")
    notices = raw_query(v2_copy, "SELECT * FROM notices ORDER BY seq")

    await reopen(v2_copy)

    assert raw_query(v2_copy, "SELECT type, name, sql FROM sqlite_master") == schema
    assert raw_query(v2_copy, "SELECT * FROM notices ORDER BY seq") == notices
    assert raw_query(v2_copy, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]


async def test_a_database_newer_than_the_bot_is_refused_unchanged(v2_copy: Path) -> None:
    with closing(sqlite3.connect(v2_copy)) as raw:
        raw.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
        raw.commit()
    schema = raw_query(v2_copy, "SELECT type, name, sql FROM sqlite_master")
    store = SqliteCustodyStore(v2_copy)
    try:
        with pytest.raises(RuntimeError, match=f"version {SCHEMA_VERSION + 1} is newer"):
            await store.open()
    finally:
        await store.close()
    assert raw_query(v2_copy, "SELECT type, name, sql FROM sqlite_master") == schema
    assert raw_query(v2_copy, "SELECT version FROM schema_version") == [(SCHEMA_VERSION + 1,)]


# Every spelling the codec reads, and near misses that must not fool the SQL (case, prefixes).
ADDRESSES = (
    *("C0JAIL", "G0PRIVATE", "D0DIRECT", "U0PERSON", "W0ENTERPRISE", "u0lower", ""),
    *("pagerduty", "PagerDuty", "webhook:0", "webhook:12", "WEBHOOK:0", "webhook"),
    *("escalation", "ice_escalation", "Escalation"),
    *("backup:C0JAIL", "BACKUP:C0JAIL", "backup:U0PERSON", "backup_C0JAIL"),
    *("card:C0JAIL", "CARD:C0JAIL", "card_C0JAIL", "update:D0DIRECT", "Update:D0DIRECT"),
)


@pytest.mark.parametrize("address", ADDRESSES, ids=lambda address: address or "empty")
def test_the_sql_backfill_reads_each_address_as_the_codec_does(address: str) -> None:
    with closing(sqlite3.connect(":memory:")) as raw:
        raw.execute("CREATE TABLE notices (channel TEXT, target_kind TEXT)")
        raw.execute("INSERT INTO notices (channel) VALUES (?)", (address,))
        raw.execute(QUERIES["backfill_target_kind"])
        [(stored,)] = raw.execute("SELECT target_kind FROM notices").fetchall()
    assert stored == target_kind(address).value


async def test_a_migrated_database_keeps_certification_reminders(
    migrated: SqliteCustodyStore,
) -> None:
    reminder = CertificationReminder(
        "U0AAA", date(2027, 1, 15), "county-jail", "C0JAIL", AFTER_V2 + timedelta(days=1)
    )
    assert await migrated.certifications.add([reminder]) == [reminder]
    assert await migrated.certifications.add([reminder]) == []
    assert await migrated.certifications.planned() == {reminder.key}
    [record] = await migrated.certifications.unsent()
    assert record.reminder == reminder
