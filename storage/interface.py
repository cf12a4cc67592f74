"""The storage seam: everything the bot asks of a database.

SQLite implements it today (``storage.sqlite``); a PostgreSQL store for
several replicas will implement the same protocol and pass the same contract
suite (``tests/contract/``). No SQL lives outside this package.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.core.model import AuditEntry, Custody, CustodyState, Notice, NoticeKind
from storage.audit import AuditLog
from storage.certification_ledger import HasCertificationLedger


class StoreError(Exception):
    """Base class for refusals the store makes on purpose."""


class DuplicateOpenCustody(StoreError):
    """The facility already has an open custody for this booking."""

    def __init__(self, existing: Custody) -> None:
        super().__init__(f"booking {existing.booking} already open as custody {existing.id}")
        self.existing = existing


class CustodyNotOpen(StoreError):
    """The custody was closed (or never existed) when a change was attempted."""

    def __init__(self, custody: Custody | None) -> None:
        super().__init__("custody is not open")
        self.custody = custody


class CustodyChanged(StoreError):
    """The open custody changed since the caller read it (corrected, or disputed, meanwhile).

    ``custody`` is the custody as it is now.
    """

    def __init__(self, custody: Custody) -> None:
        super().__init__(f"custody {custody.id} changed meanwhile")
        self.custody = custody


class AlreadyAcknowledged(StoreError):
    """Someone acknowledged the custody since the caller read it (a double click, a race).

    ``custody`` is the custody as it is now: who acknowledged it, and when.
    """

    def __init__(self, custody: Custody) -> None:
        super().__init__(f"custody {custody.id} was acknowledged meanwhile")
        self.custody = custody


class DatabaseUnusable(StoreError):
    """The store cannot safely use its database; the message says why and what to do.

    Raised by ``open()``: the bot refuses to start (``wso-bot serve`` exits 2).
    """


class DatabaseInUse(DatabaseUnusable):
    """Another process (or another store in this one) is using the database.

    Two bots over one database would each send every notice, and together post
    at twice Slack's rate.
    """


class DatabaseDamaged(DatabaseUnusable):
    """The database file is corrupt: it must be restored, not written to."""


class Clock(Protocol):
    """What a store needs of the service's clock: the time its faults are stamped with."""

    def now(self) -> datetime: ...


@dataclass(frozen=True)
class StoreFault:
    """Something wrong with the database right now, for ``/healthz``.

    ``what`` says what failed (``"write failed (mark_sent)"``, ``"wso.db-wal was
    deleted"``), ``error`` the error or what to do, ``since`` when it was noticed.
    """

    what: str
    error: str
    since: datetime

    def describe(self) -> str:
        return f"{self.what} since {self.since.isoformat(timespec='seconds')}: {self.error}"


@dataclass(frozen=True)
class OncallOverrideRecord:
    """Someone covering an on-call schedule for a while ("/wso oncall override")."""

    schedule_id: str
    user_id: str
    starts_at: datetime
    ends_at: datetime
    created_by: str
    created_at: datetime
    # Set by the store: the number ``/wso oncall overrides`` shows and ``cancel`` takes.
    id: int | None = field(default=None, compare=False)


