"""The words of the ``/wso`` grammar that every subcommand shares. Pure.

Booking numbers, facility ids, members, option values, free text and the examples
that errors carry: ``bot.chat.commands`` (arrest, transfer, release, status, list,
ack) and ``bot.chat.lifecycle_commands`` (igsa, void, correct, dispute, note, on
call) read their words with these. User text quoted back goes through
``bot.chat.slack.echo``, so it can never ping a channel.
"""

from __future__ import annotations

import re
from datetime import timedelta

from bot.chat.slack import echo
from bot.core.model import WarrantForm


class CommandError(ValueError):
    """A command that could not be read, with the reason and a correct command line."""

    def __init__(self, message: str, example: str) -> None:
        super().__init__(message)
        self.message = message
        self.example = example


MAX_OVERRIDE = timedelta(days=14)
MAX_REASON_CHARS = 500
SAMPLE_BOOKING = "B-2026-0412"
_BOOKING = re.compile(r"[A-Za-z0-9-]{1,32}")
_WARRANT_NUMBER = re.compile(r"[A-Za-z0-9-]{1,40}")
_FACILITY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_FORM_LIKE = re.compile(r"I-?\d+[A-Z]?", re.IGNORECASE | re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
WARRANT_FORM_SPELLINGS = {
    "I-200": WarrantForm.I_200,
    "I200": WarrantForm.I_200,
    "I-205": WarrantForm.I_205,
    "I205": WarrantForm.I_205,
}
_OPTION_KEYWORDS = frozenset({"at", "warrant", "facility", "anumber"})
OPTION_SAMPLES = {
    "form": "I-200",
    "at": "at 14:05",
    "warrant": "warrant W-123456",
    "facility": "facility county-jail",
    "anumber": "anumber A123456789",
}
_OPTION_HINTS = {
    "at": "a time such as `14:05` or `2026-11-28 14:05`",
    "warrant": "the warrant number (letters, digits and `-`)",
    "facility": "the facility id (letters, digits, `-` and `_`)",
    "anumber": "the A-number: A and 7 to 9 digits, e.g. `A123456789`",
}
OPTION_LABELS = {
    "form": "The warrant form",
    "at": "`at`",
    "warrant": "`warrant`",
    "facility": "`facility`",
    "anumber": "`anumber`",
}
_EXAMPLES = {
    "arrest": f"/wso arrest {SAMPLE_BOOKING} I-200 at 14:05",
    "transfer": f"/wso transfer {SAMPLE_BOOKING}",
    "release": f"/wso release {SAMPLE_BOOKING} bail posted",
    "status": f"/wso status {SAMPLE_BOOKING}",
    "history": f"/wso history {SAMPLE_BOOKING}",
    "list": "/wso list",
    "officers": "/wso officers",
    "help": "/wso help",
    "ack": f"/wso ack {SAMPLE_BOOKING}",
    "oncall": "/wso oncall override watch-commanders U0LT3 12h",
    "igsa": f"/wso igsa {SAMPLE_BOOKING}",
    "void": f"/wso void {SAMPLE_BOOKING} warrant cancelled by ICE",
    "correct": f"/wso correct {SAMPLE_BOOKING} at 2026-11-28 14:05",
    "dispute": f"/wso dispute {SAMPLE_BOOKING} says he was born in El Paso",
    "note": f"/wso note {SAMPLE_BOOKING} ICE pickup set for 16:00",
}
# What the free text of each subcommand is called in an error, and a sample of it.
_TEXT_NAMES = {
    "release": ("release reason", "bail posted"),
    "void": ("reason", "warrant cancelled by ICE"),
    "dispute": ("note", "says he was born in El Paso"),
    "note": ("note", "ICE pickup set for 16:00"),
}
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>|([UW][A-Z0-9]{2,})", re.ASCII)
_SCHEDULE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}", re.ASCII)


def read_only_facility(words: list[str], subcommand: str, booking: str | None) -> str | None:
    """Read an optional ``facility ID`` and refuse anything else."""
    if not words:
        return None
    example = example_line(subcommand, booking, OPTION_SAMPLES["facility"])
    if words[0].lower() != "facility":
        raise _extra_word_error(words[0], subcommand, example)
    facility_id = validate_facility_id(option_value(words, 0, example), example)
    if len(words) > 2:
        raise _extra_word_error(words[2], subcommand, example)
    return facility_id


def _extra_word_error(word: str, subcommand: str, example: str) -> CommandError:
    takes = "only" if subcommand in ("list", "officers") else "a booking number and"
    return CommandError(
        f"Unexpected {echo(word)} after `/wso {subcommand}`: it takes {takes} "
        "an optional `facility ID`.",
        example,
    )


def take_booking(words: list[str], subcommand: str) -> tuple[str, list[str]]:
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


def validate_warrant_number(word: str, example: str) -> str:
    _require(_WARRANT_NUMBER, word, "a warrant number: use 1-40 letters, digits and `-`", example)
    return word.upper()


def validate_facility_id(word: str, example: str) -> str:
    _require(_FACILITY_ID, word, "a facility id: use 1-64 letters, digits, `-` and `_`", example)
    return word.lower()


def _require(pattern: re.Pattern[str], word: str, what: str, example: str) -> None:
    """Refuse ``word`` unless ``pattern`` matches all of it: "`word` is not <what>."."""
    if not pattern.fullmatch(word):
        raise CommandError(f"{echo(word)} is not {what}.", example)


def option_value(words: list[str], position: int, example: str) -> str:
    """The word after an option keyword; another keyword there means the value is missing."""
    keyword = words[position].lower()
    following = words[position + 1] if position + 1 < len(words) else None
    if following is None or _is_reserved(following):
        raise CommandError(f"`{keyword}` needs {_OPTION_HINTS[keyword]} after it.", example)
    return following


def _is_reserved(word: str) -> bool:
    return word.lower() in _OPTION_KEYWORDS or word.upper() in WARRANT_FORM_SPELLINGS


def example_line(subcommand: str, booking: str | None, *options: str) -> str:
    parts = ("/wso", subcommand, *([booking] if booking else []), *options)
    return " ".join(parts)


def validate_user(word: str, example: str) -> str:
    match = _MENTION.fullmatch(word)
    if match:
        return match.group(1) or match.group(2)
    raise CommandError(
        f"{echo(word)} is not a Slack member: @mention them, or give their member ID "
        "(profile → ⋮ → Copy member ID), e.g. `U0LT3`.",
        example,
    )


def read_leading_facility(
    words: list[str], subcommand: str, booking: str
) -> tuple[str | None, list[str]]:
    """An optional ``facility ID`` right after the booking, and the words after it."""
    if not words or words[0].lower() != "facility":
        return None, words
    example = example_line(subcommand, booking, OPTION_SAMPLES["facility"])
    return validate_facility_id(option_value(words, 0, example), example), words[2:]


def read_free_text(
    words: list[str], subcommand: str, booking: str, *, required: bool
) -> str | None:
    """The rest of the line as one text (a reason, a note), at most ``MAX_REASON_CHARS``."""
    what, sample = _TEXT_NAMES[subcommand]
    text = " ".join(words)
    example = example_line(subcommand, booking, sample)
    if len(text) > MAX_REASON_CHARS:
        raise CommandError(
            f"The {what} is {len(text)} characters long; keep it to {MAX_REASON_CHARS}.",
            example,
        )
    if required and not text:
        raise CommandError(f"`/wso {subcommand}` needs a {what} after the booking number.", example)
    return text or None
