"""Parse the text of a ``/wso`` slash command into command values.

Pure: no Slack, HTTP or database imports. The arrest time is kept as the raw
text typed after ``at``; ``bot.chat.arrest_time`` turns it into an instant once the
facility zone and ``now`` are known. Control, bidi and zero-width characters
are dropped before anything is read (``bot.chat.slack.clean_text``), so they are
never stored or logged; any user text echoed in an error message goes through
``bot.chat.slack.echo`` so it can never ping a channel.

This module reads logging, closing and looking up a custody; the lifecycle and
on-call subcommands are ``bot.chat.lifecycle_commands``, the shared words
``bot.chat.grammar``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.chat.grammar import (
    _DATE,
    _EXAMPLES,
    _FORM_LIKE,
    _OPTION_KEYWORDS,
    MAX_REASON_CHARS,
    OPTION_LABELS,
    OPTION_SAMPLES,
    SAMPLE_BOOKING,
    WARRANT_FORM_SPELLINGS,
    CommandError,
    example_line,
    option_value,
    read_free_text,
    read_leading_facility,
    read_only_facility,
    take_booking,
    validate_facility_id,
    validate_warrant_number,
)
from bot.chat.lifecycle_commands import (
    LIFECYCLE_PARSERS,
    CorrectCommand,
    DisputeCommand,
    IgsaCommand,
    LifecycleCommand,
    NoteCommand,
    OncallCancelCommand,
    OncallCommand,
    OncallOverrideCommand,
    OncallOverridesCommand,
    VoidCommand,
)
from bot.chat.slack import clean_text, echo
from bot.core.a_number import ANumberError, read_a_number
from bot.core.model import WarrantForm

__all__ = [
    "HELP_TEXT",
    "MAX_REASON_CHARS",
    "SUBCOMMANDS",
    "AckCommand",
    "ArrestCommand",
    "Command",
    "CommandError",
    "CorrectCommand",
    "DisputeCommand",
    "HelpCommand",
    "HistoryCommand",
    "IgsaCommand",
    "ListCommand",
    "NoteCommand",
    "OfficersCommand",
    "OncallCancelCommand",
    "OncallCommand",
    "OncallOverrideCommand",
    "OncallOverridesCommand",
    "ReleaseCommand",
    "StatusCommand",
    "TransferCommand",
    "VoidCommand",
    "help_text",
    "parse_command",
]


@dataclass(frozen=True)
class ArrestCommand:
    booking: str
    warrant_form: WarrantForm | None = None
    warrant_number: str | None = None
    at_text: str | None = None
    facility_id: str | None = None
    # ``A`` and 9 digits (``bot.core.a_number``); personal data, so not in ``repr``.
    a_number: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class TransferCommand:
    booking: str
    facility_id: str | None = None


@dataclass(frozen=True)
class ReleaseCommand:
    booking: str
    reason: str | None = None
    facility_id: str | None = None


@dataclass(frozen=True)
class StatusCommand:
    booking: str
    facility_id: str | None = None


@dataclass(frozen=True)
class HistoryCommand:
    booking: str
    facility_id: str | None = None


@dataclass(frozen=True)
class ListCommand:
    facility_id: str | None = None


@dataclass(frozen=True)
class OfficersCommand:
    """``/wso officers``: the facility's roster and where each certification stands."""

    facility_id: str | None = None


@dataclass(frozen=True)
class HelpCommand:
    pass


@dataclass(frozen=True)
class AckCommand:
    booking: str
    facility_id: str | None = None


Command = (
    ArrestCommand
    | TransferCommand
    | ReleaseCommand
    | StatusCommand
    | HistoryCommand
    | ListCommand
    | OfficersCommand
    | HelpCommand
    | AckCommand
    | LifecycleCommand
)


SUBCOMMANDS = (
    *("arrest", "transfer", "release", "igsa", "void", "correct", "dispute", "note"),
    *("status", "history", "list", "ack", "oncall", "officers", "help"),
)

