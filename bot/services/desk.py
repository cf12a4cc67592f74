"""The custody desk: turns one ``/wso`` command into a stored change and a reply.

It sits between the thin Slack handler and the pure core: it resolves the
facility, checks who may act, asks the core for deadlines and notice plans,
and writes through the store in one transaction. It never talks to Slack;
channel messages are notices that the dispatcher delivers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.chat import notices as messages
from bot.chat.arrest_time import TimeInputError, parse_arrest_time
from bot.chat.commands import (
    AckCommand,
    ArrestCommand,
    Command,
    CommandError,
    HelpCommand,
    ListCommand,
    OncallCommand,
    OncallOverrideCommand,
    ReleaseCommand,
    StatusCommand,
    TransferCommand,
    help_text,
    parse_command,
)
from bot.chat.notices import (
    Reply,
    SlackMessage,
    already_acknowledged,
    answered_page,
    error_reply,
    facility_name,
    oncall_summary,
)
from bot.chat.replies import override_refused
from bot.core.custody import custody_deadline
from bot.core.custody_plan import (
    chain_for,
    plan_acknowledged_custody,
    plan_closed_custody,
    plan_logged_custody,
)
from bot.core.facility import Config, Facility
from bot.core.ids import time_ordered_hex
from bot.core.model import AuditEntry, Custody, CustodyState, Notice, NoticeKind, NoticeState
from bot.core.oncall import coverage_gaps, current_and_next
from bot.core.override_policy import override_refusal
from bot.core.targets import TargetKind, target_kind
from bot.services.clock import Clock
from bot.services.paging import as_overrides
from storage.interface import (
    AlreadyAcknowledged,
    CustodyNotOpen,
    CustodyStore,
    DuplicateOpenCustody,
    OncallOverrideRecord,
)

LIST_LIMIT = 50
# A custody window is 48 hours: an arrest logged weeks later is almost surely a mistyped date.
OLDEST_ARREST = timedelta(days=30)
# The same officer sending the same arrest again this soon is a double-submit, not a new arrest.
DOUBLE_SUBMIT_WINDOW = timedelta(minutes=2)
log = logging.getLogger("wso.desk")


@dataclass(frozen=True)
class Invocation:
    """Who typed what, where."""

    user_id: str
    channel_id: str
    text: str


@dataclass(frozen=True)
class MessageLocation:
    """Where Slack put a message the bot sent: its channel (a DM's ``D…``) and ``ts``."""

    channel: str
    ts: str


@dataclass(frozen=True)
class AckOutcome:
    """The answer to an acknowledgement, and what the pages it came from should become.

    Locations come from the store (where the bot sent the pages), never from the
    click: ``pages`` are replaced with ``answered_page``; ``reply_channel`` is where
    the clicker is answered privately (None: the bot never wrote to them there).
    """

    reply: Reply
    answered_page: SlackMessage | None = None
    pages: tuple[MessageLocation, ...] = ()
    reply_channel: str | None = None


class Refusal(Exception):
    """A command that cannot go ahead; carries the reply that says why."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.text)
        self.reply = reply


def new_custody_id() -> str:
    return "c_" + time_ordered_hex()


def is_double_submission(existing: Custody, attempted: Custody) -> bool:
    """Same officer, same arrest, moments apart: answer as before instead of refusing.

    Slack users double-submit; an arrest logged "now" twice within the window
    counts as one when the two arrest times are within the window too.
    """
    return (
        existing.logged_by == attempted.logged_by
        and attempted.logged_at - existing.logged_at <= DOUBLE_SUBMIT_WINDOW
        and abs(attempted.arrested_at - existing.arrested_at) <= DOUBLE_SUBMIT_WINDOW
        and existing.warrant_form == attempted.warrant_form
        and existing.warrant_number == attempted.warrant_number
    )


class NoticeListener(Protocol):
    """Told when stored notices change (the dispatcher)."""

    def notices_added(self, notices: Sequence[Notice]) -> None:
        """New notices were stored; nothing else changed."""

    def wake(self) -> None:
        """Notices were added, cancelled or moved: re-read them."""


class CustodyDesk:
    def __init__(
        self,
        config: Config,
        store: CustodyStore,
        clock: Clock,
        listener: NoticeListener,
    ) -> None:
        self._config = config
        self._store = store
        self._clock = clock
        self._listener = listener

    async def handle(self, invocation: Invocation) -> Reply:
        """Run one command; every outcome, good or bad, is a reply for the user."""
        if not invocation.user_id:
            return error_reply("Slack did not say who sent this command, so nothing was done.")
        try:
            command = parse_command(invocation.text)
            return await self._dispatch(command, invocation)
        except CommandError as error:
            log.info("command.malformed", extra={"user_id": invocation.user_id})
            return error_reply(error.message, error.example)
        except Refusal as refusal:
            log.info("command.refused", extra={"user_id": invocation.user_id})
            return refusal.reply

    async def _dispatch(self, command: Command, invocation: Invocation) -> Reply:
        match command:
            case ArrestCommand():
                return await self._log_arrest(command, invocation)
            case TransferCommand():
                return await self._close(
                    command.booking, command.facility_id, invocation, CustodyState.TRANSFERRED, None
                )
            case ReleaseCommand():
                return await self._close(
                    command.booking,
                    command.facility_id,
                    invocation,
                    CustodyState.RELEASED,
                    command.reason,
                )
            case StatusCommand():
                return await self._status(command, invocation)
            case ListCommand():
                return await self._list(command)
            case HelpCommand():
                return Reply(text=help_text())
            case AckCommand():
                return await self._ack_command(command, invocation)
            case OncallCommand():
                return await self._oncall_now()
            case OncallOverrideCommand():
                return await self._oncall_override(command, invocation)

    # --- arrest ------------------------------------------------------------------

    async def _log_arrest(self, command: ArrestCommand, invocation: Invocation) -> Reply:
        facility = self._facility_for_arrest(command, invocation)
        if not facility.may_log_arrest(invocation.user_id):
            raise Refusal(
                error_reply(
                    f"Only the WSO officers listed for {facility_name(facility)} may log arrests "
                    f"there, and <@{invocation.user_id}> is not one of them. Nothing was stored. "
                    f"An administrator can add your Slack user id `{invocation.user_id}` "
                    "to `officers` in the config."
                )
            )
        now = self._clock.now()
        arrested_at = self._arrest_instant(command, facility, now)
        custody = Custody(
            id=new_custody_id(),
            facility_id=facility.id,
            booking=command.booking,
            warrant_form=command.warrant_form,
            warrant_number=command.warrant_number,
            arrested_at=arrested_at,
            deadline=custody_deadline(arrested_at),
            logged_by=invocation.user_id,
            logged_at=now,
        )
        gaps = await self._coverage_gaps(facility, custody, now)
        if gaps:
            custody = replace(custody, coverage_warning=gaps)
        notices = plan_logged_custody(custody, facility, self._config, now)
        audit = _audit(
            now,
            invocation,
            "arrest_logged",
            custody,
            arrested_at=arrested_at.isoformat(),
            deadline=custody.deadline.isoformat(),
            warrant_form=custody.warrant_form,
            warrant_number=custody.warrant_number,
            at_text=command.at_text,
            counting_rule=custody.counting_rule.value,
        )
        try:
            await self._store.add_custody(custody, notices, audit)
        except DuplicateOpenCustody as duplicate:
            if is_double_submission(duplicate.existing, custody):
                return messages.arrest_receipt(duplicate.existing, facility, now, repeated=True)
            raise Refusal(_duplicate_reply(duplicate.existing, facility, now)) from None
        self._listener.notices_added(notices)
        return messages.arrest_receipt(custody, facility, now)

    def _arrest_instant(
        self, command: ArrestCommand, facility: Facility, now: datetime
    ) -> datetime:
        if command.at_text is None:
            return now
        try:
            arrested_at = parse_arrest_time(command.at_text, facility.zone, now)
        except TimeInputError as error:
            raise Refusal(error_reply(error.message, error.example)) from None
        if now - arrested_at > OLDEST_ARREST:
            # Shown in UTC: a far-off date cannot always be converted to a local zone.
            raise Refusal(
                error_reply(
                    f"The arrest time {arrested_at.date().isoformat()} (UTC) is more than 30 days "
                    "ago; a WSO custody window is "
                    "48 hours, so the date is probably mistyped. Nothing was stored.",
                    f"/wso arrest {command.booking} at "
                    f"{now.astimezone(facility.zone):%Y-%m-%d %H:%M}",
                )
            )
        return arrested_at

    def _facility_for_arrest(self, command: ArrestCommand, invocation: Invocation) -> Facility:
        """Explicit facility, else the only one, the channel's, or the officer's only one."""
        if command.facility_id is not None:
            return self._named_facility(command.facility_id, f"/wso arrest {command.booking}")
        candidates = [
            self._config.facilities,
            tuple(f for f in self._config.facilities if f.jail_channel == invocation.channel_id),
            self._config.facilities_for_officer(invocation.user_id),
        ]
        for facilities in candidates:
            if len(facilities) == 1:
                return facilities[0]
        options = self._config.facilities_for_officer(invocation.user_id) or self._config.facilities
        raise Refusal(_which_facility_reply(f"/wso arrest {command.booking}", options, command))

    def _named_facility(self, facility_id: str, example_prefix: str) -> Facility:
        facility = self._config.facility(facility_id)
        if facility is None:
            known = ", ".join(f"`{f.id}`" for f in self._config.facilities)
            raise Refusal(
                error_reply(
                    f"Unknown facility `{facility_id}`. Known facilities: {known}.",
                    f"{example_prefix} facility {self._config.facilities[0].id}",
                )
            )
        return facility

    # --- transfer / release ------------------------------------------------------

    async def _close(
        self,
        booking: str,
        facility_id: str | None,
        invocation: Invocation,
        state: CustodyState,
        reason: str | None,
    ) -> Reply:
        verb = "transfer" if state is CustodyState.TRANSFERRED else "release"
        custody = await self._open_custody(booking, facility_id, invocation, verb)
        facility = self._facility_of(custody)
        if not facility.may_close(invocation.user_id):
            raise Refusal(
                error_reply(
                    f"Only officers and staff listed for {facility_name(facility)} may record a "
                    f"{verb}. Nothing was changed. An administrator can add "
                    f"`{invocation.user_id}` to `officers` or `staff` in the config."
                )
            )
        now = self._clock.now()
        kind = NoticeKind.TRANSFERRED if state is CustodyState.TRANSFERRED else NoticeKind.RELEASED
        closing = plan_closed_custody(custody, kind, facility, self._config, now)
        audit = _audit(
            now,
            invocation,
            f"custody_{state.value}",
            custody,
            reason=reason,
            deadline_passed=now >= custody.deadline,
        )
        try:
            closed = await self._store.close_custody(
                custody.id,
                state=state,
                at=now,
                by=invocation.user_id,
                reason=reason,
                closing_notices=closing,
                audit=audit,
            )
        except CustodyNotOpen:
            raise Refusal(
                error_reply(
                    f"Booking {booking} was closed a moment ago by someone else; "
                    "nothing was changed. "
                    f"See `/wso status {booking}`."
                )
            ) from None
        self._listener.wake()
        what = "transferred to ICE" if state is CustodyState.TRANSFERRED else "released"
        return Reply(
            text=(
                f":white_check_mark: Recorded: booking *{closed.booking}* at "
                f"{facility_name(facility)} {what}. The custody clock is stopped and both "
                "channels are told."
            )
        )

    async def _open_custody(
        self, booking: str, facility_id: str | None, invocation: Invocation, verb: str
    ) -> Custody:
        scope = (
            [self._named_facility(facility_id, f"/wso {verb} {booking}").id]
            if facility_id
            else None
        )
        found = await self._store.find_custodies(booking, scope, open_only=True)
        if not found:
            raise Refusal(
                error_reply(
                    f"There is no open custody for booking {booking}"
                    + (f" at `{facility_id}`" if facility_id else "")
                    + ". `/wso list` shows the open ones.",
                    "/wso list",
                )
            )
        return self._pick_one(found, invocation, f"/wso {verb} {booking}")

    def _pick_one(self, found: list[Custody], invocation: Invocation, example: str) -> Custody:
        if len(found) == 1:
            return found[0]
        here = [c for c in found if invocation.channel_id in self._facility_of(c).channels()]
        if len(here) == 1:
            return here[0]
        ids = ", ".join(f"`{c.facility_id}`" for c in found)
        raise Refusal(
            error_reply(
                f"Booking {found[0].booking} is open at more than one facility ({ids}); "
                "say which with `facility ID`.",
                f"{example} facility {found[0].facility_id}",
            )
        )

    # --- status / list -----------------------------------------------------------

    async def _status(self, command: StatusCommand, invocation: Invocation) -> Reply:
        scope = (
            [self._named_facility(command.facility_id, f"/wso status {command.booking}").id]
            if command.facility_id
            else None
        )
        open_ones = await self._store.find_custodies(command.booking, scope, open_only=True)
        if open_ones:
            custody = self._pick_one(open_ones, invocation, f"/wso status {command.booking}")
        else:
            history = await self._store.find_custodies(command.booking, scope)
            if not history:
                raise Refusal(
                    error_reply(
                        f"No custody has been logged for booking {command.booking}. "
                        "`/wso list` shows the open ones.",
                        "/wso list",
                    )
                )
            custody = history[0]
        return messages.custody_status(custody, self._facility_of(custody), self._clock.now())

    async def _list(self, command: ListCommand) -> Reply:
        scope = (
            [self._named_facility(command.facility_id, "/wso list").id]
            if command.facility_id
            else None
        )
        custodies = await self._store.list_open_custodies(scope, limit=LIST_LIMIT)
        total = len(custodies)
        if total == LIST_LIMIT:  # there may be more than the list shows
            total = await self._store.count_open_custodies(scope)
        rows = [(c, self._facility_of(c)) for c in custodies]
        return messages.open_custody_list(rows, self._clock.now(), total)

    # --- acknowledge -------------------------------------------------------------

    async def _ack_command(self, command: AckCommand, invocation: Invocation) -> Reply:
        custody = await self._open_custody(command.booking, command.facility_id, invocation, "ack")
        return (await self.acknowledge(custody, invocation.user_id, invocation.channel_id)).reply

    async def acknowledge_by_id(self, custody_id: str, user_id: str) -> AckOutcome:
        """The Acknowledge button: the page carries the custody id.

        The answer goes where the bot paged this person (their stored pages),
        whatever channel and message the click claims to come from.
        """
        custody = await self._store.get_custody(custody_id)
        notices = await self._store.notices_for(custody_id) if custody is not None else []
        seen = pages_seen_by(user_id, notices)
        reply_channel = seen[-1].channel if seen else None
        try:
            if custody is None or not custody.is_open:
                raise Refusal(
                    error_reply(
                        "This custody is already closed (transferred or released); "
                        "there is nothing to acknowledge."
                    )
                )
            outcome = await self._acknowledge(custody, notices, user_id, "")
        except Refusal as refusal:
            return AckOutcome(refusal.reply, reply_channel=reply_channel)
        active = pages_seen_by(user_id, active_pages(custody, notices))
        return replace(outcome, pages=tuple(active), reply_channel=reply_channel)

    async def acknowledge(self, custody: Custody, user_id: str, channel_id: str) -> AckOutcome:
        """Stop the paging of an open custody; it resumes ``reack_after`` later if still open."""
        notices = await self._store.notices_for(custody.id)
        return await self._acknowledge(custody, notices, user_id, channel_id)

    async def _acknowledge(
        self, custody: Custody, notices: list[Notice], user_id: str, channel_id: str
    ) -> AckOutcome:
        """Acknowledge what was read (``custody`` and its ``notices``), or answer why not.

        The store's compare-and-set on ``acknowledged_at`` makes a second click, or a
        second ``/wso ack`` racing the first, a no-op that says who was first.
        """
        facility = self._facility_of(custody)
        paged = [n for n in notices if n.kind is NoticeKind.ESCALATION and n.sent_at]
        if not paged:
            raise Refusal(
                error_reply(
                    f"Booking {custody.booking} is not being paged right now, so there is nothing "
                    "to acknowledge. Nothing was changed.",
                    f"/wso status {custody.booking}",
                )
            )
        if not (facility.may_log_arrest(user_id) or user_id in {n.channel for n in paged}):
            raise Refusal(
                error_reply(
                    f"Only the people paged about booking {custody.booking} and the officers of "
                    f"{facility_name(facility)} may acknowledge it. Nothing was changed."
                )
            )
        active = active_pages(custody, paged)
        if not active:  # every page went out before the latest acknowledgement
            raise Refusal(already_acknowledged(custody, facility))
        now = self._clock.now()
        pending_steps = [
            n for n in notices if n.kind is NoticeKind.PAGE_STEP and n.state is NoticeState.PENDING
        ]
        last_level = max(n.level or 1 for n in active)
        ack_plan, new_notices = plan_acknowledged_custody(
            custody, facility, self._config, pending_steps, last_level, now
        )
        audit = AuditEntry(
            at=now,
            actor=user_id,
            action="paging_acknowledged",
            custody_id=custody.id,
            detail={
                "booking": custody.booking,
                "channel": channel_id,
                "level": last_level,
                "resumes_at": ack_plan.resumes_at.isoformat(),
            },
        )
        try:
            acknowledged = await self._store.acknowledge(
                custody.id,
                at=now,
                by=user_id,
                cancel_step_ids=[s.id for s in ack_plan.cancel],
                new_notices=new_notices,
                audit=audit,
                expected_acknowledged_at=custody.acknowledged_at,
            )
        except CustodyNotOpen:
            raise Refusal(
                error_reply(f"Booking {custody.booking} was just closed; nothing to acknowledge.")
            ) from None
        except AlreadyAcknowledged as first:
            log.info("ack.already_acknowledged", extra={"custody_id": custody.id})
            raise Refusal(already_acknowledged(first.custody, facility)) from None
        self._listener.wake()
        resumes = messages.format_local(ack_plan.resumes_at, facility.zone)
        reply = Reply(
            text=(
                f":white_check_mark: Acknowledged: paging for booking *{custody.booking}* at "
                f"{facility_name(facility)} has stopped. The custody is still open; paging "
                f"starts again at {resumes} unless it is transferred or released."
            )
        )
        return AckOutcome(reply, answered_page(acknowledged, facility, user_id, now))

    # --- on call ---------------------------------------------------------------

    async def _oncall_now(self) -> Reply:
        if not self._config.schedules:
            return Reply(text="No on-call schedules are configured (`[[schedule]]` in the config).")
        now = self._clock.now()
        lines = []
        for schedule in self._config.schedules:
            overrides = as_overrides(await self._store.oncall_overrides(schedule.id, now))
            current, following = current_and_next(schedule, now, overrides)
            lines.append(oncall_summary(schedule, current, following))
        return Reply(text="\n".join(["*On call now and next*", *lines]))

    async def _oncall_override(
        self, command: OncallOverrideCommand, invocation: Invocation
    ) -> Reply:
        schedule = self._config.schedule(command.schedule_id)
        if schedule is None:
            known = ", ".join(f"`{s.id}`" for s in self._config.schedules) or "none configured"
            raise Refusal(
                error_reply(
                    f"There is no on-call schedule `{command.schedule_id}`. Known: {known}.",
                    "/wso oncall",
                )
            )
        refusal = override_refusal(
            self._config, schedule, invocation.user_id, command.user_id, command.duration
        )
        if refusal is not None:
            raise Refusal(error_reply(override_refused(refusal), refusal.example))
        now = self._clock.now()
        record = OncallOverrideRecord(
            schedule_id=schedule.id,
            user_id=command.user_id,
            starts_at=now,
            ends_at=now + command.duration,
            created_by=invocation.user_id,
            created_at=now,
        )
        audit = AuditEntry(
            at=now,
            actor=invocation.user_id,
            action="oncall_override",
            custody_id=None,
            detail={
                "schedule": schedule.id,
                "user": command.user_id,
                "ends_at": record.ends_at.isoformat(),
            },
        )
        await self._store.add_oncall_override(record, audit)
        until = messages.format_local(record.ends_at, schedule.zone)
        return Reply(
            text=(
                f":white_check_mark: <@{command.user_id}> is on call for `{schedule.id}` from now "
                f"until {until}, in place of the rotation."
            )
        )

    async def _coverage_gaps(
        self, facility: Facility, custody: Custody, now: datetime
    ) -> str | None:
        """Where an escalation level has nobody on call during the window and the chain."""
        chain = chain_for(facility)
        end = max(custody.deadline, now) + chain.expiry_chain_length() + chain.reack_after
        warnings: list[str] = []
        levels = [("level", i, lvl.notify) for i, lvl in enumerate(facility.escalation, 1)]
        levels += [("ICE level", i, lvl.notify) for i, lvl in enumerate(facility.ice_escalation, 1)]
        for label, number, notify in levels:
            for entry in notify:
                if not entry.startswith("oncall:"):
                    continue
                schedule = self._config.schedule(entry.removeprefix("oncall:"))
                if schedule is None:
                    continue
                overrides = as_overrides(await self._store.oncall_overrides(schedule.id, now))
                for start, stop in coverage_gaps(schedule, now, end, overrides):
                    warnings.append(
                        f"{label} {number} (`{entry}`) has nobody on call "
                        f"{messages.format_local(start, facility.zone)} to "
                        f"{messages.format_local(stop, facility.zone)}"
                    )
        return "; ".join(warnings) or None

    def _facility_of(self, custody: Custody) -> Facility:
        facility = self._config.facility(custody.facility_id)
        if facility is None:
            raise Refusal(
                error_reply(
                    f"Custody `{custody.id}` belongs to facility `{custody.facility_id}`, "
                    "which is no "
                    "longer in the config. Put it back, or ask an administrator."
                )
            )
        return facility


def _audit(
    now: datetime, invocation: Invocation, action: str, custody: Custody, **detail: object
) -> AuditEntry:
    clean = {
        k: (v if isinstance(v, str | int | bool) or v is None else str(v))
        for k, v in detail.items()
    }
    return AuditEntry(
        at=now,
        actor=invocation.user_id,
        action=action,
        custody_id=custody.id,
        detail={"channel": invocation.channel_id, "booking": custody.booking, **clean},
    )


def _duplicate_reply(existing: Custody, facility: Facility, now: datetime) -> Reply:
    deadline = messages.format_local(existing.deadline, facility.zone)
    return error_reply(
        f"Booking {existing.booking} already has an open custody at {facility_name(facility)} "
        f"(logged by <@{existing.logged_by}>, deadline {deadline}, custody `{existing.id}`). "
        "Nothing new was stored.",
        f"/wso status {existing.booking}",
    )


def _which_facility_reply(
    example_prefix: str, options: tuple[Facility, ...], command: ArrestCommand
) -> Reply:
    names = ", ".join(f"`{f.id}` ({facility_name(f)})" for f in options)
    at = f" at {command.at_text}" if command.at_text else ""
    return error_reply(
        f"Which facility? Nothing was stored. Add `facility ID`, one of: {names}.",
        f"{example_prefix}{at} facility {options[0].id}",
    )


def active_pages(custody: Custody, notices: Sequence[Notice]) -> list[Notice]:
    """Pages sent since the custody was last acknowledged: what an acknowledgement answers."""
    return [
        n
        for n in notices
        if n.kind is NoticeKind.ESCALATION
        and n.sent_at is not None
        and (custody.acknowledged_at is None or n.sent_at > custody.acknowledged_at)
    ]


def pages_seen_by(user_id: str, notices: Sequence[Notice]) -> list[MessageLocation]:
    """Where the bot put the pages ``user_id`` can see, oldest first.

    Their own direct-message pages; failing those, pages that went to a channel
    because a level resolved to nobody (anyone there may press the button).
    """
    sent = [n for n in notices if n.kind is NoticeKind.ESCALATION and n.message_ts]
    own = [n for n in sent if n.channel == user_id]
    shared = [n for n in sent if target_kind(n.channel) is TargetKind.CHANNEL]
    return [
        MessageLocation(n.message_channel or n.channel, n.message_ts or "") for n in (own or shared)
    ]
