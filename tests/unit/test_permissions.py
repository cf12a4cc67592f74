"""Who may do what to a custody: the whole table, one row a person and action."""

from __future__ import annotations

import pytest

from bot.core.permissions import Action, Role, may, roles_for
from tests.conftest import OFFICER, county_jail

FACILITY = county_jail(staff=frozenset({"U0DESK"}), ice_staff=frozenset({"U0ERO"}))
PEOPLE = {"officers": OFFICER, "staff": "U0DESK", "ice_staff": "U0ERO", "stranger": "U0NOBODY"}
# Who may: officers and staff take every jail action and read a custody's history; ICE
# staff may only confirm a transfer.
ALLOWED = {
    Action.TRANSFER: frozenset({"officers", "staff", "ice_staff"}),
    **dict.fromkeys(
        (Action.RELEASE, Action.IGSA, Action.VOID, Action.CORRECT, Action.DISPUTE, Action.NOTE),
        frozenset({"officers", "staff"}),
    ),
    Action.HISTORY: frozenset({"officers", "staff"}),
}
CASES = [(action, person) for action in Action for person in PEOPLE]


@pytest.mark.parametrize(
    ("action", "person"), CASES, ids=[f"{action}-by-{person}" for action, person in CASES]
)
def test_who_may_do_what(action: Action, person: str) -> None:
    assert may(FACILITY, PEOPLE[person], action) is (person in ALLOWED[action])


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_the_roles_named_in_a_refusal_are_the_ones_that_may(action: Action) -> None:
    assert {role.value for role in roles_for(action)} == ALLOWED[action] - {"stranger"}
    assert Role.OFFICERS in roles_for(action)
