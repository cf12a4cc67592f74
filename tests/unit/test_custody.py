"""bot.core.custody: which arrests the desk takes for a double submission or a mistyped date.

(The 48-hour deadline itself is tested in ``test_deadline.py``.)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.custody import (
    DOUBLE_SUBMIT_WINDOW,
    OLDEST_ARREST,
    is_double_submission,
    is_implausibly_old,
)
from bot.core.model import CUSTODY_WINDOW, Custody, WarrantForm

NOW = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
FIRST = Custody(
    id="c_1",
    facility_id="county-jail",
    booking="B-1",
    arrested_at=NOW - timedelta(minutes=30),
    deadline=NOW - timedelta(minutes=30) + CUSTODY_WINDOW,
    logged_by="U0AAA",
    logged_at=NOW,
    warrant_form=WarrantForm.I_200,
    warrant_number="W-1",
)


def again(*, seconds: int = 20, arrested: int = 0, **changes: Any) -> Custody:
    """The same arrest sent ``seconds`` later, its arrest time moved ``arrested`` seconds."""
    at = FIRST.arrested_at + timedelta(seconds=arrested)
    return replace(
        FIRST, id="c_2", logged_at=NOW + timedelta(seconds=seconds), arrested_at=at, **changes
    )


WINDOW = int(DOUBLE_SUBMIT_WINDOW.total_seconds())


@pytest.mark.parametrize(
    ("attempted", "double"),
    [
        pytest.param(again(), True, id="the-same-arrest-20-seconds-later"),
        pytest.param(again(seconds=WINDOW), True, id="at-the-window's-end"),
        pytest.param(again(seconds=WINDOW + 1), False, id="after-the-window"),
        pytest.param(again(arrested=60), True, id="arrest-'now'-sent-twice-a-minute-apart"),
        pytest.param(again(arrested=-WINDOW), True, id="arrest-times-the-window-apart"),
        pytest.param(again(arrested=WINDOW + 60), False, id="another-arrest-time"),
        pytest.param(again(logged_by="U0BBB"), False, id="another-officer"),
        pytest.param(again(warrant_form=WarrantForm.I_205), False, id="another-form"),
        pytest.param(again(warrant_form=None), False, id="form-left-out"),
        pytest.param(again(warrant_number="W-2"), False, id="another-warrant"),
    ],
)
def test_is_double_submission(attempted: Custody, double: bool) -> None:
    assert is_double_submission(FIRST, attempted) is double


@pytest.mark.parametrize(
    ("arrested_at", "old"),
    [
        pytest.param(NOW, False, id="now"),
        pytest.param(NOW + timedelta(hours=1), False, id="in-the-future"),
        pytest.param(NOW - OLDEST_ARREST, False, id="exactly-30-days-ago"),
        pytest.param(NOW - OLDEST_ARREST - timedelta(seconds=1), True, id="a-second-more"),
        pytest.param(datetime(1, 1, 1, tzinfo=UTC), True, id="year-one"),
    ],
)
def test_is_implausibly_old(arrested_at: datetime, old: bool) -> None:
    assert is_implausibly_old(arrested_at, NOW) is old
