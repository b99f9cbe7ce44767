"""The numbers that show whether the process works, over the last 30, 90 or 365 days.

Counted from what was stored while incidents ran, for the incidents declared in the window:
how many and of which severity and playbook; how long it took to identify the cause, to
mitigate (monitoring) and to resolve; whether stakeholder updates kept the playbook's
cadence (the same reckoning as the review's, `updates_kept`); how soon the first update
went out; how often the first rating was wrong (over- or under-escalation); and how many
of their action items are still open, and of those how many are past their due date.

Private incidents are counted like any other but never named: where a number points at one
incident (the longest silence), a private incident stays anonymous.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func
from sqlmodel import col, select

from bot.incidents.actions import ActionState
from bot.incidents.entries import EntryKind, SeverityChanged, payload
from bot.incidents.errors import InvalidRequest
from bot.incidents.lifecycle import IncidentStatus, UpdateStatus
from bot.incidents.privacy import EVERYONE, shown_to
from bot.incidents.review import UpdatesKept, fact_entries, first_reached, updates_kept
from bot.incidents.service import IncidentService
from bot.store.models import ActionItem, Incident, StakeholderUpdate, TimelineEntry

# A private incident is counted, but not under its playbook: "security-breach 1" would
# say what happened. Playbook names cannot hold parentheses, so this is no playbook's.
PRIVATE_PLAYBOOK = "(private)"

WINDOWS = {"30d": timedelta(days=30), "90d": timedelta(days=90), "365d": timedelta(days=365)}
DEFAULT_WINDOW = "30d"
REFRESH_EVERY = timedelta(minutes=1)  # how old the numbers on the web may be
# Which incidents count: not drills (a drill rehearses the process; its numbers are the
# drill's scorecard, not these).
COUNTED: tuple = (col(Incident.drill).is_(False),)


@dataclass(frozen=True)
class Spread:
    """How long something took across incidents: the median and the 90th percentile
    (nearest rank: the smallest duration at least 90 % of them did not exceed)."""

    count: int
    median: timedelta | None
    p90: timedelta | None

    @classmethod
    def of(cls, durations: Iterable[timedelta]) -> Spread:
        ordered = sorted(durations)
        if not ordered:
            return cls(0, None, None)
        p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]
        return cls(len(ordered), statistics.median(ordered), p90)


@dataclass(frozen=True)
class IncidentNumbers:
    window: str
    since: datetime
    until: datetime
    incidents: int
    by_severity: dict[str, int]  # by the incident's severity now
    by_playbook: dict[str, int]
    to_identify: Spread  # declared → first identified
    to_mitigate: Spread  # declared → first monitoring (the fix in place)
    to_resolve: Spread  # declared → resolved (the review's milestone: the last resolution)
    # Stakeholder updates sent while incidents were open, against each one's cadence.
    updates_sent: int
    updates_on_time: int
    longest_silence: timedelta | None
    longest_silence_in: str | None  # the incident's reference; None when it is private
    to_first_update: Spread
    downgraded: int  # re-rated less severe after declaring: over-escalated
    raised: int  # re-rated more severe: under-escalated
    # The window's incidents' action items not done yet, and those of them overdue (from
    # the day after their due date, UTC, as their owners' reminders count it).
    action_items_open: int
    action_items_overdue: int

    @property
    def on_time_share(self) -> float | None:
        return self.updates_on_time / self.updates_sent if self.updates_sent else None


class LatestNumbers:
    """Each window's numbers as last gathered, for `/status.json` and `/metrics`: a
    request never gathers them (a year of incidents is four queries and some arithmetic),
    the scheduler does, at startup and every REFRESH_EVERY."""

    def __init__(self, service: IncidentService):
        self.service = service
        self.windows: dict[str, IncidentNumbers] = {}  # empty until the first refresh

    async def refresh(self) -> None:
        self.windows = {window: await gather_numbers(self.service, window) for window in WINDOWS}


@dataclass(frozen=True)
class _Record:
    """One incident's part in the numbers."""

    incident: Incident
    changes: list[TimelineEntry]  # status and severity changes, oldest first
    kept: UpdatesKept | None  # None: no cadence to keep


def in_seconds(duration: timedelta | None) -> float | None:
    """A duration for machines (JSON, Prometheus); None where no incident got there."""
    return None if duration is None else duration.total_seconds()


def parse_window(text: str | None) -> str:
    window = (text or DEFAULT_WINDOW).strip().lower()
    if window not in WINDOWS:
        raise InvalidRequest(f"Pick a window: {', '.join(WINDOWS)}.")
    return window


