"""Who is paged, and when: escalation chains, notify targets, PagerDuty, re-paging.

Reads a facility's ``escalation``, ``ice_escalation``, ``escalation_repeat``,
``reack_after`` and ``pagerduty_routing_key``, and checks every ``oncall:<id>``
target against the ``[[schedule]]`` tables.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

from bot.config.fields import (
    _EXAMPLES,
    _USER_GROUP_ID,
    _USER_ID,
    ConfigError,
    _at_most,
    _child,
    _describe,
    _duration,
    _item,
    _lead_time,
    _list_of_tables,
    _not_longer,
    _positive_duration,
    _reject_unknown_keys,
    _required,
    _string,
    _string_list,
)
from bot.core.facility import (
    DEFAULT_REACK_AFTER,
    Config,
    EscalationLevel,
    Facility,
    IceEscalationLevel,
)
from bot.core.oncall import Schedule

# Ceilings on what multiplies the notices one arrest plans (see ``bot.core.custody_plan``):
# each is far above a real deployment, and together with the reminder and webhook ceilings
# (``bot.config.facility_file``) they keep one arrest's plan to a few hundred rows, stored
# in one transaction while the officer waits for the answer.
MAX_ESCALATION_LEVELS = 10  # per chain: expiry and ICE
MAX_ESCALATION_REPEAT = 10
MAX_NOTIFY_ENTRIES = 20  # per level
# The expiry chain's length (every level's after, in every round) and reack_after bound the
# span an arrest checks for on-call gaps, within the 3 s Slack gives a command.
MAX_ESCALATION_AFTER = timedelta(hours=24)
MAX_REACK_AFTER = timedelta(hours=24)

_ONCALL = re.compile(r"oncall:[a-z0-9][a-z0-9_-]{0,63}")
_ONCALL_PREFIX = "oncall:"
_ROUTING_KEY = re.compile(r"[A-Za-z0-9]{20,64}")

_ESCALATION_KEYS = ("notify", "after")
_ICE_ESCALATION_KEYS = ("notify", "before", "after")
# A key whose example depends on the table it is in.
_ICE_BEFORE_EXAMPLE = '"4h"'


_LEVELS_WHY = (
    f"each level is paged in every round; if {MAX_ESCALATION_LEVELS} levels find nobody, "
    "more will not"
)


def _parse_escalation(value: object, path: str) -> tuple[EscalationLevel, ...]:
    tables = _list_of_tables(value, path, "[[facility.escalation]] (double brackets)")
    _at_most(tables, MAX_ESCALATION_LEVELS, path, "levels", _LEVELS_WHY)
    return tuple(
        _parse_escalation_level(table, _item(path, index)) for index, table in enumerate(tables)
    )


def _parse_ice_escalation(value: object, path: str) -> tuple[IceEscalationLevel, ...]:
    tables = _list_of_tables(value, path, "[[facility.ice_escalation]] (double brackets)")
    _at_most(tables, MAX_ESCALATION_LEVELS, path, "levels", _LEVELS_WHY)
    return tuple(
        _parse_ice_escalation_level(table, _item(path, index)) for index, table in enumerate(tables)
    )


def _parse_ice_escalation_level(table: Mapping[str, Any], path: str) -> IceEscalationLevel:
    _reject_unknown_keys(table, _ICE_ESCALATION_KEYS, path)
    return IceEscalationLevel(
        notify=_notify_targets(_required(table, "notify", path), _child(path, "notify")),
        before=_lead_time(
            _required(table, "before", path, _ICE_BEFORE_EXAMPLE),
            _child(path, "before"),
            _ICE_BEFORE_EXAMPLE,
        ),
        after=_escalation_delay(table, _child(path, "after")),
    )


def _parse_escalation_level(table: Mapping[str, Any], path: str) -> EscalationLevel:
    _reject_unknown_keys(table, _ESCALATION_KEYS, path)
    return EscalationLevel(
        notify=_notify_targets(_required(table, "notify", path), _child(path, "notify")),
        after=_escalation_delay(table, _child(path, "after")),
    )


def _escalation_delay(table: Mapping[str, Any], path: str) -> timedelta:
    if "after" not in table:
        return timedelta(0)
    delay = _duration(table["after"], path)
    _not_longer(
        delay,
        MAX_ESCALATION_AFTER,
        path,
        table["after"],
        "a custody past its deadline cannot wait a day for the next level",
    )
    return delay


def _notify_targets(value: object, path: str) -> tuple[str, ...]:
    targets = _string_list(value, path, _EXAMPLES["notify"])
    if not targets:
        raise ConfigError(path, f"needs at least one target, like {_EXAMPLES['notify']}")
    _at_most(
        targets,
        MAX_NOTIFY_ENTRIES,
        path,
        "targets",
        "put the people in a Slack user group and name the group (S…) instead",
    )
    for index, target in enumerate(targets):
        if not _is_notify_target(target):
            raise ConfigError(
                _item(path, index),
                f'"{target}" is not a notify target; use a member ID like "U0SGT", '
                'a user group ID like "S0SHIFT", or "oncall:<schedule id>" like "oncall:night-sgt"',
            )
    return tuple(targets)


def _is_notify_target(target: str) -> bool:
    patterns = (_USER_ID, _USER_GROUP_ID, _ONCALL)
    return any(pattern.fullmatch(target) for pattern in patterns)


def _escalation_repeat(table: Mapping[str, Any], path: str) -> int:
    if "escalation_repeat" not in table:
        return 0
    repeat = table["escalation_repeat"]
    # bool is an int subclass in Python, but "true" is no count.
    if isinstance(repeat, bool) or not isinstance(repeat, int):
        raise ConfigError(
            path, f"must be a whole number, 0 or more, like 2 (got {_describe(repeat)})"
        )
    if repeat < 0:
        raise ConfigError(
            path, f"must be 0 or more (got {repeat}); 0 runs the chain once, 2 runs it 3 times"
        )
    if repeat > MAX_ESCALATION_REPEAT:
        raise ConfigError(
            path,
            f"must be at most {MAX_ESCALATION_REPEAT} (got {repeat}): the chain then runs "
            f"{MAX_ESCALATION_REPEAT + 1} times, and more only pages the same people again "
            "without reaching anyone new, while every arrest plans each page in advance",
        )
    return repeat


def _reack_after(table: Mapping[str, Any], path: str) -> timedelta:
    if "reack_after" not in table:
        return DEFAULT_REACK_AFTER
    reack_after = _positive_duration(table["reack_after"], path, _EXAMPLES["reack_after"])
    _not_longer(
        reack_after,
        MAX_REACK_AFTER,
        path,
        table["reack_after"],
        "an acknowledged custody that is still open must be paged again the same day",
    )
    return reack_after


def _routing_key(table: Mapping[str, Any], path: str) -> str | None:
    if "pagerduty_routing_key" not in table:
        return None
    # Never quote the value: it is a credential.
    key = _string(table["pagerduty_routing_key"], path, _EXAMPLES["pagerduty_routing_key"])
    if not _ROUTING_KEY.fullmatch(key):
        raise ConfigError(
            path,
            "must be the integration key of a PagerDuty Events API v2 integration: "
            f"20 to 64 letters and digits (usually 32; got {len(key)} characters)",
        )
    return key


def _notify_entries(facilities: Iterable[Facility]) -> Iterator[tuple[str, str]]:
    """Every notify target with its key path, in file order (escalation before ICE levels)."""
    for facility_index, facility in enumerate(facilities):
        chains: tuple[tuple[str, Sequence[EscalationLevel | IceEscalationLevel]], ...] = (
            ("escalation", facility.escalation),
            ("ice_escalation", facility.ice_escalation),
        )
        for chain, levels in chains:
            for level_index, level in enumerate(levels):
                level_path = f"facility[{facility_index}].{chain}[{level_index}].notify"
                for target_index, target in enumerate(level.notify):
                    yield _item(level_path, target_index), target


def _check_oncall_references(facilities: Iterable[Facility], schedules: Sequence[Schedule]) -> None:
    known = [schedule.id for schedule in schedules]
    for path, target in _notify_entries(facilities):
        if target.startswith(_ONCALL_PREFIX) and target[len(_ONCALL_PREFIX) :] not in known:
            raise ConfigError(path, _unknown_schedule_message(target[len(_ONCALL_PREFIX) :], known))


def _unknown_schedule_message(schedule_id: str, known: list[str]) -> str:
    message = f'no [[schedule]] has id "{schedule_id}"'
    if not known:
        return f'{message}; add one with id = "{schedule_id}" (there are no schedules yet)'
    close = difflib.get_close_matches(schedule_id, known, n=1)
    hint = f'did you mean "oncall:{close[0]}"? ' if close else ""
    return f"{message}; {hint}known schedules: {', '.join(known)}"


def referenced_user_groups(config: Config) -> dict[str, str]:
    """Each Slack user group id (``S…``) named in a notify list, with the key of its first use.

    Only Slack knows which groups exist; the caller checks these against
    ``usergroups.list`` at start-up and names the key of any unknown one.
    """
    groups: dict[str, str] = {}
    for path, target in _notify_entries(config.facilities):
        if _USER_GROUP_ID.fullmatch(target):
            groups.setdefault(target, path)
    return groups
