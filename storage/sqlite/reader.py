"""A read-only look at a database another process is writing (benchmarks, tools).

The store proper takes the file's lock, so a second process cannot open it while
the bot runs. ``DatabaseReader`` takes no lock, writes nothing, migrates nothing:
it opens the file read-only for each call (SQLite's WAL lets it read beside the
writer) and answers with the store's own queries and rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.core.audit_chain import StoredEvent
from bot.core.model import Custody, Notice, NoticeState
from storage.sqlite.audit_log import stored_event
from storage.sqlite.migrations import SCHEMA_VERSION
from storage.sqlite.queries import QUERIES, json_list
from storage.sqlite.rows import (
    custodies_from_rows,
    custody_from_row,
    notice_from_row,
    to_db_time,
)

# A writer holds the file briefly at each commit; wait for it rather than fail.
BUSY_TIMEOUT_SECONDS = 10.0
# Custodies read per query by exports: small enough to keep memory flat, large enough
# that 100k custodies are 100 queries.
EXPORT_PAGE_SIZE = 1000


class UnreadableDatabase(RuntimeError):
    """The file is missing, not a database of this bot, or of another schema version."""


@dataclass(frozen=True)
class FacilityRows:
    """How many rows a facility's custodies hold, table by table."""

    custodies: int
    notices: int
    audit_entries: int
    # The personal parts of those entries (notes, reasons, names), each a row of its own.
    audit_personal: int


class DatabaseReader:
    """Reads of one SQLite file of the current schema version, each in its own connection."""

    def __init__(self, path: Path | str) -> None:
        self._path = Path(path)
        self._uri = self._path.resolve().as_uri() + "?mode=ro"

    def schema_version(self) -> int:
        """The file's schema version; 0 for an empty file (no tables yet)."""
        with closing(sqlite3.connect(self._uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)) as db:
            if db.execute(QUERIES["table_exists"], ("schema_version",)).fetchone() is None:
                return 0
            row = db.execute(QUERIES["schema_version"]).fetchone()
            return 0 if row is None else int(row[0])

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            connection = sqlite3.connect(self._uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)
        except sqlite3.OperationalError as error:  # no such file: never created in its place
            raise UnreadableDatabase(f"cannot open the database {self._path}: {error}") from None
        connection.row_factory = sqlite3.Row
        try:
            version = self._version(connection)
            if version != SCHEMA_VERSION:
                what_to_do = (
                    "start `wso-bot serve` once to bring it up to date"
                    if version < SCHEMA_VERSION
                    else "it was written by a newer bot: use that one"
                )
                raise UnreadableDatabase(
                    f"the database {self._path} has schema version {version}; this bot "
                    f"reads version {SCHEMA_VERSION}: {what_to_do}"
                )
            yield connection
        finally:
            connection.close()

    def _version(self, connection: sqlite3.Connection) -> int:
        try:
            row = connection.execute(QUERIES["schema_version"]).fetchone()
        except sqlite3.DatabaseError as error:  # not a database, or not this bot's
            raise UnreadableDatabase(
                f"{self._path} is not a WSO Custody Clock database ({error})"
            ) from None
        return 0 if row is None else int(row[0])

    def _fetch_all(self, query: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        with self._connection() as connection:
            return connection.execute(QUERIES[query], params).fetchall()

    def count_unsent_due(self, now: datetime) -> int:
        """Notices due by ``now`` and not yet settled (pending or sending), of every kind."""
        [row] = self._fetch_all("count_unsent_due", (to_db_time(now),))
        return int(row["n"])

    def notices(self, states: Collection[NoticeState] = tuple(NoticeState)) -> list[Notice]:
        """Every notice in one of ``states`` (all by default), in the order stored."""
        rows = self._fetch_all("notices_by_state", (json_list(states),))
        return [notice_from_row(row) for row in rows]

    def audit_events(self) -> Iterator[StoredEvent]:
        """Every audit event in chain order, as stored (read one at a time, not all at once)."""
        with self._connection() as connection:
            for row in connection.execute(QUERIES["audit_events"]):
                yield stored_event(row)

    def custodies_arrested_between(
        self, start: datetime, end: datetime, page_size: int = EXPORT_PAGE_SIZE
    ) -> Iterator[Custody]:
        """Custodies arrested at or after ``start`` and before ``end``, by arrest time.

        Lazy, a page of ``page_size`` at a time, each page read in a connection of its
        own and started after the last custody of the one before: a running bot's
        writes are never held up by a long read, and nothing is kept between pages.
        """
        after: tuple[str, str] = ("", "")
        bounds = (to_db_time(start), to_db_time(end))
        while True:
            rows = self._fetch_all("custodies_by_arrest_page", (*bounds, *after, page_size))
            yield from custodies_from_rows(rows)
            if len(rows) < page_size:
                return
            after = (rows[-1]["arrested_at"], rows[-1]["id"])

    def custodies_of_facility(self, facility_id: str) -> list[Custody]:
        """Every custody logged at ``facility_id``, open or closed, oldest first."""
        rows = self._fetch_all("custodies_of_facility", (facility_id,))
        return [custody_from_row(row) for row in rows]

    def count_rows_of_facility(self, facility_id: str) -> FacilityRows:
        """Custodies logged at ``facility_id``, and the notices, audit entries and audit
        entries' personal parts stored for them."""
        [row] = self._fetch_all("count_rows_of_facility", (facility_id,))
        return FacilityRows(
            custodies=int(row["custodies"]),
            notices=int(row["notices"]),
            audit_entries=int(row["audit_entries"]),
            audit_personal=int(row["audit_personal"]),
        )
