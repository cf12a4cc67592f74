"""The SQLite schema's versions, and the steps that bring an older database up to date.

``schema.sql`` is the current schema (``CREATE … IF NOT EXISTS``): it creates a new
database whole and adds the tables and indexes an older one lacks. What it cannot do,
change a table that exists, each version's step does, in place, before it runs; all in
the one transaction of ``migrate``, so a database is at one version or the next.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import aiosqlite

from bot.core import audit
from storage.sqlite.audit_log import append_events, chain_legacy_events
from storage.sqlite.queries import QUERIES, SCHEMA_STATEMENTS

SCHEMA_VERSION = 8


async def _add_columns(db: aiosqlite.Connection, table: str, columns: dict[str, str]) -> None:
    """Add the columns ``table`` lacks (a database may have some already)."""
    cursor = await db.execute(f"PRAGMA table_info({table})")
    existing = {row["name"] for row in await cursor.fetchall()}
    for column, declaration in columns.items():
        if column not in existing:
            await db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


async def _to_version_2(db: aiosqlite.Connection) -> None:
    """Acknowledgements, coverage warnings and escalation pages (overrides: schema.sql)."""
    await _add_columns(
        db,
        "custodies",
        {"acknowledged_at": "TEXT", "acknowledged_by": "TEXT", "coverage_warning": "TEXT"},
    )
    await _add_columns(
        db,
        "notices",
        {"level": "INTEGER", "round": "INTEGER", "message_channel": "TEXT", "detail": "TEXT"},
    )


async def _to_version_3(db: aiosqlite.Connection) -> None:
    """Each notice's target kind as a column, filled for the notices already stored."""
    await _add_columns(db, "notices", {"target_kind": "TEXT"})
    await db.execute(QUERIES["backfill_target_kind"])


async def _to_version_4(db: aiosqlite.Connection) -> None:
    """Custodies rebuilt in place: the state CHECK admits igsa and voided; new columns.

    SQLite cannot change a CHECK, so the table is copied aside, dropped, created from
    ``schema.sql`` and filled again. The notices' foreign key is deferred meanwhile: the
    drop orphans them for a moment, the refill gives each its custody back, and the
    commit checks that none is left without one. The indexes come back with ``schema.sql``.
    """
    cursor = await db.execute("PRAGMA table_info(custodies)")
    columns = ", ".join(row["name"] for row in await cursor.fetchall())
    await db.execute("PRAGMA defer_foreign_keys = ON")
    await db.execute("CREATE TEMP TABLE custodies_before_v4 AS SELECT * FROM custodies")
    await db.execute("DROP TABLE custodies")
    await db.execute(_create_statement("custodies"))
    await db.execute(
        f"INSERT INTO custodies ({columns}) SELECT {columns} FROM temp.custodies_before_v4"
    )
    await db.execute("DROP TABLE temp.custodies_before_v4")


async def _to_version_5(db: aiosqlite.Connection) -> None:
    """Each custody records the whole counting rule: its version, hours and holidays.

    Custodies stored before were all counted as 48 elapsed hours by the first version of
    ``elapsed-48h``: the defaults say so. (From version 3, ``_to_version_4`` has already
    created the columns with the table.)
    """
    await _add_columns(
        db,
        "custodies",
        {
            "counting_rule_version": "INTEGER NOT NULL DEFAULT 1",
            "counting_hours": "INTEGER NOT NULL DEFAULT 48",
            "holiday_region": "TEXT",
        },
    )


async def _to_version_6(db: aiosqlite.Connection) -> None:
    """The optional A-number of a custody (``A`` and 9 digits); none for the custodies stored."""
    await _add_columns(db, "custodies", {"a_number": "TEXT"})


async def _to_version_7(db: aiosqlite.Connection) -> None:
    """The ledger of officers' certification reminders (the officer roster), a new table."""
    await db.execute(_create_statement("certification_reminders"))


async def _to_version_8(db: aiosqlite.Connection) -> None:
    """The audit log becomes a hash chain (``bot.core.audit_chain``).

    Its new columns and ``audit_personal`` are added; the events already stored are
    chained in order, once (their personal values move apart); and the migration itself
    is appended as an event, stamped with the wall-clock time it ran. Runs before
    ``schema.sql`` creates the triggers that forbid changing an audit row.
    """
    await _add_columns(
        db,
        "audit_log",
        {
            "source": "TEXT",
            "facility_id": "TEXT",
            "request_id": "TEXT",
            "values_before": "TEXT NOT NULL DEFAULT '{}'",
            "values_after": "TEXT NOT NULL DEFAULT '{}'",
            "personal_digest": "TEXT",
            "prev_hash": "TEXT",
            "hash": "TEXT",
        },
    )
    await db.execute(_create_statement("audit_personal"))
    chained = await chain_legacy_events(db)
    started = audit.audit_chain_started(datetime.now(UTC), await schema_version(db), 8, chained)
    await append_events(db, [started])


def _create_statement(table: str) -> str:
    """The ``CREATE TABLE`` statement of ``table`` in ``schema.sql``."""
    head = f"CREATE TABLE IF NOT EXISTS {table} ("
    return next(s for s in SCHEMA_STATEMENTS if _without_comments(s).startswith(head))


def _without_comments(statement: str) -> str:
    """A statement of ``schema.sql`` without the comment lines before and in it."""
    lines = (line for line in statement.splitlines() if not line.lstrip().startswith("--"))
    return "\n".join(lines).strip()


# The step that brings a database of the version before to each version.
_STEPS: dict[int, Callable[[aiosqlite.Connection], Awaitable[None]]] = {
    2: _to_version_2,
    3: _to_version_3,
    4: _to_version_4,
    5: _to_version_5,
    6: _to_version_6,
    7: _to_version_7,
    8: _to_version_8,
}


class SchemaTooNew(RuntimeError):
    """The database was written by a newer bot: this one must not touch it."""


async def schema_version(db: aiosqlite.Connection) -> int:
    """The database's schema version; 0 for a new (empty) database."""
    cursor = await db.execute(QUERIES["table_exists"], ("schema_version",))
    if await cursor.fetchone() is None:
        return 0
    cursor = await db.execute(QUERIES["schema_version"])
    row = await cursor.fetchone()
    return 0 if row is None else int(row["version"])


async def migrate(db: aiosqlite.Connection) -> None:
    """Bring the database to ``SCHEMA_VERSION``, inside the caller's transaction.

    Raises ``SchemaTooNew`` (changing nothing) for a database of a later version.
    """
    version = await schema_version(db)
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"database schema version {version} is newer than this bot "
            f"({SCHEMA_VERSION}); upgrade the bot"
        )
    if version > 0:
        for step_version in range(version + 1, SCHEMA_VERSION + 1):
            await _STEPS[step_version](db)
    for statement in SCHEMA_STATEMENTS:
        await db.execute(statement)
    await db.execute(QUERIES["clear_schema_version"])
    await db.execute(QUERIES["insert_schema_version"], (SCHEMA_VERSION,))
