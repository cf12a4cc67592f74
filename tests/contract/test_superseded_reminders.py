"""Which reminders a later one supersedes: the store's SQL sweep agrees with the core's rule.

``bot.core.notice_plan.triage`` is the rule, applied to a batch of ready notices;
``skip_superseded_reminders`` is its fast path, applied in SQL to the whole backlog
after downtime. For notices as the plans make them (each custody and target in due
order, its reminders before its expiry, no retries pending), the two skip the same
reminders whatever the set.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.model import AuditEntry, Custody, Notice, NoticeKind
from bot.core.notice_plan import triage
from storage.sqlite import SqliteCustodyStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TARGETS = ("C0JAIL", "C0ICE", "U0SUPERVISOR", "pagerduty", "webhook:0")
NOISE_KINDS = (NoticeKind.LOGGED, NoticeKind.BACKUP, NoticeKind.DELIVERY_PROBLEM)


def custody(custody_id: str) -> Custody:
    return Custody(
        id=custody_id,
        facility_id="county-jail",
        booking=f"B-{custody_id}",
        arrested_at=T0 - timedelta(hours=40),
        deadline=T0 + timedelta(hours=8),
        logged_by="U0AAA",
        logged_at=T0 - timedelta(hours=40),
    )


@st.composite
def thread(draw: st.DrawFn, custody_id: str, target: str) -> list[Notice]:
    """One custody's notices to one target, in due (plan) order: reminders, then expiry."""
    minutes = sorted(draw(st.sets(st.integers(0, 600), min_size=0, max_size=6)))
    has_expiry = draw(st.booleans())
    expiry_minute = (minutes[-1] if minutes else 0) + draw(st.integers(1, 120))
    notices = [
        Notice(
            f"{custody_id}-{target}-r{index}",
            custody_id,
            NoticeKind.REMINDER,
            target,
            T0 + timedelta(minutes=minute),
        )
        for index, minute in enumerate(minutes)
    ]
    if has_expiry:
        notices.append(
            Notice(
                f"{custody_id}-{target}-expired",
                custody_id,
                NoticeKind.EXPIRED,
                target,
                T0 + timedelta(minutes=expiry_minute),
            )
        )
    for index, kind in enumerate(draw(st.lists(st.sampled_from(NOISE_KINDS), max_size=2))):
        minute = draw(st.integers(0, 720))
        notices.append(
            Notice(
                f"{custody_id}-{target}-x{index}",
                custody_id,
                kind,
                target,
                T0 + timedelta(minutes=minute),
            )
        )
    return notices


@st.composite
def backlogs(draw: st.DrawFn) -> dict[str, list[Notice]]:
    """Notices of one to three custodies, each to one or more targets."""
    found: dict[str, list[Notice]] = {}
    for number in range(draw(st.integers(1, 3))):
        custody_id = f"c{number}"
        targets = draw(st.lists(st.sampled_from(TARGETS), min_size=1, max_size=3, unique=True))
        found[custody_id] = [n for target in targets for n in draw(thread(custody_id, target))]
    return found


async def swept_by_sql(backlog: dict[str, list[Notice]], now: datetime) -> set[str]:
    store = SqliteCustodyStore(":memory:")
    await store.open()
    try:
        for custody_id, notices in backlog.items():
            logged = custody(custody_id)
            audit = AuditEntry(logged.logged_at, "U0AAA", "arrest_logged", custody_id)
            await store.add_custody(logged, notices, audit)
        await store.skip_superseded_reminders(now)
        return {
            n.id
            for custody_id in backlog
            for n in await store.notices_for(custody_id)
            if n.last_error == "superseded"
        }
    finally:
        await store.close()


def skipped_by_rule(backlog: dict[str, list[Notice]], now: datetime) -> set[str]:
    ready = [n for notices in backlog.values() for n in notices if n.due_at <= now]
    return {n.id for n in triage(ready).skip if n.kind is NoticeKind.REMINDER}


@settings(max_examples=150, deadline=None)
@given(backlog=backlogs(), now_minute=st.integers(0, 780))
def test_the_sql_sweep_skips_the_reminders_the_core_rule_supersedes(
    backlog: dict[str, list[Notice]], now_minute: int
) -> None:
    now = T0 + timedelta(minutes=now_minute)
    assert asyncio.run(swept_by_sql(backlog, now)) == skipped_by_rule(backlog, now)
