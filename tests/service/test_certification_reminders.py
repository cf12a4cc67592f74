"""The certification expiry reminder: in the jail channel 30 days before, exactly once.

A fake clock moves time; the fake Slack records every post; the ledger is a real
SQLite file that restarts, crashes and roster reloads share.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import WsoService
from bot.config import Config, load_config
from bot.core.certification_plan import CertificationReminder
from bot.services.clock import FakeClock
from storage.sqlite import SqliteCustodyStore
from tests.conftest import JAIL, OFFICER, StartService
from tests.fakes.roster_files import COUNTY, ROSTER_KEY, facility_toml, write_config, write_roster
from tests.fakes.slack import FakeSlack
from tests.fakes.waiting import settle_certifications

DANA = f"{OFFICER},Dana Reyes,4417,county-jail,2025-01-15,2027-01-15"
SAM = "U0BBB,Sam Lee,5102,county-jail,2025-01-15,2028-06-30"
# 30 days before Fri 2027-01-15 is Wed 2026-12-16; 09:00 CST is 15:00 UTC.
DUE = datetime(2026, 12, 16, 15, 0, tzinfo=UTC)
REMINDER = CertificationReminder(OFFICER, date(2027, 1, 15), "county-jail", JAIL, DUE)
TOML = ROSTER_KEY + facility_toml(*COUNTY)


@pytest.fixture
def roster_config(tmp_path: Path) -> Config:
    return load_config(write_config(tmp_path, TOML, DANA, SAM))


def reminders_posted(fake_slack: FakeSlack) -> list[dict[str, Any]]:
    return [
        post
        for post in fake_slack.posts(JAIL)
        if (post.get("metadata") or {}).get("event_type") == "wso_certification"
    ]


async def at(service: WsoService, clock: FakeClock, instant: datetime) -> None:
    """Move the clock to ``instant`` and wait until the reminders' loop has looked."""
    clock.set(instant)
    await settle_certifications(service.certifications, instant)


async def test_the_reminder_goes_out_30_days_before_exactly_once(
    start_service: StartService, roster_config: Config, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    service, _ = await start_service(config=roster_config)
    await settle_certifications(service.certifications, clock.now())
    assert reminders_posted(fake_slack) == []

    await at(service, clock, DUE - timedelta(seconds=1))
    assert reminders_posted(fake_slack) == []

    await at(service, clock, DUE)
    [posted] = reminders_posted(fake_slack)
    assert (
        "Dana Reyes, badge 4417 (<@U0AAA>) is certified through Fri Jan 15, 2027"
        in (posted["text"])
    )
    assert posted["metadata"]["event_payload"]["notice_id"] == REMINDER.id

    await at(service, clock, DUE + timedelta(days=1))
    await at(service, clock, DUE + timedelta(days=29))
    assert service.reload_roster()
    await settle_certifications(service.certifications, clock.now())
    assert len(reminders_posted(fake_slack)) == 1


async def test_a_restart_does_not_send_it_again(
    start_service: StartService, roster_config: Config, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    first, _ = await start_service(config=roster_config)
    await at(first, clock, DUE + timedelta(hours=2))
    assert len(reminders_posted(fake_slack)) == 1
    await first.stop()

    second, _ = await start_service(config=roster_config)
    await settle_certifications(second.certifications, clock.now())
    await at(second, clock, DUE + timedelta(days=3))

    assert len(reminders_posted(fake_slack)) == 1
    assert await second.store.certifications.unsent() == []


@pytest.mark.parametrize("already_in_slack", [True, False], ids=["posted", "not-posted"])
async def test_a_reminder_a_crash_left_in_doubt_is_looked_for_before_it_is_posted(
    start_service: StartService,
    roster_config: Config,
    fake_slack: FakeSlack,
    clock: FakeClock,
    db_path: Path,
    already_in_slack: bool,
) -> None:
    clock.set(DUE + timedelta(minutes=5))
    crashed = SqliteCustodyStore(db_path)
    await crashed.open()
    await crashed.certifications.add([REMINDER])
    await crashed.certifications.mark_sending(REMINDER.id, DUE)  # then: kill -9
    await crashed.close()
    if already_in_slack:
        metadata = {"event_type": "wso_certification", "event_payload": {"notice_id": REMINDER.id}}
        fake_slack.inject_message(JAIL, text="WSO certification expiring", metadata=metadata)

    service, _ = await start_service(config=roster_config)
    await settle_certifications(service.certifications, clock.now())

    assert len(reminders_posted(fake_slack)) == (0 if already_in_slack else 1)
    assert fake_slack.calls_to("conversations.history")
    assert await service.store.certifications.unsent() == []


async def test_a_failed_post_is_retried_and_lands_once(
    start_service: StartService, roster_config: Config, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    service, _ = await start_service(config=roster_config)
    fake_slack.fail_next("chat.postMessage", status=503)

    await at(service, clock, DUE)
    assert reminders_posted(fake_slack) == []
    [waiting] = await service.store.certifications.unsent()
    assert (waiting.last_error, waiting.may_have_posted) == ("http_503", True)

    await at(service, clock, DUE + timedelta(seconds=1))  # the first back-off: 1 s
    assert len(reminders_posted(fake_slack)) == 1
    await at(service, clock, DUE + timedelta(minutes=10))
    assert len(reminders_posted(fake_slack)) == 1


async def test_a_certification_renewed_before_its_reminder_went_out_is_not_reminded(
    start_service: StartService,
    roster_config: Config,
    fake_slack: FakeSlack,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    service, _ = await start_service(config=roster_config)
    fake_slack.fail_channel(JAIL, "not_in_channel")
    await at(service, clock, DUE)
    assert [r.last_error for r in await service.store.certifications.unsent()] == ["not_in_channel"]

    write_roster(tmp_path, DANA.replace("2027-01-15", "2029-01-15"), SAM)
    assert service.reload_roster()
    fake_slack.clear_faults()
    await settle_certifications(service.certifications, clock.now())
    await at(service, clock, DUE + timedelta(minutes=10))

    assert reminders_posted(fake_slack) == []
    assert await service.store.certifications.unsent() == []


async def test_a_reminder_slack_kept_out_until_the_certification_ended_is_not_posted_late(
    start_service: StartService, roster_config: Config, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    service, _ = await start_service(config=roster_config)
    fake_slack.fail_channel(JAIL, "channel_not_found")
    await at(service, clock, DUE)
    await at(service, clock, datetime(2027, 1, 16, 5, 59, tzinfo=UTC))  # Fri 23:59 CST
    assert len(await service.store.certifications.unsent()) == 1

    fake_slack.clear_faults()
    # Sat 00:10 CST: expired, and past the 5-minute retry of an error a person must fix.
    await at(service, clock, datetime(2027, 1, 16, 6, 10, tzinfo=UTC))

    assert reminders_posted(fake_slack) == []
    assert await service.store.certifications.unsent() == []
