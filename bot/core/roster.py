"""The WSO officer roster: who is certified, at which jail, from when and until when. Pure.

The rows come from the roster file (``roster = "officers.csv"``, read and checked by
``bot.config.roster_file``). A certification is valid from its certification date
through its expiry date, both days included, on the facility's local calendar: on the
day after the expiry date the officer may no longer log WSO arrests. Who may log is
decided in ``bot.core.permissions``; when the expiry reminder falls due in
``bot.core.certification_plan``.

The roster is the one part of the config that changes while the bot runs (it is read
again on SIGHUP). ``LiveRoster`` holds the roster in force; every facility of a config
shares one, and a reload replaces the whole roster at once, so a reader sees either the
old roster or the new one, never a mix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class CertificationStatus(StrEnum):
    """Where a certification stands on a given local date."""

    NOT_YET = "not_yet"  # before the certification date
    CERTIFIED = "certified"
    EXPIRED = "expired"  # after the expiry date


@dataclass(frozen=True)
class RosterEntry:
    """One row of the roster: a WSO officer, their jail and their certification."""

    user_id: str
    name: str
    badge: str
    facility_id: str
    certified_on: date
    expires_on: date
    # The row's line in the roster file, for messages that point at it (0: not from a file).
    line: int = 0

    def status_on(self, today: date) -> CertificationStatus:
        """The certification's standing on ``today`` (a date on the facility's calendar)."""
        if today < self.certified_on:
            return CertificationStatus.NOT_YET
        if today > self.expires_on:
            return CertificationStatus.EXPIRED
        return CertificationStatus.CERTIFIED

    def days_left(self, today: date) -> int:
        """Days from ``today`` to the expiry date: 0 on the last valid day, < 0 after it."""
        return (self.expires_on - today).days


@dataclass(frozen=True)
class Roster:
    """Every row of the roster file; at most one row per Slack user id (the file is checked)."""

    entries: tuple[RosterEntry, ...] = ()
    # The file as the config names it (``officers.csv``), for messages; "" without a roster.
    source: str = ""
    # The SHA-256 of the file's bytes (hex; None when not read from a file): its audit event.
    sha256: str | None = field(default=None, compare=False)
    _by_user: dict[str, RosterEntry] = field(init=False, repr=False, compare=False)
    _by_facility: dict[str, frozenset[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Asked on every command and button: looked up, not searched.
        object.__setattr__(self, "_by_user", {entry.user_id: entry for entry in self.entries})
        by_facility: dict[str, set[str]] = {}
        for entry in self.entries:
            by_facility.setdefault(entry.facility_id, set()).add(entry.user_id)
        object.__setattr__(
            self, "_by_facility", {key: frozenset(ids) for key, ids in by_facility.items()}
        )

    def entry(self, user_id: str) -> RosterEntry | None:
        """The officer's row, or None if they are not on the roster."""
        return self._by_user.get(user_id)

    def of_facility(self, facility_id: str) -> tuple[RosterEntry, ...]:
        """The rows of one facility, in file order."""
        return tuple(entry for entry in self.entries if entry.facility_id == facility_id)

    def officer_ids(self, facility_id: str) -> frozenset[str]:
        """The Slack user ids the roster lists at ``facility_id``."""
        return self._by_facility.get(facility_id, frozenset())


EMPTY_ROSTER = Roster()


class LiveRoster:
    """The roster in force, shared by every facility of one config; replaced whole on reload."""

    __slots__ = ("_roster",)

    def __init__(self, roster: Roster = EMPTY_ROSTER) -> None:
        self._roster = roster

    @property
    def current(self) -> Roster:
        return self._roster

    def replace(self, roster: Roster) -> None:
        """Put ``roster`` in force (a reload that passed every check)."""
        self._roster = roster
