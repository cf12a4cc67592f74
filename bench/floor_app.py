"""The floor: what Slack Bolt and SQLite alone can do for a signed ``/wso arrest``.

``python -m bench.floor_app --port N --db PATH`` (the signing secret in
``SLACK_SIGNING_SECRET``) serves ``POST /slack/events`` as the bot does: aiohttp,
Slack Bolt's ``AsyncApp`` mounted through its aiohttp adapter, Bolt's defaults
(signature check, the listener run as a task, its ack found by Bolt's poll). For
each ``/wso arrest <booking> …`` it writes one custody row and acks with a short
ephemeral text once the row is committed; nothing else: no config, no permission
check, no notices, no audit, no Slack calls. ``GET /healthz`` answers once it listens.

The database is the bot's kind of file (WAL, ``synchronous=FULL``: a custody acked is
on disk) and its writes are grouped as the bot's are (``storage.sqlite.arrests``):
the inserts that arrive while one transaction commits share the next one, one
statement and one fsync for them all.

A yardstick, not a part of the bot: it imports none of the bot's code, so that it
measures the same thing while the bot changes, and its few lines of SQL live here,
on its own table, rather than in ``storage/``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiosqlite
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult

# Inserts written together in one transaction at most (as the bot's ARREST_BATCH).
BATCH = 64
# The bot's answer starts so too: the load generator knows an arrest was logged by it.
LOGGED = ":white_check_mark: Logged WSO arrest"
USAGE = "Usage: `/wso arrest <booking>`, for example `/wso arrest B-1234`."
MAX_BOOKING = 64

# One custody row, as wide as the bot's and refused, as the bot's, for a booking open already.
SCHEMA = """
CREATE TABLE IF NOT EXISTS floor_custodies (
    id          TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL,
    booking     TEXT NOT NULL,
    warrant     TEXT,
    arrested_at TEXT NOT NULL,
    deadline    TEXT NOT NULL,
    logged_by   TEXT NOT NULL,
    logged_at   TEXT NOT NULL,
    state       TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS floor_one_open_per_booking
    ON floor_custodies (facility_id, booking) WHERE state = 'open';
"""
INSERT = "INSERT INTO floor_custodies VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')"
DEADLINE_SECONDS = 48 * 3600


@dataclass(eq=False)
class _Queued:
    row: tuple[Any, ...]
    outcome: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommit:
    """Inserts queued while a transaction commits go into the next one, together."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._lock = asyncio.Lock()
        self._queued: list[_Queued] = []

    async def insert(self, row: tuple[Any, ...]) -> None:
        """Return once ``row`` is committed; raise ``sqlite3.IntegrityError`` if refused."""
        queued = _Queued(row)
        self._queued.append(queued)
        async with self._lock:
            if not queued.outcome.done():
                batch = self._queued[:BATCH]
                del self._queued[:BATCH]
                await self._write(batch)
        await queued.outcome

    async def _write(self, batch: list[_Queued]) -> None:
        """Commit ``batch`` and settle each insert's outcome (errors go there too)."""
        try:
            await self._commit([queued.row for queued in batch])
        except sqlite3.Error as error:
            if len(batch) == 1:
                batch[0].outcome.set_exception(error)
                return
            for queued in batch:  # one refused row must not fail the others
                await self._write([queued])
            return
        except BaseException:  # cancelled: the others' callers, still queued, write them
            self._queued[:0] = [queued for queued in batch if not queued.outcome.done()]
            raise
        for queued in batch:
            queued.outcome.set_result(None)

    async def _commit(self, rows: list[tuple[Any, ...]]) -> None:
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            await self._db.executemany(INSERT, rows)
            await self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                await self._db.execute("ROLLBACK")
            raise


async def open_database(path: str) -> aiosqlite.Connection:
    db = await aiosqlite.connect(path, isolation_level=None)
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=FULL")
    await db.execute("PRAGMA busy_timeout=5000")
    await db.executescript(SCHEMA)
    return db


def _db_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def custody_row(command: dict[str, Any], booking: str, warrant: str | None) -> tuple[Any, ...]:
    """The row of an arrest logged now, arrested now (the bot's default)."""
    now = time.time()
    return (
        uuid.uuid4().hex,
        str(command.get("channel_id") or ""),
        booking,
        warrant,
        _db_time(now),
        _db_time(now + DEADLINE_SECONDS),
        str(command.get("user_id") or ""),
        _db_time(now),
    )


def parse_arrest(text: str) -> tuple[str, str | None] | None:
    """(booking, warrant) of ``arrest <booking> [<warrant>] …``; None when it is not one."""
    words = text.split()
    if len(words) < 2 or words[0].lower() != "arrest" or len(words[1]) > MAX_BOOKING:
        return None
    return words[1], words[2] if len(words) > 2 else None


def build_bolt_app(signing_secret: str, writes: GroupCommit) -> AsyncApp:
    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        # As the bot's cached authorization: no Slack call on the way to an answer.
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token="xoxb-")

    app = AsyncApp(signing_secret=signing_secret, authorize=authorize)

    @app.command("/wso")
    async def on_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        arrest = parse_arrest(str(command.get("text") or ""))
        if arrest is None:
            await ack(text=f"The floor logs arrests only. {USAGE}", response_type="ephemeral")
            return
        booking, warrant = arrest
        try:
            await writes.insert(custody_row(command, booking, warrant))
        except sqlite3.IntegrityError:
            await ack(
                text="That booking is already open here: nothing logged.",
                response_type="ephemeral",
            )
            return
        await ack(text=f"{LOGGED} (floor).", response_type="ephemeral")

    return app


def build_web_app(bolt_app: AsyncApp) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(
            await bolt_app.async_dispatch(await to_bolt_request(request))
        )

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/slack/events", slack_events)
    app.router.add_get("/healthz", healthz)
    return app


@contextlib.asynccontextmanager
async def running_floor(
    host: str, port: int, db_path: str, signing_secret: str
) -> AsyncIterator[int]:
    """The floor listening on ``host:port`` (0: any free port) while inside; its port."""
    db = await open_database(db_path)
    runner = web.AppRunner(
        build_web_app(build_bolt_app(signing_secret, GroupCommit(db))), access_log=None
    )
    try:
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        yield int(sockets[0].getsockname()[1]) if sockets else port
    finally:
        await runner.cleanup()
        await db.close()


async def serve(host: str, port: int, db_path: str, signing_secret: str) -> None:
    """Serve until SIGTERM or SIGINT; ``PORT <n>`` on stdout once listening."""
    async with running_floor(host, port, db_path, signing_secret) as bound:
        print(f"PORT {bound}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor_app", description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="0: any free port")
    parser.add_argument("--db", required=True, help="the SQLite file (created if missing)")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    secret = os.environ.get("SLACK_SIGNING_SECRET")
    if not secret:
        parser.error("set SLACK_SIGNING_SECRET: the floor checks every request's signature")
    asyncio.run(serve(args.host, args.port, args.db, secret))
    return 0


if __name__ == "__main__":
    sys.exit(main())
