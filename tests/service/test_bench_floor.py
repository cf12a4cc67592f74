"""The benchmarks' floor (bench/floor_app.py) over signed HTTP: a yardstick that must be right.

B1 and B9 measure the bot against it, so it must do what it claims: check the
signature, store one custody per arrest before it acks, answer in the bot's words,
and keep arrests sent together apart when one of them is refused.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.arrest_load import OK_PREFIX
from bench.floor_app import running_floor
from tests.fakes.signed_requests import SignedSlackClient

SECRET = "floor-secret"


@pytest.fixture
async def floor(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    db = tmp_path / "floor.db"
    async with running_floor("127.0.0.1", 0, str(db), SECRET) as port:
        yield f"http://127.0.0.1:{port}", db


def stored_bookings(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT booking FROM floor_custodies ORDER BY booking")
        return [booking for (booking,) in rows]


async def test_a_signed_arrest_is_stored_durably_before_its_ack(
    floor: tuple[str, Path],
) -> None:
    url, db = floor
    async with SignedSlackClient(url, SECRET) as slack:
        reply = await slack.command("arrest B-1 I-200", user_id="U1", channel_id="C1")

    assert reply.status == 200
    assert reply.text.startswith(OK_PREFIX)
    assert reply.json["response_type"] == "ephemeral"
    assert stored_bookings(db) == ["B-1"]
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_arrests_sent_together_are_each_answered_and_a_duplicate_is_refused_alone(
    floor: tuple[str, Path],
) -> None:
    url, db = floor
    bookings = [f"B-{n}" for n in range(12)] + ["B-3"]
    async with SignedSlackClient(url, SECRET) as slack:
        replies = await asyncio.gather(
            *(slack.command(f"arrest {b}", user_id="U1", channel_id="C1") for b in bookings)
        )

    logged = [r for r in replies if r.text.startswith(OK_PREFIX)]
    refused = [r for r in replies if "already open" in r.text]
    assert (len(logged), len(refused)) == (12, 1)
    assert stored_bookings(db) == sorted(set(bookings))


async def test_anything_but_an_arrest_gets_the_usage_and_stores_nothing(
    floor: tuple[str, Path],
) -> None:
    url, db = floor
    async with SignedSlackClient(url, SECRET) as slack:
        replies = [
            await slack.command(text, user_id="U1", channel_id="C1") for text in ("arrest", "list")
        ]

    assert all("`/wso arrest B-1234`" in reply.text for reply in replies)
    assert stored_bookings(db) == []


async def test_a_request_signed_with_another_secret_is_refused(floor: tuple[str, Path]) -> None:
    url, db = floor
    async with SignedSlackClient(url, "not-the-secret") as slack:
        reply = await slack.command("arrest B-1", user_id="U1", channel_id="C1")

    assert reply.status == 401
    assert stored_bookings(db) == []
