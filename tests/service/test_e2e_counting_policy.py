"""Counting policies through the real HTTP endpoint and a real SQLite file, across a restart.

A custody keeps the deadline, and the rule, it was logged with: a config that changes the
facility's policy applies to custodies logged after it, and moves an open one only when
someone counts it again on purpose (``/wso correct BOOKING policy``), which is audited.

The clock reads Sat 2026-11-28 14:00 CST. Under ``elapsed-48h`` an arrest then ends Mon
11-30 14:00 CST. Under ``48h-excluding-weekends-holidays`` (US) Saturday and Sunday do
not count: the clock starts Mon 00:00 and 48 hours run out as Tuesday ends, Wed 12-02
00:00 CST.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.app import WsoService
from bot.config import parse_config
from bot.core.model import AuditEntry, CountingRule, Custody, Source
from bot.core.policy import PolicyStamp
from bot.services.clock import FakeClock
from tests.conftest import ICE, JAIL, OFFICER, START, StartService, config_document
from tests.fakes.notices import kinds
from tests.fakes.signed_requests import wso_payload as payload
from tests.fakes.slack import FakeSlack
from tests.fakes.waiting import settle

ELAPSED_DEADLINE = START + timedelta(hours=48)  # Mon 11-30 14:00 CST
EXCLUDING_DEADLINE = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # Wed 12-02 00:00 CST
EXCLUDING_CONFIG = parse_config(
    config_document(policy="48h-excluding-weekends-holidays", holidays="US"), source="test"
)
ELAPSED_WORDS = "48 elapsed hours (rule `elapsed-48h` v1)"
EXCLUDING_WORDS = (
    "48 hours not counting Saturdays, Sundays or US holidays "
    "(rule `48h-excluding-weekends-holidays` v1)"
)


async def booking(service: WsoService, number: str) -> Custody:
    [custody] = await service.store.find_custodies(number)
    return custody


async def corrections(service: WsoService, custody: Custody) -> list[AuditEntry]:
    trail = await service.store.audit_trail(custody.id)
    return [event for event in trail if event.action == "custody_corrected"]


async def test_a_config_change_applies_to_new_custodies_only(
    start_service: StartService, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    first, slack = await start_service()
    receipt = await slack.command("arrest B-1")
    assert "Mon Nov 30, 14:00 CST" in receipt.text
    assert f"Deadline counted as {ELAPSED_WORDS}." in receipt.text
    await fake_slack.wait_for_posts(2)
    await first.stop()

    second, slack = await start_service(config=EXCLUDING_CONFIG)  # counsel chose 8 CFR style
    receipt = await slack.command("arrest B-2")

    assert "Wed Dec 2, 00:00 CST" in receipt.text
    assert f"Deadline counted as {EXCLUDING_WORDS}." in receipt.text
    old, new = await booking(second, "B-1"), await booking(second, "B-2")
    assert (old.deadline, PolicyStamp.of(old)) == (ELAPSED_DEADLINE, PolicyStamp())
    assert new.deadline == EXCLUDING_DEADLINE
    assert PolicyStamp.of(new) == PolicyStamp(CountingRule.EXCLUDING_WEEKENDS_HOLIDAYS, 1, 48, "US")
    status = await slack.command("status B-1")
    assert f"Counted as {ELAPSED_WORDS}." in status.text
    [logged] = (await second.store.audit_trail(new.id))[:1]
    assert logged.after["counting_rule"] == "48h-excluding-weekends-holidays"
    assert (logged.after["counting_rule_version"], logged.after["holiday_region"]) == (1, "US")
    assert logged.after["counting_hours"] == 48
    assert str(logged.detail["holidays_source"]).startswith("holidays 0.")
    await fake_slack.wait_for_posts(4)
    card = fake_slack.posts(JAIL)[-1]
    assert payload(card)["counting_rule"] == "48h-excluding-weekends-holidays"
    assert payload(card)["counting_rule_version"] == 1
    assert EXCLUDING_WORDS in str(card["blocks"][-1])  # the card's context line

    # The old custody still expires at its own deadline, the new one does not.
    clock.set(ELAPSED_DEADLINE)
    await fake_slack.wait_for(lambda: "expired" in kinds(fake_slack, JAIL))
    await settle(second)
    expired = [p for p in fake_slack.posts(JAIL) if payload(p)["kind"] == "expired"]
    assert [payload(p)["booking"] for p in expired] == ["B-1"]


async def test_counting_a_custody_again_under_the_current_policy_is_audited(
    start_service: StartService, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    first, slack = await start_service()
    await slack.command("arrest B-1")
    await fake_slack.wait_for_posts(2)
    await first.stop()
    service, slack = await start_service(config=EXCLUDING_CONFIG)
    clock.set(START + timedelta(hours=1))

    reply = await slack.command("correct B-1 policy")

    assert "Counted again" in reply.text
    assert "New deadline *Wed Dec 2, 00:00 CST* (was Mon Nov 30, 14:00 CST)" in reply.text
    assert f"counted as {EXCLUDING_WORDS} (was {ELAPSED_WORDS})" in reply.text
    custody = await booking(service, "B-1")
    assert (custody.arrested_at, custody.corrected_from) == (START, None)
    assert custody.deadline == EXCLUDING_DEADLINE
    assert PolicyStamp.of(custody).rule is CountingRule.EXCLUDING_WEEKENDS_HOLIDAYS
    await fake_slack.wait_for(lambda: "corrected" in kinds(fake_slack, ICE))
    for channel in (JAIL, ICE):
        told = next(p for p in fake_slack.posts(channel) if payload(p)["kind"] == "corrected")
        assert "Deadline counted again" in told["text"]
        assert "(was `elapsed-48h v1`)" in told["text"]
        assert payload(told)["previous_deadline"] == "2026-11-30T20:00:00+00:00"
        assert payload(told)["counting_rule"] == "48h-excluding-weekends-holidays"
    [corrected] = await corrections(service, custody)
    # Through the audit chain's Origin: who, from where, and which Slack request.
    assert (corrected.actor, corrected.source, corrected.request_id) == (
        OFFICER,
        Source.SLASH_COMMAND,
        "1.2.abc",
    )
    assert corrected.before == {
        "arrested_at": "2026-11-28T20:00:00.000000Z",
        "deadline": "2026-11-30T20:00:00.000000Z",
        "policy": "elapsed-48h v1",
    }
    assert corrected.after == {
        "arrested_at": "2026-11-28T20:00:00.000000Z",
        "deadline": "2026-12-02T06:00:00.000000Z",
        "policy": "48h-excluding-weekends-holidays v1, holidays US",
    }
    assert str(corrected.detail["holidays_source"]).startswith("holidays 0.")

    again = await slack.command("correct B-1 policy")  # nothing left to count differently
    assert "already counted under the facility's rule" in again.text
    assert "Nothing was changed" in again.text
    assert len(await corrections(service, custody)) == 1

    clock.set(ELAPSED_DEADLINE)  # the old deadline passes quietly: the plan moved with it
    await settle(service)
    assert "expired" not in kinds(fake_slack, JAIL)
    clock.set(EXCLUDING_DEADLINE)
    await fake_slack.wait_for(lambda: "expired" in kinds(fake_slack, JAIL))
