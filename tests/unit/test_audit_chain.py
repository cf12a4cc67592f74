"""bot.core.audit_chain: the canonical form, sealing, and a walk that names the first break."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.core.audit_chain import (
    GENESIS,
    PERSONAL_FIELDS,
    StoredEvent,
    canonical,
    entry_of,
    seal,
    utc_text,
    verify_chain,
)
from bot.core.model import AuditEntry, Source
from bot.services.audit_records import export_line

NOW = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"b": 1, "a": [True, None]}, '{"a":[true,null],"b":1}'),  # keys sorted, no spaces
        ({"note": "café 🚓"}, '{"note":"café 🚓"}'),  # non-ASCII as itself
        ({"z": {"y": "x", "a": ""}}, '{"z":{"a":"","y":"x"}}'),  # nested keys sorted too
        ({"quote": 'he said "no"\n'}, '{"quote":"he said \\"no\\"\\n"}'),
    ],
)
def test_the_canonical_form(value: object, text: str) -> None:
    assert canonical(value) == text


@pytest.mark.parametrize(
    ("instant", "text"),
    [
        (NOW, "2026-11-28T20:00:00.000000Z"),
        (NOW.astimezone(timezone(timedelta(hours=-6))), "2026-11-28T20:00:00.000000Z"),
        (NOW + timedelta(microseconds=7), "2026-11-28T20:00:00.000007Z"),
        (datetime(999, 1, 2, tzinfo=UTC), "0999-01-02T00:00:00.000000Z"),  # fixed width
    ],
)
def test_times_are_written_as_fixed_width_utc(instant: datetime, text: str) -> None:
    assert utc_text(instant) == text


def test_a_naive_time_has_no_canonical_form() -> None:
    with pytest.raises(ValueError, match="naive"):
        utc_text(datetime(2026, 11, 28, 20, 0))


def entry(action: str = "note_added", **detail: object) -> AuditEntry:
    return AuditEntry(
        NOW,
        "U0AAA",
        action,
        "c_1",
        {"booking": "B-1", **detail},  # type: ignore[dict-item]
        Source.SLASH_COMMAND,
        "county-jail",
        request_id="1.2.abc",
    )


def chain(*entries: AuditEntry) -> list[StoredEvent]:
    """The entries sealed in order, as the store reads them back."""
    stored: list[StoredEvent] = []
    prev = GENESIS
    for seq, each in enumerate(entries, 1):
        sealed = seal(each, seq, prev, f"{seq:032x}")
        stored.append(
            StoredEvent(sealed.body, sealed.prev_hash, sealed.hash, sealed.personal, sealed.salt)
        )
        prev = sealed.hash
    return stored


def test_the_hash_is_sha256_of_the_previous_hash_and_the_canonical_body() -> None:
    sealed = seal(entry(), 1, GENESIS, "00" * 16)
    expected = hashlib.sha256((GENESIS + canonical(sealed.body)).encode("utf-8")).hexdigest()
    assert sealed.hash == expected
    assert sealed.body == {
        "seq": 1,
        "at": "2026-11-28T20:00:00.000000Z",
        "actor": "U0AAA",
        "source": "slash_command",
        "action": "note_added",
        "facility": "county-jail",
        "custody": "c_1",
        "request_id": "1.2.abc",
        "before": {},
        "after": {},
        "detail": {"booking": "B-1"},
        "personal_digest": None,
    }
    assert (sealed.personal, sealed.salt) == (None, None)


def test_personal_values_are_hashed_only_through_their_salted_digest() -> None:
    sealed = seal(entry(note="bail posted"), 1, GENESIS, "5a" * 16)
    assert sealed.body["detail"] == {"booking": "B-1"}
    assert sealed.personal == {"detail": {"note": "bail posted"}}
    digest = hashlib.sha256(("5a" * 16 + '{"detail":{"note":"bail posted"}}').encode()).hexdigest()
    assert sealed.body["personal_digest"] == digest
    assert "bail posted" not in canonical(sealed.body)
    other_salt = seal(entry(note="bail posted"), 1, GENESIS, "5b" * 16)
    assert other_salt.body["personal_digest"] != digest  # the same words, another digest


def test_every_personal_field_is_split_from_every_section() -> None:
    values = {name: f"{name} value" for name in PERSONAL_FIELDS}
    personal_entry = replace(entry(**values), before=dict(values), after={"state": "released"})
    sealed = seal(personal_entry, 1, GENESIS, "00" * 16)
    assert sealed.body["before"] == {}
    assert sealed.body["after"] == {"state": "released"}
    assert sealed.personal == {"before": values, "detail": values}
    assert entry_of(sealed.body, sealed.personal) == personal_entry  # read back whole


@pytest.mark.parametrize("key", ["a_number", "anumber"])
def test_an_a_number_is_never_hashed_in_clear_nor_exported_without_personal(key: str) -> None:
    [stored] = chain(replace(entry("arrest_logged"), after={key: "A098765432", "state": "open"}))
    assert stored.body["after"] == {"state": "open"}
    assert stored.personal == {"after": {key: "A098765432"}}
    assert "098765432" not in canonical(stored.body)
    assert "098765432" not in export_line(stored, with_personal=False)
    assert "A098765432" in export_line(stored, with_personal=True)  # asked for: the operator's


def test_an_intact_chain_verifies_and_reports_its_tip() -> None:
    events = chain(entry(), entry(note="x"), entry("custody_released"))
    report = verify_chain(events)
    assert report.intact
    assert (report.count, report.tip) == (3, events[-1].hash)


def test_an_empty_chain_is_intact() -> None:
    assert verify_chain([]) == verify_chain(()) == verify_chain(iter([]))
    assert verify_chain([]).count == 0 and verify_chain([]).tip == GENESIS


def test_a_purged_personal_part_still_verifies_and_reads_back_erased() -> None:
    events = chain(entry(), entry(note="says he was born in El Paso"), entry())
    purged = [replace(e, personal=None, salt=None) for e in events]
    assert verify_chain(purged).intact
    read = entry_of(purged[1].body, None)
    assert read.erased and "note" not in read.detail


def body_with(event: StoredEvent, **changes: object) -> StoredEvent:
    return replace(event, body={**event.body, **changes})


EVENTS = chain(*(entry(note=f"n{seq}") for seq in range(1, 6)))


@pytest.mark.parametrize(
    ("tampered", "seq", "words"),
    [
        pytest.param(
            [*EVENTS[:2], body_with(EVENTS[2], actor="U0EVIL"), *EVENTS[3:]],
            3,
            "does not match its hash",
            id="edited",
        ),
        pytest.param(
            [*EVENTS[:2], replace(EVENTS[2], personal={"detail": {"note": "other"}}), *EVENTS[3:]],
            3,
            "personal part does not match",
            id="personal-part-edited",
        ),
        pytest.param([*EVENTS[:2], *EVENTS[3:]], 4, "event 3 is missing", id="deleted"),
        pytest.param(EVENTS[2:], 3, "events 1-2 are missing", id="first-ones-deleted"),
        pytest.param(  # rows 3 and 4 trade places: each takes the other's number
            [*EVENTS[:2], body_with(EVENTS[3], seq=3), body_with(EVENTS[2], seq=4), EVENTS[4]],
            3,
            "does not follow event 2",
            id="reordered",
        ),
        pytest.param(
            [*EVENTS[:3], replace(EVENTS[0], body={**EVENTS[0].body, "seq": 4}), *EVENTS[3:]],
            4,
            "does not follow event 3",
            id="inserted",
        ),
        pytest.param([*EVENTS[:2], replace(EVENTS[2], hash=None)], 3, "no hash", id="unhashed-row"),
    ],
)
def test_the_first_broken_event_is_named(tampered: list[StoredEvent], seq: int, words: str) -> None:
    report = verify_chain(tampered)
    assert not report.intact
    assert report.broken_seq == seq
    assert report.problem is not None and f"event {seq}" in report.problem
    assert words in report.problem
