"""Start-up reconciliation of Slack-side backup expiry notices with the database.

Slack may have lost a scheduled backup (deleted by hand, workspace change), and a
crash may have left one Slack knows but the database does not (scheduled, then
killed before recording it). At start-up the bot re-creates the missing ones for
open custodies and deletes the orphans, so each open custody has exactly one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.chat.notices import custody_of_backup
from bot.core.backup_plan import backup_again, worth_scheduling
from bot.core.facility import Config
from bot.core.model import Custody, Notice
from bot.core.retry import DeliveryFailed
from storage.interface import CustodyStore

log = logging.getLogger("wso.backups")


class ScheduledMessages(Protocol):
    async def scheduled_messages(self) -> list[dict[str, Any]]: ...

    async def delete_scheduled_message(self, channel: str, scheduled_message_id: str) -> None: ...


def missing_backups(
    recorded: Sequence[tuple[Custody, Notice]],
    scheduled_ids: set[str],
    config: Config,
    now: datetime,
) -> list[Notice]:
    """New backup notices for open custodies whose scheduled backup Slack no longer has."""
    fresh: list[Notice] = []
    for custody, backup in recorded:
        if (
            not custody.is_open
            or backup.message_ts in scheduled_ids
            or not worth_scheduling(custody, config.reminders, now)
        ):
            continue
        facility = config.facility(custody.facility_id)
        if facility is not None:
            fresh.append(backup_again(custody, facility, now))
    return fresh


def orphan_backups(
    scheduled: Sequence[dict[str, Any]], recorded: Sequence[tuple[Custody, Notice]]
) -> list[tuple[str, str]]:
    """(channel, id) of our scheduled backups that no open custody records as its own."""
    wanted = {b.message_ts for c, b in recorded if c.is_open}
    orphans = []
    for message in scheduled:
        ours = custody_of_backup(str(message.get("text") or ""))
        if ours and message.get("id") not in wanted:
            orphans.append((str(message.get("channel_id")), str(message.get("id"))))
    return orphans


async def reconcile_backups(
    store: CustodyStore, slack: ScheduledMessages, config: Config, now: datetime
) -> None:
    """Re-create missing backups and delete orphans; a Slack outage just skips it."""
    try:
        scheduled = await slack.scheduled_messages()
        recorded = await store.scheduled_backups()
        fresh = missing_backups(recorded, {str(m.get("id")) for m in scheduled}, config, now)
        if fresh:
            await store.add_notices(fresh)
        for channel, scheduled_id in orphan_backups(scheduled, recorded):
            await slack.delete_scheduled_message(channel, scheduled_id)
    except DeliveryFailed as error:
        log.warning("backups.reconcile_skipped", extra={"error": error.failure.code})
        return
    log.info("backups.reconciled", extra={"recreated": len(fresh)})
