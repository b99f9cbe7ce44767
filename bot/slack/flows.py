"""What the bot does in Slack after a domain call: open the room, post, update the card.

Independent Web API calls run concurrently, so the declaration costs three sequential round
trips: create the channel (and expand user groups); invite, topic, card, broadcast, alert
and the answer to the declarer; pin the card.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, tzinfo
from functools import partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import BotConfig
from bot.incidents import Change, IncidentError, IncidentService, IncidentSnapshot
from bot.incidents.entries import RoleHandedOver, SeverityChanged, StatusChanged, payload
from bot.incidents.lifecycle import IncidentStatus
from bot.incidents.review import gather_review
from bot.incidents.timeline import Timeline, people_in
from bot.incidents.updates import Draft, UpdateDesk
from bot.render.export import timeline_markdown
from bot.render.readers import Readers
from bot.render.review import review_markdown
from bot.slack import blocks
from bot.slack.gateway import Problems, SlackCallFailed, SlackGateway
from bot.slack.text import escape, mentioned, war_room_name, with_names

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """How to answer one person privately: the command's response_url, else an ephemeral."""

    gateway: SlackGateway
    user: str
    response_url: str | None = None
    channel: str | None = None

    async def __call__(self, text: str, blocks: list | None = None, replace: bool = False) -> None:
        if self.response_url:
            await self.gateway.respond(self.response_url, text, blocks, replace)
            return
        if self.channel:
            try:
                await self.gateway.post_ephemeral(self.channel, self.user, text, blocks)
                return
            except SlackCallFailed as failure:
                # Someone viewing a public channel without having joined it: DM them instead.
                if failure.error not in (
                    "user_not_in_channel",
                    "channel_not_found",
                    "not_in_channel",
                ):
                    raise
        await self.gateway.post(self.user, text, blocks)  # a DM from the app


