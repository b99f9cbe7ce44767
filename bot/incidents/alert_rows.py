"""Alert groups and alerts as plain rows, for intake's hot path: a batch of deliveries is
read in one query, applied in memory and written back in one statement per table. No ORM
objects: in a storm their bookkeeping, not the database, would be most of the cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents.entries import AlertChanged, new_entry
from bot.store.models import Alert, AlertGroup, TimelineEntry

FIRING, RESOLVED = "firing", "resolved"
_GROUPS, _ALERTS = AlertGroup.__table__, Alert.__table__
ALERT_COLUMNS = tuple(
    _ALERTS.c[name]
    for name in (
        "id",
        "fingerprint",
        "status",
        "labels",
        "annotations",
        "starts_at",
        "ends_at",
        "generator_url",
    )
)
_ALERT_CHANGES = ("status", "labels", "annotations", "starts_at", "ends_at", "generator_url")
_GROUP_CHANGES = ("status", "resolved_at", "version", "resolution_told")


@dataclass
class StoredAlert:
    id: int | None
    fingerprint: str
    status: str
    labels: dict
    annotations: dict
    starts_at: datetime
    ends_at: datetime | None = None
    generator_url: str = ""
    dirty: bool = False

    def row(self, group_id: int) -> dict:
        return {"group_id": group_id, "fingerprint": self.fingerprint, **self.changes()}

    def changes(self) -> dict:
        values = {name: getattr(self, name) for name in _ALERT_CHANGES}
        return values | ({"alert_id": self.id} if self.id is not None else {})


@dataclass
class StoredGroup:
    id: int
    key: str
    status: str
    version: int
    resolution_told: bool
    resolved_at: datetime | None
    incident_id: int | None
    alerts: dict[str, StoredAlert] = field(default_factory=dict)
    entries: list[TimelineEntry] = field(default_factory=list)
    changed: bool = False

    def take(self, incoming) -> list[StoredAlert]:
        """Insert or update each delivered alert; the alerts whose state really changed."""
        changed = []
        for alert in incoming:
            row = self.alerts.get(alert.fingerprint)
            if row is None:
                row = StoredAlert(None, alert.fingerprint, alert.status, {}, {}, alert.starts_at)
                self.alerts[alert.fingerprint] = row
            elif not is_news(row, alert):
                continue
            else:
                row.dirty = True
            if row.status != alert.status or row.id is None:
                row.status, row.starts_at, row.ends_at = (
                    alert.status,
                    alert.starts_at,
                    alert.ends_at,
                )
            row.labels, row.annotations = alert.labels, alert.annotations
            row.generator_url = alert.generator_url
            changed.append(row)
        return changed

    def settle(self, now: datetime) -> None:
        """Bump the version and work out the group's status from all its alerts."""
        alerts = self.alerts.values()
        firing = any(a.status == FIRING for a in alerts)
        if firing and self.status == RESOLVED:
            self.resolution_told = False  # it fired again: its next resolution is news
        self.status = FIRING if firing else RESOLVED
        self.resolved_at = None if firing else max((a.ends_at or now for a in alerts), default=None)
        self.version += 1
        self.changed = True

    def changes(self) -> dict:
        return {name: getattr(self, name) for name in _GROUP_CHANGES} | {"group_id": self.id}


async def lock_groups(session: AsyncSession, keys: list[str]) -> dict[str, StoredGroup]:
    """The groups with these keys, locked in key order, with all their alerts: one query."""
    query = (
        select(
            _GROUPS.c.id.label("group_id"),
            _GROUPS.c.group_key,
            _GROUPS.c.status.label("group_status"),
            _GROUPS.c.version,
            _GROUPS.c.resolution_told,
            _GROUPS.c.resolved_at,
            _GROUPS.c.incident_id,
            *ALERT_COLUMNS,
        )
        .outerjoin(_ALERTS, _ALERTS.c.group_id == _GROUPS.c.id)
        .where(_GROUPS.c.group_key.in_(keys))
        .order_by(_GROUPS.c.group_key, _ALERTS.c.id)
        .with_for_update(of=_GROUPS)
    )
    groups: dict[str, StoredGroup] = {}
    for row in await session.exec(query):
        group = groups.get(row.group_key)
        if group is None:
            group = groups[row.group_key] = StoredGroup(
                row.group_id,
                row.group_key,
                row.group_status,
                row.version,
                row.resolution_told,
                row.resolved_at,
                row.incident_id,
            )
        if row.id is not None:
            group.alerts[row.fingerprint] = StoredAlert(
                *(row._mapping[c.name] for c in ALERT_COLUMNS)
            )
    return groups


async def write_back(session: AsyncSession, groups) -> None:
    """What the batch changed: one UPDATE for the groups, one INSERT and one UPDATE for
    the alerts, and the timeline entries of groups already an incident."""
    changed = [g for g in groups if g.changed]
    if not changed:
        return
    await session.exec(
        update(_GROUPS)
        .where(_GROUPS.c.id == bindparam("group_id"))
        .values({c: bindparam(c) for c in _GROUP_CHANGES}),
        params=[g.changes() for g in changed],
    )
    alerts = [(g, a) for g in changed for a in g.alerts.values()]
    new = [a.row(g.id) for g, a in alerts if a.id is None]
    if new:
        await session.exec(insert(_ALERTS), params=new)
    altered = [a.changes() for _, a in alerts if a.id is not None and a.dirty]
    if altered:
        await session.exec(
            update(_ALERTS)
            .where(_ALERTS.c.id == bindparam("alert_id"))
            .values({c: bindparam(c) for c in _ALERT_CHANGES}),
            params=altered,
        )
    session.add_all([entry for g in changed for entry in g.entries])


def alert_entry(group_id: int, incident_id: int, alert) -> TimelineEntry:
    """An alert's change as its incident's timeline entry (`alert`: a row or an Alert)."""
    at = alert.ends_at if alert.status == RESOLVED and alert.ends_at else alert.starts_at
    name = alert_name(alert.labels, alert.annotations)
    what = AlertChanged(group_id, alert.fingerprint, alert.status, name)
    return new_entry(incident_id, at, what, actor=None, text=f"Alert {alert.status}: {name}")


def alert_name(labels: dict[str, str], annotations: dict[str, str]) -> str:
    name = labels.get("alertname") or "Alert"
    summary = annotations.get("summary") or annotations.get("title")
    return f"{name}: {summary}" if summary else name


def is_news(row, alert) -> bool:
    """Whether a delivered alert changes the stored one (repeats and stale retries do not).

    While the state holds, only new labels or annotations are news: a sender that stamps
    each repeat with the time it sends it does not make every repeat a change.
    """
    if alert.status != row.status:
        # A retry of an older notification must not undo what came after it: re-firing
        # needs a later start, and a resolution must be of the firing we hold.
        if alert.status == FIRING:
            return alert.starts_at > row.starts_at
        return alert.starts_at >= row.starts_at
    return (alert.labels, alert.annotations) != (row.labels, row.annotations)
