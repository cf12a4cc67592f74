"""The modals the custody card's buttons open, and reading what was submitted. Pure.

* **ICE took custody** asks when ICE took the person (date and time pickers in the
  facility's zone, default now; not in the future, not before the arrest) and the
  receiving officer's name or badge. A valid form is not recorded yet: it is read
  back in a second view (``TRANSFER_CONFIRM``), in words and in the facility's time,
  and only that view's submit records the transfer. A modal's submit button cannot
  carry a ``confirm`` dialog, and a read-back of the parsed time is what catches a
  wrong date at 3 a.m.
* **Released** asks for a reason from ``RELEASE_REASONS`` and free text, required for
  "Other".
* **Add note** asks for the note.

Each view carries a ``CardFormOrigin`` in ``private_metadata``: the custody, when the
form was opened (older than ``FORM_LIFETIME`` is refused) and the channel of the
card that was pressed (where the answer goes). Errors are plain text keyed by input
block (``response_action: errors``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.chat import actions
from bot.chat.grammar import MAX_REASON_CHARS
from bot.chat.modals import FORM_LIFETIME, opened_ago, plain_error
from bot.chat.phrases import clip, facility_name, format_local
from bot.chat.slack import clean_text, quoted
from bot.core.facility import Facility
from bot.core.local_time import AmbiguousLocalTime, SkippedLocalTime, to_utc
from bot.core.model import Custody

RECEIVED_BY_LIMIT = 80
NOTE_LIMIT = MAX_REASON_CHARS
OTHER = "other"
# The release reasons offered, by option value; "Window expired" is one of them.
RELEASE_REASONS: dict[str, str] = dict(
    [
        ("window_expired", "Window expired"),
        ("court", "Charges dropped / court release"),
        ("bond", "Bond posted"),
        ("sentence", "Sentence served"),
        (OTHER, "Other"),
    ]
)


@dataclass(frozen=True)
class CardFormOrigin:
    """What a card's modal was opened for; carried in ``private_metadata``."""

    custody_id: str
    opened_at: datetime
    channel_id: str
    # The confirmation view also carries what the first view said.
    taken_at: datetime | None = None
    received_by: str | None = None

    def to_metadata(self) -> str:
        data: dict[str, str] = {
            "custody": self.custody_id,
            "opened_at": self.opened_at.isoformat(),
            "channel": self.channel_id,
        }
        if self.taken_at is not None:
            data["taken_at"] = self.taken_at.isoformat()
        if self.received_by is not None:
            data["received_by"] = self.received_by
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_view(cls, view: Mapping[str, Any]) -> CardFormOrigin | None:
        try:
            data = json.loads(str(view.get("private_metadata") or ""))
            taken_at = data.get("taken_at")
            return cls(
                custody_id=str(data["custody"]),
                opened_at=datetime.fromisoformat(data["opened_at"]),
                channel_id=str(data.get("channel") or ""),
                taken_at=datetime.fromisoformat(taken_at) if taken_at else None,
                received_by=data.get("received_by"),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def stale(self, now: datetime) -> bool:
        return now - self.opened_at > FORM_LIFETIME


# --- building -------------------------------------------------------------------


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _input(block_id: str, label: str, element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": {**element, "action_id": actions.input_action(block_id)},
        **extra,
    }


def _about(custody: Custody, facility: Facility) -> dict[str, Any]:
    text = (
        f"Booking *{custody.booking}* at {facility_name(facility)}, arrested "
        f"{format_local(custody.arrested_at, facility.zone)}; the window ends "
        f"{format_local(custody.deadline, facility.zone)}."
    )
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _modal(
    callback_id: str, title: str, submit: str, origin: CardFormOrigin, blocks: list[Any]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": _plain(title),
        "submit": _plain(submit),
        "close": _plain("Cancel"),
        "private_metadata": origin.to_metadata(),
        "blocks": blocks,
    }


def transfer_modal(custody: Custody, facility: Facility, origin: CardFormOrigin) -> dict[str, Any]:
    local = origin.opened_at.astimezone(facility.zone)
    zone = facility.timezone_name
    return _modal(
        actions.TRANSFER_MODAL,
        "ICE took custody",
        "Next",
        origin,
        [
            _about(custody, facility),
            _input(
                actions.TRANSFER_DATE,
                "Date ICE took custody",
                {"type": "datepicker", "initial_date": f"{local:%Y-%m-%d}"},
            ),
            _input(
                actions.TRANSFER_TIME,
                "Time ICE took custody",
                {"type": "timepicker", "initial_time": f"{local:%H:%M}", "timezone": zone},
                hint=_plain(f"{clip(facility.name, 80)} local time ({zone}). Default: now."),
            ),
            _input(
                actions.TRANSFER_RECEIVED_BY,
                "Receiving ICE officer: name or badge",
                {
                    "type": "plain_text_input",
                    "max_length": RECEIVED_BY_LIMIT,
                    "placeholder": _plain("e.g. Officer J. Ramos, badge 4471"),
                },
            ),
        ],
    )


def transfer_confirm_modal(
    custody: Custody, facility: Facility, origin: CardFormOrigin
) -> dict[str, Any]:
    """The transfer read back; its submit records it."""
    taken = format_local(origin.taken_at, facility.zone) if origin.taken_at else "now"
    text = (
        f"Record that ICE took custody of booking *{custody.booking}* at "
        f"{facility_name(facility)}:\n• taken {taken}\n• "
        f"{quoted(origin.received_by or '', label='received by')}\n"
        "This stops the 48-hour clock and all paging, and both channels are told. "
        "Press *Back* to change it."
    )
    view = _modal(
        actions.TRANSFER_CONFIRM,
        "Confirm the transfer",
        "Record transfer",
        origin,
        [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    )
    view["close"] = _plain("Back")
    return view


def release_modal(custody: Custody, facility: Facility, origin: CardFormOrigin) -> dict[str, Any]:
    options = [{"text": _plain(text), "value": value} for value, text in RELEASE_REASONS.items()]
    return _modal(
        actions.RELEASE_MODAL,
        "Released",
        "Record release",
        origin,
        [
            _about(custody, facility),
            _input(
                actions.RELEASE_REASON,
                "Reason",
                {"type": "static_select", "placeholder": _plain("Pick one"), "options": options},
            ),
            _input(
                actions.RELEASE_DETAILS,
                "Details",
                {
                    "type": "plain_text_input",
                    "multiline": True,
                    "max_length": MAX_REASON_CHARS,
                    "placeholder": _plain("e.g. bond posted at the front desk, receipt 5521"),
                },
                optional=True,
                hint=_plain('Required when the reason is "Other".'),
            ),
        ],
    )


def note_modal(custody: Custody, facility: Facility, origin: CardFormOrigin) -> dict[str, Any]:
    return _modal(
        actions.NOTE_MODAL,
        "Add a note",
        "Post note",
        origin,
        [
            _about(custody, facility),
            _input(
                actions.NOTE_TEXT,
                "Note (posted in both channels)",
                {
                    "type": "plain_text_input",
                    "multiline": True,
                    "max_length": NOTE_LIMIT,
                    "placeholder": _plain("e.g. ICE pickup confirmed for 14:00 by phone"),
                },
            ),
        ],
    )


def message_modal(title: str, text: str) -> dict[str, Any]:
    """A read-only view: a custody's status (App Home's "Details"), or why nothing changed."""
    return {
        "type": "modal",
        "title": _plain(clip(title, 24)),
        "close": _plain("Close"),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 3000)}}],
    }


