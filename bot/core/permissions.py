"""Who may do what: one table, read by the desk for every command and button. Pure.

Jail actions need the facility's ``officers`` or ``staff``. A transfer (ICE took custody)
may also be confirmed by the facility's ``ice_staff``. Logging an arrest needs an officer
who may make a WSO arrest there today (``arrest_refusal``); seeing the roster
(``/wso officers``), an officer or staff member (``may_see_roster``). Acknowledging a page
has its own rules (``bot.core.acknowledgement``). A facility's officers are those its
config lists and those the roster puts there (``Facility.current_officers``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.core.facility import Facility
from bot.core.roster import CertificationStatus, RosterEntry


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
# Who may read a facility's roster (``/wso officers``): its people, not ICE's.
ROSTER_READERS: tuple[Role, ...] = _JAIL


def _members(facility: Facility, role: Role) -> frozenset[str]:
    match role:
        case Role.OFFICERS:
            return facility.current_officers()
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


def may_see_roster(facility: Facility, user_id: str) -> bool:
    """Whether ``user_id`` may list ``facility``'s officers and their certifications."""
    return any(user_id in _members(facility, role) for role in ROSTER_READERS)


# --- logging an arrest -------------------------------------------------------------


class ArrestRefusalReason(StrEnum):
    """Why someone may not log a WSO arrest at a facility."""

    NOT_AN_OFFICER = "not_an_officer"  # neither listed nor on the roster there
    OTHER_JAIL = "other_jail"  # on the roster at another facility
    NOT_YET_CERTIFIED = "not_yet_certified"  # the certification starts later
    EXPIRED = "expired"  # the certification has ended


@dataclass(frozen=True)
class ArrestRefusal:
    """A refusal to log an arrest, with the officer's roster row when it explains it."""

    reason: ArrestRefusalReason
    entry: RosterEntry | None = None


_BY_STATUS = {
    CertificationStatus.NOT_YET: ArrestRefusalReason.NOT_YET_CERTIFIED,
    CertificationStatus.EXPIRED: ArrestRefusalReason.EXPIRED,
}


def arrest_refusal(facility: Facility, user_id: str, now: datetime) -> ArrestRefusal | None:
    """None if ``user_id`` may log a WSO arrest at ``facility`` at ``now``; else why not.

    The roster, where it has a row for the person, decides: a WSO officer arrests only
    in their own jail (the row's facility, whatever ``officers`` lists), and only while
    certified, on the facility's local date. Someone with no roster row may log where
    the config lists them as an officer.
    """
    entry = facility.roster.current.entry(user_id)
    if entry is None:
        if user_id in facility.officers:
            return None
        return ArrestRefusal(ArrestRefusalReason.NOT_AN_OFFICER)
    if entry.facility_id != facility.id:
        return ArrestRefusal(ArrestRefusalReason.OTHER_JAIL, entry)
    status = entry.status_on(now.astimezone(facility.zone).date())
    reason = _BY_STATUS.get(status)
    return None if reason is None else ArrestRefusal(reason, entry)
