"""The custody card at each stage: a table of stages, Block Kit checks, and snapshots.

Each stage's rendered blocks are compared with ``tests/unit/snapshots/card-<stage>.json``
(a reviewer reads those to see the card). After an intended change, regenerate them with
``WSO_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/unit/test_cards.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.chat import actions
from bot.chat.cards import card_blocks, card_stage
from bot.core.model import Custody, CustodyState, WarrantForm
from tests.conftest import ARRESTED, DEADLINE, DESK_STAFF, county_jail, custody
from tests.unit.test_slack_limits import assert_blocks_fit

SNAPSHOTS = Path(__file__).parent / "snapshots"
FACILITY = county_jail(name="County Jail")
OPEN = custody(warrant_form=WarrantForm.I_200, warrant_number="W-2026-0042")
CLOSED_AT = DEADLINE - timedelta(hours=6)
TRANSFERRED = replace(
    OPEN,
    state=CustodyState.TRANSFERRED,
    closed_at=CLOSED_AT,
    closed_by=DESK_STAFF,
    custody_taken_at=CLOSED_AT - timedelta(minutes=20),
    received_by="Officer J. Ramos, badge 4471",
)
RELEASED = replace(
    OPEN,
    state=CustodyState.RELEASED,
    closed_at=CLOSED_AT,
    closed_by=DESK_STAFF,
    close_reason="window expired",
)

# stage key -> (custody, time left until the deadline when rendered)
STAGES: dict[str, tuple[Custody, timedelta]] = {
    "more-than-12h": (OPEN, timedelta(hours=30)),
    "under-12h": (OPEN, timedelta(hours=12)),
    "under-4h": (OPEN, timedelta(hours=4)),
    "expired": (OPEN, -timedelta(minutes=20)),
    "transferred": (TRANSFERRED, timedelta(hours=5)),
    "released": (RELEASED, timedelta(hours=5)),
}


def _render(key: str, *, igsa_button: bool = False) -> list[dict[str, Any]]:
    card, left = STAGES[key]
    return card_blocks(card, FACILITY, DEADLINE - left, igsa_button=igsa_button)


@pytest.mark.parametrize(
    ("left", "key"),
    [
        pytest.param(timedelta(hours=48), "more-than-12h", id="just logged"),
        pytest.param(timedelta(hours=12, seconds=1), "more-than-12h", id="a second over 12h"),
        pytest.param(timedelta(hours=12), "under-12h", id="the 12h reminder"),
        pytest.param(timedelta(hours=4, seconds=1), "under-12h", id="a second over 4h"),
        pytest.param(timedelta(hours=4), "under-4h", id="the 4h reminder"),
        pytest.param(timedelta(seconds=1), "under-4h", id="a second left"),
        pytest.param(timedelta(0), "expired", id="at the deadline"),
        pytest.param(-timedelta(days=3), "expired", id="long expired"),
    ],
)
def test_an_open_custodys_stage_is_its_time_left(left: timedelta, key: str) -> None:
    assert card_stage(OPEN, DEADLINE - left).key == key


@pytest.mark.parametrize(
    ("state", "key"),
    [
        pytest.param(CustodyState.TRANSFERRED, "transferred", id="transferred"),
        pytest.param(CustodyState.RELEASED, "released", id="released"),
    ],
)
def test_a_closed_custodys_stage_is_its_state_whatever_the_time(
    state: CustodyState, key: str
) -> None:
    closed = replace(OPEN, state=state, closed_at=CLOSED_AT)
    for now in (ARRESTED, DEADLINE + timedelta(days=1)):
        assert card_stage(closed, now).key == key


@pytest.mark.parametrize("key", STAGES)
def test_the_card_at_each_stage_matches_its_snapshot(key: str) -> None:
    blocks = _render(key)
    path = SNAPSHOTS / f"card-{key}.json"
    if os.environ.get("WSO_UPDATE_SNAPSHOTS") == "1":
        path.write_text(json.dumps(blocks, indent=2, ensure_ascii=False) + "\n")
    assert path.exists(), f"no snapshot {path.name}: run with WSO_UPDATE_SNAPSHOTS=1"
    assert blocks == json.loads(path.read_text()), f"{path.name} differs"


@pytest.mark.parametrize("key", STAGES)
def test_every_card_is_valid_block_kit_within_slacks_limits(key: str) -> None:
    blocks = _render(key, igsa_button=True)
    assert_blocks_fit(blocks, 50)
    for block in blocks:
        Block.parse(block).validate_json()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("key", "igsa", "buttons"),
    [
        pytest.param(
            "more-than-12h",
            False,
            [actions.TRANSFER, actions.RELEASE, actions.ADD_NOTE],
            id="open, no IGSA",
        ),
        pytest.param(
            "expired",
            True,
            [actions.TRANSFER, actions.RELEASE, actions.IGSA, actions.ADD_NOTE],
            id="open, IGSA facility",
        ),
        pytest.param("transferred", True, [], id="closed: no buttons"),
    ],
)
def test_the_buttons_carry_the_custody_id_and_igsa_only_where_the_facility_has_it(
    key: str, igsa: bool, buttons: list[str]
) -> None:
    blocks = _render(key, igsa_button=igsa)
    found = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [e["action_id"] for e in found] == buttons
    assert all(e["value"] == OPEN.id for e in found)


def test_the_card_shows_every_fact_of_the_custody() -> None:
    text = json.dumps(_render("under-4h"))
    for fact in ("B-1", "I-200 no. W-2026-0042", "County Jail", f"<@{OPEN.logged_by}>"):
        assert fact in text, fact
    assert f"<!date^{int(DEADLINE.timestamp())}^" in text  # each reader's own zone
    assert "4h 00m" in text  # time left


def test_an_open_card_says_who_acknowledged_the_paging_and_a_closed_one_no_longer_does() -> None:
    acknowledged_at = DEADLINE + timedelta(minutes=7)
    acknowledged = replace(OPEN, acknowledged_at=acknowledged_at, acknowledged_by=DESK_STAFF)
    text = json.dumps(card_blocks(acknowledged, FACILITY, DEADLINE + timedelta(minutes=8)))
    assert f":bell: *Paging acknowledged* by <@{DESK_STAFF}>" in text
    closed = replace(acknowledged, state=CustodyState.TRANSFERRED, closed_at=acknowledged_at)
    assert "Paging acknowledged" not in json.dumps(
        card_blocks(closed, FACILITY, DEADLINE + timedelta(minutes=9))
    )
