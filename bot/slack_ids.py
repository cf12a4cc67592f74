"""Identifiers Slack and other apps see: defined once, used everywhere."""

from __future__ import annotations

from enum import StrEnum

SLASH_COMMAND = "/wso"
METADATA_EVENT_TYPE = "wso_custody"


class ActionId(StrEnum):
    """``action_id`` of interactive elements; a page's button must contain "ack"."""

    ACKNOWLEDGE = "wso_ack"


class BlockId(StrEnum):
    PAGE_ACTIONS = "wso_page_actions"
