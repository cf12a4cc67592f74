"""Domain values of the custody clock.

Plain frozen dataclasses: no Slack, HTTP or database imports. Every datetime
held here is an aware UTC instant; naive or non-UTC values are rejected at
construction so that a local wall-clock time can never leak into the maths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum

from bot.core.a_number import is_stored_a_number
from bot.core.targets import Target, TargetKind, target_kind

CUSTODY_WINDOW = timedelta(hours=48)


class CustodyState(StrEnum):
    OPEN = "open"
    TRANSFERRED = "transferred"
    RELEASED = "released"
    IGSA = "igsa"  # held under an Intergovernmental Service Agreement: no 48-hour window
    VOIDED = "voided"  # the warrant was cancelled, or the entry was made in error


class WarrantForm(StrEnum):
    I_200 = "I-200"
    I_205 = "I-205"


class CountingRule(StrEnum):
    """How the custody window is counted (``bot.core.policy``); recorded with each custody."""

    # The WSO rule (ICE's statement): elapsed hours from the arrest, nothing excluded.
    ELAPSED_48H = "elapsed-48h"
    # 8 CFR 287.7(d) style: Saturdays, Sundays and holidays are not counted.
    EXCLUDING_WEEKENDS_HOLIDAYS = "48h-excluding-weekends-holidays"


class NoticeKind(StrEnum):
    """The ``kind`` field of the ``wso_custody`` message metadata."""

    LOGGED = "logged"
    REMINDER = "reminder"
    EXPIRED = "expired"
    TRANSFERRED = "transferred"
    RELEASED = "released"
    ESCALATION = "escalation"  # a direct-message page with an Acknowledge button
    ACKNOWLEDGED = "acknowledged"
    PAGE_STEP = "page_step"  # internal: a chain level falls due; expands into pages
    BACKUP = "backup"  # internal: ask Slack to post a plain expiry notice if the bot is dead
    BACKUP_DELETE = "backup_delete"  # internal: the bot's own expiry went out; drop the backup
    DELIVERY_PROBLEM = "delivery_problem"  # a notice is stuck on an error a person must fix
    IGSA = "igsa"  # closed: held under an IGSA
    VOIDED = "voided"  # closed: the entry is void (warrant cancelled, entered in error)
    CORRECTED = "corrected"  # the arrest time was corrected; the deadline moved
    DISPUTED = "disputed"  # someone raised a citizenship or identity claim
    NOTE = "note"  # a note an officer added to the custody's thread
    CARD_UPDATE = "card_update"  # internal: refresh the custody card in place (chat.update)
    PAGE_UPDATE = "page_update"  # internal: a page DM says who acted, its button gone


class NoticeState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


CLOSING_KINDS = frozenset(
    {NoticeKind.TRANSFERRED, NoticeKind.RELEASED, NoticeKind.IGSA, NoticeKind.VOIDED}
)
# Notices that say "act now": a send of one that hangs is cut short sooner, and retried.
URGENT_KINDS = frozenset({NoticeKind.EXPIRED, NoticeKind.ESCALATION, NoticeKind.DELIVERY_PROBLEM})


# Zones that are UTC all year. A zone that is merely at offset 0 today (Europe/London in
# winter) is not UTC: adding hours to it counts wall-clock time across its DST change.
_UTC_ZONE_KEYS = frozenset(
    {"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu", "Etc/GMT", "GMT"}
)


def require_utc(name: str, value: datetime | None) -> None:
    """Reject naive or non-UTC datetimes at the boundary of the domain."""
    if value is None or value.tzinfo is UTC:  # the common case, first: read from the store
        return
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(f"{name} must be a timezone-aware UTC datetime (got naive {value!r})")
    if offset != timedelta(0):
        raise ValueError(f"{name} must be in UTC (got offset {offset})")
    zone = value.tzinfo
    if not isinstance(zone, timezone) and getattr(zone, "key", None) not in _UTC_ZONE_KEYS:
        raise ValueError(f"{name} must be in UTC (got zone {zone}, which is not UTC all year)")


# The datetime fields of a custody (each an aware UTC instant, or None).
CUSTODY_INSTANTS = (
    "arrested_at",
    "deadline",
    "logged_at",
    "closed_at",
    "acknowledged_at",
    "disputed_at",
    "corrected_from",
    "custody_taken_at",
)


@dataclass(frozen=True)
class Custody:
    """One WSO arrest and the window ICE has to take custody."""

    id: str
    facility_id: str
    booking: str
    arrested_at: datetime
    deadline: datetime
    logged_by: str
    logged_at: datetime
    # The policy that computed ``deadline`` (``bot.core.policy``): never changed silently,
    # only by a correction. Custodies stored before these were recorded are elapsed-48h v1.
    counting_rule: CountingRule = CountingRule.ELAPSED_48H
    counting_rule_version: int = 1
    counting_hours: int = 48
    holiday_region: str | None = None  # "US", "US-TX": the holidays not counted
    warrant_form: WarrantForm | None = None
    warrant_number: str | None = None
    state: CustodyState = CustodyState.OPEN
    closed_at: datetime | None = None
    closed_by: str | None = None
    close_reason: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    # Set at logging when an escalation level has nobody on call for part of the window.
    coverage_warning: str | None = None
    # A citizenship or identity claim someone raised: a flag until the custody closes.
    disputed_at: datetime | None = None
    disputed_by: str | None = None
    dispute_note: str | None = None
    # The arrest time before the last correction (``/wso correct``).
    corrected_from: datetime | None = None
    # A transfer: the receiving ICE officer (name or badge) and when ICE took custody
    # (``closed_at`` stays when it was recorded).
    received_by: str | None = None
    custody_taken_at: datetime | None = None
    # Optional, ``A`` and 9 digits (``bot.core.a_number``): personal data, so kept out of
    # ``repr`` (and so out of any log line or error that prints a custody).
    a_number: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # Inlined for the instants already in UTC (every one read from the store): a
        # custody is built per row of a 100k-custody export.
        for name in CUSTODY_INSTANTS:
            value = getattr(self, name)
            if value is not None and value.tzinfo is not UTC:
                require_utc(name, value)
        if self.a_number is not None and not is_stored_a_number(self.a_number):
            raise ValueError("a_number must be stored as A and 9 digits")

    @property
    def is_open(self) -> bool:
        return self.state is CustodyState.OPEN


@dataclass(frozen=True)
class Notice:
    """One message the bot owes a channel, durable until it is sent.

    ``seq`` is assigned by the store on insert and orders notices of the same
    custody and channel; it is ``None`` for a notice that is only planned.
    """

    id: str
    custody_id: str
    kind: NoticeKind
    channel: str
    due_at: datetime
    lead_seconds: int | None = None
    seq: int | None = None
    state: NoticeState = NoticeState.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    attempted_at: datetime | None = None
    sent_at: datetime | None = None
    message_ts: str | None = None
    last_error: str | None = None
    may_have_posted: bool = False
    level: int | None = None  # escalation pages and steps: 1-based level of the chain
    round: int | None = None  # escalation pages and steps: 1-based run of the chain
    message_channel: str | None = None  # where Slack says it posted (a DM's D… id)
    # Facts needed at send time beyond the custody, e.g. which delivery failed and why.
    detail: dict[str, str] = field(default_factory=dict, hash=False)
    # The stored kind of ``channel`` (the store fills it on read); None for a planned notice.
    target_kind: TargetKind | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in ("due_at", "next_attempt_at", "attempted_at", "sent_at"):
            require_utc(name, getattr(self, name))

    @property
    def target(self) -> Target:
        """Where it goes, typed: the stored kind, or the codec's reading of ``channel``."""
        kind = self.target_kind if self.target_kind is not None else target_kind(self.channel)
        return Target(kind, self.channel)

    def ready_at(self) -> datetime:
        """When the dispatcher may next try this notice."""
        if self.next_attempt_at is not None and self.next_attempt_at > self.due_at:
            return self.next_attempt_at
        return self.due_at


