"""bot.chat.phrases: how an escalation gap is stored and shown, in the facility's time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.chat.phrases import COVERAGE_GAPS_SHOWN, coverage_warning, coverage_warning_text
from bot.core.coverage import CoverageGap

CHICAGO = ZoneInfo("America/Chicago")
START = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)  # Sat Nov 28, 18:00 CST
NIGHT = CoverageGap(False, 2, "oncall:night", START, START + timedelta(hours=6))
ICE = CoverageGap(True, 1, "oncall:ice-duty", START, START + timedelta(hours=1))


@pytest.mark.parametrize(
    ("gaps", "stored"),
    [
        pytest.param([], None, id="no-gaps-no-warning"),
        pytest.param(
            [NIGHT],
            "level 2 (`oncall:night`) has nobody on call Sat Nov 28, 18:00 CST to "
            "Sun Nov 29, 00:00 CST",
            id="an-expiry-level",
        ),
        pytest.param(
            [NIGHT, ICE],
            "level 2 (`oncall:night`) has nobody on call Sat Nov 28, 18:00 CST to "
            "Sun Nov 29, 00:00 CST; ICE level 1 (`oncall:ice-duty`) has nobody on call "
            "Sat Nov 28, 18:00 CST to Sat Nov 28, 19:00 CST",
            id="an-ice-level-after-it",
        ),
    ],
)
def test_coverage_warning_as_stored(gaps: list[CoverageGap], stored: str | None) -> None:
    assert coverage_warning(gaps, CHICAGO) == stored


def test_a_stored_warning_is_shown_with_its_first_gaps_and_a_count() -> None:
    stored = coverage_warning([NIGHT] * (COVERAGE_GAPS_SHOWN + 2), CHICAGO)
    assert stored is not None
    shown = coverage_warning_text(stored)
    assert shown.count("has nobody on call") == COVERAGE_GAPS_SHOWN
    assert shown.endswith("; …and 2 more")
