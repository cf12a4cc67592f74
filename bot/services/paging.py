"""Who to page for a due escalation step, resolved at that moment.

``notify`` entries are Slack user ids (paged as they are), user groups (``S…``,
expanded with ``usergroups.users.list``) and on-call schedules
(``oncall:<id>``, resolved with ``bot.core.oncall`` and any stored overrides;
email addresses from iCalendar files are looked up in Slack).

A user group Slack refuses for good (deleted, or not readable by the bot) pages
nobody, so the level pages whoever else it names, or the jail channel; a lookup
that failed for now (rate limit, 5xx, timeout) fails the step, which is retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from bot.core.custody_plan import mirrors
from bot.core.escalation import ICE_CHAIN, dedupe_recipients, plan_pages
from bot.core.facility import Config, Facility
from bot.core.model import Custody, Notice
from bot.core.oncall import Override, on_call
from bot.core.retry import DeliveryFailed, SendFailure
from storage.interface import CustodyStore, OncallOverrideRecord

log = logging.getLogger("wso.paging")

# usergroups.users.list answers that a retry will not change: the group is gone, or the bot
# may not read it (besides the errors every call may get, such as a revoked token).
USER_GROUP_REFUSALS = frozenset(
    {"no_such_subteam", "no_permission", "ekm_access_denied", "is_bot", "user_is_restricted"}
)


class Directory(Protocol):
    """The Slack lookups paging needs (``bot.clients.slack_gateway.SlackGateway``)."""

    async def usergroup_members(self, usergroup_id: str) -> list[str]: ...

    async def user_id_for_email(self, email: str) -> str | None: ...


def level_notify(facility: Facility, step: Notice) -> tuple[str, ...]:
    """The configured ``notify`` list of the step's level ( () if the config lost it)."""
    levels = facility.ice_escalation if step.channel == ICE_CHAIN else facility.escalation
    index = (step.level or 0) - 1
    return levels[index].notify if 0 <= index < len(levels) else ()


def as_overrides(records: Sequence[OncallOverrideRecord]) -> list[Override]:
    return [Override(user=r.user_id, start=r.starts_at, end=r.ends_at) for r in records]


def is_lasting_group_refusal(failure: SendFailure) -> bool:
    """Slack will give the same answer about this user group until a person changes something."""
    return failure.code in USER_GROUP_REFUSALS or failure.is_permanent


class RecipientResolver:
    def __init__(
        self,
        config: Config,
        store: CustodyStore,
        directory: Directory,
        *,
        on_unavailable_group: Callable[[str, str], None] | None = None,
    ) -> None:
        self._config = config
        self._store = store
        self._directory = directory
        # Told (group id, Slack's error) so that the problem shows beyond the log.
        self._on_unavailable_group = on_unavailable_group

    async def resolve(self, notify: Sequence[str], at: datetime) -> tuple[str, ...]:
        """Slack user ids to page now, each once, in the order the level lists them."""
        users: list[str] = []
        for entry in notify:
            if entry.startswith("S"):
                users.extend(await self.group_members(entry))
            elif entry.startswith("oncall:"):
                users.extend(await self.on_call_now(entry.removeprefix("oncall:"), at))
            else:
                users.append(entry)
        return dedupe_recipients(users)

    async def group_members(self, group_id: str) -> list[str]:
        """The group's members; nobody if Slack refuses the group for good."""
        try:
            return await self._directory.usergroup_members(group_id)
        except DeliveryFailed as error:
            if not is_lasting_group_refusal(error.failure):
                raise  # a rate limit or an outage: the step fails and is retried
            log.error(
                "paging.user_group_unavailable",
                extra={"user_group": group_id, "error": error.failure.code},
            )
            if self._on_unavailable_group is not None:
                self._on_unavailable_group(group_id, error.failure.code)
            return []

    async def on_call_now(self, schedule_id: str, at: datetime) -> list[str]:
        schedule = self._config.schedule(schedule_id)
        if schedule is None:
            log.error("paging.unknown_schedule", extra={"schedule": schedule_id})
            return []
        overrides = as_overrides(await self._store.oncall_overrides(schedule_id, at))
        users: list[str] = []
        for member in on_call(schedule, at, overrides):
            user_id = await self._directory.user_id_for_email(member) if "@" in member else member
            if user_id is None:
                log.warning("paging.email_not_in_slack", extra={"schedule": schedule_id})
                continue
            users.append(user_id)
        return users


class StepExpander:
    """Builds the pages of a due step (the dispatcher stores them with the step)."""

    def __init__(self, config: Config, resolver: RecipientResolver) -> None:
        self._config = config
        self._resolver = resolver

    async def pages_for(self, custody: Custody, step: Notice, now: datetime) -> list[Notice]:
        facility = self._config.facility(custody.facility_id)
        if facility is None:
            return []
        recipients = await self._resolver.resolve(level_notify(facility, step), now)
        if not recipients:
            log.error(
                "paging.nobody_to_page",
                extra={"custody_id": custody.id, "level": step.level, "chain": step.channel},
            )
        pages = plan_pages(step, recipients, fallback_channel=facility.jail_channel)
        return pages + mirrors(pages[:1], facility, self._config)
