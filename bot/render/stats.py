"""The numbers as text for people: one fact a line, durations as the playbooks write them."""

from __future__ import annotations

from bot.incidents.privacy import PRIVATE
from bot.incidents.stats import WINDOWS, IncidentNumbers, Spread, in_seconds
from bot.playbooks import format_duration


def numbers_text(numbers: IncidentNumbers) -> str:
    days = WINDOWS[numbers.window].days
    since = numbers.since.strftime("%Y-%m-%d")
    if not numbers.incidents:
        return f"No incidents declared in the last {days} days (since {since})."
    lines = [
        f"{_count(numbers.incidents, 'incident')} declared in the last {days} days "
        f"(since {since}).",
        "By severity: " + _tally(numbers.by_severity),
        "By playbook: " + _tally(numbers.by_playbook),
        "Time to identify: " + _spread(numbers.to_identify),
        "Time to mitigate: " + _spread(numbers.to_mitigate),
        "Time to resolve: " + _spread(numbers.to_resolve),
        "Stakeholder updates on time: " + _on_time(numbers),
    ]
    if numbers.longest_silence is not None:
        where = numbers.longest_silence_in or PRIVATE
        lines.append(f"Longest silence: {format_duration(numbers.longest_silence)} ({where}).")
    lines += [
        "First update: " + _spread(numbers.to_first_update, " after declaring"),
        f"Re-rated after declaring: {numbers.downgraded} downgraded (over-escalated), "
        f"{numbers.raised} raised (under-escalated).",
        f"Action items still open: {numbers.action_items_open}, "
        f"{numbers.action_items_overdue} of them overdue.",
    ]
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _tally(counts: dict[str, int]) -> str:
    return " · ".join(f"{name} {n}" for name, n in counts.items())


def _spread(spread: Spread, after: str = "") -> str:
    if not spread.count:
        return "no incident got there."
    return (
        f"median {format_duration(spread.median)}, 90th percentile "
        f"{format_duration(spread.p90)}{after} ({_count(spread.count, 'incident')})."
    )


def _on_time(numbers: IncidentNumbers) -> str:
    if not numbers.updates_sent:
        return "none sent."
    share = round(100 * numbers.on_time_share)
    return (
        f"{numbers.updates_on_time} of {numbers.updates_sent} ({share}%), each within its "
        "incident's cadence of the one before."
    )


def numbers_json(windows: dict[str, IncidentNumbers]) -> dict:
    """Each window's numbers for machines: durations in seconds, null where no incident
    got there; no incident is named but by reference, and a private one not at all."""
    return {window: _window_json(numbers) for window, numbers in windows.items()}


def _window_json(numbers: IncidentNumbers) -> dict:
    return {
        "since": numbers.since.isoformat(),
        "until": numbers.until.isoformat(),
        "incidents": numbers.incidents,
        "by_severity": numbers.by_severity,
        "by_playbook": numbers.by_playbook,
        "time_to_identify": _spread_json(numbers.to_identify),
        "time_to_mitigate": _spread_json(numbers.to_mitigate),
        "time_to_resolve": _spread_json(numbers.to_resolve),
        "time_to_first_update": _spread_json(numbers.to_first_update),
        "updates_sent": numbers.updates_sent,
        "updates_on_time": numbers.updates_on_time,
        "longest_silence_seconds": in_seconds(numbers.longest_silence),
        "longest_silence_in": numbers.longest_silence_in,
        "downgraded": numbers.downgraded,
        "raised": numbers.raised,
        "action_items_open": numbers.action_items_open,
        "action_items_overdue": numbers.action_items_overdue,
    }


def _spread_json(spread: Spread) -> dict:
    return {
        "incidents": spread.count,
        "median_seconds": in_seconds(spread.median),
        "p90_seconds": in_seconds(spread.p90),
    }
