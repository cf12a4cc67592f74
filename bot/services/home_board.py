"""App Home: build one user's dashboard, and publish it again when what it shows changes.

Who opened their Home is remembered (at most ``MAX_VIEWERS``, the latest kept);
after a custody is logged, closed or acknowledged, every such Home is rebuilt
once the changes settle (``debounce`` seconds), and published if it differs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, time
from typing import Any

from bot.chat.home import OPEN_SHOWN, HomeData, home_view
from bot.chat.replies import oncall_summary
from bot.core.coverage import paged_schedules
from bot.core.facility import Config, Facility
from bot.core.model import Notice
from bot.core.oncall import current_and_next
from bot.services.clock import Clock
from bot.services.desk_lifecycle import NoticeListener
from bot.services.paging import as_overrides
from storage.interface import CustodyStore

Publish = Callable[[str, dict[str, Any]], Awaitable[None]]
MAX_VIEWERS = 500
log = logging.getLogger("wso.home")


class HomeBoard:
    def __init__(
        self,
        config: Config,
        store: CustodyStore,
        clock: Clock,
        publish: Publish,
        *,
        debounce: float = 0.5,
    ) -> None:
        self._config = config
        self._store = store
        self._clock = clock
        self._publish = publish
        self._debounce = debounce
        self._shown: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self._refresh: asyncio.Task[None] | None = None
        self._dirty = False

    async def opened(self, user_id: str) -> None:
        """The user opened their Home: publish it now, and keep it current from now on."""
        self._shown.pop(user_id, None)
        self._shown[user_id] = []
        while len(self._shown) > MAX_VIEWERS:
            self._shown.popitem(last=False)
        await self._show(user_id)

    def changed(self) -> None:
        """Custodies changed: refresh every open Home once things settle."""
        self._dirty = True
        if self._shown and (self._refresh is None or self._refresh.done()):
            self._refresh = asyncio.get_running_loop().create_task(self._refresh_all())

    async def stop(self) -> None:
        if self._refresh is not None:
            self._refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresh

    async def _refresh_all(self) -> None:
        while self._dirty:  # a change while publishing means one more round
            await asyncio.sleep(self._debounce)
            self._dirty = False
            for user_id in list(self._shown):
                try:
                    await self._show(user_id)
                except Exception:  # one Home failing must not stop the others
                    log.exception("home.refresh_failed", extra={"user_id": user_id})

    async def _show(self, user_id: str) -> None:
        view = home_view(await self.data_for(user_id), self._clock.now())
        if self._shown.get(user_id) == view["blocks"]:
            return
        await self._publish(user_id, view)
        if user_id in self._shown:
            self._shown[user_id] = view["blocks"]

    async def data_for(self, user_id: str) -> HomeData:
        mine = tuple(f for f in self._config.facilities if f.may_close(user_id))
        if not mine:
            return HomeData((), [], 0, [], [], may_log=False)
        ids = [f.id for f in mine]
        by_id = {f.id: f for f in mine}
        now = self._clock.now()
        open_ones = await self._store.list_open_custodies(ids, limit=OPEN_SHOWN)
        total = len(open_ones)
        if total == OPEN_SHOWN:
            total = await self._store.count_open_custodies(ids)
        closed = await self._store.closed_custodies_since(ids, _earliest_midnight(mine, now))
        today = [
            (c, by_id[c.facility_id])
            for c in closed
            if c.closed_at is not None and c.closed_at >= _local_midnight(by_id[c.facility_id], now)
        ]
        return HomeData(
            facilities=mine,
            open_rows=[(c, by_id[c.facility_id]) for c in open_ones],
            open_total=total,
            closed_rows=today,
            oncall_lines=await self._oncall_lines(mine, now),
            may_log=any(f.is_officer(user_id) for f in mine),
        )

    async def _oncall_lines(self, facilities: Sequence[Facility], now: datetime) -> list[str]:
        seen: dict[str, str] = {}
        for facility in facilities:
            for schedule in paged_schedules(facility, self._config):
                if schedule.id not in seen:
                    stored = await self._store.oncall_overrides(schedule.id, now)
                    current, following = current_and_next(schedule, now, as_overrides(stored))
                    seen[schedule.id] = oncall_summary(schedule, current, following)
        return list(seen.values())


def _local_midnight(facility: Facility, now: datetime) -> datetime:
    local = now.astimezone(facility.zone)
    return datetime.combine(local.date(), time(0), tzinfo=facility.zone).astimezone(now.tzinfo)


def _earliest_midnight(facilities: Sequence[Facility], now: datetime) -> datetime:
    return min(_local_midnight(f, now) for f in facilities)


class ChangeListeners:
    """The desk's listener: the dispatcher first, then the Home tabs."""

    def __init__(self, dispatcher: NoticeListener, home: HomeBoard) -> None:
        self._dispatcher = dispatcher
        self._home = home

    def notices_added(self, notices: Sequence[Notice]) -> None:
        self._dispatcher.notices_added(notices)
        self._home.changed()

    def wake(self) -> None:
        self._dispatcher.wake()
        self._home.changed()
