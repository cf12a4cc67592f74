"""The Acknowledge button on a page: ack at once, record it, then replace the page."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_ids import ActionId
from handlers.deps import HandlerDeps

log = logging.getLogger("wso.handlers")


def _message_location(body: dict[str, Any]) -> tuple[str | None, str | None]:
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    ts = (body.get("message") or {}).get("ts") or container.get("message_ts")
    return channel, ts


def register(app: AsyncApp, deps: HandlerDeps) -> None:
    @app.action(ActionId.ACKNOWLEDGE.value)
    async def on_acknowledge(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        actions = body.get("actions") or [{}]
        custody_id = str(actions[0].get("value") or "")
        outcome = await deps.desk.acknowledge_by_id(custody_id, user_id)
        channel, ts = _message_location(body)
        if channel is None:
            return
        try:
            if outcome.answered_page is not None and ts is not None:
                page = outcome.answered_page
                await client.chat_update(channel=channel, ts=ts, text=page.text, blocks=page.blocks)
            else:
                await client.chat_postEphemeral(
                    channel=channel, user=user_id, text=outcome.reply.text
                )
        except Exception:  # the acknowledgement is stored; only the page's new look was lost
            log.exception("page.update_failed", extra={"custody_id": custody_id})
