"""Rows of the SQLite store to domain values and back: the one place that knows the columns.

Instants are stored as fixed-width UTC text (``to_db_time``), so text order is
time order; naive datetimes are refused here, at the boundary.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.model import (
    AuditEntry,
    CountingRule,
    Custody,
    CustodyState,
    Notice,
    NoticeKind,
    NoticeState,
    WarrantForm,
)
from bot.core.targets import TargetKind
from storage.interface import OncallOverrideRecord

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_NO_OFFSET = timedelta(0)


def to_db_time(value: datetime) -> str:
    """UTC instant → fixed-width text whose sort order is time order."""
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("naive datetimes are not stored")
    utc = value if offset == _NO_OFFSET else value.astimezone(UTC)
    # isoformat zero-pads the year (unlike strftime's %Y on some platforms): the sort
    # order needs the fixed width. ~2x faster than strftime; called ~40 times per arrest.
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_db_time(text: str) -> datetime:
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)


def maybe_time(text: str | None) -> datetime | None:
    return None if text is None else from_db_time(text)


def maybe_db_time(value: datetime | None) -> str | None:
    return None if value is None else to_db_time(value)


def custody_from_row(row: sqlite3.Row) -> Custody:
    return Custody(
        id=row["id"],
        facility_id=row["facility_id"],
        booking=row["booking"],
        warrant_form=WarrantForm(row["warrant_form"]) if row["warrant_form"] else None,
        warrant_number=row["warrant_number"],
        arrested_at=from_db_time(row["arrested_at"]),
        deadline=from_db_time(row["deadline"]),
        counting_rule=CountingRule(row["counting_rule"]),
        logged_by=row["logged_by"],
        logged_at=from_db_time(row["logged_at"]),
        state=CustodyState(row["state"]),
        closed_at=maybe_time(row["closed_at"]),
        closed_by=row["closed_by"],
        close_reason=row["close_reason"],
        acknowledged_at=maybe_time(row["acknowledged_at"]),
        acknowledged_by=row["acknowledged_by"],
        coverage_warning=row["coverage_warning"],
    )


def notice_from_row(row: sqlite3.Row) -> Notice:
    return Notice(
        id=row["id"],
        custody_id=row["custody_id"],
        kind=NoticeKind(row["kind"]),
        channel=row["channel"],
        due_at=from_db_time(row["due_at"]),
        lead_seconds=row["lead_seconds"],
        seq=row["seq"],
        state=NoticeState(row["state"]),
        attempts=row["attempts"],
        next_attempt_at=maybe_time(row["next_attempt_at"]),
        attempted_at=maybe_time(row["attempted_at"]),
        sent_at=maybe_time(row["sent_at"]),
        message_ts=row["message_ts"],
        last_error=row["last_error"],
        may_have_posted=bool(row["may_have_posted"]),
        level=row["level"],
        round=row["round"],
        message_channel=row["message_channel"],
        detail=json.loads(row["detail"]) if row["detail"] else {},
        target_kind=TargetKind(row["target_kind"]),
    )


def audit_from_row(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        at=from_db_time(row["at"]),
        actor=row["actor"],
        action=row["action"],
        custody_id=row["custody_id"],
        detail=json.loads(row["detail"]),
    )


def override_from_row(row: sqlite3.Row) -> OncallOverrideRecord:
    return OncallOverrideRecord(
        schedule_id=row["schedule_id"],
        user_id=row["user_id"],
        starts_at=from_db_time(row["starts_at"]),
        ends_at=from_db_time(row["ends_at"]),
        created_by=row["created_by"],
        created_at=from_db_time(row["created_at"]),
    )


def custody_row(custody: Custody) -> tuple[Any, ...]:
    """Parameters of ``insert_custody``."""
    return (
        custody.id,
        custody.facility_id,
        custody.booking,
        custody.warrant_form.value if custody.warrant_form else None,
        custody.warrant_number,
        to_db_time(custody.arrested_at),
        to_db_time(custody.deadline),
        custody.counting_rule.value,
        custody.logged_by,
        to_db_time(custody.logged_at),
        custody.state.value,
        custody.coverage_warning,
    )


def notice_row(notice: Notice) -> tuple[Any, ...]:
    """Parameters of ``insert_notice``: the target's kind is stored beside its address."""
    return (
        notice.id,
        notice.custody_id,
        notice.kind.value,
        notice.channel,
        to_db_time(notice.due_at),
        notice.lead_seconds,
        notice.state.value,
        notice.attempts,
        maybe_db_time(notice.next_attempt_at),
        to_db_time(notice.ready_at()),
        notice.level,
        notice.round,
        json.dumps(notice.detail, sort_keys=True) if notice.detail else None,
        notice.target.kind.value,
    )


def audit_row(entry: AuditEntry) -> tuple[Any, ...]:
    """Parameters of ``insert_audit``."""
    return (
        to_db_time(entry.at),
        entry.actor,
        entry.action,
        entry.custody_id,
        json.dumps(entry.detail, sort_keys=True),
    )


def override_row(override: OncallOverrideRecord) -> tuple[Any, ...]:
    """Parameters of ``insert_oncall_override``."""
    return (
        override.schedule_id,
        override.user_id,
        to_db_time(override.starts_at),
        to_db_time(override.ends_at),
        override.created_by,
        to_db_time(override.created_at),
    )
