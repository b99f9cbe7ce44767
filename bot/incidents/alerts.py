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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents.alert_rows import (
    ALERT_COLUMNS,
    FIRING,
    RESOLVED,
    StoredGroup,
    alert_entry,
    alert_name,
    is_news,
    lock_groups,
    write_back,
)
from bot.incidents.claims import claim
from bot.incidents.errors import InvalidRequest, NotFound
from bot.incidents.lifecycle import IncidentStatus
from bot.store import Database, insert_ignoring_duplicates
from bot.store.models import Alert, AlertGroup, Incident
from bot.store.types import utcnow

MAX_TITLE = 150
REMEMBERED_GROUPS = 10_000
# Claims die with their holder; then the work waits out the lease. Declaring from alerts
# holds its claim only until the incident is stored (the room is the declaration's own
# recorded work); telling the war room holds it for one post.
DECLARE_LEASE = timedelta(seconds=10)
NOTICE_LEASE = timedelta(seconds=15)
Linking = Callable[[AsyncSession, Incident], Awaitable[None]]


class AlreadyDeclared(InvalidRequest):
    """An auto_declare found its alert group declared already: nothing more to declare."""


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


class AlertDesk:
    def __init__(
        self, db: Database, clock: Callable[[], datetime] = utcnow, auto_declare: bool = False
    ):
        """`auto_declare`: a playbook may declare from alerts, so each new group is checked
        (`claim_auto_declares`)."""
        self.db = db
        self.clock = clock
        self.auto_declare = auto_declare
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
        """One transaction for the batch: new groups in one INSERT, every group of the batch
        read and locked in one query (in group-key order, so two replicas' batches lock in
        the same order), the deliveries applied in arrival order in memory, and what they
        changed written back in one statement per table. Core rows, not ORM objects."""
        keys = sorted({delivery.group_key for delivery, _, _ in batch})
        async with self.db.queued_transaction() as session:
            created = await self._insert_groups(session, [d for d, known, _ in batch if not known])
            groups = await lock_groups(session, keys)
            results = []
            for delivery, _, _ in batch:
                group = groups[delivery.group_key]
                results.append(self._apply(group, delivery, group.key in created))
                created.discard(group.key)  # a group is new for its first delivery only
            await _keep_closed_incidents_final(session, groups.values())
            await write_back(session, groups.values())
        return results

    async def _insert_groups(self, session: AsyncSession, deliveries: list[Delivery]) -> set:
        """Insert the groups not stored yet; the keys of those this call really inserted."""
        firsts: dict[str, Delivery] = {}
        for delivery in sorted(deliveries, key=lambda d: d.group_key):
            firsts.setdefault(delivery.group_key, delivery)
        if not firsts:
            return set()
        rows = [
            {
                "group_key": key,
                "source": delivery.source,
                "receiver": delivery.receiver,
                "common_labels": delivery.common_labels,
                "status": FIRING,
                "first_fired_at": min((a.starts_at for a in delivery.alerts), default=self.clock()),
                "version": 1,
                "shown_version": 0,
                "resolution_told": False,
                "auto_declare_pending": self.auto_declare,
            }
            for key, delivery in firsts.items()
        ]
        inserted = await session.exec(
            insert_ignoring_duplicates(self.db, AlertGroup.__table__, ["group_key"]).values(rows)
        )
        return set(inserted.scalars().all())

    def _apply(self, group: StoredGroup, delivery: Delivery, created: bool) -> Received:
        was_firing = group.status == FIRING
        changes = group.take(delivery.alerts)
        if not (changes or created):
            return Received(group.id, False, False, False, None)
        group.settle(self.clock())
        if group.incident_id is not None:
            group.entries += [alert_entry(group.id, group.incident_id, a) for a in changes]
        resolved_now = was_firing and group.status == RESOLVED
        return Received(group.id, created, True, resolved_now, group.incident_id)

    async def _repeat(self, delivery: Delivery) -> tuple[Received | None, bool]:
        """A delivery with nothing new (a repeat, a retry), found with one read and no write
        transaction: the common case in a storm. Skipping it is safe even while another
        delivery writes, as a write only ever makes the stored state newer. Also says
        whether the group is known (then it needs no INSERT)."""
        groups, alerts = AlertGroup.__table__, Alert.__table__
        fingerprints = [a.fingerprint for a in delivery.alerts]
        async with self.db.snapshot_read() as session:
            rows = (
                await session.exec(
                    select(groups.c.id, *ALERT_COLUMNS)
                    .join(alerts, alerts.c.group_id == groups.c.id)
                    .where(
                        groups.c.group_key == delivery.group_key,
                        alerts.c.fingerprint.in_(fingerprints),
                    )
                )
            ).all()
        stored = {row.fingerprint: row for row in rows}
        if not rows or any(
            a.fingerprint not in stored or is_news(stored[a.fingerprint], a)
            for a in delivery.alerts
        ):
            return None, bool(rows)
        return Received(rows[0][0], False, False, False, None), True

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

    async def unshown(self, group_ids: list[int] | None = None) -> list[int]:
        """Groups whose triage message is behind their state (after a restart, say), of
        `group_ids` (else all), leaving out a first post another poster holds the claim on."""
        now = self.clock()
        query = select(AlertGroup.id).where(
            col(AlertGroup.shown_version) < col(AlertGroup.version),
            col(AlertGroup.triage_ts).is_not(None) | _lease_free(AlertGroup.post_lease_until, now),
        )
        if group_ids is not None:
            query = query.where(col(AlertGroup.id).in_(group_ids))
        async with self.db.snapshot_read() as session:
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
            group.auto_declare_pending = False
            group.version += 1
            return await self._view(session, group_id)

    def linking(self, group_id: int, exclusive: bool) -> Linking:
        """Link the group to the incident being declared, in the declaration's transaction:
        its alerts go into the timeline. The first declaration wins; for an `exclusive` one
        (auto_declare) a group already declared refuses it, so it is rolled back whole and
        a retry after a crash never makes a second incident."""

        async def link(session: AsyncSession, incident: Incident) -> None:
            linked = await session.exec(
                update(AlertGroup)
                .where(col(AlertGroup.id) == group_id, col(AlertGroup.incident_id).is_(None))
                .values(
                    incident_id=incident.id,
                    dismissed_by=None,
                    dismissed_reason=None,
                    auto_declare_pending=False,
                    version=AlertGroup.version + 1,
                )
                .returning(AlertGroup.id)
            )
            if linked.first() is None:
                if exclusive:
                    raise AlreadyDeclared(f"Alert group {group_id} is already an incident.")
                return
            alerts = await session.exec(
                select(*ALERT_COLUMNS).where(Alert.group_id == group_id).order_by(Alert.starts_at)
            )
            session.add_all([alert_entry(group_id, incident.id, a) for a in alerts])

        return link

    async def claim_auto_declares(self, lease: timedelta = DECLARE_LEASE) -> list[int]:
        """New groups whose auto_declare check is not done (this process's, or one a dead
        process left), each claimed by one replica under a lease."""
        now = self.clock()
        due = (
            col(AlertGroup.auto_declare_pending).is_(True),
            col(AlertGroup.incident_id).is_(None),
            _lease_free(AlertGroup.declare_lease_until, now),
        )
        return await claim(self.db, AlertGroup.id, due, declare_lease_until=now + lease)

    async def auto_declare_checked(self, group_id: int) -> None:
        """The group's alerts do not call for a declaration (or no longer can)."""
        await self._set(group_id, auto_declare_pending=False, declare_lease_until=None)

    async def claim_resolution_notices(self, lease: timedelta = NOTICE_LEASE) -> list[int]:
        """Groups whose incident's war room is yet to hear that the alerts resolved, each
        claimed under a lease: told is recorded after the post, so a teller that dies in
        between leaves it to be told again when the lease runs out (at least once)."""
        now = self.clock()
        due = (
            AlertGroup.status == RESOLVED,
            col(AlertGroup.incident_id).is_not(None),
            col(AlertGroup.resolution_told).is_(False),
            _lease_free(AlertGroup.resolution_lease_until, now),
        )
        return await claim(self.db, AlertGroup.id, due, resolution_lease_until=now + lease)

    async def resolution_told(self, group_id: int) -> None:
        await self._set(group_id, resolution_told=True, resolution_lease_until=None)

    async def _set(self, group_id: int, **values) -> None:
        async with self.db.queued_transaction() as session:
            await session.exec(
                update(AlertGroup).where(col(AlertGroup.id) == group_id).values(**values)
            )

    @staticmethod
    async def _locked(session: AsyncSession, group_id: int) -> AlertGroup:
        query = select(AlertGroup).where(AlertGroup.id == group_id).with_for_update()
        group = (await session.exec(query)).first()
        if group is None:
            raise NotFound(f"There is no alert group {group_id}.")
        return group


async def _keep_closed_incidents_final(session: AsyncSession, groups) -> None:
    """Closed is final: a closed incident's timeline takes no more alert changes."""
    incident_ids = {g.incident_id for g in groups if g.entries}
    if not incident_ids:
        return
    closed = set(
        (
            await session.exec(
                select(Incident.id).where(
                    col(Incident.id).in_(incident_ids), Incident.status == IncidentStatus.CLOSED
                )
            )
        ).all()
    )
    for group in groups:
        if group.incident_id in closed:
            group.entries = []


def _lease_free(column, now: datetime):
    return col(column).is_(None) | (col(column) < now)
