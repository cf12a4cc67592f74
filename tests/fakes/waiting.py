"""Waiting in tests: on a positive signal, never for a fixed while.

* ``wait_until(holds)``: until a condition holds (the fakes wake it on every call).
* ``eventually(read, holds, what)``: read (the store, ``/healthz``) until the value holds.
* ``settle(service)``: until the dispatcher has done all it will do at this instant of
  the fake clock. Only after that does "nothing was sent" prove anything: a fixed
  sleep proves only that the machine was fast enough this time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol, TypeVar

T = TypeVar("T")

# A test's patience: long enough for a loaded 2-core CI machine, short enough to fail fast.
PATIENCE = 5.0
POLL = 0.02


async def wait_until(
    holds: Callable[[], bool],
    *,
    what: str = "condition",
    timeout: float = PATIENCE,  # noqa: ASYNC109 - a test's patience, not an I/O budget
    changed: Callable[[], asyncio.Event] | None = None,
    describe: Callable[[], str] | None = None,
    poll: float = POLL,
) -> None:
    """Wait until ``holds()``: checked when ``changed()``'s event is set, and every ``poll`` s.

    ``changed`` returns the event the next change will set (a fake's "a call finished");
    ``describe`` adds what was seen to the failure.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        event = changed() if changed is not None else None
        if holds():
            return
        remaining = deadline - loop.time()
        if remaining <= 0:
            seen = f"\n{describe()}" if describe is not None else ""
            raise AssertionError(f"timed out after {timeout:.2f}s waiting for {what}{seen}")
        if event is None:
            await asyncio.sleep(min(remaining, poll))
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, poll))


async def eventually(
    read: Callable[[], Awaitable[T]],
    holds: Callable[[T], bool],
    what: str,
    timeout: float = PATIENCE,  # noqa: ASYNC109 - a test's patience, not an I/O budget
) -> T:
    """Read until ``holds(value)`` (a positive signal); return that value."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    while True:
        value = await read()
        if holds(value):
            return value
        if loop.time() > give_up:
            raise AssertionError(f"timed out waiting for {what}: last {value!r}")
        await asyncio.sleep(POLL)


class _Stats(Protocol):
    ticks: int
    sent: int
    skipped: int
    recovered: int
    failed_attempts: int
    tick_failures: int
    sender_failures: int


class _Dispatcher(Protocol):
    @property
    def stats(self) -> _Stats: ...

    @property
    def busy_targets(self) -> frozenset[str]: ...

    @property
    def is_running(self) -> bool: ...

    def wake(self) -> None: ...


class _Service(Protocol):
    @property
    def dispatcher(self) -> _Dispatcher: ...


def _has_read(dispatcher: _Dispatcher, ticks: int) -> Callable[[], bool]:
    return lambda: dispatcher.stats.ticks >= ticks


def _activity(stats: _Stats) -> tuple[int, ...]:
    return (
        stats.sent,
        stats.skipped,
        stats.recovered,
        stats.failed_attempts,
        stats.tick_failures,
        stats.sender_failures,
    )


async def settle(service: _Service, *, timeout: float = PATIENCE) -> None:  # noqa: ASYNC109
    """Wait until the dispatcher has nothing more to do at this instant of the fake clock.

    The signal: with no sender at work, the dispatcher read its queue twice, each read
    woken here after the one before had begun (``stats.ticks`` grew by two), so the
    second began after the first had handed out all it found; and in between nothing
    was sent, skipped, recovered or failed, and no sender started. What has not reached
    the fakes by then will not, until the clock moves or a request comes in.
    """
    dispatcher = service.dispatcher
    assert dispatcher.is_running, "settle() needs a running dispatcher"
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    while True:
        left = give_up - loop.time()
        await wait_until(
            lambda: not dispatcher.busy_targets, what="the senders to finish", timeout=left
        )
        before, ticks = _activity(dispatcher.stats), dispatcher.stats.ticks
        for reads in (ticks + 1, ticks + 2):
            dispatcher.wake()
            await wait_until(
                _has_read(dispatcher, reads),
                what="the dispatcher to read its queue",
                timeout=give_up - loop.time(),
                poll=0.002,
            )
        if not dispatcher.busy_targets and _activity(dispatcher.stats) == before:
            return


class _CertificationLoop(Protocol):
    @property
    def checked_at(self) -> datetime | None: ...

    @property
    def idle(self) -> bool: ...


async def settle_certifications(
    reminders: _CertificationLoop,
    now: datetime,
    *,
    timeout: float = PATIENCE,  # noqa: ASYNC109 - a test's patience, not an I/O budget
) -> None:
    """Wait until the certification reminders' loop has done a whole pass at ``now`` (the
    fake clock's time) and nothing has woken it since: what it had to post, it posted."""
    await wait_until(
        lambda: reminders.idle and reminders.checked_at == now,
        what=f"the certification reminders to look at {now.isoformat()}",
        timeout=timeout,
        describe=lambda: f"last pass at {reminders.checked_at}, idle: {reminders.idle}",
    )
