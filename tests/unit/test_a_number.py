"""The A-number: read as typed, stored padded to 9 digits, shown masked. No citizenship field."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest

from bot.chat.commands import HELP_TEXT, ArrestCommand, CommandError, parse_command
from bot.chat.modals import arrest_modal
from bot.core.a_number import ANumberError, mask_a_number, read_a_number
from bot.core.model import WarrantForm
from tests.conftest import START, county_jail, custody

READ = [
    pytest.param("A123456789", "A123456789", id="nine-digits"),
    pytest.param("A12345678", "A012345678", id="eight-padded"),
    pytest.param("A1234567", "A001234567", id="seven-padded"),
    pytest.param("a123456789", "A123456789", id="lower-case-a"),
    pytest.param("A-123-456-789", "A123456789", id="dashes"),
    pytest.param("A 123 456 789", "A123456789", id="spaces"),
    pytest.param("A- 12-34 567", "A001234567", id="dashes-and-spaces"),
    pytest.param("  A123456789 ", "A123456789", id="surrounding-blanks"),
]


@pytest.mark.parametrize(("typed", "stored"), READ)
def test_an_a_number_is_stored_as_a_and_nine_digits(typed: str, stored: str) -> None:
    assert read_a_number(typed) == stored


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        pytest.param("A123456", "that one has 6", id="six-digits"),
        pytest.param("A1234567890", "that one has 10", id="ten-digits"),
        pytest.param("123456789", "the letter A", id="no-a"),
        pytest.param("B123456789", "the letter A", id="another-letter"),
        pytest.param("A12345678X", "the letter A", id="a-letter-among-digits"),
        pytest.param("A", "the letter A", id="a-alone"),
        pytest.param("", "the letter A", id="empty"),
        pytest.param(
            "A" + "".join(chr(0xFF10 + d) for d in range(1, 9)),
            "the letter A",
            id="full-width-digits",
        ),
    ],
)
def test_anything_else_is_refused_without_repeating_it(typed: str, said: str) -> None:
    with pytest.raises(ANumberError) as refused:
        read_a_number(typed)
    assert said in str(refused.value)
    assert "A123456789" in str(refused.value)  # a right example
    digits = "".join(c for c in typed if c.isdigit())
    assert not digits or digits not in str(refused.value).replace("A123456789", "")


@pytest.mark.parametrize(
    ("stored", "shown"),
    [("A123456789", "A-XXX-XX6789"), ("A001234567", "A-XXX-XX4567")],
)
def test_an_a_number_is_shown_masked(stored: str, shown: str) -> None:
    assert mask_a_number(stored) == shown


@pytest.mark.parametrize("bad", ["A12345678", "123456789", "A-123-456-789"])
def test_only_a_stored_a_number_is_masked(bad: str) -> None:
    with pytest.raises(ValueError, match="not a stored A-number"):
        mask_a_number(bad)


def test_a_custody_refuses_an_a_number_not_stored_padded_and_keeps_it_out_of_repr() -> None:
    with pytest.raises(ValueError, match="A and 9 digits"):
        custody(a_number="A12345678")
    stored = custody(a_number="A123456789")
    assert "123456789" not in repr(stored)


COMMANDS = [
    pytest.param(
        "arrest B-1 anumber A12345678",
        ArrestCommand("B-1", a_number="A012345678"),
        id="after-booking",
    ),
    pytest.param(
        "arrest B-1 anumber A 123 456 789 at 14:05",
        ArrestCommand("B-1", at_text="14:05", a_number="A123456789"),
        id="in-groups-then-at",
    ),
    pytest.param(
        "arrest B-1 I-200 ANUMBER a-123-456-789 facility north",
        ArrestCommand(
            "B-1", warrant_form=WarrantForm.I_200, facility_id="north", a_number="A123456789"
        ),
        id="keyword-any-case-between-options",
    ),
]


@pytest.mark.parametrize(("text", "parsed"), COMMANDS)
def test_the_arrest_command_reads_an_a_number(text: str, parsed: ArrestCommand) -> None:
    assert parse_command(text) == parsed


@pytest.mark.parametrize(
    ("text", "said"),
    [
        pytest.param("arrest B-1 anumber", "`anumber` needs the A-number", id="missing"),
        pytest.param("arrest B-1 anumber at 14:05", "`anumber` needs", id="keyword-instead"),
        pytest.param("arrest B-1 anumber A99", "that one has 2", id="too-short"),
        pytest.param("arrest B-1 anumber A123456789 anumber A123456789", "given twice", id="twice"),
        pytest.param("arrest B-1 A987654321", "write `anumber` before it", id="no-keyword"),
    ],
)
def test_a_bad_a_number_in_the_command_is_refused_with_an_example(text: str, said: str) -> None:
    with pytest.raises(CommandError) as refused:
        parse_command(text)
    assert said in refused.value.message
    assert "anumber A123456789" in refused.value.example
    assert "987654321" not in refused.value.message + refused.value.example


def _string_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


# The one place citizenship may be named: a dispute, a claim someone raised.
DISPUTE_WORDS = ("disput", "claim")
CHAT = Path(__file__).resolve().parents[2] / "bot" / "chat"


@pytest.mark.parametrize("path", sorted(CHAT.glob("*.py")), ids=lambda p: p.name)
def test_no_chat_string_asks_about_citizenship(path: Path) -> None:
    asking = [
        text
        for text in _string_literals(path)
        if "citizen" in text.lower() and not any(word in text.lower() for word in DISPUTE_WORDS)
    ]
    assert asking == [], f"{path.name} mentions citizenship outside the dispute wording"


def test_the_help_names_citizenship_only_for_disputes() -> None:
    for line in HELP_TEXT.splitlines():
        if "citizen" in line.lower():
            assert "/wso dispute" in line


def test_the_arrest_form_has_no_citizenship_field() -> None:
    form = arrest_modal([county_jail()], START - timedelta(hours=1), "C0JAIL")
    text = str(form).lower()
    assert "citizen" not in text and "nationality" not in text and "alien" not in text
