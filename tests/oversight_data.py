"""Custodies of every outcome for the oversight export's tests and benchmark (deterministic).

Written through the store's public ``add_custodies`` (closed custodies are stored as
given), 2,000 to a transaction, without notices: the export reads custodies only.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from bot.core.model import CUSTODY_WINDOW, AuditEntry, Custody, CustodyState, WarrantForm
from storage.interface import CustodyStore
from tests.conftest import COUNTY_JAIL_TOML

BATCH = 2000
H = timedelta(hours=1)
# Two facilities far apart: Chicago (County Jail, from the tests' config) and Honolulu.
ISLAND_JAIL_TOML = """
[[facility]]
id = "island-jail"
name = "Island <Jail> & Annex"
timezone = "Pacific/Honolulu"
jail_channel = "C0ISLAND"
ice_channel = "C0ISLAND"
officers = ["U0ISL"]
"""
TWO_FACILITIES_TOML = COUNTY_JAIL_TOML + ISLAND_JAIL_TOML


def varied_custodies(
    count: int, facility_ids: Sequence[str], start: datetime, end: datetime, seed: int = 7
) -> Iterator[Custody]:
    """``count`` custodies arrested evenly over [start, end), their outcomes mixed.

    About 60% transferred (pickup 2-60 h after the arrest, so some late), 20% released
    (some when the window expired), 5% IGSA, 3% voided, the rest open; a third
    acknowledged, some after the deadline.
    """
    chance = random.Random(seed)
    step = (end - start) / max(count, 1)
    for n in range(count):
        arrested = start + step * n
        base = Custody(
            id=f"c_{n:07d}",
            facility_id=facility_ids[n % len(facility_ids)],
            booking=f"B-{n:07d}",
            arrested_at=arrested,
            deadline=arrested + CUSTODY_WINDOW,
            logged_by=f"U0OFF{n % 7}",
            logged_at=arrested + timedelta(minutes=chance.randint(0, 30)),
            warrant_form=(WarrantForm.I_200, WarrantForm.I_205, None)[n % 3],
            warrant_number=f"W-{n}" if n % 2 else None,
        )
        yield _with_outcome(base, chance)


def _with_outcome(custody: Custody, chance: random.Random) -> Custody:
    roll = chance.random()
    acknowledged = (
        {
            "acknowledged_at": custody.deadline + timedelta(minutes=chance.randint(-90, 90)),
            "acknowledged_by": "U0SGT",
        }
        if chance.random() < 0.33
        else {}
    )
    if roll < 0.60:
        taken = custody.arrested_at + H * chance.uniform(2, 60)
        return _closed(
            custody,
            CustodyState.TRANSFERRED,
            taken,
            custody_taken_at=taken,
            received_by="ICE badge 1",
            **acknowledged,
        )
    if roll < 0.80:
        at_expiry = chance.random() < 0.4
        released = (
            custody.deadline + H * chance.uniform(0, 2)
            if at_expiry
            else (custody.arrested_at + H * chance.uniform(1, 40))
        )
        reason = "Window expired" if at_expiry else "Bond posted"
        return _closed(
            custody, CustodyState.RELEASED, released, close_reason=reason, **acknowledged
        )
    if roll < 0.85:
        return _closed(custody, CustodyState.IGSA, custody.arrested_at + H * chance.uniform(1, 50))
    if roll < 0.88:
        return _closed(
            custody, CustodyState.VOIDED, custody.arrested_at + H, close_reason="entered in error"
        )
    return Custody(**{**custody.__dict__, **acknowledged})


def _closed(custody: Custody, state: CustodyState, at: datetime, **facts: object) -> Custody:
    values = {**custody.__dict__, "state": state, "closed_at": at, "closed_by": "U0DESK", **facts}
    return Custody(**values)


async def store_custodies(store: CustodyStore, custodies: Iterator[Custody]) -> int:
    """Write ``custodies`` in transactions of ``BATCH``; return how many."""
    written = 0
    batch: list[Custody] = []
    for custody in custodies:
        batch.append(custody)
        if len(batch) == BATCH:
            written += await _write(store, batch)
            batch = []
    return written + (await _write(store, batch) if batch else 0)


async def _write(store: CustodyStore, batch: list[Custody]) -> int:
    await store.add_custodies(
        [(c, [], AuditEntry(c.logged_at, c.logged_by, "arrest_logged", c.id)) for c in batch]
    )
    return len(batch)
