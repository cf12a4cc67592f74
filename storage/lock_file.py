"""One process per SQLite database: an exclusive lock on a file beside it.

Two bots over one database would each take the other's in-flight notices for
a crash's leftovers and send them again, and together post at twice Slack's
rate. ``flock`` is used because the kernel drops it when its holder dies, so a
``kill -9`` never leaves a stale lock behind, and because two opens of the file
conflict even within one process. The file itself stays; its content (who
took the lock last) only words the refusal: the lock is what counts.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from datetime import datetime
from pathlib import Path

from storage.interface import DatabaseInUse, DatabaseUnusable


def lock_path_for(db_path: Path) -> Path:
    """``wso.db`` → ``wso.db.lock``, beside the real file (symlinks resolved)."""
    return db_path.with_name(db_path.name + ".lock")


class LockFile:
    """The held lock; ``release`` (or the process's death) frees it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, db_path: Path, started: datetime) -> LockFile:
        """Lock ``db_path``'s lock file and record who holds it; raise ``DatabaseInUse`` if held."""
        path = lock_path_for(db_path)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise DatabaseUnusable(
                f"cannot create the lock file {path} for the database {db_path}: "
                f"{error.strerror or error}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read_owner(fd)
            os.close(fd)
            raise DatabaseInUse(_in_use_message(db_path, path, owner)) from None
        except BaseException:
            os.close(fd)
            raise
        _write_owner(fd, started)
        return cls(path, fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the flock
            self._fd = None


def _write_owner(fd: int, started: datetime) -> None:
    owner = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": started.isoformat(timespec="seconds"),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(owner) + "\n").encode(), 0)


def _read_owner(fd: int) -> dict[str, object]:
    with contextlib.suppress(OSError, ValueError):
        owner = json.loads(os.pread(fd, 4096, 0) or b"{}")
        if isinstance(owner, dict):
            return owner
    return {}


def _in_use_message(db_path: Path, lock_path: Path, owner: dict[str, object]) -> str:
    pid = owner.get("pid", "unknown")
    host = owner.get("host", "unknown host")
    started = owner.get("started", "an unknown time")
    same_process = pid == os.getpid() and host == socket.gethostname()
    holder = f"pid {pid}" + (" (this process: another store has it open)" if same_process else "")
    return (
        f"the database {db_path} is in use by {holder} on {host}, started {started} "
        f"(it holds the lock file {lock_path}). Only one bot may use a database: two would "
        "each send every notice. Stop the other process first, or give this one another "
        "database file."
    )
