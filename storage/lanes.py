"""Two lanes to the database: delivery ahead of commands.

A store with one connection (SQLite) serialises its callers. Under a burst of
commands, a due notice would otherwise wait behind every queued command
transaction for each of its reads and marks, and go out late. The dispatcher
runs its work inside ``delivery_lane()``; a store that queues callers serves
that lane first. Stores with a connection pool may ignore the lane.

The lane is a context variable, so tasks the dispatcher starts inherit it.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

_IN_DELIVERY_LANE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "wso_delivery_lane", default=False
)


@contextmanager
def delivery_lane() -> Iterator[None]:
    """Store calls made in this context (and tasks started in it) go first."""
    token = _IN_DELIVERY_LANE.set(True)
    try:
        yield
    finally:
        _IN_DELIVERY_LANE.reset(token)


def in_delivery_lane() -> bool:
    return _IN_DELIVERY_LANE.get()


class LaneLock:
    """An asyncio lock whose waiters in the delivery lane are served before the others.

    Within a lane, waiters are served first come, first served. A waiter that is
    cancelled after being handed the lock passes it on.
    """

    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._routine: deque[asyncio.Future[None]] = deque()

    @property
    def locked(self) -> bool:
        return self._held

    async def acquire(self) -> None:
        if not self._held and not self._urgent and not self._routine:
            self._held = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._urgent if in_delivery_lane() else self._routine
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed the lock, but not going to use it
            elif waiter in queue:  # a release() may have passed over it, cancelled, already
                queue.remove(waiter)
            raise

    def release(self) -> None:
        if not self._held:
            raise RuntimeError("release of an unlocked LaneLock")
        for queue in (self._urgent, self._routine):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # handed over: stays held
                    return
        self._held = False

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()
