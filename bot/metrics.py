"""Prometheus metrics, one registry per app (tests run several apps in one process).

Counters and histograms are updated where things happen; the gauges read from the
database (open incidents, drafts waiting) are refreshed when /metrics is scraped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from bot.incidents.status import OperationalCounts

# Slack gives 3 s; the interesting range is a few milliseconds.
ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _CountSource(Collector):
    """A counter kept as a plain int elsewhere (the domain has no Prometheus in it)."""

    def __init__(self, name: str, documentation: str, read: Callable[[], int]):
        self.name, self.documentation, self.read = name, documentation, read

    def collect(self) -> Iterable[CounterMetricFamily]:
        yield CounterMetricFamily(self.name, self.documentation, value=self.read())


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self.requests = Counter(
            "warroom_slack_requests",
            "Requests from Slack, by kind (command, event, interaction)",
            ["kind"],
            registry=registry,
        )
        self.ack_seconds = Histogram(
            "warroom_slack_ack_seconds",
            "Time from a Slack request's arrival in Bolt to its answer, by kind",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=registry,
        )
        self.api_calls = Counter(
            "warroom_slack_api_calls", "Web API calls, by method", ["method"], registry=registry
        )
        self.api_retries = Counter(
            "warroom_slack_api_retries",
            "Web API retries (429, 5xx, dropped connections), by method",
            ["method"],
            registry=registry,
        )
        self.api_errors = Counter(
            "warroom_slack_api_errors",
            "Web API calls that failed after retries, by method and Slack's error",
            ["method", "error"],
            registry=registry,
        )
        self.slack_last_answer = Gauge(
            "warroom_slack_last_answer_timestamp_seconds",
            "Unix time Slack's Web API last answered (any answer, errors included)",
            registry=registry,
        )
        self.incidents_open = Gauge(
            "warroom_incidents_open", "Open incidents, by severity", ["severity"], registry=registry
        )
        self.drafts_waiting = Gauge(
            "warroom_update_drafts_waiting",
            "Stakeholder update drafts waiting for the comms lead",
            registry=registry,
        )
        self.scheduler_lag = Histogram(
            "warroom_scheduler_lag_seconds",
            "How late scheduler jobs (the update cadence tick) started",
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.last_slack_answer: float | None = None  # Unix time, for /healthz

    def count_stored_events(self, read: Callable[[], int]) -> None:
        self.registry.register(
            _CountSource("warroom_events_stored", "Slack events stored in timelines", read)
        )

    def observe_request(self, kind: str, seconds: float) -> None:
        self.requests.labels(kind).inc()
        self.ack_seconds.labels(kind).observe(seconds)

    def slack_answered(self) -> None:
        self.last_slack_answer = time.time()
        self.slack_last_answer.set(self.last_slack_answer)

    def refresh(self, counts: OperationalCounts, severities: Iterable[str]) -> None:
        self.incidents_open.clear()
        for severity in severities:
            self.incidents_open.labels(severity).set(0)
        for severity, count in counts.open_by_severity.items():
            self.incidents_open.labels(severity).set(count)
        self.drafts_waiting.set(counts.drafts_waiting)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
