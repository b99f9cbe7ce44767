"""People outside the war rooms: which incidents are open, where questions go."""

from __future__ import annotations

from dataclasses import dataclass

from bot.incidents import IncidentError, IncidentService, IncidentSnapshot
from bot.incidents.updates import UpdateDesk
from bot.slack.blocks import lists, updates
from bot.slack.flows.outcome import Outcome, Step
from bot.slack.flows.reply import Reply
from bot.slack.gateway import SlackGateway


@dataclass
class Stakeholders:
    service: IncidentService
    desk: UpdateDesk
    gateway: SlackGateway

    def recent_list(self) -> str | None:
        """The open incidents from a fresh-enough cache (answered in the ack), else None."""
        recent = self.service.recent_open()
        return None if recent is None else lists.open_incidents(recent)

    async def list_open(self, reply: Reply) -> None:
        # Answered through response_url, so the ack path never waits on the database.
        await reply(lists.open_incidents(await self.service.list_open()))

    async def ask(
        self, reply: Reply, number: int | None, channel_id: str | None, text: str
    ) -> None:
        """A question for the incident's comms lead (else its commander), listed on the next
        update draft."""
        incident_id = await self._incident_for_question(number, channel_id)
        question, snapshot = await self.desk.ask(incident_id, reply.user, text)
        comms = snapshot.roles.get("comms") or snapshot.commander
        outcome = Outcome(f"kept your question for {snapshot.incident.reference}'s next update")
        told = Step(f"told <@{comms}>", f"<@{comms}> was not told")
        await outcome.step(told, self.tell_comms(snapshot, reply.user, question.text))
        outcome.finish()
        await reply(
            f"Thanks: your question went to {snapshot.incident.reference}'s "
            f"{'comms lead' if snapshot.roles.get('comms') else 'commander'} <@{comms}>, "
            "and it will be answered in the next update."
        )

    async def tell_comms(self, snapshot: IncidentSnapshot, asker: str, text: str) -> str:
        """A stakeholder's question, by direct message to the comms lead (else the
        commander); returns who was told."""
        comms = snapshot.roles.get("comms") or snapshot.commander
        await self.gateway.post(comms, updates.question_for_comms(snapshot, asker, text))
        return comms

    async def point_to_comms(self, channel_id: str, user: str) -> None:
        """Someone posted in the executives' read-only channel: show them where to ask (the
        real incidents only: drills are not the executives' business)."""
        real = [s for s in await self.service.list_open() if not s.is_drill]
        await self.gateway.post_ephemeral(channel_id, user, lists.broadcast_pointer(real))

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
