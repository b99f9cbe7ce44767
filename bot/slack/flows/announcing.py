"""The posts a stored change owes outside its room, posted exactly once.

A change (a resolution, a raise to major, a handover) records what it owes the executives'
channel and the response team's channel in its own transaction (`owe`, the service's
`owing` hook); the process that made it posts them at once. Each post carries metadata
naming its row, so a run after a crash (the scheduler's `resume_unfinished`, on whichever
replica claims it) finds a post whose answer was lost instead of posting it again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import BotConfig
from bot.incidents import Change
from bot.incidents.entries import SeverityChanged, payload
from bot.incidents.owed import OwedPosts
from bot.logs import bind_incident
from bot.slack.blocks import announcements
from bot.slack.flows.room import executives_post, response_team_post, stakeholder_channel
from bot.slack.gateway import SlackCallFailed, SlackGateway
from bot.store.models import OwedPost

log = logging.getLogger(__name__)

OWED_EVENT = "warroom_owed_post"  # the metadata's event_type; its payload names the row


class Kind:
    CHANGE = "change"  # what changed, for the executives
    MAJOR = "major"  # raised to major: announced like a major declaration
    MAJOR_ALERT = "major_alert"  # raised to major: the response team's alert


def owed_by(config: BotConfig, change: Change) -> list[tuple[str, str, str]]:
    """(kind, channel, text) of each post `change` owes outside its room."""
    snapshot, what = change.snapshot, payload(change.entry)
    owed = []
    broadcast = stakeholder_channel(config, snapshot)
    summary = announcements.change_broadcast(change) if change.concerns_stakeholders else None
    if broadcast and summary:
        owed.append((Kind.CHANGE, broadcast, summary))
    if isinstance(what, SeverityChanged) and snapshot.major and not change.was_major:
        majors = [(Kind.MAJOR, executives_post(config, snapshot))]
        majors.append((Kind.MAJOR_ALERT, response_team_post(config, snapshot)))
        owed += [(kind, *post) for kind, post in majors if post]
    return owed


def owed_metadata(owed: OwedPost) -> dict:
    return {"event_type": OWED_EVENT, "event_payload": _payload(owed)}


def _payload(owed: OwedPost) -> dict:
    return {"owed": owed.id, "entry": owed.entry_id, "kind": owed.kind}


@dataclass
class Announcing:
    posts: OwedPosts
    gateway: SlackGateway
    config: BotConfig

    async def owe(self, session: AsyncSession, change: Change) -> tuple[OwedPost, ...]:
        """The service's `owing` hook: the rows, in the change's transaction."""
        return tuple(await self.posts.owe(session, change.entry, owed_by(self.config, change)))

    async def post(self, owed: OwedPost, look_first: bool = False) -> str:
        """Post `owed` (after looking for it, on a resumed run) and record it over. A post
        Slack refused is over too (the caller says so); one whose answer was lost is left
        for the next run, which looks for it first."""
        async with self.posts.held(owed):
            try:
                ts = await self._post(owed, look_first)
            except SlackCallFailed as failure:
                if not failure.answer_lost:
                    await self.posts.finish(owed, f"failed: {failure.error}")
                raise
        await self.posts.finish(owed, ts)
        return ts

    async def _post(self, owed: OwedPost, look_first: bool) -> str:
        if look_first:
            found = await self.gateway.own_message(owed.channel, OWED_EVENT, _payload(owed))
            if found:
                return found
        return await self.gateway.post(owed.channel, owed.text, metadata=owed_metadata(owed))

    async def resume_unfinished(self) -> None:
        """From the scheduler's tick (the first at startup too): post what a dead process
        owed, once its lease has run out."""
        claimed = await self.posts.claim_unfinished()
        await asyncio.gather(*(self._resume(owed) for owed in claimed))

    async def _resume(self, owed: OwedPost) -> None:
        bind_incident(f"INC-{owed.incident_id}")
        log.info("posting %s owed for change %s to %s", owed.kind, owed.entry_id, owed.channel)
        try:
            await self.post(owed, look_first=True)
        except SlackCallFailed:
            log.exception("INC-%s: owed %s not posted", owed.incident_id, owed.kind)
