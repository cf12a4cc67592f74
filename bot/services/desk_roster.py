"""The officer roster at the desk: who may log an arrest, and ``/wso officers``.

Part of ``bot.services.desk``: the rule is ``bot.core.permissions``' and the words are
``bot.chat.roster_messages``'; this picks the facility and raises ``Refusal`` with the
reply that says why not.
"""

from __future__ import annotations

from datetime import datetime

from bot.chat import replies
from bot.chat.commands import OfficersCommand
from bot.chat.replies import Reply
from bot.chat.roster_messages import (
    arrest_refused,
    officers_list,
    roster_not_for_you,
    which_roster,
)
from bot.core.facility import Config, Facility
from bot.core.permissions import arrest_refusal, may_see_roster
from bot.services.clock import Clock
from bot.services.desk_lifecycle import Refusal


class RosterDesk:
    def __init__(self, config: Config, clock: Clock) -> None:
        self._config = config
        self._clock = clock

    def require_may_log(self, facility: Facility, user_id: str, now: datetime) -> None:
        """Raise ``Refusal`` unless ``user_id`` may log a WSO arrest at ``facility`` now."""
        refusal = arrest_refusal(facility, user_id, now)
        if refusal is None:
            return
        home = self._config.facility(refusal.entry.facility_id) if refusal.entry else None
        raise Refusal(arrest_refused(refusal, facility, user_id, home))

    def officers(self, command: OfficersCommand, user_id: str, channel_id: str) -> Reply:
        """The roster of the facility asked for (or the one meant), for its own people."""
        facility = self._facility(command.facility_id, user_id, channel_id)
        if not may_see_roster(facility, user_id):
            raise Refusal(roster_not_for_you(facility, user_id))
        return officers_list(facility, self._clock.now())

    def _facility(self, facility_id: str | None, user_id: str, channel_id: str) -> Facility:
        """Named, else the only one, the channel's, or the only one the caller belongs to."""
        facilities = self._config.facilities
        if facility_id is not None:
            named = self._config.facility(facility_id)
            if named is None:
                raise Refusal(replies.unknown_facility(facility_id, facilities, "/wso officers"))
            return named
        mine = tuple(f for f in facilities if may_see_roster(f, user_id))
        for candidates in (facilities, self._config.facilities_for_channel(channel_id), mine):
            if len(candidates) == 1:
                return candidates[0]
        raise Refusal(which_roster(mine or facilities))
