"""What the audit log records about each change a person makes. Pure.

One entry per change: who, when, from which channel (``""`` for a button), and
the facts needed to tell later what happened. ``detail`` holds plain JSON
values only; anything else is recorded as its ``str``.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.model import AuditEntry, Custody, CustodyState
from bot.core.policy import PolicyStamp

Detail = dict[str, str | int | bool | None]


def custody_entry(
    now: datetime, actor: str, channel: str, action: str, custody: Custody, **detail: object
) -> AuditEntry:
    """What ``actor`` did to ``custody`` from ``channel``."""
    clean: Detail = {
        k: (v if isinstance(v, str | int | bool) or v is None else str(v))
        for k, v in detail.items()
    }
    return AuditEntry(
        at=now,
        actor=actor,
        action=action,
        custody_id=custody.id,
        detail={"channel": channel, "booking": custody.booking, **clean},
    )


def arrest_logged(
    now: datetime,
    actor: str,
    channel: str,
    custody: Custody,
    at_text: str | None,
    holidays_source: str | None = None,
) -> AuditEntry:
    """A custody was opened; ``at_text`` is the arrest time as typed (None: "now").

    The counting rule that computed its deadline is recorded whole (name, version, hours,
    holiday calendar), with where the holiday dates came from (``holidays 0.109``).
    """
    return custody_entry(
        now,
        actor,
        channel,
        "arrest_logged",
        custody,
        arrested_at=custody.arrested_at.isoformat(),
        deadline=custody.deadline.isoformat(),
        warrant_form=custody.warrant_form,
        warrant_number=custody.warrant_number,
        at_text=at_text,
        counting_rule=custody.counting_rule.value,
        counting_rule_version=custody.counting_rule_version,
        counting_hours=custody.counting_hours,
        holiday_region=custody.holiday_region,
        holidays_source=holidays_source,
    )


def custody_closed(
    now: datetime,
    actor: str,
    channel: str,
    custody: Custody,
    state: CustodyState,
    reason: str | None,
    **facts: object,
) -> AuditEntry:
    """A custody (as it was while open) was closed: transferred, released, IGSA or voided.

    ``facts`` are the closure's own (a transfer's receiving officer and time).
    """
    return custody_entry(
        now,
        actor,
        channel,
        f"custody_{state.value}",
        custody,
        reason=reason,
        deadline_passed=now >= custody.deadline,
        **facts,
    )


def custody_corrected(
    now: datetime,
    actor: str,
    channel: str,
    old: Custody,
    new: Custody,
    holidays_source: str | None = None,
) -> AuditEntry:
    """``old`` (as it was) was corrected to ``new``: arrest time, deadline, counting rule.

    ``holidays_source`` is where the holiday dates of the new count came from (``holidays 0.109``).
    """
    return custody_entry(
        now,
        actor,
        channel,
        "custody_corrected",
        old,
        from_arrested_at=old.arrested_at.isoformat(),
        from_deadline=old.deadline.isoformat(),
        from_policy=PolicyStamp.of(old).label,
        to_arrested_at=new.arrested_at.isoformat(),
        to_deadline=new.deadline.isoformat(),
        to_policy=PolicyStamp.of(new).label,
        holidays_source=holidays_source,
    )


def paging_acknowledged(
    now: datetime, actor: str, channel: str, custody: Custody, level: int, resumes_at: datetime
) -> AuditEntry:
    """Paging stopped at ``level``; it starts again at ``resumes_at`` if still open."""
    return custody_entry(
        now,
        actor,
        channel,
        "paging_acknowledged",
        custody,
        level=level,
        resumes_at=resumes_at.isoformat(),
    )


def oncall_override(
    now: datetime, actor: str, schedule_id: str, person: str, ends_at: datetime
) -> AuditEntry:
    """``actor`` put ``person`` on call for ``schedule_id`` from ``now`` to ``ends_at``."""
    return AuditEntry(
        at=now,
        actor=actor,
        action="oncall_override",
        custody_id=None,
        detail={"schedule": schedule_id, "user": person, "ends_at": ends_at.isoformat()},
    )


def oncall_override_cancelled(
    now: datetime, actor: str, override_id: int, schedule_id: str, person: str
) -> AuditEntry:
    """``actor`` removed override ``override_id`` (``person`` covering ``schedule_id``)."""
    detail: Detail = {"override": override_id, "schedule": schedule_id, "user": person}
    return AuditEntry(now, actor, "oncall_override_cancelled", None, detail)
