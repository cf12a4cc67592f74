"""Databases for the benchmarks, written through the store's public calls.

``SqliteCustodyStore.add_custodies`` stores a batch of arrests in one transaction
(the same rows as ``add_custody``), so 100k custodies cost one commit per batch of
2,000 rather than one fsync per custody.

Notices are planned by the bot's own ``plan_logged_custody``, as if each
arrest had been logged at its arrest time; the notices due before the
benchmark's "now" are stored as already ``sent`` (a bot that ran until then
sent them), the rest ``pending``.
"""

from __future__ import annotations

import atexit
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import OFFICER, facilities_toml, facility_ids, load_config
from bot.core.custody_plan import plan_logged_custody
from bot.core.model import CUSTODY_WINDOW, AuditEntry, Custody, Notice, NoticeState
from bot.core.policy import custody_deadline
from storage.sqlite import SqliteCustodyStore


def new_custody(facility_id: str, booking: str, arrested_at: datetime) -> Custody:
    return Custody(
        id="c_" + random.randbytes(16).hex(),
        facility_id=facility_id,
        booking=booking,
        arrested_at=arrested_at,
        deadline=custody_deadline(arrested_at),
        logged_by=OFFICER,
        logged_at=arrested_at,
    )


def audit_for(custody: Custody) -> AuditEntry:
    return AuditEntry(
        at=custody.logged_at,
        actor=OFFICER,
        action="arrest_logged",
        custody_id=custody.id,
        detail={"deadline": custody.deadline.isoformat(), "bench": True},
    )


def planned(
    custody: Custody,
    config: Any,
    sent_before: datetime,
    keep: Callable[[Notice], bool] | None = None,
) -> list[Notice]:
    """The custody's notices as logged at its arrest; those due before ``sent_before`` sent."""
    facility = config.facility(custody.facility_id)
    out = []
    for notice in plan_logged_custody(custody, facility, config, custody.logged_at):
        if keep is not None and not keep(notice):
            continue
        if notice.due_at < sent_before:
            notice = replace(notice, state=NoticeState.SENT, attempts=1)
        out.append(notice)
    return out


async def add_custodies(
    db: Path, custodies: list[tuple[Custody, list[Notice]]], batch: int = 2000
) -> None:
    await _write_batches(
        db, (custodies[start : start + batch] for start in range(0, len(custodies), batch))
    )


async def _write_batches(db: Path, batches: Iterable[list[tuple[Custody, list[Notice]]]]) -> None:
    """Open the store, write each batch of arrests in one transaction, close it."""
    store = SqliteCustodyStore(db)
    await store.open()
    try:
        for arrests in batches:
            await store.add_custodies(
                [(custody, notices, audit_for(custody)) for custody, notices in arrests]
            )
    finally:
        await store.close()


# --- the 100k template (B2, B5) --------------------------------------------------------

# 50 facilities (Slack allows about one post per second per channel, and the bot keeps to
# that: one facility could not take 100k custodies' notices). Default reminders, jail and
# ICE notices in one shared channel per facility: 7 notices per custody, about 5 of them
# pending for a custody of uniformly random age (~500k for 100k). One escalation level,
# a sergeant per facility.
TEMPLATE_FACILITIES = 50
TEMPLATE_TOML = facilities_toml(
    TEMPLATE_FACILITIES, shared_channel=True, escalation=[("U0SGT{n}", "0s")]
)
TEMPLATE_QUIET = timedelta(hours=2)  # no template notice falls due this soon after it is built
TEMPLATE_MAX_AGE = 3600.0
TEMPLATE_BATCH = 2000

_templates: dict[int, tuple[Path, float, float]] = {}  # size -> (path, built at, build seconds)
_template_dir: Path | None = None


def _cleanup_templates() -> None:
    if _template_dir is not None:
        shutil.rmtree(_template_dir, ignore_errors=True)


async def template(size: int) -> tuple[Path, float]:
    """A closed database of ``size`` open custodies (cached for an hour); (path, build s)."""
    global _template_dir
    cached = _templates.get(size)
    if cached is not None and time.time() - cached[1] < TEMPLATE_MAX_AGE:
        return cached[0], cached[2]
    if _template_dir is None:
        _template_dir = Path(tempfile.mkdtemp(prefix="wso-bench-template-"))
        atexit.register(_cleanup_templates)
    config_path = _template_dir / "template.toml"
    config_path.write_text(TEMPLATE_TOML)
    config = load_config(config_path)
    path = _template_dir / f"template-{size}.db"
    path.unlink(missing_ok=True)
    started = time.monotonic()
    built_at = time.time()
    now = datetime.now(UTC)
    quiet_until = now + TEMPLATE_QUIET
    rng = random.Random(size)
    span = (CUSTODY_WINDOW - TEMPLATE_QUIET - timedelta(minutes=1)).total_seconds()

    facilities = facility_ids(TEMPLATE_FACILITIES)

    def plan_batch(first: int, count: int) -> list[tuple[Custody, list[Notice]]]:
        out = []
        for index in range(first, min(first + count, size)):
            # Deadlines spread over (now + 2h, now + 48h): every custody still open.
            arrested_at = now - timedelta(seconds=rng.uniform(0, span))
            custody = new_custody(facilities[index % len(facilities)], f"T{index}", arrested_at)
            # Sent before now; none at all in the quiet stretch (a notice stored as sent
            # before its due time would look lost), pending after it.
            notices = planned(
                custody,
                config,
                sent_before=now,
                keep=lambda n: not now <= n.due_at < quiet_until,
            )
            out.append((custody, notices))
        return out

    await _write_batches(
        path, (plan_batch(first, TEMPLATE_BATCH) for first in range(0, size, TEMPLATE_BATCH))
    )
    seconds = time.monotonic() - started
    _templates[size] = (path, built_at, seconds)
    return path, seconds


def copy_db(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
