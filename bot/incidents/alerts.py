"""Alerts from monitoring: kept by group (one triage record each) and by fingerprint.

A monitoring system delivers at least once and repeats itself: Alertmanager re-sends a
group's firing alerts every `repeat_interval` and retries failed deliveries. So a delivery
changes nothing unless an alert is new, resolved, fired again or changed its labels or
annotations; each real change bumps the group's `version`, which the triage message
catches up with. Deliveries for one group are serialised on its row (one lock per group).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents.entries import AlertChanged, new_entry
from bot.incidents.errors import InvalidRequest, NotFound
from bot.incidents.lifecycle import IncidentStatus
from bot.store import Database, insert_ignoring_duplicates
from bot.store.models import Alert, AlertGroup, Incident
from bot.store.types import utcnow

FIRING, RESOLVED = "firing", "resolved"
MAX_TITLE = 150
REMEMBERED_GROUPS = 10_000


@dataclass(frozen=True)
class AlertIn:
    """One alert as a monitoring system reports it."""

    fingerprint: str
    status: str  # firing, resolved
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None = None
    generator_url: str = ""

    @property
    def name(self) -> str:
        return alert_name(self.labels, self.annotations)


@dataclass(frozen=True)
class Delivery:
    """One notification: some alerts of one group."""

    group_key: str
    source: str
    alerts: list[AlertIn]
    receiver: str = ""
    common_labels: dict[str, str] = field(default_factory=dict)

    def digest(self) -> int:
        """Equal for deliveries that say the same about the same alerts."""
        return hash(
            tuple(
                (
                    a.fingerprint,
                    a.status,
                    a.starts_at,
                    tuple(sorted(a.labels.items())),
                    tuple(sorted(a.annotations.items())),
                )
                for a in self.alerts
            )
        )


@dataclass(frozen=True)
class Received:
    group_id: int
    created: bool  # the group is new: it needs a triage message
    changed: bool  # something the triage message shows changed
    resolved_now: bool  # the last firing alert of the group resolved with this delivery
    incident_id: int | None  # the group's incident, when something changed (else None)


@dataclass(frozen=True)
class GroupView:
    """A group and its alerts, as the triage message and the declare form show them."""

    group: AlertGroup
    alerts: list[Alert]
    war_room: str | None = None  # the declared incident's channel
    incident: Incident | None = None  # the declared incident (private or not)

    @property
    def firing(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == FIRING]

    @property
    def title(self) -> str:
        """What fires: the first firing alert's summary (else the first alert's)."""
        lead = (self.firing or self.alerts)[0]
        return alert_name(lead.labels, lead.annotations)[:MAX_TITLE]

    @property
    def impact(self) -> str:
        lead = (self.firing or self.alerts)[0]
        notes = lead.annotations
        return notes.get("impact") or notes.get("description") or notes.get("summary") or ""

    def label(self, name: str) -> str | None:
        """The label's value on the group (common labels first, else the first alert's)."""
        value = self.group.common_labels.get(name)
        if value is None:
            value = next((a.labels[name] for a in self.alerts if name in a.labels), None)
        return value

    def severity(self, label: str, mapping: dict[str, str]) -> str | None:
        """The playbook severity the alerts call for, by the configured label mapping."""
        value = self.label(label)
        return mapping.get(value) if value is not None else None


def alert_name(labels: dict[str, str], annotations: dict[str, str]) -> str:
    name = labels.get("alertname") or "Alert"
    summary = annotations.get("summary") or annotations.get("title")
    return f"{name}: {summary}" if summary else name


class AlertDesk:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow):
        self.db = db
        self.clock = clock
        # The last delivery this process stored (or found stored) per group: a repeat of it
        # changes nothing, and is recognised without a trip to the database. Any other
        # delivery is judged against the database, so this can only skip work, never a change.
        self._stored: OrderedDict[str, tuple[int, int]] = OrderedDict()
        self._waiting: list[tuple[Delivery, bool, asyncio.Future]] = []
        self._committing = asyncio.Lock()

    async def receive(self, delivery: Delivery) -> Received:
        """Store what is new in a delivery; a repeated delivery changes nothing."""
        digest = delivery.digest()
        remembered = self._stored.get(delivery.group_key)
        if remembered is not None and remembered[1] == digest:
            return Received(remembered[0], False, False, False, None)
        if remembered is not None:
            received = await self._store(delivery, known=True)
        else:
            received, known = await self._repeat(delivery)
            if received is None:
                received = await self._store(delivery, known)
        self._remember(delivery.group_key, received.group_id, digest)
        return received

    def _remember(self, group_key: str, group_id: int, digest: int) -> None:
        self._stored[group_key] = (group_id, digest)
        self._stored.move_to_end(group_key)
        if len(self._stored) > REMEMBERED_GROUPS:
            self._stored.popitem(last=False)

    async def _store(self, delivery: Delivery, known: bool) -> Received:
        """Deliveries that wait for the write together are committed together (a group
        commit): in a storm one transaction stores many, instead of one each."""
        stored = asyncio.get_running_loop().create_future()
        self._waiting.append((delivery, known, stored))
        async with self._committing:  # FIFO: the first holder commits everyone waiting
            if not stored.done():
                batch, self._waiting = self._waiting, []
                try:
                    results = await self._store_together(batch)
                except Exception as error:
                    for *_, waiting in batch:
                        waiting.set_exception(error)
                else:
                    for (*_, waiting), result in zip(batch, results, strict=True):
                        waiting.set_result(result)
        return await stored

    async def _store_together(self, batch: list) -> list[Received]:
        # In group-key order, so two replicas' batches lock groups in the same order.
        order = sorted(range(len(batch)), key=lambda n: batch[n][0].group_key)
        results: list[Received | None] = [None] * len(batch)
        async with self.db.queued_transaction() as session:
            for n in order:
                delivery, known, _ = batch[n]
                results[n] = await self._store_one(session, delivery, known)
        return results

    async def _store_one(self, session: AsyncSession, delivery: Delivery, known: bool) -> Received:
        created = not known and await self._ensure_group(session, delivery)
        group, alerts = await self._lock_group(session, delivery.group_key)
        was_firing = group.status == FIRING
        changes = self._apply_alerts(session, group, alerts, delivery.alerts)
        if not (changes or created):
            return Received(group.id, False, False, False, None)
        self._settle(group, list(alerts.values()))
        if group.incident_id is not None and await _still_recording(session, group.incident_id):
            for alert in changes:
                session.add(self._entry(group, alert))
        return Received(
            group.id,
            created,
            True,
            was_firing and group.status == RESOLVED,
            group.incident_id,
        )

    async def _repeat(self, delivery: Delivery) -> tuple[Received | None, bool]:
        """A delivery with nothing new (a repeat, a retry), found with one read and no write
        transaction: the common case in a storm. Skipping it is safe even while another
        delivery writes, as a write only ever makes the stored state newer. Also says
        whether the group is known (then it needs no INSERT)."""
        fingerprints = [a.fingerprint for a in delivery.alerts]
        async with self.db.snapshot_read() as session:
            rows = (
                await session.exec(
                    select(AlertGroup.id, Alert)
                    .join(Alert, col(Alert.group_id) == col(AlertGroup.id))
                    .where(
                        AlertGroup.group_key == delivery.group_key,
                        col(Alert.fingerprint).in_(fingerprints),
                    )
                )
            ).all()
        stored = {alert.fingerprint: alert for _, alert in rows}
        if not rows or any(
            a.fingerprint not in stored or _is_news(stored[a.fingerprint], a)
            for a in delivery.alerts
        ):
            return None, bool(rows)
        return Received(rows[0][0], False, False, False, None), True

    async def _ensure_group(self, session: AsyncSession, delivery: Delivery) -> bool:
        started = min((a.starts_at for a in delivery.alerts), default=self.clock())
        inserted = await session.exec(
            insert_ignoring_duplicates(self.db, AlertGroup.__table__, ["group_key"]).values(
                group_key=delivery.group_key,
                source=delivery.source,
                receiver=delivery.receiver,
                common_labels=delivery.common_labels,
                status=FIRING,
                first_fired_at=started,
                version=1,
                shown_version=0,
                resolution_told=False,
            )
        )
        return inserted.first() is not None

    @staticmethod
    async def _lock_group(
        session: AsyncSession, group_key: str
    ) -> tuple[AlertGroup, dict[str, Alert]]:
        """The group, locked, with its alerts by fingerprint: one query."""
        query = (
            select(AlertGroup, Alert)
            .outerjoin(Alert, col(Alert.group_id) == col(AlertGroup.id))
            .where(AlertGroup.group_key == group_key)
            .with_for_update(of=AlertGroup)
        )
        rows = (await session.exec(query)).all()
        return rows[0][0], {alert.fingerprint: alert for _, alert in rows if alert is not None}

    @staticmethod
    def _apply_alerts(
        session: AsyncSession, group: AlertGroup, stored: dict[str, Alert], incoming: list[AlertIn]
    ) -> list[Alert]:
        """Insert or update each alert (`stored`: the group's, by fingerprint, gains the new
        ones); the alerts whose state really changed."""
        changed = []
        for alert in incoming:
            row = stored.get(alert.fingerprint)
            if row is None:
                row = Alert(group_id=group.id, fingerprint=alert.fingerprint, status=alert.status)
                stored[alert.fingerprint] = row
                session.add(row)
            elif not _is_news(row, alert):
                continue
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

    def _settle(self, group: AlertGroup, alerts: list[Alert]) -> None:
        """Bump the version and work out the group's status from all its alerts."""
        firing = any(a.status == FIRING for a in alerts)
        if firing and group.status == RESOLVED:
            group.resolution_told = False  # it fired again: its next resolution is news
        group.status = FIRING if firing else RESOLVED
        group.resolved_at = (
            None if firing else max((a.ends_at or self.clock() for a in alerts), default=None)
        )
        group.version += 1

    @staticmethod
    def _entry(group: AlertGroup, alert: Alert):
        at = alert.ends_at if alert.status == RESOLVED and alert.ends_at else alert.starts_at
        name = alert_name(alert.labels, alert.annotations)
        what = AlertChanged(group.id, alert.fingerprint, alert.status, name)
        return new_entry(
            group.incident_id, at, what, actor=None, text=f"Alert {alert.status}: {name}"
        )

    # -- reading -------------------------------------------------------------------------------

    async def view(self, group_id: int) -> GroupView:
        async with self.db.snapshot_read() as session:
            return await self._view(session, group_id)

    @staticmethod
    async def _view(session: AsyncSession, group_id: int) -> GroupView:
        group = await session.get(AlertGroup, group_id)
        if group is None:
            raise NotFound(f"There is no alert group {group_id}.")
        alerts = (
            await session.exec(
                select(Alert).where(Alert.group_id == group_id).order_by(col(Alert.starts_at))
            )
        ).all()
        incident = await session.get(Incident, group.incident_id) if group.incident_id else None
        return GroupView(group, list(alerts), incident.channel_id if incident else None, incident)

    async def unshown(self) -> list[int]:
        """Groups whose triage message is behind their state (after a restart, say)."""
        async with self.db.snapshot_read() as session:
            query = select(AlertGroup.id).where(
                col(AlertGroup.shown_version) < col(AlertGroup.version)
            )
            return list((await session.exec(query)).all())

    # -- the triage message --------------------------------------------------------------------

    async def claim_first_post(self, group_id: int, lease_seconds: float = 30) -> bool:
        """Whether this caller posts the group's triage message (once, across replicas)."""
        now = self.clock()
        async with self.db.queued_transaction() as session:
            claimed = await session.exec(
                update(AlertGroup)
                .where(
                    AlertGroup.id == group_id,
                    col(AlertGroup.triage_ts).is_(None),
                    col(AlertGroup.post_lease_until).is_(None)
                    | (col(AlertGroup.post_lease_until) < now),
                )
                .values(post_lease_until=now + timedelta(seconds=lease_seconds))
                .returning(AlertGroup.id)
            )
            return claimed.first() is not None

    async def release_first_post(self, group_id: int) -> None:
        """The first post failed: let the next attempt (here or elsewhere) claim it at once."""
        async with self.db.queued_transaction() as session:
            await session.exec(
                update(AlertGroup)
                .where(AlertGroup.id == group_id, col(AlertGroup.triage_ts).is_(None))
                .values(post_lease_until=None)
            )

    async def shown(
        self, group_id: int, version: int, channel: str | None = None, ts: str | None = None
    ) -> None:
        """The triage message now shows `version` (and, when first posted, where it is)."""
        values: dict = {"shown_version": version}
        if ts is not None:
            values |= {"triage_channel": channel, "triage_ts": ts, "post_lease_until": None}
        async with self.db.queued_transaction() as session:
            await session.exec(
                update(AlertGroup)
                .where(AlertGroup.id == group_id, col(AlertGroup.shown_version) < version)
                .values(**values)
            )

    # -- decisions -----------------------------------------------------------------------------

    async def dismiss(self, group_id: int, by: str, reason: str) -> GroupView:
        async with self.db.queued_transaction() as session:
            group = await self._locked(session, group_id)
            if group.incident_id is not None:
                raise InvalidRequest("These alerts are already an incident; they stay.")
            group.dismissed_by, group.dismissed_reason = by, reason.strip()
            group.version += 1
            return await self._view(session, group_id)

    async def declared(self, group_id: int, incident_id: int) -> tuple[GroupView, bool]:
        """Link a new incident to the group; its alerts go into the timeline. Returns the
        group and whether this incident is the group's (the first declaration wins)."""
        async with self.db.queued_transaction() as session:
            group = await self._locked(session, group_id)
            if group.incident_id is not None:
                return await self._view(session, group_id), group.incident_id == incident_id
            group.incident_id = incident_id
            group.dismissed_by = group.dismissed_reason = None
            group.version += 1
            view = await self._view(session, group_id)
            for alert in view.alerts:
                session.add(self._entry(group, alert))
            return view, True

    async def claim_resolution_notice(self, group_id: int) -> bool:
        """Whether this caller tells the war room that the group's alerts resolved (once)."""
        async with self.db.queued_transaction() as session:
            claimed = await session.exec(
                update(AlertGroup)
                .where(
                    AlertGroup.id == group_id,
                    AlertGroup.status == RESOLVED,
                    col(AlertGroup.incident_id).is_not(None),
                    col(AlertGroup.resolution_told).is_(False),
                )
                .values(resolution_told=True)
                .returning(AlertGroup.id)
            )
            return claimed.first() is not None

    @staticmethod
    async def _locked(session: AsyncSession, group_id: int) -> AlertGroup:
        query = select(AlertGroup).where(AlertGroup.id == group_id).with_for_update()
        group = (await session.exec(query)).first()
        if group is None:
            raise NotFound(f"There is no alert group {group_id}.")
        return group


def _is_news(row: Alert, alert: AlertIn) -> bool:
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


async def _still_recording(session: AsyncSession, incident_id: int) -> bool:
    """Closed is final: a closed incident's timeline takes no more alert changes."""
    incident = await session.get(Incident, incident_id)
    return incident is not None and incident.status != IncidentStatus.CLOSED
