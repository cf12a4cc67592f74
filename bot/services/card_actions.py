"""The custody card's buttons and their modals, through the lifecycle desk.

Nothing here talks to Slack: the handler opens the view, or posts the answer, that
this returns. Who may press a button is checked at the click, before any modal
opens, and again at the submit (by the desk, which also refuses a custody closed
meanwhile). A press on a card whose custody is closed answers who closed it and
when, and rewrites the card, which was out of date.

Answers go to the clicker only: in the card's channel when the click came from one
of the facility's channels, else as a direct message. The click's own channel is
never trusted further than that (a forged payload cannot make the bot speak
elsewhere).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.chat import actions
from bot.chat import card_modals as forms
from bot.chat import lifecycle_replies as answers
from bot.chat.card_modals import CardFormOrigin, TransferDraft
from bot.chat.modals import plain_error
from bot.chat.replies import Reply, error_reply
from bot.core.audit import Origin
from bot.core.facility import Config, Facility
from bot.core.model import Custody, Source
from bot.core.permissions import Action, may
from bot.services.clock import Clock
from bot.services.desk_lifecycle import LifecycleDesk, Refusal
from storage.interface import CustodyStore

log = logging.getLogger("wso.desk")

_ACTION_OF = {
    actions.TRANSFER: Action.TRANSFER,
    actions.RELEASE: Action.RELEASE,
    actions.IGSA: Action.IGSA,
    actions.ADD_NOTE: Action.NOTE,
}
# The input block an error about the whole form is shown on, by callback id.
_FIRST_BLOCK = {
    actions.TRANSFER_MODAL: actions.TRANSFER_DATE,
    actions.RELEASE_MODAL: actions.RELEASE_REASON,
    actions.NOTE_MODAL: actions.NOTE_TEXT,
}


@dataclass(frozen=True)
class Answer:
    """What the handler does: open ``view``, or tell ``reply`` to the clicker in ``channel``
    (a direct message when ``channel`` is the user's own id)."""

    view: dict[str, Any] | None = None
    reply: Reply | None = None
    channel: str = ""


@dataclass(frozen=True)
class Submitted:
    """A submission's answer: inline ``errors`` (the form stays open), a ``next_view``
    shown by ``response_action`` ("push": over the form, so *Back* returns to it;
    "update": in its place), or the form closes ("clear": with the form under it) and
    ``reply`` goes to ``channel``."""

    errors: dict[str, str] = field(default_factory=dict)
    next_view: dict[str, Any] | None = None
    response_action: str | None = None
    reply: Reply | None = None
    channel: str = ""


class CardActions:
    def __init__(
        self, config: Config, store: CustodyStore, clock: Clock, lifecycle: LifecycleDesk
    ) -> None:
        self._config = config
        self._store = store
        self._clock = clock
        self._desk = lifecycle

    # --- clicks ------------------------------------------------------------------

    async def click(
        self,
        action_id: str,
        custody_id: str,
        user: str,
        channel: str,
        request_id: str | None = None,
    ) -> Answer:
        """A card button pressed by ``user`` in ``channel``; ``request_id``: its trigger_id."""
        action = _ACTION_OF[action_id]
        custody = await self._store.get_custody(custody_id)
        facility = self._config.facility(custody.facility_id) if custody else None
        if custody is None or facility is None:
            return Answer(reply=_unknown(), channel=user)
        where = _answer_channel(facility, channel, user)
        if not may(facility, user, action):
            log.info("card.refused", extra={"user_id": user, "action": action.value})
            return Answer(reply=answers.may_not(facility, action, user), channel=where)
        if not custody.is_open:
            await self._refresh(custody)
            return Answer(reply=answers.already_closed(custody, facility), channel=where)
        origin = CardFormOrigin(custody.id, self._clock.now(), where)
        if action is Action.TRANSFER:
            return Answer(view=forms.transfer_modal(custody, facility, origin), channel=where)
        if action is Action.RELEASE:
            return Answer(view=forms.release_modal(custody, facility, origin), channel=where)
        if action is Action.NOTE:
            return Answer(view=forms.note_modal(custody, facility, origin), channel=where)
        # IGSA: the button's own confirm dialog was the confirmation.
        reply = await self._desk.igsa(custody.id, Origin(user, Source.BUTTON, where, request_id))
        return Answer(reply=reply, channel=where)

    # --- submissions ---------------------------------------------------------------

    async def submit(
        self, callback_id: str, user: str, view: Mapping[str, Any], request_id: str | None = None
    ) -> Submitted:
        """One of the card's modals submitted by ``user``."""
        origin = CardFormOrigin.from_view(view)
        now = self._clock.now()
        if origin is None or origin.stale(now):
            return self._not_done(callback_id, forms.stale_form(origin, now))
        custody = await self._store.get_custody(origin.custody_id)
        facility = self._config.facility(custody.facility_id) if custody else None
        if custody is None or facility is None:
            return self._not_done(callback_id, _unknown().text)
        action = _MODAL_ACTION[callback_id]
        refusal = await self._refusal(custody, facility, user, action)
        if refusal is not None:
            return self._not_done(callback_id, refusal.text)
        channel = _answer_channel(facility, origin.channel_id, user)
        by = Origin(user, Source.MODAL, channel, request_id)
        if callback_id == actions.TRANSFER_MODAL:
            draft = forms.check_transfer(view, custody, facility, now)
            if not isinstance(draft, TransferDraft):
                return Submitted(errors=draft)
            confirm = CardFormOrigin(
                custody.id, origin.opened_at, channel, draft.taken_at, draft.received_by
            )
            view = forms.transfer_confirm_modal(custody, facility, confirm)
            return Submitted(next_view=view, response_action="push")
        if callback_id == actions.TRANSFER_CONFIRM:
            reply = await self._desk.transfer(custody.id, by, origin.taken_at, origin.received_by)
        elif callback_id == actions.RELEASE_MODAL:
            reason = forms.check_release(view)
            if isinstance(reason, dict):
                return Submitted(errors=reason)
            reply = await self._desk.release(custody.id, by, reason)
        else:
            note = forms.check_note(view)
            if isinstance(note, dict):
                return Submitted(errors=note)
            reply = await self._desk.add_note(custody.id, by, note)
        if reply.refused:  # closed or changed between the check and the write
            await self._refresh_if_closed(custody.id)
            return self._not_done(callback_id, reply.text)
        log.info("card.done", extra={"user_id": user, "action": action.value})
        closes = "clear" if callback_id == actions.TRANSFER_CONFIRM else None
        return Submitted(reply=reply, channel=channel, response_action=closes)

    async def _refusal(
        self, custody: Custody, facility: Facility, user: str, action: Action
    ) -> Reply | None:
        if not may(facility, user, action):
            return answers.may_not(facility, action, user)
        if not custody.is_open:
            await self._refresh(custody)
            return answers.already_closed(custody, facility)
        return None

    def _not_done(self, callback_id: str, text: str) -> Submitted:
        """Nothing was changed: inline on the form's first field, or (the read-back view,
        which has no field) a view that says so in place of the form."""
        first = _FIRST_BLOCK.get(callback_id)
        if first is None:
            view = forms.message_modal("Nothing recorded", text)
            return Submitted(next_view=view, response_action="update")
        return Submitted(errors={first: plain_error(text)})

    async def _refresh_if_closed(self, custody_id: str) -> None:
        custody = await self._store.get_custody(custody_id)
        if custody is not None and not custody.is_open:
            await self._refresh(custody)

    async def _refresh(self, custody: Custody) -> None:
        try:
            await self._desk.refresh_cards(custody)
        except Refusal:  # its facility left the config: there is no card to draw
            log.warning("card.refresh_without_facility", extra={"custody_id": custody.id})


_MODAL_ACTION = {
    actions.TRANSFER_MODAL: Action.TRANSFER,
    actions.TRANSFER_CONFIRM: Action.TRANSFER,
    actions.RELEASE_MODAL: Action.RELEASE,
    actions.NOTE_MODAL: Action.NOTE,
}


def _answer_channel(facility: Facility, clicked_in: str, user: str) -> str:
    """The card's channel if the click came from one of the facility's, else a DM."""
    return clicked_in if clicked_in in facility.channels() else user


def _unknown() -> Reply:
    return error_reply(
        "That custody is not in the WSO bot's records (or its facility left the config), so "
        "nothing was changed. Look the booking up instead.",
        "/wso status B-2026-0412",
    )
