"""The store's ledger of certification reminders: once per officer and expiry date.

Runs for every store (``STORE_FACTORIES``), like ``test_store_contract``, on a real
database file; a reopened store sees what the first one recorded (a restart).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from bot.core.certification_plan import CertificationReminder
from storage.certification_ledger import ReminderState
from storage.interface import CustodyStore
from tests.contract.test_store_contract import (
    JAIL,
    T0,
    any_store,
    new_store,
    opened,
    store_factory,
)

__all__ = ["any_store", "new_store", "store_factory"]  # fixtures, used by name

DANA = CertificationReminder("U0AAA", date(2027, 1, 15), "county-jail", JAIL, T0)
SAM = CertificationReminder("U0BBB", date(2027, 2, 1), "county-jail", JAIL, T0 + timedelta(days=1))


async def test_a_reminder_is_stored_once_per_officer_and_expiry_date(
    any_store: CustodyStore,
) -> None:
    ledger = any_store.certifications

    assert await ledger.add([DANA, SAM]) == [DANA, SAM]
    # Planned again (the next pass, another facility's channel): the first one stands.
    moved = CertificationReminder(DANA.user_id, DANA.expires_on, "north-annex", "C0N", T0)
    assert await ledger.add([DANA, moved]) == []
    renewed = CertificationReminder(DANA.user_id, date(2029, 1, 15), "county-jail", JAIL, T0)
    assert await ledger.add([renewed]) == [renewed]

    assert await ledger.planned() == {DANA.key, SAM.key, renewed.key}
    assert [r.reminder for r in await ledger.unsent()] == [DANA, renewed, SAM]


async def test_claimed_sent_failed_and_skipped_reminders(any_store: CustodyStore) -> None:
    ledger = any_store.certifications
    await ledger.add([DANA, SAM])
    at = T0 + timedelta(minutes=1)

    assert await ledger.mark_sending(DANA.id, at)
    [claimed, _] = await ledger.unsent()
    assert (claimed.state, claimed.attempts, claimed.attempted_at) == (
        ReminderState.SENDING,
        1,
        at,
    )
    await ledger.mark_failed(
        DANA.id, error="http_503", retry_at=at + timedelta(seconds=1), may_have_posted=True
    )
    await ledger.mark_failed(
        DANA.id, error="ratelimited", retry_at=at + timedelta(seconds=2), may_have_posted=False
    )
    [failed, _] = await ledger.unsent()
    # The doubt of the first failure stays until the reminder is found or sent.
    assert (failed.state, failed.may_have_posted, failed.last_error) == (
        ReminderState.PENDING,
        True,
        "ratelimited",
    )
    assert failed.ready_at() == at + timedelta(seconds=2)

    await ledger.mark_sent(DANA.id, at, "1700000000.000100")
    await ledger.mark_sent(DANA.id, at + timedelta(hours=1), "1700000000.999999")
    assert not await ledger.mark_sending(DANA.id, at)
    await ledger.mark_skipped(SAM.id, "not on the roster any more")
    assert await ledger.unsent() == []
    assert await ledger.planned() == {DANA.key, SAM.key}


async def test_the_ledger_survives_a_restart(new_store: Callable[[], CustodyStore]) -> None:
    async with opened(new_store) as first:
        await first.certifications.add([DANA])
        await first.certifications.mark_sending(DANA.id, T0)

    async with opened(new_store) as second:
        [left] = await second.certifications.unsent()
        assert await second.certifications.add([DANA]) == []

    assert left.state is ReminderState.SENDING  # claimed before a crash: looked for first
