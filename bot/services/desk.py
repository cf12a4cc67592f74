"""The custody desk: turns one ``/wso`` command into a stored change and a reply.

It sits between the thin Slack handler and the pure parts: it resolves the
facility, asks the core who may act and what to plan, writes through the store
in one transaction, and answers with a reply worded by ``bot.chat.replies``. It
never talks to Slack; channel messages are notices that the dispatcher delivers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from bot.chat import replies
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
    parse_command,
)
from bot.chat.notices import SlackMessage, answered_page
from bot.chat.phrases import coverage_warning
from bot.chat.replies import Reply
from bot.core import audit as audit_log
from bot.core.acknowledgement import (
    AckRefusal,
    MessageLocation,
    assess_acknowledgement,
    pages_to_answer,
    private_reply_channel,
)
from bot.core.coverage import escalation_gaps, paged_schedules
from bot.core.custody import (
    custody_deadline,
    is_double_submission,
    is_implausibly_old,
    new_custody_id,
)
from bot.core.custody_plan import (
    plan_acknowledged_custody,
    plan_closed_custody,
    plan_logged_custody,
)
from bot.core.facility import Config, Facility
from bot.core.model import Custody, CustodyState, Notice, NoticeKind
from bot.core.oncall import Override, current_and_next
from bot.core.override_policy import override_refusal
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
log = logging.getLogger("wso.desk")


@dataclass(frozen=True)
class Invocation:
    """Who typed what, where."""

    user_id: str
    channel_id: str
    text: str


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
            return replies.no_user()
        try:
            command = parse_command(invocation.text)
            return await self._dispatch(command, invocation)
        except CommandError as error:
            log.info("command.malformed", extra={"user_id": invocation.user_id})
            return replies.error_reply(error.message, error.example)
        except Refusal as refusal:
            log.info("command.refused", extra={"user_id": invocation.user_id})
            return refusal.reply

    async def _dispatch(self, command: Command, invocation: Invocation) -> Reply:
        match command:
            case ArrestCommand():
                return await self._log_arrest(command, invocation)
            case TransferCommand() | ReleaseCommand():
                return await self._close(command, invocation)
            case StatusCommand():
                return await self._status(command, invocation)
            case ListCommand():
                return await self._list(command)
            case HelpCommand():
                return replies.help_reply()
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
            raise Refusal(replies.may_not_log_arrest(facility, invocation.user_id))
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
        gaps = escalation_gaps(
            facility, self._config, custody, now, await self._stored_overrides(facility, now)
        )
        warning = coverage_warning(gaps, facility.zone)
        if warning is not None:  # replace() re-validates the whole custody: only when needed
            custody = replace(custody, coverage_warning=warning)
        notices = plan_logged_custody(custody, facility, self._config, now)
        audit = audit_log.arrest_logged(
            now, invocation.user_id, invocation.channel_id, custody, command.at_text
        )
        try:
            await self._store.add_custody(custody, notices, audit)
        except DuplicateOpenCustody as duplicate:
            if is_double_submission(duplicate.existing, custody):
                return replies.arrest_receipt(duplicate.existing, facility, now, repeated=True)
            raise Refusal(replies.duplicate_custody(duplicate.existing, facility)) from None
        self._listener.notices_added(notices)
        return replies.arrest_receipt(custody, facility, now)

    def _arrest_instant(
        self, command: ArrestCommand, facility: Facility, now: datetime
    ) -> datetime:
        if command.at_text is None:
            return now
        try:
            arrested_at = parse_arrest_time(command.at_text, facility.zone, now)
        except TimeInputError as error:
            raise Refusal(replies.error_reply(error.message, error.example)) from None
        if is_implausibly_old(arrested_at, now):
            raise Refusal(replies.arrest_too_old(arrested_at, command.booking, now, facility.zone))
        return arrested_at

    async def _stored_overrides(
        self, facility: Facility, now: datetime
    ) -> dict[str, list[Override]]:
        """The stored overrides of every schedule the facility's escalation pages."""
        return {
            schedule.id: as_overrides(await self._store.oncall_overrides(schedule.id, now))
            for schedule in paged_schedules(facility, self._config)
        }

    def _facility_for_arrest(self, command: ArrestCommand, invocation: Invocation) -> Facility:
        """Explicit facility, else the only one, the channel's, or the officer's only one."""
        example = f"/wso arrest {command.booking}"
        if command.facility_id is not None:
            return self._named_facility(command.facility_id, example)
        candidates = [
            self._config.facilities,
            tuple(f for f in self._config.facilities if f.jail_channel == invocation.channel_id),
            self._config.facilities_for_officer(invocation.user_id),
        ]
        for facilities in candidates:
            if len(facilities) == 1:
                return facilities[0]
        options = self._config.facilities_for_officer(invocation.user_id) or self._config.facilities
        raise Refusal(replies.which_facility(example, options, command.at_text))

    def _named_facility(self, facility_id: str, example: str) -> Facility:
        facility = self._config.facility(facility_id)
        if facility is None:
            raise Refusal(replies.unknown_facility(facility_id, self._config.facilities, example))
        return facility

    # --- transfer / release ------------------------------------------------------

    async def _close(
        self, command: TransferCommand | ReleaseCommand, invocation: Invocation
    ) -> Reply:
        transfer = isinstance(command, TransferCommand)
        state = CustodyState.TRANSFERRED if transfer else CustodyState.RELEASED
        reason = command.reason if isinstance(command, ReleaseCommand) else None
        verb = "transfer" if transfer else "release"
        booking = command.booking
        custody = await self._open_custody(booking, command.facility_id, invocation, verb)
        facility = self._facility_of(custody)
        if not facility.may_close(invocation.user_id):
            raise Refusal(replies.may_not_close(facility, verb, invocation.user_id))
        now = self._clock.now()
        kind = NoticeKind.TRANSFERRED if transfer else NoticeKind.RELEASED
        closing = plan_closed_custody(custody, kind, facility, self._config, now)
        audit = audit_log.custody_closed(
            now, invocation.user_id, invocation.channel_id, custody, state, reason
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
            raise Refusal(replies.closed_meanwhile(booking)) from None
        self._listener.wake()
        return replies.custody_closed(closed.booking, facility, state)

    async def _open_custody(
        self, booking: str, facility_id: str | None, invocation: Invocation, verb: str
    ) -> Custody:
        example = f"/wso {verb} {booking}"
        scope = self._scope(facility_id, example)
        found = await self._store.find_custodies(booking, scope, open_only=True)
        if not found:
            raise Refusal(replies.no_open_custody(booking, facility_id))
        return self._pick_one(found, invocation, example)

    def _scope(self, facility_id: str | None, example: str) -> list[str] | None:
        """The facility ids a search covers: the one named, or all (None)."""
        return [self._named_facility(facility_id, example).id] if facility_id else None

    def _pick_one(self, found: list[Custody], invocation: Invocation, example: str) -> Custody:
        if len(found) == 1:
            return found[0]
        here = [c for c in found if invocation.channel_id in self._facility_of(c).channels()]
        if len(here) == 1:
            return here[0]
        raise Refusal(replies.open_at_several_facilities(found, example))

    # --- status / list -----------------------------------------------------------

    async def _status(self, command: StatusCommand, invocation: Invocation) -> Reply:
        example = f"/wso status {command.booking}"
        scope = self._scope(command.facility_id, example)
        open_ones = await self._store.find_custodies(command.booking, scope, open_only=True)
        if open_ones:
            custody = self._pick_one(open_ones, invocation, example)
        else:
            history = await self._store.find_custodies(command.booking, scope)
            if not history:
                raise Refusal(replies.no_custody_logged(command.booking))
            custody = history[0]
        return replies.custody_status(custody, self._facility_of(custody), self._clock.now())

    async def _list(self, command: ListCommand) -> Reply:
        scope = self._scope(command.facility_id, "/wso list")
        custodies = await self._store.list_open_custodies(scope, limit=LIST_LIMIT)
        total = len(custodies)
        if total == LIST_LIMIT:  # there may be more than the list shows
            total = await self._store.count_open_custodies(scope)
        rows = [(c, self._facility_of(c)) for c in custodies]
        return replies.open_custody_list(rows, self._clock.now(), total)

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
        reply_channel = private_reply_channel(user_id, notices)
        try:
            if custody is None or not custody.is_open:
                raise Refusal(replies.nothing_to_acknowledge_closed())
            outcome = await self._acknowledge(custody, notices, user_id, "")
        except Refusal as refusal:
            return AckOutcome(refusal.reply, reply_channel=reply_channel)
        pages = pages_to_answer(custody, notices, user_id)
        return replace(outcome, pages=pages, reply_channel=reply_channel)

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
        verdict = assess_acknowledgement(custody, facility, notices, user_id)
        if isinstance(verdict, AckRefusal):
            raise Refusal(replies.acknowledgement_refused(verdict, custody, facility))
        now = self._clock.now()
        ack_plan, new_notices = plan_acknowledged_custody(
            custody, facility, self._config, verdict.pending_steps, verdict.last_level, now
        )
        audit = audit_log.paging_acknowledged(
            now, user_id, channel_id, custody, verdict.last_level, ack_plan.resumes_at
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
            raise Refusal(replies.closed_before_acknowledgement(custody.booking)) from None
        except AlreadyAcknowledged as first:
            log.info("ack.already_acknowledged", extra={"custody_id": custody.id})
            raise Refusal(replies.already_acknowledged(first.custody, facility)) from None
        self._listener.wake()
        reply = replies.acknowledged(custody.booking, facility, ack_plan.resumes_at)
        return AckOutcome(reply, answered_page(acknowledged, facility, user_id, now))

    # --- on call ---------------------------------------------------------------

    async def _oncall_now(self) -> Reply:
        if not self._config.schedules:
            return replies.no_schedules()
        now = self._clock.now()
        rows = []
        for schedule in self._config.schedules:
            overrides = as_overrides(await self._store.oncall_overrides(schedule.id, now))
            rows.append((schedule, *current_and_next(schedule, now, overrides)))
        return replies.oncall_now(rows)

    async def _oncall_override(
        self, command: OncallOverrideCommand, invocation: Invocation
    ) -> Reply:
        schedule = self._config.schedule(command.schedule_id)
        if schedule is None:
            raise Refusal(replies.no_such_schedule(command.schedule_id, self._config.schedules))
        refusal = override_refusal(
            self._config, schedule, invocation.user_id, command.user_id, command.duration
        )
        if refusal is not None:
            raise Refusal(replies.override_refused(refusal))
        now = self._clock.now()
        record = OncallOverrideRecord(
            schedule_id=schedule.id,
            user_id=command.user_id,
            starts_at=now,
            ends_at=now + command.duration,
            created_by=invocation.user_id,
            created_at=now,
        )
        audit = audit_log.oncall_override(
            now, invocation.user_id, schedule.id, command.user_id, record.ends_at
        )
        await self._store.add_oncall_override(record, audit)
        return replies.override_given(command.user_id, schedule, record.ends_at)

    def _facility_of(self, custody: Custody) -> Facility:
        facility = self._config.facility(custody.facility_id)
        if facility is None:
            raise Refusal(replies.facility_gone(custody))
        return facility
