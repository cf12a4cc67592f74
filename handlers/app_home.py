"""App Home: publish the user's dashboard when they open it; its buttons.

"Log an arrest" opens the arrest form; "Details" opens a read-only view of one
custody (its ``/wso status`` answer). The dashboard is kept current by the
service's ``HomeBoard`` after every change it shows.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.actions import HOME_OPEN_ARREST_FORM, HOME_STATUS
from bot.chat.card_modals import message_modal
from bot.chat.replies import custody_status
from bot.services.arrest_form import ArrestForms
from bot.services.home_board import HomeBoard
from handlers.deps import HandlerDeps

log = logging.getLogger("wso.handlers")


def register(app: AsyncApp, deps: HandlerDeps, home: HomeBoard, forms: ArrestForms) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any]) -> None:
        user_id = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user_id, str) or not user_id:
            return
        try:
            await home.opened(user_id)
        except Exception:  # a stale Home tab is not worth an error page; log and move on
            log.exception("home.publish_failed")

    @app.action(HOME_OPEN_ARREST_FORM)
    async def on_log_arrest(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        view = forms.form_for(user_id, "")
        if isinstance(view, str):  # why there is no form for them
            view = message_modal("Log a WSO arrest", view)
        await client.views_open(trigger_id=str(body.get("trigger_id") or ""), view=view)

    @app.action(HOME_STATUS)
    async def on_details(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        custody_id = str(((body.get("actions") or [{}])[0]).get("value") or "")
        custody = await deps.store.get_custody(custody_id)
        facility = deps.config.facility(custody.facility_id) if custody else None
        text = (
            custody_status(custody, facility, deps.clock.now()).text
            if custody is not None and facility is not None
            else "That custody is no longer known to the bot."
        )
        await client.views_open(
            trigger_id=str(body.get("trigger_id") or ""), view=message_modal("Custody", text)
        )
