"""Real damage to a real SQLite file, the way a bad disk or a stray write does it.

Use on a closed database (its WAL folded in), never while a store has it open.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

# Read by every dispatcher tick: damage here makes each tick fail.
DISPATCHER_INDEX = "notices_pending_by_ready_channel"
# Read by nothing at start-up or in a tick: only an integrity check notices damage here.
AUDIT_INDEX = "audit_by_custody"


def corrupt_index_page(path: Path, index: str) -> None:
    """Overwrite the root page of ``index`` (the whole index, when it is small) with garbage."""
    with closing(sqlite3.connect(path)) as raw:
        [(page_size,)] = raw.execute("PRAGMA page_size").fetchall()
        [(root,)] = raw.execute(
            "SELECT rootpage FROM sqlite_master WHERE type = 'index' AND name = ?", (index,)
        ).fetchall()
    with path.open("r+b") as file:
        file.seek((root - 1) * page_size)  # pages are numbered from 1
        file.write(b"\xff" * page_size)


def corrupt_header(path: Path) -> None:
    """Overwrite the 100-byte file header (magic string, page size, counters)."""
    with path.open("r+b") as file:
        file.write(b"not the header SQLite wrote ".ljust(100, b"#"))
