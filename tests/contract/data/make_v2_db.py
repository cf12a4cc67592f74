"""Write ``wso-v2.db``: a small database as the release with schema version 2 leaves it.

Run with the code at commit 5d5eb34 (schema version 2), from the repository root:

    git worktree add /tmp/wso-v2 5d5eb34
    cd /tmp/wso-v2 && python tests/contract/data/make_v2_db.py /path/to/wso-v2.db

Everything is written through the store's public calls, as the bot writes it: two
open custodies and two closed ones, notices pending, sent and skipped for every target
spelling (a Slack channel, a DM, ``pagerduty``, ``webhook:0``, both escalation chains,
``backup:C…``), an acknowledgement, audit rows and an on-call override.
``tests/contract/test_store_migration.py`` opens a copy with the current code.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.model import AuditEntry, Custody, CustodyState, Notice, NoticeKind, WarrantForm
from storage.interface import OncallOverrideRecord
from storage.sqlite_store import SqliteCustodyStore

LOGGED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CHANNEL = "C0FACILITY1"
OFFICER = "U0OFFICER1"


def custody(number: int, *, hours_ago: int) -> Custody:
    arrested = LOGGED - timedelta(hours=hours_ago)
    return Custody(
        id=f"custody-{number}",
        facility_id="fac-1" if number % 2 else "fac-2",
        booking=f"B-{1000 + number}",
        arrested_at=arrested,
        deadline=arrested + timedelta(hours=48),
        logged_by=OFFICER,
        logged_at=LOGGED,
        warrant_form=WarrantForm.I_200 if number % 2 else None,
        warrant_number="W-77" if number % 2 else None,
    )


def notices_for(custody: Custody) -> list[Notice]:
    """One notice per target spelling, due around the deadline, as the plan writes them."""
    deadline = custody.deadline
    c = custody.id
    return [
        Notice(f"{c}-logged", c, NoticeKind.LOGGED, CHANNEL, LOGGED),
        Notice(f"{c}-r24", c, NoticeKind.REMINDER, CHANNEL, deadline - timedelta(hours=24), 86400),
        Notice(f"{c}-r4", c, NoticeKind.REMINDER, CHANNEL, deadline - timedelta(hours=4), 14400),
        Notice(f"{c}-dm", c, NoticeKind.REMINDER, "U0SUPERVISOR", deadline - timedelta(hours=4)),
        Notice(f"{c}-expired", c, NoticeKind.EXPIRED, CHANNEL, deadline),
        Notice(f"{c}-pd", c, NoticeKind.EXPIRED, "pagerduty", deadline),
        Notice(f"{c}-hook", c, NoticeKind.EXPIRED, "webhook:0", deadline),
        Notice(f"{c}-backup", c, NoticeKind.BACKUP, f"backup:{CHANNEL}", LOGGED),
        Notice(f"{c}-step1", c, NoticeKind.PAGE_STEP, "escalation", deadline, level=1, round=1),
        Notice(
            f"{c}-ice1",
            c,
            NoticeKind.PAGE_STEP,
            "ice_escalation",
            deadline - timedelta(hours=2),
            level=1,
            round=1,
        ),
    ]


def audit(custody: Custody, action: str, at: datetime) -> AuditEntry:
    return AuditEntry(at, OFFICER, action, custody.id, {"booking": custody.booking})


async def write(path: Path) -> None:
    store = SqliteCustodyStore(path)
    await store.open()
    try:
        custodies = [custody(n, hours_ago=h) for n, h in ((1, 2), (2, 30), (3, 10), (4, 50))]
        for each in custodies:
            await store.add_custody(each, notices_for(each), audit(each, "custody.logged", LOGGED))
        sent_at = LOGGED + timedelta(minutes=1)
        for each in custodies:
            for suffix in ("logged", "backup"):
                notice_id = f"{each.id}-{suffix}"
                await store.mark_sending(notice_id, sent_at)
                await store.mark_sent(notice_id, sent_at, "1772442060.000100", CHANNEL)
        # Custody 2 is past its 24 h reminder: that one went out; its DM page failed once.
        await store.mark_sending("custody-2-r24", sent_at)
        await store.mark_sent("custody-2-r24", sent_at, "1772442061.000200", CHANNEL)
        await store.mark_sending("custody-2-dm", sent_at)
        await store.mark_failed(
            "custody-2-dm",
            error="ratelimited",
            retry_at=sent_at + timedelta(minutes=5),
            may_have_posted=False,
        )
        # Custody 4 is past its deadline: the 24 h reminder was superseded; the chain paged.
        await store.skip_notices(["custody-4-r24"], "superseded")
        pages = [
            Notice(
                "custody-4-page-1",
                "custody-4",
                NoticeKind.ESCALATION,
                "U0ONCALL1",
                sent_at,
                level=1,
                round=1,
                detail={"chain": "escalation"},
            )
        ]
        await store.expand_step("custody-4-step1", pages, sent_at)
        ack_at = sent_at + timedelta(minutes=3)
        acked = await store.get_custody("custody-4")
        assert acked is not None
        await store.acknowledge(
            "custody-4",
            at=ack_at,
            by="U0ONCALL1",
            cancel_step_ids=["custody-4-ice1"],
            new_notices=[
                Notice("custody-4-acked", "custody-4", NoticeKind.ACKNOWLEDGED, CHANNEL, ack_at)
            ],
            audit=audit(acked, "custody.acknowledged", ack_at),
            expected_acknowledged_at=None,
        )
        # Custodies 3 and 4 are closed: transferred and released.
        for custody_id, state in (
            ("custody-3", CustodyState.TRANSFERRED),
            ("custody-4", CustodyState.RELEASED),
        ):
            closing = await store.get_custody(custody_id)
            assert closing is not None
            close_at = ack_at + timedelta(minutes=10)
            await store.close_custody(
                custody_id,
                state=state,
                at=close_at,
                by=OFFICER,
                reason="picked up by ICE" if state is CustodyState.TRANSFERRED else None,
                closing_notices=[
                    Notice(
                        f"{custody_id}-closed",
                        custody_id,
                        NoticeKind(state.value),
                        CHANNEL,
                        close_at,
                    )
                ],
                audit=audit(closing, f"custody.{state.value}", close_at),
            )
        override = OncallOverrideRecord(
            schedule_id="sched-1",
            user_id="U0COVER",
            starts_at=LOGGED,
            ends_at=LOGGED + timedelta(days=30),
            created_by=OFFICER,
            created_at=LOGGED,
        )
        await store.add_oncall_override(
            override, AuditEntry(LOGGED, OFFICER, "oncall.override", None, {"schedule": "sched-1"})
        )
    finally:
        await store.close()


def main() -> None:
    write_file(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/contract/data/wso-v2.db"))


def write_file(path: Path) -> None:
    """Write the database at ``path`` (replacing any), folded into one small file."""
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    asyncio.run(write(path))
    path.with_name(path.name + ".lock").unlink(missing_ok=True)
    # One small self-contained file: the WAL folded in, rollback journal, small pages.
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=DELETE")
    connection.execute("PRAGMA page_size=1024")
    connection.execute("VACUUM")
    connection.close()


if __name__ == "__main__":
    main()
