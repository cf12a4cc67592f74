"""Rows of the SQLite store to domain values and back: the one place that knows the columns.

Instants are stored as fixed-width UTC text (``to_db_time``), so text order is
time order; naive datetimes are refused here, at the boundary.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.core import model
from bot.core.audit_chain import utc_text
from bot.core.targets import TargetKind, target_kind
from storage.interface import OncallOverrideRecord

T = TypeVar("T")

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_db_time(value: datetime) -> str:
    """UTC instant → fixed-width text whose sort order is time order: the audit chain's
    canonical time (``bot.core.audit_chain.utc_text``), so a stored time is hashed as is."""
    return utc_text(value)


def from_db_time(text: str) -> datetime:
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)


def maybe_time(text: str | None) -> datetime | None:
    return None if text is None else from_db_time(text)


def maybe_db_time(value: datetime | None) -> str | None:
    return None if value is None else to_db_time(value)


Converter = Callable[[Any], Any]


def _json_detail(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else {}


def _optional(convert: Converter) -> Converter:
    return lambda value: None if value is None else convert(value)


def _reader(
    model: Callable[..., T], converters: dict[str, Converter]
) -> Callable[[sqlite3.Row], T]:
    """A row reader for ``model``: each field from its column, converted where named."""
    names = tuple(field.name for field in fields(model))  # type: ignore[arg-type]
    plan = tuple((name, converters.get(name)) for name in names)

    def from_row(row: sqlite3.Row) -> T:
        return model(
            **{name: row[name] if convert is None else convert(row[name]) for name, convert in plan}
        )

    return from_row


_time = _optional(from_db_time)

custody_from_row = _reader(
    model.Custody,
    {
        "warrant_form": lambda value: model.WarrantForm(value) if value else None,
        "counting_rule": model.CountingRule,
        "state": model.CustodyState,
        **dict.fromkeys(model.CUSTODY_INSTANTS, _time),
    },
)
notice_from_row = _reader(
    model.Notice,
    {
        "kind": model.NoticeKind,
        "state": model.NoticeState,
        "may_have_posted": bool,
        "detail": _json_detail,
        "target_kind": TargetKind,
        **dict.fromkeys(("due_at", "next_attempt_at", "attempted_at", "sent_at"), _time),
    },
)
override_from_row = _reader(
    OncallOverrideRecord, dict.fromkeys(("starts_at", "ends_at", "created_at"), from_db_time)
)


def custody_row(custody: model.Custody) -> tuple[Any, ...]:
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


def notice_row(notice: model.Notice) -> tuple[Any, ...]:
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
        # The kind alone, not ``notice.target``: building a Target per notice showed in
        # the arrest path's profile (~17 notices per arrest).
        (notice.target_kind or target_kind(notice.channel)).value,
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
