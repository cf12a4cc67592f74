"""The Acknowledge button on a page: ack at once, record it (its pages are updated by
notices the desk stores), or answer a refused click privately.

Where to write comes from the desk (the pages the bot stored for the clicker),
never from the click's ``channel``, ``container`` or ``message``: an odd or forged
payload must not make the bot edit or answer in some other conversation.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.slack import ActionId
from bot.services.desk import AckOutcome
from handlers.deps import HandlerDeps, request_id

log = logging.getLogger("wso.handlers")


def register(app: AsyncApp, deps: HandlerDeps) -> None:
    @app.action(ActionId.ACKNOWLEDGE.value)
    async def on_acknowledge(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        actions = body.get("actions") or [{}]
        custody_id = str(actions[0].get("value") or "")
        outcome = await deps.desk.acknowledge_by_id(custody_id, user_id, request_id(body))
        try:
            await _show(client, outcome, user_id)
        except Exception:  # the acknowledgement is stored; only the page's new look was lost
            log.exception("page.update_failed", extra={"custody_id": custody_id})


async def _show(client: AsyncWebClient, outcome: AckOutcome, user_id: str) -> None:
    """A refused click is answered privately; an acknowledgement rewrites every page of
    the custody through its stored page updates (retried like any notice)."""
    if outcome.acknowledged:
        return
    if outcome.reply_channel is not None:
        await client.chat_postEphemeral(
            channel=outcome.reply_channel, user=user_id, text=outcome.reply.text
        )
    else:
        log.warning("page.click_without_page", extra={"user_id": user_id})
