"""Stakeholder updates: drafts posted in the war room, approved, edited or skipped there,
broadcast to the executives; nudges when a draft waits too long."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from bot.incidents import Change, IncidentError, IncidentSnapshot
from bot.incidents.lifecycle import UpdateStatus
from bot.incidents.permissions import Actor
from bot.incidents.updates import Draft, UpdateDesk
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

    async def post_draft_message(self, draft: Draft) -> str:
        """Post a claimed draft in the war room. If this fails the lease runs out and the
        scheduler posts it again."""
        names = await self._names(draft)
        text, draft_blocks = updates.draft_message(draft, self.sends_to(draft.snapshot), names)
        ts = await self.gateway.post(draft.snapshot.incident.channel_id, text, draft_blocks)
        self.home.changed(draft.snapshot)  # the deciders' Home tabs list the draft
        return ts

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
            text = updates.broadcast_update(draft, await self._names(draft))
            broadcast_ts = await self.gateway.post(target, text)
        except SlackCallFailed as failure:
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
        if (await self.desk.get(draft.id)).update.status != UpdateStatus.DRAFT:
            return  # decided or withdrawn (the incident closed) since it was claimed
        channel_id = draft.snapshot.incident.channel_id
        problems = Problems()
        await asyncio.gather(
            problems.collect(self.gateway.post(channel_id, updates.escalation_nudge(draft))),
            self.card.refresh(draft.snapshot.id, problems),
        )
        await report_problems(self.gateway, channel_id, problems, drill_mark(draft.snapshot))
