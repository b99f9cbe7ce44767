"""Opening a declared incident's war room: the declaration's steps, each done once.

Three sequential round trips, independent calls at once: create the channel (expanding user
groups and looking up similar past incidents meanwhile); invite, topic, card, similar
incidents, the executives' broadcast and the response team's alert; the card's pin and the
checklist (as soon as the card is in), and once all that is over the duty manager's page
and the declarer's answer (which names what failed).
Each step is recorded when it is over (`bot/incidents/declaration.py`), so a run resumed
after a crash (at the next tick, here or on another replica) does only what is left, and
finds what a dead run did without hearing back: the channel by the name it recorded before
creating it, its posts by the metadata they carry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from bot.config import BotConfig
from bot.incidents import IncidentService, IncidentSnapshot
from bot.incidents.declaration import DeclarationDesk, LeaseLost, Progress, Step, StepState
from bot.lanes import Share
from bot.logs import bind_incident
from bot.slack.blocks import announcements, card
from bot.slack.blocks.common import drill_mark
from bot.slack.flows.card import Card
from bot.slack.flows.home import HomeTabs
from bot.slack.flows.knowledge import Knowledge
from bot.slack.flows.reply import Reply
from bot.slack.flows.room import executives_post, response_team_post
from bot.slack.gateway import Problems, SlackCallFailed, SlackGateway
from bot.slack.text import for_executives, war_room_name
from bot.store.models import Incident

log = logging.getLogger(__name__)
DRILL_CHANNEL_PREFIX = "drill"  # a drill's war room says so in its name
NAME_ATTEMPTS = 20  # `-2`, `-3`… while a name is taken
# Each post's message metadata: how a resumed run finds it instead of posting it twice.
POST_EVENTS = {
    Step.SIMILAR: "similar_incidents",
    Step.BROADCAST: "incident_declared",
    Step.ALERT: "response_team_alert",
    Step.CHECKLIST: "incident_checklist",
    Step.REPORT: "declaration_problems",
}


class StepFailed(Exception):
    """A step partly done (some invitations failed): what failed, for the report."""


@dataclass
class Opening:
    service: IncidentService
    declarations: DeclarationDesk
    gateway: SlackGateway
    config: BotConfig
    card: Card
    home: HomeTabs
    knowledge: Knowledge | None = None  # similar past incidents, posted in the new room
    # Called once the room of a major incident is open: paging the duty manager.
    on_major: Callable[[IncidentSnapshot], Awaitable[None]] | None = None

    async def claim_unfinished(self) -> list[Share]:
        """From the scheduler's tick (the first one at startup too): finish the declarations
        whose worker died, once their lease has run out, each in its own lane."""
        return [
            Share(
                ("declaration", progress.incident_id),
                f"INC-{progress.incident_id}: declaration",
                partial(self._resume, progress),
            )
            for progress in await self.declarations.claim_unfinished()
        ]

    async def _resume(self, progress: Progress) -> None:
        bind_incident(f"INC-{progress.incident_id}")
        log.info("resuming the declaration of INC-%s", progress.incident_id)
        try:
            await self.run(progress)
        except LeaseLost:
            log.warning("INC-%s: another replica took the declaration over", progress.incident_id)
        except SlackCallFailed as failure:
            # Slack could not even say what was done: the next tick tries again.
            log.warning(
                "INC-%s: declaration not finished (could not %s); will retry",
                progress.incident_id,
                failure,
            )

    async def run(self, progress: Progress) -> IncidentSnapshot | None:
        """Do the steps not yet over; None when no channel could be made (then nothing is
        declared and the declarer is told so)."""
        async with self.declarations.held(progress):
            opened = await self._round_one(progress, await self.service.get(progress.incident_id))
            if opened is None:
                return None
            snapshot, invitees = opened
            rendered = snapshot.incident.card_version
            await self._round_two(progress, snapshot, invitees)
            snapshot = await self.service.get(snapshot.id)  # with its card
            await self._round_three(progress, snapshot)
            await self._report(progress, snapshot)
        if snapshot.incident.card_ts and rendered != await self.service.card_version(snapshot.id):
            await self.card.show(snapshot.id, Problems())  # changed while it was being posted
        self.home.changed(snapshot)
        return snapshot

    # -- round one: the channel --------------------------------------------------------------

    async def _round_one(
        self, progress: Progress, snapshot: IncidentSnapshot
    ) -> tuple[IncidentSnapshot, tuple[list[str], Problems, list]] | None:
        """The channel, with the invitees expanded and similar incidents looked up meanwhile."""
        channel, invitees, similar = await asyncio.gather(
            self._channel(progress, snapshot),
            self._invitees(progress, snapshot),
            self._similar(progress, snapshot),
            return_exceptions=True,
        )
        if isinstance(channel, SlackCallFailed) and not channel.answer_lost:
            await self.service.abandon(snapshot.id)
            await self._reply(progress, snapshot)(
                f"❌ Could not open a war room ({channel}). Nothing was declared; try again."
            )
            return None
        for outcome in (channel, invitees, similar):
            if isinstance(outcome, BaseException):
                raise outcome
        return await self.service.get(snapshot.id), (*invitees, similar)

    async def _channel(self, progress: Progress, snapshot: IncidentSnapshot) -> None:
        """Create the war room, or adopt the one an earlier run created (found by the name it
        recorded before asking Slack), trying the next name while one is taken."""
        incident = snapshot.incident
        if progress.over(Step.CHANNEL) or incident.channel_id:
            return
        names = self.channel_names(incident)
        start = names.index(progress.channel_name) if progress.channel_name in names else 0
        if progress.resumed and progress.channel_name:
            found = await self._look_for(progress.channel_name)
            if found:
                return await self._attach(progress, found, progress.channel_name)
        for name in names[start:]:
            created = await self._create(progress, name, incident.private)
            if created:
                return await self._attach(progress, created, name)
        raise SlackCallFailed("create the war room channel", "every candidate name is taken")

    def channel_names(self, incident: Incident) -> list[str]:
        """The war room's names, in the order tried: `-2`, `-3`… while one is taken."""
        prefix = DRILL_CHANNEL_PREFIX if incident.drill else self.config.channel_prefix
        # A private room's name says only its reference: Slack answers `name_taken` to
        # anyone trying a name, so a title in it could be guessed from outside.
        named = incident.reference if incident.private else incident.title
        return [
            war_room_name(prefix, incident.declared_at, named, attempt)
            for attempt in range(NAME_ATTEMPTS)
        ]

    def first_name(self, incident: Incident) -> str:
        return self.channel_names(incident)[0]

    async def _create(self, progress: Progress, name: str, private: bool) -> str | None:
        if progress.channel_name != name:  # recorded before Slack is asked
            await self.declarations.choose_name(progress, name)
        try:
            return await self.gateway.create_channel(name, private)
        except SlackCallFailed as failure:
            if not failure.answer_lost:
                raise
        # Slack may have made it without saying so: adopt it, else ask once more.
        return await self._look_for(name) or await self.gateway.create_channel(name, private)

    async def _look_for(self, name: str) -> str | None:
        """The channel an earlier attempt may have made. A failure here is no refusal to
        create it: Slack cannot say yet, and a later run looks again."""
        try:
            return await self.gateway.channel_named(name)
        except SlackCallFailed as failure:
            raise SlackCallFailed(failure.what, failure.error, answer_lost=True) from failure

    async def _attach(self, progress: Progress, channel_id: str, name: str) -> None:
        opened = {"channel_id": channel_id, "channel_name": name}
        await self.declarations.record(progress, Step.CHANNEL, StepState.DONE, channel_id, opened)

    async def _invitees(
        self, progress: Progress, snapshot: IncidentSnapshot
    ) -> tuple[list[str], Problems]:
        problems = Problems()
        if progress.over(Step.INVITE):
            return [], problems
        expanded = await self.gateway.expand_invitees(snapshot.invitees(), problems)
        return [snapshot.incident.declared_by, *expanded], problems

    async def _similar(self, progress: Progress, snapshot: IncidentSnapshot) -> list:
        if self.knowledge is None or progress.over(Step.SIMILAR):
            return []
        return await self.knowledge.similar(snapshot)

    # -- round two: into the room and out to the executives ---------------------------------

    async def _round_two(
        self,
        progress: Progress,
        snapshot: IncidentSnapshot,
        invitees: tuple[list[str], Problems, list],
    ) -> None:
        users, problems, similar = invitees
        channel = snapshot.incident.channel_id
        steps: dict[Step, Callable[[], Awaitable]] = {
            Step.INVITE: lambda: self._invite(channel, users, problems),
            Step.TOPIC: lambda: self.gateway.set_topic(channel, card.war_room_topic(snapshot)),
        }
        if similar and self.knowledge is not None:
            steps[Step.SIMILAR] = lambda: self._post_similar(progress, snapshot, similar)
        if snapshot.major:
            for step, post in (
                (Step.BROADCAST, executives_post(self.config, snapshot)),
                (Step.ALERT, response_team_post(self.config, snapshot)),
            ):
                if post:
                    steps[step] = self._poster(progress, step, *post)
        await asyncio.gather(self._card_first(progress, snapshot), self._steps(progress, steps))

    async def _card_first(self, progress: Progress, snapshot: IncidentSnapshot) -> None:
        """The card, then at once its pin and the checklist (which follows it in the room),
        without waiting for the rest of the round, nor for the card's record."""
        incident, recording = snapshot.incident, []
        ts = incident.card_ts
        if not ts and not progress.over(Step.CARD):
            try:
                ts = await self.card.post(progress, snapshot)
            except SlackCallFailed as failure:
                await self.declarations.record(progress, Step.CARD, StepState.FAILED, str(failure))
            else:
                recording.append(self.card.posted(progress, ts))
        steps: dict[Step, Callable[[], Awaitable]] = {}
        if ts:
            steps[Step.PIN] = lambda: self.card.pin(progress, snapshot, ts)
        if snapshot.playbook.checklist:
            checklist = announcements.checklist(snapshot)
            steps[Step.CHECKLIST] = self._poster(
                progress, Step.CHECKLIST, incident.channel_id, checklist
            )
        await asyncio.gather(*recording, self._steps(progress, steps))

    async def _invite(self, channel: str, users: list[str], problems: Problems) -> None:
        await self.gateway.invite(channel, users, problems)
        if problems:
            raise StepFailed("; ".join(problems.items))

    async def _post_similar(
        self, progress: Progress, snapshot: IncidentSnapshot, similar: list
    ) -> str | None:
        channel = snapshot.incident.channel_id
        if progress.resumed and await self._own(progress, channel, Step.SIMILAR):
            return None
        metadata = _metadata(progress, POST_EVENTS[Step.SIMILAR])
        await self.knowledge.post_similar(channel, similar, metadata)
        return None

    # -- round three: the page and the answer ----------------------------------------------

    async def _round_three(self, progress: Progress, snapshot: IncidentSnapshot) -> None:
        """Once the rest is over: the duty manager's page and the declarer's answer."""
        steps: dict[Step, Callable[[], Awaitable]] = {}
        if snapshot.major and self.on_major is not None:
            steps[Step.PAGE] = lambda: self.on_major(snapshot)
        steps[Step.ANSWER] = lambda: self._answer(progress, snapshot)
        await self._steps(progress, steps)

    async def _answer(self, progress: Progress, snapshot: IncidentSnapshot) -> str:
        """The declarer's answer: declared, and what was not done so far. The steps it
        named are its result, so the report tells them only what came after."""
        failures = progress.failures()
        await self._reply(progress, snapshot)(declared_answer(snapshot) + not_done(failures))
        return ",".join(failures)

    async def _report(self, progress: Progress, snapshot: IncidentSnapshot) -> None:
        """What failed for good, in the room (for someone to do by hand) and to the declarer
        (what their answer did not already say)."""
        failures = progress.failures()
        if not failures or progress.over(Step.REPORT):
            return
        named = progress.steps.get(Step.ANSWER)
        told = set(named.result.split(",")) if named and named.state == StepState.DONE else set()
        untold = {step: why for step, why in failures.items() if step not in told}
        room = drill_mark(snapshot) + announcements.problems_report(list(failures.values()))
        report = self._poster(progress, Step.REPORT, snapshot.incident.channel_id, room)

        async def tell() -> None:
            await report()
            if untold:
                await self._reply(progress, snapshot)(
                    f"⚠️ {snapshot.incident.reference}: {not_done(untold).strip()}"
                )

        await self._steps(progress, {Step.REPORT: tell})

    # -- the steps ----------------------------------------------------------------------------

    async def _steps(self, progress: Progress, steps: dict[Step, Callable[[], Awaitable]]) -> None:
        """Run the steps not yet over, at once; each recorded as done (with what it made)
        or failed for good (with why)."""
        await asyncio.gather(*(self._step(progress, step, work) for step, work in steps.items()))

    async def _step(self, progress: Progress, step: Step, work: Callable[[], Awaitable]) -> None:
        if progress.over(step):
            return
        try:
            result = await work()
        except (SlackCallFailed, StepFailed) as failure:
            await self.declarations.record(progress, step, StepState.FAILED, str(failure))
            return
        if not progress.over(step):  # unless the step recorded itself with what it made
            await self.declarations.record(progress, step, StepState.DONE, str(result or ""))

    def _poster(
        self, progress: Progress, step: Step, channel: str, text: str
    ) -> Callable[[], Awaitable[str]]:
        """A post made once: with its metadata, and looked for first on a resumed run."""

        async def post() -> str:
            if progress.resumed:
                found = await self._own(progress, channel, step)
                if found:
                    return found
            return await self.gateway.post(
                channel, text, metadata=_metadata(progress, POST_EVENTS[step])
            )

        return post

    async def _own(self, progress: Progress, channel: str, step: Step) -> str | None:
        payload = {"incident": progress.incident_id}
        return await self.gateway.own_message(channel, POST_EVENTS[step], payload)

    def _reply(self, progress: Progress, snapshot: IncidentSnapshot) -> Reply:
        """The declarer's way back: the command's response_url while Slack still takes it
        (30 minutes), else privately in the channel they declared from, else a DM."""
        to = progress.answer_to
        if progress.answer_url_usable(self.service.clock()):
            return Reply(self.gateway, snapshot.incident.declared_by, to.url, to.channel)
        channel = to.channel if to.url is None else None
        return Reply(self.gateway, snapshot.incident.declared_by, channel=channel)


def _metadata(progress: Progress, event: str) -> dict:
    return {"event_type": event, "event_payload": {"incident": progress.incident_id}}


def declared_answer(snapshot: IncidentSnapshot) -> str:
    incident = snapshot.incident
    kind = "major" if snapshot.major else "minor"
    return (
        f"{drill_mark(snapshot)}🚨 Declared {incident.reference} ({incident.severity}, {kind}): *{for_executives(incident.title)}*. "
        f"War room: <#{incident.channel_id}>. You are the commander until you hand it over."
    )


def not_done(failures: dict[Step, str]) -> str:
    """The steps that failed for good, for the declarer (empty when none did)."""
    if not failures:
        return ""
    return "\n⚠️ Not done: " + "; ".join(failures.values()) + ". The war room has the list."
