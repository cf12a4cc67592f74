"""Write ``wso-v7.db``: a database as the last release before the audit chain (schema
version 7) leaves it, with the personal text that release kept inside its audit rows.

Run with the code at the last commit with schema version 7 (267ba94), from the
repository root:

    mkdir /tmp/wso-v7 && git archive 267ba94 | tar -x -C /tmp/wso-v7
    cp tests/contract/data/make_v7_db.py /tmp/wso-v7/tests/contract/data/
    cd /tmp/wso-v7 && PYTHONPATH=. python tests/contract/data/make_v7_db.py /path/to/wso-v7.db

Written through the store's public calls, with audit rows made by that release's
``bot.core.audit`` (``reason``, ``text``, ``received_by`` in ``detail``): a custody with an
A-number, noted and released with a reason; one disputed and then transferred to a named
officer; one still open, with an A-number and a note, counted again under another rule;
and an on-call override. ``tests/contract/test_audit_migration.py`` opens a copy with the
current code.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core import audit
from bot.core.model import CountingRule, Custody, CustodyState, Notice, NoticeKind
from storage.interface import OncallOverrideRecord
from storage.sqlite import SqliteCustodyStore

LOGGED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
JAIL = "C0JAIL"
OFFICER = "U0AAA"
DESK = "U0DESK"
# The personal text this file holds, which a purge must erase (the test looks for it).
RELEASE_REASON = "bail posted by his sister"
NOTE = "brother will bring his medication"
DISPUTE = "says he was born in El Paso"
RECEIVED_BY = "Officer Diaz, badge 4471"
OPEN_NOTE = "interpreter needed: Mam"
A_NUMBERS = {1: "A012345678", 3: "A098765432"}


def custody(number: int) -> Custody:
    return Custody(
        id=f"custody-{number}",
        facility_id="county-jail",
        booking=f"B-{1000 + number}",
        arrested_at=LOGGED,
        deadline=LOGGED + timedelta(hours=48),
        logged_by=OFFICER,
        logged_at=LOGGED,
        a_number=A_NUMBERS.get(number),
    )


def note_notice(c: Custody, suffix: str, at: datetime, **detail: str) -> Notice:
    return Notice(f"{c.id}-{suffix}", c.id, NoticeKind.NOTE, JAIL, at, detail=detail)


async def write(path: Path) -> None:
    store = SqliteCustodyStore(path)
    await store.open()
    try:
        for number in (1, 2, 3):
            c = custody(number)
            logged = [Notice(f"{c.id}-logged", c.id, NoticeKind.LOGGED, JAIL, LOGGED)]
            entry = audit.arrest_logged(LOGGED, OFFICER, JAIL, c, None)
            await store.add_custody(c, logged, entry)
        released, transferred, still_open = custody(1), custody(2), custody(3)
        at = LOGGED + timedelta(hours=2)
        for c, text in ((released, NOTE), (still_open, OPEN_NOTE)):
            await store.add_to_open_custody(
                c.id,
                [note_notice(c, "note", at, by=OFFICER, text=text)],
                audit.custody_entry(at, OFFICER, JAIL, "note_added", c, text=text),
            )
        await store.dispute_custody(
            transferred.id,
            at=at,
            by=OFFICER,
            note=DISPUTE,
            new_notices=[
                Notice(
                    f"{transferred.id}-disputed",
                    transferred.id,
                    NoticeKind.DISPUTED,
                    JAIL,
                    at,
                    detail={"by": OFFICER, "note": DISPUTE},
                )
            ],
            audit=audit.custody_entry(
                at, OFFICER, JAIL, "custody_disputed", transferred, note=DISPUTE
            ),
        )
        recounted = replace(
            still_open,
            deadline=LOGGED + timedelta(hours=72),
            counting_rule=CountingRule.EXCLUDING_WEEKENDS_HOLIDAYS,
            holiday_region="US",
        )
        await store.correct_custody(
            expected=still_open,
            corrected=recounted,
            at=at,
            new_notices=[],
            audit=audit.custody_corrected(at, DESK, JAIL, still_open, recounted, "holidays 0.109"),
        )
        closed_at = LOGGED + timedelta(hours=20)
        await store.close_custody(
            released.id,
            state=CustodyState.RELEASED,
            at=closed_at,
            by=DESK,
            reason=RELEASE_REASON,
            closing_notices=[],
            audit=audit.custody_closed(
                closed_at, DESK, JAIL, released, CustodyState.RELEASED, RELEASE_REASON
            ),
        )
        await store.close_custody(
            transferred.id,
            state=CustodyState.TRANSFERRED,
            at=closed_at,
            by=DESK,
            reason=None,
            closing_notices=[],
            audit=audit.custody_closed(
                closed_at,
                DESK,
                JAIL,
                transferred,
                CustodyState.TRANSFERRED,
                None,
                received_by=RECEIVED_BY,
                taken_at=closed_at.isoformat(),
            ),
            received_by=RECEIVED_BY,
            taken_at=closed_at,
        )
        ends = LOGGED + timedelta(days=1)
        await store.add_oncall_override(
            OncallOverrideRecord("night", "U0COVER", LOGGED, ends, DESK, LOGGED),
            audit.oncall_override(LOGGED, DESK, "night", "U0COVER", ends),
        )
    finally:
        await store.close()


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/contract/data/wso-v7.db")
    path.unlink(missing_ok=True)
    asyncio.run(write(path))


if __name__ == "__main__":
    main()
