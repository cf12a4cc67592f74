"""The people side of the Slack stand-in: who is in the workspace, its user groups, views.

``SlackPeople`` answers ``auth.test``, ``users.info``, ``usergroups.*`` and ``views.*`` the way
Slack does; ``bot.sandbox.workspace.SlackWorkspace`` adds messages and scheduling.
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Callable
from typing import Any

from bot.sandbox.slack_wire import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, SlackError

WebApiMethod = Callable[[dict[str, Any]], dict[str, Any]]


class SlackPeople:
    """Users, user groups and views (Home tabs and modals), in memory."""

    def __init__(self) -> None:
        self.usergroups: dict[str, list[str]] = {}
        # Per-user overrides merged into the users.info answer.
        self.users: dict[str, dict[str, Any]] = {}
        # Views by id, as stored by views.publish/open/update.
        self.views: dict[str, dict[str, Any]] = {}
        # Socket Mode: apps.connections.open answers this WebSocket URL.
        self.socket_url: str | None = None
        # The trigger id each modal was opened with (views.open), by view id: whose it is.
        self.view_triggers: dict[str, str] = {}
        self._ids = itertools.count(1)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}FAKE"

    def methods(self) -> dict[str, WebApiMethod]:
        return {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "views.publish": self._views_publish,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "usergroups.users.list": self._usergroups_users_list,
            "usergroups.list": self._usergroups_list,
            "users.info": self._users_info,
        }

    @staticmethod
    def _api_test(payload: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "args": payload}

    def _apps_connections_open(self, payload: dict[str, Any]) -> dict[str, Any]:
        if self.socket_url is None:
            raise SlackError("socket_mode_not_enabled")  # the fake's: no socket server attached
        return {"ok": True, "url": self.socket_url}

    @staticmethod
    def _auth_test(payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.com/",
            "team": "Fake",
            "user": "wso-bot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _store_view(
        self, view: Any, *, view_id: str | None = None, user_id: str | None = None
    ) -> dict[str, Any]:
        if not isinstance(view, dict) or "type" not in view:
            raise SlackError("invalid_arguments")
        view_id = view_id or self._new_id("V")
        stored = copy.deepcopy(view)
        stored.update(
            {
                "id": view_id,
                "team_id": TEAM_ID,
                "app_id": APP_ID,
                "bot_id": BOT_ID,
                "hash": f"{int(time.time())}.{next(self._ids):08d}",
                "private_metadata": view.get("private_metadata", ""),
                "callback_id": view.get("callback_id", ""),
                "external_id": view.get("external_id", ""),
            }
        )
        if user_id is not None:
            stored["user_id"] = user_id
        self.views[view_id] = stored
        return {"ok": True, "view": copy.deepcopy(stored)}

    def _views_publish(self, payload: dict[str, Any]) -> dict[str, Any]:
        user_id = payload.get("user_id")
        if not user_id:
            raise SlackError("invalid_arguments")
        existing = next(
            (
                vid
                for vid, v in self.views.items()
                if v.get("type") == "home" and v.get("user_id") == user_id
            ),
            None,
        )
        return self._store_view(payload.get("view"), view_id=existing, user_id=str(user_id))

    def _views_open(self, payload: dict[str, Any]) -> dict[str, Any]:
        if not payload.get("trigger_id") and not payload.get("interactivity_pointer"):
            raise SlackError("invalid_arguments")
        opened = self._store_view(payload.get("view"))
        self.view_triggers[opened["view"]["id"]] = str(payload.get("trigger_id") or "")
        return opened

    def _views_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        view_id = payload.get("view_id")
        external_id = payload.get("external_id")
        if view_id:
            if view_id not in self.views:
                raise SlackError("not_found")
            return self._store_view(payload.get("view"), view_id=str(view_id))
        if external_id:
            for vid, v in self.views.items():
                if v.get("external_id") == external_id:
                    return self._store_view(payload.get("view"), view_id=vid)
            raise SlackError("not_found")
        raise SlackError("invalid_arguments")

    def _usergroups_list(self, payload: dict[str, Any]) -> dict[str, Any]:
        groups = [
            {"id": group_id, "users": list(users)} for group_id, users in self.usergroups.items()
        ]
        return {"ok": True, "usergroups": groups}

    def _usergroups_users_list(self, payload: dict[str, Any]) -> dict[str, Any]:
        group = payload.get("usergroup")
        if not isinstance(group, str) or group not in self.usergroups:
            raise SlackError("no_such_subteam")
        return {"ok": True, "users": list(self.usergroups[group])}

    def _users_info(self, payload: dict[str, Any]) -> dict[str, Any]:
        user_id = payload.get("user")
        if not isinstance(user_id, str) or not user_id:
            raise SlackError("user_not_found")
        name = f"user-{user_id.lower()}"
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "deleted": False,
            "real_name": f"User {user_id}",
            "tz": "America/Chicago",
            "tz_label": "Central Standard Time",
            "tz_offset": -21600,
            "is_admin": False,
            "is_owner": False,
            "is_bot": user_id == BOT_USER_ID,
            "is_app_user": False,
            "updated": 1_700_000_000,
            "profile": {
                "real_name": f"User {user_id}",
                "display_name": name,
                "real_name_normalized": f"User {user_id}",
                "display_name_normalized": name,
                "team": TEAM_ID,
            },
        }
        override = self.users.get(user_id)
        if override:
            profile = {**user["profile"], **override.get("profile", {})}
            user.update(override)
            user["profile"] = profile
        return {"ok": True, "user": user}
