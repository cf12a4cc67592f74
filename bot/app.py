"""Composition root: the one place that builds and wires every part.

``WsoService`` owns the store, the Bolt app, the aiohttp server and the
dispatcher, and starts and stops them in order. Tests build it with a fake
clock and a temporary database; ``wso-bot serve`` builds it from the
environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from bot.backups import reconcile_backups
from bot.clock import Clock, SystemClock
from bot.config import Config, ConfigError, Settings, referenced_user_groups
from bot.custody_plan import plan_delivery_alert
from bot.desk import CustodyDesk
from bot.dispatcher import Dispatcher
from bot.faults import FaultInjector
from bot.metrics import Metrics
from bot.model import Custody, Notice
from bot.outbound import Outbound
from bot.pagerduty import PagerDutyClient
from bot.paging import RecipientResolver, StepExpander
from bot.retry import PERMANENT_ERROR_PREFIXES, PERMANENT_ERRORS, DeliveryFailed
from bot.slack_gateway import SlackGateway, make_web_client
from bot.webhooks import WebhookClient
from handlers import app_home, page_actions, slash_command
from handlers.deps import HandlerDeps
from storage.interface import CustodyStore, DatabaseDamaged, StoreFault
from storage.sqlite_store import SqliteCustodyStore

log = logging.getLogger("wso.app")

HEALTH_DB_TIMEOUT_SECONDS = 2.0
MAX_HEALTHY_LAG_SECONDS = 60.0
BACKUP_RECONCILE_SECONDS = 3.0
HEARTBEAT_INTERVAL_SECONDS = 60.0
HEARTBEAT_MAX_LAG_SECONDS = 5.0
AUTH_TEST_TIMEOUT_SECONDS = 2
# Slack requests handled at once; the rest wait their turn (see ``_slack_events``).
MAX_CONCURRENT_REQUESTS = 32


_OBJECT_FIELDS = ("user", "team", "channel", "container", "message", "view", "enterprise", "event")


def is_well_formed(body: object) -> bool:
    """The shapes Bolt assumes without checking; anything else would make it answer 500."""
    if not isinstance(body, dict):
        return False
    if any(key in body and not isinstance(body[key], dict) for key in _OBJECT_FIELDS):
        return False
    kind = body.get("type")
    if kind == "url_verification":
        return isinstance(body.get("challenge"), str)
    if kind == "event_callback":
        event = body.get("event")
        return isinstance(event, dict) and isinstance(event.get("type"), str)
    if kind == "block_actions":
        actions = body.get("actions")
        return (
            isinstance(actions, list)
            and bool(actions)
            and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
        )
    return kind is None or isinstance(kind, str)


class CachedAuthorization:
    """Bolt ``authorize`` that asks ``auth.test`` once and never blocks a command on Slack.

    Bolt's default single-team authorization calls ``auth.test`` on the first
    request and answers with an error if Slack's Web API is down. A custody must
    be recordable even then, so a failed lookup falls back to the bare token.
    """

    def __init__(self, token: str, api_url: str) -> None:
        self._token = token
        self._client = AsyncWebClient(
            token=token, base_url=api_url, timeout=AUTH_TEST_TIMEOUT_SECONDS, retry_handlers=[]
        )
        self._result: AuthorizeResult | None = None

    async def warm_up(self) -> None:
        try:
            response = await self._client.auth_test()
        except Exception as error:
            log.warning("slack.auth_test_failed", extra={"error": type(error).__name__})
            return
        self._result = AuthorizeResult.from_auth_test_response(
            bot_token=self._token, auth_test_response=response
        )

    async def authorize(self, enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        if self._result is None:
            await self.warm_up()
        if self._result is not None:
            return self._result
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=self._token)

    def for_bolt(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """A plain function: Bolt picks arguments by parameter name and chokes on ``self``."""

        async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
            return await self.authorize(enterprise_id, team_id)

        return authorize


async def find_unknown_user_group(config: Config, gateway: SlackGateway) -> ConfigError | None:
    """The first configured user group Slack doesn't know, as a config error naming its key.

    None when all exist, or when Slack could not be asked (logged: the bot must
    still start during a Slack outage).
    """
    referenced = referenced_user_groups(config)
    if not referenced:
        return None
    try:
        known = await gateway.usergroup_ids()
    except DeliveryFailed as error:
        log.warning("config.user_groups_unchecked", extra={"error": error.failure.code})
        return None
    for group_id, key in referenced.items():
        if group_id not in known:
            return ConfigError(
                key,
                f"Slack has no user group {group_id}; check the id (Slack → People → "
                "User groups → ⋮ → Copy group ID)",
            )
    return None


async def unknown_user_group(config: Config, token: str, api_url: str) -> ConfigError | None:
    """``find_unknown_user_group`` with a client of its own (for ``wso-bot check-config``)."""
    return await find_unknown_user_group(config, SlackGateway(make_web_client(token, api_url)))


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
        expander = StepExpander(config, RecipientResolver(config, self.store, self.gateway))
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
        )
        self._heartbeat: asyncio.Task[None] | None = None
        self._damage_watch: asyncio.Task[None] | None = None
        self.desk = CustodyDesk(config, self.store, self.clock, self.dispatcher)
        self._authorization = CachedAuthorization(settings.slack_bot_token, settings.slack_api_url)
        self.bolt_app = self._build_bolt_app()
        self._requests_in_progress = asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)
        self.web_app = self._build_web_app()
        self._runner: web.AppRunner | None = None
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
            authorize=self._authorization.for_bolt(),
        )
        deps = HandlerDeps(config=self.config, store=self.store, clock=self.clock, desk=self.desk)
        slash_command.register(bolt_app, deps)
        page_actions.register(bolt_app, deps)
        app_home.register(bolt_app, deps)
        return bolt_app

    def _build_web_app(self) -> web.Application:
        web_app = web.Application()
        web_app.router.add_post("/slack/events", self._slack_events)
        web_app.router.add_get("/healthz", self._healthz)
        web_app.router.add_get("/metrics", self._metrics_page)
        return web_app

    async def _slack_events(self, request: web.Request) -> web.Response:
        # Requests beyond the first few wait here, parked, instead of each taking a
        # share of every turn of the event loop: under a burst, the dispatcher's turns
        # come round quickly enough to post due notices on time.
        async with self._requests_in_progress:
            return await self._handle_slack_request(request)

    async def _handle_slack_request(self, request: web.Request) -> web.Response:
        try:
            bolt_request = await to_bolt_request(request)
        except (ValueError, TypeError, AttributeError):  # Bolt parses the body up front and
            # assumes an object; malformed or non-object JSON is the sender's fault
            bolt_request = None
        if bolt_request is None or not is_well_formed(bolt_request.body):
            log.warning("request.malformed", extra={"path": request.path})
            return web.json_response({"error": "malformed request body"}, status=400)
        return await to_aiohttp_response(await self.bolt_app.async_dispatch(bolt_request))

    async def _healthz(self, request: web.Request) -> web.Response:
        report = await self.health()
        return web.json_response(report, status=200 if report["ok"] else 503)

    async def _metrics_page(self, request: web.Request) -> web.Response:
        report = await self.health()
        body = self.metrics.render(
            open_custodies=int(report.get("open_custodies", 0)),
            lag_seconds=float(report.get("lag_seconds", 0.0)),
            undeliverable=int(report.get("undeliverable_notices", 0)),
        )
        return web.Response(body=body, content_type="text/plain", charset="utf-8")

    async def health(self) -> dict[str, Any]:
        """Database reachable, dispatcher running, delivery lag at most 60 s; plus failures."""
        report: dict[str, Any] = {
            "dispatcher": "running" if self.dispatcher.is_running else "stopped"
        }
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
        report["ok"] = (
            report["database"] == "ok"
            and self.dispatcher.is_running
            and report.get("lag_seconds", 0.0) <= MAX_HEALTHY_LAG_SECONDS
        )
        report["notices_sent"] = self.dispatcher.stats.sent
        report["dispatcher_ticks"] = self.dispatcher.stats.ticks
        report["last_slack_error"] = self.dispatcher.stats.last_error
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

    async def heartbeat_due(self) -> bool:
        """Healthy and nothing overdue: the dead man's switch may be told all is well."""
        report = await self.health()
        return bool(report["ok"]) and report.get("lag_seconds", 0.0) <= HEARTBEAT_MAX_LAG_SECONDS

    async def start(self, host: str | None = None, port: int | None = None) -> int:
        """Open the store, start the dispatcher and listen. Returns the bound port.

        Raises ``ConfigError`` if Slack says a configured user group does not exist, and
        ``DatabaseUnusable`` if the database is in use by another process or damaged.
        """
        await self._check_user_groups()
        # Before anything else is opened: a database in use or damaged stops the start here.
        await self.store.open()
        await self.gateway.open_session()
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
        self._damage_watch = asyncio.create_task(self._stop_dispatcher_if_damaged())
        if self.config.heartbeat_url:
            self._heartbeat = asyncio.create_task(self._heartbeat_loop(self.config.heartbeat_url))
        self._runner = web.AppRunner(self.web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner,
            host if host is not None else self.settings.host,
            self.settings.port if port is None else port,
        )
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.settings.port
        log.info("service.started", extra={"port": self.port, "db": str(self.settings.db_path)})
        return self.port

    async def stop(self) -> None:
        """Stop taking requests, let the dispatcher finish its tick, close the database."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        if self._damage_watch is not None:
            self._damage_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._damage_watch
        await self.dispatcher.stop()
        await self.gateway.close()
        await self.store.close()
        await self.pagerduty.close()
        await self.webhooks.close()
        log.info("service.stopped")

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
        """Refuse to start with a user group Slack doesn't know; go on if Slack is unreachable."""
        problem = await find_unknown_user_group(self.config, self.gateway)
        if problem is not None:
            raise problem
