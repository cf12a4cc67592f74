"""What the audit log records about each change: one builder per kind of event. Pure.

Every state change appends one event (README, "Audit chain"): who (a Slack user id,
or ``system``), when, from where (``Origin``: the source, the channel, the Slack
request), the facility and custody, the values the change moved (``before`` and
``after``, custody fields by their column names) and the facts around it (``detail``).
Values are plain JSON scalars; times are written as ``bot.core.audit_chain.utc_text``.
How events are chained and which of their fields are personal is ``audit_chain``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.core.audit_chain import utc_text
from bot.core.model import (
    AuditEntry,
    AuditValue,
    Custody,
    CustodyState,
    NoticeKind,
    Source,
)
from bot.core.policy import PolicyStamp

# The actor of what the bot does on its own (a notice sent, a page, a purge it ran).
SYSTEM = "system"

# Notices whose sending, skipping or failing is recorded: the messages people read or are
# paged by. Card and page updates redraw a message already recorded; a chain step is
# recorded as the pages it becomes (``pages_sent``); Slack-side backups are plumbing.
AUDITED_NOTICE_KINDS = frozenset(NoticeKind) - {
    NoticeKind.CARD_UPDATE,
    NoticeKind.PAGE_UPDATE,
    NoticeKind.PAGE_STEP,
    NoticeKind.BACKUP,
    NoticeKind.BACKUP_DELETE,
}


@dataclass(frozen=True)
class Origin:
    """Who asked for a change and how: an event's actor, source, channel and Slack request.

    ``request_id`` is the request's ``trigger_id`` (a slash command, a click, a form's
    submission all carry one): it ties the event to Slack's own record of the request.
    """

    actor: str
    source: Source
    channel: str = ""
    request_id: str | None = None


def by_system(source: Source = Source.SCHEDULER) -> Origin:
    """The bot acting on its own."""
    return Origin(SYSTEM, source)


def plain(values: Mapping[str, object] | None) -> dict[str, AuditValue]:
    """Values as an event stores them: times as UTC text, enums as their value, the rest
    as ``str`` unless a JSON scalar (a float is text too: the canonical form has no floats)."""
    return {key: _plain_value(value) for key, value in (values or {}).items()}


def _plain_value(value: object) -> AuditValue:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, datetime):
        return utc_text(value)
    text = str(value)  # an enum (a StrEnum) as its value
    # A lone surrogate (JSON can carry one) has no UTF-8 form: the hash needs one.
    return text.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(text) else text


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def entry(
    now: datetime,
    origin: Origin,
    action: str,
    *,
    custody: Custody | None = None,
    custody_id: str | None = None,
    facility_id: str | None = None,
    before: Mapping[str, object] | None = None,
    after: Mapping[str, object] | None = None,
    detail: Mapping[str, object] | None = None,
) -> AuditEntry:
    """One event; a custody's own events carry its booking and facility (an event the store
    makes knows only the custody's id, booking and facility: ``custody_id``, ``detail``)."""
    facts: dict[str, object] = {}
    if custody is not None:
        facts["booking"] = custody.booking
        facility_id, custody_id = custody.facility_id, custody.id
    if origin.channel:
        facts["channel"] = origin.channel
    return AuditEntry(
        at=now,
        actor=origin.actor,
        action=action,
        custody_id=custody_id,
        detail=plain({**facts, **(detail or {})}),
        source=origin.source,
        facility_id=facility_id,
        before=plain(before),
        after=plain(after),
        request_id=origin.request_id,
    )


# --- a custody's life ----------------------------------------------------------------


def arrest_logged(
    now: datetime,
    origin: Origin,
    custody: Custody,
    at_text: str | None,
    notes: str | None = None,
    holidays_source: str | None = None,
) -> AuditEntry:
    """A custody was opened; ``at_text`` is the arrest time as typed (None: "now").

    The counting rule that computed its deadline is recorded whole (name, version, hours,
    holiday calendar), with where the holiday dates came from (``holidays 0.109``).
    """
    after = {
        "state": custody.state,
        "arrested_at": custody.arrested_at,
        "deadline": custody.deadline,
        "counting_rule": custody.counting_rule.value,
        "counting_rule_version": custody.counting_rule_version,
        "counting_hours": custody.counting_hours,
        "holiday_region": custody.holiday_region,
        "warrant_form": custody.warrant_form.value if custody.warrant_form else None,
        "warrant_number": custody.warrant_number,
        "logged_by": custody.logged_by,
    }
    detail = {"at_text": at_text, "holidays_source": holidays_source}
    if notes:
        detail["notes"] = notes
    return entry(now, origin, "arrest_logged", custody=custody, after=after, detail=detail)


def custody_closed(
    now: datetime,
    origin: Origin,
    custody: Custody,
    state: CustodyState,
    reason: str | None,
    received_by: str | None = None,
    taken_at: datetime | None = None,
) -> AuditEntry:
    """A custody (as it was while open) was closed: transferred, released, IGSA or voided."""
    after: dict[str, object] = {"state": state, "closed_at": now, "closed_by": origin.actor}
    if reason is not None:
        after["close_reason"] = reason
    if received_by is not None or taken_at is not None:
        after |= {"received_by": received_by, "custody_taken_at": taken_at}
    return entry(
        now,
        origin,
        f"custody_{state.value}",
        custody=custody,
        before={"state": custody.state},
        after=after,
        detail={"deadline_passed": now >= custody.deadline},
    )


