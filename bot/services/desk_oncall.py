"""On-call cover at the desk: who is on call, and overrides given, listed and cancelled.

Part of ``bot.services.desk``: it answers the ``/wso oncall`` commands with a reply,
or raises ``Refusal`` with the reply that says why not.
"""

from __future__ import annotations

from bot.chat import lifecycle_replies as answers
from bot.chat import replies
from bot.chat.lifecycle_commands import (
    OncallCancelCommand,
    OncallCommand,
    OncallOverrideCommand,
    OncallOverridesCommand,
)
from bot.chat.replies import Reply
from bot.core import audit as audit_log
from bot.core.audit import Origin
from bot.core.facility import Config
from bot.core.oncall import current_and_next
from bot.core.override_policy import may_give_override, override_refusal
from bot.services.clock import Clock
from bot.services.desk_lifecycle import Refusal
from bot.services.paging import as_overrides
from storage.interface import CustodyStore, OncallOverrideRecord

OncallRequest = OncallCommand | OncallOverrideCommand | OncallOverridesCommand | OncallCancelCommand


class OncallDesk:
    def __init__(self, config: Config, store: CustodyStore, clock: Clock) -> None:
        self._config = config
        self._store = store
        self._clock = clock

    async def handle(self, command: OncallRequest, origin: Origin) -> Reply:
        match command:
            case OncallCommand():
                return await self._oncall_now()
            case OncallOverrideCommand():
                return await self._override(command, origin)
            case OncallOverridesCommand():
                return await self._overrides()
            case OncallCancelCommand():
                return await self._cancel(command, origin)

    async def _oncall_now(self) -> Reply:
        if not self._config.schedules:
            return replies.no_schedules()
        now = self._clock.now()
        rows = []
        for schedule in self._config.schedules:
            overrides = as_overrides(await self._store.oncall_overrides(schedule.id, now))
            rows.append((schedule, *current_and_next(schedule, now, overrides)))
        return replies.oncall_now(rows)

    async def _override(self, command: OncallOverrideCommand, origin: Origin) -> Reply:
        user_id = origin.actor
        schedule = self._config.schedule(command.schedule_id)
        if schedule is None:
            raise Refusal(replies.no_such_schedule(command.schedule_id, self._config.schedules))
        refusal = override_refusal(
            self._config, schedule, user_id, command.user_id, command.duration
        )
        if refusal is not None:
            raise Refusal(replies.override_refused(refusal))
        now = self._clock.now()
        record = OncallOverrideRecord(
            schedule_id=schedule.id,
            user_id=command.user_id,
            starts_at=now,
            ends_at=now + command.duration,
            created_by=user_id,
            created_at=now,
        )
        audit = audit_log.oncall_override(now, origin, schedule.id, command.user_id, record.ends_at)
        await self._store.add_oncall_override(record, audit)
        return replies.override_given(command.user_id, schedule, record.ends_at)

    async def _overrides(self) -> Reply:
        now = self._clock.now()
        records = [
            (schedule, record)
            for schedule in self._config.schedules
            for record in await self._store.oncall_overrides(schedule.id, now)
        ]
        return answers.override_list(records)

    async def _cancel(self, command: OncallCancelCommand, origin: Origin) -> Reply:
        user_id = origin.actor
        now = self._clock.now()
        found = await self._store.oncall_override_by_id(command.override_id, now)
        schedule = self._config.schedule(found.schedule_id) if found is not None else None
        if found is None or schedule is None:
            raise Refusal(answers.no_such_override(command.override_id))
        if user_id != found.created_by and not may_give_override(
            self._config, schedule.id, user_id
        ):
            raise Refusal(answers.may_not_cancel_override(found, schedule))
        audit = audit_log.oncall_override_cancelled(
            now, origin, command.override_id, schedule.id, found.user_id, found.ends_at
        )
        if not await self._store.end_oncall_override(command.override_id, now, audit):
            raise Refusal(answers.no_such_override(command.override_id))
        return answers.override_cancelled(found, schedule)
