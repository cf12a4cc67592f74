"""The sandbox in one process: the page's routes drive the real bot through signed requests.

Each test starts ``open_sandbox`` on a free port in a temporary folder and talks to it as
the page's script does (JSON over HTTP). The clock is the sandbox's own (real time plus
the lead that time travel adds), so expiry and paging come from jumps, not from waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import WsoService
from bot.config import load_config
from bot.core.model import CustodyState
from bot.sandbox import demo
from bot.sandbox.runner import RunningSandbox, SandboxOptions, open_sandbox, prepare_folder
from bot.sandbox.tour import play_tour
from tests.fakes.waiting import eventually, wait_until

REPO = Path(__file__).resolve().parents[2]
OFFICER, SERGEANT, ERO = "U0DEMOOFF1", "U0DEMOSGT", "W0DEMOERO"
JAIL, ICE = "C0DEMOJAIL", "C0DEMOICE"


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[RunningSandbox]:
    options = SandboxOptions(folder=tmp_path / "sandbox", port=0)
    config = load_config(prepare_folder(options))
    async with open_sandbox(options, config) as running:
        yield running


@pytest.fixture
async def page(sandbox: RunningSandbox) -> AsyncIterator[Page]:
    async with aiohttp.ClientSession() as http:
        yield Page(http, sandbox)


class Page:
    """What the page's script does: POST JSON to the sandbox's routes, read its screen."""

    def __init__(self, http: aiohttp.ClientSession, sandbox: RunningSandbox) -> None:
        self.http = http
        self.sandbox = sandbox

    async def post(self, route: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        async with self.http.post(f"{self.sandbox.url}/{route}", json=body) as response:
            answer: dict[str, Any] = await response.json()
            assert response.status == status, answer
            return answer

    async def screen(self) -> dict[str, Any]:
        async with self.http.get(f"{self.sandbox.url}/state") as response:
            assert response.status == 200
            result: dict[str, Any] = await response.json()
            return result

    def messages(self, channel: str) -> list[dict[str, Any]]:
        return self.sandbox.standin.workspace.messages(channel)

    async def arrest(self, booking: str = "B-1") -> dict[str, Any]:
        answer = await self.post(
            "command", {"user": OFFICER, "channel": JAIL, "text": f"/wso arrest {booking} I-200"}
        )
        assert answer["status"] == 200, answer
        return answer


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("text", "")) for m in messages)


async def test_a_command_typed_on_the_page_logs_the_arrest_and_posts_both_cards(page: Page) -> None:
    answer = await page.arrest()
    assert "Logged WSO arrest of booking *B-1*" in answer["reply"]["text"]
    await wait_until(lambda: bool(page.messages(JAIL)) and bool(page.messages(ICE)), what="cards")
    custodies = await page.sandbox.service.store.find_custodies("B-1")
    assert [c.state for c in custodies] == [CustodyState.OPEN]
    screen = await page.screen()
    jail = next(c for c in screen["channels"] if c["id"] == JAIL)
    assert "B-1" in jail["html"] and 'data-action-id="' in jail["html"]
    note = next(n for n in screen["notes"] if n["user"] == OFFICER)
    assert "Only visible to you" in note["html"] and "/wso arrest B-1 I-200" in note["html"]


async def test_a_command_the_bot_refuses_shows_the_bots_answer(page: Page) -> None:
    answer = await page.post(
        "command", {"user": ERO, "channel": ICE, "text": "/wso arrest B-9 I-200"}
    )
    assert answer["status"] == 200
    assert "B-9" not in texts(page.messages(JAIL))
    assert await page.sandbox.service.store.find_custodies("B-9") == []
    assert answer["reply"]["text"], "the refusal is shown to the person who typed it"


async def test_time_travel_to_the_deadline_expires_the_custody_and_pages_the_sergeant(
    page: Page,
) -> None:
    await page.arrest()
    await page.post("clock", {"to": "deadline"})
    await wait_until(
        lambda: (
            "window expired" in texts(page.messages(JAIL)).lower()
            and "window expired" in texts(page.messages(ICE)).lower()
        ),
        what="the expiry in both channels",
    )
    await wait_until(lambda: bool(page.messages("D" + SERGEANT)), what="the sergeant's page")
    screen = await page.screen()
    assert screen["lead_seconds"] >= timedelta(hours=47).total_seconds()


async def test_time_travel_backwards_or_by_an_unknown_step_is_refused_and_moves_nothing(
    page: Page,
) -> None:
    before = page.sandbox.session.clock.now()
    refused = await page.post("clock", {"to": "2020-01-01T00:00:00Z"}, status=400)
    assert "only goes forward" in refused["error"]
    refused = await page.post("clock", {"step": "-1h"}, status=400)
    assert "use one of 10m, 1h, 12h" in refused["error"]
    refused = await page.post("clock", {"to": "deadline"}, status=400)
    assert "log one first: /wso arrest" in refused["error"]
    assert page.sandbox.session.clock.lead == timedelta(0)
    assert page.sandbox.session.clock.now() - before < timedelta(seconds=5)


async def test_next_notice_jumps_to_the_first_reminder_and_it_goes_out(page: Page) -> None:
    await page.arrest()
    custody = (await page.sandbox.service.store.find_custodies("B-1"))[0]
    await wait_until(lambda: bool(page.messages(JAIL)) and bool(page.messages(ICE)), what="cards")
    answer = await page.post("clock", {"to": "next-notice"})
    landed = datetime.fromisoformat(answer["now"])
    assert timedelta(0) <= landed - (custody.deadline - timedelta(hours=4)) < timedelta(seconds=1)
    await wait_until(lambda: "4h" in texts(page.messages(JAIL)), what="the 4-hour reminder")


async def test_the_arrest_form_opens_as_a_modal_on_the_page_and_its_submission_logs_the_arrest(
    page: Page,
) -> None:
    await page.post("command", {"user": OFFICER, "channel": JAIL, "text": "/wso arrest"})
    screen = await eventually(page.screen, lambda s: bool(s["modals"]), "the arrest form")
    modal = screen["modals"][0]
    assert modal["user"] == OFFICER and 'data-input="plain_text_input"' in modal["html"]
    view = page.sandbox.standin.workspace.views[modal["view_id"]]
    # As the page sends it: every field's value, the pickers' as the form filled them in.
    inputs = [
        {
            "block_id": block["block_id"],
            "action_id": block["element"]["action_id"],
            "value": block["element"].get("initial_date")
            or block["element"].get("initial_time")
            or "",
        }
        for block in view["blocks"]
        if block["type"] == "input"
    ]
    inputs[0]["value"] = "B-77"  # the booking number, the form's first field
    assert inputs[0]["block_id"] == "wso_arrest_booking"
    answer = await page.post(
        "submit", {"user": OFFICER, "view_id": modal["view_id"], "inputs": inputs}
    )
    assert answer["response_action"] is None, await page.screen()
    custodies = await eventually(
        lambda: page.sandbox.service.store.find_custodies("B-77"), bool, "the form's custody"
    )
    assert custodies[0].booking == "B-77"
    assert (await page.screen())["modals"] == []


async def test_a_modal_submitted_with_a_mistake_shows_the_bots_errors_and_stays_open(
    page: Page,
) -> None:
    await page.post("command", {"user": OFFICER, "channel": JAIL, "text": "/wso arrest"})
    screen = await eventually(page.screen, lambda s: bool(s["modals"]), "the arrest form")
    view_id = screen["modals"][0]["view_id"]
    answer = await page.post("submit", {"user": OFFICER, "view_id": view_id, "inputs": []})
    assert answer["response_action"] == "errors"
    screen = await page.screen()
    assert screen["modals"][0]["errors"], "the bot's reasons are shown under the fields"


async def test_opening_the_home_tab_shows_the_bots_home_for_that_person(page: Page) -> None:
    await page.arrest()
    await page.post("home", {"user": OFFICER})
    screen = await eventually(page.screen, lambda s: bool(s["homes"]), "the App Home")
    home = screen["homes"][0]
    assert home["user"] == OFFICER and "B-1" in home["html"]


async def test_the_tour_plays_a_custody_through_to_an_acknowledged_transfer(page: Page) -> None:
    captions: list[str] = []
    await play_tour(page.sandbox.session, pause=0, narrate=captions.append)
    store = page.sandbox.service.store
    custody = (await store.list_open_custodies()) or []
    assert custody == [], "the tour ends with the custody closed"
    booking = captions[0].rsplit(" ", 1)[-1]
    closed = (await store.find_custodies(booking))[0]
    assert closed.state is CustodyState.TRANSFERRED
    assert closed.acknowledged_by == SERGEANT
    for channel in (JAIL, ICE):
        assert "Paging acknowledged" in texts(page.messages(channel)), channel
    assert any("acknowledged" in c.lower() for c in captions)


async def test_page_requests_without_a_person_or_with_a_stranger_get_a_clear_refusal(
    page: Page,
) -> None:
    refused = await page.post("command", {"channel": JAIL, "text": "/wso help"}, status=400)
    assert refused["error"] == '"user" is missing; e.g. {"user": "U0DEMOOFF1"}'
    refused = await page.post(
        "command", {"user": "U0NOBODY", "channel": JAIL, "text": "/wso help"}, status=400
    )
    assert "not in the demo roster" in refused["error"]
    refused = await page.post(
        "command", {"user": OFFICER, "channel": JAIL, "text": "/remind me"}, status=400
    )
    assert "/wso help" in refused["error"]


async def test_a_restarted_sandbox_shows_the_same_messages_and_time(tmp_path: Path) -> None:
    options = SandboxOptions(folder=tmp_path / "sandbox", port=0)
    config = load_config(prepare_folder(options))
    async with open_sandbox(options, config) as first, aiohttp.ClientSession() as http:
        await Page(http, first).arrest()
        await wait_until(lambda: bool(first.standin.workspace.messages(JAIL)), what="card")
        first.session.clock.advance(timedelta(hours=3))
        card = first.standin.workspace.messages(JAIL)[0]
    async with open_sandbox(options, config) as second:
        assert second.standin.workspace.messages(JAIL)[0]["ts"] == card["ts"]
        assert second.session.clock.lead >= timedelta(hours=3)
    assert (options.folder / demo.DATABASE_NAME).exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/sandbox"), ("GET", "/sandbox/state"), ("POST", "/sandbox/clock")],
)
async def test_serve_has_no_sandbox_page_and_no_time_travel(
    service: WsoService, method: str, path: str
) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, f"http://127.0.0.1:{service.port}{path}", json={"step": "1h"}) as r,
    ):
        assert r.status == 404


def test_nothing_outside_the_sandbox_package_and_the_cli_imports_it() -> None:
    importers = [
        path
        for top in ("bot", "handlers", "storage")
        for path in (REPO / top).rglob("*.py")
        if "bot.sandbox" in path.read_text()
        and path.parent.name != "sandbox"
        and path.name != "cli.py"
    ]
    assert importers == [], "time travel must stay out of wso-bot serve's reach"


async def test_stopping_the_sandbox_ends_the_pages_event_streams(tmp_path: Path) -> None:
    options = SandboxOptions(folder=tmp_path / "sandbox", port=0)
    config = load_config(prepare_folder(options))
    async with aiohttp.ClientSession() as http:
        async with open_sandbox(options, config) as running:
            stream = await http.get(f"{running.url}/events")
            first = await stream.content.readline()
            assert first == b"event: screen\n"
            loop = asyncio.get_running_loop()
            stopping_began = loop.time()
        # The stop did not wait out the open stream (aiohttp would, for a minute): it ended.
        assert loop.time() - stopping_began < 5
        rest = await stream.content.read()
        assert rest.endswith(b"\n\n") and stream.content.at_eof()
        stream.release()
