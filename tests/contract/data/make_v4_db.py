"""Write ``wso-v4.db``: a database as the last release with schema version 4 leaves it,
with the personal text that release kept inside its audit rows.

Run with the code at commit d7ef56b (schema version 4), from the repository root:

    mkdir /tmp/wso-v4 && git archive d7ef56b | tar -x -C /tmp/wso-v4
    cd /tmp/wso-v4 && python tests/contract/data/make_v4_db.py /path/to/wso-v4.db

Written through the store's public calls, with audit rows shaped as that release's
``bot.core.audit`` wrote them (``reason``, ``text``, ``note`` and ``received_by`` in
``detail``): a custody noted and released with a reason, one disputed and then
transferred to a named officer, one still open with a note, and an on-call override.
``tests/contract/test_audit_migration.py`` opens a copy with the current code.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.model import AuditEntry, Custody, CustodyState, Notice, NoticeKind
from storage.interface import OncallOverrideRecord
from storage.sqlite_store import SqliteCustodyStore

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


def custody(number: int) -> Custody:
    return Custody(
        id=f"custody-{number}",
        facility_id="county-jail",
        booking=f"B-{1000 + number}",
        arrested_at=LOGGED,
        deadline=LOGGED + timedelta(hours=48),
        logged_by=OFFICER,
        logged_at=LOGGED,
    )


def entry(c: Custody, at: datetime, actor: str, action: str, **detail: object) -> AuditEntry:
    return AuditEntry(at, actor, action, c.id, {"channel": JAIL, "booking": c.booking, **detail})


def note_notice(c: Custody, suffix: str, at: datetime, **detail: str) -> Notice:
    return Notice(f"{c.id}-{suffix}", c.id, NoticeKind.NOTE, JAIL, at, detail=detail)


async def write(path: Path) -> None:
    store = SqliteCustodyStore(path)
    await store.open()
    try:
        for number in (1, 2, 3):
            c = custody(number)
            logged = [Notice(f"{c.id}-logged", c.id, NoticeKind.LOGGED, JAIL, LOGGED)]
            await store.add_custody(c, logged, entry(c, LOGGED, OFFICER, "arrest_logged"))
        released, transferred, still_open = custody(1), custody(2), custody(3)
        at = LOGGED + timedelta(hours=2)
        await store.add_to_open_custody(
            released.id,
            [note_notice(released, "note", at, by=OFFICER, text=NOTE)],
            entry(released, at, OFFICER, "note_added", text=NOTE),
        )
        await store.add_to_open_custody(
            still_open.id,
            [note_notice(still_open, "note", at, by=OFFICER, text=OPEN_NOTE)],
            entry(still_open, at, OFFICER, "note_added", text=OPEN_NOTE),
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
            audit=entry(transferred, at, OFFICER, "custody_disputed", note=DISPUTE),
        )
        closed_at = LOGGED + timedelta(hours=20)
        await store.close_custody(
            released.id,
            state=CustodyState.RELEASED,
            at=closed_at,
            by=DESK,
            reason=RELEASE_REASON,
            closing_notices=[],
            audit=entry(
                released,
                closed_at,
                DESK,
                "custody_released",
                reason=RELEASE_REASON,
                deadline_passed=False,
            ),
        )
        await store.close_custody(
            transferred.id,
            state=CustodyState.TRANSFERRED,
            at=closed_at,
            by=DESK,
            reason=None,
            closing_notices=[],
            audit=entry(
                transferred,
                closed_at,
                DESK,
                "custody_transferred",
                reason=None,
                deadline_passed=False,
                received_by=RECEIVED_BY,
                taken_at=closed_at.isoformat(),
            ),
            received_by=RECEIVED_BY,
            taken_at=closed_at,
        )
        await store.add_oncall_override(
            OncallOverrideRecord(
                "night", "U0COVER", LOGGED, LOGGED + timedelta(days=1), DESK, LOGGED
            ),
            AuditEntry(
                LOGGED, DESK, "oncall_override", None, {"schedule": "night", "user": "U0COVER"}
            ),
        )
    finally:
        await store.close()


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/contract/data/wso-v4.db")
    path.unlink(missing_ok=True)
    asyncio.run(write(path))


if __name__ == "__main__":
    main()