# --- reading and checking ---------------------------------------------------------


def _value(view: Mapping[str, Any], block_id: str) -> str | None:
    state = (view.get("state") or {}).get("values") or {}
    element = (state.get(block_id) or {}).get(actions.input_action(block_id)) or {}
    for key in ("value", "selected_date", "selected_time"):
        found = element.get(key)
        if isinstance(found, str) and found.strip():
            return found.strip()
    option = element.get("selected_option")
    if isinstance(option, dict) and isinstance(option.get("value"), str):
        return str(option["value"])
    return None


def _text(view: Mapping[str, Any], block_id: str) -> str:
    return clean_text(_value(view, block_id) or "").strip()


def stale_form(origin: CardFormOrigin | None, now: datetime) -> str:
    opened = opened_ago(origin.opened_at if origin else None, now)
    return (
        f"This form is out of date and nothing was changed.{opened} Close it and press the "
        "button on the custody's card again for a fresh one."
    )


@dataclass(frozen=True)
class TransferDraft:
    taken_at: datetime
    received_by: str


def check_transfer(
    view: Mapping[str, Any], custody: Custody, facility: Facility, now: datetime
) -> TransferDraft | dict[str, str]:
    """When ICE took custody and who received the person, or an error per input block."""
    errors: dict[str, str] = {}
    received_by = _text(view, actions.TRANSFER_RECEIVED_BY)
    if not received_by:
        errors[actions.TRANSFER_RECEIVED_BY] = (
            "Give the receiving ICE officer's name or badge, e.g. Officer J. Ramos, badge 4471."
        )
    elif len(received_by) > RECEIVED_BY_LIMIT:
        errors[actions.TRANSFER_RECEIVED_BY] = (
            f"That is {len(received_by)} characters; keep it to {RECEIVED_BY_LIMIT}, "
            "e.g. Officer J. Ramos, badge 4471."
        )
    taken_at = _check_taken_at(view, custody, facility, now, errors)
    if errors or taken_at is None:
        return errors
    return TransferDraft(taken_at, received_by)


