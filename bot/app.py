"""Composition root: the one place that builds and wires every part.

``WsoService`` owns the store, the Bolt app, the HTTP face (``bot.web``) and
the dispatcher, and starts and stops them in order. Tests build it with a fake
clock and a temporary database; ``wso-bot serve`` builds it from the
environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from bot.clients.pagerduty import PagerDutyClient
from bot.clients.slack_gateway import SlackGateway, make_web_client
from bot.clients.slack_web_api import SlackWebApi
from bot.clients.webhooks import WebhookClient
from bot.config import ConfigError, Settings, load_roster, referenced_user_groups
from bot.core.custody_plan import plan_delivery_alert
from bot.core.facility import Config
from bot.core.model import Custody, Notice, NoticeKind
from bot.core.oversight import Period
from bot.core.oversight_summary import Summary, facility_labels, summarise
from bot.core.retry import PERMANENT_ERROR_PREFIXES, PERMANENT_ERRORS, DeliveryFailed
from bot.ops.faults import FaultInjector
from bot.ops.metrics import Metrics
from bot.services.backups import reconcile_backups
from bot.services.certification_reminders import CertificationReminders
from bot.services.clock import Clock, SystemClock
from bot.services.desk import CustodyDesk
from bot.services.dispatcher import Dispatcher
from bot.services.file_records import FileRecords
from bot.services.home_board import ChangeListeners, HomeBoard
from bot.services.outbound import Outbound
from bot.services.paging import RecipientResolver, StepExpander
from bot.services.retention import DailyPurge
from bot.services.slack_check import check_user_groups
from bot.services.weekly_report import WeeklyReport
from bot.socket_mode import SocketLimits, SocketLink
from bot.web import RequestLimits, WebFace
from handlers import app_home, arrest_form, card_actions, page_actions, slash_command
from handlers.deps import HandlerDeps
from storage.interface import CustodyStore, DatabaseDamaged, StoreFault
from storage.sqlite import DatabaseReader, SqliteCustodyStore

log = logging.getLogger("wso.app")

HEALTH_DB_TIMEOUT_SECONDS = 2.0
MAX_HEALTHY_LAG_SECONDS = 60.0
BACKUP_RECONCILE_SECONDS = 3.0
HEARTBEAT_INTERVAL_SECONDS = 60.0
HEARTBEAT_MAX_LAG_SECONDS = 5.0
AUTH_TEST_TIMEOUT_SECONDS = 2
# A failed auth.test is not tried again on every command: at most this often.
AUTH_TEST_RETRY_SECONDS = 60.0


class CachedAuthorization:
    """Bolt ``authorize`` that asks ``auth.test`` once and never blocks a command on Slack.

    Bolt's default single-team authorization calls ``auth.test`` on the first
    request and answers with an error if Slack's Web API is down. A custody must
    be recordable even then, so a failed lookup falls back to the bare token and
    is tried again at most once a minute. A token Slack refuses is remembered
    (``refused``) so that ``/healthz`` can say so.
    """

    def __init__(self, token: str, api_url: str) -> None:
        self._token = token
        self._api = SlackWebApi(token, api_url, timeout=AUTH_TEST_TIMEOUT_SECONDS)
        self._result: AuthorizeResult | None = None
        self._next_try = 0.0
        self.refused: str | None = None

    async def warm_up(self) -> None:
        self._next_try = time.monotonic() + AUTH_TEST_RETRY_SECONDS
        try:
            response = await self._api.call("auth.test", body={})
        except DeliveryFailed as error:
            self.refused = error.failure.code if error.failure.is_auth_error else None
            log.warning("slack.auth_test_failed", extra={"error": error.failure.code})
            return
        self.refused = None
        self._result = AuthorizeResult.from_auth_test_response(
            bot_token=self._token, auth_test_response=response
        )

    async def authorize(self, enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        if self._result is None and time.monotonic() >= self._next_try:
            await self.warm_up()
        if self._result is not None:
            return self._result
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=self._token)

    def for_bolt(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """A plain function: Bolt picks arguments by parameter name and chokes on ``self``."""

        async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
            return await self.authorize(enterprise_id, team_id)

        return authorize


def database_state(fault: StoreFault | None) -> str:
    """``/healthz``'s ``database``: "ok", or "error: " and what the store says is wrong."""
    return "ok" if fault is None else f"error: {fault.describe()}"


