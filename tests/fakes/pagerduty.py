"""A fake PagerDuty Events API v2 for tests, served over real HTTP.

``async with FakePagerDuty() as pd:`` binds ``127.0.0.1`` on a random port; point a
``PagerDutyClient`` at ``pd.url``. Every request is recorded in ``calls``; events that
were accepted (202) drive per-``dedup_key`` incident state the way PagerDuty does:

* ``trigger`` opens an incident, or re-opens a resolved one; a trigger for an open
  (triggered or acknowledged) incident is de-duplicated into it and changes nothing;
* ``acknowledge`` moves a triggered incident to acknowledged;
* ``resolve`` moves an open incident to resolved;
* acknowledge/resolve of an unknown ``dedup_key`` is accepted (202) but opens nothing.

Validation follows PagerDuty's 400 ``invalid event`` answers closely enough to catch a
malformed body: 32-character routing key, known ``event_action``, a ``dedup_key`` for
acknowledge/resolve, and ``payload.summary/source/severity`` for a trigger.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["FakePagerDuty", "PagerDutyCall"]

ROUTING_KEY_LENGTH = 32
SEVERITIES = frozenset({"critical", "error", "warning", "info"})
ACTIONS = frozenset({"trigger", "acknowledge", "resolve"})

TRIGGERED = "triggered"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"


@dataclass
class PagerDutyCall:
    """One request to ``/v2/enqueue``: the parsed body (``None`` if not JSON) and the answer."""

    body: Any
    headers: dict[str, str]
    status: int = 0
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.status == 202


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    remaining: int


class FakePagerDuty:
    """In-memory Events API v2. ``routing_keys`` (optional) limits which keys are valid."""

    def __init__(self, *, routing_keys: set[str] | None = None) -> None:
        self.routing_keys = routing_keys
        self.calls: list[PagerDutyCall] = []
        self.incidents: dict[str, str] = {}
        # How many times each dedup_key opened an incident (first trigger and re-opens).
        self.opened: Counter[str] = Counter()
        self._faults: list[_Fault] = []
        self._generated = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self, *, port: int = 0) -> None:
        if self._runner is not None:
            raise RuntimeError("FakePagerDuty already started")
        self._changed = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v2/enqueue", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakePagerDuty:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakePagerDuty not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ inspection

    @property
    def events(self) -> list[Any]:
        """Bodies of the accepted (202) events, in arrival order."""
        return [call.body for call in self.calls if call.accepted]

    def fail_next(
        self, status: int = 429, times: int = 1, *, retry_after: int | None = None
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (429, 5xx or 400) instead of
        processing them; 429 carries ``Retry-After`` only when ``retry_after`` is given."""
        if times < 1:
            raise ValueError("times must be >= 1")
        self._faults.append(_Fault(status, retry_after, times))

    async def wait_for_events(
        self,
        n: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the requested test API
    ) -> list[Any]:
        """Wait until at least ``n`` events were accepted; return all accepted bodies."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.events) < n:
            remaining = deadline - loop.time()
            if remaining <= 0:
                statuses = [call.status for call in self.calls]
                raise AssertionError(
                    f"timed out after {timeout:.2f}s waiting for {n} accepted event(s); "
                    f"have {len(self.events)}; answers so far: {statuses}"
                )
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.05))
        return self.events

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        call = PagerDutyCall(body=body, headers=dict(request.headers))
        self.calls.append(call)
        fault = self._take_fault()
        if fault is not None:
            return self._answer_fault(call, fault)
        errors = self._validate(body)
        if errors:
            return self._finish(call, 400, _invalid(errors))
        dedup_key = body.get("dedup_key") or f"generated-{next(self._generated):08d}"
        self._apply(body["event_action"], dedup_key)
        return self._finish(
            call,
            202,
            {"status": "success", "message": "Event processed", "dedup_key": dedup_key},
        )

    def _take_fault(self) -> _Fault | None:
        if not self._faults:
            return None
        fault = self._faults[0]
        fault.remaining -= 1
        if fault.remaining == 0:
            self._faults.pop(0)
        return fault

    def _answer_fault(self, call: PagerDutyCall, fault: _Fault) -> web.Response:
        headers: dict[str, str] = {}
        if fault.status == 429:
            response = {"status": "throttle event", "message": "Too many requests"}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
        elif fault.status == 400:
            response = _invalid(["injected fault"])
        else:
            response = {"status": "error", "message": "Internal server error"}
        return self._finish(call, fault.status, response, headers)

    def _validate(self, body: Any) -> list[str]:
        if not isinstance(body, dict):
            return ["Event object must be a JSON object"]
        errors: list[str] = []
        routing_key = body.get("routing_key")
        if not isinstance(routing_key, str) or len(routing_key) != ROUTING_KEY_LENGTH:
            errors.append("'routing_key' must be a 32 character string")
        elif self.routing_keys is not None and routing_key not in self.routing_keys:
            errors.append("Invalid routing key")
        action = body.get("event_action")
        if action not in ACTIONS:
            errors.append("'event_action' is invalid (must be trigger, acknowledge or resolve)")
        dedup_key = body.get("dedup_key")
        if dedup_key is not None and (not isinstance(dedup_key, str) or len(dedup_key) > 255):
            errors.append("'dedup_key' must be a string of at most 255 characters")
        if action in ("acknowledge", "resolve") and not dedup_key:
            errors.append("'dedup_key' is required for acknowledge and resolve")
        if action == "trigger":
            errors.extend(_validate_payload(body.get("payload")))
        return errors

    def _apply(self, action: str, dedup_key: str) -> None:
        status = self.incidents.get(dedup_key)
        if action == "trigger":
            if status in (None, RESOLVED):
                self.incidents[dedup_key] = TRIGGERED
                self.opened[dedup_key] += 1
        elif action == "acknowledge":
            if status == TRIGGERED:
                self.incidents[dedup_key] = ACKNOWLEDGED
        elif status in (TRIGGERED, ACKNOWLEDGED):
            self.incidents[dedup_key] = RESOLVED

    def _finish(
        self,
        call: PagerDutyCall,
        status: int,
        response: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        call.status = status
        call.response = response
        self._changed.set()
        self._changed = asyncio.Event()
        return web.json_response(response, status=status, headers=headers)


def _validate_payload(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is missing or not an object"]
    errors = [
        f"'payload.{name}' is missing or blank"
        for name in ("summary", "source")
        if not isinstance(payload.get(name), str) or not payload[name].strip()
    ]
    if isinstance(payload.get("summary"), str) and len(payload["summary"]) > 1024:
        errors.append("'payload.summary' is longer than 1024 characters")
    if payload.get("severity") not in SEVERITIES:
        errors.append("'payload.severity' must be one of critical, error, warning, info")
    return errors


def _invalid(errors: list[str]) -> dict[str, Any]:
    return {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
