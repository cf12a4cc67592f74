"""Ids for custodies and notices: unique, and increasing with time.

32 hex digits, like a uuid4's, but clock first (as in UUIDv7): milliseconds
since the epoch (12 digits), a random number drawn once per process (12), and
a per-process counter (8). New rows then land at the end of the database's
indexes instead of all over them, which keeps an arrest's insert cheap as the
database grows. Nothing parses these ids; only their uniqueness matters.
"""

from __future__ import annotations

import itertools
import secrets
import time

_PROCESS = secrets.token_hex(6)
_COUNTER = itertools.count(secrets.randbelow(1 << 32))


def time_ordered_hex() -> str:
    milliseconds = time.time_ns() // 1_000_000
    return f"{milliseconds & 0xFFFFFFFFFFFF:012x}{_PROCESS}{next(_COUNTER) & 0xFFFFFFFF:08x}"
