"""Paging in Slack: the duty manager's direct message, escalations told in the war room,
the acknowledger invited and offered the command, and `/incident oncall`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial

from bot.config import BotConfig
from bot.incidents import IncidentService, IncidentSnapshot, InvalidRequest
from bot.incidents.paging import Escalation, PageOut, Pager, page_order
from bot.lanes import Share
from bot.logs import bind_incident
from bot.slack.blocks import paging as paging_blocks
from bot.slack.flows.changes import Changes
from bot.slack.flows.outcome import ROOM, Outcome, Step
from bot.slack.flows.room import report_problems
from bot.slack.gateway import Problems, SlackGateway

PAGE_MESSAGE = Step("updated the page", "the page message still shows its buttons")


class Paging:
    def __init__(
        self,
        pager: Pager,
        service: IncidentService,
        changes: Changes,
        gateway: SlackGateway,
        config: BotConfig,
    ):
        self.pager = pager
        self.service = service
        self.changes = changes
        self.gateway = gateway
        self.config = config
        # The major severities, (playbook, severity): whose incidents the duty manager hears of.
        self.majors = [
            (playbook.name, name)
            for playbook in service.playbooks
            for name, level in playbook.severities.items()
            if level.major
        ]

    async def start(self, snapshot: IncidentSnapshot) -> None:
        """A major incident: page the duty manager (once, however often this is called).
        A drill pages nobody: it must not wake the real duty manager."""
        if snapshot.is_drill:
            return
        out = await self.pager.start(snapshot.id)
        if out is None:
            return
        room = paging_blocks.paging_in_room(out, self.pager.ack_within)
        await asyncio.gather(self._send(out), self.gateway.post(out.incident.channel_id, room))

    async def _send(self, out: PageOut) -> None:
        text, message = paging_blocks.page_message(out, self.pager.ack_within)
        await self.pager.sent(out.page.id, await self.gateway.post(out.page.user_id, text, message))

    async def claim_due(self) -> list[Share]:
        """From the scheduler: page for major incidents whose pager died before paging,
        re-send pages whose sender died, escalate unanswered ones; each incident's share
        in its own lane, so one hanging room or direct message delays only its incident."""
        shares = [
            self._share(incident_id, "page", partial(self._start, incident_id))
            for incident_id in await self.pager.unpaged_major(self.majors)
        ]
        for out in await self.pager.claim_unsent():  # leased: a failed one comes back
            shares.append(
                self._share(out.incident.id, "re-send the page", partial(self._send, out))
            )
        for escalation in await self.pager.claim_escalations():
            work = partial(self._escalated, escalation)
            shares.append(self._share(escalation.incident.id, "escalate the page", work))
        return shares

    @staticmethod
    def _share(incident_id: int, what: str, work: Callable[[], Awaitable[None]]) -> Share:
        reference = f"INC-{incident_id}"

        async def bound() -> None:
            bind_incident(reference)  # this lane's log lines
            await work()

        return Share(("paging", incident_id), f"{reference}: {what}", bound)

    async def _start(self, incident_id: int) -> None:
        await self.start(await self.service.get(incident_id))

    async def _escalated(self, escalation: Escalation) -> None:
        problems = Problems()
        room = escalation.incident.channel_id
        text = paging_blocks.escalation_in_room(escalation, self.pager.ack_within)
        steps = [problems.collect(self.gateway.post(room, text))]
        if escalation.page is not None:
            out = PageOut(escalation.page, escalation.incident)
            steps.append(problems.collect(self._send(out)))
        await asyncio.gather(*steps)
        await report_problems(self.gateway, room, problems)

    async def acknowledge(self, page_id: int, user: str, dm: str, message_ts: str) -> None:
        acked = await self.pager.acknowledge(page_id, user)
        room = acked.incident.channel_id
        outcome = Outcome(f"acknowledged the page for {acked.incident.reference}")
        snapshot = await self.service.get(acked.incident.id)
        text, message = paging_blocks.acknowledged_message(acked, snapshot.commander != user)
        invited = Step("invited you to the war room", "you could not be invited to the war room")
        said = paging_blocks.acknowledged_in_room(acked)
        await asyncio.gather(
            outcome.step(invited, partial(self.gateway.invite, room, [user])),
            outcome.step(ROOM, self.gateway.post(room, said)),
            outcome.step(PAGE_MESSAGE, self.gateway.update(dm, message_ts, text, message)),
        )
        outcome.finish()

    async def take_command(self, incident_id: int, user: str, dm: str, message_ts: str) -> None:
        """The acknowledger takes the commander role they were offered."""
        if await self.pager.acknowledger(incident_id) != user:
            raise InvalidRequest("Only the duty manager who acknowledged the page can take it.")
        change = await self.service.assign(incident_id, "commander", user, by=user)
        text = paging_blocks.took_command(change.snapshot.incident)
        await asyncio.gather(
            self.changes.publish(change), self.gateway.update(dm, message_ts, text, None)
        )

    def on_call(self) -> str:
        rota = self.config.duty_rota
        duty = rota.duty(self.pager.clock()) if rota else None
        team = page_order(None, self.config.response_team, self.pager.clock())
        return paging_blocks.on_call(duty, team)