def custody_corrected(
    now: datetime,
    origin: Origin,
    old: Custody,
    moved: Custody,
    holidays_source: str | None = None,
) -> AuditEntry:
    """``old`` (as it was) was corrected to ``moved``: arrest time, deadline, counting rule.

    ``holidays_source`` is where the holiday dates of the new count came from (``holidays 0.109``).
    """
    return entry(
        now,
        origin,
        "custody_corrected",
        custody=old,
        before={
            "arrested_at": old.arrested_at,
            "deadline": old.deadline,
            "policy": PolicyStamp.of(old).label,
        },
        after={
            "arrested_at": moved.arrested_at,
            "deadline": moved.deadline,
            "policy": PolicyStamp.of(moved).label,
        },
        detail={"holidays_source": holidays_source},
    )


def custody_disputed(now: datetime, origin: Origin, custody: Custody, note: str) -> AuditEntry:
    """A citizenship or identity claim was raised about ``custody``."""
    return entry(
        now,
        origin,
        "custody_disputed",
        custody=custody,
        before={"disputed_at": custody.disputed_at},
        after={"disputed_at": now, "disputed_by": origin.actor, "dispute_note": note},
    )


def note_added(now: datetime, origin: Origin, custody: Custody, note: str) -> AuditEntry:
    return entry(now, origin, "note_added", custody=custody, detail={"note": note})


def paging_acknowledged(
    now: datetime, origin: Origin, custody: Custody, level: int, resumes_at: datetime
) -> AuditEntry:
    """Paging stopped at ``level``; it starts again at ``resumes_at`` if still open."""
    return entry(
        now,
        origin,
        "paging_acknowledged",
        custody=custody,
        before={
            "acknowledged_at": custody.acknowledged_at,
            "acknowledged_by": custody.acknowledged_by,
        },
        after={"acknowledged_at": now, "acknowledged_by": origin.actor},
        detail={"level": level, "resumes_at": resumes_at},
    )


# --- on call ---------------------------------------------------------------------------


def oncall_override(
    now: datetime, origin: Origin, schedule_id: str, person: str, ends_at: datetime
) -> AuditEntry:
    """``person`` is put on call for ``schedule_id`` from ``now`` to ``ends_at``."""
    after = {"schedule": schedule_id, "user": person, "starts_at": now, "ends_at": ends_at}
    return entry(now, origin, "oncall_override", after=after)


def oncall_override_cancelled(
    now: datetime,
    origin: Origin,
    override_id: int,
    schedule_id: str,
    person: str,
    ends_at: datetime,
) -> AuditEntry:
    """Override ``override_id`` (``person`` covering ``schedule_id``) ends ``now``, not later."""
    return entry(
        now,
        origin,
        "oncall_override_cancelled",
        before={"ends_at": ends_at},
        after={"ends_at": now},
        detail={"override": override_id, "schedule": schedule_id, "user": person},
    )


# --- what the bot does on its own --------------------------------------------------------


@dataclass(frozen=True)
class NoticeFacts:
    """A stored notice as its events name it, with its custody's booking and facility."""

    notice_id: str
    kind: str
    target: str
    custody_id: str
    facility_id: str | None
    booking: str | None
    attempts: int


def notice_event(
    now: datetime, action: str, notice: NoticeFacts, state: str, **detail: object
) -> AuditEntry:
    """``notice_sent``, ``notice_skipped`` or ``notice_undeliverable``: ``state`` after it."""
    facts = {
        "booking": notice.booking,
        "notice": notice.notice_id,
        "kind": notice.kind,
        "target": notice.target,
        "attempts": notice.attempts,
    }
    return entry(
        now,
        by_system(),
        action,
        custody_id=notice.custody_id,
        facility_id=notice.facility_id,
        after={"state": state},
        detail=facts | detail,
    )


def pages_sent(
    now: datetime, step: NoticeFacts, level: int | None, recipients: list[str]
) -> AuditEntry:
    """A chain step fell due: who is paged (resolved now, on-call overrides included)."""
    facts = {"booking": step.booking, "chain": step.target, "level": level}
    return entry(
        now,
        by_system(),
        "paged",
        custody_id=step.custody_id,
        facility_id=step.facility_id,
        detail=facts | {"paged": ",".join(recipients)},
    )


def config_loaded(now: datetime, path: str, sha256: str | None) -> AuditEntry:
    """The bot started with this config file (its SHA-256 says which version of it)."""
    detail = {"path": path, "sha256": sha256}
    return entry(now, by_system(Source.STARTUP), "config_loaded", detail=detail)


def roster_loaded(
    now: datetime, source: Source, path: str, sha256: str | None, officers: int
) -> AuditEntry:
    """The officer roster in force was read from ``path``: at start-up, or again on SIGHUP
    (``source`` says which); its SHA-256 says which version of the file, ``officers`` how
    many rows it holds (their names stay out of the record)."""
    detail = {"path": path, "sha256": sha256, "officers": officers}
    return entry(now, by_system(source), "roster_loaded", detail=detail)


def personal_data_purged(
    now: datetime, origin: Origin, closed_before: datetime, counts: Mapping[str, int]
) -> AuditEntry:
    """Personal data of custodies closed before ``closed_before`` was erased."""
    detail = {"closed_before": closed_before, **counts}
    return entry(now, origin, "personal_data_purged", detail=detail)


def audit_chain_started(
    now: datetime, from_version: int, to_version: int, chained: int
) -> AuditEntry:
    """A database of an earlier release was migrated: its ``chained`` events were chained."""
    return entry(
        now,
        by_system(Source.STARTUP),
        "audit_chain_started",
        detail={
            "from_schema_version": from_version,
            "to_schema_version": to_version,
            "events_chained": chained,
        },
    )
