"""Prometheus metrics for ``GET /metrics``: one registry per service, not the global one.

Counters are moved by the dispatcher as things happen; gauges that the database
knows (open custodies, lag, undeliverable notices) are read when scraped.
"""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.core.model import Notice

LATENESS_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 3600.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.notices_sent = Counter(
            "wso_notices_sent", "Notices delivered, by kind", ["kind"], registry=self.registry
        )
        self.lateness = Histogram(
            "wso_notice_lateness_seconds",
            "Delivery time minus due time",
            buckets=LATENESS_BUCKETS,
            registry=self.registry,
        )
        self.slack_errors = Counter(
            "wso_delivery_errors",
            "Failed delivery attempts, by error code",
            ["code"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "wso_slack_ratelimited", "Answers of HTTP 429 from Slack", registry=self.registry
        )
        self.tick_failures = Counter(
            "wso_dispatcher_tick_failures",
            "Dispatcher ticks that failed (the store or a bug, not a delivery)",
            registry=self.registry,
        )
        self.sender_failures = Counter(
            "wso_sender_failures",
            "Senders that died recording a notice (the store or a bug, not a delivery)",
            registry=self.registry,
        )
        self.slack_requests = Counter(
            "wso_slack_requests",
            "Verified Slack requests, by the path that answered them: direct (a /wso command "
            "answered by the web face) or bolt (the form, buttons, views, events)",
            ["path"],
            registry=self.registry,
        )
        self.open_custodies = Gauge(
            "wso_open_custodies",
            "Custodies not yet transferred or released",
            registry=self.registry,
        )
        self.lag = Gauge(
            "wso_dispatcher_lag_seconds",
            "How long the oldest due notice has waited",
            registry=self.registry,
        )
        self.undeliverable = Gauge(
            "wso_undeliverable_notices",
            "Notices failing with an error a person must fix",
            registry=self.registry,
        )

    def notice_sent(self, notice: Notice, lateness: timedelta) -> None:
        self.notices_sent.labels(kind=notice.kind.value).inc()
        self.lateness.observe(max(lateness.total_seconds(), 0.0))

    def delivery_failed(self, code: str) -> None:
        self.slack_errors.labels(code=code).inc()
        if code == "ratelimited":
            self.rate_limited.inc()

    def tick_failed(self) -> None:
        self.tick_failures.inc()

    def sender_failed(self) -> None:
        self.sender_failures.inc()

    def render(self, *, open_custodies: int, lag_seconds: float, undeliverable: int) -> bytes:
        self.open_custodies.set(open_custodies)
        self.lag.set(lag_seconds)
        self.undeliverable.set(undeliverable)
        return generate_latest(self.registry)
