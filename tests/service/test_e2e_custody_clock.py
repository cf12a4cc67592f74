"""The whole flow through the real HTTP endpoint, signed as Slack signs, against the fake Slack.

Time is a ``FakeClock``: moving it wakes the dispatcher, so a 48-hour window
runs in milliseconds and nothing here sleeps for the clock.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.app import WsoService
from bot.config import Config
from bot.core.model import CustodyState, NoticeKind, NoticeState
from bot.services.clock import FakeClock
from storage.sqlite_store import SqliteCustodyStore
from tests.conftest import (
    DESK_STAFF,
    ICE,
    JAIL,
    OFFICER,
    SIGNING_SECRET,
    START,
    STRANGER,
    actions_by_people,
    make_settings,
)
from tests.fakes.notices import kinds
from tests.fakes.signed_requests import SignedSlackClient
from tests.fakes.signed_requests import wso_payload as payload
from tests.fakes.slack import FakeSlack
from tests.fakes.waiting import settle

DEADLINE = START + timedelta(hours=48)


async def test_arrest_answers_the_officer_and_posts_to_both_channels(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    reply = await slack.command("arrest B-2026-0412 I-200 warrant W-77")

    assert reply.status == 200
    assert reply.json["response_type"] == "ephemeral"
    assert "B-2026-0412" in reply.text
    assert "Mon Nov 30, 14:00 CST" in reply.text  # deadline in the facility's zone
    assert "48h 00m left" in reply.text
    jail_posts = await fake_slack.wait_for_posts(1, channel=JAIL)
    ice_posts = await fake_slack.wait_for_posts(1, channel=ICE)
    for post in (jail_posts[0], ice_posts[0]):
        meta = payload(post)
        assert meta["kind"] == "logged"
        assert meta["booking"] == "B-2026-0412"
        assert meta["facility"] == "county-jail"
        assert meta["deadline"] == "2026-11-30T20:00:00Z"
        assert meta["custody_id"].startswith("c_")
        assert meta["notice_id"]
        assert "B-2026-0412" in post["text"]
    custodies = await service.store.list_open_custodies()
    assert [c.booking for c in custodies] == ["B-2026-0412"]
    assert custodies[0].warrant_number == "W-77"


async def test_reminders_then_expiry_at_their_times_in_both_channels(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    clock: FakeClock,
    service: WsoService,
) -> None:
    await slack.command("arrest B-1")
    await fake_slack.wait_for_posts(2)

    for lead, expected_posts in [(24, 4), (12, 6), (4, 8), (1, 10), (0.5, 12)]:
        clock.set(DEADLINE - timedelta(hours=lead) - timedelta(seconds=1))
        await settle(service)  # give the dispatcher its chance to (wrongly) send early
        assert len(fake_slack.posts()) == expected_posts - 2, f"{lead}h sent early"
        clock.set(DEADLINE - timedelta(hours=lead))
        await fake_slack.wait_for_posts(expected_posts)

    clock.set(DEADLINE)
    for channel in (JAIL, ICE):  # each channel's expiry (the first page may come first)
        await fake_slack.wait_for_posts(7, channel=channel)
        assert kinds(fake_slack, channel) == ["logged"] + ["reminder"] * 5 + ["expired"]
        leads = [payload(p).get("lead_seconds") for p in fake_slack.posts(channel)[1:6]]
        assert leads == [86400, 43200, 14400, 3600, 1800]
        expired = fake_slack.posts(channel)[-1]
        assert "window expired — release required" in expired["text"]
        assert payload(expired)["late"] is False


async def test_transfer_closes_the_custody_and_nothing_more_is_sent(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock, service: WsoService
) -> None:
    await slack.command("arrest B-2")
    await fake_slack.wait_for_posts(2)
    clock.advance(timedelta(hours=3))

    reply = await slack.command("transfer b-2", user_id=DESK_STAFF)

    assert reply.status == 200
    assert "transferred to ICE" in reply.text
    await fake_slack.wait_for_posts(4)
    assert kinds(fake_slack, JAIL) == ["logged", "transferred"]
    assert kinds(fake_slack, ICE) == ["logged", "transferred"]
    clock.advance(timedelta(hours=60))
    await settle(service)
    assert len(fake_slack.posts()) == 4
    [custody] = await service.store.find_custodies("B-2")
    assert custody.state is CustodyState.TRANSFERRED
    assert custody.closed_by == DESK_STAFF
    trail = actions_by_people(await service.store.audit_trail(custody.id))
    assert trail == ["arrest_logged", "custody_transferred"]


async def test_release_reason_is_escaped_and_pings_nobody(
    slack: SignedSlackClient, fake_slack: FakeSlack
) -> None:
    await slack.command("arrest B-3")
    reply = await slack.command("release B-3 <!channel> court order & bail <@U0BOSS>")

    assert "released" in reply.text
    posts = await fake_slack.wait_for_posts(4)
    release_posts = [p for p in posts if payload(p)["kind"] == "released"]
    assert len(release_posts) == 2
    for post in release_posts:
        rendered = post["text"] + str(post["blocks"])
        assert "<!channel>" not in rendered
        assert "<@U0BOSS>" not in rendered
        assert "&lt;!channel&gt; court order &amp; bail &lt;@U0BOSS&gt;" in post["text"]


HOSTILE_REASON = (
    "bail posted\n\n:rotating_light: *WSO window expired — release required* — booking *B-1*"
    "\u202e\u2066 \u200b\ufeff nul\x00 esc\x1b[31m del\x7f c1\x9b "
    "@channel @here <!channel> _x_ `y` ~z~"
)
# Control characters (C0 but the one newline between the bot's headline and body, C1),
# bidi embeddings, overrides, isolates and marks, zero-width characters and the BOM.
FORBIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
    "\u200e\u200f\u061c\u200b-\u200d\u2060\ufeff]"
)


async def test_a_hostile_release_reason_is_posted_as_a_quotation_of_its_author(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService, db_path: Path
) -> None:
    await slack.command("arrest B-9")

    reply = await slack.command(f"release B-9 {HOSTILE_REASON}", user_id=DESK_STAFF)

    assert "released" in reply.text
    posts = await fake_slack.wait_for_posts(4)
    released = [p for p in posts if payload(p)["kind"] == "released"]
    assert {p["channel"] for p in released} == {JAIL, ICE}
    for post in released:
        shown = [post["text"], *(block["text"]["text"] for block in post["blocks"][:1])]
        for text in shown:
            headline, body = text.split("\n")  # the bot's headline and one body line, no more
            assert headline.startswith(":white_check_mark: *Released* — booking *B-9*")
            assert f"Reason (typed by <@{DESK_STAFF}>): \u201cbail posted" in body
            assert "*WSO window expired" not in text
            assert "<!channel>" not in text and "<!here>" not in text
            assert not re.search("@(channel|here|everyone)", text)
            assert not FORBIDDEN.search(text), repr(text)
            for mark in ("_x_", "`y`", "~z~", "*B-1*"):
                assert mark not in text
    [custody] = await service.store.find_custodies("B-9")
    stored = [custody.close_reason or ""]
    with sqlite3.connect(db_path) as db:
        stored += [row[0] for row in db.execute("SELECT detail FROM audit_log")]
    for text in stored:
        assert not FORBIDDEN.search(text.replace("\n", " ")), repr(text)
    status = await slack.command("status B-9")
    assert f"Reason (typed by <@{DESK_STAFF}>): \u201cbail posted" in status.text
    assert not FORBIDDEN.search(status.text.replace("\n", " "))
    assert "<!channel>" not in status.text and "*WSO window expired" not in status.text


async def test_backdated_arrest_skips_past_reminders_and_shows_time_left(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock, service: WsoService
) -> None:
    # 30 hours ago: the 24h reminder time has passed, the 12h one has not.
    reply = await slack.command("arrest B-4 at 2026-11-27T14:00:00Z")

    assert "18h 00m left" in reply.text
    [logged_jail] = await fake_slack.wait_for_posts(1, channel=JAIL)
    assert "18h 00m left" in logged_jail["text"]
    [custody] = await service.store.find_custodies("B-4")
    planned = await service.store.notices_for(custody.id)
    leads = sorted({n.lead_seconds for n in planned if n.kind is NoticeKind.REMINDER}, reverse=True)
    assert leads == [43200, 14400, 3600, 1800]
    clock.set(custody.deadline - timedelta(hours=12))
    await fake_slack.wait_for_posts(4)
    assert [payload(p).get("lead_seconds") for p in fake_slack.posts(JAIL)] == [None, 43200]


async def test_arrest_past_its_deadline_is_accepted_and_expires_at_once(
    slack: SignedSlackClient, fake_slack: FakeSlack
) -> None:
    reply = await slack.command("arrest B-5 at 2026-11-25 08:00")

    assert reply.status == 200
    assert "already expired" in reply.text
    await fake_slack.wait_for_posts(4)
    for channel in (JAIL, ICE):
        assert kinds(fake_slack, channel) == ["logged", "expired"]


async def test_status_list_and_help(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    await slack.command("arrest B-LATE at 2026-11-28 10:00")
    await slack.command("arrest B-SOON at 2026-11-27 16:00")
    clock.advance(timedelta(minutes=30))

    listing = await slack.command("list")
    assert listing.text.index("B-SOON") < listing.text.index("B-LATE")
    assert "(2)" in listing.text
    status = await slack.command("status b-soon")
    assert "open" in status.text
    assert "Sun Nov 29, 16:00 CST" in status.text
    assert "25h 30m left" in status.text
    await slack.command("release B-SOON")
    closed = await slack.command("status B-SOON")
    assert "released" in closed.text
    assert "B-SOON" not in (await slack.command("list")).text
    help_reply = await slack.command("help")
    for word in ("arrest", "transfer", "release", "status", "list"):
        assert word in help_reply.text


async def test_each_channel_sees_a_custody_in_plan_order(
    slack: SignedSlackClient,
    fake_slack: FakeSlack,
    clock: FakeClock,
    service: WsoService,
) -> None:
    await slack.command("arrest B-6 at 2026-11-26T19:00:00Z")  # expired an hour ago
    await slack.command("release B-6 window expired")
    for channel in (JAIL, ICE):
        await fake_slack.wait_for_posts(3, channel=channel)
    await settle(service)
    for channel in (JAIL, ICE):
        assert kinds(fake_slack, channel) == ["logged", "expired", "released"]


async def test_stranger_cannot_log_or_close(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    refused = await slack.command("arrest B-7", user_id=STRANGER)
    assert "not one of them" in refused.text
    assert "Nothing was stored" in refused.text
    assert await service.store.list_open_custodies() == []

    await slack.command("arrest B-7", user_id=OFFICER)
    close_refused = await slack.command("release B-7", user_id=STRANGER)
    assert "Nothing was changed" in close_refused.text
    [custody] = await service.store.find_custodies("B-7")
    assert custody.state is CustodyState.OPEN


async def test_duplicate_open_custody_is_refused_with_a_pointer(
    slack: SignedSlackClient, fake_slack: FakeSlack, service: WsoService
) -> None:
    first = await slack.command("arrest B-8 at 13:00")
    second = await slack.command("arrest b-8 at 13:30")

    assert "Logged" in first.text
    assert "already has an open custody" in second.text
    [custody] = await service.store.find_custodies("B-8")
    assert custody.id in second.text
    await fake_slack.wait_for_posts(2)
    channel_notices = [
        n for n in await service.store.notices_for(custody.id) if n.channel in (JAIL, ICE)
    ]
    assert len(channel_notices) == 14


async def test_double_submitted_arrest_is_logged_once_and_answered_twice(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock, service: WsoService
) -> None:
    first = await slack.command("arrest B-10 I-200")
    clock.advance(timedelta(seconds=20))
    again = await slack.command("arrest B-10 I-200")

    assert first.text.startswith(":white_check_mark: Logged")
    assert "Already logged" in again.text
    [custody] = await service.store.find_custodies("B-10")
    assert custody.id in first.text and custody.id in again.text
    await fake_slack.wait_for_posts(2)
    await settle(service)
    assert len(fake_slack.posts()) == 2


async def test_app_home_lists_open_custodies(
    slack: SignedSlackClient, fake_slack: FakeSlack
) -> None:
    await slack.command("arrest B-HOME")
    reply = await slack.event({"type": "app_home_opened", "user": OFFICER, "tab": "home"})

    assert reply.status == 200
    await fake_slack.wait_for(lambda: bool(fake_slack.calls_to("views.publish")))
    view = fake_slack.calls_to("views.publish")[0].payload["view"]
    assert "B-HOME" in str(view)


async def test_healthz_reports_database_and_dispatcher(
    slack: SignedSlackClient, service: WsoService
) -> None:
    healthy = await slack.get_json("/healthz")
    assert healthy.status == 200
    assert healthy.json["ok"] is True
    assert healthy.json["database"] == "ok"
    assert healthy.json["dispatcher"] == "running"

    await service.dispatcher.stop()
    stopped = await slack.get_json("/healthz")
    assert stopped.status == 503
    assert stopped.json["dispatcher"] == "stopped"


class UnreachableStore(SqliteCustodyStore):
    """A real SQLite store whose health check can be made to fail, as a dead disk would."""

    reachable = True

    async def ping(self) -> None:
        if not self.reachable:
            raise sqlite3.OperationalError("disk I/O error")
        await super().ping()


async def test_healthz_is_503_when_the_database_is_unreachable(
    fake_slack: FakeSlack, db_path: Path, config: Config, clock: FakeClock
) -> None:
    store = UnreachableStore(db_path)
    service = WsoService(make_settings(fake_slack, db_path), config, clock=clock, store=store)
    await service.start(host="127.0.0.1", port=0)
    try:
        async with SignedSlackClient(f"http://127.0.0.1:{service.port}", SIGNING_SECRET) as slack:
            assert (await slack.get_json("/healthz")).status == 200
            store.reachable = False
            unreachable = await slack.get_json("/healthz")
    finally:
        await service.stop()

    assert unreachable.status == 503
    assert unreachable.json["ok"] is False
    assert unreachable.json["database"].startswith("error")


async def test_notice_states_after_a_full_run(
    slack: SignedSlackClient, fake_slack: FakeSlack, clock: FakeClock, service: WsoService
) -> None:
    await slack.command("arrest B-9")
    clock.set(DEADLINE)
    await fake_slack.wait_for_posts(4)  # logged + expired in both channels
    [custody] = await service.store.find_custodies("B-9")
    notices = [n for n in await service.store.notices_for(custody.id) if n.channel in (JAIL, ICE)]
    reminders = [n for n in notices if n.kind is NoticeKind.REMINDER]
    assert {n.state for n in reminders} == {NoticeState.SKIPPED}
    assert all(n.state is NoticeState.SENT and n.message_ts for n in notices if n not in reminders)
