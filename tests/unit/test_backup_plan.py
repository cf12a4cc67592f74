"""When Slack's own copy of the expiry notice is scheduled and deleted. Pure, tables."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.core.backup_plan import (
    BACKUP_CLEANUP_AFTER,
    BACKUP_MIN_LEAD,
    backup_again,
    backup_post_at,
    plan_backup,
    worth_scheduling,
)
from bot.core.facility import Reminders
from bot.core.model import NoticeKind
from tests.conftest import ARRESTED, DEADLINE, county_jail, custody

S = timedelta(seconds=1)
CUSTODY = custody(ARRESTED)
FACILITY = county_jail()


@pytest.mark.parametrize(
    ("grace", "post_at"),
    [
        pytest.param(60 * S, DEADLINE + 60 * S, id="the default minute"),
        pytest.param(0 * S, DEADLINE, id="no grace"),
        pytest.param(15 * 60 * S, DEADLINE + 15 * 60 * S, id="a quarter of an hour"),
    ],
)
def test_slack_posts_the_backup_the_grace_after_the_deadline(
    grace: timedelta, post_at: datetime
) -> None:
    assert backup_post_at(CUSTODY, Reminders(backup_grace=grace)) == post_at


POST_AT = DEADLINE + 60 * S  # with the default grace


@pytest.mark.parametrize(
    ("now", "worth"),
    [
        pytest.param(ARRESTED, True, id="logged at the arrest"),
        pytest.param(POST_AT - BACKUP_MIN_LEAD - S, True, id="more than the lead ahead"),
        pytest.param(POST_AT - BACKUP_MIN_LEAD, True, id="exactly the lead ahead"),
        pytest.param(POST_AT - BACKUP_MIN_LEAD + S, False, id="less than the lead ahead"),
        pytest.param(POST_AT, False, id="at the posting time"),
        pytest.param(POST_AT + S, False, id="past it"),
    ],
)
def test_a_backup_is_worth_scheduling_only_at_least_the_lead_ahead(
    now: datetime, worth: bool
) -> None:
    reminders = Reminders()
    assert worth_scheduling(CUSTODY, reminders, now) is worth
    assert bool(plan_backup(CUSTODY, FACILITY, reminders, now)) is worth


@pytest.mark.parametrize(
    "now",
    [
        pytest.param(ARRESTED, id="at the arrest"),
        pytest.param(DEADLINE - timedelta(hours=1), id="an hour before the deadline"),
        pytest.param(POST_AT - BACKUP_MIN_LEAD, id="just in time"),
    ],
)
def test_the_plan_schedules_now_and_deletes_after_the_cleanup_delay(now: datetime) -> None:
    planned = plan_backup(CUSTODY, FACILITY, Reminders(), now)

    rows = [(n.kind, n.channel, n.due_at, n.custody_id) for n in planned]
    assert rows == [
        (NoticeKind.BACKUP, "backup:C0JAIL", now, "c_1"),
        (NoticeKind.BACKUP_DELETE, "backup:C0JAIL", POST_AT + BACKUP_CLEANUP_AFTER, "c_1"),
    ]
    assert len({n.id for n in planned}) == 2


def test_a_lost_backup_is_scheduled_again_now_in_the_jail_channel() -> None:
    now = DEADLINE - timedelta(hours=2)

    again = backup_again(CUSTODY, FACILITY, now)

    assert (again.kind, again.channel, again.due_at) == (NoticeKind.BACKUP, "backup:C0JAIL", now)
