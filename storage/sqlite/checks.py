"""What the SQLite store checks about its files: integrity, and that they are still there.

``IntegrityCheck`` runs ``PRAGMA quick_check`` on a read-only connection of
its own, in a worker thread, so that a large database can be checked while
the bot already works (see ``SqliteCustodyStore.open``). ``LinkedFiles``
notices the database or its WAL being deleted or replaced under the running
store: SQLite keeps writing to the open, unlinked file, so records confirmed
to officers would vanish at the next stop or crash.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

# Problems quick_check lists at most; the first is enough to word the refusal.
MAX_PROBLEMS = 10


def damaged_message(db_path: Path, problem: str) -> str:
    """The refusal (and health error) for a corrupt database: what was found, what to do."""
    return (
        f"the database {db_path} is damaged: {problem}. With the bot stopped, restore "
        f"{db_path.name} from a backup (move {db_path.name}, {db_path.name}-wal and "
        f"{db_path.name}-shm aside together first). To list every problem: "
        f"sqlite3 {db_path} 'PRAGMA integrity_check'"
    )


def describe_problems(problems: list[str]) -> str:
    first = " ".join(problems[0].replace("*** in database main ***", "").split())
    more = len(problems) - 1
    return f"PRAGMA quick_check found {first!r}" + (f" and {more} more" if more else "")


class IntegrityCheck:
    """One ``PRAGMA quick_check``, run by ``run`` in a worker thread; ``stop`` interrupts it."""

    def __init__(self, db_path: Path) -> None:
        self._uri = db_path.as_uri() + "?mode=ro"
        self._mutex = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._stopped = False

    def run(self) -> list[str] | None:
        """The problems found ([] if none), or None if stopped before it finished."""
        connection = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
        try:
            with self._mutex:
                if self._stopped:
                    return None
                self._connection = connection
            rows = connection.execute(f"PRAGMA quick_check({MAX_PROBLEMS})").fetchall()
        except sqlite3.OperationalError:
            if self._stopped:
                return None  # interrupted by stop()
            raise
        except sqlite3.DatabaseError as error:  # not a database at all, or unreadable
            return [str(error)]
        finally:
            with self._mutex:
                self._connection = None
            connection.close()
        problems = [str(row[0]) for row in rows]
        return [] if problems == ["ok"] else problems

    def stop(self) -> None:
        """Interrupt a check in progress (safe from any thread)."""
        with self._mutex:
            self._stopped = True
            if self._connection is not None:
                self._connection.interrupt()


def unlinked_advice(path: Path) -> str:
    """What to do when ``path`` (the database or its WAL) was deleted or replaced."""
    if path.name.endswith("-wal"):
        database = path.name.removesuffix("-wal")
        return (
            "records not yet copied into the database are only in the deleted file and are "
            "lost at a crash. Stop the bot with SIGTERM, not kill -9: a clean stop writes "
            f"them into {database}; then start it again"
        )
    return (
        "what the bot records now goes to the deleted file, not to the one at this path, "
        f"and is lost when the bot stops. Stop the bot, put back {path.name} (from a "
        "backup), then start it again"
    )


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return (status.st_dev, status.st_ino)


class LinkedFiles:
    """The database and WAL files as opened; ``changed`` names one no longer at its path."""

    def __init__(self, db_path: Path) -> None:
        self._paths = (db_path, db_path.with_name(db_path.name + "-wal"))
        self._opened = {path: _identity(path) for path in self._paths}

    def changed(self) -> tuple[Path, str] | None:
        """(file, "deleted" or "replaced") for the first file changed since opening, or None."""
        for path, opened in self._opened.items():
            if opened is None:
                continue  # was not there when opened (no WAL yet): nothing to compare
            now = _identity(path)
            if now != opened:
                return path, "deleted" if now is None else "replaced"
        return None
