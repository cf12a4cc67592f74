"""The arrest form: the modal ``/wso arrest`` opens, and reading what was submitted. Pure.

The form is checked with the command's own rules: each field is put through the
``/wso arrest`` grammar and the arrest time through ``parse_arrest_time``, so a
form and a typed command refuse the same things in the same words. Errors are
plain text keyed by the input block they belong to (``response_action: errors``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.chat.actions import (
    ARREST_A_NUMBER,
    ARREST_BOOKING,
    ARREST_DATE,
    ARREST_FACILITY,
    ARREST_MODAL,
    ARREST_NOTES,
    ARREST_TIME,
    ARREST_WARRANT_FORM,
    ARREST_WARRANT_NUMBER,
    input_action,
)
from bot.chat.arrest_time import TimeInputError, parse_arrest_time
from bot.chat.commands import ArrestCommand, CommandError, parse_command
from bot.chat.phrases import clip
from bot.chat.roster_messages import arrest_refused
from bot.chat.slack import clean_text
from bot.core.a_number import ANumberError, read_a_number
from bot.core.custody import OLDEST_ARREST, is_implausibly_old
from bot.core.facility import Facility
from bot.core.model import WarrantForm
from bot.core.permissions import ArrestRefusalReason, arrest_refusal

# A form older than this is refused: Slack's trigger lives 3 s, nobody fills a form for an hour.
FORM_LIFETIME = timedelta(hours=1)
NOTES_LIMIT = 500
SAMPLE_BOOKING = "B-2026-0412"
WARRANT_FORMS = tuple(form.value for form in WarrantForm)  # the select's options
TYPED_EXAMPLE = f"/wso arrest {SAMPLE_BOOKING} I-200 warrant W-123456 at 14:05"


@dataclass(frozen=True)
class FormOrigin:
    """What the form was built from, carried in ``private_metadata``.

    ``facility_ids``: the facilities offered (the first is the default);
    ``opened_at``: when (a form older than ``FORM_LIFETIME`` is refused);
    ``channel_id``: where ``/wso arrest`` was typed (the audit's channel).
    """

    facility_ids: tuple[str, ...]
    opened_at: datetime
    channel_id: str

    def to_metadata(self) -> str:
        return json.dumps(
            {
                "facilities": list(self.facility_ids),
                "opened_at": self.opened_at.isoformat(),
                "channel": self.channel_id,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_metadata(cls, text: str) -> FormOrigin | None:
        try:
            data = json.loads(text)
            return cls(
                facility_ids=tuple(str(f) for f in data["facilities"]),
                opened_at=datetime.fromisoformat(data["opened_at"]),
                channel_id=str(data.get("channel") or ""),
            )
        except (ValueError, TypeError, KeyError):
            return None


@dataclass(frozen=True)
class ArrestDraft:
    """A form that passed every check: the command it stands for, and its notes."""

    command: ArrestCommand
    facility: Facility
    notes: str | None
    channel_id: str


# --- building -------------------------------------------------------------------


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(clip(text, 75)), "value": value}


def _input(block_id: str, label: str, element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    element = {**element, "action_id": input_action(block_id)}
    return {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": element,
        **extra,
    }


def arrest_modal(facilities: Sequence[Facility], now: datetime, channel_id: str) -> dict[str, Any]:
    """The form for one officer; ``facilities`` are where they may log (first: the default)."""
    first = facilities[0]
    local = now.astimezone(first.zone)
    zones = {f.timezone_name for f in facilities}
    time_element: dict[str, Any] = {"type": "timepicker", "initial_time": f"{local:%H:%M}"}
    if len(zones) == 1:
        time_element["timezone"] = first.timezone_name
        where = f"{clip(first.name, 80)} local time ({first.timezone_name})"
    else:
        where = "the local time of the facility you pick below"
    blocks = [
        _input(
            ARREST_BOOKING,
            "Booking number",
            {
                "type": "plain_text_input",
                "max_length": 32,
                "placeholder": _plain(f"e.g. {SAMPLE_BOOKING}"),
            },
        ),
        _input(
            ARREST_WARRANT_FORM,
            "Warrant form",
            {
                "type": "static_select",
                "placeholder": _plain("I-200 or I-205"),
                "options": [_option(form, form) for form in WARRANT_FORMS],
            },
            optional=True,
        ),
        _input(
            ARREST_WARRANT_NUMBER,
            "Warrant number",
            {"type": "plain_text_input", "max_length": 40, "placeholder": _plain("e.g. W-123456")},
            optional=True,
        ),
        _input(
            ARREST_A_NUMBER,
            "A-number",
            {
                "type": "plain_text_input",
                "max_length": 20,
                "placeholder": _plain("e.g. A123456789"),
            },
            optional=True,
            hint=_plain(
                "Optional: A and 7 to 9 digits, as on the warrant. Kept with the custody; "
                "never shown in a channel."
            ),
        ),
        _input(
            ARREST_DATE, "Arrest date", {"type": "datepicker", "initial_date": f"{local:%Y-%m-%d}"}
        ),
        _input(
            ARREST_TIME,
            "Arrest time",
            time_element,
            hint=_plain(
                f"As the jail's clock showed it: {where}. Default: when you opened "
                "this form. The custody clock runs from this moment."
            ),
        ),
    ]
    if len(facilities) > 1:
        options = [_option(f"{f.name} ({f.id})", f.id) for f in facilities[:100]]
        blocks.append(
            _input(
                ARREST_FACILITY,
                "Facility",
                {"type": "static_select", "options": options, "initial_option": options[0]},
            )
        )
    blocks.append(
        _input(
            ARREST_NOTES,
            "Notes",
            {
                "type": "plain_text_input",
                "multiline": True,
                "max_length": NOTES_LIMIT,
                "placeholder": _plain("Optional; kept with the custody's audit log"),
            },
            optional=True,
        )
    )
    origin = FormOrigin(tuple(f.id for f in facilities), now, channel_id)
    return {
        "type": "modal",
        "callback_id": ARREST_MODAL,
        "title": _plain("Log a WSO arrest"),
        "submit": _plain("Log arrest"),
        "close": _plain("Cancel"),
        "private_metadata": origin.to_metadata(),
        "blocks": blocks,
    }


def no_arrest_form_reply(user_id: str) -> str:
    """Someone who is an officer nowhere asked for the form."""
    return (
        f":warning: <@{user_id}> is not listed as a WSO officer of any facility, so there is no "
        "arrest form to open. An administrator can add your Slack user id "
        f"`{user_id}` to a facility's `officers` in the config."
    )


def form_unavailable_reply() -> str:
    """Slack would not open the form (the 3 s trigger lapsed): type the arrest instead."""
    return (
        ":warning: Slack did not open the arrest form in time. Type the arrest instead; "
        f"nothing was stored.\nFor example: `{TYPED_EXAMPLE}`"
    )


# --- reading and checking ---------------------------------------------------------


def _value(state: Mapping[str, Any], block_id: str) -> str | None:
    element = (state.get(block_id) or {}).get(input_action(block_id)) or {}
    for key, inner in (
        ("value", None),
        ("selected_option", "value"),
        ("selected_date", None),
        ("selected_time", None),
    ):
        found = element.get(key)
        if isinstance(found, dict) and inner:
            found = found.get(inner)
        if isinstance(found, str) and found.strip():
            return found.strip()
    return None


_MARKS = re.compile(r"[`*]|:warning: ")


def plain_error(text: str) -> str:
    """A reply's mrkdwn as the plain text of an inline error (Slack shows it verbatim)."""
    text = _MARKS.sub("", text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return clip(text.replace("\n", " "), 2000)


def check_arrest_form(
    view: Mapping[str, Any],
    configured: Mapping[str, Facility],
    user_id: str,
    now: datetime,
) -> ArrestDraft | dict[str, str]:
    """The draft the form stands for, or an error per input block (nothing stored either way)."""
    state = (view.get("state") or {}).get("values") or {}
    blocks = {b.get("block_id") for b in view.get("blocks") or [] if isinstance(b, dict)}
    origin = FormOrigin.from_metadata(str(view.get("private_metadata") or ""))
    if origin is None or now - origin.opened_at > FORM_LIFETIME:
        return {ARREST_BOOKING: _stale_form(origin, now)}
    facility_block = ARREST_FACILITY if ARREST_FACILITY in blocks else ARREST_BOOKING
    facility_id = _value(state, ARREST_FACILITY) or origin.facility_ids[0]
    facility = configured.get(facility_id)
    if facility_id not in origin.facility_ids or facility is None:
        return {
            facility_block: f"Facility {facility_id} is no longer in the bot's config. "
            "Close this form and type /wso arrest again for a fresh one."
        }
    refusal = arrest_refusal(facility, user_id, now)
    if refusal is not None and refusal.reason is ArrestRefusalReason.NOT_AN_OFFICER:
        return {
            facility_block: f"You are not (or no longer) listed as an officer of "
            f"{facility.name}, so you may not log arrests there. Nothing was stored."
        }
    if refusal is not None:  # on the roster: expired, not yet certified, or another jail's
        home = configured.get(refusal.entry.facility_id) if refusal.entry else None
        return {facility_block: plain_error(arrest_refused(refusal, facility, user_id, home).text)}
    errors: dict[str, str] = {}
    booking = _check_word(state, ARREST_BOOKING, errors, "arrest {}", f"e.g. {SAMPLE_BOOKING}")
    form = _value(state, ARREST_WARRANT_FORM)
    if form is not None and form not in WARRANT_FORMS:
        errors[ARREST_WARRANT_FORM] = "Pick I-200 or I-205."
    number = _check_word(
        state,
        ARREST_WARRANT_NUMBER,
        errors,
        f"arrest {SAMPLE_BOOKING} warrant {{}}",
        "e.g. W-123456",
    )
    a_number = _check_a_number(state, errors)
    at_text = _check_time(state, facility, now, errors)
    notes = clean_text(_value(state, ARREST_NOTES) or "").strip() or None
    if notes is not None and len(notes) > NOTES_LIMIT:
        errors[ARREST_NOTES] = f"Notes are {len(notes)} characters; keep them to {NOTES_LIMIT}."
    if errors or booking is None:
        return errors or {ARREST_BOOKING: f"Give the booking number, e.g. {SAMPLE_BOOKING}."}
    command = ArrestCommand(
        booking=booking.upper(),
        warrant_form=parse_command(f"arrest {SAMPLE_BOOKING} {form}").warrant_form  # type: ignore[union-attr]
        if form
        else None,
        warrant_number=number.upper() if number else None,
        at_text=at_text,
        facility_id=facility.id,
        a_number=a_number,
    )
    return ArrestDraft(command, facility, notes, origin.channel_id)


def opened_ago(opened_at: datetime | None, now: datetime) -> str:
    """`` It was opened 61 minutes ago.`` for a stale form (nothing when unknown)."""
    if opened_at is None:
        return ""
    return f" It was opened {int((now - opened_at).total_seconds() // 60)} minutes ago."


def _stale_form(origin: FormOrigin | None, now: datetime) -> str:
    opened = opened_ago(origin.opened_at if origin else None, now)
    return (
        f"This form is out of date and nothing was stored.{opened} Close it and type "
        f"/wso arrest again for a fresh one, or type the arrest: {TYPED_EXAMPLE}"
    )


def _check_word(
    state: Mapping[str, Any], block_id: str, errors: dict[str, str], grammar: str, sample: str
) -> str | None:
    """One word put through the command grammar (``grammar`` places it in a command line)."""
    value = _value(state, block_id)
    if value is None:
        return None
    cleaned = clean_text(value).strip()
    if len(cleaned.split()) != 1:
        errors[block_id] = f"Use one word, no spaces: {sample}."
        return None
    try:
        parse_command(grammar.format(cleaned))
    except CommandError as error:
        errors[block_id] = plain_error(error.message)
        return None
    return cleaned


def _check_a_number(state: Mapping[str, Any], errors: dict[str, str]) -> str | None:
    """The A-number stored as ``A`` and 9 digits; the error never repeats what was typed."""
    typed = _value(state, ARREST_A_NUMBER)
    if typed is None:
        return None
    try:
        return read_a_number(clean_text(typed))
    except ANumberError as error:
        errors[ARREST_A_NUMBER] = str(error)
        return None


def _check_time(
    state: Mapping[str, Any], facility: Facility, now: datetime, errors: dict[str, str]
) -> str | None:
    day, clock = _value(state, ARREST_DATE), _value(state, ARREST_TIME)
    if day is None or clock is None:
        missing = ARREST_DATE if day is None else ARREST_TIME
        errors[missing] = "Pick the arrest date and time (the jail's local time)."
        return None
    at_text = f"{day} {clock}"
    try:
        arrested_at = parse_arrest_time(at_text, facility.zone, now)
    except TimeInputError as error:
        errors[ARREST_TIME] = plain_error(error.message)
        return None
    if is_implausibly_old(arrested_at, now):
        errors[ARREST_DATE] = (
            f"{day} is more than {OLDEST_ARREST.days} days ago; a WSO custody window is 48 "
            "hours, so the date is probably wrong. "
            f"Today is {now.astimezone(facility.zone):%Y-%m-%d}."
        )
        return None
    return at_text
