"""``wso-bot sandbox --tour``: one custody played through, arrest to pickup, on the page.

Each step is what a person would do on the page (a command, a button, a jump in time),
done through the same ``SandboxSession``, with a caption saying what is happening and the
page turned to where it happens. ``pause`` seconds between steps suit a projector; the
tests play it with no pause.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from bot.sandbox.session import SandboxSession

OFFICER, JAIL = "U0DEMOOFF1", "C0DEMOJAIL"
SERGEANT, ERO, ICE = "U0DEMOSGT", "W0DEMOERO", "C0DEMOICE"
ACKNOWLEDGE = "wso_ack"
SETTLE_SECONDS = 15.0


async def play_tour(
    session: SandboxSession, *, pause: float, narrate: Callable[[str], None] = lambda _: None
) -> None:
    """Play the tour once; raises ``RuntimeError`` naming the step that did not happen.

    Each caption is also given to ``narrate`` (the terminal, for whoever presents).
    """
    booking = f"TOUR-{session.clock.now():%H%M%S}"
    count = iter(range(1, 100))

    async def step(caption: str, user: str, channel: str) -> None:
        session.show(caption, user, channel)
        narrate(f"tour {next(count)}: {caption}")
        await asyncio.sleep(pause)

    await step(f"Officer Dana Reyes serves an I-200 on booking {booking}", OFFICER, JAIL)
    answer = await session.command(OFFICER, JAIL, f"/wso arrest {booking} I-200")
    if answer["status"] != 200:
        raise RuntimeError(f"the arrest was not logged: {answer}")
    await settle(session)
    await step("The custody card is in the jail and ICE channels: 48 hours from now", OFFICER, JAIL)
    deadline = await session.next_deadline()
    if deadline is None:
        raise RuntimeError("the arrest was logged but no open custody has a deadline")
    while (due := await session.store.next_ready_at()) is not None and due < deadline:
        await step(f"Time travel to {_before(deadline, due)} before the deadline", OFFICER, ICE)
        await session.travel(to="next-notice")
        await settle(session)
        await asyncio.sleep(pause)
    await step("Time travel to the deadline: the person is still held", OFFICER, JAIL)
    await session.travel(to="deadline")
    await settle(session)
    await step(
        "Expired: the card turns red and the on-call sergeant is paged", SERGEANT, "D" + SERGEANT
    )
    page = _find_button(session, "D" + SERGEANT, ACKNOWLEDGE)
    if page is None:
        raise RuntimeError("the sergeant was not paged with an Acknowledge button")
    await step("Sgt. Alex Moore acknowledges: the paging stops", SERGEANT, "D" + SERGEANT)
    ts, block_id, element = page
    await session.click(
        SERGEANT,
        action_id=ACKNOWLEDGE,
        value=str(element.get("value", "")),
        block_id=block_id,
        channel_id="D" + SERGEANT,
        ts=ts,
    )
    await settle(session)
    await step("Both channels see who acknowledged, and when", SERGEANT, JAIL)
    await step("ICE picks the person up: the ERO officer records the transfer", ERO, ICE)
    await session.command(ERO, ICE, f"/wso transfer {booking}")
    await settle(session)
    await step("Transferred. Every step is on record: /wso status " + booking, ERO, ICE)


async def settle(session: SandboxSession) -> None:
    """Wait until the bot has sent everything due (nothing ready at the sandbox's now)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + SETTLE_SECONDS
    while loop.time() < give_up:
        due = await session.store.next_ready_at()
        if due is None or due > session.clock.now():
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the bot did not send its due notices within 15 s")


def _before(deadline: datetime, due: datetime) -> str:
    minutes = round((deadline - due).total_seconds() / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _buttons(message: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for block in message.get("blocks") or []:
        for element in block.get("elements") or []:
            if isinstance(element, dict) and element.get("type") == "button":
                yield str(block.get("block_id", "")), element
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") == "button":
            yield str(block.get("block_id", "")), accessory


def _find_button(
    session: SandboxSession, channel: str, action_id: str
) -> tuple[str, str, Mapping[str, Any]] | None:
    """The newest message in ``channel`` with the button ``action_id``: (ts, block id, button)."""
    for message in reversed(session.standin.workspace.messages(channel)):
        for block_id, element in _buttons(message):
            if element.get("action_id") == action_id:
                return str(message["ts"]), block_id, element
    return None
