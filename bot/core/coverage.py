"""Where a facility's escalation would page nobody: on-call levels with gaps. Pure.

When an arrest is logged, the officer is warned if an escalation level that
pages an on-call schedule (``oncall:<id>``) has nobody on call at some point
between now and the end of the paging the custody may need: its deadline (or
now, if that passed), the whole expiry chain, and one ``reack_after``. The
desk reads the stored overrides and passes them in; ``bot.chat.phrases``
words the gaps.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.custody_plan import chain_for
from bot.core.facility import Config, Facility
from bot.core.model import Custody
from bot.core.oncall import Override, Schedule, coverage_gaps
from bot.core.oncall_schedule import schedule_id_of


@dataclass(frozen=True)
class CoverageGap:
    """Nobody is on call for one level's ``oncall:`` entry during [start, end)."""

    ice: bool  # a level of the ICE escalation (else of the expiry escalation)
    level: int  # 1-based, within its chain
    entry: str  # the ``notify`` entry: ``oncall:<schedule id>``
    start: datetime
    end: datetime


def coverage_end(facility: Facility, custody: Custody, now: datetime) -> datetime:
    """When the last page this custody could need goes out, at the latest."""
    chain = chain_for(facility)
    return max(custody.deadline, now) + chain.expiry_chain_length() + chain.reack_after


def paged_schedules(facility: Facility, config: Config) -> tuple[Schedule, ...]:
    """The configured schedules the facility's levels page, each once, in chain order."""
    found: dict[str, Schedule] = {}
    for _ice, _level, _entry, schedule in _oncall_entries(facility, config):
        found.setdefault(schedule.id, schedule)
    return tuple(found.values())


def escalation_gaps(
    facility: Facility,
    config: Config,
    custody: Custody,
    now: datetime,
    overrides: Mapping[str, Sequence[Override]],
) -> list[CoverageGap]:
    """Every gap of every on-call level, expiry levels first, then ICE levels.

    ``overrides`` holds the stored overrides by schedule id (the config's own
    are part of each schedule).
    """
    end = coverage_end(facility, custody, now)
    return [
        CoverageGap(ice, level, entry, start, stop)
        for ice, level, entry, schedule in _oncall_entries(facility, config)
        for start, stop in coverage_gaps(schedule, now, end, overrides.get(schedule.id, ()))
    ]


def _oncall_entries(
    facility: Facility, config: Config
) -> Iterator[tuple[bool, int, str, Schedule]]:
    """(ice, level, entry, schedule) for each ``notify`` entry naming a configured schedule."""
    levels = [(False, number, lvl.notify) for number, lvl in enumerate(facility.escalation, 1)]
    levels += [(True, number, lvl.notify) for number, lvl in enumerate(facility.ice_escalation, 1)]
    for ice, number, notify in levels:
        for entry in notify:
            schedule_id = schedule_id_of(entry)
            schedule = config.schedule(schedule_id) if schedule_id is not None else None
            if schedule is not None:
                yield ice, number, entry, schedule