class WsoService:
    def __init__(
        self,
        settings: Settings,
        config: Config,
        *,
        clock: Clock | None = None,
        store: CustodyStore | None = None,
        request_limits: RequestLimits | None = None,
        socket_limits: SocketLimits | None = None,
    ) -> None:
        self.settings = settings
        self.config = config
        self.clock: Clock = clock or SystemClock()
        faults = FaultInjector(settings.fault_point)
        self.store: CustodyStore = store or SqliteCustodyStore(
            settings.db_path,
            before_commit=faults.reached if settings.fault_point else None,
            clock=self.clock,
        )
        self.gateway = SlackGateway(
            make_web_client(settings.slack_bot_token, settings.slack_api_url)
        )
        self.pagerduty = PagerDutyClient(settings.pagerduty_events_url)
        self.webhooks = WebhookClient()
        outbound = Outbound(config, self.gateway, self.pagerduty, self.webhooks, self.store)
        # Config problems found against Slack (a deleted user group), by the key they concern:
        # logged, and listed in /healthz until the config is fixed and the bot restarted.
        self.config_warnings: dict[str, str] = {}
        self.recipients = RecipientResolver(
            config, self.store, self.gateway, on_unavailable_group=self._user_group_unavailable
        )
        expander = StepExpander(config, self.recipients)
        self.metrics = Metrics()
        self.dispatcher = Dispatcher(
            self.store,
            outbound,
            self.gateway,
            expander,
            self.clock,
            self.metrics,
            alerts=self._delivery_alerts,
            faults=faults,
            history_lookup=settings.history_lookup,
            on_sent=self._notice_sent,
        )
        self._heartbeat: asyncio.Task[None] | None = None
        self._weekly_report: asyncio.Task[None] | None = None
        self._damage_watch: asyncio.Task[None] | None = None
        self._home_client = make_web_client(settings.slack_bot_token, settings.slack_api_url)
        self.home = HomeBoard(config, self.store, self.clock, self._publish_home)
        listeners = ChangeListeners(self.dispatcher, self.home)
        self.certifications = CertificationReminders(
            config,
            self.store.certifications,
            self.gateway,
            self.clock,
            history_lookup=settings.history_lookup,
        )
        self.desk = CustodyDesk(config, self.store, self.clock, listeners)
        self._deps = HandlerDeps(config=config, store=self.store, clock=self.clock, desk=self.desk)
        self.files = FileRecords(self.store, self.clock, settings.config_path, config)
        self.retention: DailyPurge | None = None
        if config.retention_days is not None:
            self.retention = DailyPurge(self.store, self.clock, config.retention_days)
        self._authorization = CachedAuthorization(settings.slack_bot_token, settings.slack_api_url)
        self.bolt_app = self._build_bolt_app()
        # Socket Mode: Slack's requests come over our own WebSocket; no /slack/events.
        self.socket: SocketLink | None = None
        if settings.slack_app_token is not None:
            self.socket = SocketLink(
                self.bolt_app,
                settings.slack_app_token,
                settings.slack_api_url,
                limits=socket_limits,
            )
        self.web = WebFace(
            self.bolt_app,
            None if settings.socket_mode else settings.slack_signing_secret,
            self.health,
            self.metrics,
            limits=request_limits,
            commands=slash_command.fast_path(self._deps),
        )
        self.port: int | None = None

    def _delivery_alerts(
        self, custody: Custody, failed: Notice, error: str, now: datetime
    ) -> list[Notice]:
        facility = self.config.facility(custody.facility_id)
        if facility is None:
            return []
        return plan_delivery_alert(custody, facility, failed, error, now)

    def _build_bolt_app(self) -> AsyncApp:
        bolt_app = AsyncApp(
            client=AsyncWebClient(base_url=self.settings.slack_api_url),
            signing_secret=self.settings.slack_signing_secret,
            # Socket Mode requests carry no signature: the app token opened the socket.
            request_verification_enabled=not self.settings.socket_mode,
            authorize=self._authorization.for_bolt(),
        )
        deps = self._deps
        forms = arrest_form.register(bolt_app, deps)
        slash_command.register(bolt_app, deps, forms)
        page_actions.register(bolt_app, deps)
        card_actions.register(bolt_app, deps)
        app_home.register(bolt_app, deps, self.home, forms)
        return bolt_app

    def _notice_sent(self, notice: Notice) -> None:
        """A reminder or expiry moves its custody to another urgency: open Homes redraw."""
        if notice.kind in (NoticeKind.REMINDER, NoticeKind.EXPIRED):
            self.home.changed()

    async def _publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        await self._home_client.call("views.publish", body={"user_id": user_id, "view": view})

    async def health(self) -> dict[str, Any]:
        """Database reachable, dispatcher running, delivery lag at most 60 s; plus failures."""
        stats = self.dispatcher.stats
        report: dict[str, Any] = {"dispatcher": self.dispatcher.status}
        try:
            await asyncio.wait_for(self.store.ping(), HEALTH_DB_TIMEOUT_SECONDS)
            now = self.clock.now()
            oldest = await self.store.oldest_overdue_due_at(now)
            report["database"] = database_state(self.store.fault())
            report["open_custodies"] = await self.store.count_open_custodies()
            report["lag_seconds"] = (
                0.0 if oldest is None else round((now - oldest).total_seconds(), 3)
            )
            report["undeliverable_notices"] = await self.store.count_failing_notices(
                PERMANENT_ERRORS, PERMANENT_ERROR_PREFIXES
            )
        except Exception as error:
            report["database"] = f"error: {type(error).__name__}"
        slack_auth = self._authorization.refused or stats.slack_auth_error
        report["slack_auth"] = slack_auth or "ok"
        if self.socket is not None:
            report["socket"] = self.socket.report()
        report["ok"] = (
            report["database"] == "ok"
            and self.dispatcher.status == "running"
            and slack_auth is None
            and report.get("lag_seconds", 0.0) <= MAX_HEALTHY_LAG_SECONDS
            and (self.socket is None or self.socket.healthy())
        )
        report["notices_sent"] = stats.sent
        report["dispatcher_ticks"] = stats.ticks
        report["last_slack_error"] = stats.last_slack_error
        report["config_warnings"] = list(self.config_warnings.values())
        if stats.last_loop_error is not None:
            report["dispatcher_error"] = stats.last_loop_error
            report["dispatcher_failures"] = {
                "ticks": stats.tick_failures,
                "senders": stats.sender_failures,
                "ticks_in_a_row": stats.ticks_failed_in_a_row,
                "senders_in_a_row": stats.senders_failed_in_a_row,
            }
        return report

    async def _heartbeat_loop(self, url: str) -> None:
        """Ping the dead man's switch every minute, but only while nothing is overdue."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while True:
                if await self.heartbeat_due():
                    try:
                        async with session.get(url) as response:
                            await response.read()
                    except (aiohttp.ClientError, TimeoutError) as error:
                        log.warning("heartbeat.failed", extra={"error": type(error).__name__})
                else:
                    log.warning("heartbeat.withheld")
                await asyncio.sleep(HEARTBEAT_INTERVAL_SECONDS)

    async def summarise_week(self, period: Period, now: datetime) -> Summary:
        """The period's summary, read beside the store in read-only pages, off the loop."""
        reader = DatabaseReader(self.settings.db_path)
        labels = facility_labels(self.config.facilities)

        def read() -> Summary:
            custodies = reader.custodies_arrested_between(*period.search_bounds())
            return summarise(custodies, period, labels, now)

        return await asyncio.to_thread(read)

    async def heartbeat_due(self) -> bool:
        """Healthy and nothing overdue: the dead man's switch may be told all is well."""
        report = await self.health()
        return bool(report["ok"]) and report.get("lag_seconds", 0.0) <= HEARTBEAT_MAX_LAG_SECONDS

    async def start(self, host: str | None = None, port: int | None = None) -> int:
        """Open the store, start the dispatcher and listen. Returns the bound port.

        A configured user group that Slack does not know is logged and kept in
        ``config_warnings``; it does not stop the start. Raises ``DatabaseUnusable`` if
        the database is in use by another process or damaged.
        """
        # Before anything else: a database in use or damaged stops the start here.
        await self.store.open()
        await self.files.started()  # their audit events: the config and roster files
        await self.gateway.open_session()
        await self._check_user_groups()
        await self._authorization.warm_up()
        # Before the dispatcher starts (it would race the listing), and bounded in time:
        # a slow Slack must not hold up catching up on overdue notices.
        try:
            await asyncio.wait_for(
                reconcile_backups(self.store, self.gateway, self.config, self.clock.now()),
                BACKUP_RECONCILE_SECONDS,
            )
        except TimeoutError:
            log.warning("backups.reconcile_timed_out")
        self.dispatcher.start()
        if self.retention is not None:
            self.retention.start()
        self.certifications.start()
        self._damage_watch = asyncio.create_task(self._stop_dispatcher_if_damaged())
        if self.config.heartbeat_url:
            self._heartbeat = asyncio.create_task(self._heartbeat_loop(self.config.heartbeat_url))
        if self.config.report is not None:
            weekly = WeeklyReport(self.config.report, self.clock, self.gateway, self.summarise_week)
            self._weekly_report = asyncio.create_task(weekly.run())
        self.port = await self.web.start(
            host if host is not None else self.settings.host,
            self.settings.port if port is None else port,
        )
        if self.socket is not None:
            await self.socket.start()
        log.info("service.started", extra={"port": self.port, "db": str(self.settings.db_path)})
        return self.port

    async def stop(self) -> None:
        """Stop taking requests, let the dispatcher finish its tick, close the database."""
        if self.socket is not None:
            await self.socket.stop()
        await self.web.stop()
        for task in (self._heartbeat, self._weekly_report):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._damage_watch is not None:
            self._damage_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._damage_watch
        await self.home.stop()
        if self.retention is not None:
            await self.retention.stop()
        await self.certifications.stop()
        await self.dispatcher.stop()
        await self.files.stop()
        await self.gateway.close()
        await self.store.close()
        await self.pagerduty.close()
        await self.webhooks.close()
        log.info("service.stopped")

    def reload_roster(self) -> bool:
        """SIGHUP: read the officer roster file again; True if the new one is in force.

        A file that fails any check leaves the roster in force as it was: the error is
        logged and listed in ``/healthz`` as a config warning until a reload succeeds.
        """
        path = self.config.roster_path
        if path is None:
            log.info("roster.reload_skipped", extra={"reason": "no roster in the config"})
            return False
        try:
            roster = load_roster(
                Path(path), self.config.facilities, self.config.roster.current.source
            )
        except ConfigError as error:
            log.error("roster.reload_failed", extra={"error": str(error)})
            self.config_warnings["roster"] = (
                f"{error} (the roster read before is still in force; fix the file and send "
                "SIGHUP again)"
            )
            return False
        self.config.roster.replace(roster)
        self.config_warnings.pop("roster", None)
        self.files.roster_reloaded()
        log.info("roster.reloaded", extra={"officers": len(roster.entries)})
        self.certifications.wake()  # a new expiry date may be due for its reminder now
        self.home.changed()  # who may log an arrest may have changed
        return True

    async def _stop_dispatcher_if_damaged(self) -> None:
        """A check still running at start-up may find damage later: stop sending then.

        Reads of a corrupt file can miss notices or fail every tick; ``/healthz``
        already says so (the store's fault), and a person must restore the file.
        """
        try:
            await self.store.integrity_checked()
        except DatabaseDamaged as damage:
            log.error("service.database_damaged", extra={"error": str(damage)})
            await self.dispatcher.stop()

    async def _check_user_groups(self) -> None:
        """Name each user group Slack doesn't know, and start anyway.

        A group deleted in Slack must not keep every facility's clock down: its
        entry pages nobody, and a level left with nobody pages the jail channel
        (see ``bot.services.paging``). An unreachable Slack leaves the groups unchecked.
        """
        check = await check_user_groups(self.config, self.gateway)
        for problem in check.unknown:
            log.error("config.unknown_user_group", extra={"key": problem.key})
            self.config_warnings.setdefault(problem.key, str(problem))

    def _user_group_unavailable(self, group_id: str, error: str) -> None:
        """Paging found a user group Slack refuses (deleted since start-up, or not readable)."""
        key = referenced_user_groups(self.config).get(group_id, group_id)
        self.config_warnings.setdefault(
            key,
            f"{key}: Slack answered {error} for user group {group_id} when paging; it pages "
            "nobody, and a level left with nobody pages the jail channel",
        )
