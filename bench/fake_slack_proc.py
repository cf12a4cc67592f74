"""The test suite's fake Slack, as a process of its own, fit for load.

``python -m bench.fake_slack_proc [--latency S]`` binds a random port on
127.0.0.1, prints ``PORT <n>`` and serves until SIGTERM/SIGINT.

It is ``tests.fakes.slack.FakeSlack`` as it is, through its public options:

* ``keep_calls``: the call log keeps the last ``RECENT_CALLS`` calls only;
* ``on_call``: every finished call is counted by method (failed ones and
  outage answers apart), and every successful ``chat.postMessage`` is kept as
  one compact row — notice id, kind, channel, arrival time (wall clock, taken
  when the request reached the fake, before its simulated latency), ts;
* ``add_control_route``: the benchmark's own methods, below.

Extra methods (GET ``/api/bench.<name>``): ``bench.posts?since=N`` (rows from
index N), ``bench.stats``, ``bench.latency?value=S``, and for outages:

* ``bench.outage?channel=C…&seconds=S&shape=plain_503,html_502,…`` — every call
  naming the channel (posts, history reads, scheduled messages; every method,
  or ``methods=a,b``) gets the fake's ``outage()`` answer for ``S`` seconds;
  several shapes (names of ``ANSWER_SHAPES``) take equal turns, in order.
  Outage answers are counted in ``bench.stats`` as ``outage:<method>``, and the
  first one's time (wall clock) is ``first_outage_answer_at``;
* ``bench.history?channel=C…`` — what the channel's history holds:
  [notice_id, kind, ts] of each top-level message (None for a message without
  the bot's metadata), posts that landed while their answer failed included;
* ``bench.scheduled?channel=C…`` — the scheduled messages Slack holds for it.

``bench.*`` calls are the harness's own: never recorded, delayed or failed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import signal
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from tests.fakes.slack import ANSWER_SHAPES, FakeSlack, RecordedCall

RECENT_CALLS = 2000


def _event(message: Mapping[str, Any]) -> dict[str, Any]:
    """The bot's ``wso_custody`` metadata payload of a message or post, or ``{}``."""
    metadata = message.get("metadata")
    event = metadata.get("event_payload") if isinstance(metadata, dict) else None
    return event if isinstance(event, dict) else {}


class CallLedger:
    """What the benchmark reads back: calls by method, and one row per post."""

    def __init__(self) -> None:
        # [notice_id, kind, channel, arrived_wall, ts]
        self.post_rows: list[list[Any]] = []
        self.counts: collections.Counter[str] = collections.Counter()
        self.first_outage_answer_at: float | None = None  # wall clock
        self._wall_offset = time.time() - time.monotonic()

    def record(self, call: RecordedCall) -> None:
        if call.answered_by is not None:
            self.counts["outage:" + call.method] += 1
            if self.first_outage_answer_at is None:
                self.first_outage_answer_at = time.time()
            return
        self.counts[call.method] += 1
        if not call.ok:
            self.counts["failed:" + call.method] += 1
        elif call.method == "chat.postMessage":
            event = _event(call.payload)
            self.post_rows.append(
                [
                    event.get("notice_id"),
                    event.get("kind"),
                    call.response.get("channel"),
                    round(call.at + self._wall_offset, 6),
                    call.response.get("ts"),
                ]
            )


def _answer(read: Callable[[Mapping[str, str]], dict[str, Any]]) -> Any:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(read(request.query))

    return handler


def bench_fake(latency: float) -> tuple[FakeSlack, CallLedger]:
    fake = FakeSlack(latency=latency, keep_calls=RECENT_CALLS)
    ledger = CallLedger()
    fake.on_call = ledger.record

    def posts(query: Mapping[str, str]) -> dict[str, Any]:
        since = int(query.get("since") or 0)
        rows = ledger.post_rows[since:]
        return {"ok": True, "posts": rows, "next": since + len(rows)}

    def stats(query: Mapping[str, str]) -> dict[str, Any]:
        return {
            "ok": True,
            "counts": dict(ledger.counts),
            "posts": len(ledger.post_rows),
            "first_outage_answer_at": ledger.first_outage_answer_at,
        }

    def set_latency(query: Mapping[str, str]) -> dict[str, Any]:
        fake.latency = float(query.get("value") or 0.0)
        return {"ok": True, "latency": fake.latency}

    def history(query: Mapping[str, str]) -> dict[str, Any]:
        rows = [
            [_event(m).get("notice_id"), _event(m).get("kind"), m["ts"]]
            for m in fake.messages(str(query.get("channel") or ""))
            if m.get("thread_ts") in (None, m["ts"])
        ]
        return {"ok": True, "messages": rows}

    def scheduled(query: Mapping[str, str]) -> dict[str, Any]:
        return {"ok": True, "scheduled": fake.scheduled(query.get("channel") or None)}

    routes = {
        "posts": posts,
        "stats": stats,
        "latency": set_latency,
        "outage": lambda query: start_outage(fake, query),
        "history": history,
        "scheduled": scheduled,
    }
    for name, read in routes.items():
        fake.add_control_route("GET", f"/api/bench.{name}", _answer(read))
    return fake, ledger


def start_outage(fake: FakeSlack, query: Mapping[str, str]) -> dict[str, Any]:
    """Shapes in turn: the first added last, as later outages are checked first."""
    channel = query.get("channel") or None
    seconds = float(query.get("seconds") or 60.0)
    shapes = [s for s in (query.get("shape") or "plain_503").split(",") if s]
    unknown = [s for s in shapes if s not in ANSWER_SHAPES]
    if unknown:
        return {"ok": False, "error": f"unknown_shape:{','.join(unknown)}"}
    methods = [m for m in (query.get("methods") or "").split(",") if m] or None
    turn = seconds / len(shapes)
    started = fake.wall_time()
    turns = []
    for index in reversed(range(len(shapes))):
        fake.outage(
            ANSWER_SHAPES[shapes[index]],
            methods=methods,
            channel=channel,
            seconds=turn * (index + 1),
        )
        turns.append([shapes[index], started + turn * index, started + turn * (index + 1)])
    return {"ok": True, "started": started, "turns": sorted(turns, key=lambda t: t[1])}


async def _serve(latency: float) -> None:
    fake, _ = bench_fake(latency)
    await fake.start()
    print(f"PORT {fake.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fake_slack_proc")
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.latency))
    return 0


if __name__ == "__main__":
    sys.exit(main())
