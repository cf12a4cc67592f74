"""The test suite's fake Slack, as a process of its own, fit for load.

``python -m bench.fake_slack_proc [--latency S]`` binds a random port on
127.0.0.1, prints ``PORT <n>`` and serves until SIGTERM/SIGINT.

It is ``tests.fakes.slack.FakeSlack`` with three changes that only matter
under load, and that keep its HTTP behaviour as it is:

* the call log is a bounded deque (the fake keeps every payload otherwise);
* a message is appended to channel history instead of re-sorting the whole
  history on every post (the fake's ``sort`` is O(n) per post with a Python
  key function, which makes a long run quadratic);
* every successful ``chat.postMessage`` is also kept as one compact row —
  notice id, kind, channel, arrival time (wall clock, taken when the request
  reached the fake, before its simulated latency), ts — which the benchmark
  reads with the extra method ``bench.posts``.

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

``bench.*`` calls are never answered by an outage.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.fakes.slack import ANSWER_SHAPES, FakeSlack, Outage, RecordedCall, _ts_micros

RECENT_CALLS = 2000


class LeanFakeSlack(FakeSlack):
    def __init__(self, *, latency: float = 0.0) -> None:
        super().__init__(token=None, latency=latency)
        self.calls = collections.deque(maxlen=RECENT_CALLS)  # type: ignore[assignment]
        # [notice_id, kind, channel, arrived_wall, ts]
        self.post_rows: list[list[Any]] = []
        self.counts: collections.Counter[str] = collections.Counter()
        self._wall_offset = time.time() - time.monotonic()
        self.first_outage_answer_at: float | None = None  # wall clock

    # --- recording ---------------------------------------------------------------

    def _finish(
        self,
        call: RecordedCall,
        status: int,
        body: dict[str, Any],
        *,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        if not call.method.startswith("bench."):
            self.counts[call.method] += 1
            if status != 200 or not body.get("ok"):
                self.counts["failed:" + call.method] += 1
            elif call.method == "chat.postMessage":
                metadata = call.payload.get("metadata") or {}
                payload = (
                    (metadata.get("event_payload") or {}) if isinstance(metadata, dict) else {}
                )
                self.post_rows.append(
                    [
                        payload.get("notice_id"),
                        payload.get("kind"),
                        body.get("channel"),
                        round(call.at + self._wall_offset, 6),
                        body.get("ts"),
                    ]
                )
        return super()._finish(call, status, body, headers=headers)

    def _store_message(self, channel: str, ts: str, payload: dict[str, Any]) -> dict[str, Any]:
        if payload.get("thread_ts") is not None:
            return super()._store_message(channel, ts, payload)
        message: dict[str, Any] = {
            "type": "message",
            "ts": ts,
            "user": "U0BOT",
            "bot_id": "B0BOT",
            "app_id": "A0FAKE",
            "team": "T0FAKE",
            "text": payload.get("text") or "",
        }
        for key in ("blocks", "attachments", "metadata"):
            if payload.get(key) is not None:
                message[key] = payload[key]  # parsed fresh from the request: no copy needed
        history = self._history.setdefault(channel, [])
        micros = _ts_micros(ts)
        if not history or _ts_micros(history[-1]["ts"]) <= micros:
            history.append(message)
        else:
            keys = [_ts_micros(m["ts"]) for m in history]
            history.insert(bisect.bisect_right(keys, micros), message)
        return message

    # --- outages -----------------------------------------------------------------

    def _outage_for(self, method: str, payload: dict[str, Any]) -> Outage | None:
        if method.startswith("bench."):
            return None  # the benchmark's own reads go through whatever else fails
        outage = super()._outage_for(method, payload)
        if outage is not None:
            self.counts["outage:" + method] += 1
            if self.first_outage_answer_at is None:
                self.first_outage_answer_at = time.time()
        return outage

    # --- extra methods -----------------------------------------------------------

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        handlers = super()._handlers()
        handlers.update(
            {
                "bench.posts": self._bench_posts,
                "bench.stats": self._bench_stats,
                "bench.latency": self._bench_latency,
                "bench.outage": self._bench_outage,
                "bench.history": self._bench_history,
                "bench.scheduled": self._bench_scheduled,
            }
        )
        return handlers

    def _bench_posts(self, payload: dict[str, Any]) -> dict[str, Any]:
        since = int(payload.get("since") or 0)
        rows = self.post_rows[since:]
        return {"ok": True, "posts": rows, "next": since + len(rows)}

    def _bench_stats(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "counts": dict(self.counts),
            "posts": len(self.post_rows),
            "first_outage_answer_at": self.first_outage_answer_at,
        }

    def _bench_latency(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.latency = float(payload.get("value") or 0.0)
        return {"ok": True, "latency": self.latency}

    def _bench_outage(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Shapes in turn: the first added last, as later outages are checked first."""
        channel = str(payload.get("channel") or "") or None
        seconds = float(payload.get("seconds") or 60.0)
        shapes = [s for s in str(payload.get("shape") or "plain_503").split(",") if s]
        unknown = [s for s in shapes if s not in ANSWER_SHAPES]
        if unknown:
            return {"ok": False, "error": f"unknown_shape:{','.join(unknown)}"}
        methods_text = str(payload.get("methods") or "")
        methods = [m for m in methods_text.split(",") if m] or None
        turn = seconds / len(shapes)
        started = self.wall_time()
        turns = []
        for index in reversed(range(len(shapes))):
            self.outage(
                ANSWER_SHAPES[shapes[index]],
                methods=methods,
                channel=channel,
                seconds=turn * (index + 1),
            )
            turns.append([shapes[index], started + turn * index, started + turn * (index + 1)])
        return {"ok": True, "started": started, "turns": sorted(turns, key=lambda t: t[1])}

    def _bench_history(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(str(payload.get("channel") or ""))
        rows = []
        for message in self._history.get(channel, []):
            if message.get("thread_ts") not in (None, message["ts"]):
                continue
            metadata = message.get("metadata")
            event = metadata.get("event_payload") if isinstance(metadata, dict) else None
            event = event if isinstance(event, dict) else {}
            rows.append([event.get("notice_id"), event.get("kind"), message["ts"]])
        return {"ok": True, "messages": rows}

    def _bench_scheduled(self, payload: dict[str, Any]) -> dict[str, Any]:
        channel = str(payload.get("channel") or "") or None
        return {"ok": True, "scheduled": self.scheduled(channel)}


async def _serve(latency: float) -> None:
    fake = LeanFakeSlack(latency=latency)
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
