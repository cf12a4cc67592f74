"""The custody card's buttons and their modals: ack at once, open the modal with the
click's trigger (it lives 3 s) before anything else, or answer the clicker privately.

What a click or a submission does is decided by ``bot.services.card_actions``; this
only carries it to Slack.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat import actions
from bot.chat.card_modals import form_not_opened, message_modal
from bot.chat.replies import Reply, internal_error
from bot.services.card_actions import CardActions
from handlers.deps import HandlerDeps, request_id

log = logging.getLogger("wso.handlers")


def register(app: AsyncApp, deps: HandlerDeps) -> CardActions:
    cards = CardActions(deps.config, deps.store, deps.clock, deps.desk.lifecycle)

    async def on_click(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user = str((body.get("user") or {}).get("id") or "")
        clicked = (body.get("actions") or [{}])[0]
        channel = str((body.get("channel") or {}).get("id") or "")
        action_id, custody_id = str(clicked.get("action_id")), str(clicked.get("value") or "")
        trigger = str(body.get("trigger_id") or "")
        answer = await cards.click(action_id, custody_id, user, channel, trigger or None)
        if answer.view is not None:
            try:
                await client.views_open(trigger_id=trigger, view=answer.view)
                return
            except Exception:  # the trigger lapsed or Slack is down: say so, nothing changed
                log.warning("card.open_failed", extra={"user_id": user}, exc_info=True)
                answer = replace(answer, reply=Reply(text=form_not_opened()))
        if answer.reply is not None:
            await _tell(client, answer.channel or user, user, answer.reply)

    async def on_submit(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        user = str((body.get("user") or {}).get("id") or "")
        view = body.get("view") or {}
        try:
            done = await cards.submit(str(view.get("callback_id")), user, view, request_id(body))
        except Exception:
            log.exception("card.submit_failed", extra={"user_id": user})
            failed = message_modal("Not recorded", internal_error().text)
            await ack(response_action="update", view=failed)
            return
        if done.errors:
            await ack(response_action="errors", errors=done.errors)
        elif done.next_view is not None:
            await ack(response_action=done.response_action or "update", view=done.next_view)
        else:
            await (ack(response_action=done.response_action) if done.response_action else ack())
            if done.reply is not None:
                await _tell(client, done.channel or user, user, done.reply)

    for action_id in actions.CARD_ACTION_IDS:
        app.action(action_id)(on_click)
    for callback_id in actions.CARD_MODALS:
        app.view(callback_id)(on_submit)
    return cards


async def _tell(client: AsyncWebClient, channel: str, user: str, reply: Reply) -> None:
    """``reply`` to ``user`` alone: ephemeral in ``channel``, or a DM when it is their id."""
    try:
        if channel == user:
            await client.chat_postMessage(channel=user, text=reply.text)
        else:
            await client.chat_postEphemeral(channel=channel, user=user, text=reply.text)
    except Exception:  # what happened is stored; only its private answer was lost
        log.exception("card.answer_failed", extra={"user_id": user})
