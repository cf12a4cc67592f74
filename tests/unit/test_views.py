"""Every modal, Home view and list the bot renders passes slack_sdk's validators, at the limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.chat.home import HomeData, home_view
from bot.chat.lists import SECTION_LIMIT, list_blocks
from bot.chat.modals import arrest_modal
from bot.core.facility import Facility
from bot.core.model import CustodyState
from tests.conftest import START, county_jail, custody

LONG_NAME = "W" * 80
FAR = county_jail(id="far-west", name=LONG_NAME, timezone_name="America/Los_Angeles")


def many(n: int, facility: Facility, *, closed: bool = False) -> list[Any]:
    rows = []
    for i in range(n):
        c = custody(START - timedelta(hours=i % 60), id=f"c_{i}", booking=f"B-{i:030d}")
        if closed:
            c = replace(c, state=CustodyState.RELEASED, closed_at=START, closed_by="U0" + "X" * 30)
        rows.append((c, facility))
    return rows


def home(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "facilities": (county_jail(),),
        "open_rows": [],
        "open_total": 0,
        "closed_rows": [],
        "oncall_lines": [],
        "may_log": True,
    }
    values.update(overrides)
    return home_view(HomeData(**values), START)


def check_view(view: dict[str, Any]) -> None:
    View(**view).validate_json()  # raises on a limit broken
    assert len(view["blocks"]) <= 100
    for block in view["blocks"]:
        assert len(str(block.get("text", {}).get("text", ""))) <= SECTION_LIMIT


VIEWS = [
    pytest.param(lambda: arrest_modal([county_jail()], START, "C0JAIL"), id="form-one-facility"),
    pytest.param(
        lambda: arrest_modal([county_jail(), FAR] * 60, START, "C0JAIL"), id="form-many-facilities"
    ),
    pytest.param(lambda: home(facilities=()), id="home-no-facility"),
    pytest.param(lambda: home(), id="home-empty"),
    pytest.param(
        lambda: home(
            facilities=(county_jail(), FAR),
            open_rows=many(40, FAR),
            open_total=5000,
            closed_rows=many(300, FAR, closed=True),
            oncall_lines=["• " + "x" * 300] * 50,
        ),
        id="home-at-every-limit",
    ),
]


@pytest.mark.parametrize("build", VIEWS)
def test_view_is_valid_block_kit(build: Any) -> None:
    check_view(build())


def test_home_at_the_limits_says_how_many_more() -> None:
    view = home(open_rows=many(40, FAR), open_total=5000, closed_rows=many(300, FAR, closed=True))
    text = str(view["blocks"])
    assert "…and 4960 more open custodies" in text
    assert "…and 270 more closed today" in text


@pytest.mark.parametrize(
    ("rows", "total"),
    [
        pytest.param(1, 1, id="one"),
        pytest.param(50, 50, id="fifty"),
        pytest.param(50, 900, id="more"),
    ],
)
def test_list_blocks_fit_a_message(rows: int, total: int) -> None:
    blocks = list_blocks(many(rows, FAR), START, total)
    assert len(blocks) <= 50
    for block in blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]
        assert len(block["text"]["text"] if "text" in block else "") <= SECTION_LIMIT
    assert ("more not shown" in str(blocks)) == (total > rows)