def _check_taken_at(
    view: Mapping[str, Any],
    custody: Custody,
    facility: Facility,
    now: datetime,
    errors: dict[str, str],
) -> datetime | None:
    zone = facility.zone
    local_now = now.astimezone(zone)
    day, clock = _value(view, actions.TRANSFER_DATE), _value(view, actions.TRANSFER_TIME)
    example = f"e.g. {local_now:%Y-%m-%d %H:%M} (now)"
    if day is None or clock is None:
        block = actions.TRANSFER_DATE if day is None else actions.TRANSFER_TIME
        errors[block] = f"Pick the date and time ICE took custody, {example}."
        return None
    try:
        wall = datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M")
        taken_at = to_utc(wall, zone)
    except ValueError as error:
        errors[actions.TRANSFER_TIME] = _wall_error(error, day, clock, facility, example)
        return None
    if taken_at > now:
        errors[actions.TRANSFER_TIME] = (
            f"{day} {clock} is in the future: it is now {local_now:%Y-%m-%d %H:%M} at "
            f"{clip(facility.name, 80)}. Pick when ICE took custody, {example}."
        )
        return None
    if taken_at < custody.arrested_at:
        arrested = format_local(custody.arrested_at, zone)
        errors[actions.TRANSFER_TIME] = plain_error(
            f"{day} {clock} is before the arrest ({arrested}); ICE can only take custody "
            f"after it. Pick a later time, {example}."
        )
        return None
    return taken_at


def _wall_error(error: ValueError, day: str, clock: str, facility: Facility, example: str) -> str:
    if isinstance(error, AmbiguousLocalTime):
        return (
            f"{day} {clock} happens twice in {facility.timezone_name} (the clocks went back "
            f"that night). Pick a minute outside that hour, {example}."
        )
    if isinstance(error, SkippedLocalTime):
        return (
            f"{day} {clock} never happened in {facility.timezone_name} (the clocks jumped "
            f"forward that night). Pick a real time, {example}."
        )
    return f"{day} {clock} is not a date and time, {example}."


def check_release(view: Mapping[str, Any]) -> str | dict[str, str]:
    """The release reason as recorded ("Bond posted: receipt 5521"), or errors by block."""
    choice = _value(view, actions.RELEASE_REASON)
    details = _text(view, actions.RELEASE_DETAILS)
    if choice not in RELEASE_REASONS:
        return {actions.RELEASE_REASON: "Pick a reason from the list, e.g. Bond posted."}
    if len(details) > MAX_REASON_CHARS:
        return {
            actions.RELEASE_DETAILS: f"The details are {len(details)} characters; keep them "
            f"to {MAX_REASON_CHARS}."
        }
    if choice == OTHER:
        if not details:
            return {
                actions.RELEASE_DETAILS: 'Say why, since the reason is "Other", e.g. '
                "transferred to state prison on a writ."
            }
        return details
    label = RELEASE_REASONS[choice]
    return f"{label}: {details}" if details else label


def check_note(view: Mapping[str, Any]) -> str | dict[str, str]:
    note = _text(view, actions.NOTE_TEXT)
    if not note:
        return {actions.NOTE_TEXT: "Write the note, e.g. ICE pickup confirmed for 14:00 by phone."}
    if len(note) > NOTE_LIMIT:
        return {actions.NOTE_TEXT: f"The note is {len(note)} characters; keep it to {NOTE_LIMIT}."}
    return note


def form_not_opened() -> str:
    """Slack would not open the button's form (the 3 s trigger lapsed)."""
    return (
        ":warning: Slack did not open the form in time, so nothing was changed. Press the "
        "button again, or type the command instead, e.g. `/wso transfer B-2026-0412`."
    )
