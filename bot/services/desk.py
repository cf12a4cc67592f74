"""The custody desk: turns one ``/wso`` command into a stored change and a reply.

It sits between the thin Slack handler and the pure parts: it resolves the
facility, asks the core who may act and what to plan, writes through the store
in one transaction, and answers with a reply worded by ``bot.chat.replies``. It
never talks to Slack; channel messages are notices that the dispatcher delivers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from bot.chat import lifecycle_replies as answers
from bot.chat import replies
from bot.chat.arrest_time import TimeInputError, parse_arrest_time
from bot.chat.commands import (
    AckCommand,
    ArrestCommand,
    Command,
    CommandError,
    HelpCommand,
    HistoryCommand,
    ListCommand,
    OfficersCommand,
    OncallCommand,
    OncallOverrideCommand,
    ReleaseCommand,
    StatusCommand,
    TransferCommand,
    parse_command,
)
from bot.chat.lifecycle_commands import (
    CorrectCommand,
    DisputeCommand,
    IgsaCommand,
    NoteCommand,
    OncallCancelCommand,
    OncallOverridesCommand,
    TextCommand,
    VoidCommand,
)
from bot.chat.lifecycle_replies import already_closed
from bot.chat.phrases import coverage_warning
from bot.chat.replies import Reply
from bot.core import audit as audit_log
from bot.core.acknowledgement import (
    AckRefusal,
    assess_acknowledgement,
    private_reply_channel,
)
from bot.core.audit import Origin
from bot.core.card_plan import plan_refresh
from bot.core.coverage import escalation_gaps, paged_schedules
from bot.core.custody import (
    is_double_submission,
    is_implausibly_old,
    new_custody_id,
)
from bot.core.custody_plan import (
    plan_acknowledged_custody,
    plan_logged_custody,
)
from bot.core.facility import Config, Facility
from bot.core.model import Custody, Notice, Source
from bot.core.oncall import Override
from bot.core.policy import custody_deadline
from bot.services.clock import Clock
from bot.services.desk_history import HistoryDesk
from bot.services.desk_lifecycle import LifecycleDesk, NoticeListener, Refusal
from bot.services.desk_oncall import OncallDesk
from bot.services.desk_roster import RosterDesk
from bot.services.paging import as_overrides
from storage.interface import (
    AlreadyAcknowledged,
    CustodyNotOpen,
    CustodyStore,
    DuplicateOpenCustody,
)

LIST_LIMIT = 50
# The commands on one custody that the lifecycle desk carries out.
LifecycleAction = TransferCommand | ReleaseCommand | IgsaCommand | CorrectCommand | TextCommand
log = logging.getLogger("wso.desk")


@dataclass(frozen=True)
class Invocation:
    """Who typed what, where; how it came (the audit's source) and Slack's trigger_id."""

    user_id: str
    channel_id: str
    text: str
    source: Source = Source.SLASH_COMMAND
    request_id: str | None = None

    @property
    def origin(self) -> Origin:
        return Origin(self.user_id, self.source, self.channel_id, self.request_id)


@dataclass(frozen=True)
class AckOutcome:
    """The answer to an acknowledgement, and where a refused click is answered.

    Every page of the custody (the clicked one too) is rewritten by its stored
    ``PAGE_UPDATE`` notice (``bot.core.card_plan``), at the place the store says the
    bot sent it, never where the click claims. ``reply_channel`` is where a refused
    clicker is answered privately (None: the bot never wrote to them there).
    """

    reply: Reply
    acknowledged: bool = False
    reply_channel: str | None = None


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
        # The id-based actions that the card's buttons and modals call, and commands too.
        self.lifecycle = LifecycleDesk(config, store, clock, listener)
        self._oncall = OncallDesk(config, store, clock)
        self._history = HistoryDesk(config, store)
        self._roster = RosterDesk(config, clock)

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
            case TransferCommand() | ReleaseCommand() | IgsaCommand() | CorrectCommand():
                return await self._lifecycle_command(command, invocation)
            case TextCommand():  # void, dispute, note
                return await self._lifecycle_command(command, invocation)
            case StatusCommand():
                return await self._status(command, invocation)
            case HistoryCommand():
                return await self._history.history(command, invocation.user_id)
            case ListCommand():
                return await self._list(command)
            case OfficersCommand():
                return self._roster.officers(command, invocation.user_id, invocation.channel_id)
            case HelpCommand():
                return replies.help_reply()
            case AckCommand():
                return await self._ack_command(command, invocation)
            case (
                OncallCommand()
                | OncallOverrideCommand()
                | OncallOverridesCommand()
                | OncallCancelCommand()
            ):
                return await self._oncall.handle(command, invocation.origin)

    # --- arrest ------------------------------------------------------------------

    def require_may_log(self, facility: Facility, user_id: str, now: datetime) -> None:
        """Raise ``Refusal`` (with the reason) unless ``user_id`` may log an arrest there now."""
        self._roster.require_may_log(facility, user_id, now)

    async def log_arrest(
        self, command: ArrestCommand, invocation: Invocation, notes: str | None = None
    ) -> Reply:
        """The arrest form's way in: the command's path; raises ``Refusal`` when refused."""
        return await self._log_arrest(command, invocation, notes)

    async def _log_arrest(
        self, command: ArrestCommand, invocation: Invocation, notes: str | None = None
    ) -> Reply:
        facility = self._facility_for_arrest(command, invocation)
        now = self._clock.now()
        self._roster.require_may_log(facility, invocation.user_id, now)
        arrested_at = self._arrest_instant(command, facility, now)
        custody = Custody(
            id=new_custody_id(),
            facility_id=facility.id,
            booking=command.booking,
            warrant_form=command.warrant_form,
            warrant_number=command.warrant_number,
            arrested_at=arrested_at,
            # Counted under the facility's policy now, and recorded with it: a later config
            # applies to later custodies only.
            deadline=custody_deadline(arrested_at, facility.policy, facility.zone),
            logged_by=invocation.user_id,
            logged_at=now,
            a_number=command.a_number,
            **facility.policy.stamp.fields(),
        )
        gaps = escalation_gaps(
            facility, self._config, custody, now, await self._stored_overrides(facility, now)
        )
        warning = coverage_warning(gaps, facility.zone)
        if warning is not None:  # replace() re-validates the whole custody: only when needed
            custody = replace(custody, coverage_warning=warning)
        notices = plan_logged_custody(custody, facility, self._config, now)
        audit = audit_log.arrest_logged(
            now,
            invocation.origin,
            custody,
            command.at_text,
            notes,
            facility.policy.holidays_source,
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

    # --- transfer, release, igsa, void, correct, dispute, note --------------------

    async def _lifecycle_command(self, command: LifecycleAction, invocation: Invocation) -> Reply:
        """Find the open custody by booking; the lifecycle desk does the rest by its id."""
        verb = type(command).__name__.removesuffix("Command").lower()  # IgsaCommand: igsa
        custody = await self._open_custody(command.booking, command.facility_id, invocation, verb)
        origin = invocation.origin
        lifecycle = self.lifecycle
        match command:
            case TransferCommand():
                return await lifecycle.transfer(custody.id, origin)
            case ReleaseCommand():
                return await lifecycle.release(custody.id, origin, command.reason)
            case IgsaCommand():
                return await lifecycle.igsa(custody.id, origin)
            case VoidCommand():
                return await lifecycle.void(custody.id, origin, command.text)
            case CorrectCommand(at_text=None):  # the facility's current rule, same arrest time
                return await lifecycle.correct(custody.id, origin, None)
            case CorrectCommand(at_text=str() as at_text):
                zone = lifecycle.facility_of(custody).zone
                try:
                    new = parse_arrest_time(at_text, zone, self._clock.now())
                except TimeInputError as error:
                    raise Refusal(
                        answers.bad_correction_time(error.message, custody, zone)
                    ) from None
                return await lifecycle.correct(custody.id, origin, new)
            case DisputeCommand():
                return await lifecycle.dispute(custody.id, origin, command.text)
            case NoteCommand():
                return await lifecycle.add_note(custody.id, origin, command.text)
        raise AssertionError(f"not a lifecycle command: {command!r}")

    async def _open_custody(
        self, booking: str, facility_id: str | None, invocation: Invocation, verb: str
    ) -> Custody:
        example = f"/wso {verb} {booking}"
        scope = self._scope(facility_id, example)
        found = await self._store.find_custodies(booking, scope, open_only=True)
        if not found:
            history = await self._store.find_custodies(booking, scope)
            if history and verb != "ack":  # the latest closed one: who closed it, and when
                latest = history[0]
                raise Refusal(already_closed(latest, self._facility_of(latest)))
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
        return (await self.acknowledge(custody, invocation.origin)).reply

    async def acknowledge_by_id(
        self, custody_id: str, user_id: str, request_id: str | None = None
    ) -> AckOutcome:
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
            origin = Origin(user_id, Source.BUTTON, request_id=request_id)
            outcome = await self._acknowledge(custody, notices, origin)
        except Refusal as refusal:
            return AckOutcome(refusal.reply, reply_channel=reply_channel)
        return replace(outcome, reply_channel=reply_channel)

    async def acknowledge(self, custody: Custody, origin: Origin) -> AckOutcome:
        """Stop the paging of an open custody; it resumes ``reack_after`` later if still open."""
        notices = await self._store.notices_for(custody.id)
        return await self._acknowledge(custody, notices, origin)

    async def _acknowledge(
        self, custody: Custody, notices: list[Notice], origin: Origin
    ) -> AckOutcome:
        """Acknowledge what was read (``custody`` and its ``notices``), or answer why not.

        The store's compare-and-set on ``acknowledged_at`` makes a second click, or a
        second ``/wso ack`` racing the first, a no-op that says who was first.
        """
        facility = self._facility_of(custody)
        user_id = origin.actor
        verdict = assess_acknowledgement(custody, facility, notices, user_id)
        if isinstance(verdict, AckRefusal):
            raise Refusal(replies.acknowledgement_refused(verdict, custody, facility))
        now = self._clock.now()
        ack_plan, new_notices = plan_acknowledged_custody(
            custody, facility, self._config, verdict.pending_steps, verdict.last_level, now
        )
        new_notices += plan_refresh(custody, facility.channels(), notices, now)
        audit = audit_log.paging_acknowledged(
            now, origin, custody, verdict.last_level, ack_plan.resumes_at
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
        log.info("ack.recorded", extra={"custody_id": acknowledged.id})
        return AckOutcome(reply, acknowledged=True)

    def _facility_of(self, custody: Custody) -> Facility:
        facility = self._config.facility(custody.facility_id)
        if facility is None:
            raise Refusal(replies.facility_gone(custody))
        return facility
