"""The App Home tab: open custodies, soonest deadline first, refreshed when opened."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.views import home_view
from handlers.deps import HandlerDeps

log = logging.getLogger("wso.handlers")
HOME_LIMIT = 50


def register(app: AsyncApp, deps: HandlerDeps) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        user_id = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user_id, str) or not user_id:
            return
        custodies = await deps.store.list_open_custodies(limit=HOME_LIMIT)
        rows = [(c, f) for c in custodies if (f := deps.config.facility(c.facility_id))]
        view = home_view(rows, deps.clock.now())
        try:
            await client.views_publish(user_id=user_id, view=view)
        except Exception:  # a stale Home tab is not worth an error page; log and move on
            log.exception("home.publish_failed")
