"""App Home and ``/wso list`` blocks over signed HTTP, against the fake Slack."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.app import WsoService
from bot.chat import actions
from bot.services.clock import FakeClock
from tests.conftest import DESK_STAFF, OFFICER, STRANGER
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.slack import FakeSlack
from tests.fakes.waiting import settle


def home_text(view: dict[str, Any]) -> str:
    return str(view["blocks"])


async def published(fake_slack: FakeSlack, user: str, count: int) -> dict[str, Any]:
    def seen() -> list[Any]:
        return [c for c in fake_slack.calls_to("views.publish") if c.payload["user_id"] == user]

    await fake_slack.wait_for(lambda: len(seen()) >= count)
    view: dict[str, Any] = seen()[count - 1].payload["view"]
    return view


async def test_home_shows_open_custodies_most_urgent_first_with_buttons(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    await slack.command("arrest B-LATER")
    await slack.command("arrest B-SOON at 2026-11-26 16:00")  # 2 h left
    await slack.event({"type": "app_home_opened", "user": OFFICER, "tab": "home"})

    view = await published(fake_slack, OFFICER, 1)
    text = home_text(view)
    assert view["type"] == "home"
    assert text.index("B-SOON") < text.index("B-LATER")
    assert "Under 4 hours left" in text and "2h 00m left" in text
    buttons = [b["accessory"] for b in view["blocks"] if "accessory" in b]
    assert {b["action_id"] for b in buttons} == {actions.HOME_STATUS}
    assert "Log an arrest" in text and "On call now" in text


async def test_home_is_republished_after_an_arrest_and_a_closure(
    slack: SignedSlackClient, fake_slack: FakeSlack
) -> None:
    await slack.event({"type": "app_home_opened", "user": DESK_STAFF, "tab": "home"})
    first = await published(fake_slack, DESK_STAFF, 1)
    assert "No open custodies" in home_text(first)
    assert "Log an arrest" not in home_text(first)  # staff may not log arrests

    await slack.command("arrest B-NEW")
    second = await published(fake_slack, DESK_STAFF, 2)
    assert "B-NEW" in home_text(second)

    await slack.command("release B-NEW bail posted", user_id=DESK_STAFF)
    third = await published(fake_slack, DESK_STAFF, 3)
    assert "Open custodies (0)" in home_text(third)
    assert "Closed today (1)" in home_text(third) and "released" in home_text(third)


async def test_home_of_someone_with_no_facility_explains_why_it_is_empty(
    slack: SignedSlackClient, fake_slack: FakeSlack
) -> None:
    await slack.command("arrest B-1")
    await slack.event({"type": "app_home_opened", "user": STRANGER, "tab": "home"})

    view = await published(fake_slack, STRANGER, 1)
    assert "not listed as an officer or staff member" in home_text(view)
    assert "B-1" not in home_text(view)


async def test_list_answers_in_blocks_grouped_by_urgency(
    slack: SignedSlackClient, clock: FakeClock
) -> None:
    await slack.command("arrest B-EXP at 2026-11-26 13:00")  # expired an hour ago
    await slack.command("arrest B-3H at 2026-11-26 17:00")
    await slack.command("arrest B-10H at 2026-11-27 00:00")
    await slack.command("arrest B-NOW")
    clock.advance(timedelta(minutes=1))
    reply = await slack.command("list")

    assert "B-EXP" in reply.text  # the text fallback stays
    sections = [b["text"]["text"] for b in reply.json["blocks"]]
    headings = [s for s in sections if s.startswith(":")]
    assert [h.split("*")[1] for h in headings] == [
        "Expired: release required",
        "Under 4 hours left",
        "Under 12 hours left",
        "12 hours or more left",
    ]
    joined = "\n".join(sections)
    order = [joined.index(b) for b in ("B-EXP", "B-3H", "B-10H", "B-NOW")]
    assert order == sorted(order)


async def test_home_is_redrawn_when_an_expiry_moves_a_custody_to_expired(
    service: WsoService, slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    await slack.command("arrest B-EDGE at 2026-11-26 14:02")  # 2 minutes left
    await slack.event({"type": "app_home_opened", "user": OFFICER, "tab": "home"})
    first = await published(fake_slack, OFFICER, 1)
    assert "Under 4 hours left" in home_text(first) and "Expired" not in home_text(first)

    clock.advance(timedelta(minutes=3))  # the expiry falls due; nobody touches the desk
    await settle(service)

    second = await published(fake_slack, OFFICER, 2)
    assert "Expired: release required" in home_text(second)
    assert "B-EDGE" in home_text(second)
