"""Changing an incident (role, status, severity, close) and publishing what changed: a post
in the room, the card, the topic and, for major incidents, the executives."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.config import BotConfig
from bot.incidents import Change, IncidentService, IncidentSnapshot
from bot.incidents.entries import RoleHandedOver, SeverityChanged, StatusChanged, payload
from bot.incidents.lifecycle import IncidentStatus
from bot.incidents.permissions import Actor, check_can_hold
from bot.slack.actors import Actors
from bot.slack.blocks import announcements, card, forms
from bot.slack.blocks.common import drill_mark
from bot.slack.flows.card import Card
from bot.slack.flows.home import HomeTabs
from bot.slack.flows.room import announce_major, report_problems, stakeholder_channel
from bot.slack.flows.updates import Updates
from bot.slack.gateway import Problems, SlackGateway
from bot.slack.people import People
from bot.slack.viewers import Viewers


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
        await self.gateway.open_view(trigger_id, forms.handover_modal(snapshot))

    async def publish(self, change: Change) -> None:
        """Tell the room, refresh the card and, for major incidents, tell the executives."""
        snapshot = change.snapshot
        channel_id = snapshot.incident.channel_id
        problems = Problems()
        await asyncio.gather(*await self._steps(change, problems))
        what = payload(change.entry)
        # Whoever handed a role over no longer holds it: their Home tab changes too.
        self.home.changed(snapshot, what.previous if isinstance(what, RoleHandedOver) else None)
        closed = isinstance(what, StatusChanged) and what.to == IncidentStatus.CLOSED
        if closed and self.config.archive_on_close and not problems:
            # After the final post; a refusal (say, a missing scope) is told in the room.
            await problems.collect(self.gateway.archive(channel_id))
        await report_problems(self.gateway, channel_id, problems, drill_mark(snapshot))
        if (
            isinstance(what, StatusChanged)
            and what.to == IncidentStatus.RESOLVED
            and snapshot.major
        ):
            # The cadence stops at resolution with a final update for the executives.
            await self.updates.draft(snapshot.id, final=True)

    async def _steps(self, change: Change, problems: Problems) -> list[Awaitable]:
        snapshot, what = change.snapshot, payload(change.entry)
        channel_id = snapshot.incident.channel_id
        steps = [
            problems.collect(self.gateway.post(channel_id, announcements.change_in_room(change))),
            self.card.refresh(snapshot.id, problems),
        ]
        if isinstance(what, RoleHandedOver):
            steps.append(self.gateway.invite(channel_id, [what.to], problems))
        if isinstance(what, RoleHandedOver | StatusChanged | SeverityChanged):
            topic = card.war_room_topic(snapshot)
            steps.append(problems.collect(self.gateway.set_topic(channel_id, topic)))
        broadcast = stakeholder_channel(self.config, snapshot)
        if change.concerns_stakeholders and broadcast:
            summary = announcements.change_broadcast(change)
            if summary:
                steps.append(problems.collect(self.gateway.post(broadcast, summary)))
        if isinstance(what, SeverityChanged) and snapshot.major and not change.was_major:
            steps += announce_major(self.gateway, self.config, snapshot, problems)
            if self.on_major is not None:
                steps.append(problems.collect(self.on_major(snapshot)))
            invitees = await self.gateway.expand_invitees(snapshot.invitees(), problems)
            steps.append(self.gateway.invite(channel_id, invitees, problems))
        return steps
