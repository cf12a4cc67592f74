"""The card buttons' modals: valid views within Slack's limits, snapshots, and the readers.

Each modal is compared with ``tests/unit/snapshots/modal-<name>.json`` (a reviewer reads
those to see the form). After an intended change, regenerate them with
``WSO_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/unit/test_card_modals.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.chat import actions
from bot.chat import card_modals as forms
from bot.chat.card_modals import CardFormOrigin, TransferDraft
from tests.conftest import START, county_jail, custody

SNAPSHOTS = Path(__file__).parent / "snapshots"
FACILITY = county_jail(name="County Jail")
CUSTODY = custody(START, booking="B-2026-0412")
NOW = START + timedelta(hours=20)  # Sunday 2026-11-29 10:00 in Chicago
ORIGIN = CardFormOrigin(CUSTODY.id, NOW, "C0JAIL")
CONFIRM = CardFormOrigin(
    CUSTODY.id, NOW, "C0JAIL", NOW - timedelta(minutes=45), "Officer J. Ramos, badge 4471"
)
LONGEST = CardFormOrigin("c_" + "x" * 30, NOW, "C0JAIL", NOW, "R" * forms.RECEIVED_BY_LIMIT)

MODALS: dict[str, Callable[[], dict[str, Any]]] = {
    "transfer": lambda: forms.transfer_modal(CUSTODY, FACILITY, ORIGIN),
    "transfer-confirm": lambda: forms.transfer_confirm_modal(CUSTODY, FACILITY, CONFIRM),
    "release": lambda: forms.release_modal(CUSTODY, FACILITY, ORIGIN),
    "note": lambda: forms.note_modal(CUSTODY, FACILITY, ORIGIN),
    "message": lambda: forms.message_modal("Nothing recorded", "x" * 4000),
}


@pytest.mark.parametrize("name", MODALS)
def test_every_modal_is_a_valid_view_within_slacks_limits(name: str) -> None:
    view = MODALS[name]()
    View(**view).validate_json()
    assert len(view.get("private_metadata", "")) <= 3000


def test_the_longest_read_back_is_a_valid_view() -> None:
    long_name = county_jail(name="N" * 200)
    view = forms.transfer_confirm_modal(custody(booking="B" * 32), long_name, LONGEST)
    View(**view).validate_json()


@pytest.mark.parametrize("name", [n for n in MODALS if n != "message"])
def test_each_modal_matches_its_snapshot(name: str) -> None:
    view = MODALS[name]()
    path = SNAPSHOTS / f"modal-{name}.json"
    if os.environ.get("WSO_UPDATE_SNAPSHOTS") == "1":
        path.write_text(json.dumps(view, indent=2, ensure_ascii=False) + "\n")
    assert path.exists(), f"no snapshot {path.name}: run with WSO_UPDATE_SNAPSHOTS=1"
    assert view == json.loads(path.read_text()), f"{path.name} differs"


def test_the_form_origin_survives_private_metadata() -> None:
    view = forms.transfer_confirm_modal(CUSTODY, FACILITY, CONFIRM)
    assert CardFormOrigin.from_view(view) == CONFIRM
    assert CardFormOrigin.from_view({"private_metadata": "not json"}) is None
    assert CardFormOrigin.from_view({}) is None


def submitted(**values: dict[str, Any]) -> dict[str, Any]:
    state = {block: {actions.input_action(block): value} for block, value in values.items()}
    return {"state": {"values": state}}


def transfer(day: str = "2026-11-29", clock: str = "09:15", who: str = "Ramos 4471") -> Any:
    view = submitted(
        **{
            actions.TRANSFER_DATE: {"selected_date": day},
            actions.TRANSFER_TIME: {"selected_time": clock},
            actions.TRANSFER_RECEIVED_BY: {"value": who},
        }
    )
    return forms.check_transfer(view, CUSTODY, FACILITY, NOW)


def test_a_good_transfer_form_reads_the_facilitys_local_time() -> None:
    assert transfer() == TransferDraft(NOW - timedelta(minutes=45), "Ramos 4471")


@pytest.mark.parametrize(
    ("kwargs", "block", "said"),
    [
        pytest.param({"clock": "10:01"}, actions.TRANSFER_TIME, "in the future", id="future"),
        pytest.param(
            {"day": "2026-11-28", "clock": "13:59"},
            actions.TRANSFER_TIME,
            "before the arrest",
            id="before-arrest",
        ),
        pytest.param({"day": "2026-02-30"}, actions.TRANSFER_TIME, "not a date", id="no-such-day"),
        pytest.param({"who": "   "}, actions.TRANSFER_RECEIVED_BY, "name or badge", id="no-one"),
        pytest.param(
            {"who": "\u2066\u2069\u202a"},
            actions.TRANSFER_RECEIVED_BY,
            "name or badge",
            id="only-bidi-controls",
        ),
        pytest.param(
            {"who": "R" * 81}, actions.TRANSFER_RECEIVED_BY, "keep it to 80", id="too-long"
        ),
    ],
)
def test_a_bad_transfer_form_names_its_field_and_gives_an_example(
    kwargs: dict[str, str], block: str, said: str
) -> None:
    errors = transfer(**kwargs)
    assert isinstance(errors, dict) and list(errors) == [block]
    assert said in errors[block] and "e.g." in errors[block]


def test_the_receiving_officer_is_kept_without_bidi_controls() -> None:
    draft = transfer(who="Ramos \u202ebadge\u202c 4471")
    assert isinstance(draft, TransferDraft) and draft.received_by == "Ramos badge 4471"


def test_a_time_that_happens_twice_is_refused_not_guessed() -> None:
    fall_back = START.replace(month=11, day=1, hour=12)  # 2026-11-01 06:00 CST
    arrested = custody(fall_back - timedelta(hours=6))
    view = submitted(
        **{
            actions.TRANSFER_DATE: {"selected_date": "2026-11-01"},
            actions.TRANSFER_TIME: {"selected_time": "01:30"},
            actions.TRANSFER_RECEIVED_BY: {"value": "Ramos"},
        }
    )
    errors = forms.check_transfer(view, arrested, FACILITY, fall_back)
    assert isinstance(errors, dict) and "happens twice" in errors[actions.TRANSFER_TIME]


@pytest.mark.parametrize(
    ("choice", "details", "expected"),
    [
        pytest.param("window_expired", "", "Window expired", id="window-expired"),
        pytest.param("court", "", "Charges dropped / court release", id="court"),
        pytest.param("bond", "receipt 5521", "Bond posted: receipt 5521", id="bond-details"),
        pytest.param("sentence", "", "Sentence served", id="sentence"),
        pytest.param("other", "writ to state prison", "writ to state prison", id="other"),
        pytest.param("other", "", {actions.RELEASE_DETAILS: "Other"}, id="other-without-text"),
        pytest.param("made-up", "", {actions.RELEASE_REASON: "Pick"}, id="not-in-the-list"),
        pytest.param("bond", "x" * 501, {actions.RELEASE_DETAILS: "500"}, id="details-too-long"),
    ],
)
def test_the_release_reason_is_the_choice_and_the_text(
    choice: str, details: str, expected: str | dict[str, str]
) -> None:
    view = submitted(
        **{
            actions.RELEASE_REASON: {"selected_option": {"value": choice}},
            actions.RELEASE_DETAILS: {"value": details},
        }
    )
    got = forms.check_release(view)
    if isinstance(expected, str):
        assert got == expected
    else:
        assert isinstance(got, dict) and list(got) == list(expected)
        [(block, said)] = expected.items()
        assert said in got[block]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("pickup 14:00", "pickup 14:00", id="plain"),
        pytest.param(" a\u2067b\u2069 ", "ab", id="bidi-removed"),
        pytest.param("", {actions.NOTE_TEXT: "Write the note"}, id="empty"),
        pytest.param("x" * 501, {actions.NOTE_TEXT: "keep it to 500"}, id="too-long"),
    ],
)
def test_the_note_is_cleaned_and_limited(text: str, expected: str | dict[str, str]) -> None:
    got = forms.check_note(submitted(**{actions.NOTE_TEXT: {"value": text}}))
    if isinstance(expected, str):
        assert got == expected
    else:
        [(block, said)] = expected.items()
        assert isinstance(got, dict) and said in got[block]


@pytest.mark.parametrize(
    ("age", "stale"),
    [
        pytest.param(timedelta(minutes=59), False, id="59-minutes"),
        pytest.param(timedelta(minutes=61), True, id="61-minutes"),
    ],
)
def test_a_form_is_stale_after_an_hour(age: timedelta, stale: bool) -> None:
    assert ORIGIN.stale(NOW + age) is stale
