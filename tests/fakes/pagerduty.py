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

import itertools
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.server import Answer, HttpCall, Rank, RecordedServer, Scope

__all__ = ["FakePagerDuty", "PagerDutyCall"]

ROUTING_KEY_LENGTH = 32
SEVERITIES = frozenset({"critical", "error", "warning", "info"})
ACTIONS = frozenset({"trigger", "acknowledge", "resolve"})
ENQUEUE_PATH = "/v2/enqueue"

TRIGGERED = "triggered"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"


@dataclass(kw_only=True)
class PagerDutyCall(HttpCall):
    """One request to ``/v2/enqueue``: the parsed body (``None`` if not JSON) and the answer."""

    body: Any = None

    @property
    def accepted(self) -> bool:
        return self.status == 202

    def summary(self) -> str:
        action = self.body.get("event_action") if isinstance(self.body, dict) else None
        return f"{action} -> {self.status}"


class FakePagerDuty(RecordedServer[PagerDutyCall]):
    """In-memory Events API v2. ``routing_keys`` (optional) limits which keys are valid."""

    def __init__(self, *, routing_keys: set[str] | None = None) -> None:
        super().__init__()
        self.routing_keys = routing_keys
        self.incidents: dict[str, str] = {}
        # How many times each dedup_key opened an incident (first trigger and re-opens).
        self.opened: Counter[str] = Counter()
        self._generated = itertools.count(1)

    @property
    def url(self) -> str:
        return self.base_url

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
        if status == 429:
            body: dict[str, Any] = {"status": "throttle event", "message": "Too many requests"}
        elif status == 400:
            body = _invalid(["injected fault"])
        else:
            body = {"status": "error", "message": "Internal server error"}
        wait = str(retry_after) if retry_after is not None else None
        self.outage(Answer.json(status, body, wait), times=times, rank=Rank.QUEUED)

    async def wait_for_events(
        self,
        n: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the requested test API
    ) -> list[Any]:
        """Wait until at least ``n`` events were accepted; return all accepted bodies."""
        accepted = await self.wait_for_calls(
            n, lambda call: call.accepted, timeout=timeout, what="accepted event"
        )
        return [call.body for call in accepted]

    # ------------------------------------------------------------------ HTTP

    def _paths(self) -> list[tuple[str, str]]:
        return [("POST", ENQUEUE_PATH)]

    def _new_call(self, request: web.Request) -> PagerDutyCall:
        return PagerDutyCall(headers=dict(request.headers))

    async def _read(self, request: web.Request, call: PagerDutyCall) -> None:
        try:
            call.body = json.loads(await request.read())
        except ValueError:
            call.body = None

    def _scope(self, call: PagerDutyCall) -> Scope:
        return Scope(ENQUEUE_PATH)

    def _carry_out(self, call: PagerDutyCall) -> tuple[int, dict[str, Any] | None]:
        errors = self._validate(call.body)
        if errors:
            return 400, _invalid(errors)
        dedup_key = call.body.get("dedup_key") or f"generated-{next(self._generated):08d}"
        self._apply(call.body["event_action"], dedup_key)
        return 202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key}

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
