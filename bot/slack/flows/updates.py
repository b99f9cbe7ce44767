"""Stakeholder updates: drafts posted in the war room, approved, edited or skipped there,
broadcast to the executives; nudges when a draft waits too long."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.incidents import IncidentError, IncidentSnapshot
from bot.incidents.updates import WITHIN_LEASE, Draft, UpdateDesk
from bot.slack.blocks import updates
from bot.slack.blocks.common import drill_mark
from bot.slack.flows.card import Card
from bot.slack.flows.home import HomeTabs
from bot.slack.flows.room import report_problems
from bot.slack.gateway import Problems, SlackCallFailed, SlackGateway
from bot.slack.people import People
from bot.slack.text import mentioned

# Message metadata on the bot's posts of an update, so that a post whose answer was lost
# (or whose poster died before recording it) is found in the channel, not posted twice.
DRAFT_POSTED = "stakeholder_update_draft"
BROADCAST = "stakeholder_update_broadcast"


def _marked(event_type: str, draft: Draft) -> dict:
    return {"event_type": event_type, "event_payload": {"update_id": draft.id}}


async def _within_lease(what: str, call: Awaitable[str]) -> str:
    """A leased post gives up before its lease runs out, so that it never lands after
    someone else, finding no message yet, took the work over and posted it."""
    try:
        async with asyncio.timeout(WITHIN_LEASE.total_seconds()):
            return await call
    except TimeoutError as error:
        raise SlackCallFailed(what, "Slack did not answer in time", answer_lost=True) from error


@dataclass
class Updates:
    desk: UpdateDesk
    gateway: SlackGateway
    card: Card
    broadcast_channel: str | None
    home: HomeTabs
    people: People
    drill_broadcast_channel: str | None = None

    async def _names(self, draft: Draft) -> dict[str, str]:
        """The names of the people the draft mentions, as executives will read them."""
        said = [draft.update.text, *(q["text"] for q in draft.update.open_questions or [])]
        return await self.people.names(set().union(*map(mentioned, said)))

    async def draft(self, incident_id: int, final: bool = False) -> None:
        """A draft now (`/incident update`, resolution); older undecided drafts give way."""
        draft, superseded = await self.desk.draft_now(incident_id, final=final)
        await self.desk.posted([(draft.id, await self.post_draft_message(draft))])
        await self.card.refresh(draft.snapshot.id, Problems())
        channel_id = draft.snapshot.incident.channel_id
        for old in superseded:
            if old.message_ts:
                old_draft = Draft(old, draft.snapshot)
                text, decided = updates.decided_message(old_draft, await self._names(old_draft))
                await self.gateway.update(channel_id, old.message_ts, text, decided)

    async def post_draft_message(self, draft: Draft, look_first: bool = False) -> str:
        """Post a claimed draft in the war room. If this fails the lease runs out and the
        scheduler posts it again, with `look_first`: an earlier attempt whose answer was lost
        (or whose poster died before recording it) may be in the room already."""
        ts = await _within_lease("post the update draft", self._place_draft(draft, look_first))
        self.home.changed(draft.snapshot)  # the deciders' Home tabs list the draft
        return ts

    async def _place_draft(self, draft: Draft, look_first: bool) -> str:
        room = draft.snapshot.incident.channel_id
        if look_first:
            found = await self.gateway.own_message(room, DRAFT_POSTED, {"update_id": draft.id})
            if found is not None:
                return found
        names = await self._names(draft)
        text, blocks = updates.draft_message(draft, self.sends_to(draft.snapshot), names)
        return await self.gateway.post(room, text, blocks, _marked(DRAFT_POSTED, draft))

    async def open_form(
        self, trigger_id: str, update_id: int, user: str, message_ts: str | None, build: Callable
    ) -> None:
        """The edit or skip form; refused before it opens unless `user` may decide."""
        draft = await self.desk.check_decider(update_id, user)
        await self.gateway.open_view(trigger_id, build(draft, message_ts, await self._names(draft)))

    async def approve(
        self, update_id: int, by: str, text: str | None = None, message_ts: str | None = None
    ) -> None:
        """`message_ts`: where the person clicked, in case the draft's ts is not stored yet."""
        target = self.sends_to((await self.desk.get(update_id)).snapshot)
        if not target:
            raise IncidentError(
                "No broadcast channel is configured (broadcast_channel), so updates cannot be sent."
            )
        draft = await self.desk.start_sending(update_id, by, text)
        try:
            broadcast_ts = await self._broadcast(draft, target)
        except SlackCallFailed as failure:
            if failure.answer_lost:
                # It may be out: when the lease runs out the scheduler looks, and sends it
                # only if it is not there.
                raise IncidentError(
                    f"Slack did not confirm the broadcast ({failure.error}); the bot makes "
                    "sure it goes out once, within a minute."
                ) from failure
            await self.desk.sending_failed(update_id)  # approvable again; the failure is reported
            raise
        await self._decided(await self.desk.sent(update_id, broadcast_ts), message_ts)

    async def finish_sending(self, draft: Draft) -> None:
        """An approved update whose broadcaster died or gave up (from the scheduler, under
        the lease): broadcast it unless the earlier attempt did, then record it once."""
        target = self.sends_to(draft.snapshot)
        if not target:
            await self.desk.sending_failed(draft.id)  # nowhere to send it: a draft again
            return
        found = await self.gateway.own_message(target, BROADCAST, {"update_id": draft.id})
        broadcast_ts = found or await self._broadcast(draft, target)
        await self._decided(await self.desk.sent(draft.id, broadcast_ts), None)

    async def _broadcast(self, draft: Draft, target: str) -> str:
        text = updates.broadcast_update(draft, await self._names(draft))
        post = self.gateway.post(target, text, metadata=_marked(BROADCAST, draft))
        return await _within_lease("send the update", post)

    def sends_to(self, snapshot: IncidentSnapshot) -> str | None:
        """Where an approved update goes: the executives' channel; a drill's go to the drill
        broadcast channel, or stay in its war room."""
        if snapshot.is_drill:
            return self.drill_broadcast_channel or snapshot.incident.channel_id
        return self.broadcast_channel

    async def skip(
        self, update_id: int, by: str, reason: str, message_ts: str | None = None
    ) -> None:
        await self._decided(await self.desk.skip(update_id, by, reason), message_ts)

    async def _decided(self, draft: Draft, clicked_ts: str | None) -> None:
        problems = Problems()
        channel_id = draft.snapshot.incident.channel_id
        steps = [self.card.refresh(draft.snapshot.id, problems)]
        message_ts = draft.update.message_ts or clicked_ts
        if message_ts:
            text, decided = updates.decided_message(draft, await self._names(draft))
            steps.append(
                problems.collect(self.gateway.update(channel_id, message_ts, text, decided))
            )
        await asyncio.gather(*steps)
        self.home.changed(draft.snapshot)  # the draft leaves the deciders' Home tabs
        await report_problems(self.gateway, channel_id, problems, drill_mark(draft.snapshot))

    async def nudge(self, draft: Draft) -> None:
        """The commander is reminded of a draft waiting too long (from the scheduler); a
        failure raises after the card is refreshed."""
        channel_id = draft.snapshot.incident.channel_id
        problems = Problems()
        await asyncio.gather(
            problems.collect(self.gateway.post(channel_id, updates.escalation_nudge(draft))),
            self.card.refresh(draft.snapshot.id, problems),
        )
        await report_problems(self.gateway, channel_id, problems, drill_mark(draft.snapshot))
