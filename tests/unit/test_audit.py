"""bot.core.audit: what the audit log records for each kind of change."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core import audit
from bot.core.audit import Origin
from bot.core.model import (
    CUSTODY_WINDOW,
    AuditEntry,
    CountingRule,
    Custody,
    CustodyState,
    NoticeKind,
    Source,
    WarrantForm,
)

NOW = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
CUSTODY = replace(
    Custody("c_1", "county-jail", "B-1", NOW, NOW + CUSTODY_WINDOW, "U0AAA", NOW),
    warrant_form=WarrantForm.I_205,
)
LATER = NOW + timedelta(hours=49)
TYPED = Origin("U0AAA", Source.SLASH_COMMAND, "C0JAIL", "1.2.abc")
CLICKED = Origin("U0SGT", Source.BUTTON, request_id="1.2.click")
FORM = Origin("U0DESK", Source.MODAL, "C0ICE", "1.2.submit")


def custody_event(at: datetime, origin: Origin, action: str, **fields: object) -> AuditEntry:
    """What every event about CUSTODY shares, with ``fields`` (detail, before, after)."""
    detail = {"booking": "B-1", **({"channel": origin.channel} if origin.channel else {})}
    values = {"detail": detail, "before": {}, "after": {}}
    for name in ("detail", "before", "after"):
        values[name] = {**values[name], **fields.pop(name, {})}  # type: ignore[dict-item]
    return AuditEntry(
        at,
        origin.actor,
        action,
        "c_1",
        source=origin.source,
        facility_id="county-jail",
        request_id=origin.request_id,
        **values,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        pytest.param(
            audit.arrest_logged(NOW, TYPED, CUSTODY, "14:00", notes="left hand in a cast"),
            custody_event(
                NOW,
                TYPED,
                "arrest_logged",
                after={
                    "state": "open",
                    "arrested_at": "2026-11-28T20:00:00.000000Z",
                    "deadline": "2026-11-30T20:00:00.000000Z",
                    "counting_rule": "elapsed-48h",
                    "warrant_form": "I-205",  # an enum: recorded as its value
                    "warrant_number": None,
                    "counting_rule_version": 1,
                    "counting_hours": 48,
                    "holiday_region": None,
                    "logged_by": "U0AAA",
                },
                detail={
                    "at_text": "14:00",
                    "holidays_source": None,
                    "notes": "left hand in a cast",
                },
            ),
            id="arrest-logged",
        ),
        pytest.param(
            audit.custody_corrected(
                LATER,
                TYPED,
                CUSTODY,
                replace(
                    CUSTODY,
                    deadline=datetime(2026, 12, 1, 6, 0, tzinfo=UTC),
                    counting_rule=CountingRule.EXCLUDING_WEEKENDS_HOLIDAYS,
                    holiday_region="US-TX",
                ),
                "holidays 0.109",
            ),
            custody_event(
                LATER,
                TYPED,
                "custody_corrected",
                before={
                    "arrested_at": "2026-11-28T20:00:00.000000Z",
                    "deadline": "2026-11-30T20:00:00.000000Z",
                    "policy": "elapsed-48h v1",
                },
                after={
                    "arrested_at": "2026-11-28T20:00:00.000000Z",
                    "deadline": "2026-12-01T06:00:00.000000Z",
                    "policy": "48h-excluding-weekends-holidays v1, holidays US-TX",
                },
                detail={"holidays_source": "holidays 0.109"},
            ),
            id="counted-again-under-another-rule",
        ),
        pytest.param(
            audit.custody_closed(LATER, FORM, CUSTODY, CustodyState.RELEASED, "bail"),
            custody_event(
                LATER,
                FORM,
                "custody_released",
                before={"state": "open"},
                after={
                    "state": "released",
                    "closed_at": "2026-11-30T21:00:00.000000Z",
                    "closed_by": "U0DESK",
                    "close_reason": "bail",
                },
                detail={"deadline_passed": True},
            ),
            id="released-after-the-deadline",
        ),
        pytest.param(
            audit.custody_closed(
                NOW, FORM, CUSTODY, CustodyState.TRANSFERRED, None, "Officer Diaz", NOW
            ),
            custody_event(
                NOW,
                FORM,
                "custody_transferred",
                before={"state": "open"},
                after={
                    "state": "transferred",
                    "closed_at": "2026-11-28T20:00:00.000000Z",
                    "closed_by": "U0DESK",
                    "received_by": "Officer Diaz",
                    "custody_taken_at": "2026-11-28T20:00:00.000000Z",
                },
                detail={"deadline_passed": False},
            ),
            id="transferred-in-time",
        ),
        pytest.param(
            audit.custody_corrected(
                NOW, TYPED, CUSTODY, replace(CUSTODY, arrested_at=NOW - timedelta(hours=1))
            ),
            custody_event(
                NOW,
                TYPED,
                "custody_corrected",
                before={
                    "arrested_at": "2026-11-28T20:00:00.000000Z",
                    "deadline": "2026-11-30T20:00:00.000000Z",
                    "policy": "elapsed-48h v1",
                },
                after={
                    "arrested_at": "2026-11-28T19:00:00.000000Z",
                    "deadline": "2026-11-30T20:00:00.000000Z",
                    "policy": "elapsed-48h v1",
                },
                detail={"holidays_source": None},
            ),
            id="corrected",
        ),
        pytest.param(
            audit.custody_disputed(NOW, TYPED, CUSTODY, "says he was born in El Paso"),
            custody_event(
                NOW,
                TYPED,
                "custody_disputed",
                before={"disputed_at": None},
                after={
                    "disputed_at": "2026-11-28T20:00:00.000000Z",
                    "disputed_by": "U0AAA",
                    "dispute_note": "says he was born in El Paso",
                },
            ),
            id="disputed",
        ),
        pytest.param(
            audit.note_added(NOW, FORM, CUSTODY, "pickup at 16:00"),
            custody_event(NOW, FORM, "note_added", detail={"note": "pickup at 16:00"}),
            id="note",
        ),
        pytest.param(
            audit.paging_acknowledged(LATER, CLICKED, CUSTODY, 2, LATER + timedelta(minutes=30)),
            custody_event(
                LATER,
                CLICKED,
                "paging_acknowledged",
                before={"acknowledged_at": None, "acknowledged_by": None},
                after={
                    "acknowledged_at": "2026-11-30T21:00:00.000000Z",
                    "acknowledged_by": "U0SGT",
                },
                detail={"level": 2, "resumes_at": "2026-11-30T21:30:00.000000Z"},
            ),
            id="acknowledged-with-the-button",
        ),
        pytest.param(
            audit.oncall_override(NOW, TYPED, "night", "U0N1", NOW + timedelta(hours=12)),
            AuditEntry(
                NOW,
                "U0AAA",
                "oncall_override",
                None,
                {"channel": "C0JAIL"},
                Source.SLASH_COMMAND,
                None,
                {},
                {
                    "schedule": "night",
                    "user": "U0N1",
                    "starts_at": "2026-11-28T20:00:00.000000Z",
                    "ends_at": "2026-11-29T08:00:00.000000Z",
                },
                "1.2.abc",
            ),
            id="oncall-override",
        ),
        pytest.param(
            audit.oncall_override_cancelled(NOW, TYPED, 7, "night", "U0N1", LATER),
            AuditEntry(
                NOW,
                "U0AAA",
                "oncall_override_cancelled",
                None,
                {"channel": "C0JAIL", "override": 7, "schedule": "night", "user": "U0N1"},
                Source.SLASH_COMMAND,
                None,
                {"ends_at": "2026-11-30T21:00:00.000000Z"},
                {"ends_at": "2026-11-28T20:00:00.000000Z"},
                "1.2.abc",
            ),
            id="oncall-override-ended",
        ),
        pytest.param(
            audit.config_loaded(NOW, "wso.toml", "ab" * 32),
            AuditEntry(
                NOW,
                "system",
                "config_loaded",
                detail={"path": "wso.toml", "sha256": "ab" * 32},
                source=Source.STARTUP,
            ),
            id="config-loaded",
        ),
    ],
)
def test_audit_entries(entry: AuditEntry, expected: AuditEntry) -> None:
    assert entry == expected


def test_values_are_plain_json_scalars() -> None:
    odd = "\ud800 lone surrogate"  # JSON can carry one; UTF-8 cannot
    assert audit.plain(
        {"when": NOW, "kind": NoticeKind.NOTE, "ratio": 0.5, "text": odd, "n": 3, "no": None}
    ) == {
        "when": "2026-11-28T20:00:00.000000Z",
        "kind": "note",
        "ratio": "0.5",  # the canonical form has no floats
        "text": "? lone surrogate",
        "n": 3,
        "no": None,
    }


def test_only_the_notices_people_read_are_audited() -> None:
    assert NoticeKind.EXPIRED in audit.AUDITED_NOTICE_KINDS
    assert NoticeKind.ESCALATION in audit.AUDITED_NOTICE_KINDS
    assert NoticeKind.CARD_UPDATE not in audit.AUDITED_NOTICE_KINDS
    assert NoticeKind.PAGE_STEP not in audit.AUDITED_NOTICE_KINDS  # recorded as "paged"
