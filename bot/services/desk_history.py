"""``/wso history BOOKING`` at the desk: a custody's audit trail, to its facility's people.

Part of ``bot.services.desk``. Only the officers and staff of the custody's facility may
see it (``bot.core.permissions``, ``Action.HISTORY``); the answer is ephemeral, like
every reply to a command. Of several custodies with the booking, the open one the user
may see comes first, else the latest.
"""

from __future__ import annotations

from bot.chat import history
from bot.chat.commands import HistoryCommand
from bot.chat.replies import Reply
from bot.core.facility import Config
from bot.core.permissions import Action, may
from storage.interface import CustodyStore


class HistoryDesk:
    def __init__(self, config: Config, store: CustodyStore) -> None:
        self._config = config
        self._store = store

    async def history(self, command: HistoryCommand, user_id: str) -> Reply:
        scope = [command.facility_id] if command.facility_id else None
        found = await self._store.find_custodies(command.booking, scope)
        if not found:
            return history.unknown_booking(command.booking)
        visible = [
            (custody, facility)
            for custody in found
            if (facility := self._config.facility(custody.facility_id)) is not None
            and may(facility, user_id, Action.HISTORY)
        ]
        if not visible:
            facility = self._config.facility(found[0].facility_id)
            if facility is None:
                return history.unknown_booking(command.booking)
            return history.history_refused(facility, user_id)
        custody, facility = next(((c, f) for c, f in visible if c.is_open), visible[0])
        trail = await self._store.audit_trail(custody.id)
        return history.timeline(custody, facility, trail)
