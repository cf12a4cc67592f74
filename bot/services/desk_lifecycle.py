"""The custody lifecycle at the desk: close, correct, dispute and note, by custody id.

The commands (``/wso transfer``, ``igsa``, ``void`` …) find the custody by booking and
call these; the card's buttons and modals call them with the custody id they carry.
Each checks who may act (``bot.core.permissions``), plans the notices (``bot.core``),
writes through the store in one compare-and-set transaction, and answers with a reply
(``bot.chat.lifecycle_replies``). A second action on a closed custody says who closed
it and when, and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.chat import lifecycle_replies as answers
from bot.chat import replies
from bot.chat.replies import Reply
from bot.core import audit as audit_log
from bot.core.audit import Origin
from bot.core.card_plan import plan_card_updates, plan_refresh
from bot.core.custody_plan import plan_closed_custody
from bot.core.facility import Config, Facility
from bot.core.lifecycle_plan import (
    correction_refusal,
    plan_corrected_custody,
    plan_disputed_custody,
    plan_note,
)
from bot.core.model import Custody, CustodyState, Notice, NoticeKind
from bot.core.permissions import Action, may
from bot.core.policy import recount
from bot.services.clock import Clock
from storage.interface import CustodyChanged, CustodyNotOpen, CustodyStore

log = logging.getLogger("wso.desk")

_CLOSING = {
    Action.TRANSFER: CustodyState.TRANSFERRED,
    Action.RELEASE: CustodyState.RELEASED,
    Action.IGSA: CustodyState.IGSA,
    Action.VOID: CustodyState.VOIDED,
}


class Refusal(Exception):
    """A command that cannot go ahead; carries the reply that says why."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.text)
        self.reply = reply


class NoticeListener(Protocol):
    """Told when stored notices change (the dispatcher)."""

    def notices_added(self, notices: Sequence[Notice]) -> None:
        """New notices were stored; nothing else changed."""

    def wake(self) -> None:
        """Notices were added, cancelled or moved: re-read them."""


