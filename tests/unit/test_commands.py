"""Table tests for parsing the text of a ``/wso`` slash command."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.chat.commands import (
    HELP_TEXT,
    SUBCOMMANDS,
    AckCommand,
    ArrestCommand,
    Command,
    CommandError,
    CorrectCommand,
    DisputeCommand,
    HelpCommand,
    HistoryCommand,
    IgsaCommand,
    ListCommand,
    NoteCommand,
    OncallCancelCommand,
    OncallCommand,
    OncallOverrideCommand,
    ReleaseCommand,
    StatusCommand,
    TransferCommand,
    VoidCommand,
    help_text,
    parse_command,
)
from bot.core.model import WarrantForm

I_200, I_205 = WarrantForm.I_200, WarrantForm.I_205

PARSED = [
    # Help
    pytest.param("", HelpCommand(), id="empty"),
    pytest.param("   \t ", HelpCommand(), id="blank"),
    pytest.param("\u00a0", HelpCommand(), id="nbsp-only"),
    pytest.param("help", HelpCommand(), id="help"),
    pytest.param("HeLp", HelpCommand(), id="help-mixed-case"),
    pytest.param("help arrest", HelpCommand(), id="help-ignores-rest"),
    # Arrest: booking
    pytest.param("arrest B-2026-0412", ArrestCommand("B-2026-0412"), id="arrest-booking"),
    pytest.param("arrest b-2026-0412", ArrestCommand("B-2026-0412"), id="booking-upper-cased"),
    pytest.param("ARREST B1", ArrestCommand("B1"), id="subcommand-upper"),
    pytest.param("arrest 7", ArrestCommand("7"), id="booking-one-char"),
    pytest.param("arrest " + "a" * 32, ArrestCommand("A" * 32), id="booking-32-chars"),
    pytest.param("arrest I-12345", ArrestCommand("I-12345"), id="booking-like-a-form-number"),
    # Arrest: warrant form
    pytest.param("arrest B1 I-200", ArrestCommand("B1", I_200), id="form-i-200"),
    pytest.param("arrest B1 I-205", ArrestCommand("B1", I_205), id="form-i-205"),
    pytest.param("arrest B1 i-200", ArrestCommand("B1", I_200), id="form-lower"),
    pytest.param("arrest B1 I200", ArrestCommand("B1", I_200), id="form-no-hyphen"),
    pytest.param("arrest B1 i205", ArrestCommand("B1", I_205), id="form-lower-no-hyphen"),
    # Arrest: warrant number
    pytest.param(
        "arrest B1 warrant w-123abc",
        ArrestCommand("B1", warrant_number="W-123ABC"),
        id="warrant-upper-cased",
    ),
    pytest.param(
        "arrest B1 warrant " + "9" * 40,
        ArrestCommand("B1", warrant_number="9" * 40),
        id="warrant-40-chars",
    ),
    # Arrest: time (kept as typed, not parsed here)
    pytest.param("arrest B1 at 14:05", ArrestCommand("B1", at_text="14:05"), id="at-hhmm"),
    pytest.param(
        "arrest B1 at 2026-11-28 14:05",
        ArrestCommand("B1", at_text="2026-11-28 14:05"),
        id="at-date-and-time",
    ),
    pytest.param(
        "arrest B1 at 2026-11-28   14:05:30",
        ArrestCommand("B1", at_text="2026-11-28 14:05:30"),
        id="at-date-and-time-spaces-collapsed",
    ),
    pytest.param(
        "arrest B1 at 2026-11-28T14:05-06:00",
        ArrestCommand("B1", at_text="2026-11-28T14:05-06:00"),
        id="at-iso",
    ),
    pytest.param(
        "arrest B1 at 2026-11-28 14:05 I-200",
        ArrestCommand("B1", I_200, at_text="2026-11-28 14:05"),
        id="at-two-words-then-form",
    ),
    pytest.param(
        "arrest B1 at 2026-11-28 I-200",
        ArrestCommand("B1", I_200, at_text="2026-11-28"),
        id="at-date-then-non-digit-stays-one-word",
    ),
    pytest.param(
        "arrest B1 at <!channel>",
        ArrestCommand("B1", at_text="<!channel>"),
        id="at-text-is-not-validated-here",
    ),
    # Arrest: facility
    pytest.param(
        "arrest B1 facility Main_Jail-2",
        ArrestCommand("B1", facility_id="main_jail-2"),
        id="facility-lower-cased",
    ),
    pytest.param(
        "arrest B1 facility " + "F" * 64,
        ArrestCommand("B1", facility_id="f" * 64),
        id="facility-64-chars",
    ),
    # Arrest: everything, in any order, any case, any whitespace
    pytest.param(
        "arrest B1 I-205 warrant W9 at 14:05 facility cnty",
        ArrestCommand("B1", I_205, "W9", "14:05", "cnty"),
        id="all-options",
    ),
    pytest.param(
        "arrest B1 facility cnty at 2026-11-28 14:05 warrant W9 i200",
        ArrestCommand("B1", I_200, "W9", "2026-11-28 14:05", "cnty"),
        id="all-options-reordered",
    ),
    pytest.param(
        "Arrest b1 AT 14:05 WARRANT w9 FACILITY Cnty",
        ArrestCommand("B1", None, "W9", "14:05", "cnty"),
        id="keywords-any-case",
    ),
    pytest.param(
        "  arrest\u00a0B1\u2003I-200\tat\u202f14:05\n",
        ArrestCommand("B1", I_200, at_text="14:05"),
        id="unicode-whitespace",
    ),
    # Transfer
    pytest.param("transfer b1", TransferCommand("B1"), id="transfer"),
    pytest.param(
        "TRANSFER B1 Facility Jail_A", TransferCommand("B1", "jail_a"), id="transfer-facility"
    ),
    # Release
    pytest.param("release B1", ReleaseCommand("B1"), id="release"),
    pytest.param(
        "release B1 bail posted", ReleaseCommand("B1", "bail posted"), id="release-reason"
    ),
    pytest.param(
        "release B1   judge\u00a0ordered \t release ",
        ReleaseCommand("B1", "judge ordered release"),
        id="release-reason-whitespace-collapsed",
    ),
    pytest.param(
        "release B1 facility Jail-A window expired",
        ReleaseCommand("B1", "window expired", "jail-a"),
        id="release-facility-and-reason",
    ),
    pytest.param(
        "release B1 facility jail-a",
        ReleaseCommand("B1", None, "jail-a"),
        id="release-facility-no-reason",
    ),
    pytest.param(
        "release B1 ICE at the door with I-200 warrant",
        ReleaseCommand("B1", "ICE at the door with I-200 warrant"),
        id="release-reason-is-free-text",
    ),
    pytest.param(
        "release B1 " + "x" * 500, ReleaseCommand("B1", "x" * 500), id="release-reason-500"
    ),
    pytest.param(
        "release B1 <!channel> said so",
        ReleaseCommand("B1", "<!channel> said so"),
        id="release-reason-kept-as-typed",
    ),
    # Status and list
    pytest.param("status b-1", StatusCommand("B-1"), id="status"),
    pytest.param("status B-1 facility X", StatusCommand("B-1", "x"), id="status-facility"),
    pytest.param("History b-1", HistoryCommand("B-1"), id="history"),
    pytest.param("history B-1 facility X", HistoryCommand("B-1", "x"), id="history-facility"),
    pytest.param("list", ListCommand(), id="list"),
    pytest.param("LIST", ListCommand(), id="list-upper"),
    pytest.param("list facility Jail_A", ListCommand("jail_a"), id="list-facility"),
]


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_parse_command(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


REFUSED = [
    # (text, fragment the message must contain)
    # Missing booking
    pytest.param("arrest", "needs the booking number", id="arrest-no-booking"),
    pytest.param("arrest at 14:05", "needs the booking number", id="arrest-at-as-booking"),
    pytest.param("arrest AT 14:05", "needs the booking number", id="arrest-AT-as-booking"),
    pytest.param("arrest warrant W1", "needs the booking number", id="arrest-warrant-as-booking"),
    pytest.param("arrest facility x", "needs the booking number", id="arrest-facility-first"),
    pytest.param("arrest I-200 B1", "needs the booking number", id="arrest-form-as-booking"),
    pytest.param("arrest i205 B1", "needs the booking number", id="arrest-i205-as-booking"),
    pytest.param("transfer", "needs the booking number", id="transfer-no-booking"),
    pytest.param("release", "needs the booking number", id="release-no-booking"),
    pytest.param("release facility x", "needs the booking number", id="release-facility-first"),
    pytest.param("status", "needs the booking number", id="status-no-booking"),
    pytest.param("status\u00a0\u00a0", "needs the booking number", id="status-nbsp"),
    # Invalid booking
    pytest.param("arrest <!channel>", "not a booking number", id="booking-mention"),
    pytest.param("arrest " + "B" * 33, "it is 33 characters", id="booking-33-chars"),
    pytest.param("arrest B_1", "letters, digits and `-`", id="booking-underscore"),
    pytest.param("arrest B1.2", "not a booking number", id="booking-dot"),
    pytest.param("arrest B\u00e91", "not a booking number", id="booking-non-ascii"),
    pytest.param("arrest ---", "not a booking number", id="booking-only-hyphens"),
    pytest.param("transfer B/1", "not a booking number", id="transfer-bad-booking"),
    pytest.param("status B#1", "not a booking number", id="status-bad-booking"),
    pytest.param("release B;1 bail", "not a booking number", id="release-bad-booking"),
    # Unknown subcommand
    pytest.param(
        "frobnicate B1",
        "Use one of: arrest, transfer, release, igsa, void, correct, dispute, note, status, "
        "history, list, ack, oncall, officers, help",
        id="unknown-subcommand",
    ),
    pytest.param("arest B1", "Unknown command `arest`", id="misspelt-subcommand"),
    pytest.param("B-2026-0412", "Unknown command", id="booking-without-subcommand"),
    # Unknown word in arrest
    pytest.param("arrest B1 tomorrow", "I don't understand `tomorrow`", id="unknown-word"),
    pytest.param("arrest B1 at 14:05 pm", "I don't understand `pm`", id="word-after-time"),
    pytest.param("arrest B1 B2", "I don't understand `B2`", id="second-booking"),
    pytest.param("arrest B1 at 14:05 15:00", "I don't understand `15:00`", id="second-time"),
    # Option without a value
    pytest.param("arrest B1 at", "`at` needs a time", id="at-no-value"),
    pytest.param("arrest B1 warrant", "`warrant` needs the warrant number", id="warrant-no-value"),
    pytest.param("arrest B1 facility", "`facility` needs the facility id", id="facility-no-value"),
    pytest.param("arrest B1 at facility x", "`at` needs a time", id="at-then-keyword"),
    pytest.param("arrest B1 warrant I-200", "`warrant` needs", id="warrant-then-form"),
    pytest.param("arrest B1 facility at 14:05", "`facility` needs", id="facility-then-keyword"),
    pytest.param("transfer B1 facility", "`facility` needs", id="transfer-facility-no-value"),
    pytest.param("release B1 facility", "`facility` needs", id="release-facility-no-value"),
    pytest.param("status B1 facility", "`facility` needs", id="status-facility-no-value"),
    pytest.param("list facility", "`facility` needs", id="list-facility-no-value"),
    # Repeated option
    pytest.param("arrest B1 at 14:05 at 15:00", "`at` is given twice", id="repeated-at"),
    pytest.param("arrest B1 I-200 I-205", "warrant form is given twice", id="repeated-form"),
    pytest.param("arrest B1 I-200 i200", "warrant form is given twice", id="same-form-twice"),
    pytest.param("arrest B1 warrant W1 warrant W2", "`warrant` is given twice", id="rep-warrant"),
    pytest.param("arrest B1 facility a facility b", "`facility` is given twice", id="rep-facility"),
    # Unknown warrant form
    pytest.param("arrest B1 I-247A", "Unknown warrant form `I-247A`", id="form-i-247a"),
    pytest.param("arrest B1 I-201", "use I-200 or I-205", id="form-i-201"),
    pytest.param("arrest B1 i203", "Unknown warrant form `i203`", id="form-i203"),
    pytest.param("arrest B1 I-2000", "Unknown warrant form", id="form-i-2000"),
    # Invalid warrant number or facility id
    pytest.param("arrest B1 warrant W_1", "not a warrant number", id="warrant-underscore"),
    pytest.param("arrest B1 warrant " + "W" * 41, "1-40", id="warrant-41-chars"),
    pytest.param("arrest B1 facility bad.id", "not a facility id", id="facility-dot"),
    pytest.param("arrest B1 facility " + "f" * 65, "1-64", id="facility-65-chars"),
    pytest.param("list facility jail/a", "not a facility id", id="list-facility-slash"),
    # Extra words
    pytest.param("transfer B1 now", "Unexpected `now` after `/wso transfer`", id="transfer-extra"),
    pytest.param(
        "transfer B1 facility x extra", "Unexpected `extra`", id="transfer-extra-after-facility"
    ),
    pytest.param("status B1 extra", "Unexpected `extra` after `/wso status`", id="status-extra"),
    pytest.param("list B1", "Unexpected `B1` after `/wso list`", id="list-booking"),
    pytest.param("list facility x y", "Unexpected `y`", id="list-extra-after-facility"),
    # Reason too long
    pytest.param("release B1 " + "x" * 501, "keep it to 500", id="reason-501"),
    pytest.param(
        "release B1 " + " ".join(["word"] * 101), "keep it to 500", id="reason-many-words"
    ),
]


def refusal(text: str) -> CommandError:
    """The error ``parse_command(text)`` must raise."""
    with pytest.raises(CommandError) as caught:
        parse_command(text)
    return caught.value


@pytest.mark.parametrize(("text", "fragment"), REFUSED)
def test_refused_commands_explain_why(text: str, fragment: str) -> None:
    error = refusal(text)

    assert fragment in error.message
    assert str(error) == error.message


@pytest.mark.parametrize(("text", "fragment"), REFUSED)
def test_every_refusal_offers_an_example_that_parses(text: str, fragment: str) -> None:
    error = refusal(text)

    example = error.example
    assert example.startswith("/wso ")
    assert "<" not in example
    parse_command(example.removeprefix("/wso "))


@pytest.mark.parametrize(
    ("text", "example"),
    [
        pytest.param("arrest b-7 tomorrow", "/wso arrest B-7 I-200 at 14:05", id="unknown-word"),
        pytest.param("arrest b-7 at", "/wso arrest B-7 at 14:05", id="at-no-value"),
        pytest.param("arrest b-7 I-201", "/wso arrest B-7 I-200", id="unknown-form"),
        pytest.param("arrest", "/wso arrest B-2026-0412 I-200 at 14:05", id="no-booking"),
        pytest.param("status b-7 x", "/wso status B-7 facility county-jail", id="status-extra"),
        pytest.param("list x", "/wso list facility county-jail", id="list-extra"),
        pytest.param("nope", "/wso help", id="unknown-subcommand"),
    ],
)
def test_refusal_examples_use_the_typed_booking(text: str, example: str) -> None:
    error = refusal(text)

    assert error.example == example


ESCAPED = [
    # (text, how the user text must appear in the message)
    pytest.param("<!channel>", "`&lt;!channel&gt;`", id="subcommand"),
    pytest.param("arrest <!channel>", "`&lt;!channel&gt;`", id="booking"),
    pytest.param("arrest <!here>", "`&lt;!here&gt;`", id="booking-here"),
    pytest.param("arrest B1 <!channel>", "`&lt;!channel&gt;`", id="arrest-word"),
    pytest.param("arrest B1 <@U123|bob>", "`&lt;@U123|bob&gt;`", id="user-mention"),
    pytest.param("arrest B1 warrant <!channel>", "`&lt;!channel&gt;`", id="warrant-number"),
    pytest.param("arrest B1 facility <!channel>", "`&lt;!channel&gt;`", id="facility-id"),
    pytest.param("transfer B1 <!channel>", "`&lt;!channel&gt;`", id="transfer-extra"),
    pytest.param("status <!channel>", "`&lt;!channel&gt;`", id="status-booking"),
    pytest.param("list <!everyone>", "`&lt;!everyone&gt;`", id="list-extra"),
    pytest.param("arrest B1 a&b", "`a&amp;b`", id="ampersand"),
    pytest.param("arrest B1 `<!here>`", "`'&lt;!here&gt;'`", id="backticks"),
    pytest.param("arrest " + "<" * 100, "`" + "&lt;" * 40 + "…`", id="long-input-shortened"),
]


@pytest.mark.parametrize(("text", "shown"), ESCAPED)
def test_user_text_is_escaped_in_messages(text: str, shown: str) -> None:
    error = refusal(text)

    assert shown in error.message
    assert "<" not in error.message


@pytest.mark.parametrize("subcommand", SUBCOMMANDS)
def test_help_text_names_every_subcommand(subcommand: str) -> None:
    assert f"`/wso {subcommand}" in HELP_TEXT


def test_help_text_examples_parse() -> None:
    examples = re.findall(r"e\.g\. `/wso ([^`]+)`", HELP_TEXT)

    parsed = [parse_command(example) for example in examples]

    assert len(parsed) >= 5
    assert {type(command) for command in parsed} == {
        ArrestCommand,
        TransferCommand,
        ReleaseCommand,
        StatusCommand,
        HistoryCommand,
        ListCommand,
        AckCommand,
        OncallOverrideCommand,
        IgsaCommand,
        VoidCommand,
        CorrectCommand,
        DisputeCommand,
        NoteCommand,
        OncallCancelCommand,
    }


def test_help_text_is_safe_mrkdwn() -> None:
    assert help_text() == HELP_TEXT
    assert "<" not in HELP_TEXT
    assert "I-200" in HELP_TEXT
    assert "I-205" in HELP_TEXT


def test_commands_are_frozen() -> None:
    command = parse_command("arrest B1")

    with pytest.raises(AttributeError):
        command.booking = "B2"  # type: ignore[union-attr,misc]


def test_command_error_keeps_message_and_example() -> None:
    error = CommandError("bad", "/wso help")

    assert isinstance(error, ValueError)
    assert (str(error), error.message, error.example) == ("bad", "bad", "/wso help")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("ack b-1", AckCommand("B-1"), id="ack"),
        pytest.param("ACK B-1 facility North", AckCommand("B-1", "north"), id="ack with facility"),
        pytest.param("oncall", OncallCommand(), id="oncall"),
        pytest.param(
            "oncall override Watch-Commanders <@U0LT3|jsmith> 12h",
            OncallOverrideCommand("watch-commanders", "U0LT3", timedelta(hours=12)),
            id="override with an escaped mention",
        ),
        pytest.param(
            "oncall override ice-duty U0ICE 1h30m",
            OncallOverrideCommand("ice-duty", "U0ICE", timedelta(hours=1, minutes=30)),
            id="override with a member id",
        ),
    ],
)
def test_ack_and_oncall_commands_parse(text: str, expected: object) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param("ack", "booking", id="ack without booking"),
        pytest.param("ack B-1 now", "now", id="ack extra word"),
        pytest.param("oncall who", "who", id="oncall unknown word"),
        pytest.param("oncall override watch U0LT3", "three things", id="override missing duration"),
        pytest.param("oncall override watch @jsmith 2h", "@jsmith", id="unresolved at-name"),
        pytest.param("oncall override watch U0LT3 soon", "soon", id="bad duration"),
        pytest.param("oncall override watch U0LT3 30d", "14 days", id="too long"),
        pytest.param("oncall override watch U0LT3 0s", "more than 0", id="zero"),
    ],
)
def test_bad_ack_and_oncall_commands_explain(text: str, fragment: str) -> None:
    error = refusal(text)
    assert fragment in error.message
    assert parse_command(error.example.removeprefix("/wso "))
