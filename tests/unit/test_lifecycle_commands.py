"""The lifecycle and on-call subcommands' grammar: what parses, and what is refused and why."""

from __future__ import annotations

import pytest

from bot.chat.commands import (
    MAX_REASON_CHARS,
    Command,
    CommandError,
    CorrectCommand,
    DisputeCommand,
    IgsaCommand,
    NoteCommand,
    OncallCancelCommand,
    OncallOverridesCommand,
    VoidCommand,
    parse_command,
)

PARSED: list[tuple[str, str, Command]] = [
    ("igsa", "igsa b-1", IgsaCommand("B-1")),
    ("igsa-facility", "IGSA B-1 facility County-Jail", IgsaCommand("B-1", "county-jail")),
    ("void", "void B-1 warrant cancelled", VoidCommand("B-1", "warrant cancelled")),
    (
        "void-facility",
        "void B-1 facility north entered in error",
        VoidCommand("B-1", "entered in error", "north"),
    ),
    ("correct-clock", "correct B-1 at 14:05", CorrectCommand("B-1", "14:05")),
    (
        "correct-date-and-clock",
        "correct B-1 at 2026-11-28 14:05",
        CorrectCommand("B-1", "2026-11-28 14:05"),
    ),
    (
        "correct-facility-after",
        "correct B-1 at 2026-11-28 14:05 facility north",
        CorrectCommand("B-1", "2026-11-28 14:05", "north"),
    ),
    (
        "correct-facility-before",
        "correct B-1 facility north at 14:05",
        CorrectCommand("B-1", "14:05", "north"),
    ),
    ("correct-policy", "correct B-1 policy", CorrectCommand("B-1", None)),
    ("correct-policy-case", "CORRECT b-1 Policy", CorrectCommand("B-1", None)),
    (
        "correct-policy-facility-after",
        "correct B-1 policy facility north",
        CorrectCommand("B-1", None, "north"),
    ),
    (
        "correct-policy-facility-before",
        "correct B-1 facility north policy",
        CorrectCommand("B-1", None, "north"),
    ),
    ("dispute", "dispute B-1 says he is a citizen", DisputeCommand("B-1", "says he is a citizen")),
    ("note", "note B-1 pickup at 16:00", NoteCommand("B-1", "pickup at 16:00")),
    ("note-bidi-removed", "note B-1 abc\u202edef\u2066", NoteCommand("B-1", "abcdef")),
    ("oncall-overrides", "oncall overrides", OncallOverridesCommand()),
    ("oncall-cancel", "oncall cancel 12", OncallCancelCommand(12)),
    ("oncall-cancel-hash", "oncall cancel #7", OncallCancelCommand(7)),
]


@pytest.mark.parametrize(
    ("text", "expected"), [case[1:] for case in PARSED], ids=[case[0] for case in PARSED]
)
def test_lifecycle_commands_parse(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


LONG = "x" * (MAX_REASON_CHARS + 1)
REFUSED = [
    ("igsa-no-booking", "igsa", "needs the booking number", "/wso igsa B-2026-0412"),
    ("igsa-extra-word", "igsa B-1 please", "Unexpected `please`", "facility"),
    ("void-no-reason", "void B-1", "needs a reason", "/wso void B-1 warrant cancelled by ICE"),
    ("void-reason-too-long", f"void B-1 {LONG}", f"keep it to {MAX_REASON_CHARS}", "/wso void B-1"),
    ("dispute-no-note", "dispute B-1", "needs a note", "/wso dispute B-1 says"),
    ("note-empty", "note B-1 facility north", "needs a note", "/wso note B-1"),
    ("note-too-long", f"note B-1 {LONG}", "501 characters long", "/wso note B-1"),
    ("correct-no-at", "correct B-1 14:05", "needs `at`", "/wso correct B-2026-0412 at"),
    ("correct-no-time", "correct B-1 at", "`at` needs a time", "/wso correct"),
    ("correct-extra", "correct B-1 at 14:05 please", "Unexpected `please`", "/wso correct"),
    ("correct-nothing", "correct B-1", "or `policy`", "/wso correct B-2026-0412 at"),
    ("correct-policy-typo", "correct B-1 polcy", "(got `polcy`)", "/wso correct"),
    ("correct-policy-and-time", "correct B-1 policy at 14:05", "after `policy`", "/wso correct"),
    ("cancel-no-number", "oncall cancel", "needs the number", "/wso oncall cancel 12"),
    ("cancel-not-a-number", "oncall cancel twelve", "not an override number", "cancel 12"),
    ("overrides-extra", "oncall overrides all", "takes nothing more", "/wso oncall overrides"),
    ("oncall-unknown", "oncall list", "`/wso oncall cancel NUMBER`", "override"),
    ("mention-echo", "note <!channel>", "not a booking number", "/wso note"),
]


@pytest.mark.parametrize(
    ("text", "fragment", "example"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
def test_bad_lifecycle_commands_say_why_with_an_example(
    text: str, fragment: str, example: str
) -> None:
    with pytest.raises(CommandError) as caught:
        parse_command(text)
    assert fragment in caught.value.message
    assert example in caught.value.example
    assert "<!channel>" not in caught.value.message
