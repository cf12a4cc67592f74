"""Start-up reconciliation reads every page of Slack's scheduled messages, or none of it.

More than 1,000 backups span more than ten pages of ``chat.scheduledMessages.list``:
each must be found, and a listing cut short must never be taken for the whole one
(what it missed would be scheduled again, and Slack would post it twice).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from bot.config import Config
from bot.core.model import AuditEntry, Notice, NoticeKind, NoticeState
from bot.core.notice_plan import new_notice_id
from bot.core.targets import backup_target
from storage.sqlite_store import SqliteCustodyStore
from tests.conftest import JAIL, OFFICER, START, StartService, custody
from tests.fakes.slack import ANSWER_SHAPES, FakeSlack

BACKUPS = 1_120  # twelve pages of 100


StoreBackups = Callable[[int], Awaitable[None]]


@pytest.fixture
def scheduled_backups(
    store: SqliteCustodyStore,
    fake_slack: FakeSlack,
    config: Config,
    caplog: pytest.LogCaptureFixture,
) -> StoreBackups:
    """``await scheduled_backups(n)``: n open custodies, each with a backup Slack holds and
    the database records; the store is closed for a service to open, its logs captured."""

    async def store_them(count: int) -> None:
        await store_scheduled_backups(store, fake_slack, config, count)
        await store.close()
        caplog.set_level(logging.INFO, logger="wso.backups")

    return store_them


async def store_scheduled_backups(
    store: SqliteCustodyStore, fake_slack: FakeSlack, config: Config, count: int
) -> None:
    grace = config.reminders.backup_grace
    custodies = [
        custody(START, id=f"c_{number:032x}", booking=f"B-{number}") for number in range(count)
    ]
    backups = {
        c.id: Notice(new_notice_id(), c.id, NoticeKind.BACKUP, backup_target(JAIL), START)
        for c in custodies
    }
    await asyncio.gather(
        *(
            store.add_custody(c, [backups[c.id]], AuditEntry(START, OFFICER, "arrest", c.id))
            for c in custodies
        )
    )
    for logged in custodies:
        scheduled_id = fake_slack.inject_scheduled(
            JAIL,
            post_at=int((logged.deadline + grace).timestamp()),
            text=f"WSO window expired — booking {logged.booking} (custody {logged.id})",
        )
        await store.mark_sent(backups[logged.id].id, START, scheduled_id, JAIL)


async def backup_notices(store: SqliteCustodyStore) -> list[Notice]:
    open_custodies = await store.list_open_custodies(limit=10_000)
    notices = await asyncio.gather(*(store.notices_for(c.id) for c in open_custodies))
    return [n for group in notices for n in group if n.kind is NoticeKind.BACKUP]


async def test_more_than_a_thousand_backups_are_all_found_and_none_made_twice(
    fake_slack: FakeSlack,
    scheduled_backups: StoreBackups,
    start_service: StartService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await scheduled_backups(BACKUPS)

    service, _ = await start_service()  # reconciliation is done before it returns

    [reconciled] = [r for r in caplog.records if r.getMessage() == "backups.reconciled"]
    assert reconciled.__dict__["recreated"] == 0
    assert len(fake_slack.calls_to("chat.scheduledMessages.list")) == 12
    assert len(fake_slack.scheduled(JAIL)) == BACKUPS
    notices = await backup_notices(service.store)
    assert len(notices) == BACKUPS
    assert {n.state for n in notices} == {NoticeState.SENT}
    assert fake_slack.calls_to("chat.deleteScheduledMessage") == []


async def test_a_listing_cut_short_recreates_nothing(
    fake_slack: FakeSlack,
    scheduled_backups: StoreBackups,
    start_service: StartService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await scheduled_backups(250)
    # Page 1 and 2 are read; page 3 meets Slack's edge in an incident.
    fake_slack.outage(
        ANSWER_SHAPES["plain_503"], methods=["chat.scheduledMessages.list"], after=2, times=1
    )

    service, _ = await start_service()

    [skipped] = [r for r in caplog.records if r.getMessage() == "backups.reconcile_skipped"]
    assert skipped.__dict__["error"] == "http_503"
    assert len(fake_slack.scheduled(JAIL)) == 250
    assert len(await backup_notices(service.store)) == 250
    assert fake_slack.calls_to("chat.deleteScheduledMessage") == []
