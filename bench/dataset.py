"""Databases for the benchmarks, written through the store's own methods.

``BulkStore`` is ``SqliteCustodyStore`` with one change: inside ``bulk()``
its methods run in one enclosing transaction instead of one each, so adding
100k custodies costs one commit per batch rather than one fsync per custody.
The SQL is the store's: ``add_custody`` is called as it is.

Notices are planned by the bot's own ``plan_logged_custody``, as if each
arrest had been logged at its arrest time; the notices due before the
benchmark's "now" are stored as already ``sent`` (a bot that ran until then
sent them), the rest ``pending``.
"""

from __future__ import annotations

import atexit
import contextlib
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from bench.common import OFFICER, facilities_toml, facility_ids, load_config
from bot.core.custody import custody_deadline
from bot.core.custody_plan import plan_logged_custody
from bot.core.model import CUSTODY_WINDOW, AuditEntry, Custody, Notice, NoticeState
from storage.sqlite_store import SqliteCustodyStore


class _SyncCursor:
    """The part of an aiosqlite cursor the store uses, over a plain sqlite3 cursor."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()


class _SyncConnection:
    """The part of an aiosqlite connection the store uses, run in this thread.

    aiosqlite hands every statement to a worker thread and back; for a bulk
    build that hand-off costs more than the SQL, so the builder skips it.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, parameters: Any = ()) -> _SyncCursor:
        return _SyncCursor(self._connection.execute(sql, parameters))

    async def executemany(self, sql: str, parameters: Any) -> _SyncCursor:
        return _SyncCursor(self._connection.executemany(sql, parameters))

    async def close(self) -> None:
        self._connection.close()


