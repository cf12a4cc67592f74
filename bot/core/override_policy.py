"""Who may put whom on call with ``/wso oncall override``. Pure: config values in, a verdict out.

An override decides who receives a facility's pages and may acknowledge them,
so it is held to the same lines as the rest of the bot:

* the person giving it must be an officer of a facility whose escalation or ICE
  escalation pages the schedule (``oncall:<id>`` in a ``notify`` list): an
  officer of one jail cannot redirect another jail's pages;
* the person put on call must be someone the schedule may legitimately page:
  named by the schedule itself (its rotation, its iCalendar file, its config
  overrides), or an officer or staff member of a facility that pages it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot.core.durations import format_duration
from bot.core.facility import Config, EscalationLevel, Facility, IceEscalationLevel
from bot.core.oncall import Schedule, schedule_people
from bot.core.oncall_schedule import oncall_entry


class RefusalReason(StrEnum):
    NOT_PAGED = "not_paged"  # no facility's escalation pages the schedule
    NOT_AN_OFFICER = "not_an_officer"  # the giver is no officer of a facility it pages
    NOT_PAGEABLE = "not_pageable"  # the schedule may not page the person


@dataclass(frozen=True)
class OverrideRefusal:
    """Why an override is refused (``bot.chat.replies`` says it in words), and a command
    that would be accepted (or a way to look)."""

    reason: RefusalReason
    schedule_id: str
    giver: str
    person: str
    facilities: tuple[Facility, ...]
    example: str


def paging_facilities(config: Config, schedule_id: str) -> tuple[Facility, ...]:
    """Facilities with ``oncall:<schedule_id>`` in any escalation or ICE escalation level."""
    target = oncall_entry(schedule_id)
    return tuple(facility for facility in config.facilities if target in _notify_targets(facility))


def _notify_targets(facility: Facility) -> set[str]:
    levels: tuple[EscalationLevel | IceEscalationLevel, ...] = (
        *facility.escalation,
        *facility.ice_escalation,
    )
    return {target for level in levels for target in level.notify}


def may_give_override(config: Config, schedule_id: str, giver: str) -> bool:
    """Only an officer of a facility that pages the schedule may change who is on it."""
    return any(f.is_officer(giver) for f in paging_facilities(config, schedule_id))


def may_be_on_call(config: Config, schedule: Schedule, person: str) -> bool:
    """Whether the schedule may legitimately page ``person``."""
    if person in schedule_people(schedule):
        return True
    return any(f.may_close(person) for f in paging_facilities(config, schedule.id))


def override_refusal(
    config: Config, schedule: Schedule, giver: str, person: str, duration: timedelta
) -> OverrideRefusal | None:
    """None if ``giver`` may put ``person`` on call for ``schedule``; else why not."""
    facilities = paging_facilities(config, schedule.id)

    def refusal(reason: RefusalReason, example: str) -> OverrideRefusal:
        return OverrideRefusal(reason, schedule.id, giver, person, facilities, example)

    if not facilities:
        return refusal(RefusalReason.NOT_PAGED, _example_for(config, giver, duration))
    if not may_give_override(config, schedule.id, giver):
        return refusal(RefusalReason.NOT_AN_OFFICER, _example_for(config, giver, duration))
    if not may_be_on_call(config, schedule, person):
        return refusal(RefusalReason.NOT_PAGEABLE, _override_line(schedule.id, giver, duration))
    return None


def _example_for(config: Config, giver: str, duration: timedelta) -> str:
    """An override the giver could give, or the command that shows the schedules."""
    for schedule in config.schedules:
        if may_give_override(config, schedule.id, giver):
            return _override_line(schedule.id, giver, duration)
    return "/wso oncall"


def _override_line(schedule_id: str, person: str, duration: timedelta) -> str:
    return f"/wso oncall override {schedule_id} {person} {format_duration(duration)}"
