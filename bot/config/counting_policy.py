"""A facility's counting policy keys: ``policy``, ``holidays`` and ``policy_hours``.

The rules themselves are :mod:`bot.core.policy`; this reads and checks the keys and
builds the holiday calendar from the ``holidays`` package (its federal and state
calendars, observed dates included), which the core only asks "is this date a
holiday?". Each mistake raises :class:`ConfigError` naming the key, with a right value.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import holidays
from holidays.countries.united_states import UnitedStates
from holidays.version import __version__ as HOLIDAYS_VERSION

from bot.config.fields import ConfigError, _child, _describe, _string
from bot.core.model import CountingRule
from bot.core.policy import ELAPSED_48H, MAX_POLICY_HOURS, CountingPolicy

POLICY_KEYS = ("policy", "holidays", "policy_hours")
_COUNTRY = "US"
_RULE_HELP = {
    CountingRule.ELAPSED_48H: "48 elapsed hours, the WSO rule and the default",
    CountingRule.EXCLUDING_WEEKENDS_HOLIDAYS: (
        'Saturdays, Sundays and holidays not counted, 8 CFR 287.7(d) style; with holidays = "US"'
    ),
}


@dataclass(frozen=True)
class RegionHolidays:
    """One region's public holidays from the ``holidays`` package (observed dates included).

    The package works out each year's dates the first time a date of that year is asked.
    """

    region: str
    source: str = f"holidays {HOLIDAYS_VERSION}"
    _dates: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        subdivision = self.region.partition("-")[2] or None
        object.__setattr__(
            self, "_dates", holidays.country_holidays(_COUNTRY, subdiv=subdivision, observed=True)
        )

    def is_holiday(self, day: date) -> bool:
        return day in self._dates


def parse_counting_policy(table: Mapping[str, Any], path: str) -> CountingPolicy:
    """The facility's policy from its ``policy``, ``holidays`` and ``policy_hours`` keys."""
    rule = _rule(table.get("policy", CountingRule.ELAPSED_48H.value), _child(path, "policy"))
    hours = _hours(table.get("policy_hours", MAX_POLICY_HOURS), _child(path, "policy_hours"))
    holidays_path = _child(path, "holidays")
    if rule is CountingRule.ELAPSED_48H:
        if "holidays" in table:
            raise ConfigError(
                holidays_path,
                'applies only with policy = "48h-excluding-weekends-holidays"; remove it, '
                f'or set that policy (policy = "{rule.value}" counts every hour)',
            )
        return ELAPSED_48H if hours == MAX_POLICY_HOURS else CountingPolicy(rule, hours)
    if "holidays" not in table:
        raise ConfigError(
            holidays_path,
            f'missing; policy = "{rule.value}" needs the holidays not to count, like '
            'holidays = "US" (federal) or holidays = "US-TX" (federal and Texas)',
        )
    region = _region(table["holidays"], holidays_path)
    return CountingPolicy(rule, hours, RegionHolidays(region))


def _rule(value: object, path: str) -> CountingRule:
    example = f'"{CountingRule.ELAPSED_48H.value}"'
    text = _string(value, path, example)
    try:
        return CountingRule(text)
    except ValueError:
        pass
    names = [rule.value for rule in CountingRule]
    close = difflib.get_close_matches(text, names, n=1)
    hint = f'did you mean "{close[0]}"? ' if close else ""
    choices = "; ".join(f'policy = "{rule.value}" ({_RULE_HELP[rule]})' for rule in CountingRule)
    raise ConfigError(path, f'unknown counting policy "{text}"; {hint}use {choices}')


def _hours(value: object, path: str) -> int:
    example = "policy_hours = 36"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(
            path, f"must be a whole number of hours, like {example} (got {_describe(value)})"
        )
    if value <= 0:
        raise ConfigError(path, f"must be more than 0, like {example} (got {value})")
    if value > MAX_POLICY_HOURS:
        raise ConfigError(
            path,
            f"must be at most {MAX_POLICY_HOURS} (got {value}): a jurisdiction may set a "
            f"shorter window than ICE's {MAX_POLICY_HOURS} hours, never a longer one; "
            f"like {example}, or leave it out for {MAX_POLICY_HOURS}",
        )
    return value


def _region(value: object, path: str) -> str:
    text = _string(value, path, '"US"')
    subdivisions = holidays.list_supported_countries()[_COUNTRY]
    known = [_COUNTRY, *(f"{_COUNTRY}-{code}" for code in subdivisions)]
    if text in known:
        return text
    raise ConfigError(
        path,
        f'unknown holiday calendar "{text}"; {_region_hint(text, known)}use "US" for federal '
        'holidays, or "US-" and a state or territory code for federal and state holidays, '
        'like holidays = "US-TX"',
    )


def _region_hint(text: str, known: list[str]) -> str:
    """A likely meant region: the same code in capitals, or a state's full name."""
    wanted = text.strip().upper().replace("_", "-")
    if wanted in known:
        return f'did you mean "{wanted}"? '
    aliases = {name.upper(): code for name, code in UnitedStates.subdivisions_aliases.items()}
    code = aliases.get(wanted.removeprefix("US-"))
    return f'did you mean "US-{code}"? ' if code else ""
