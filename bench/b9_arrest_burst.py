"""B9: 200 signed ``/wso arrest`` sent at once, each on its own new connection.

Ten facilities (each with its own jail and ICE channel and one escalation level; the
officer ``U0BENCH`` is allowed in each), twenty arrests into each jail channel, all
let go at the same moment from this process (core 1) at a fresh ``wso-bot serve`` on
core 0, with the fake Slack on core 1. As the first arrests are stored, the bot starts
posting their ``logged`` notices (paced per channel): the acks of the later ones
compete with that. Every ack is timed at the client, from opening its connection to
reading the whole answer: Slack's 3 s start when it sends. Goal: p99 ≤ 1 s.

For reference, the same burst first goes to the floor (``bench.floor_app``), a fresh
process on the same core: what Slack Bolt and one SQLite insert per arrest take.
The burst is the same with ``--quick``; only the number of runs differs.
"""

from __future__ import annotations

import math

from bench.arrest_load import BurstAnswer, burst, new_booking_prefix, signed_arrest
from bench.common import (
    JAIL,
    SERGEANT,
    BotProcess,
    FakeSlackProcess,
    RunResult,
    at_most,
    end_run,
    facilities_toml,
    workdir,
)
from bench.figures import percentile
from bench.floor_process import FloorProcess

NAME = "B9"
TITLE = "a burst of 200 arrests at once, 10 facilities"
DEFAULT_RUNS = 5
# A burst lasts a second or two: too short for a profile that says much.
PROFILES = False
ARRESTS = 200
FACILITIES = 10
ACK_P99_GOAL_MS = 1000
SLACK_ACK_LIMIT_MS = 3000


def burst_requests(port: int) -> list[bytes]:
    """The burst's signed requests, every facility's jail channel in turn; all new bookings."""
    prefix = new_booking_prefix("Z")
    return [
        signed_arrest(port, f"{prefix}-{number}", f"{JAIL}{number % FACILITIES:03d}")
        for number in range(ARRESTS)
    ]


async def run(quick: bool) -> RunResult:
    result = RunResult()
    floor_answers = await _floor_burst()
    with workdir("b8") as tmp:
        config = tmp / "wso.toml"
        config.write_text(facilities_toml(FACILITIES, escalation=[(SERGEANT + "{n}", "0s")]))
        fake = FakeSlackProcess(tmp)
        bot: BotProcess | None = None
        try:
            bot = BotProcess(tmp, config, tmp / "wso.db", fake.api_url)
            await bot.wait_healthy()
            answers = await burst(bot.port, burst_requests(bot.port))
            await fake.poll_posts()
            last_ack = max(answer.answered_at for answer in answers)
            logged_before = sum(
                1 for row in fake.rows if row[1] == "logged" and float(row[3]) <= last_ack
            )
            bot.stop()
        finally:
            await end_run(bot, fake)
    _report(result, "floor", floor_answers, goal=False)
    _report(result, "bot", answers, goal=True)
    result.add("bot: logged notices posted before its last ack", logged_before)
    return result


async def _floor_burst() -> list[BurstAnswer]:
    with workdir("b8-floor") as tmp:
        floor = FloorProcess(tmp, tmp / "floor.db")
        try:
            await floor.wait_healthy()
            return await burst(floor.port, burst_requests(floor.port))
        finally:
            floor.stop()


def _report(result: RunResult, server: str, answers: list[BurstAnswer], *, goal: bool) -> None:
    acked = [answer.seconds * 1000 for answer in answers if answer.error is None]
    errors: dict[str, int] = {}
    for answer in answers:
        if answer.error is not None:
            errors[answer.error] = errors.get(answer.error, 0) + 1
    result.add(f"{server}: ack p50", percentile(acked, 50), "ms")
    result.add(
        f"{server}: ack p99",
        percentile(acked, 99),
        "ms",
        at_most(ACK_P99_GOAL_MS) if goal else None,
    )
    result.add(f"{server}: ack max", max(acked, default=math.nan), "ms")
    result.add(
        f"{server}: acks later than Slack's 3 s",
        sum(1 for ms in acked if ms > SLACK_ACK_LIMIT_MS),
    )
    result.add(f"{server}: errors (of {len(answers)})", sum(errors.values()), "", at_most(0, "0"))
    if errors:
        result.note(f"B9 {server} errors by kind: {errors}")