HELP_TEXT = "\n".join(
    (
        "*WSO Custody Clock*: log a WSO arrest and keep its 48-hour deadline in view.",
        "• `/wso arrest BOOKING [I-200|I-205] [warrant NUMBER] [at TIME] [facility ID] "
        "[anumber A-NUMBER]`: log an arrest. The options may come in any order. The "
        "A-number is optional, kept private and never shown in a channel.",
        f"   e.g. `/wso arrest {SAMPLE_BOOKING} I-200 warrant W-123456 at 14:05`",
        "   TIME is `HH:MM` or `HH:MM:SS` (today, facility time), `YYYY-MM-DD HH:MM`, "
        "or ISO 8601 with an offset such as `2026-11-28T14:05-06:00`. "
        "Leave out `at` to use the time you send the command.",
        "• `/wso transfer BOOKING [facility ID]`: ICE has taken custody.",
        f"   e.g. `/wso transfer {SAMPLE_BOOKING}`",
        "• `/wso release BOOKING [facility ID] [reason]`: the person was released.",
        f"   e.g. `/wso release {SAMPLE_BOOKING} bail posted`",
        "• `/wso igsa BOOKING [facility ID]`: the person is held under an IGSA; "
        "the clock and all paging stop (only where the facility has an IGSA).",
        f"   e.g. `/wso igsa {SAMPLE_BOOKING}`",
        "• `/wso void BOOKING [facility ID] REASON`: the warrant was cancelled or the entry "
        "was made in error; the reason is required.",
        f"   e.g. `/wso void {SAMPLE_BOOKING} warrant cancelled by ICE`",
        "• `/wso correct BOOKING at TIME [facility ID]`: fix a wrong arrest time; the "
        "deadline and every reminder move with it (not in the future, at most 30 days back).",
        f"   e.g. `/wso correct {SAMPLE_BOOKING} at 2026-11-28 14:05`",
        "• `/wso correct BOOKING policy [facility ID]`: count the deadline again under the "
        "facility's current counting rule (a config change applies to new custodies only).",
        f"   e.g. `/wso correct {SAMPLE_BOOKING} policy`",
        "• `/wso dispute BOOKING [facility ID] NOTE`: someone says the person is a U.S. "
        "citizen, or disputes who they are; both channels hear it and the first "
        "escalation level is paged at once.",
        f"   e.g. `/wso dispute {SAMPLE_BOOKING} says he was born in El Paso`",
        "• `/wso note BOOKING [facility ID] TEXT`: add a note for both channels.",
        f"   e.g. `/wso note {SAMPLE_BOOKING} ICE pickup set for 16:00`",
        "• `/wso status BOOKING [facility ID]`: the deadline of one custody.",
        f"   e.g. `/wso status {SAMPLE_BOOKING}`",
        "• `/wso history BOOKING [facility ID]`: everything recorded about one custody, "
        "oldest first (only you see it; officers and staff of its facility only).",
        f"   e.g. `/wso history {SAMPLE_BOOKING}`",
        "• `/wso list [facility ID]`: the open custodies.",
        "   e.g. `/wso list facility county-jail`",
        "• `/wso ack BOOKING [facility ID]`: you are handling an overdue custody; "
        "stops the paging for a while (the custody stays open).",
        f"   e.g. `/wso ack {SAMPLE_BOOKING}`",
        "• `/wso oncall`: who is on call now and next, per schedule.",
        "• `/wso oncall override SCHEDULE @person DURATION`: someone covers a schedule "
        "from now on (@mention them or give their member ID), "
        "e.g. `/wso oncall override watch-commanders U0LT3 12h`.",
        "• `/wso oncall overrides`: the overrides not yet ended, numbered; "
        "`/wso oncall cancel NUMBER` removes one, e.g. `/wso oncall cancel 12`.",
        "• `/wso officers [facility ID]`: the facility's WSO officers and when each "
        "certification expires (for its officers and staff).",
        "• `/wso help`: this message.",
        "BOOKING is 1-32 letters, digits and `-`. Words are not case-sensitive.",
    )
)


def help_text() -> str:
    """The ``/wso help`` reply: the grammar with examples, in mrkdwn."""
    return HELP_TEXT


def parse_command(text: str) -> Command:
    """Parse everything after ``/wso`` into a command value.

    Words may be separated by any Unicode whitespace; subcommands and keywords
    are case-insensitive. Empty text means help. Control, bidi and zero-width
    characters are dropped first. Raises ``CommandError`` with a plain-English
    message and a correct example command line.
    """
    words = clean_text(text).split()
    if not words:
        return HelpCommand()
    parse_subcommand = _PARSERS.get(words[0].lower())
    if parse_subcommand is None:
        raise CommandError(
            f"Unknown command {echo(words[0])}. Use one of: {', '.join(SUBCOMMANDS)}.",
            _EXAMPLES["help"],
        )
    return parse_subcommand(words[1:])


def _parse_help(words: list[str]) -> HelpCommand:
    # Anything after `help` is ignored: asking for help should never fail.
    return HelpCommand()


def _parse_arrest(words: list[str]) -> ArrestCommand:
    booking, rest = take_booking(words, "arrest")
    found: dict[str, str] = {}
    position = 0
    while position < len(rest):
        name, value, position = _read_arrest_option(rest, position, booking)
        if name in found:
            raise CommandError(
                f"{OPTION_LABELS[name]} is given twice; give it once.",
                example_line("arrest", booking, OPTION_SAMPLES[name]),
            )
        found[name] = value
    form = found.get("form")
    return ArrestCommand(
        booking=booking,
        warrant_form=WarrantForm(form) if form else None,
        warrant_number=found.get("warrant"),
        at_text=found.get("at"),
        facility_id=found.get("facility"),
        a_number=found.get("anumber"),
    )


