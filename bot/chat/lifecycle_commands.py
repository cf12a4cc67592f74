"""The ``/wso`` subcommands of the custody lifecycle and of on-call cover. Pure.

``igsa``, ``void``, ``correct``, ``dispute`` and ``note`` act on one open custody,
named by its booking (and ``facility ID`` where the booking is open at several);
``oncall`` shows, gives, lists and cancels cover. The shared words are read by
``bot.chat.grammar``; ``bot.chat.commands`` dispatches here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from bot.chat.grammar import (
    _EXAMPLES,
    _SCHEDULE_ID,
    MAX_OVERRIDE,
    OPTION_SAMPLES,
    CommandError,
    example_line,
    option_value,
    read_free_text,
    read_leading_facility,
    read_only_facility,
    take_booking,
    validate_facility_id,
    validate_user,
)
from bot.chat.slack import echo
from bot.core.durations import parse_duration

_OVERRIDE_ID_DIGITS = 9
T = TypeVar("T", bound="TextCommand")


@dataclass(frozen=True)
class IgsaCommand:
    booking: str
    facility_id: str | None = None


@dataclass(frozen=True)
class CorrectCommand:
    """``/wso correct BOOKING at TIME``, or ``policy`` (``at_text`` None): count it again."""

    booking: str
    at_text: str | None
    facility_id: str | None = None


@dataclass(frozen=True)
class TextCommand:
    """A command on one custody with free text: a void's reason, a dispute's note, a note."""

    booking: str
    text: str
    facility_id: str | None = None


class VoidCommand(TextCommand):
    """``/wso void BOOKING [facility ID] REASON``."""


class DisputeCommand(TextCommand):
    """``/wso dispute BOOKING [facility ID] NOTE``."""


class NoteCommand(TextCommand):
    """``/wso note BOOKING [facility ID] TEXT``."""


@dataclass(frozen=True)
class OncallCommand:
    pass


@dataclass(frozen=True)
class OncallOverrideCommand:
    schedule_id: str
    user_id: str
    duration: timedelta


@dataclass(frozen=True)
class OncallOverridesCommand:
    """``/wso oncall overrides``: the cover given and not yet ended."""


@dataclass(frozen=True)
class OncallCancelCommand:
    override_id: int


LifecycleCommand = (
    IgsaCommand
    | VoidCommand
    | CorrectCommand
    | DisputeCommand
    | NoteCommand
    | OncallCommand
    | OncallOverrideCommand
    | OncallOverridesCommand
    | OncallCancelCommand
)


def _parse_igsa(words: list[str]) -> IgsaCommand:
    booking, rest = take_booking(words, "igsa")
    return IgsaCommand(booking, read_only_facility(rest, "igsa", booking))


def _text_parser(subcommand: str, command: type[T]) -> Callable[[list[str]], T]:
    """The parser of ``BOOKING [facility ID] TEXT``, the text required."""

    def parse(words: list[str]) -> T:
        booking, rest = take_booking(words, subcommand)
        facility_id, rest = read_leading_facility(rest, subcommand, booking)
        text = read_free_text(rest, subcommand, booking, required=True)
        assert text is not None
        return command(booking, text, facility_id)

    return parse


def _parse_correct(words: list[str]) -> CorrectCommand:
    """``BOOKING at TIME`` or ``BOOKING policy``, an optional ``facility ID`` before or after."""
    booking, rest = take_booking(words, "correct")
    example = _EXAMPLES["correct"]
    facility_id, rest = read_leading_facility(rest, "correct", booking)
    what = rest[0].lower() if rest else None
    if what == "policy":
        at_words: list[str] = []
        rest = rest[1:]
    elif what == "at":
        option_value(rest, 0, example)
        at_words = rest[1:3] if len(rest) > 2 and rest[2][:1].isdigit() else rest[1:2]
        rest = rest[1 + len(at_words) :]
    else:
        got = f" (got {echo(rest[0])})" if rest else ""
        raise CommandError(
            "`/wso correct` needs `at` and the right arrest time after the booking number"
            f"{got}: a time such as `14:05` (today, facility time) or `2026-11-28 14:05`; "
            "or `policy`, to count the deadline again under the facility's current rule.",
            example,
        )
    shown = "at 14:05" if at_words else "policy"
    if rest and facility_id is None and rest[0].lower() == "facility":
        facility_example = example_line("correct", booking, shown, OPTION_SAMPLES["facility"])
        facility_id = validate_facility_id(option_value(rest, 0, facility_example), example)
        rest = rest[2:]
    if rest:
        after = "the time" if at_words else "`policy`"
        raise CommandError(
            f"Unexpected {echo(rest[0])} after {after} in `/wso correct`: it takes the "
            "booking number, `at TIME` or `policy`, and an optional `facility ID`.",
            example,
        )
    return CorrectCommand(booking, " ".join(at_words) if at_words else None, facility_id)


def _parse_oncall(words: list[str]) -> LifecycleCommand:
    if not words:
        return OncallCommand()
    action = words[0].lower()
    if action == "overrides":
        _no_more_words(words[1:], "overrides")
        return OncallOverridesCommand()
    if action == "cancel":
        return _parse_oncall_cancel(words[1:])
    return _parse_oncall_override(words)


def _parse_oncall_cancel(words: list[str]) -> OncallCancelCommand:
    example = "/wso oncall cancel 12"
    if len(words) != 1:
        raise CommandError(
            "`/wso oncall cancel` needs the number of one override, as `/wso oncall overrides` "
            "lists them.",
            example,
        )
    number = words[0].lstrip("#")
    if not number.isdigit() or not number.isascii() or len(number) > _OVERRIDE_ID_DIGITS:
        raise CommandError(
            f"{echo(words[0])} is not an override number: use the number "
            "`/wso oncall overrides` shows, e.g. `12`.",
            example,
        )
    return OncallCancelCommand(int(number))


def _no_more_words(words: list[str], action: str) -> None:
    if words:
        raise CommandError(
            f"Unexpected {echo(words[0])} after `/wso oncall {action}`: it takes nothing more.",
            f"/wso oncall {action}",
        )


def _parse_oncall_override(words: list[str]) -> OncallOverrideCommand:
    example = _EXAMPLES["oncall"]
    if words[0].lower() != "override":
        raise CommandError(
            f"Unexpected {echo(words[0])} after `/wso oncall`: use `/wso oncall` alone, "
            "`/wso oncall override SCHEDULE @person DURATION`, `/wso oncall overrides` or "
            "`/wso oncall cancel NUMBER`.",
            example,
        )
    if len(words) != 4:
        raise CommandError(
            "`/wso oncall override` needs three things: the schedule id, the person "
            "(an @mention or member ID) and how long, e.g. `12h`.",
            example,
        )
    return OncallOverrideCommand(
        _validate_schedule_id(words[1], example),
        validate_user(words[2], example),
        _validate_override_duration(words[3], example),
    )


def _validate_schedule_id(word: str, example: str) -> str:
    if _SCHEDULE_ID.fullmatch(word.lower()):
        return word.lower()
    raise CommandError(f"{echo(word)} is not a schedule id.", example)


def _validate_override_duration(word: str, example: str) -> timedelta:
    try:
        duration = parse_duration(word)
    except ValueError:
        raise CommandError(
            f"{echo(word)} is not a duration: use forms like `30m`, `12h`, `1d`.", example
        ) from None
    if not timedelta(0) < duration <= MAX_OVERRIDE:
        raise CommandError("An override must last more than 0 and at most 14 days.", example)
    return duration


LIFECYCLE_PARSERS: dict[str, Callable[[list[str]], LifecycleCommand]] = {
    "igsa": _parse_igsa,
    "void": _text_parser("void", VoidCommand),
    "correct": _parse_correct,
    "dispute": _text_parser("dispute", DisputeCommand),
    "note": _text_parser("note", NoteCommand),
    "oncall": _parse_oncall,
}