class Source(StrEnum):
    """Where an audited change came from."""

    SLASH_COMMAND = "slash_command"
    BUTTON = "button"
    MODAL = "modal"
    SCHEDULER = "scheduler"  # the bot on its own: a notice sent, a page, a daily purge
    CLI = "cli"  # a wso-bot command run by an operator (wso-bot purge)
    STARTUP = "startup"  # the bot starting: its config loaded, its database migrated
    SIGNAL = "signal"  # an operator's signal to the running bot (SIGHUP: the roster read again)


# A value an audit event records: plain JSON scalars only (times as text).
AuditValue = str | int | bool | None


@dataclass(frozen=True)
class AuditEntry:
    """Who did what to which custody, and when (kept for the record; ``bot.core.audit``).

    ``before`` and ``after`` are the values the change moved (custody fields by their
    names); ``detail`` the facts around it. Personal values among them (by key:
    ``bot.core.audit_chain.PERSONAL_FIELDS``) are stored apart, so that a purge can
    erase them and the hash chain still verifies. ``erased``: read back after a purge.
    """

    at: datetime
    actor: str
    action: str
    custody_id: str | None = None
    detail: dict[str, AuditValue] = field(default_factory=dict)
    source: Source | None = None
    facility_id: str | None = None
    before: dict[str, AuditValue] = field(default_factory=dict)
    after: dict[str, AuditValue] = field(default_factory=dict)
    # The Slack request that asked for the change: its trigger_id (README, "Audit chain").
    request_id: str | None = None
    erased: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        require_utc("at", self.at)
