"""People outside the war rooms: which incidents are open, where questions go."""

from __future__ import annotations

from dataclasses import dataclass

from bot.incidents import IncidentError, IncidentService, IncidentSnapshot
from bot.incidents.updates import UpdateDesk
from bot.slack.blocks import lists, updates
from bot.slack.flows.outcome import Outcome, Step
from bot.slack.flows.reply import Reply
from bot.slack.gateway import SlackGateway
from bot.slack.viewers import Viewers


@dataclass
class Stakeholders:
    service: IncidentService
    desk: UpdateDesk
    gateway: SlackGateway
    viewers: Viewers

    async def list_open(self, reply: Reply, page: int) -> None:
        """A page of the open incidents, as the person asking may see them (answered
        through response_url: which private war rooms they are in is Slack's to say)."""
        everything = await self.service.list_open()
        viewer = await self.viewers.of(reply.user, lists.on_page(everything, page))
        await reply(*lists.open_incidents(everything, page, viewer))

    async def ask(
        self, reply: Reply, number: int | None, channel_id: str | None, text: str
    ) -> None:
        """A question for the incident's comms lead (else its commander), listed on the next
        update draft."""
        incident_id = await self._incident_for_question(number, channel_id)
        question, snapshot = await self.desk.ask(incident_id, reply.user, text)
        comms = snapshot.roles.get("comms") or snapshot.commander
        outcome = Outcome(f"kept your question for {snapshot.incident.reference}'s next update")
        # Not named: an outsider asking about a private incident learns no names.
        told = Step("told its comms lead", "its comms lead was not told")
        await outcome.step(told, self.tell_comms(snapshot, reply.user, question.text))
        outcome.finish()
        viewer = await self.viewers.of(reply.user, [snapshot])
        await reply(updates.question_sent(snapshot, comms, viewer))

    async def tell_comms(self, snapshot: IncidentSnapshot, asker: str, text: str) -> str:
        """A stakeholder's question, by direct message to the comms lead (else the
        commander); returns who was told."""
        comms = snapshot.roles.get("comms") or snapshot.commander
        await self.gateway.post(comms, updates.question_for_comms(snapshot, comms, asker, text))
        return comms

    async def point_to_comms(self, channel_id: str, user: str) -> None:
        """Someone posted in the executives' read-only channel: show them where to ask (the
        real incidents only: drills are not the executives' business)."""
        real = [s for s in await self.service.list_open() if not s.is_drill]
        viewer = await self.viewers.of(user, real[: lists.POINTER_ROWS])
        await self.gateway.post_ephemeral(channel_id, user, lists.broadcast_pointer(real, viewer))

    async def _incident_for_question(self, number: int | None, channel_id: str | None) -> int:
        """The incident named, else the war room's, else the only open one."""
        if number is not None:
            return number
        here = await self.service.find_by_channel(channel_id) if channel_id else None
        if here is not None:
            return here.id
        open_now = [s for s in await self.service.list_open() if not s.is_drill]
        if len(open_now) == 1:
            return open_now[0].id
        numbers = ", ".join(str(s.id) for s in open_now) or "none open"
        raise IncidentError(
            f"Which incident? Start with its number: `/incident ask 3 …` (open: {numbers})."
        )
