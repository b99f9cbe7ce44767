"""Prometheus metrics, one registry per app (tests run several apps in one process).

Counters and histograms are updated where things happen; the gauges read from the
database (open incidents, drafts waiting) are refreshed when /metrics is scraped; the
numbers of `/incident stats` (`warroom_stats_*`) are read as the scheduler last gathered
them, never gathered for a scrape.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.incidents.stats import IncidentNumbers, in_seconds
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


class _NumbersSource(Collector):
    """The latest numbers of each window (`LatestNumbers.windows`) as gauges."""

    def __init__(self, read: Callable[[], dict[str, IncidentNumbers]]):
        self.read = read

    def collect(self) -> Iterable[GaugeMetricFamily]:
        families = {
            name: GaugeMetricFamily(f"warroom_stats_{name}", documentation, labels=labels)
            for name, documentation, labels in STATS_GAUGES
        }
        for window, numbers in self.read().items():
            for name, labels, value in _stats_samples(numbers):
                if value is not None:
                    families[name].add_metric([window, *labels], value)
        return families.values()


# Each gauge's name (after `warroom_stats_`), help and labels; `window` is 30d, 90d or 365d.
STATS_GAUGES = (
    ("incidents", "Incidents declared in the window (drills left out)", ["window"]),
    ("incidents_by_severity", "Incidents declared, by severity now", ["window", "severity"]),
    ("incidents_by_playbook", "Incidents declared, by playbook", ["window", "playbook"]),
    (
        "time_to_seconds",
        "From declaring to the first identified, monitoring, resolution or sent update: "
        "median (0.5) and 90th percentile (0.9) over the incidents that got there",
        ["window", "milestone", "quantile"],
    ),
    ("updates_sent", "Stakeholder updates sent while incidents were open", ["window"]),
    ("updates_on_time", "Of those, sent within the cadence of the one before", ["window"]),
    ("longest_silence_seconds", "The longest time stakeholders heard nothing", ["window"]),
    ("reratings", "Incidents downgraded or raised after declaring", ["window", "direction"]),
    ("action_items", "Action items still open, and of those overdue", ["window", "state"]),
)


def _stats_samples(numbers: IncidentNumbers) -> Iterable[tuple[str, list[str], float | None]]:
    yield "incidents", [], numbers.incidents
    for severity, count in numbers.by_severity.items():
        yield "incidents_by_severity", [severity], count
    for playbook, count in numbers.by_playbook.items():
        yield "incidents_by_playbook", [playbook], count
    spreads = {
        "identify": numbers.to_identify,
        "mitigate": numbers.to_mitigate,
        "resolve": numbers.to_resolve,
        "first_update": numbers.to_first_update,
    }
    for milestone, spread in spreads.items():
        for quantile, duration in (("0.5", spread.median), ("0.9", spread.p90)):
            yield "time_to_seconds", [milestone, quantile], in_seconds(duration)
    yield "updates_sent", [], numbers.updates_sent
    yield "updates_on_time", [], numbers.updates_on_time
    yield "longest_silence_seconds", [], in_seconds(numbers.longest_silence)
    yield "reratings", ["downgraded"], numbers.downgraded
    yield "reratings", ["raised"], numbers.raised
    yield "action_items", ["open"], numbers.action_items_open
    yield "action_items", ["overdue"], numbers.action_items_overdue


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

    def show_numbers(self, read: Callable[[], dict[str, IncidentNumbers]]) -> None:
        self.registry.register(_NumbersSource(read))

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
