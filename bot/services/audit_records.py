"""``wso-bot audit verify`` and ``wso-bot audit export``: the audit chain read from the file.

Both read the database read-only, beside a running bot (``storage.sqlite.DatabaseReader``
takes no lock), one event at a time. ``verify`` walks the chain with
``bot.core.audit_chain.verify_chain``; ``export`` writes it as JSON Lines that an
outside party can verify without the bot (README, "Audit chain", has the snippet).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.core.audit_chain import StoredEvent, canonical, verify_chain
from storage.sqlite import SCHEMA_VERSION, DatabaseReader

# Exit codes: the chain holds (or there is nothing to check), it is broken, or it
# could not be read (no file, an older or newer schema, not a database).
EXIT_INTACT = 0
EXIT_BROKEN = 1
EXIT_UNREADABLE = 2


@dataclass(frozen=True)
class Finding:
    """What to tell the operator, and the exit code that goes with it."""

    exit_code: int
    message: str


class Unreadable(Exception):
    """The database cannot be read as a chain; the message says why and what to do."""


def _reader(path: Path) -> DatabaseReader | None:
    """A reader of the file, or None when it is empty; raises ``Unreadable``."""
    if not path.is_file():
        raise Unreadable(f"no database at {path}: give its path with --db, or set WSO_DB")
    reader = DatabaseReader(path)
    try:
        version = reader.schema_version()
    except sqlite3.DatabaseError as error:
        raise Unreadable(f"cannot read {path}: {error}") from None
    if version == 0:
        return None
    if version < SCHEMA_VERSION:
        raise Unreadable(
            f"{path} is at schema version {version}; its audit chain begins when this "
            f"release (schema version {SCHEMA_VERSION}) first opens it: start wso-bot serve "
            "on it once, then verify again"
        )
    if version > SCHEMA_VERSION:
        raise Unreadable(f"{path} was written by a newer bot (schema version {version})")
    return reader


def verify_file(path: Path) -> Finding:
    """Walk the chain of the database at ``path`` and say whether it holds."""
    try:
        reader = _reader(path)
    except Unreadable as problem:
        return Finding(EXIT_UNREADABLE, str(problem))
    report = verify_chain(reader.audit_events() if reader is not None else ())
    if report.problem is not None:
        good = f"events 1-{report.count} verify" if report.count else "no event before it does"
        return Finding(
            EXIT_BROKEN,
            f"audit chain BROKEN at event {report.broken_seq}: {report.problem}. "
            f"({good}; the last good hash is {report.tip})",
        )
    if report.count == 0:
        return Finding(EXIT_INTACT, f"{path}: the audit log is empty; there is nothing to verify")
    return Finding(
        EXIT_INTACT,
        f"audit chain intact: {report.count} events; the last hash is {report.tip} "
        "(keep it elsewhere: a later verify that reaches it shows nothing before it changed)",
    )


def export_line(event: StoredEvent, *, with_personal: bool) -> str:
    """One event as a line of the export: its body, its hashes, its personal part and salt
    (null unless ``with_personal``, or after a purge)."""
    keep = with_personal and event.personal is not None
    line = {
        **event.body,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "personal": event.personal if keep else None,
        "salt": event.salt if keep else None,
    }
    return canonical(line)


def export_file(path: Path, out: TextIO, *, with_personal: bool = False) -> Finding:
    """Write the chain of the database at ``path`` to ``out``, one event per line."""
    try:
        reader = _reader(path)
    except Unreadable as problem:
        return Finding(EXIT_UNREADABLE, str(problem))
    count = 0
    for event in reader.audit_events() if reader is not None else ():
        out.write(export_line(event, with_personal=with_personal) + "\n")
        count += 1
    personal = "with" if with_personal else "without"
    return Finding(EXIT_INTACT, f"exported {count} audit events ({personal} personal parts)")
