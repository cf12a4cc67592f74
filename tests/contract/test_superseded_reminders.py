"""Which reminders a later one supersedes: the store's SQL sweep agrees with the core's rule.

``bot.core.notice_plan.triage`` is the rule, applied to a batch of ready notices;
``skip_superseded_reminders`` is its fast path, applied in SQL to the whole backlog
after downtime. Whatever the set (reminders and expiries due in any order, ties,
retries pending, attempts that may have reached Slack), given every pending notice
due by ``now``, the rule skips exactly the ready reminders the sweep skips, and each
ready one it would look up in Slack (it may have been posted) the sweep leaves pending.

What differs in the running bot, and why it is safe: the dispatcher gives ``triage``
only a batch of ready notices, read just after the sweep in the same tick. A later
reminder or expiry that is due but waiting for its retry is not in the batch, so the
sweep (which sees it) decides; one that may be in Slack and is not found there is
checked against the store again before posting (``notice_plan.is_superseded``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.model import AuditEntry, Custody, Notice, NoticeKind, NoticeState
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


# What an earlier attempt left on a notice, applied after the plans are stored.
ATTEMPTS = ("none", "crash_after_post", "timeout", "refused")


@st.composite
def thread(draw: st.DrawFn, custody_id: str, target: str) -> list[tuple[Notice, str, int]]:
    """One custody's notices to one target in any order (due times may tie), each with an
    earlier attempt and the minute a failed one is retried at."""
    minutes = draw(st.lists(st.integers(0, 600), min_size=0, max_size=6))
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
    if draw(st.booleans()):
        minute = draw(st.integers(0, 720))
        notices.append(
            Notice(
                f"{custody_id}-{target}-expired",
                custody_id,
                NoticeKind.EXPIRED,
                target,
                T0 + timedelta(minutes=minute),
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
    return [
        (notice, draw(st.sampled_from(ATTEMPTS)), draw(st.integers(0, 780)))
        for notice in draw(st.permutations(notices))
    ]


Backlog = dict[str, list[tuple[Notice, str, int]]]


@st.composite
def backlogs(draw: st.DrawFn) -> Backlog:
    """Notices of one to three custodies, each to one or more targets."""
    found: Backlog = {}
    for number in range(draw(st.integers(1, 3))):
        custody_id = f"c{number}"
        targets = draw(st.lists(st.sampled_from(TARGETS), min_size=1, max_size=3, unique=True))
        found[custody_id] = [n for target in targets for n in draw(thread(custody_id, target))]
    return found


async def earlier_attempt(store: SqliteCustodyStore, notice_id: str, how: str, minute: int) -> None:
    retry_at = T0 + timedelta(minutes=minute)
    if how == "crash_after_post":
        assert await store.mark_sending(notice_id, T0)
        await store.mark_pending(notice_id, may_have_posted=True)
    elif how in ("timeout", "refused"):
        await store.mark_failed(
            notice_id, error=how, retry_at=retry_at, may_have_posted=how == "timeout", attempts=1
        )


async def swept_by_sql(
    backlog: Backlog, now: datetime
) -> tuple[list[Notice], set[str], list[Notice]]:
    """Every notice before the sweep (as stored, with seq), which were ready (a failed
    notice holds back the later ones of its channel), and every notice after it."""
    store = SqliteCustodyStore(":memory:")
    await store.open()
    try:
        for custody_id, planned in backlog.items():
            logged = custody(custody_id)
            audit = AuditEntry(logged.logged_at, "U0AAA", "arrest_logged", custody_id)
            await store.add_custody(logged, [notice for notice, _, _ in planned], audit)
        for planned in backlog.values():
            for notice, how, minute in planned:
                await earlier_attempt(store, notice.id, how, minute)
        before = [n for custody_id in backlog for n in await store.notices_for(custody_id)]
        ready = {n.id for n in await store.ready_notices(now, len(before) + 1)}
        await store.skip_superseded_reminders(now)
        after = [n for custody_id in backlog for n in await store.notices_for(custody_id)]
        return before, ready, after
    finally:
        await store.close()


@settings(max_examples=200, deadline=None)
@given(backlog=backlogs(), now_minute=st.integers(0, 780))
def test_the_sql_sweep_skips_the_reminders_the_core_rule_supersedes(
    backlog: Backlog, now_minute: int
) -> None:
    now = T0 + timedelta(minutes=now_minute)
    before, ready_ids, after = asyncio.run(swept_by_sql(backlog, now))
    due = [n for n in before if n.state is NoticeState.PENDING and n.due_at <= now]
    rule = triage(due)

    def ready(notices: tuple[Notice, ...]) -> set[str]:
        return {n.id for n in notices if n.kind is NoticeKind.REMINDER and n.id in ready_ids}

    swept = {n.id for n in after if n.last_error == "superseded"}
    assert swept == ready(rule.skip)
    states = {n.id: n.state for n in after}
    assert ready(rule.look_up) <= {id_ for id_, state in states.items() if state == "pending"}
    assert all(n.may_have_posted for n in rule.look_up)
