"""The arrest form: which form an officer gets, and a submission through the desk's arrest path.

Nothing here talks to Slack: the handler opens the view this returns and answers
the submission with the errors or the receipt this returns.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.chat.actions import ARREST_BOOKING
from bot.chat.modals import (
    ArrestDraft,
    arrest_modal,
    check_arrest_form,
    no_arrest_form_reply,
    plain_error,
)
from bot.chat.replies import Reply
from bot.chat.slack import quoted
from bot.core.facility import Config
from bot.core.model import Source
from bot.core.permissions import arrest_refusal
from bot.services.clock import Clock
from bot.services.desk import CustodyDesk, Invocation
from bot.services.desk_lifecycle import Refusal

log = logging.getLogger("wso.desk")


@dataclass(frozen=True)
class FormAnswer:
    """Inline errors by block id (the form stays open), or the receipt (the form closes)."""

    errors: dict[str, str] = field(default_factory=dict)
    receipt: Reply | None = None


class ArrestForms:
    def __init__(self, config: Config, desk: CustodyDesk, clock: Clock) -> None:
        self._config = config
        self._desk = desk
        self._clock = clock

    def form_for(self, user_id: str, channel_id: str) -> dict[str, Any] | str:
        """The modal for this officer (the channel's facility first), or why there is none.

        Only facilities where they may log an arrest now are offered: an officer whose
        certification has expired, or who is on the roster at another jail, is told why
        at once rather than after filling the form in.
        """
        now = self._clock.now()
        theirs = self._config.facilities_for_officer(user_id)
        mine = [f for f in theirs if arrest_refusal(f, user_id, now) is None]
        if not mine:
            if not theirs:
                return no_arrest_form_reply(user_id)
            try:
                self._desk.require_may_log(theirs[0], user_id, now)
            except Refusal as refusal:
                return refusal.reply.text
        mine.sort(key=lambda f: f.jail_channel != channel_id)  # stable: config order otherwise
        return arrest_modal(mine, now, channel_id)

    async def submit(
        self, user_id: str, view: Mapping[str, Any], request_id: str | None = None
    ) -> FormAnswer:
        configured = {f.id: f for f in self._config.facilities}
        checked = check_arrest_form(view, configured, user_id, self._clock.now())
        if not isinstance(checked, ArrestDraft):
            log.info("form.refused", extra={"user_id": user_id, "fields": sorted(checked)})
            return FormAnswer(errors=checked)
        invocation = Invocation(
            user_id, checked.channel_id, "", source=Source.MODAL, request_id=request_id
        )
        try:
            receipt = await self._desk.log_arrest(checked.command, invocation, checked.notes)
        except Refusal as refusal:  # a second open custody, or a rule the form did not foresee
            log.info("form.refused", extra={"user_id": user_id, "fields": [ARREST_BOOKING]})
            return FormAnswer(errors={ARREST_BOOKING: plain_error(refusal.reply.text)})
        if checked.notes:
            notes = quoted(checked.notes, typed_by=user_id, label="Notes")
            receipt = Reply(text=f"{receipt.text}\n{notes} (kept in the audit log)")
        return FormAnswer(receipt=receipt)
