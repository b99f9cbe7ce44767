"""Action items and the problem record in Slack: adding (by command or from a message),
listing with Done / Reassign, telling owners, reminding them of overdue items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial

from bot.incidents import IncidentService, IncidentSnapshot
from bot.incidents.actions import ActionItems, Reminder
from bot.incidents.lessons import Lessons
from bot.incidents.lifecycle import refuse_if_closed
from bot.incidents.permissions import Actor
from bot.lanes import Share
from bot.slack.actors import Actors
from bot.slack.blocks import actions as action_blocks
from bot.slack.flows.card import Card
from bot.slack.flows.outcome import CARD, ROOM, Outcome, Step
from bot.slack.flows.reply import Reply
from bot.slack.gateway import SlackCallFailed, SlackGateway
from bot.slack.people import People
from bot.slack.text import permalink
from bot.slack.viewers import Viewers
from bot.store.models import ActionItem, Incident

LIST_SHOWN = Step("updated the list", "the list could not be updated")


@dataclass
class FollowUps:
    service: IncidentService
    items: ActionItems
    lessons: Lessons
    gateway: SlackGateway
    people: People
    card: Card
    actors: Actors
    viewers: Viewers

    async def add(
        self,
        incident_id: int,
        text: str,
        by: str,
        owner: str | None = None,
        due: date | None = None,
        permalink: str | None = None,
    ) -> None:
        snapshot = await self.service.get(incident_id)
        await self.viewers.require(by, snapshot)  # the form carries the incident's id
        item = await self.items.add(incident_id, text, by, owner, due, permalink)
        incident = snapshot.incident
        outcome = Outcome(f"added action item {item.id} to {incident.reference}")
        await self._tell_room(incident, action_blocks.added_in_room(item, by), outcome)
        if owner and owner != by:
            await self._tell_owner(item, incident, by, outcome)
        outcome.finish()

    async def add_named(
        self,
        snapshot: IncidentSnapshot,
        text: str,
        by: str,
        owner: tuple[str | None, str | None],
        due: date | None,
    ) -> None:
        """From `/incident action`: the owner named by mention or typed `@name`."""
        owner_id = await self.people.resolve(*owner) if any(owner) else None
        await self.add(snapshot.id, text, by, owner_id, due)

    async def show(self, reply: Reply, incident_id: int, replace: bool = False) -> None:
        snapshot = await self.service.get(incident_id)
        items = await self.items.of_incident(incident_id)
        problem = await self.lessons.problem(incident_id)
        await reply(*action_blocks.action_list(snapshot.incident, items, problem), replace)

    async def done(self, reply: Reply, item_id: int, by: str) -> None:
        item = await self.items.mark_done(item_id, await self._acting_on(item_id, by))
        incident = (await self.service.get(item.incident_id)).incident
        outcome = Outcome(f"marked action item {item.id} done")
        done = f"✅ <@{by}> marked done: {action_blocks.item_line(item)}"
        await self._tell_room(incident, done, outcome)
        await outcome.step(LIST_SHOWN, self.show(reply, item.incident_id, replace=True))
        outcome.finish()

    async def open_reassign(
        self, trigger_id: str, item_id: int, channel_id: str | None, user: str
    ) -> None:
        """The reassign form; refused before it opens unless `user` may reassign."""
        item = await self.items.changeable(item_id, await self._acting_on(item_id, user))
        await self.gateway.open_view(trigger_id, action_blocks.reassign_modal(item, channel_id))

    async def reassign(self, item_id: int, owner: str, by: str) -> None:
        item = await self.items.reassign(item_id, owner, await self._acting_on(item_id, by))
        incident = (await self.service.get(item.incident_id)).incident
        outcome = Outcome(f"gave action item {item.id} to <@{owner}>")
        moved = f"🔁 <@{by}> reassigned {action_blocks.item_line(item)}"
        await self._tell_room(incident, moved, outcome)
        if owner != by:
            await self._tell_owner(item, incident, by, outcome)
        outcome.finish()

    async def _acting_on(self, item_id: int, by: str) -> Actor:
        """`by`, once they may see the item's incident: its buttons and forms carry its id."""
        item = await self.items.get(item_id)
        await self.viewers.require(by, await self.service.get(item.incident_id))
        return await self.actors.of(by)

    async def open_form_from_message(
        self, reply: Reply, trigger_id: str, channel_id: str, message: dict
    ) -> None:
        """The shortcut on a war-room message: a form holding its text."""
        snapshot = await self.service.find_by_channel(channel_id)
        if snapshot is None:
            await reply("⚠️ *Add as action item* works on messages in an incident's war room.")
            return
        refuse_if_closed(snapshot.incident)  # said before the form opens
        link = permalink(self.people.workspace(), channel_id, message.get("ts", ""))
        view = action_blocks.action_modal(snapshot.incident, message.get("text", ""), link)
        await self.gateway.open_view(trigger_id, view)

    async def set_problem(self, snapshot: IncidentSnapshot, reference: str, by: str) -> None:
        record = await self.lessons.set_problem(snapshot.id, reference, await self.actors.of(by))
        incident = snapshot.incident
        outcome = Outcome(f"recorded the problem record for {incident.reference}")
        said = action_blocks.problem_set(record, incident.reference)
        await outcome.step(ROOM, self.gateway.post(incident.channel_id, said))
        await outcome.step(CARD, partial(self.card.refresh, snapshot.id))
        outcome.finish()

    async def _tell_room(self, incident: Incident, text: str, outcome: Outcome) -> None:
        """Say it in the war room, unless the room was archived when the incident closed:
        the follow-ups outlive the room, and there is nobody there to tell."""
        try:
            await self.gateway.post(incident.channel_id, text)
        except SlackCallFailed as failure:
            if failure.error != "is_archived":
                outcome.fail(ROOM, str(failure))
            return
        outcome.did(ROOM)

    async def _tell_owner(
        self, item: ActionItem, incident: Incident, by: str, outcome: Outcome
    ) -> None:
        told = Step(f"told <@{item.owner}>", f"<@{item.owner}> was not told")
        message = action_blocks.assigned_to_owner(item, incident, by)
        await outcome.step(told, self.gateway.post(item.owner, message))

    async def claim_reminders(self) -> list[Share]:
        """From the scheduler: each owner of open overdue items gets one direct message, in
        a lane of their own (one DM that hangs delays nobody else's). A reminder Slack
        refused is not lost: the claim's lease runs out and a later tick sends it again."""
        today = self.items.clock().date()
        return [
            Share(
                ("owner", reminder.owner),
                f"remind <@{reminder.owner}> of their action items",
                partial(self._remind, reminder, today),
            )
            for reminder in await self.items.claim_reminders()
        ]

    async def _remind(self, reminder: Reminder, today: date) -> None:
        await self.gateway.post(reminder.owner, action_blocks.reminder(reminder, today))
        await self.items.reminded(reminder)