async def gather_numbers(service: IncidentService, window: str) -> IncidentNumbers:
    until = service.clock()
    since = until - WINDOWS[window]
    records, (items_open, items_overdue) = await _records(service, since, until)
    with_updates = [r for r in records if r.kept is not None]
    silences = [(r.kept.longest_silence, r.incident) for r in with_updates]
    longest, longest_in = max(silences, key=lambda s: s[0], default=(None, None))
    reratings = [[payload(e) for e in r.changes if e.kind == EntryKind.SEVERITY] for r in records]
    return IncidentNumbers(
        window=window,
        since=since,
        until=until,
        incidents=len(records),
        by_severity=dict(sorted(Counter(r.incident.severity for r in records).items())),
        by_playbook=dict(sorted(Counter(_playbook_shown(r.incident) for r in records).items())),
        to_identify=Spread.of(_since_declared(records, IncidentStatus.IDENTIFIED)),
        to_mitigate=Spread.of(_since_declared(records, IncidentStatus.MONITORING)),
        to_resolve=Spread.of(
            r.incident.resolved_at - r.incident.declared_at
            for r in records
            if r.incident.resolved_at
        ),
        updates_sent=sum(r.kept.sent_while_open for r in with_updates),
        updates_on_time=sum(r.kept.on_time for r in with_updates),
        longest_silence=longest,
        longest_silence_in=None
        if longest_in is None or not shown_to(longest_in, EVERYONE)
        else longest_in.reference,
        to_first_update=Spread.of(
            r.kept.first_after for r in with_updates if r.kept.first_after is not None
        ),
        downgraded=sum(1 for changes in reratings if any(map(_less_severe, changes))),
        raised=sum(1 for changes in reratings if any(map(_more_severe, changes))),
        action_items_open=items_open,
        action_items_overdue=items_overdue,
    )


async def _records(
    service: IncidentService, since: datetime, until: datetime
) -> tuple[list[_Record], tuple[int, int]]:
    """The window's incidents with their status and severity changes and their updates,
    and their open and overdue action items: four queries, none reading the timeline's
    messages."""
    declared = (
        col(Incident.declared_at) >= since,
        col(Incident.declared_at) <= until,
        *COUNTED,
    )
    in_window = select(Incident.id).where(*declared)
    async with service.db.snapshot_read() as session:
        incidents = (await session.exec(select(Incident).where(*declared))).all()
        changes = await session.exec(fact_entries(col(TimelineEntry.incident_id).in_(in_window)))
        updates = await session.exec(
            select(StakeholderUpdate).where(
                col(StakeholderUpdate.incident_id).in_(in_window),
                col(StakeholderUpdate.status).in_([UpdateStatus.SENT, UpdateStatus.SKIPPED]),
            )
        )
        changes_of, updates_of = _by_incident(changes.all()), _by_incident(updates.all())
        items = (await session.exec(_action_items(in_window, until))).one()
    records = [
        _Record(
            incident,
            changes_of.get(incident.id, []),
            _kept(service, incident, updates_of.get(incident.id, []), until),
        )
        for incident in sorted(incidents, key=lambda i: i.id)
    ]
    return records, (items[0], items[1] or 0)


def _action_items(in_window, now: datetime):
    """How many of the incidents' action items are open, and how many of those overdue:
    due before today (UTC), so overdue from the day after, as `first_reminder` has it."""
    today = now.astimezone(UTC).date()
    overdue = case((col(ActionItem.due) < today, 1), else_=0)
    return select(func.count(), func.sum(overdue)).where(
        col(ActionItem.incident_id).in_(in_window), ActionItem.state == ActionState.OPEN
    )


def _by_incident(rows: Iterable) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for row in rows:
        grouped.setdefault(row.incident_id, []).append(row)
    return grouped


def _kept(
    service: IncidentService, incident: Incident, updates: list[StakeholderUpdate], now: datetime
) -> UpdatesKept | None:
    """Updates against the cadence, as the review reckons them: for incidents that are
    major, or had updates anyway, and whose severity has a cadence."""
    playbook = service.playbooks.get(incident.playbook)  # None: no longer configured
    severity = playbook.severities.get(incident.severity) if playbook else None
    if severity is None or severity.update_every is None or not (severity.major or updates):
        return None
    end = incident.resolved_at or now
    return updates_kept(incident.declared_at, end, severity.update_every, updates)


def _since_declared(records: list[_Record], status: str) -> list[timedelta]:
    durations = []
    for record in records:
        reached = first_reached(record.changes).get(status)
        if reached is not None:
            durations.append(reached - record.incident.declared_at)
    return durations


def _rank(severity: str) -> int:
    """SEV0 is the most severe; playbooks name severities SEV0..SEV9."""
    return int(severity.removeprefix("SEV"))


def _less_severe(change: SeverityChanged) -> bool:
    return _rank(change.to) > _rank(change.previous)


def _more_severe(change: SeverityChanged) -> bool:
    return _rank(change.to) < _rank(change.previous)


def _playbook_shown(incident: Incident) -> str:
    return incident.playbook if shown_to(incident, EVERYONE) else PRIVATE_PLAYBOOK
