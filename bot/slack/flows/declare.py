"""Declaring an incident: the form, then the war room.

Independent Web API calls run concurrently, so the declaration costs three sequential round
trips: create the channel (and expand user groups); invite, topic, card, broadcast, alert
and the answer to the declarer; pin the card. Similar past incidents are looked up while
the channel is created and posted with the card.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.config import BotConfig
from bot.incidents import IncidentService, IncidentSnapshot
from bot.incidents.alerts import Linking
from bot.incidents.drills import DrillSetup
from bot.playbooks import PlaybookLibrary
from bot.slack.blocks import announcements, card, forms
from bot.slack.blocks.common import drill_mark
from bot.slack.flows.home import HomeTabs
from bot.slack.flows.knowledge import Knowledge
from bot.slack.flows.reply import Reply
from bot.slack.flows.room import announce_major, report_problems
from bot.slack.gateway import Problems, SlackCallFailed, SlackGateway
from bot.slack.people import People
from bot.slack.text import for_executives, from_typed, mentioned, plain_text, war_room_name

DRILL_CHANNEL_PREFIX = "drill"  # a drill's war room says so in its name


@dataclass
class Declaring:
    service: IncidentService
    gateway: SlackGateway
    playbooks: PlaybookLibrary
    config: BotConfig
    home: HomeTabs
    people: People
    # Called once the room of a major incident is open: paging the duty manager.
    on_major: Callable[[IncidentSnapshot], Awaitable[None]] | None = None
    knowledge: Knowledge | None = None  # similar past incidents, posted in the new room

    async def declare(
        self,
        reply: Reply,
        *,
        title: str,
        severity: str | None,
        playbook: str | None,
        impact: str = "",
        private: bool | None = None,
        drill: DrillSetup | None = None,
        also: Linking | None = None,
    ) -> IncidentSnapshot | None:
        """`also`: more to write in the declaration's transaction (the alert group linked)."""
        snapshot = await self.service.declare(
            title=await self._label(title),
            declared_by=reply.user,
            severity=severity,
            playbook=playbook,
            impact=impact,
            private=private,
            drill=drill,
            also=also,
        )
        problems = Problems()
        # Read while the room is opened, posted with the card: no extra round trip.
        similar = asyncio.ensure_future(self._similar(snapshot))
        try:
            opened = await self._open_room(reply, snapshot, problems)
        except BaseException:
            similar.cancel()
            raise
        if opened is None:
            similar.cancel()
            return None
        snapshot, invitees = opened
        await self._furnish_room(reply, snapshot, invitees, problems, similar)
        self.home.changed(snapshot)
        await report_problems(
            self.gateway, snapshot.incident.channel_id, problems, drill_mark(snapshot)
        )
        return snapshot

    async def _label(self, title: str) -> str:
        """A title is a label (the channel's name, headers, the status page): the people,
        channels and links in it become the names they show, so it reads the same on
        every surface and pings no one. Still said text: `&` stays `&amp;`."""
        return from_typed(plain_text(title, await self.people.names(mentioned(title))))

    async def _open_room(
        self, reply: Reply, snapshot: IncidentSnapshot, problems: Problems
    ) -> tuple[IncidentSnapshot, list[str]] | None:
        """Create the channel (and expand the invitees meanwhile); without a channel the
        declaration is abandoned, so nothing is left half-declared."""
        incident = snapshot.incident
        prefix = DRILL_CHANNEL_PREFIX if incident.drill else self.config.channel_prefix
        names = [
            war_room_name(prefix, incident.declared_at, incident.title, attempt)
            for attempt in range(20)
        ]
        created, invitees = await asyncio.gather(
            self.gateway.create_channel(names, incident.private),
            self.gateway.expand_invitees(snapshot.invitees(), problems),
            return_exceptions=True,
        )
        if isinstance(created, BaseException):
            await self.service.abandon(incident.id)
            if not isinstance(created, SlackCallFailed):
                raise created
            await reply(
                f"❌ Could not open a war room ({created}). Nothing was declared; try again."
            )
            return None
        if isinstance(invitees, BaseException):
            raise invitees
        channel_id, channel_name = created
        await self.service.attach_channel(incident.id, channel_id, channel_name)
        return await self.service.get(incident.id), invitees

    async def _similar(self, snapshot: IncidentSnapshot) -> list:
        return await self.knowledge.similar(snapshot) if self.knowledge else []

    async def _furnish_room(
        self,
        reply: Reply,
        snapshot: IncidentSnapshot,
        invitees: list[str],
        problems: Problems,
        similar: asyncio.Future,
    ) -> None:
        """Card, people, topic, answer and announcements at once; then pin the card."""
        channel_id = snapshot.incident.channel_id
        text, card_blocks = card.incident_card(snapshot, self.config.conference_bridge_url)
        steps = [
            self.gateway.post(channel_id, text, card_blocks),
            self.gateway.invite(channel_id, [reply.user, *invitees], problems),
            problems.collect(self.gateway.set_topic(channel_id, card.war_room_topic(snapshot))),
            problems.collect(reply(declared_answer(snapshot))),
            problems.collect(self._post_similar(channel_id, similar)),
        ]
        if snapshot.major:
            steps += announce_major(self.gateway, self.config, snapshot, problems)
        card_ts, *_ = await asyncio.gather(problems.collect(steps[0]), *steps[1:])
        finishing = []
        if card_ts:
            await self.service.attach_card(snapshot.id, card_ts)
            finishing.append(problems.collect(self.gateway.pin(channel_id, card_ts)))
        if snapshot.playbook.checklist:
            checklist = announcements.checklist(snapshot)
            finishing.append(problems.collect(self.gateway.post(channel_id, checklist)))
        if snapshot.major and self.on_major is not None:
            finishing.append(problems.collect(self.on_major(snapshot)))
        await asyncio.gather(*finishing)

    async def _post_similar(self, channel_id: str, similar: asyncio.Future) -> None:
        if self.knowledge:
            await self.knowledge.post_similar(channel_id, await similar)

    async def open_form(
        self, trigger_id: str, metadata: dict, severity: str | None, playbook: str | None
    ) -> None:
        """The declare form, with the playbook's fields (and the severity, when given)."""
        chosen = self.service.playbook_for(playbook)
        view = forms.declare_modal(self.playbooks, chosen, metadata)
        if severity:
            severity = self.service.check_severity(chosen, severity)
            severity_block = next(b for b in view["blocks"] if b.get("block_id") == "severity")
            severity_block["element"]["initial_option"] = next(
                o for o in severity_block["element"]["options"] if o["value"] == severity
            )
        await self.gateway.open_view(trigger_id, view)

    async def switch_playbook(
        self, view_id: str, view_hash: str | None, metadata: dict, playbook: str
    ) -> None:
        """The form again with another playbook's severities and fields."""
        updated = forms.declare_modal(self.playbooks, self.service.playbook_for(playbook), metadata)
        await self.gateway.update_view(view_id, updated, view_hash)


def declared_answer(snapshot: IncidentSnapshot) -> str:
    incident = snapshot.incident
    kind = "major" if snapshot.major else "minor"
    return (
        f"{drill_mark(snapshot)}🚨 Declared {incident.reference} ({incident.severity}, {kind}): *{for_executives(incident.title)}*. "
        f"War room: <#{incident.channel_id}>. You are the commander until you hand it over."
    )
