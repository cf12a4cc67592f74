"""The audit log's hash chain: the canonical form, sealing an event, verifying a chain. Pure.

Each event is hashed with the hash of the one before it, so that editing, deleting,
inserting or reordering a stored event breaks the chain at that event
(README, "Audit chain", states the form exactly; an export verifies without the bot):

* ``body``: the event's public fields, ``seq`` (its number) and ``personal_digest``;
* ``canonical(value)``: JSON with keys sorted, no spaces (``","`` and ``":"``), non-ASCII
  as itself, encoded as UTF-8; times are UTC text ``YYYY-MM-DDTHH:MM:SS.ffffffZ``;
* ``hash = sha256(prev_hash + canonical(body))``, hex, where ``prev_hash`` is the hash of
  the event before (64 zeros before the first).

Personal values (``PERSONAL_FIELDS``, by key, in ``before``, ``after`` and ``detail``) are
not in the body: they are kept apart with a random salt, and the body holds
``personal_digest = sha256(salt + canonical(personal))``. A purge erases the personal
part and its salt; the digest stays, so the chain still verifies. The salt keeps a
short value (a reason such as "bail") from being found again by hashing guesses.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.model import AuditEntry, AuditValue, Source

GENESIS = "0" * 64

# Values that say something about a person rather than about the custody's record: kept
# out of the hash (only their salted digest is in it) and erased by ``wso-bot purge``.
# One key per line; a custody column of the same name is emptied by the purge too.
PERSONAL_FIELDS = frozenset(
    {
        "close_reason",  # a release's or void's reason, as typed
        "reason",  # the same, in events written before the chain (schema version 7 or before)
        "dispute_note",  # what the person claimed (citizenship, identity)
        "note",  # a note added to a custody; a dispute's note in a notice
        "notes",  # the arrest form's notes
        "text",  # a note, in events written before the chain, and in a note's notice
        "received_by",  # the receiving ICE officer's name or badge
        "name",
        "a_number",  # the A-number (a custody column; never hashed in clear, never exported)
        "anumber",  # the same, as the arrest command's option spells it
    }
)
# The parts of an event that hold values, in the order they are written.
SECTIONS = ("before", "after", "detail")
_NO_OFFSET = timedelta(0)


def utc_text(value: datetime) -> str:
    """A UTC instant as the canonical form writes it: ``2026-11-28T20:00:00.000000Z``."""
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("naive datetimes have no canonical form")
    utc = value if offset == _NO_OFFSET else value.astimezone(UTC)
    # isoformat zero-pads the year (unlike strftime's %Y on some platforms): the store's
    # sort order needs the fixed width. ~2x faster than strftime; ~40 calls per arrest.
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def canonical(value: Any) -> str:
    """The canonical JSON text of ``value`` (hash its UTF-8 bytes)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    """The hash of an event whose body is ``body``, following the event hashed ``prev_hash``."""
    return sha256_hex(prev_hash + canonical(body))


def personal_digest(salt: str, personal: Mapping[str, Any]) -> str:
    return sha256_hex(salt + canonical(personal))


Values = dict[str, AuditValue]


def split_personal(entry: AuditEntry) -> tuple[dict[str, Values], dict[str, Values]]:
    """(public, personal) values of ``entry`` by section; sections left empty are omitted
    from ``personal`` only (the body always has all three)."""
    public: dict[str, Values] = {}
    personal: dict[str, Values] = {}
    for section in SECTIONS:
        values: Values = getattr(entry, section)
        public[section] = {k: v for k, v in values.items() if k not in PERSONAL_FIELDS}
        mine = {k: v for k, v in values.items() if k in PERSONAL_FIELDS}
        if mine:
            personal[section] = mine
    return public, personal


@dataclass(frozen=True)
class SealedEvent:
    """An event ready to store: its body (what is hashed), its personal part and salt
    (None when it has none), and the two hashes that chain it."""

    body: dict[str, Any]
    personal: dict[str, Values] | None
    salt: str | None
    prev_hash: str
    hash: str

    @property
    def seq(self) -> int:
        return int(self.body["seq"])


