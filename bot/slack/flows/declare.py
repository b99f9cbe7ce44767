"""Declaring an incident: the form, then the war room.

The incident and the record of its declaration are written in one transaction; the war
room is then opened step by step (`opening.py`), each step once, even across a crash.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import BotConfig
from bot.incidents import IncidentService, IncidentSnapshot
from bot.incidents.alerts import Linking
from bot.incidents.declaration import AnswerTo
from bot.incidents.drills import DrillSetup
from bot.playbooks import PlaybookLibrary
from bot.slack.blocks import forms
from bot.slack.flows.opening import Opening
from bot.slack.flows.reply import Reply
from bot.slack.gateway import SlackCallFailed, SlackGateway
from bot.slack.people import People
from bot.slack.text import from_typed, mentioned, plain_text


@dataclass
class Declaring:
    service: IncidentService
    gateway: SlackGateway
    playbooks: PlaybookLibrary
    config: BotConfig
    people: People
    opening: Opening

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
        answer_to, first_name = AnswerTo(reply.response_url, reply.channel), self.opening.first_name
        declarations = self.opening.declarations
        snapshot = await self.service.declare(
            title=await self._label(title),
            declared_by=reply.user,
            severity=severity,
            playbook=playbook,
            impact=impact,
            private=private,
            drill=drill,
            declaration=declarations.start(answer_to, first_name),
            also=also,
        )
        progress = declarations.fresh(snapshot.incident, answer_to, first_name)
        try:
            return await self.opening.run(progress)
        except SlackCallFailed as failure:
            # Slack could not say whether the channel exists: a later run finds out.
            await reply(
                f"⏳ {snapshot.incident.reference} is declared, but Slack is not answering "
                f"({failure}). Its war room opens as soon as Slack does, and you will be told."
            )
            return None

    async def _label(self, title: str) -> str:
        """A title is a label (the channel's name, headers, the status page): the people,
        channels and links in it become the names they show, so it reads the same on
        every surface and pings no one. Still said text: `&` stays `&amp;`."""
        return from_typed(plain_text(title, await self.people.names(mentioned(title))))

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