def _read_arrest_option(words: list[str], position: int, booking: str) -> tuple[str, str, int]:
    """Read one option of ``arrest``: its name, its value and where the next one starts."""
    word = words[position]
    keyword = word.lower()
    if word.upper() in WARRANT_FORM_SPELLINGS:
        return "form", WARRANT_FORM_SPELLINGS[word.upper()].value, position + 1
    if _FORM_LIKE.fullmatch(word):
        raise CommandError(
            f"Unknown warrant form {echo(word)}: use I-200 or I-205.",
            example_line("arrest", booking, "I-200"),
        )
    if keyword not in _OPTION_KEYWORDS:
        raise _unknown_arrest_word(word, booking)
    example = example_line("arrest", booking, OPTION_SAMPLES[keyword])
    value = option_value(words, position, example)
    if keyword == "at":
        at_text, next_position = _read_time_text(words, position + 1)
        return "at", at_text, next_position
    if keyword == "warrant":
        return "warrant", validate_warrant_number(value, example), position + 2
    if keyword == "anumber":
        return _read_a_number(words, position + 1, example)
    return "facility", validate_facility_id(value, example), position + 2


def _read_time_text(words: list[str], start: int) -> tuple[str, int]:
    """One word, or two when a date is followed by a clock (``2026-11-28 14:05``)."""
    first = words[start]
    following = words[start + 1] if start + 1 < len(words) else ""
    if _DATE.fullmatch(first) and following[:1] in tuple("0123456789"):
        return f"{first} {following}", start + 2
    return first, start + 1


_DIGIT_GROUP = re.compile(r"[\d-]+", re.ASCII)


def _read_a_number(words: list[str], start: int, example: str) -> tuple[str, str, int]:
    """``A123456789``, or typed in groups (``A 123 456 789``): the digit groups that follow.

    The error never repeats what was typed: an A-number is personal data.
    """
    end = start + 1
    while end < len(words) and _DIGIT_GROUP.fullmatch(words[end]):
        end += 1
    try:
        return "anumber", read_a_number(" ".join(words[start:end])), end
    except ANumberError as error:
        raise CommandError(str(error), example) from None


def _unknown_arrest_word(word: str, booking: str) -> CommandError:
    with contextlib.suppress(ANumberError):
        read_a_number(word)
        return CommandError(  # not echoed: an A-number is personal data
            "That looks like an A-number: write `anumber` before it.",
            example_line("arrest", booking, OPTION_SAMPLES["anumber"]),
        )
    return CommandError(
        f"I don't understand {echo(word)} in `/wso arrest`. After the booking number you "
        "can add `I-200` or `I-205`, `warrant NUMBER`, `at TIME`, `facility ID` and "
        "`anumber A-NUMBER`.",
        example_line("arrest", booking, "I-200", OPTION_SAMPLES["at"]),
    )


def _parse_transfer(words: list[str]) -> TransferCommand:
    booking, rest = take_booking(words, "transfer")
    return TransferCommand(booking, read_only_facility(rest, "transfer", booking))


def _parse_status(words: list[str]) -> StatusCommand:
    booking, rest = take_booking(words, "status")
    return StatusCommand(booking, read_only_facility(rest, "status", booking))


def _parse_history(words: list[str]) -> HistoryCommand:
    booking, rest = take_booking(words, "history")
    return HistoryCommand(booking, read_only_facility(rest, "history", booking))


def _parse_list(words: list[str]) -> ListCommand:
    return ListCommand(read_only_facility(words, "list", None))


def _parse_release(words: list[str]) -> ReleaseCommand:
    booking, rest = take_booking(words, "release")
    facility_id, rest = read_leading_facility(rest, "release", booking)
    return ReleaseCommand(
        booking, read_free_text(rest, "release", booking, required=False), facility_id
    )


def _parse_officers(words: list[str]) -> OfficersCommand:
    return OfficersCommand(read_only_facility(words, "officers", None))


def _parse_ack(words: list[str]) -> AckCommand:
    booking, rest = take_booking(words, "ack")
    return AckCommand(booking, read_only_facility(rest, "ack", booking))


_PARSERS: dict[str, Callable[[list[str]], Command]] = {
    "ack": _parse_ack,
    "arrest": _parse_arrest,
    "transfer": _parse_transfer,
    "release": _parse_release,
    "status": _parse_status,
    "history": _parse_history,
    "list": _parse_list,
    "officers": _parse_officers,
    "help": _parse_help,
    **LIFECYCLE_PARSERS,
}
