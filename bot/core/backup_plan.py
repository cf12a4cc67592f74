"""When Slack's own copy of the expiry notice is scheduled, and when it is deleted. Pure.

When a custody is logged, Slack is asked (``chat.scheduleMessage``) to post a plain
expiry notice in the jail channel at the deadline plus ``backup_grace``, in case
the bot is dead then. The bot deletes it as soon as its own expiry notice is out
in that channel, or the custody is closed; failing both, it tidies up
``BACKUP_CLEANUP_AFTER`` past the posting time. A backup whose posting time is
less than ``BACKUP_MIN_LEAD`` away is not worth scheduling: the bot's own expiry
notice is due now anyway.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.facility import Facility, Reminders
from bot.core.model import Custody, Notice, NoticeKind
from bot.core.notice_plan import new_notice_id
from bot.core.targets import backup_target

# Slack refuses to schedule a message in the past; too close to now is not worth it either.
BACKUP_MIN_LEAD = timedelta(seconds=10)
# The backup is deleted once the bot's own expiry is out; failing that, tidy up this much later.
BACKUP_CLEANUP_AFTER = timedelta(minutes=10)


def backup_post_at(custody: Custody, reminders: Reminders) -> datetime:
    """When Slack posts the backup: the deadline plus the grace the bot has to post its own."""
    return custody.deadline + reminders.backup_grace


def worth_scheduling(custody: Custody, reminders: Reminders, now: datetime) -> bool:
    """Whether a backup scheduled ``now`` would still be ahead of its posting time."""
    return backup_post_at(custody, reminders) - now >= BACKUP_MIN_LEAD


def plan_backup(
    custody: Custody, facility: Facility, reminders: Reminders, now: datetime
) -> list[Notice]:
    """Schedule Slack's own expiry notice now; plan its deletion for when it is not needed.

    The deletion waits (far in the future) until the bot's own expiry notice is
    posted or the custody is closed, which bring it forward to "now".
    """
    if not worth_scheduling(custody, reminders, now):
        return []
    target = backup_target(facility.jail_channel)
    cleanup_at = backup_post_at(custody, reminders) + BACKUP_CLEANUP_AFTER
    return [
        Notice(new_notice_id(), custody.id, NoticeKind.BACKUP, target, now),
        Notice(new_notice_id(), custody.id, NoticeKind.BACKUP_DELETE, target, cleanup_at),
    ]


def backup_again(custody: Custody, facility: Facility, now: datetime) -> Notice:
    """A new backup for an open custody whose scheduled one Slack no longer has."""
    return Notice(
        new_notice_id(), custody.id, NoticeKind.BACKUP, backup_target(facility.jail_channel), now
    )
