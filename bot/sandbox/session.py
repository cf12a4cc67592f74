"""What a person does on the sandbox page, done as Slack would do it to the bot.

Typing a command, pressing a button, submitting or closing a modal and opening the Home
tab each become the request Slack would send (``bot.sandbox.slack_requests``), signed and
POSTed to the bot's own ``/slack/events``. Time travel moves the ``TravelClock``. Every
change a person would see bumps ``version`` and wakes the page's event streams.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.core.facility import Config
from bot.sandbox import demo, slack_requests
from bot.sandbox.screen import PrivateNote, ScreenState, screen
from bot.sandbox.standin import SlackStandIn
from bot.sandbox.travel import TimeTravelRefused, TravelClock
from storage.interface import CustodyStore

STEPS: Mapping[str, timedelta] = {
    "10m": timedelta(minutes=10),
    "1h": timedelta(hours=1),
    "12h": timedelta(hours=12),
}


class SandboxInputError(ValueError):
    """A request from the page that cannot be carried out; the message says why."""


class SandboxSession:
    """The page's actions, as Slack-shaped signed requests to the bot, and time travel."""

    def __init__(
        self,
        config: Config,
        clock: TravelClock,
        standin: SlackStandIn,
        store: CustodyStore,
        sender: slack_requests.SignedSender,
    ) -> None:
        self.config = config
        self.clock = clock
        self.standin = standin
        self.store = store
        self.sender = sender
        self.state = ScreenState()
        self.version = 0
        self._changed = asyncio.Event()
        self.viewer_arrived = asyncio.Event()  # set once a page has opened the event stream
        self._trigger_owner: dict[str, str] = {}
        standin.on_change(self.changed)
        clock.subscribe(self.changed)

    # ------------------------------------------------------------------ change signal

    def changed(self) -> None:
        views = self.standin.workspace.views
        for view_id, trigger in self.standin.workspace.view_triggers.items():
            owner = self._trigger_owner.pop(trigger, None)
            if owner is not None and view_id in views:
                self.state.modal_owner[view_id] = owner
        self.version += 1
        self._changed.set()

    async def wait_for_change(self, seen: int) -> int:
        """Return once ``version`` is past ``seen``."""
        while self.version <= seen:
            self._changed.clear()
            await self._changed.wait()
        return self.version

    def show(self, caption: str, user_id: str = "", channel_id: str = "") -> None:
        """A caption over the page and, for a tour, who and where the page should show."""
        self.state.caption = caption
        if user_id:
            self.state.focus = {"user": user_id, "channel": channel_id, "serial": self.version}
        self.changed()

    async def snapshot(self) -> dict[str, Any]:
        now = self.clock.now()
        next_notice = await self.store.next_ready_at()
        return screen(
            self.standin.workspace,
            self.state,
            self.config,
            now,
            self.clock.lead.total_seconds(),
            next_notice,
            await self.next_deadline(),
        )

    # ------------------------------------------------------------------ people's actions

    def _person(self, user_id: str) -> demo.Person:
        person = demo.person(user_id)
        if person is None:
            known = ", ".join(p.id for p in demo.ROSTER)
            raise SandboxInputError(f"{user_id!r} is not in the demo roster; choose one of {known}")
        return person

    def _trigger(self, user_id: str) -> str:
        trigger = slack_requests.new_trigger_id()
        self._trigger_owner[trigger] = user_id
        return trigger

    async def command(self, user_id: str, channel_id: str, typed: str) -> dict[str, Any]:
        """``typed`` as the person typed it (``/wso arrest B-1 I-200``) in ``channel_id``."""
        person = self._person(user_id)
        text = typed.strip()
        command, _, rest = text.partition(" ")
        if command != "/wso":
            raise SandboxInputError(
                "the bot answers /wso commands only; try /wso help or /wso arrest B-1 I-200"
            )
        form = slack_requests.slash_command_form(
            rest.strip(),
            user_id=user_id,
            user_name=person.name,
            channel_id=channel_id,
            channel_name=demo.CHANNELS.get(channel_id, "directmessage"),
            trigger=self._trigger(user_id),
        )
        answer = await self.sender.form(form)
        body = answer.json()
        if answer.status != 200:
            reply = f"The bot answered HTTP {answer.status}: {answer.body[:200]}"
            body = {"text": reply}
        self.state.notes.append(
            PrivateNote(
                user=user_id,
                channel=channel_id,
                at=self.clock.now().timestamp(),
                text=str(body.get("text") or ""),
                blocks=body.get("blocks") or (),
                typed=text,
            )
        )
        self.changed()
        return {"status": answer.status, "reply": body}

    async def click(
        self,
        user_id: str,
        *,
        action_id: str,
        value: str,
        block_id: str,
        channel_id: str = "",
        ts: str = "",
        view_id: str = "",
    ) -> dict[str, Any]:
        """``user_id`` pressed a button on a message (``channel_id``, ``ts``) or a view."""
        self._person(user_id)
        element = {"type": "button", "action_id": action_id, "value": value}
        trigger = self._trigger(user_id)
        if view_id:
            view = self.standin.workspace.views.get(view_id)
            if view is None:
                raise SandboxInputError(f"no view {view_id!r} is open")
            payload = slack_requests.view_click(
                user_id=user_id, view=view, element=element, block_id=block_id, trigger=trigger
            )
        else:
            message = next(
                (m for m in self.standin.workspace.messages(channel_id) if m["ts"] == ts), None
            )
            if message is None:
                raise SandboxInputError(f"no message {ts!r} in {channel_id!r}")
            payload = slack_requests.message_click(
                user_id=user_id,
                channel_id=channel_id,
                message=message,
                element=element,
                block_id=block_id,
                trigger=trigger,
            )
        answer = await self.sender.interaction(payload)
        self.changed()
        return {"status": answer.status}

    async def submit(
        self, user_id: str, view_id: str, inputs: Sequence[Mapping[str, str]]
    ) -> dict[str, Any]:
        """Submit the modal ``view_id`` with ``inputs`` (block id, action id, type, value)."""
        view = self._open_modal(user_id, view_id)
        state = input_state(view, inputs)
        payload = slack_requests.view_submission(
            user_id=user_id, view=view, state=state, trigger=self._trigger(user_id)
        )
        answer = await self.sender.interaction(payload)
        body = answer.json()
        action = body.get("response_action")
        self.state.modal_errors.pop(view_id, None)
        if answer.status != 200:
            self.state.modal_errors[view_id] = {"": f"The bot answered HTTP {answer.status}"}
        elif action == "errors":
            self.state.modal_errors[view_id] = {
                str(k): str(v) for k, v in (body.get("errors") or {}).items()
            }
        elif action in ("update", "push") and isinstance(body.get("view"), dict):
            self.standin.workspace.views[view_id] = {**body["view"], "id": view_id}
        else:  # no answer, or "clear": the modal closes
            self.state.modal_owner.pop(view_id, None)
        self.changed()
        return {"status": answer.status, "response_action": action}

    async def close_modal(self, user_id: str, view_id: str) -> None:
        view = self._open_modal(user_id, view_id)
        self.state.modal_owner.pop(view_id, None)
        self.state.modal_errors.pop(view_id, None)
        if view.get("notify_on_close"):
            await self.sender.interaction(
                slack_requests.view_closed(
                    user_id=user_id, view=view, trigger=self._trigger(user_id)
                )
            )
        self.changed()

    async def open_home(self, user_id: str) -> None:
        self._person(user_id)
        await self.sender.event(slack_requests.app_home_opened(user_id))
        self.changed()

    def _open_modal(self, user_id: str, view_id: str) -> dict[str, Any]:
        view = self.standin.workspace.views.get(view_id)
        if view is None or self.state.modal_owner.get(view_id) != user_id:
            raise SandboxInputError(f"no modal {view_id!r} is open for {user_id!r}")
        return view

    # ------------------------------------------------------------------ time travel

    async def next_deadline(self) -> datetime | None:
        now = self.clock.now()
        open_custodies = await self.store.list_open_custodies(limit=50)
        return min((c.deadline for c in open_custodies if c.deadline > now), default=None)

    async def travel(self, *, step: str = "", to: str = "") -> datetime:
        """Move the clock: by a ``step`` ("10m", "1h", "12h"), or ``to`` "next-notice",
        "deadline" or an ISO 8601 instant. Backwards is refused (``TimeTravelRefused``)."""
        if step:
            if step not in STEPS:
                raise SandboxInputError(f"unknown step {step!r}; use one of {', '.join(STEPS)}")
            return self.clock.advance(STEPS[step])
        if to == "next-notice":
            due = await self.store.next_ready_at()
            if due is None:
                raise SandboxInputError(
                    "no notice is waiting to go out; log an arrest first: /wso arrest B-1 I-200"
                )
            if due <= self.clock.now():
                raise SandboxInputError("the next notice is due now; it is on its way")
            return self.clock.travel_to(due)
        if to == "deadline":
            deadline = await self.next_deadline()
            if deadline is None:
                raise SandboxInputError(
                    "no open custody has a deadline ahead; log one first: /wso arrest B-1 I-200"
                )
            return self.clock.travel_to(deadline)
        try:
            instant = datetime.fromisoformat(to.replace("Z", "+00:00"))
        except ValueError as error:
            raise SandboxInputError(
                f"{to!r} is not a time to travel to; use next-notice, deadline, or an instant "
                "such as 2026-12-03T14:05:00-06:00"
            ) from error
        return self.clock.travel_to(instant)


def input_state(
    view: Mapping[str, Any], inputs: Sequence[Mapping[str, str]]
) -> dict[str, dict[str, Any]]:
    """A modal's ``state.values`` as Slack builds it from what was typed and chosen."""
    given = {(i.get("block_id", ""), i.get("action_id", "")): i.get("value", "") for i in inputs}
    state: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks") or []:
        element = block.get("element") if block.get("type") == "input" else None
        if not isinstance(element, dict):
            continue
        block_id, action_id = str(block.get("block_id", "")), str(element.get("action_id", ""))
        value = given.get((block_id, action_id), "")
        kind = element.get("type")
        entry: dict[str, Any] = {"type": kind}
        if kind == "static_select":
            option = next(
                (o for o in element.get("options") or [] if o.get("value") == value), None
            )
            entry["selected_option"] = option
        elif kind == "datepicker":
            entry["selected_date"] = value or None
        elif kind == "timepicker":
            entry["selected_time"] = value or None
        else:
            entry["value"] = value or None
        state[block_id] = {action_id: entry}
    return state


__all__ = ["SandboxInputError", "SandboxSession", "TimeTravelRefused", "input_state"]
