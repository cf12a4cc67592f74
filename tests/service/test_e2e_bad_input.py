"""Every malformed or refused command: a clear ephemeral answer, nothing stored, nothing posted."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.app import WsoService
from bot.config import parse_config
from bot.services.clock import FakeClock
from tests.conftest import OFFICER, SIGNING_SECRET, STRANGER, make_settings, two_facility_document
from tests.fakes.signed_requests import SignedSlackClient, slack_signature, slash_command_body
from tests.fakes.slack import FakeSlack
from tests.fakes.waiting import settle


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # `/wso arrest` alone opens the arrest form (tests/service/test_e2e_arrest_form.py).
        pytest.param("arrest I-205", "booking", id="warrant form where booking goes"),
        pytest.param("arrest at 14:05", "booking", id="keyword where booking goes"),
        pytest.param("arest B-1", "arest", id="unknown subcommand"),
        pytest.param("arrest B-1 at teatime", "teatime", id="time that is not a time"),
        pytest.param("arrest B-1 at 25:00", "25:00", id="hour out of range"),
        pytest.param("arrest B-1 at 2026-11-29 09:00", "future", id="time in the future"),
        pytest.param("arrest B-1 at 15:00", "yesterday", id="later today suggests yesterday"),
        pytest.param("arrest B-1 at 2026-09-01 09:00", "30 days", id="date far in the past"),
        pytest.param("arrest B-1 at 0001-01-01T00:00Z", "30 days", id="year one"),
        pytest.param("arrest B-1 I-247A", "I-247A", id="unknown warrant form"),
        pytest.param("arrest B-1 facility mars-base", "mars-base", id="unknown facility"),
        pytest.param("arrest <!channel>", "&lt;!channel&gt;", id="booking that would ping"),
        pytest.param("arrest " + "B" * 33, "32", id="booking too long"),
        pytest.param("arrest B-1 tomorrow", "tomorrow", id="stray word"),
        pytest.param("arrest B-1 at", "at", id="at without a time"),
        pytest.param("arrest B-1 at 2026-11-01 01:30", "offset", id="autumn DST repeat"),
        pytest.param("arrest B-1 at 2026-03-08 02:30", "offset", id="spring DST gap"),
        pytest.param("transfer", "booking", id="transfer without booking"),
        pytest.param("transfer B-404", "no open custody", id="transfer unknown booking"),
        pytest.param("status B-404", "No custody", id="status unknown booking"),
    ],
)
async def test_bad_command_is_explained_and_changes_nothing(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    service: WsoService,
    text: str,
    expected: str,
) -> None:
    reply = await slack.command(text)

    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert expected.lower() in reply.text.lower()
    assert "example" in reply.text.lower()
    assert "<!channel>" not in reply.text
    assert await service.store.list_open_custodies() == []
    await settle(service)
    assert fake_slack.posts() == []


async def test_bad_signature_is_rejected_with_401_and_stores_nothing(
    slack: SignedSlackClient, service: WsoService
) -> None:
    body = slash_command_body("arrest B-1", user_id=OFFICER, channel_id="C0JAIL")
    forged = await slack.post(body, signature="v0=" + "0" * 64)
    wrong_secret = await slack.post(
        body, signature=slack_signature("not-the-secret", str(int(time.time())), body)
    )

    assert forged.status == 401
    assert wrong_secret.status == 401
    assert await service.store.list_open_custodies() == []


async def test_stale_signature_is_rejected_with_401(
    slack: SignedSlackClient, service: WsoService
) -> None:
    body = slash_command_body("arrest B-1", user_id=OFFICER, channel_id="C0JAIL")
    old = str(int(time.time()) - 6 * 60)
    stale = await slack.post(
        body, timestamp=old, signature=slack_signature(SIGNING_SECRET, old, body)
    )

    assert stale.status == 401
    assert await service.store.list_open_custodies() == []


async def test_unexplained_facility_is_asked_for_and_nothing_stored(
    fake_slack: FakeSlack, tmp_path: Path, clock: FakeClock
) -> None:
    config = parse_config(two_facility_document())
    service = WsoService(make_settings(fake_slack, tmp_path / "wso.db"), config, clock=clock)
    await service.start(host="127.0.0.1", port=0)
    try:
        async with SignedSlackClient(f"http://127.0.0.1:{service.port}", SIGNING_SECRET) as slack:
            # OFFICER works at both facilities and types in a channel that belongs to neither.
            asked = await slack.command("arrest B-1 at 13:00", channel_id="C0ELSEWHERE")
            assert "Which facility?" in asked.text
            assert "county-jail" in asked.text and "north-annex" in asked.text
            typed = await slack.command("arrest B-1 at <!channel>\u202e", channel_id="C0ELSE")
            assert "Which facility?" in typed.text
            assert "at &lt;!channel&gt; facility county-jail`" in typed.text
            assert "<!channel>" not in typed.text and "\u202e" not in typed.text
            assert await service.store.list_open_custodies() == []

            in_north_jail = await slack.command("arrest B-1 at 13:00", channel_id="C0NJAIL")
            assert "North Annex" in in_north_jail.text
            only_north = await slack.command("arrest B-2", user_id="U0NORTH", channel_id="C0X")
            assert "North Annex" in only_north.text
            explicit = await slack.command("arrest B-3 facility county-jail", channel_id="C0X")
            assert "County Jail" in explicit.text
            stranger = await slack.command("arrest B-4 facility north-annex", user_id=STRANGER)
            assert "not one of them" in stranger.text
            booked = {c.booking: c.facility_id for c in await service.store.list_open_custodies()}
            assert booked == {"B-1": "north-annex", "B-2": "north-annex", "B-3": "county-jail"}
    finally:
        await service.stop()


JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        pytest.param("{not json", JSON, 400, id="malformed json"),
        pytest.param("payload=%7Bbroken", FORM, 400, id="malformed interaction payload"),
        pytest.param("garbage", FORM, 404, id="not a slack request"),
        pytest.param("command=%2Fwso&text=arrest+B-1", FORM, 200, id="command without a user"),
    ],
)
async def test_malformed_signed_requests_never_get_a_500_or_store_anything(
    slack: SignedSlackClient, service: WsoService, body: str, content_type: str, status: int
) -> None:
    reply = await slack.post(body, content_type=content_type)

    assert reply.status == status
    assert await service.store.list_open_custodies() == []
