"""The storage seam for certification reminders: each owed once per officer and expiry date.

Part of the store (``CustodyStore.certifications``): ``bot.services.certification_reminders``
plans a reminder here before it sends it, and records it sent after, so a restart
neither drops nor doubles one. The store itself refuses a second reminder for the same
officer and expiry date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from bot.core.certification_plan import CertificationReminder, ReminderKey


class ReminderState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed: the post may be in Slack (a crash, a timeout)
    SENT = "sent"
    SKIPPED = "skipped"  # moot before it went out: the officer's row changed or left


@dataclass(frozen=True)
class ReminderRecord:
    """A planned reminder and what became of it."""

    user_id: str
    expires_on: date
    facility_id: str
    channel: str
    due_at: datetime
    state: ReminderState = ReminderState.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    attempted_at: datetime | None = None
    sent_at: datetime | None = None
    message_ts: str | None = None
    last_error: str | None = None
    # An earlier attempt may have reached Slack: look in the channel before posting again.
    may_have_posted: bool = False

    @property
    def reminder(self) -> CertificationReminder:
        return CertificationReminder(
            self.user_id, self.expires_on, self.facility_id, self.channel, self.due_at
        )

    def ready_at(self) -> datetime:
        """When it may next be tried: its due time, or its retry time if later."""
        return max(self.due_at, self.next_attempt_at or self.due_at)


class CertificationLedger(Protocol):
    async def add(self, reminders: Sequence[CertificationReminder]) -> list[CertificationReminder]:
        """Store the reminders not stored before (by officer and expiry date); the new ones."""
        ...

    async def planned(self) -> set[ReminderKey]:
        """The (officer, expiry date) of every reminder ever stored, sent or not."""
        ...

    async def unsent(self) -> list[ReminderRecord]:
        """Reminders neither sent nor skipped, soonest due first."""
        ...

    async def mark_skipped(self, reminder_id: str, reason: str) -> None:
        """The reminder will not go out (``reason``): its certification is no longer on file."""
        ...

    async def mark_sending(self, reminder_id: str, at: datetime) -> bool:
        """Claim a reminder for an attempt at ``at``; False if it was sent meanwhile."""
        ...

    async def mark_sent(self, reminder_id: str, at: datetime, message_ts: str | None) -> None:
        """Record the reminder sent (idempotent)."""
        ...

    async def mark_failed(
        self, reminder_id: str, *, error: str, retry_at: datetime, may_have_posted: bool
    ) -> None:
        """Record a failed attempt: tried again at ``retry_at``, looked for first if it may
        have posted (an earlier attempt's doubt is kept until it is sent)."""
        ...


class HasCertificationLedger(Protocol):
    """A store that keeps certification reminders in its own database (``CustodyStore``)."""

    @property
    def certifications(self) -> CertificationLedger: ...
