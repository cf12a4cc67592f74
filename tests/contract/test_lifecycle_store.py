"""The store's lifecycle calls: the closing states, a correction, a dispute, a note.

Each is a compare-and-set: a second one on a closed (or already changed) custody raises,
changes nothing and says how the custody is now. Runs for every store
(``STORE_FACTORIES``), like ``test_store_contract``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.core.model import CountingRule, CustodyState, NoticeKind, NoticeState
from storage.interface import CustodyChanged, CustodyNotOpen, CustodyStore
from tests.contract.test_store_contract import (
    ICE,
    JAIL,
    OFFICER,
    T0,
    add,
    any_store,
    make_audit,
    make_custody,
    make_notice,
    new_store,
    notices_by_id,
    store_factory,
)

__all__ = ["any_store", "new_store", "store_factory"]  # fixtures, used by name

AT = T0 + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("state", "reason"),
    [(CustodyState.IGSA, None), (CustodyState.VOIDED, "warrant cancelled by ICE")],
    ids=["igsa", "voided"],
)
async def test_a_custody_closes_in_a_new_state_once(
    any_store: CustodyStore, state: CustodyState, reason: str | None
) -> None:
    custody = make_custody()
    stored = await add(any_store, custody)
    closing = [make_notice(custody, "closed", kind=NoticeKind(state.value), due_at=AT)]
    closed = await any_store.close_custody(
        custody.id,
        state=state,
        at=AT,
        by=OFFICER,
        reason=reason,
        closing_notices=closing,
        audit=make_audit(custody.id, f"custody_{state.value}", AT),
    )
    assert (closed.state, closed.closed_by, closed.closed_at, closed.close_reason) == (
        state,
        OFFICER,
        AT,
        reason,
    )
    after = await notices_by_id(any_store, custody.id)
    assert {after[n.id].state for n in stored if n.kind is NoticeKind.REMINDER} == {
        NoticeState.CANCELLED
    }
    with pytest.raises(CustodyNotOpen) as second:
        await any_store.close_custody(
            custody.id,
            state=CustodyState.RELEASED,
            at=AT + timedelta(seconds=1),
            by="U0OTHER",
            reason=None,
            closing_notices=[make_notice(custody, "again", kind=NoticeKind.RELEASED)],
            audit=make_audit(custody.id, "custody_released", AT),
        )
    assert second.value.custody == closed
    assert await any_store.get_custody(custody.id) == closed
    assert len(await any_store.notices_for(custody.id)) == len(stored) + 1
    assert len(await any_store.audit_trail(custody.id)) == 2


async def test_a_transfer_records_who_received_the_person_and_when(
    any_store: CustodyStore,
) -> None:
    custody = make_custody()
    await add(any_store, custody, [])
    taken = AT - timedelta(minutes=20)
    closed = await any_store.close_custody(
        custody.id,
        state=CustodyState.TRANSFERRED,
        at=AT,
        by=OFFICER,
        reason=None,
        closing_notices=[],
        audit=make_audit(custody.id, "custody_transferred", AT),
        received_by="Officer Diaz #4411",
        taken_at=taken,
    )
    assert (closed.received_by, closed.custody_taken_at, closed.closed_at) == (
        "Officer Diaz #4411",
        taken,
        AT,
    )


async def test_a_correction_moves_the_clock_and_replaces_the_pending_plan(
    any_store: CustodyStore,
) -> None:
    custody = make_custody()
    stored = await add(any_store, custody)
    new_arrest = custody.arrested_at - timedelta(hours=3)
    new_expiry = make_notice(custody, "new-exp", kind=NoticeKind.EXPIRED, due_at=AT)
    corrected = await any_store.correct_custody(
        expected=custody,
        corrected=replace(
            custody, arrested_at=new_arrest, deadline=new_arrest + timedelta(hours=48)
        ),
        at=AT,
        new_notices=[new_expiry],
        audit=make_audit(custody.id, "custody_corrected", AT),
    )
    assert (corrected.arrested_at, corrected.corrected_from) == (new_arrest, custody.arrested_at)
    assert corrected.deadline == new_arrest + timedelta(hours=48)
    after = await notices_by_id(any_store, custody.id)
    old_plan = [n for n in stored if n.kind in (NoticeKind.REMINDER, NoticeKind.EXPIRED)]
    assert {after[n.id].state for n in old_plan} == {NoticeState.CANCELLED}
    assert after[new_expiry.id].state is NoticeState.PENDING

    with pytest.raises(CustodyChanged) as stale:  # read before the first correction
        await any_store.correct_custody(
            expected=custody,
            corrected=replace(
                custody,
                arrested_at=new_arrest - timedelta(hours=1),
                deadline=new_arrest + timedelta(hours=47),
            ),
            at=AT,
            new_notices=[],
            audit=make_audit(custody.id, "custody_corrected", AT),
        )
    assert stale.value.custody == corrected
    assert await any_store.get_custody(custody.id) == corrected


async def test_a_correction_records_the_counting_rule_and_keeps_the_arrest_time(
    any_store: CustodyStore,
) -> None:
    """Counted again under another rule: the rule is stored whole, the arrest time stays.

    Here the new rule lands on the same deadline: the compare-and-set still sees the
    change, by the rule the caller read.
    """
    custody = make_custody()
    await add(any_store, custody, [])
    recounted = replace(
        custody,
        counting_rule=CountingRule.EXCLUDING_WEEKENDS_HOLIDAYS,
        counting_rule_version=1,
        counting_hours=36,
        holiday_region="US-TX",
    )
    audit = make_audit(custody.id, "custody_corrected", AT)

    stored = await any_store.correct_custody(
        expected=custody, corrected=recounted, at=AT, new_notices=[], audit=audit
    )

    assert stored == recounted  # corrected_from stays None: the arrest time did not move
    assert await any_store.get_custody(custody.id) == recounted
    with pytest.raises(CustodyChanged):  # another recount, read before this one: refused
        await any_store.correct_custody(
            expected=custody,
            corrected=replace(recounted, counting_hours=24),
            at=AT,
            new_notices=[],
            audit=audit,
        )
    assert await any_store.get_custody(custody.id) == recounted


async def test_a_dispute_flags_the_custody_once(any_store: CustodyStore) -> None:
    custody = make_custody()
    await add(any_store, custody, [])
    words = [make_notice(custody, f"disputed-{c}", kind=NoticeKind.DISPUTED) for c in (JAIL, ICE)]
    disputed = await any_store.dispute_custody(
        custody.id,
        at=AT,
        by=OFFICER,
        note="says he was born in El Paso",
        new_notices=words[:1],
        audit=make_audit(custody.id, "custody_disputed", AT),
    )
    assert (disputed.disputed_at, disputed.disputed_by, disputed.dispute_note) == (
        AT,
        OFFICER,
        "says he was born in El Paso",
    )
    with pytest.raises(CustodyChanged) as again:
        await any_store.dispute_custody(
            custody.id,
            at=AT,
            by="U0OTHER",
            note="again",
            new_notices=[],
            audit=make_audit(custody.id, "custody_disputed", AT),
        )
    assert again.value.custody == disputed
    assert len(await any_store.audit_trail(custody.id)) == 2


async def test_notes_go_on_open_custodies_only(any_store: CustodyStore) -> None:
    custody = make_custody()
    await add(any_store, custody, [])
    note = make_notice(custody, "note", kind=NoticeKind.NOTE, due_at=AT)
    await any_store.add_to_open_custody(custody.id, [note], make_audit(custody.id, "note", AT))
    assert [n.id for n in await any_store.notices_for(custody.id)] == [note.id]
    await any_store.close_custody(
        custody.id,
        state=CustodyState.VOIDED,
        at=AT,
        by=OFFICER,
        reason="entered in error",
        closing_notices=[],
        audit=make_audit(custody.id, "custody_voided", AT),
    )
    late = make_notice(custody, "late-note", kind=NoticeKind.NOTE, due_at=AT)
    with pytest.raises(CustodyNotOpen):
        await any_store.add_to_open_custody(custody.id, [late], make_audit(custody.id, "n", AT))
    with pytest.raises(CustodyNotOpen):
        await any_store.add_to_open_custody("no-such", [], make_audit(None, "n", AT))
    assert [n.id for n in await any_store.notices_for(custody.id)] == [note.id]
