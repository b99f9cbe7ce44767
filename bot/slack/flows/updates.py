"""Stakeholder updates: drafts posted in the war room, approved, edited or skipped there,
broadcast to the executives; nudges when a draft waits too long."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from bot.incidents import Change, IncidentError, IncidentSnapshot
from bot.incidents.lifecycle import UpdateStatus
from bot.incidents.permissions import Actor
from bot.incidents.updates import WITHIN_LEASE, Draft, UpdateDesk
from bot.slack.actors import Actors
from bot.slack.blocks import updates
from bot.slack.blocks.common import drill_mark
from bot.slack.flows.card import Card
from bot.slack.flows.home import HomeTabs
from bot.slack.flows.outcome import CARD, Outcome, PartlyDone, Step
from bot.slack.flows.room import report_problems
from bot.slack.gateway import Problems, SlackCallFailed, SlackGateway
from bot.slack.people import People
from bot.slack.text import channel, mentioned
from bot.slack.viewers import Viewers

DRAFT_POSTED = Step(
    "posted the draft in the room",
    "the draft is not in the room yet (it is posted again within a minute)",
)


def not_sent_to(target: str) -> Step:
    return Step(
        "",
        f"the update was not sent to {channel(target)}; it is a draft again, to approve once more",
    )


DRAFT_DECIDED = Step(
    "marked the draft in the room", "the draft in the room still shows its buttons"
)

# Message metadata on the bot's posts of an update, so that a post whose answer was lost
# (or whose poster died before recording it) is found in the channel, not posted twice.
DRAFT_EVENT = "stakeholder_update_draft"
BROADCAST_EVENT = "stakeholder_update_broadcast"


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
    actors: Actors
    viewers: Viewers
    drill_broadcast_channel: str | None = None

    async def _names(self, draft: Draft) -> dict[str, str]:
        """The names of the people the draft mentions, as executives will read them."""
        said = [draft.update.text, *(q["text"] for q in draft.update.open_questions or [])]
        return await self.people.names(set().union(*map(mentioned, said)))

    async def draft(self, incident_id: int) -> None:
        """`/incident update`: a draft now; an older undecided draft gives way."""
        draft, superseded = await self.desk.draft_now(incident_id)
        kind = "final stakeholder update" if draft.update.final else "stakeholder update"
        outcome = Outcome(f"drafted a {kind} for {draft.snapshot.incident.reference}")
        await self.post_stored(draft, outcome)
        await self.show_retired([Draft(old, draft.snapshot) for old in superseded], outcome)
        await outcome.step(CARD, partial(self.card.refresh, draft.snapshot.id))
        outcome.finish()

    async def settle(self, change: Change, outcome: Outcome) -> None:
        """After a lifecycle change: the drafts it retired lose their buttons, and the final
        draft a resolution wrote is posted."""
        retired = [Draft(row, change.snapshot) for row in change.retired]
        await self.show_retired(retired, outcome)
        if change.final_draft is not None:
            await self.post_stored(Draft(change.final_draft, change.snapshot), outcome)
        if retired or change.final_draft is not None:
            self.home.changed(change.snapshot)  # the deciders' Home tabs list drafts

    async def post_stored(self, draft: Draft, outcome: Outcome) -> None:
        """Post a stored draft in the room and record where. Should it have been retired or
        decided meanwhile (a reopen or a close, on any replica), it loses its buttons at
        once: whichever of the two sees the other's write edits the message."""
        ts = await outcome.step(DRAFT_POSTED, self.post_draft_message(draft))
        if ts is not None:
            await self.after_posting([(draft.id, ts)], outcome)

    async def after_posting(self, posted: list[tuple[int, str]], outcome: Outcome) -> None:
        """Record where drafts were posted; those no longer waiting lose their buttons."""
        await self.desk.posted(posted)
        await self.show_retired(await self.desk.no_longer_waiting([i for i, _ in posted]), outcome)

    async def show_retired(self, drafts: list[Draft], outcome: Outcome) -> None:
        """Posted drafts that are no longer waiting show how they ended, without buttons."""
        for draft in drafts:
            if draft.update.message_ts:
                ended = draft.update.status
                step = Step(
                    f"took the buttons off the {ended} draft",
                    f"the {ended} draft still shows its buttons",
                )
                await outcome.step(step, self._show_decided(draft, draft.update.message_ts))

    async def _show_decided(self, draft: Draft, message_ts: str) -> None:
        text, decided = updates.decided_message(draft, await self._names(draft))
        await self.gateway.update(draft.snapshot.incident.channel_id, message_ts, text, decided)

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
            found = await self.gateway.own_message(room, DRAFT_EVENT, {"update_id": draft.id})
            if found is not None:
                return found
        names = await self._names(draft)
        text, blocks = updates.draft_message(draft, self.sends_to(draft.snapshot), names)
        return await self.gateway.post(room, text, blocks, _marked(DRAFT_EVENT, draft))

    async def open_form(
        self, trigger_id: str, update_id: int, user: str, message_ts: str | None, build: Callable
    ) -> None:
        """The edit or skip form; refused before it opens unless `user` may decide."""
        draft = await self.desk.check_decider(update_id, await self._deciding(update_id, user))
        await self.gateway.open_view(trigger_id, build(draft, message_ts, await self._names(draft)))

    async def approve(
        self, update_id: int, by: str, text: str | None = None, message_ts: str | None = None
    ) -> None:
        """`message_ts`: where the person clicked, in case the draft's ts is not stored yet."""
        actor = await self._deciding(update_id, by)
        target = self.sends_to((await self.desk.get(update_id)).snapshot)
        if not target:
            raise IncidentError(
                "No broadcast channel is configured (broadcast_channel), so updates cannot be sent."
            )
        draft = await self.desk.start_sending(update_id, actor, text)
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
            await self.desk.sending_failed(update_id)  # approvable again
            outcome = Outcome()
            outcome.fail(not_sent_to(target), str(failure))
            raise PartlyDone(outcome) from failure
        sent = await self.desk.sent(update_id, broadcast_ts)
        await self._decided(sent, message_ts, Outcome(f"sent the update to {channel(target)}"))

    async def _deciding(self, update_id: int, by: str) -> Actor:
        """`by`, once they may see the draft's incident: its buttons and forms carry its id."""
        await self.viewers.require(by, (await self.desk.get(update_id)).snapshot)
        return await self.actors.of(by)

    async def finish_sending(self, draft: Draft) -> None:
        """An approved update whose broadcaster died or gave up (from the scheduler, under
        the lease): broadcast it unless the earlier attempt did, then record it once."""
        target = self.sends_to(draft.snapshot)
        if not target:
            await self.desk.sending_failed(draft.id)  # nowhere to send it: a draft again
            return
        found = await self.gateway.own_message(target, BROADCAST_EVENT, {"update_id": draft.id})
        broadcast_ts = found or await self._broadcast(draft, target)
        await self._decided(await self.desk.sent(draft.id, broadcast_ts), None, Outcome())

    async def _broadcast(self, draft: Draft, target: str) -> str:
        text = updates.broadcast_update(draft, await self._names(draft))
        post = self.gateway.post(target, text, metadata=_marked(BROADCAST_EVENT, draft))
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
        skipped = await self.desk.skip(update_id, await self._deciding(update_id, by), reason)
        await self._decided(skipped, message_ts, Outcome("skipped the update"))

    async def _decided(self, draft: Draft, clicked_ts: str | None, outcome: Outcome) -> None:
        steps = [outcome.step(CARD, partial(self.card.refresh, draft.snapshot.id))]
        message_ts = draft.update.message_ts or clicked_ts
        if message_ts:
            steps.append(outcome.step(DRAFT_DECIDED, self._show_decided(draft, message_ts)))
        await asyncio.gather(*steps)
        self.home.changed(draft.snapshot)  # the draft leaves the deciders' Home tabs
        outcome.finish()

    async def nudge(self, draft: Draft) -> None:
        """The commander is reminded of a draft waiting too long (from the scheduler); a
        failure raises after the card is refreshed."""
        if (await self.desk.get(draft.id)).update.status != UpdateStatus.DRAFT:
            return  # decided or withdrawn (the incident closed) since it was claimed
        channel_id = draft.snapshot.incident.channel_id
        problems = Problems()
        await asyncio.gather(
            problems.collect(self.gateway.post(channel_id, updates.escalation_nudge(draft))),
            self.card.refresh(draft.snapshot.id, problems),
        )
        await report_problems(self.gateway, channel_id, problems, drill_mark(draft.snapshot))
