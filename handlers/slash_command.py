"""``/wso``: ack with the desk's ephemeral reply, after the change is committed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.replies import internal_error
from bot.chat.slack import SLASH_COMMAND
from bot.services.arrest_form import ArrestForms
from bot.services.desk import Invocation
from handlers.arrest_form import open_form, wants_form
from handlers.deps import HandlerDeps, request_id

log = logging.getLogger("wso.handlers")


def unescape_slack_text(text: str) -> str:
    """Slack sends ``&``, ``<`` and ``>`` as entities; work on what the person typed.

    Everything echoed back is escaped again on the way out (``bot.chat.slack``).
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


async def answer(deps: HandlerDeps, command: Mapping[str, Any]) -> dict[str, Any]:
    """The ephemeral answer to a ``/wso`` command (not the form's): run it, say what happened.

    Both ways in use it: Bolt's listener (Socket Mode, and the form's fallback) and the
    HTTP fast path (``bot.web``), which answers the command without Bolt's dispatch.
    """
    invocation = Invocation(
        user_id=str(command.get("user_id") or ""),
        channel_id=str(command.get("channel_id") or ""),
        text=unescape_slack_text(str(command.get("text") or "")),
        request_id=request_id(command),
    )
    try:
        reply = await deps.desk.handle(invocation)
    except Exception:
        log.exception("command.failed", extra={"user_id": invocation.user_id})
        return {"text": internal_error().text, "response_type": "ephemeral"}
    body: dict[str, Any] = {"text": reply.text, "response_type": "ephemeral"}
    if reply.blocks:
        body["blocks"] = reply.blocks
    return body


def fast_path(deps: HandlerDeps) -> Callable[[Mapping[str, str]], Awaitable[dict[str, Any] | None]]:
    """The HTTP fast path's command answerer: None for what Bolt must handle (the form)."""

    async def answer_directly(command: Mapping[str, str]) -> dict[str, Any] | None:
        if command.get("command") != SLASH_COMMAND or wants_form(command.get("text") or ""):
            return None
        return await answer(deps, command)

    return answer_directly


def register(app: AsyncApp, deps: HandlerDeps, forms: ArrestForms) -> None:
    @app.command(SLASH_COMMAND)
    async def on_wso_command(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if wants_form(str(command.get("text") or "")):
            await open_form(forms, ack, client, command)  # first: the trigger lives 3 s
            return
        await ack(**await answer(deps, command))
