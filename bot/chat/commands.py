"""Parse the text of a ``/wso`` slash command into command values.

Pure: no Slack, HTTP or database imports. The arrest time is kept as the raw
text typed after ``at``; ``bot.chat.arrest_time`` turns it into an instant once the
facility zone and ``now`` are known. Control, bidi and zero-width characters
are dropped before anything is read (``bot.chat.slack.clean_text``), so they are
never stored or logged; any user text echoed in an error message goes through
``bot.chat.slack.echo`` so it can never ping a channel.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.chat.slack import clean_text, echo
from bot.core.durations import parse_duration
from bot.core.model import WarrantForm


@dataclass(frozen=True)
class ArrestCommand:
    booking: str
    warrant_form: WarrantForm | None = None
    warrant_number: str | None = None
    at_text: str | None = None
    facility_id: str | None = None


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
class ListCommand:
    facility_id: str | None = None


@dataclass(frozen=True)
class HelpCommand:
    pass


@dataclass(frozen=True)
class AckCommand:
    booking: str
    facility_id: str | None = None


@dataclass(frozen=True)
class OncallCommand:
    pass


@dataclass(frozen=True)
class OncallOverrideCommand:
    schedule_id: str
    user_id: str
    duration: timedelta


Command = (
    ArrestCommand
    | TransferCommand
    | ReleaseCommand
    | StatusCommand
    | ListCommand
    | HelpCommand
    | AckCommand
    | OncallCommand
    | OncallOverrideCommand
)


class CommandError(ValueError):
    """A command that could not be read, with the reason and a correct command line."""

    def __init__(self, message: str, example: str) -> None:
        super().__init__(message)
        self.message = message
        self.example = example


SUBCOMMANDS = ("arrest", "transfer", "release", "status", "list", "ack", "oncall", "help")
MAX_OVERRIDE = timedelta(days=14)
MAX_REASON_CHARS = 500
SAMPLE_BOOKING = "B-2026-0412"

_BOOKING = re.compile(r"[A-Za-z0-9-]{1,32}")
_WARRANT_NUMBER = re.compile(r"[A-Za-z0-9-]{1,40}")
_FACILITY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_FORM_LIKE = re.compile(r"I-?\d+[A-Z]?", re.IGNORECASE | re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_WARRANT_FORMS = {
    "I-200": WarrantForm.I_200,
    "I200": WarrantForm.I_200,
    "I-205": WarrantForm.I_205,
    "I205": WarrantForm.I_205,
}
_OPTION_KEYWORDS = frozenset({"at", "warrant", "facility"})
_OPTION_SAMPLES = {
    "form": "I-200",
    "at": "at 14:05",
    "warrant": "warrant W-123456",
    "facility": "facility county-jail",
}
_OPTION_HINTS = {
    "at": "a time such as `14:05` or `2026-11-28 14:05`",
    "warrant": "the warrant number (letters, digits and `-`)",
    "facility": "the facility id (letters, digits, `-` and `_`)",
}
_OPTION_LABELS = {
    "form": "The warrant form",
    "at": "`at`",
    "warrant": "`warrant`",
    "facility": "`facility`",
}
_EXAMPLES = {
    "arrest": f"/wso arrest {SAMPLE_BOOKING} I-200 at 14:05",
    "transfer": f"/wso transfer {SAMPLE_BOOKING}",
    "release": f"/wso release {SAMPLE_BOOKING} bail posted",
    "status": f"/wso status {SAMPLE_BOOKING}",
    "list": "/wso list",
    "help": "/wso help",
    "ack": f"/wso ack {SAMPLE_BOOKING}",
    "oncall": "/wso oncall override watch-commanders U0LT3 12h",
}
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>|([UW][A-Z0-9]{2,})", re.ASCII)
_SCHEDULE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}", re.ASCII)

HELP_TEXT = "\n".join(
    (
        "*WSO Custody Clock*: log a WSO arrest and keep its 48-hour deadline in view.",
        "• `/wso arrest BOOKING [I-200|I-205] [warrant NUMBER] [at TIME] [facility ID]`"
        ": log an arrest. The options may come in any order.",
        f"   e.g. `/wso arrest {SAMPLE_BOOKING} I-200 warrant W-123456 at 14:05`",
        "   TIME is `HH:MM` or `HH:MM:SS` (today, facility time), `YYYY-MM-DD HH:MM`, "
        "or ISO 8601 with an offset such as `2026-11-28T14:05-06:00`. "
        "Leave out `at` to use the time you send the command.",
        "• `/wso transfer BOOKING [facility ID]`: ICE has taken custody.",
        f"   e.g. `/wso transfer {SAMPLE_BOOKING}`",
        "• `/wso release BOOKING [facility ID] [reason]`: the person was released.",
        f"   e.g. `/wso release {SAMPLE_BOOKING} bail posted`",
        "• `/wso status BOOKING [facility ID]`: the deadline of one custody.",
        f"   e.g. `/wso status {SAMPLE_BOOKING}`",
        "• `/wso list [facility ID]`: the open custodies.",
        "   e.g. `/wso list facility county-jail`",
        "• `/wso ack BOOKING [facility ID]`: you are handling an overdue custody; "
        "stops the paging for a while (the custody stays open).",
        f"   e.g. `/wso ack {SAMPLE_BOOKING}`",
        "• `/wso oncall`: who is on call now and next, per schedule.",
        "• `/wso oncall override SCHEDULE @person DURATION`: someone covers a schedule "
        "from now on (@mention them or give their member ID), "
        "e.g. `/wso oncall override watch-commanders U0LT3 12h`.",
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
    booking, rest = _take_booking(words, "arrest")
    found: dict[str, str] = {}
    position = 0
    while position < len(rest):
        name, value, position = _read_arrest_option(rest, position, booking)
        if name in found:
            raise CommandError(
                f"{_OPTION_LABELS[name]} is given twice; give it once.",
                _example_line("arrest", booking, _OPTION_SAMPLES[name]),
            )
        found[name] = value
    form = found.get("form")
    return ArrestCommand(
        booking=booking,
        warrant_form=WarrantForm(form) if form else None,
        warrant_number=found.get("warrant"),
        at_text=found.get("at"),
        facility_id=found.get("facility"),
    )


def _read_arrest_option(words: list[str], position: int, booking: str) -> tuple[str, str, int]:
    """Read one option of ``arrest``: its name, its value and where the next one starts."""
    word = words[position]
    keyword = word.lower()
    if word.upper() in _WARRANT_FORMS:
        return "form", _WARRANT_FORMS[word.upper()].value, position + 1
    if _FORM_LIKE.fullmatch(word):
        raise CommandError(
            f"Unknown warrant form {echo(word)}: use I-200 or I-205.",
            _example_line("arrest", booking, "I-200"),
        )
    if keyword not in _OPTION_KEYWORDS:
        raise _unknown_arrest_word(word, booking)
    example = _example_line("arrest", booking, _OPTION_SAMPLES[keyword])
    value = _option_value(words, position, example)
    if keyword == "at":
        at_text, next_position = _read_time_text(words, position + 1)
        return "at", at_text, next_position
    if keyword == "warrant":
        return "warrant", _validate_warrant_number(value, example), position + 2
    return "facility", _validate_facility_id(value, example), position + 2


def _read_time_text(words: list[str], start: int) -> tuple[str, int]:
    """One word, or two when a date is followed by a clock (``2026-11-28 14:05``)."""
    first = words[start]
    following = words[start + 1] if start + 1 < len(words) else ""
    if _DATE.fullmatch(first) and following[:1] in tuple("0123456789"):
        return f"{first} {following}", start + 2
    return first, start + 1


def _unknown_arrest_word(word: str, booking: str) -> CommandError:
    return CommandError(
        f"I don't understand {echo(word)} in `/wso arrest`. After the booking number you "
        "can add `I-200` or `I-205`, `warrant NUMBER`, `at TIME` and `facility ID`.",
        _example_line("arrest", booking, "I-200", _OPTION_SAMPLES["at"]),
    )


def _parse_transfer(words: list[str]) -> TransferCommand:
    booking, rest = _take_booking(words, "transfer")
    return TransferCommand(booking, _read_only_facility(rest, "transfer", booking))


def _parse_status(words: list[str]) -> StatusCommand:
    booking, rest = _take_booking(words, "status")
    return StatusCommand(booking, _read_only_facility(rest, "status", booking))


def _parse_list(words: list[str]) -> ListCommand:
    return ListCommand(_read_only_facility(words, "list", None))


def _parse_release(words: list[str]) -> ReleaseCommand:
    booking, rest = _take_booking(words, "release")
    facility_id = None
    if rest and rest[0].lower() == "facility":
        example = _example_line("release", booking, _OPTION_SAMPLES["facility"])
        facility_id = _validate_facility_id(_option_value(rest, 0, example), example)
        rest = rest[2:]
    return ReleaseCommand(booking, _read_reason(rest, booking), facility_id)


def _read_reason(words: list[str], booking: str) -> str | None:
    reason = " ".join(words)
    if len(reason) > MAX_REASON_CHARS:
        raise CommandError(
            f"The release reason is {len(reason)} characters long; keep it to {MAX_REASON_CHARS}.",
            _example_line("release", booking, "bail posted"),
        )
    return reason or None


def _read_only_facility(words: list[str], subcommand: str, booking: str | None) -> str | None:
    """Read an optional ``facility ID`` and refuse anything else."""
    if not words:
        return None
    example = _example_line(subcommand, booking, _OPTION_SAMPLES["facility"])
    if words[0].lower() != "facility":
        raise _extra_word_error(words[0], subcommand, example)
    facility_id = _validate_facility_id(_option_value(words, 0, example), example)
    if len(words) > 2:
        raise _extra_word_error(words[2], subcommand, example)
    return facility_id


def _extra_word_error(word: str, subcommand: str, example: str) -> CommandError:
    takes = "a booking number and" if subcommand != "list" else "only"
    return CommandError(
        f"Unexpected {echo(word)} after `/wso {subcommand}`: it takes {takes} "
        "an optional `facility ID`.",
        example,
    )


def _take_booking(words: list[str], subcommand: str) -> tuple[str, list[str]]:
    """The booking number (upper-cased) that must follow the subcommand, and the rest."""
    if not words or _is_reserved(words[0]):
        got = f" (got {echo(words[0])})" if words else ""
        raise CommandError(
            f"`/wso {subcommand}` needs the booking number right after `{subcommand}`{got}.",
            _EXAMPLES[subcommand],
        )
    return _validate_booking(words[0], subcommand), words[1:]


def _validate_booking(word: str, subcommand: str) -> str:
    if _BOOKING.fullmatch(word) and any(char.isalnum() for char in word):
        return word.upper()
    length = f" (it is {len(word)} characters)" if len(word) > 32 else ""
    raise CommandError(
        f"{echo(word)} is not a booking number{length}: use 1-32 letters, digits "
        f"and `-`, e.g. `{SAMPLE_BOOKING}`.",
        _EXAMPLES[subcommand],
    )


def _validate_warrant_number(word: str, example: str) -> str:
    if _WARRANT_NUMBER.fullmatch(word):
        return word.upper()
    raise CommandError(
        f"{echo(word)} is not a warrant number: use 1-40 letters, digits and `-`.",
        example,
    )


def _validate_facility_id(word: str, example: str) -> str:
    if _FACILITY_ID.fullmatch(word):
        return word.lower()
    raise CommandError(
        f"{echo(word)} is not a facility id: use 1-64 letters, digits, `-` and `_`.",
        example,
    )


def _option_value(words: list[str], position: int, example: str) -> str:
    """The word after an option keyword; another keyword there means the value is missing."""
    keyword = words[position].lower()
    following = words[position + 1] if position + 1 < len(words) else None
    if following is None or _is_reserved(following):
        raise CommandError(f"`{keyword}` needs {_OPTION_HINTS[keyword]} after it.", example)
    return following


def _is_reserved(word: str) -> bool:
    return word.lower() in _OPTION_KEYWORDS or word.upper() in _WARRANT_FORMS


def _example_line(subcommand: str, booking: str | None, *options: str) -> str:
    parts = ("/wso", subcommand, *([booking] if booking else []), *options)
    return " ".join(parts)


def _parse_ack(words: list[str]) -> AckCommand:
    booking, rest = _take_booking(words, "ack")
    return AckCommand(booking, _read_only_facility(rest, "ack", booking))


def _parse_oncall(words: list[str]) -> OncallCommand | OncallOverrideCommand:
    if not words:
        return OncallCommand()
    example = _EXAMPLES["oncall"]
    if words[0].lower() != "override":
        raise CommandError(
            f"Unexpected {echo(words[0])} after `/wso oncall`: use `/wso oncall` alone, "
            "or `/wso oncall override SCHEDULE @person DURATION`.",
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
        _validate_user(words[2], example),
        _validate_override_duration(words[3], example),
    )


def _validate_schedule_id(word: str, example: str) -> str:
    if _SCHEDULE_ID.fullmatch(word.lower()):
        return word.lower()
    raise CommandError(f"{echo(word)} is not a schedule id.", example)


def _validate_user(word: str, example: str) -> str:
    match = _MENTION.fullmatch(word)
    if match:
        return match.group(1) or match.group(2)
    raise CommandError(
        f"{echo(word)} is not a Slack member: @mention them, or give their member ID "
        "(profile → ⋮ → Copy member ID), e.g. `U0LT3`.",
        example,
    )


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


_PARSERS: dict[str, Callable[[list[str]], Command]] = {
    "ack": _parse_ack,
    "oncall": _parse_oncall,
    "arrest": _parse_arrest,
    "transfer": _parse_transfer,
    "release": _parse_release,
    "status": _parse_status,
    "list": _parse_list,
    "help": _parse_help,
}