class LifecycleDesk:
    """The id-based actions on one custody; each answers with a reply, never raises."""

    def __init__(
        self, config: Config, store: CustodyStore, clock: Clock, listener: NoticeListener
    ) -> None:
        self._config = config
        self._store = store
        self._clock = clock
        self._listener = listener

    # --- closing -----------------------------------------------------------------

    async def transfer(
        self,
        custody_id: str,
        origin: Origin,
        taken_at: datetime | None = None,
        received_by: str | None = None,
    ) -> Reply:
        """ICE took custody (at ``taken_at``, received by ``received_by``, when given)."""
        return await self._close(custody_id, origin, Action.TRANSFER, None, received_by, taken_at)

    async def release(self, custody_id: str, origin: Origin, reason: str | None) -> Reply:
        return await self._close(custody_id, origin, Action.RELEASE, reason)

    async def igsa(self, custody_id: str, origin: Origin) -> Reply:
        """Held under the facility's IGSA: refused where the facility has none."""
        return await self._close(custody_id, origin, Action.IGSA, None)

    async def void(self, custody_id: str, origin: Origin, reason: str) -> Reply:
        return await self._close(custody_id, origin, Action.VOID, reason)

    async def _close(
        self,
        custody_id: str,
        origin: Origin,
        action: Action,
        reason: str | None,
        received_by: str | None = None,
        taken_at: datetime | None = None,
    ) -> Reply:
        user = origin.actor
        try:
            custody, facility = await self._open_for(custody_id, user, action)
            if action is Action.IGSA and not facility.igsa:
                raise Refusal(answers.no_igsa(facility, custody.booking))
            state = _CLOSING[action]
            now = self._clock.now()
            closing = plan_closed_custody(
                custody, NoticeKind(state.value), facility, self._config, now
            )
            sent = await self._store.notices_for(custody.id)
            closing += plan_refresh(custody, facility.channels(), sent, now)
            audit = audit_log.custody_closed(
                now, origin, custody, state, reason, received_by, taken_at
            )
            try:
                closed = await self._store.close_custody(
                    custody.id,
                    state=state,
                    at=now,
                    by=user,
                    reason=reason,
                    closing_notices=closing,
                    audit=audit,
                    received_by=received_by,
                    taken_at=taken_at,
                )
            except CustodyNotOpen as lost:
                raise Refusal(self._not_open(lost, custody, facility)) from None
        except Refusal as refusal:
            log.info("lifecycle.refused", extra={"user_id": user, "action": action.value})
            return refusal.reply
        self._listener.wake()
        if state in (CustodyState.TRANSFERRED, CustodyState.RELEASED):
            return replies.custody_closed(closed.booking, facility, state)
        return answers.closed_as(closed, facility)

    # --- correct, dispute, note ------------------------------------------------------

    async def correct(
        self, custody_id: str, origin: Origin, new_arrested_at: datetime | None = None
    ) -> Reply:
        """Count the deadline again, on purpose, under the facility's current policy.

        From ``new_arrested_at`` when the arrest time was wrong; from the recorded one
        when None (``/wso correct BOOKING policy``). Every pending notice is planned again.
        """
        user = origin.actor
        try:
            custody, facility = await self._open_for(custody_id, user, Action.CORRECT)
            now = self._clock.now()
            moved = recount(custody, facility.policy, facility.zone, new_arrested_at)
            refusal = correction_refusal(custody, moved, now)
            if refusal is not None:
                raise Refusal(
                    answers.correction_refused(refusal, custody, moved, now, facility.zone)
                )
            notices = plan_corrected_custody(custody, moved, user, facility, self._config, now)
            sent = await self._store.notices_for(custody.id)
            notices += plan_card_updates(custody, facility.channels(), sent, now)
            source = facility.policy.holidays_source
            audit = audit_log.custody_corrected(now, origin, custody, moved, source)
            try:
                corrected = await self._store.correct_custody(
                    expected=custody,
                    corrected=moved,
                    at=now,
                    new_notices=notices,
                    audit=audit,
                )
            except (CustodyNotOpen, CustodyChanged) as lost:
                raise Refusal(self._not_open(lost, custody, facility)) from None
        except Refusal as refusal:
            return refusal.reply
        self._listener.wake()
        return answers.corrected(custody, corrected, facility)

    async def dispute(self, custody_id: str, origin: Origin, note: str) -> Reply:
        """Flag a citizenship or identity claim: both channels hear it, level 1 is paged now."""
        user = origin.actor
        try:
            custody, facility = await self._open_for(custody_id, user, Action.DISPUTE)
            if custody.disputed_at is not None:
                raise Refusal(answers.already_disputed(custody, facility))
            now = self._clock.now()
            notices = plan_disputed_custody(custody, user, note, facility, self._config, now)
            sent = await self._store.notices_for(custody.id)
            notices += plan_card_updates(custody, facility.channels(), sent, now)
            audit = audit_log.custody_disputed(now, origin, custody, note)
            try:
                disputed = await self._store.dispute_custody(
                    custody.id, at=now, by=user, note=note, new_notices=notices, audit=audit
                )
            except (CustodyNotOpen, CustodyChanged) as lost:
                raise Refusal(self._not_open(lost, custody, facility)) from None
        except Refusal as refusal:
            return refusal.reply
        self._listener.notices_added(notices)
        paged = any(n.kind is NoticeKind.PAGE_STEP for n in notices)
        return answers.disputed(disputed, facility, paged)

    async def add_note(self, custody_id: str, origin: Origin, text: str) -> Reply:
        """A note for both channels, quoted as the user's words."""
        user = origin.actor
        try:
            custody, facility = await self._open_for(custody_id, user, Action.NOTE)
            now = self._clock.now()
            notices = plan_note(custody, user, text, facility, self._config, now)
            audit = audit_log.note_added(now, origin, custody, text)
            try:
                await self._store.add_to_open_custody(custody.id, notices, audit)
            except CustodyNotOpen as lost:
                raise Refusal(self._not_open(lost, custody, facility)) from None
        except Refusal as refusal:
            return refusal.reply
        self._listener.notices_added(notices)
        return answers.note_added(custody, facility)

    async def refresh_cards(self, custody: Custody) -> None:
        """Rewrite the custody's cards as it is now (a button pressed on an out-of-date one)."""
        facility = self.facility_of(custody)
        sent = await self._store.notices_for(custody.id)
        updates = plan_card_updates(custody, facility.channels(), sent, self._clock.now())
        if updates:
            await self._store.add_notices(updates)
            self._listener.notices_added(updates)

    # --- shared ----------------------------------------------------------------------

    async def _open_for(
        self, custody_id: str, user: str, action: Action
    ) -> tuple[Custody, Facility]:
        """The open custody and its facility, if ``user`` may take ``action``; else Refusal."""
        custody = await self._store.get_custody(custody_id)
        if custody is None:
            raise Refusal(replies.error_reply("That custody is not in the WSO bot's records."))
        facility = self.facility_of(custody)
        if not may(facility, user, action):
            raise Refusal(answers.may_not(facility, action, user))
        if not custody.is_open:
            raise Refusal(answers.already_closed(custody, facility))
        return custody, facility

    @staticmethod
    def _not_open(
        lost: CustodyNotOpen | CustodyChanged, read: Custody, facility: Facility
    ) -> Reply:
        """The answer when the custody changed between reading and writing it."""
        now = lost.custody
        if now is None:
            return replies.closed_meanwhile(read.booking)
        if not now.is_open:
            return answers.already_closed(now, facility)
        if now.disputed_at is not None and read.disputed_at is None:
            return answers.already_disputed(now, facility)
        return answers.changed_meanwhile(now)

    def facility_of(self, custody: Custody) -> Facility:
        facility = self._config.facility(custody.facility_id)
        if facility is None:
            raise Refusal(replies.facility_gone(custody))
        return facility
