"""The delivery lane: the dispatcher's store calls go ahead of queued commands."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.model import AuditEntry
from storage.lanes import LaneLock, delivery_lane, in_delivery_lane
from storage.sqlite_store import SqliteCustodyStore

T0 = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)


async def _hold(lock: LaneLock, name: str, order: list[str], *, urgent: bool) -> None:
    if urgent:
        with delivery_lane():
            async with lock:
                order.append(name)
                await asyncio.sleep(0)
    else:
        async with lock:
            order.append(name)
            await asyncio.sleep(0)


async def test_delivery_waiters_are_served_before_routine_waiters_queued_earlier() -> None:
    lock = LaneLock()
    order: list[str] = []
    await lock.acquire()
    tasks = [asyncio.create_task(_hold(lock, f"r{i}", order, urgent=False)) for i in range(3)]
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(_hold(lock, f"u{i}", order, urgent=True)) for i in range(2)]
    await asyncio.sleep(0)
    lock.release()
    await asyncio.gather(*tasks)
    assert order == ["u0", "u1", "r0", "r1", "r2"]
    assert not lock.locked


async def test_a_waiter_cancelled_after_being_handed_the_lock_passes_it_on() -> None:
    lock = LaneLock()
    order: list[str] = []
    await lock.acquire()
    first = asyncio.create_task(_hold(lock, "first", order, urgent=False))
    second = asyncio.create_task(_hold(lock, "second", order, urgent=False))
    await asyncio.sleep(0)
    lock.release()  # handed to ``first`` ...
    first.cancel()  # ... which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    await second
    assert order == ["second"]
    assert not lock.locked


async def test_a_waiter_cancelled_while_queued_is_forgotten() -> None:
    lock = LaneLock()
    order: list[str] = []
    await lock.acquire()
    gone = asyncio.create_task(_hold(lock, "gone", order, urgent=True))
    await asyncio.sleep(0)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    lock.release()
    assert not lock.locked
    await _hold(lock, "next", order, urgent=False)
    assert order == ["next"]


async def test_releasing_an_unlocked_lane_lock_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        LaneLock().release()


async def test_tasks_started_in_the_delivery_lane_inherit_it() -> None:
    async def lane() -> bool:
        return in_delivery_lane()

    assert not await asyncio.create_task(lane())
    with delivery_lane():
        assert await asyncio.create_task(lane())
    assert not in_delivery_lane()


async def test_sqlite_store_serves_the_dispatcher_before_a_queue_of_commands(
    tmp_path: Path,
) -> None:
    """64 command transactions queued, then one dispatcher read: it waits for one, not 64."""
    store = SqliteCustodyStore(tmp_path / "lanes.db")
    await store.open()
    try:
        finished: list[str] = []

        async def command(number: int) -> None:
            await store.record_audit(AuditEntry(at=T0, actor="U0AAA", action=f"test.{number}"))
            finished.append(f"command {number}")

        async def dispatcher_read() -> None:
            with delivery_lane():
                await store.ready_notices(T0, 10)
            finished.append("dispatcher")

        commands = [asyncio.create_task(command(n)) for n in range(64)]
        await asyncio.sleep(0)  # all 64 are queued on the store's lock
        await asyncio.gather(dispatcher_read(), *commands)
        assert finished.index("dispatcher") <= 1
        assert len(finished) == 65
    finally:
        await store.close()


async def test_a_waiter_cancelled_just_before_a_release_passes_over_it_is_cancelled_cleanly() -> (
    None
):
    lock = LaneLock()
    order: list[str] = []
    await lock.acquire()
    cancelled = asyncio.create_task(_hold(lock, "cancelled", order, urgent=False))
    second = asyncio.create_task(_hold(lock, "second", order, urgent=False))
    await asyncio.sleep(0)  # both queued
    cancelled.cancel()  # its waiter is cancelled; its task has not run its handler yet
    lock.release()  # passes over the cancelled waiter and hands the lock to ``second``

    with pytest.raises(asyncio.CancelledError):  # not a ValueError from the queue
        await cancelled
    await second
    assert order == ["second"]
    assert not lock.locked
