"""Ephemeral answers to the lifecycle actions: IGSA, void, correct, dispute, note. Pure.

Like ``bot.chat.replies``: each refusal says what was wrong, that nothing changed,
and gives a command that would work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.chat.phrases import (
    CLOSED_STATE_WORDS,
    counting_rule_phrase,
    facility_name,
    format_local,
)
from bot.chat.replies import Reply, error_reply
from bot.core.custody import OLDEST_ARREST
from bot.core.facility import Facility
from bot.core.lifecycle_plan import CorrectionRefusal
from bot.core.model import Custody, CustodyState
from bot.core.oncall import Schedule
from bot.core.permissions import Action, Role, roles_for
from bot.core.policy import PolicyStamp


class OverrideShown(Protocol):
    """What a reply shows of a stored on-call override (the store's record)."""

    @property
    def id(self) -> int | None: ...
    @property
    def user_id(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def created_by(self) -> str: ...


_ROLE_WORDS = {Role.OFFICERS: "officers", Role.STAFF: "staff", Role.ICE_STAFF: "ICE staff"}
_WHAT = {
    Action.TRANSFER: "record a transfer",
    Action.RELEASE: "record a release",
    Action.IGSA: "record IGSA housing",
    Action.VOID: "void an entry",
    Action.CORRECT: "correct an arrest time",
    Action.DISPUTE: "record a dispute",
    Action.NOTE: "add a note",
    Action.HISTORY: "see a custody's history",
}


def state_words(state: CustodyState) -> str:
    if state is CustodyState.IGSA:
        return "recorded as held under an IGSA"
    return CLOSED_STATE_WORDS.get(state, state.value)


def may_not(facility: Facility, action: Action, user_id: str) -> Reply:
    """Someone not on the facility's lists tried ``action``."""
    roles = [_ROLE_WORDS[role] for role in roles_for(action)]
    who = ", ".join(roles[:-1]) + f" or {roles[-1]}" if len(roles) > 1 else roles[0]
    keys = " or ".join(f"`{role.value}`" for role in roles_for(action))
    return error_reply(
        f"Only the {who} listed for {facility_name(facility)} may {_WHAT[action]}. "
        f"Nothing was changed. An administrator can add `{user_id}` to {keys} in the config."
    )


def already_closed(custody: Custody, facility: Facility) -> Reply:
    """A second action on a closed custody: who closed it, how and when."""
    by = f" by <@{custody.closed_by}>" if custody.closed_by else ""
    at = f" at {format_local(custody.closed_at, facility.zone)}" if custody.closed_at else ""
    return error_reply(
        f"Booking {custody.booking} at {facility_name(facility)} was already "
        f"{state_words(custody.state)}{by}{at}. Nothing was changed.",
        f"/wso status {custody.booking}",
    )


def no_igsa(facility: Facility, booking: str) -> Reply:
    return error_reply(
        f"{facility_name(facility)} has no IGSA (`igsa = true` is not set for "
        f"`{facility.id}` in the config), so the 48-hour window applies. Nothing was changed. "
        "If ICE has taken custody, record the transfer; if the person was released, "
        "record the release.",
        f"/wso transfer {booking}",
    )


def closed_as(custody: Custody, facility: Facility) -> Reply:
    """An IGSA or void is recorded."""
    return Reply(
        text=(
            f":white_check_mark: Recorded: booking *{custody.booking}* at "
            f"{facility_name(facility)} {state_words(custody.state)}. The custody clock and "
            "all paging are stopped, and both channels are told."
        )
    )


_CORRECTION_LIMITS = (
    f"A corrected time must be in the past and at most {OLDEST_ARREST.days} days ago."
)


def _correction_example(custody: Custody, when: datetime, zone: ZoneInfo) -> str:
    return f"/wso correct {custody.booking} at {when.astimezone(zone):%Y-%m-%d %H:%M}"


def bad_correction_time(message: str, custody: Custody, zone: ZoneInfo) -> Reply:
    """The corrected time could not be read (or is in the future, as the reader says)."""
    return error_reply(
        f"{message} {_CORRECTION_LIMITS} Nothing was changed.",
        _correction_example(custody, custody.arrested_at, zone),
    )


def correction_refused(
    refusal: CorrectionRefusal, custody: Custody, new: Custody, now: datetime, zone: ZoneInfo
) -> Reply:
    """``new`` is ``custody`` as the correction would have made it."""
    if refusal is CorrectionRefusal.IN_THE_FUTURE:
        why = f"{format_local(new.arrested_at, zone)} is in the future."
    elif refusal is CorrectionRefusal.TOO_OLD:
        # Shown in UTC: a far-off date cannot always be converted to a local zone.
        day = new.arrested_at.date().isoformat()
        why = f"{day} (UTC) is more than {OLDEST_ARREST.days} days ago."
    else:
        why = (
            f"{format_local(new.arrested_at, zone)} is the arrest time already recorded, and "
            f"its deadline {format_local(custody.deadline, zone)} is already counted under the "
            f"facility's rule: {counting_rule_phrase(custody)}."
        )
    return error_reply(
        f"{why} {_CORRECTION_LIMITS} Nothing was changed.",
        _correction_example(custody, min(custody.arrested_at, now), zone),
    )


def corrected(old: Custody, custody: Custody, facility: Facility) -> Reply:
    """``old`` was corrected to ``custody``: a new arrest time, counting rule, or both."""
    zone = facility.zone
    if custody.arrested_at != old.arrested_at:
        opening = (
            f":white_check_mark: Corrected: booking *{custody.booking}* arrested "
            f"{format_local(custody.arrested_at, zone)} "
            f"(was {format_local(old.arrested_at, zone)})."
        )
    else:
        opening = (
            f":white_check_mark: Counted again: booking *{custody.booking}*, arrested "
            f"{format_local(custody.arrested_at, zone)}."
        )
    rule = counting_rule_phrase(custody)
    if PolicyStamp.of(old) != PolicyStamp.of(custody):
        rule += f" (was {counting_rule_phrase(old)})"
    return Reply(
        text=(
            f"{opening} New deadline *{format_local(custody.deadline, zone)}* (was "
            f"{format_local(old.deadline, zone)}), counted as {rule}; every reminder and page "
            "is planned again, and both channels are told."
        )
    )


def changed_meanwhile(custody: Custody) -> Reply:
    return error_reply(
        f"Booking {custody.booking} was changed a moment ago by someone else; nothing was "
        "changed. Check it and try again if still needed.",
        f"/wso status {custody.booking}",
    )


def already_disputed(custody: Custody, facility: Facility) -> Reply:
    at = format_local(custody.disputed_at, facility.zone) if custody.disputed_at else "earlier"
    return error_reply(
        f"Booking {custody.booking} was already flagged as disputed by "
        f"<@{custody.disputed_by}> at {at}. Nothing was changed; add what is new as a note.",
        f"/wso note {custody.booking} second ID check done",
    )


def disputed(custody: Custody, facility: Facility, paged: bool) -> Reply:
    page = (
        "the first escalation level is being paged now"
        if paged
        else "this facility has no escalation levels, so nobody is paged"
    )
    return Reply(
        text=(
            f":white_check_mark: Recorded: booking *{custody.booking}* at "
            f"{facility_name(facility)} is flagged as disputed. Both channels are told and "
            f"{page}. The custody stays open."
        )
    )


def note_added(custody: Custody, facility: Facility) -> Reply:
    return Reply(
        text=(
            f":white_check_mark: Your note on booking *{custody.booking}* at "
            f"{facility_name(facility)} is posted to both channels."
        )
    )


# --- /wso oncall overrides, /wso oncall cancel -------------------------------------------


def override_list(records: Sequence[tuple[Schedule, OverrideShown]]) -> Reply:
    """The overrides not yet ended, numbered for ``/wso oncall cancel``."""
    if not records:
        return Reply(
            text="No on-call overrides are in force. Give one with "
            "`/wso oncall override SCHEDULE @person DURATION`."
        )
    lines = ["*On-call overrides in force* (cancel one with `/wso oncall cancel NUMBER`):"]
    for schedule, record in records:
        lines.append(
            f"• *#{record.id}* `{schedule.id}`: <@{record.user_id}> from "
            f"{format_local(record.starts_at, schedule.zone)} until "
            f"{format_local(record.ends_at, schedule.zone)}, given by <@{record.created_by}>"
        )
    return Reply(text="\n".join(lines))


def no_such_override(override_id: int) -> Reply:
    return error_reply(
        f"There is no override number {override_id} in force (it may have ended, or been "
        "cancelled already). Nothing was changed. `/wso oncall overrides` lists them.",
        "/wso oncall overrides",
    )


def may_not_cancel_override(record: OverrideShown, schedule: Schedule) -> Reply:
    return error_reply(
        f"Only <@{record.created_by}>, who gave override #{record.id}, or an officer of a "
        f"facility that pages `{schedule.id}` may cancel it. Nothing was changed.",
        "/wso oncall overrides",
    )


def override_cancelled(record: OverrideShown, schedule: Schedule) -> Reply:
    return Reply(
        text=(
            f":white_check_mark: Override #{record.id} is cancelled: <@{record.user_id}> is no "
            f"longer on call for `{schedule.id}` in place of the rotation."
        )
    )