def event_body(
    entry: AuditEntry, seq: int, public: Mapping[str, Values], digest: str | None
) -> dict[str, Any]:
    """The hashed fields of an event (the README lists them)."""
    return {
        "seq": seq,
        "at": utc_text(entry.at),
        "actor": entry.actor,
        "source": entry.source.value if entry.source is not None else None,
        "action": entry.action,
        "facility": entry.facility_id,
        "custody": entry.custody_id,
        "request_id": entry.request_id,
        **{section: dict(public[section]) for section in SECTIONS},
        "personal_digest": digest,
    }


def seal(entry: AuditEntry, seq: int, prev_hash: str, salt: str) -> SealedEvent:
    """``entry`` as event number ``seq`` after the event hashed ``prev_hash``.

    ``salt`` (random, from the caller: the core draws nothing) is used only if the
    entry has personal values.
    """
    public, personal = split_personal(entry)
    digest = personal_digest(salt, personal) if personal else None
    body = event_body(entry, seq, public, digest)
    return SealedEvent(
        body=body,
        personal=personal or None,
        salt=salt if personal else None,
        prev_hash=prev_hash,
        hash=chain_hash(prev_hash, body),
    )


def entry_of(body: Mapping[str, Any], personal: Mapping[str, Values] | None) -> AuditEntry:
    """The entry a stored event holds, its personal values back in place (if not erased)."""
    sections = {s: {**body[s], **(personal or {}).get(s, {})} for s in SECTIONS}
    return AuditEntry(
        at=datetime.strptime(body["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
        actor=body["actor"],
        action=body["action"],
        custody_id=body["custody"],
        detail=sections["detail"],
        source=Source(body["source"]) if body["source"] is not None else None,
        facility_id=body["facility"],
        before=sections["before"],
        after=sections["after"],
        request_id=body["request_id"],
        erased=body["personal_digest"] is not None and personal is None,
    )


# --- verifying -------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredEvent:
    """One event as read back: its body (rebuilt from what is stored), its hashes, and its
    personal part and salt (None: it had none, or a purge erased them)."""

    body: dict[str, Any]
    prev_hash: str | None
    hash: str | None
    personal: dict[str, Any] | None = None
    salt: str | None = None

    @property
    def seq(self) -> int:
        return int(self.body["seq"])


@dataclass(frozen=True)
class ChainReport:
    """What a walk along the chain found: how many events held, the last good hash, and
    the first broken event (its number and why), if any."""

    count: int
    tip: str
    broken_seq: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify_chain(events: Iterable[StoredEvent]) -> ChainReport:
    """Walk ``events`` in stored order; stop at the first one that breaks the chain."""
    prev_hash, prev_seq, count = GENESIS, 0, 0
    for event in events:
        problem = _break_at(event, prev_hash, prev_seq)
        if problem is not None:
            return ChainReport(count, prev_hash, event.seq, problem)
        prev_hash, prev_seq, count = str(event.hash), event.seq, count + 1
    return ChainReport(count, prev_hash)


def _break_at(event: StoredEvent, prev_hash: str, prev_seq: int) -> str | None:
    """Why ``event`` cannot follow the event ``prev_seq`` (hashed ``prev_hash``), or None."""
    seq = event.seq
    if event.hash is None or event.prev_hash is None:
        return f"event {seq} has no hash: it was written outside the bot (inserted)"
    if event.prev_hash != prev_hash:
        if seq > prev_seq + 1:
            missing = _numbers(prev_seq + 1, seq - 1)
            return f"event {seq}: {missing} missing before it (deleted)"
        after = f"event {prev_seq}" if prev_seq else "the start of the chain"
        return (
            f"event {seq} does not follow {after} (its prev_hash is not that event's hash): "
            "events were inserted, deleted or reordered here"
        )
    if chain_hash(prev_hash, event.body) != event.hash:
        return f"event {seq} does not match its hash: it was edited, or written outside the bot"
    if event.personal is not None and not _personal_matches(event):
        return f"event {seq}'s personal part does not match its digest: it was edited"
    return None


def _personal_matches(event: StoredEvent) -> bool:
    """The personal part (still there) and its salt give the digest the body holds."""
    assert event.personal is not None
    digest = event.body.get("personal_digest")
    return event.salt is not None and digest == personal_digest(event.salt, event.personal)


def _numbers(first: int, last: int) -> str:
    return f"event {first} is" if first == last else f"events {first}-{last} are"
