"""Changing an incident (role, status, severity, close) and publishing what changed: a post
in the room, the card, the topic and, for major incidents, the executives."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from bot.config import BotConfig
from bot.incidents import Change, IncidentService, IncidentSnapshot
from bot.incidents.entries import RoleHandedOver, SeverityChanged, StatusChanged, payload
from bot.incidents.lifecycle import IncidentStatus, refuse_if_closed
from bot.incidents.permissions import Actor, check_can_hold
from bot.slack.actors import Actors
from bot.slack.blocks import announcements, card, forms
from bot.slack.flows.announcing import Announcing, Kind
from bot.slack.flows.card import Card
from bot.slack.flows.home import HomeTabs
from bot.slack.flows.outcome import CARD, ROOM, TOPIC, Outcome, Step
from bot.slack.flows.updates import Updates
from bot.slack.gateway import Problems, SlackGateway
from bot.slack.people import People
from bot.slack.text import channel, user
from bot.slack.viewers import Viewers

ARCHIVED = Step("archived the room", "the room was not archived")
ARCHIVE_HELD = Step("", "the room was left open, so the missing steps can be done there")
ANNOUNCED_MAJOR = Step(
    "announced it as a major incident", "the major-incident announcements failed"
)
PAGED = Step("paged the duty manager", "the page to the duty manager is not out yet")
RESPONDERS_INVITED = Step(
    "invited the severity's responders", "not every responder could be invited"
)


def broadcast_to(channel_id: str) -> Step:
    return Step(
        f"broadcast to {channel(channel_id)}", f"nothing was broadcast to {channel(channel_id)}"
    )


@dataclass
class Changes:
    service: IncidentService
    gateway: SlackGateway
    config: BotConfig
    card: Card
    updates: Updates
    people: People
    home: HomeTabs
    actors: Actors
    viewers: Viewers
    announcing: Announcing
    # Called when an incident is raised to major: paging the duty manager.
    on_major: Callable[[IncidentSnapshot], Awaitable[None]] | None = None

    async def assign(self, incident_id: int, role: str, assignee: str, by: str) -> None:
        """Hand `role` to `assignee` (a user picked in a form); people only, no bots."""
        actor = await self._acting(incident_id, by)
        check_can_hold(await self.people.candidate(assignee))
        await self.publish(await self.service.assign(incident_id, role, assignee, by=actor))

    async def assign_named(
        self, incident_id: int, role: str, user_id: str | None, user_name: str | None, by: str
    ) -> None:
        """Hand `role` to the person a command names, by mention or by a typed `@name`."""
        assignee = user_id or await self.people.resolve(None, user_name)
        await self.assign(incident_id, role, assignee, by)

    async def set_status(self, incident_id: int, status: str, by: str, note: str = "") -> None:
        actor = await self._acting(incident_id, by)
        await self.publish(await self.service.set_status(incident_id, status, actor, note))

    async def resolve(self, incident_id: int, by: str, summary: str) -> None:
        await self.set_status(incident_id, IncidentStatus.RESOLVED, by, summary)

    async def set_severity(self, incident_id: int, severity: str, by: str) -> None:
        actor = await self._acting(incident_id, by)
        await self.publish(await self.service.set_severity(incident_id, severity, by=actor))

    async def close(self, incident_id: int, by: str) -> None:
        actor = await self._acting(incident_id, by)
        await self.publish(await self.service.close(incident_id, by=actor))

    async def _acting(self, incident_id: int, by: str) -> Actor:
        """`by`, once they may see the incident: a card's menu or a form names it by id."""
        await self.viewers.require(by, await self.service.get(incident_id))
        return await self.actors.of(by)

    async def open_handover(self, trigger_id: str, incident_id: int, user: str) -> None:
        """The form to hand a role over (its submission comes back to `assign`)."""
        snapshot = await self.service.get(incident_id)
        await self.viewers.require(user, snapshot)
        refuse_if_closed(snapshot.incident)  # said before the form opens, not after it is filled
        await self.gateway.open_view(trigger_id, forms.handover_modal(snapshot))

    async def publish(self, change: Change) -> None:
        """Tell the room, refresh the card and, for major incidents, tell the executives;
        then whoever made the change hears what was done and what was not."""
        snapshot, what = change.snapshot, payload(change.entry)
        outcome = Outcome(announcements.change_done(change))
        await asyncio.gather(*self._steps(change, outcome))
        # Whoever handed a role over no longer holds it: their Home tab changes too.
        self.home.changed(snapshot, what.previous if isinstance(what, RoleHandedOver) else None)
        # Drafts this change retired lose their buttons; a resolution's final draft is posted.
        await self.updates.settle(change, outcome)
        closed = isinstance(what, StatusChanged) and what.to == IncidentStatus.CLOSED
        if closed and self.config.archive_on_close:
            if outcome.not_done:  # the room stays open for what is left to do by hand
                outcome.fail(ARCHIVE_HELD)
            else:  # after the final post and the card
                await outcome.step(ARCHIVED, self.gateway.archive(snapshot.incident.channel_id))
        outcome.finish()

    def _steps(self, change: Change, outcome: Outcome) -> list[Awaitable]:
        snapshot, what = change.snapshot, payload(change.entry)
        channel_id = snapshot.incident.channel_id
        steps = [
            outcome.step(ROOM, self.gateway.post(channel_id, announcements.change_in_room(change))),
            outcome.step(CARD, partial(self.card.refresh, snapshot.id)),
        ]
        if isinstance(what, RoleHandedOver):
            invited = Step(f"invited {user(what.to)}", f"{user(what.to)} could not be invited")
            steps.append(outcome.step(invited, partial(self.gateway.invite, channel_id, [what.to])))
        if isinstance(what, RoleHandedOver | StatusChanged | SeverityChanged):
            topic = card.war_room_topic(snapshot)
            steps.append(outcome.step(TOPIC, self.gateway.set_topic(channel_id, topic)))
        # What the change owes outside the room was recorded with it: posted once, even if
        # this process dies first (then `Announcing.resume_unfinished` posts it).
        for owed in change.owed:
            if owed.kind == Kind.CHANGE:
                step = broadcast_to(owed.channel)
                steps.append(outcome.step(step, self.announcing.post(owed)))
        if isinstance(what, SeverityChanged) and snapshot.major and not change.was_major:
            steps += self._raised_to_major(change, outcome)
        return steps

    def _raised_to_major(self, change: Change, outcome: Outcome) -> list[Awaitable]:
        """Announced like a major declaration; the duty manager paged, responders invited."""
        snapshot = change.snapshot
        majors = [owed for owed in change.owed if owed.kind in (Kind.MAJOR, Kind.MAJOR_ALERT)]

        async def announce(problems: Problems) -> None:
            await asyncio.gather(*(problems.collect(self.announcing.post(o)) for o in majors))

        async def invite_responders(problems: Problems) -> None:
            invitees = await self.gateway.expand_invitees(snapshot.invitees(), problems)
            await self.gateway.invite(snapshot.incident.channel_id, invitees, problems)

        steps = [outcome.step(ANNOUNCED_MAJOR, announce)]
        if self.on_major is not None:
            steps.append(outcome.step(PAGED, self.on_major(snapshot)))
        steps.append(outcome.step(RESPONDERS_INVITED, invite_responders))
        return steps