class WarRoom:
    def __init__(
        self,
        service: IncidentService,
        timeline: Timeline,
        desk: UpdateDesk,
        gateway: SlackGateway,
        config: BotConfig,
    ):
        self.service = service
        self.timeline = timeline
        self.desk = desk
        self.gateway = gateway
        self.config = config
        # Called for every incident that is (or becomes) major: paging the duty manager.
        self.on_major: Callable[[IncidentSnapshot], Awaitable[None]] | None = None
        self._card_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    # -- declaring -------------------------------------------------------------------------

    async def declare(
        self,
        reply: Reply,
        *,
        title: str,
        severity: str | None,
        playbook: str | None,
        impact: str = "",
        private: bool | None = None,
    ) -> IncidentSnapshot | None:
        snapshot = await self.service.declare(
            title=title,
            declared_by=reply.user,
            severity=severity,
            playbook=playbook,
            impact=impact,
            private=private,
        )
        incident = snapshot.incident
        problems = Problems()
        names = [
            war_room_name(self.config.channel_prefix, incident.declared_at, incident.title, attempt)
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
        snapshot = await self.service.get(incident.id)

        text, card = blocks.incident_card(snapshot, self.config.conference_bridge_url)
        steps = [
            self.gateway.post(channel_id, text, card),
            self.gateway.invite(channel_id, [reply.user, *invitees], problems),
            problems.collect(self.gateway.set_topic(channel_id, blocks.war_room_topic(snapshot))),
            problems.collect(reply(self._declared_answer(snapshot))),
        ]
        if snapshot.major:
            steps += self._announce_major(snapshot, problems)
        card_ts, *_ = await asyncio.gather(problems.collect(steps[0]), *steps[1:])
        finishing = []
        if card_ts:
            await self.service.attach_card(incident.id, card_ts)
            finishing.append(problems.collect(self.gateway.pin(channel_id, card_ts)))
        if snapshot.playbook.checklist:
            checklist = blocks.checklist(snapshot.playbook)
            finishing.append(problems.collect(self.gateway.post(channel_id, checklist)))
        if snapshot.major and self.on_major is not None:
            finishing.append(problems.collect(self.on_major(snapshot)))
        await asyncio.gather(*finishing)
        await self.report(channel_id, problems)
        return snapshot

    def _announce_major(self, snapshot: IncidentSnapshot, problems: Problems) -> list:
        steps = []
        if self.config.broadcast_channel:
            steps.append(
                problems.collect(
                    self.gateway.post(
                        self.config.broadcast_channel, blocks.declared_broadcast(snapshot)
                    )
                )
            )
        if self.config.response_team_channel:
            steps.append(
                problems.collect(
                    self.gateway.post(
                        self.config.response_team_channel, blocks.response_team_alert(snapshot)
                    )
                )
            )
        return steps

    @staticmethod
    def _declared_answer(snapshot: IncidentSnapshot) -> str:
        incident = snapshot.incident
        kind = "major" if snapshot.major else "minor"
        return (
            f"🚨 Declared {incident.reference} ({incident.severity}, {kind}): *{escape(incident.title)}*. "
            f"War room: <#{incident.channel_id}>. You are the commander until you hand it over."
        )

    # -- changes ---------------------------------------------------------------------------

    async def publish(self, change: Change) -> None:
        """Tell the room, refresh the card and, for major incidents, tell the executives."""
        snapshot = change.snapshot
        channel_id = snapshot.incident.channel_id
        problems = Problems()
        steps = [
            problems.collect(self.gateway.post(channel_id, blocks.change_in_room(change))),
            self.refresh_card(snapshot.id, problems),
        ]
        what = payload(change.entry)
        if isinstance(what, RoleHandedOver):
            steps.append(self.gateway.invite(channel_id, [what.to], problems))
        if isinstance(what, RoleHandedOver | StatusChanged | SeverityChanged):
            steps.append(
                problems.collect(
                    self.gateway.set_topic(channel_id, blocks.war_room_topic(snapshot))
                )
            )
        if change.concerns_stakeholders and self.config.broadcast_channel:
            summary = blocks.change_broadcast(change)
            if summary:
                steps.append(
                    problems.collect(self.gateway.post(self.config.broadcast_channel, summary))
                )
        if isinstance(what, SeverityChanged) and snapshot.major and not change.was_major:
            steps += self._announce_major(snapshot, problems)
            if self.on_major is not None:
                steps.append(problems.collect(self.on_major(snapshot)))
            steps.append(
                self.gateway.invite(
                    channel_id,
                    await self.gateway.expand_invitees(snapshot.invitees(), problems),
                    problems,
                )
            )
        await asyncio.gather(*steps)
        await self.report(channel_id, problems)
        if (
            isinstance(what, StatusChanged)
            and what.to == IncidentStatus.RESOLVED
            and snapshot.major
        ):
            # The cadence stops at resolution with a final update for the executives.
            await self.draft_update(snapshot.id, final=True)

    async def refresh_card(self, incident_id: int, problems: Problems) -> None:
        # One card edit at a time per incident, each from a fresh read, so the last edit wins
        # with the latest state even when two changes land together.
        async with self._card_locks[incident_id]:
            snapshot = await self.service.get(incident_id)
            incident = snapshot.incident
            if not incident.card_ts:
                return
            overdue = await self.desk.overdue(incident_id)
            text, card = blocks.incident_card(snapshot, self.config.conference_bridge_url, overdue)
            await problems.collect(
                self.gateway.update(incident.channel_id, incident.card_ts, text, card)
            )

    async def report(self, channel_id: str, problems: Problems) -> None:
        if not problems:
            return
        log.warning("problems in %s: %s", channel_id, problems.items)
        try:
            await self.gateway.post(channel_id, blocks.problems_report(problems.items))
        except SlackCallFailed:
            log.exception("could not report problems in %s: %s", channel_id, problems.items)
            raise

    # -- stakeholder updates -----------------------------------------------------------------

    async def draft_update(self, incident_id: int, final: bool = False) -> None:
        draft, superseded = await self.desk.draft_now(incident_id, final=final)
        await self.post_draft(draft)
        channel_id = draft.snapshot.incident.channel_id
        for old in superseded:
            if old.message_ts:
                text, decided = blocks.decided_message(Draft(old, draft.snapshot))
                await self.gateway.update(channel_id, old.message_ts, text, decided)

    async def post_draft(self, draft: Draft) -> None:
        await self.desk.posted([(draft.id, await self.post_draft_message(draft))])
        await self.refresh_card(draft.snapshot.id, Problems())

    async def post_draft_message(self, draft: Draft) -> str:
        """Post a claimed draft in the war room. If this fails the lease runs out and the
        scheduler posts it again."""
        text, draft_blocks = blocks.draft_message(draft, self.config.broadcast_channel)
        return await self.gateway.post(draft.snapshot.incident.channel_id, text, draft_blocks)

    async def approve(
        self, update_id: int, by: str, text: str | None = None, message_ts: str | None = None
    ) -> None:
        """`message_ts`: where the person clicked, in case the draft's ts is not stored yet."""
        if not self.config.broadcast_channel:
            raise IncidentError(
                "No broadcast channel is configured (broadcast_channel), so updates cannot be sent."
            )
        draft = await self.desk.start_sending(update_id, by, text)
        try:
            broadcast_ts = await self.gateway.post(
                self.config.broadcast_channel, blocks.broadcast_update(draft)
            )
        except SlackCallFailed:
            await self.desk.sending_failed(update_id)  # approvable again; the failure is reported
            raise
        await self._decided(await self.desk.sent(update_id, broadcast_ts), message_ts)

    async def skip_update(
        self, update_id: int, by: str, reason: str, message_ts: str | None = None
    ) -> None:
        await self._decided(await self.desk.skip(update_id, by, reason), message_ts)

    async def _decided(self, draft: Draft, clicked_ts: str | None) -> None:
        problems = Problems()
        channel_id = draft.snapshot.incident.channel_id
        steps = [self.refresh_card(draft.snapshot.id, problems)]
        message_ts = draft.update.message_ts or clicked_ts
        if message_ts:
            text, decided = blocks.decided_message(draft)
            steps.append(
                problems.collect(self.gateway.update(channel_id, message_ts, text, decided))
            )
        await asyncio.gather(*steps)
        await self.report(channel_id, problems)

    async def nudge(self, draft: Draft) -> None:
        channel_id = draft.snapshot.incident.channel_id
        problems = Problems()
        await asyncio.gather(
            problems.collect(self.gateway.post(channel_id, blocks.escalation_nudge(draft))),
            self.refresh_card(draft.snapshot.id, problems),
        )
        await self.report(channel_id, problems)

    async def ask(self, reply: Reply, incident_id: int, text: str) -> None:
        question, snapshot = await self.desk.ask(incident_id, reply.user, text)
        comms = snapshot.roles.get("comms") or snapshot.commander
        await self.gateway.post(
            comms, blocks.question_for_comms(snapshot, reply.user, question.text)
        )
        await reply(
            f"Thanks: your question went to {snapshot.incident.reference}'s "
            f"{'comms lead' if snapshot.roles.get('comms') else 'commander'} <@{comms}>, "
            "and it will be answered in the next update."
        )

    async def point_to_comms(self, channel_id: str, user: str) -> None:
        await self.gateway.post_ephemeral(
            channel_id, user, blocks.broadcast_pointer(await self.service.list_open())
        )

    # -- the timeline ------------------------------------------------------------------------

    async def note(self, snapshot: IncidentSnapshot, user: str, text: str) -> None:
        entry = await self.timeline.add_note(snapshot.id, user, text)
        await self.gateway.post(
            snapshot.incident.channel_id, f"📝 <@{user}> noted: {escape(entry.text)}"
        )

    async def viewer_zone(self, user: str) -> tzinfo:
        try:
            return ZoneInfo(await self.gateway.user_timezone(user) or "UTC")
        except (SlackCallFailed, ZoneInfoNotFoundError, ValueError):
            return UTC  # still useful in UTC; the page says which zone it shows

    async def show_timeline(
        self, reply: Reply, incident_id: int, page: int, replace: bool = False
    ) -> None:
        snapshot, chunk, highlights, zone = await asyncio.gather(
            self.service.get(incident_id),
            self.timeline.page(incident_id, page, blocks.PAGE_ENTRIES),
            self.timeline.highlights(incident_id),
            self.viewer_zone(reply.user),
        )
        text, page_blocks = blocks.timeline_page(snapshot, chunk, highlights, zone)
        await reply(text, page_blocks, replace)

    async def catch_up(self, reply: Reply, incident_id: int) -> None:
        snapshot, highlights, zone = await asyncio.gather(
            self.service.get(incident_id),
            self.timeline.highlights(incident_id),
            self.viewer_zone(reply.user),
        )
        await reply(*blocks.catch_up(snapshot, highlights, zone))

    async def export_timeline(self, snapshot: IncidentSnapshot, user: str) -> None:
        entries, zone = await asyncio.gather(
            self.timeline.entries(snapshot.id), self.viewer_zone(user)
        )
        readers = await self._readers(zone, people_in(entries), entries)
        incident = snapshot.incident
        await self.gateway.upload_text(
            incident.channel_id,
            filename=f"{incident.reference}-timeline.md",
            title=f"{incident.reference} timeline",
            # A long timeline takes a while to render: off the event loop, which acks Slack.
            content=await asyncio.to_thread(timeline_markdown, snapshot, entries, readers),
            comment=f"🗂️ Timeline of {incident.reference}, exported by <@{user}>.",
        )

    async def post_review(self, snapshot: IncidentSnapshot, user: str) -> None:
        """The post-incident review draft, as a Markdown file in the war room."""
        record, zone = await asyncio.gather(
            gather_review(self.service, snapshot.id), self.viewer_zone(user)
        )
        readers = await self._readers(zone, record.people(), record.entries)
        incident = snapshot.incident
        await self.gateway.upload_text(
            incident.channel_id,
            filename=f"{incident.reference}-post-incident-review.md",
            title=f"{incident.reference} post-incident review (draft)",
            content=await asyncio.to_thread(review_markdown, record, readers, self.service.clock()),
            comment=(
                f"📝 Post-incident review draft for {incident.reference}, made by <@{user}> "
                "from the record. Fill in the cause, the lessons and the action items "
                "together, then `/incident close`."
            ),
        )

    async def _readers(self, zone: tzinfo, people: set[str], entries: list) -> Readers:
        """Names for everyone the entries name or mention, for a document read outside Slack."""
        people = people.union(*(mentioned(e.text) for e in entries))
        names = await self._names(people)
        return Readers(zone, names, partial(with_names, names=names))

    async def _names(self, user_ids: set[str]) -> dict[str, str]:
        people = [p for p in user_ids if p[:1] in ("U", "W")]
        return dict(zip(people, await asyncio.gather(*map(self._name, people)), strict=True))

    async def _name(self, user_id: str) -> str:
        try:
            return await self.gateway.user_name(user_id)
        except SlackCallFailed:
            return user_id

    # -- requests from inside a war room ---------------------------------------------------

    async def incident_here(self, channel_id: str | None) -> IncidentSnapshot:
        snapshot = await self.service.find_by_channel(channel_id) if channel_id else None
        if snapshot is None:
            raise IncidentError(
                "Run this in an incident's war room. `/incident list` shows the open incidents."
            )
        return snapshot

    async def resolve_user(self, user_id: str | None, user_name: str | None) -> str:
        if user_id:
            if await self.gateway.user_exists(user_id):
                return user_id
            raise IncidentError(f"I can't find the user {user_id} in this workspace.")
        found = await self.gateway.find_user(user_name or "")
        if found is None:
            raise IncidentError(
                f"I can't find anyone called @{escape(user_name or '')}. Pick them from Slack's @ menu."
            )
        return found
