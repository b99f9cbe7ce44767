"""Action items: the follow-ups an incident leaves, each with an owner and a due date.

Owners are reminded of open items past their due date, then weekly while they stay open.
Reminders are claimed like stakeholder update drafts: one UPDATE … RETURNING moves each
due item's `remind_at` on, so across replicas each reminder goes out once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlmodel import col, select

from bot.incidents.errors import InvalidRequest, NotFound
from bot.incidents.lifecycle import refuse_if_closed
from bot.incidents.permissions import Action, Actor
from bot.store.models import ActionItem, Incident

if TYPE_CHECKING:
    from bot.incidents.service import IncidentService

MAX_ACTION = 1000
REMIND_EVERY = timedelta(days=7)
# A claimed reminder is leased: if its direct message is not confirmed sent within this
# time (Slack failed, the process died), any replica claims it again.
REMINDER_LEASE = timedelta(minutes=5)


class ActionState(StrEnum):
    OPEN = "open"
    DONE = "done"


def first_reminder(due: date | None) -> datetime | None:
    """Overdue from the day after it was due (UTC)."""
    if due is None:
        return None
    return datetime.combine(due + timedelta(days=1), time(), tzinfo=UTC)


@dataclass(frozen=True)
class Reminder:
    """One owner's open overdue items, claimed for one direct message."""

    owner: str
    items: list[tuple[ActionItem, str]]  # each with its incident's reference


class ActionItems:
    def __init__(self, incidents: IncidentService):
        self.incidents = incidents
        self.db = incidents.db
        self.clock = incidents.clock

    async def add(
        self,
        incident_id: int,
        text: str,
        by: str,
        owner: str | None = None,
        due: date | None = None,
        permalink: str | None = None,
    ) -> ActionItem:
        text = " ".join(text.split())
        if not text:
            raise InvalidRequest("Say what is to be done.")
        if len(text) > MAX_ACTION:
            raise InvalidRequest(f"Keep an action item under {MAX_ACTION} characters.")
        item = ActionItem(
            incident_id=incident_id,
            text=text,
            owner=owner,
            due=due,
            created_by=by,
            created_at=self.clock(),
            remind_at=first_reminder(due) if owner else None,
            permalink=permalink,
        )
        async with self.db.transaction() as session:
            incident = await session.get(Incident, incident_id)
            if incident is None:
                raise NotFound(f"There is no incident {incident_id}.")
            # Closed is final: its follow-ups were settled at close. Those already listed
            # are still marked done or reassigned, as they outlive the incident.
            refuse_if_closed(incident)
            session.add(item)
        return item

    async def of_incident(self, incident_id: int) -> list[ActionItem]:
        async with self.db.snapshot_read() as session:
            query = (
                select(ActionItem)
                .where(ActionItem.incident_id == incident_id)
                .order_by(col(ActionItem.id))
            )
            return list((await session.exec(query)).all())

    async def get(self, item_id: int) -> ActionItem:
        async with self.db.snapshot_read() as session:
            return await self._load(session, item_id)

    async def changeable(self, item_id: int, by: Actor | str) -> ActionItem:
        """The item, if `by` may change it (checked again when they do)."""
        async with self.db.snapshot_read() as session:
            item = await self._load(session, item_id)
            await self._may_change(session, item, by)
            return item

    async def mark_done(self, item_id: int, by: Actor | str) -> ActionItem:
        """By the incident's role holders, an incident admin or the item's owner."""
        async with self.db.transaction() as session:
            item = await self._load(session, item_id, for_update=True)
            by = await self._may_change(session, item, by, also=(("its owner", item.owner),))
            if item.state == ActionState.DONE:
                raise InvalidRequest(f"Action {item.id} is already done.")
            item.state, item.done_by, item.done_at = ActionState.DONE, by, self.clock()
            item.remind_at = None
            return item

    async def reassign(self, item_id: int, owner: str, by: Actor | str) -> ActionItem:
        async with self.db.transaction() as session:
            item = await self._load(session, item_id, for_update=True)
            await self._may_change(session, item, by)
            if item.owner == owner:
                raise InvalidRequest("They already own it.")
            item.owner = owner
            if item.state == ActionState.OPEN:
                item.remind_at = first_reminder(item.due)
            return item

    async def claim_reminders(self) -> list[Reminder]:
        """Open items whose reminder is due, leased to this caller, grouped by owner;
        `reminded` moves them on a week once the message is sent."""
        now = self.clock()
        async with self.db.transaction() as session:
            claimed = (
                await session.exec(
                    update(ActionItem)
                    .where(
                        col(ActionItem.remind_at) <= now,
                        ActionItem.state == ActionState.OPEN,
                        col(ActionItem.owner).is_not(None),
                    )
                    .values(remind_at=now + REMINDER_LEASE)
                    .returning(ActionItem.id)
                )
            ).all()
            if not claimed:
                return []
            rows = await session.exec(
                select(ActionItem, Incident)
                .join(Incident, col(Incident.id) == ActionItem.incident_id)
                .where(col(ActionItem.id).in_([row[0] for row in claimed]))
                .order_by(col(ActionItem.due), col(ActionItem.id))
            )
            by_owner: dict[str, list[tuple[ActionItem, str]]] = defaultdict(list)
            for item, incident in rows:
                by_owner[item.owner].append((item, incident.reference))
        return [Reminder(owner, items) for owner, items in by_owner.items()]

    async def reminded(self, reminder: Reminder) -> None:
        """Sent: the next reminder is in a week (if the items are still open then)."""
        async with self.db.transaction() as session:
            await session.exec(
                update(ActionItem)
                .where(
                    col(ActionItem.id).in_([item.id for item, _ in reminder.items]),
                    ActionItem.state == ActionState.OPEN,
                )
                .values(remind_at=self.clock() + REMIND_EVERY)
            )

    async def _may_change(
        self, session, item: ActionItem, by: Actor | str, also: tuple = ()
    ) -> str:
        """Who changes the item, if they may (the playbook's `action_items` permission)."""
        incident = await self.incidents.load_incident(session, item.incident_id)
        return (await self.incidents.require(session, incident, Action.ACTION_ITEMS, by, also)).user

    @staticmethod
    async def _load(session, item_id: int, for_update: bool = False) -> ActionItem:
        query = select(ActionItem).where(ActionItem.id == item_id)
        if for_update:
            query = query.with_for_update()
        item = (await session.exec(query)).first()
        if item is None:
            raise NotFound(f"There is no action item {item_id}.")
        return item
