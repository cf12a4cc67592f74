"""bot.core.audit: what the audit log records for each change a person makes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core import audit
from bot.core.model import (
    CUSTODY_WINDOW,
    AuditEntry,
    CountingRule,
    Custody,
    CustodyState,
    WarrantForm,
)

NOW = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
CUSTODY = replace(
    Custody("c_1", "county-jail", "B-1", NOW, NOW + CUSTODY_WINDOW, "U0AAA", NOW),
    warrant_form=WarrantForm.I_205,
)
LATER = NOW + timedelta(hours=49)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        pytest.param(
            audit.arrest_logged(NOW, "U0AAA", "C0JAIL", CUSTODY, "14:00"),
            AuditEntry(
                NOW,
                "U0AAA",
                "arrest_logged",
                "c_1",
                {
                    "channel": "C0JAIL",
                    "booking": "B-1",
                    "arrested_at": "2026-11-28T20:00:00+00:00",
                    "deadline": "2026-11-30T20:00:00+00:00",
                    "warrant_form": "I-205",  # an enum: recorded as its value
                    "warrant_number": None,
                    "at_text": "14:00",
                    "counting_rule": "elapsed-48h",
                    "counting_rule_version": 1,
                    "counting_hours": 48,
                    "holiday_region": None,
                    "holidays_source": None,
                },
            ),
            id="arrest-logged",
        ),
        pytest.param(
            audit.custody_corrected(
                LATER,
                "U0DESK",
                "C0JAIL",
                CUSTODY,
                replace(
                    CUSTODY,
                    deadline=datetime(2026, 12, 1, 6, 0, tzinfo=UTC),
                    counting_rule=CountingRule.EXCLUDING_WEEKENDS_HOLIDAYS,
                    holiday_region="US-TX",
                ),
                "holidays 0.109",
            ),
            AuditEntry(
                LATER,
                "U0DESK",
                "custody_corrected",
                "c_1",
                {
                    "channel": "C0JAIL",
                    "booking": "B-1",
                    "from_arrested_at": "2026-11-28T20:00:00+00:00",
                    "from_deadline": "2026-11-30T20:00:00+00:00",
                    "from_policy": "elapsed-48h v1",
                    "to_arrested_at": "2026-11-28T20:00:00+00:00",
                    "to_deadline": "2026-12-01T06:00:00+00:00",
                    "to_policy": "48h-excluding-weekends-holidays v1, holidays US-TX",
                    "holidays_source": "holidays 0.109",
                },
            ),
            id="counted-again-under-another-rule",
        ),
        pytest.param(
            audit.custody_closed(LATER, "U0DESK", "C0ICE", CUSTODY, CustodyState.RELEASED, "bail"),
            AuditEntry(
                LATER,
                "U0DESK",
                "custody_released",
                "c_1",
                {"channel": "C0ICE", "booking": "B-1", "reason": "bail", "deadline_passed": True},
            ),
            id="released-after-the-deadline",
        ),
        pytest.param(
            audit.custody_closed(NOW, "U0AAA", "C0JAIL", CUSTODY, CustodyState.TRANSFERRED, None),
            AuditEntry(
                NOW,
                "U0AAA",
                "custody_transferred",
                "c_1",
                {"channel": "C0JAIL", "booking": "B-1", "reason": None, "deadline_passed": False},
            ),
            id="transferred-in-time",
        ),
        pytest.param(
            audit.paging_acknowledged(
                LATER, "U0SGT", "", CUSTODY, 2, LATER + timedelta(minutes=30)
            ),
            AuditEntry(
                LATER,
                "U0SGT",
                "paging_acknowledged",
                "c_1",
                {
                    "channel": "",
                    "booking": "B-1",
                    "level": 2,
                    "resumes_at": "2026-11-30T21:30:00+00:00",
                },
            ),
            id="acknowledged-with-the-button",
        ),
        pytest.param(
            audit.oncall_override(NOW, "U0AAA", "night", "U0N1", NOW + timedelta(hours=12)),
            AuditEntry(
                NOW,
                "U0AAA",
                "oncall_override",
                None,
                {"schedule": "night", "user": "U0N1", "ends_at": "2026-11-29T08:00:00+00:00"},
            ),
            id="oncall-override",
        ),
    ],
)
def test_audit_entries(entry: AuditEntry, expected: AuditEntry) -> None:
    assert entry == expected
