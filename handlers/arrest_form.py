"""The arrest form: ``/wso arrest`` alone opens it; its submission is checked and logged.

The form is opened before anything slow (Slack's trigger lives 3 s), then the
command is acked. A valid submission closes the form and the receipt goes to the
officer as a direct message: unlike an ephemeral answer it stays in the app's
Messages tab, and it reaches them whatever channel they opened the form from.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.actions import ARREST_BOOKING, ARREST_MODAL
from bot.chat.modals import form_unavailable_reply, plain_error
from bot.chat.replies import internal_error
from bot.services.arrest_form import ArrestForms
from handlers.deps import HandlerDeps, request_id

log = logging.getLogger("wso.handlers")


def wants_form(text: str) -> bool:
    """``/wso arrest`` with nothing after it."""
    return text.strip().lower() == "arrest"


async def open_form(
    forms: ArrestForms, ack: AsyncAck, client: AsyncWebClient, command: dict[str, Any]
) -> None:
    user_id = str(command.get("user_id") or "")
    view = forms.form_for(user_id, str(command.get("channel_id") or ""))
    if isinstance(view, str):  # an officer nowhere, or nowhere now: why, and no form
        await ack(text=view, response_type="ephemeral")
        return
    try:
        await client.views_open(trigger_id=str(command.get("trigger_id") or ""), view=view)
    except Exception:  # the trigger lapsed or Slack is down: the typed command still works
        log.warning("form.open_failed", extra={"user_id": user_id}, exc_info=True)
        await ack(text=form_unavailable_reply(), response_type="ephemeral")
        return
    await ack()


def register(app: AsyncApp, deps: HandlerDeps) -> ArrestForms:
    forms = ArrestForms(deps.config, deps.desk, deps.clock)

    @app.view(ARREST_MODAL)
    async def on_submit(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        user_id = str((body.get("user") or {}).get("id") or "")
        try:
            answer = await forms.submit(user_id, body.get("view") or {}, request_id(body))
        except Exception:
            log.exception("form.failed", extra={"user_id": user_id})
            await ack(response_action="errors", errors=_everywhere(internal_error().text))
            return
        if answer.errors:
            await ack(response_action="errors", errors=answer.errors)
            return
        await ack()
        if answer.receipt is not None:
            try:
                await client.chat_postMessage(channel=user_id, text=answer.receipt.text)
            except Exception:  # the custody is stored and announced; only the receipt was lost
                log.exception("form.receipt_failed", extra={"user_id": user_id})

    return forms


def _everywhere(text: str) -> dict[str, str]:
    return {ARREST_BOOKING: plain_error(text)}
