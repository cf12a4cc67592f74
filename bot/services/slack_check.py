"""What only Slack can tell about a deployment: whether the bot token works, which groups exist.

``wso-bot check-config`` fails on a token Slack refuses and on a user group it does not
know; ``serve`` starts anyway on an unknown group (it logs it and shows it in ``/healthz``),
because one deleted group must not stop every facility's clock. A Slack that cannot be
reached is "not checked", never a failure: the config may well be right.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.clients.slack_gateway import SlackGateway
from bot.config import ConfigError, referenced_user_groups
from bot.core.facility import Config
from bot.core.retry import DeliveryFailed

log = logging.getLogger("wso.slack_check")


class TokenStatus(StrEnum):
    OK = "ok"
    REJECTED = "rejected"
    NOT_CHECKED = "not checked"


@dataclass(frozen=True)
class TokenCheck:
    """What ``auth.test`` said; ``detail`` is who the token is, or Slack's error code."""

    status: TokenStatus
    detail: str


async def check_token(gateway: SlackGateway) -> TokenCheck:
    """Ask Slack who the token belongs to (``auth.test``)."""
    try:
        response = await gateway.auth_test()
    except DeliveryFailed as error:  # every failure is classified; none is a crash of the check
        failure = error.failure
        status = TokenStatus.REJECTED if failure.is_auth_error else TokenStatus.NOT_CHECKED
        return TokenCheck(status, failure.code)
    return TokenCheck(TokenStatus.OK, _identity(response))


def _identity(response: Any) -> str:
    team = response.get("team") or response.get("team_id") or "?"
    user = response.get("user") or response.get("user_id") or "?"
    return f"workspace {team}, bot user {user}"


def rejected_token_message(code: str) -> str:
    return (
        f"Slack refused SLACK_BOT_TOKEN ({code}): the token is wrong, revoked, or its app was "
        "uninstalled. Copy the Bot User OAuth Token (xoxb-…) from your Slack app's "
        "OAuth & Permissions page"
    )


@dataclass(frozen=True)
class UserGroupCheck:
    """User groups Slack does not know; ``not_checked`` is why, if Slack was not asked."""

    unknown: tuple[ConfigError, ...] = ()
    not_checked: str | None = None


async def check_user_groups(config: Config, gateway: SlackGateway) -> UserGroupCheck:
    """Each user group in a notify list that Slack doesn't know, as an error naming its key."""
    referenced = referenced_user_groups(config)
    if not referenced:
        return UserGroupCheck()
    try:
        known = await gateway.usergroup_ids()
    except DeliveryFailed as error:
        log.warning("config.user_groups_unchecked", extra={"error": error.failure.code})
        return UserGroupCheck(not_checked=error.failure.code)
    unknown = tuple(
        ConfigError(
            key,
            f"Slack has no user group {group_id}; check the id (Slack → People → "
            "User groups → ⋮ → Copy group ID)",
        )
        for group_id, key in referenced.items()
        if group_id not in known
    )
    return UserGroupCheck(unknown=unknown)