class CustodyStore(AuditLog, HasCertificationLedger, Protocol):
    async def open(self) -> None:
        """Connect and create or migrate the schema.

        Raises ``DatabaseUnusable`` when the database must not be used: in use by
        another process (``DatabaseInUse``), or damaged (``DatabaseDamaged``).
        """
        ...

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        ...

    def fault(self) -> StoreFault | None:
        """What is wrong with the database now, or None; cheap enough for every ``/healthz``.

        Reports, without waiting on the database: damage found by the integrity
        check that ``open`` started; the database's files deleted or replaced
        under the running store; the last write, if it failed (cleared by the next
        write that succeeds).
        """
        ...

    async def integrity_checked(self) -> None:
        """Return once the integrity check started by ``open`` has passed.

        ``open`` refuses a database it finds damaged, but on a large database it
        lets the check finish in the background rather than delay the start-up.
        Raises ``DatabaseDamaged`` if the check failed (then ``fault`` says so too).
        """
        ...

    async def add_custody(
        self, custody: Custody, notices: Sequence[Notice], audit: AuditEntry
    ) -> None:
        """Store a custody, all its planned notices and its audit entry atomically.

        Raises ``DuplicateOpenCustody`` (storing nothing) when the facility
        already has an open custody for the booking.
        """
        ...

    async def add_custodies(
        self, arrests: Sequence[tuple[Custody, Sequence[Notice], AuditEntry]]
    ) -> None:
        """Store many arrests (custody, notices, audit entry) in one transaction: all or none.

        For building data sets (the benchmarks); each custody is stored as given, closed
        ones too. Raises ``DuplicateOpenCustody``
        (storing none) when one's booking is open already at its facility.
        """
        ...

    async def close_custody(
        self,
        custody_id: str,
        *,
        state: CustodyState,
        at: datetime,
        by: str,
        reason: str | None,
        closing_notices: Sequence[Notice],
        audit: AuditEntry,
        received_by: str | None = None,
        taken_at: datetime | None = None,
    ) -> Custody:
        """Close an open custody atomically (a compare-and-set on its state).

        Cancels its pending reminders, expiry notices and paging, stores the closing
        notices and the audit entry, and returns the closed custody. A transfer may
        record who received the person (``received_by``) and when (``taken_at``).
        Raises ``CustodyNotOpen`` (changing nothing) if it is not open; its
        ``custody`` says who closed it, how and when.
        """
        ...

    async def correct_custody(
        self,
        *,
        expected: Custody,
        corrected: Custody,
        at: datetime,
        new_notices: Sequence[Notice],
        audit: AuditEntry,
    ) -> Custody:
        """Give an open custody a new arrest time, deadline and counting rule, atomically.

        ``corrected`` is the custody as the caller read it (``expected``) with its new
        arrest time, deadline and counting rule (name, version, hours, holidays): a
        compare-and-set on those four the caller read. An arrest time that moves is
        kept as ``corrected_from``. Cancels the pending reminders, expiry
        notices, chain steps, pages and unscheduled backup, brings the deletion of
        Slack's backup forward to ``at``, and stores ``new_notices`` (the new plan) and
        the audit entry. Raises ``CustodyNotOpen`` if closed, ``CustodyChanged`` if
        corrected meanwhile (changing nothing either way).
        """
        ...

    async def dispute_custody(
        self,
        custody_id: str,
        *,
        at: datetime,
        by: str,
        note: str,
        new_notices: Sequence[Notice],
        audit: AuditEntry,
    ) -> Custody:
        """Flag an open custody as disputed (a citizenship or identity claim), atomically.

        Stores the notices (the channels' word, the first page step) and the audit
        entry. Raises ``CustodyNotOpen`` if closed, ``CustodyChanged`` if disputed
        already (changing nothing either way).
        """
        ...

    async def add_to_open_custody(
        self, custody_id: str, notices: Sequence[Notice], audit: AuditEntry
    ) -> Custody:
        """Store notices and an audit entry for a custody while it is open (a note).

        Raises ``CustodyNotOpen`` (storing nothing) if it is closed or unknown.
        """
        ...

    async def get_custody(self, custody_id: str) -> Custody | None: ...

    async def find_custodies(
        self, booking: str, facility_ids: Collection[str] | None = None, *, open_only: bool = False
    ) -> list[Custody]:
        """Custodies for a booking, newest first."""
        ...

    async def list_open_custodies(
        self, facility_ids: Collection[str] | None = None, limit: int = 100
    ) -> list[Custody]:
        """Open custodies, soonest deadline first."""
        ...

    async def closed_custodies_since(
        self, facility_ids: Collection[str] | None, since: datetime, limit: int = 100
    ) -> list[Custody]:
        """Custodies closed at or after ``since`` (all facilities: None), latest first."""
        ...

    async def count_open_custodies(self, facility_ids: Collection[str] | None = None) -> int:
        """Open custodies, of the given facilities only when ``facility_ids`` is set."""
        ...

    async def scheduled_backups(self) -> list[tuple[Custody, Notice]]:
        """Every backup expiry notice Slack has scheduled for us, with its custody."""
        ...

    async def add_notices(self, notices: Sequence[Notice]) -> None:
        """Store extra notices for existing custodies (e.g. a delivery-problem alert)."""
        ...

    async def skip_superseded_reminders(self, now: datetime) -> int:
        """Skip every due reminder that a later due reminder or expiry of its channel supersedes.

        The same rule as ``bot.core.notice_plan.triage``, applied to the whole backlog at
        once: after long downtime the due notices of one custody span many batches. A
        reminder that may have been posted is left pending: the dispatcher looks for it
        in Slack first (``Triage.look_up``). Returns how many were skipped.
        """
        ...

    async def ready_notices(
        self, now: datetime, limit: int, exclude_channels: Collection[str] = ()
    ) -> list[Notice]:
        """Pending notices whose due time and retry time have both come, oldest first.

        Notices for ``exclude_channels`` (busy or congested targets) are left out.
        """
        ...

    async def next_ready_at(self, exclude_channels: Collection[str] = ()) -> datetime | None:
        """When the earliest pending notice becomes ready, or None if none is pending."""
        ...

    async def count_failing_notices(
        self, error_codes: Collection[str], error_prefixes: Collection[str] = ()
    ) -> int:
        """Unsent notices whose last attempt failed with one of these errors (or prefixes)."""
        ...

    async def notices_in_flight(self) -> list[Notice]:
        """Notices marked ``sending``: a crash may have cut their send short."""
        ...

    async def notices_for(self, custody_id: str) -> list[Notice]:
        """All notices of one custody, in plan order."""
        ...

    async def mark_sending(self, notice_id: str, at: datetime) -> bool:
        """Claim a pending notice for a send attempted now (before the Slack call).

        False if it is no longer pending (skipped as superseded, cancelled by a
        closure, or sent meanwhile): then it must not be sent.
        """
        ...

    async def mark_sent(
        self,
        notice_id: str,
        at: datetime,
        message_ts: str | None,
        message_channel: str | None = None,
    ) -> None:
        """Record a delivered notice; ``message_channel`` is where Slack put it (a DM's id).

        Slack having it is the truth: a notice found in history after it was skipped
        or cancelled is recorded as sent too. One already sent keeps its record.
        """
        ...

    async def mark_failed(
        self,
        notice_id: str,
        *,
        error: str,
        retry_at: datetime,
        may_have_posted: bool,
        attempts: int | None = None,
    ) -> None:
        """Put a notice back to pending, to be retried no earlier than ``retry_at``.

        ``may_have_posted`` says the failed attempt may still have reached Slack
        (a timeout or 5xx), so the next attempt must look before it posts.
        ``attempts`` is how many attempts have failed so far, this one included:
        an attempt that failed before its claim (a history lookup, say) counts too.
        The stored count never goes down.

        Later pending notices of the same custody and channel are held back to
        ``retry_at`` too, so a channel never sees a custody's notices out of order.
        """
        ...

    async def bring_forward(
        self, custody_id: str, kind: NoticeKind, at: datetime, *, channel: str | None = None
    ) -> None:
        """Make the custody's pending notices of ``kind`` (for ``channel``, if given) due at
        ``at`` if due later.

        Used to delete Slack's backup expiry notice as soon as the bot's own is out in the
        backup's channel.
        (``close_custody`` does the same for it, and cancels a backup not yet scheduled.)
        """
        ...

    async def mark_pending(self, notice_id: str, *, may_have_posted: bool) -> None:
        """Return an in-flight notice (left ``sending`` by a crash) to pending."""
        ...

    async def skip_notices(self, notice_ids: Collection[str], reason: str) -> None:
        """Mark notices skipped (superseded); they will never be sent."""
        ...

    async def defer_notices(self, notice_ids: Collection[str], until: datetime) -> None:
        """Pending notices that must wait (a Slack limit): not ready before ``until``.

        Attempts and errors are untouched: nothing failed. A notice already waiting
        longer keeps its later time.
        """
        ...

    async def expand_step(self, step_id: str, pages: Sequence[Notice], at: datetime) -> bool:
        """Mark a due escalation step done and store its pages, atomically.

        Returns False (storing nothing) if the step is no longer pending, for
        example because the custody was acknowledged or closed meanwhile.
        """
        ...

    async def acknowledge(
        self,
        custody_id: str,
        *,
        at: datetime,
        by: str,
        cancel_step_ids: Collection[str],
        new_notices: Sequence[Notice],
        audit: AuditEntry,
        expected_acknowledged_at: datetime | None,
    ) -> Custody:
        """Record an acknowledgement atomically, if nobody acknowledged since it was read.

        A compare-and-set: it goes ahead only while the custody's ``acknowledged_at``
        is still ``expected_acknowledged_at`` (what the caller read; None if never
        acknowledged), so of two clicks or two replicas exactly one wins.
        Cancels the custody's unsent pages and the given pending steps, stores
        the new notices (the acknowledged notice, re-planned steps) and the
        audit entry. Raises ``CustodyNotOpen`` (changing nothing) if closed, and
        ``AlreadyAcknowledged`` (changing nothing) if acknowledged meanwhile.
        """
        ...

    async def add_oncall_override(
        self, override: OncallOverrideRecord, audit: AuditEntry
    ) -> None: ...

    async def oncall_overrides(self, schedule_id: str, now: datetime) -> list[OncallOverrideRecord]:
        """Overrides of a schedule that have not ended by ``now``, earliest first."""
        ...

    async def oncall_override_by_id(
        self, override_id: int, now: datetime
    ) -> OncallOverrideRecord | None:
        """The override with this number, if it has not ended by ``now``."""
        ...

    async def end_oncall_override(self, override_id: int, at: datetime, audit: AuditEntry) -> bool:
        """End an override at ``at`` (it stays on record), with the audit entry, atomically.

        False (changing nothing) if it had ended already, or never existed.
        """
        ...

    async def oldest_overdue_due_at(self, now: datetime) -> datetime | None:
        """Due time of the oldest unsent (pending or sending) notice due by ``now`` (lag).

        Notices waiting for a retry count: a notice Slack keeps refusing is overdue.
        Slack-side backups (scheduling and deleting them) do not: they may wait for
        Slack's 30-per-5-minutes pacing by design, and nobody sees them unless the
        bot is dead; the bot's own expiry notice is what counts.
        """
        ...
