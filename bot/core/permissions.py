"""Who may do what to a custody: one table, read by the desk for every command and button. Pure.

Jail actions need the facility's ``officers`` or ``staff``. A transfer (ICE took custody)
may also be confirmed by the facility's ``ice_staff``. Logging an arrest stays with the
officers (``Facility.may_log_arrest``); acknowledging a page has its own rules
(``bot.core.acknowledgement``).
"""

from __future__ import annotations

from enum import StrEnum

from bot.core.facility import Facility


class Action(StrEnum):
    """What someone does to an open custody; the value is the command's name."""

    TRANSFER = "transfer"
    RELEASE = "release"
    IGSA = "igsa"
    VOID = "void"
    CORRECT = "correct"
    DISPUTE = "dispute"
    NOTE = "note"
    HISTORY = "history"  # read, not change: a custody's audit trail (``/wso history``)


class Role(StrEnum):
    """A facility's list of people, by its config key."""

    OFFICERS = "officers"
    STAFF = "staff"
    ICE_STAFF = "ice_staff"


_JAIL = (Role.OFFICERS, Role.STAFF)
ROLES_FOR: dict[Action, tuple[Role, ...]] = {
    Action.TRANSFER: (*_JAIL, Role.ICE_STAFF),
    Action.RELEASE: _JAIL,
    Action.IGSA: _JAIL,
    Action.VOID: _JAIL,
    Action.CORRECT: _JAIL,
    Action.DISPUTE: _JAIL,
    Action.NOTE: _JAIL,
    Action.HISTORY: _JAIL,
}


def _members(facility: Facility, role: Role) -> frozenset[str]:
    match role:
        case Role.OFFICERS:
            return facility.officers
        case Role.STAFF:
            return facility.staff
        case Role.ICE_STAFF:
            return facility.ice_staff


def may(facility: Facility, user_id: str, action: Action) -> bool:
    """Whether ``user_id`` may take ``action`` on a custody of ``facility``."""
    return any(user_id in _members(facility, role) for role in ROLES_FOR[action])


def roles_for(action: Action) -> tuple[Role, ...]:
    """The facility lists whose members may take ``action`` (for the refusal's wording)."""
    return ROLES_FOR[action]