class BulkStore(SqliteCustodyStore):
    """The SQLite store for building data sets: the store's own SQL, batched.

    ``open`` lets the store create or migrate the schema as usual, then swaps
    its connection for one that runs statements in this thread; inside
    ``bulk()`` the store's methods share one enclosing transaction.
    """

    _bulk = False

    async def open(self) -> None:
        await super().open()
        await super().close()
        connection = sqlite3.connect(self._path, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA cache_size = -1000000")  # building only
        self._db = _SyncConnection(connection)  # type: ignore[assignment]

    @contextlib.asynccontextmanager
    async def _open_transaction(self, what: str = "write") -> AsyncIterator[aiosqlite.Connection]:
        if self._bulk:
            yield self._conn
            return
        async with super()._open_transaction(what) as db:
            yield db

    @contextlib.asynccontextmanager
    async def bulk(self) -> AsyncIterator[None]:
        await self._conn.execute("BEGIN IMMEDIATE")
        self._bulk = True
        try:
            yield
        except BaseException:
            self._bulk = False
            await self._conn.execute("ROLLBACK")
            raise
        self._bulk = False
        await self._conn.execute("COMMIT")


def new_custody(facility_id: str, booking: str, arrested_at: datetime) -> Custody:
    return Custody(
        id="c_" + random.randbytes(16).hex(),
        facility_id=facility_id,
        booking=booking,
        arrested_at=arrested_at,
        deadline=custody_deadline(arrested_at),
        logged_by=OFFICER,
        logged_at=arrested_at,
    )


def audit_for(custody: Custody) -> AuditEntry:
    return AuditEntry(
        at=custody.logged_at,
        actor=OFFICER,
        action="arrest_logged",
        custody_id=custody.id,
        detail={"deadline": custody.deadline.isoformat(), "bench": True},
    )


def planned(
    custody: Custody,
    config: Any,
    sent_before: datetime,
    keep: Callable[[Notice], bool] | None = None,
) -> list[Notice]:
    """The custody's notices as logged at its arrest; those due before ``sent_before`` sent."""
    facility = config.facility(custody.facility_id)
    out = []
    for notice in plan_logged_custody(custody, facility, config, custody.logged_at):
        if keep is not None and not keep(notice):
            continue
        if notice.due_at < sent_before:
            notice = replace(notice, state=NoticeState.SENT, attempts=1)
        out.append(notice)
    return out


async def add_custodies(
    db: Path, custodies: list[tuple[Custody, list[Notice]]], batch: int = 2000
) -> None:
    store = BulkStore(db)
    await store.open()
    try:
        for start in range(0, len(custodies), batch):
            async with store.bulk():
                for custody, notices in custodies[start : start + batch]:
                    await store.add_custody(custody, notices, audit_for(custody))
    finally:
        await store.close()


# --- the 100k template (B2, B5) --------------------------------------------------------

# 50 facilities (Slack allows about one post per second per channel, and the bot keeps to
# that: one facility could not take 100k custodies' notices). Default reminders, jail and
# ICE notices in one shared channel per facility: 7 notices per custody, about 5 of them
# pending for a custody of uniformly random age (~500k for 100k). One escalation level,
# a sergeant per facility.
TEMPLATE_FACILITIES = 50
TEMPLATE_TOML = facilities_toml(
    TEMPLATE_FACILITIES, shared_channel=True, escalation=[("U0SGT{n}", "0s")]
)
TEMPLATE_QUIET = timedelta(hours=2)  # no template notice falls due this soon after it is built
TEMPLATE_MAX_AGE = 3600.0
TEMPLATE_BATCH = 2000

_templates: dict[int, tuple[Path, float, float]] = {}  # size -> (path, built at, build seconds)
_template_dir: Path | None = None


def _cleanup_templates() -> None:
    if _template_dir is not None:
        shutil.rmtree(_template_dir, ignore_errors=True)


async def template(size: int) -> tuple[Path, float]:
    """A closed database of ``size`` open custodies (cached for an hour); (path, build s)."""
    global _template_dir
    cached = _templates.get(size)
    if cached is not None and time.time() - cached[1] < TEMPLATE_MAX_AGE:
        return cached[0], cached[2]
    if _template_dir is None:
        _template_dir = Path(tempfile.mkdtemp(prefix="wso-bench-template-"))
        atexit.register(_cleanup_templates)
    config_path = _template_dir / "template.toml"
    config_path.write_text(TEMPLATE_TOML)
    config = load_config(config_path)
    path = _template_dir / f"template-{size}.db"
    path.unlink(missing_ok=True)
    started = time.monotonic()
    built_at = time.time()
    now = datetime.now(UTC)
    quiet_until = now + TEMPLATE_QUIET
    rng = random.Random(size)
    span = (CUSTODY_WINDOW - TEMPLATE_QUIET - timedelta(minutes=1)).total_seconds()

    facilities = facility_ids(TEMPLATE_FACILITIES)

    def plan_batch(first: int, count: int) -> list[tuple[Custody, list[Notice]]]:
        out = []
        for index in range(first, min(first + count, size)):
            # Deadlines spread over (now + 2h, now + 48h): every custody still open.
            arrested_at = now - timedelta(seconds=rng.uniform(0, span))
            custody = new_custody(facilities[index % len(facilities)], f"T{index}", arrested_at)
            # Sent before now; none at all in the quiet stretch (a notice stored as sent
            # before its due time would look lost), pending after it.
            notices = planned(
                custody,
                config,
                sent_before=now,
                keep=lambda n: not now <= n.due_at < quiet_until,
            )
            out.append((custody, notices))
        return out

    store = BulkStore(path)
    await store.open()
    try:
        for first in range(0, size, TEMPLATE_BATCH):
            batch = plan_batch(first, TEMPLATE_BATCH)
            async with store.bulk():
                for custody, notices in batch:
                    await store.add_custody(custody, notices, audit_for(custody))
    finally:
        await store.close()
    seconds = time.monotonic() - started
    _templates[size] = (path, built_at, seconds)
    return path, seconds


def copy_db(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
