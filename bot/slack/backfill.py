"""A complete timeline after downtime: what was said in the war rooms while the bot was not
listening, read back from Slack's history.

Slack retries an event for about five minutes; a bot down longer never gets what was said
meanwhile. So at startup and after a Socket Mode reconnect, each war room not yet closed
is read from its last message heard (or its declaration) onwards with
`conversations.history`, and its threads with replies since then with
`conversations.replies`. Every message goes through the live listener's reading
(`SaidIn`) and the timeline's exactly-once rules, so a message that also arrives as an
event, before or after, is one entry; entries filled this way are marked `from_history`.

It runs as a background task, a room at a time per worker, committing small groups of
messages, so live events never wait behind it; all rooms share the gateway's Tier 3 limiter.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from bot.background import BackgroundTasks
from bot.incidents.timeline import Change, HeardUpTo, MessagePosted, Timeline
from bot.slack.gateway import SlackCallFailed, SlackGateway
from bot.slack.listeners.events import SPOKEN, SaidIn
from bot.slack.people import People
from bot.store.probe import DATABASE_ERRORS, describe_database_error

log = logging.getLogger(__name__)

ROOMS_AT_ONCE = 2  # rooms read concurrently; the rate limit is the real bound
COMMIT_GROUP = 50  # changes per group: small transactions that live events slip between


@dataclass
class Filled:
    """What one room's fill stored: new messages and when the first and last were said."""

    messages: int = 0
    first: datetime | None = None
    last: datetime | None = None
    missing: list[str] = field(default_factory=list)  # what could not be read, and why

    def count(self, changes: list[Change], stored: list[bool]) -> None:
        for change, is_new in zip(changes, stored, strict=True):
            if is_new and isinstance(change, MessagePosted):
                self.messages += 1
                self.first = min(self.first or change.at, change.at)
                self.last = max(self.last or change.at, change.at)


def history_changes(said: SaidIn, message: dict) -> list[Change]:
    """A message as Slack's history shows it now, read as the live events would have made it:
    posted, then edited if it was; a deleted thread parent (a tombstone) as deleted."""
    subtype = message.get("subtype")
    if subtype == "tombstone":
        deleted = said.change({"subtype": "message_deleted", "deleted_ts": message["ts"]})
        return [deleted] if deleted else []
    if subtype not in SPOKEN:
        return []  # joins, topic changes, … are not people talking
    changes = [said.change(message)]
    if isinstance(message.get("edited"), dict):
        changes.append(said.change({"subtype": "message_changed", "message": message}))
    return [change for change in changes if change is not None]


def slack_ts(moment: datetime) -> str:
    return f"{moment.timestamp():.6f}"


class Backfill:
    def __init__(
        self, timeline: Timeline, gateway: SlackGateway, people: People, tasks: BackgroundTasks
    ):
        self.timeline, self.gateway, self.people, self.tasks = timeline, gateway, people, tasks
        self._running: asyncio.Task | None = None
        self._queued: tuple[str, list[HeardUpTo]] | None = None  # a fill asked for meanwhile

    async def start(self, why: str) -> None:
        """Note where each open war room's record ends *now*, then fill from there in the
        background. Called before events can arrive (at startup, before the app listens; on
        a reconnect, as the new connection says hello): an event stored first, such as
        Slack's retry of something said during the gap, would otherwise hide the gap
        before it. Asked again while a fill runs, the next fill follows it."""
        try:
            rooms = await self.timeline.heard_up_to()
        except DATABASE_ERRORS as error:
            reason = describe_database_error(error)
            log.warning(
                "history backfill (%s) not done: the database did not answer: %s", why, reason
            )
            return
        if self.running:
            self._queued = self._queued or (why, rooms)  # the earlier note covers more
            return
        self._running = self.tasks.spawn(self._fill(why, rooms), name="history backfill")

    @property
    def running(self) -> bool:
        return self._running is not None and not self._running.done()

    async def stop(self) -> None:
        """At shutdown: a fill is cut short; the next start resumes where it got to."""
        if self.running:
            self._running.cancel()
            await asyncio.wait([self._running])

    async def _fill(self, why: str, rooms: list[HeardUpTo]) -> None:
        while True:
            await self.fill_all(why, rooms)
            if self._queued is None:
                return
            (why, rooms), self._queued = self._queued, None

    async def fill_all(self, why: str, rooms: list[HeardUpTo]) -> int:
        """Fill these war rooms; returns how many messages were filled."""
        started = time.monotonic()
        try:
            ours = await self.gateway.bot_ids()
        except SlackCallFailed as failure:
            log.warning("history backfill (%s) not done: %s", why, failure)
            return 0
        workers = asyncio.Semaphore(ROOMS_AT_ONCE)

        async def one(room: HeardUpTo) -> Filled:
            async with workers:
                return await self._fill_logged(room, ours)

        filled = await asyncio.gather(*map(one, rooms))
        total = sum(f.messages for f in filled)
        log.info(
            "history backfill (%s): %d messages filled in %d of %d open war rooms in %.1f s%s",
            why,
            total,
            sum(1 for f in filled if f.messages),
            len(rooms),
            time.monotonic() - started,
            "; incomplete: " + "; ".join(m for f in filled for m in f.missing)
            if any(f.missing for f in filled)
            else "",
        )
        return total

    async def _fill_logged(self, room: HeardUpTo, ours: frozenset[str]) -> Filled:
        filled = Filled()
        try:
            await self.fill_room(room, ours, filled)
        except (SlackCallFailed, *DATABASE_ERRORS) as error:  # the others go on
            filled.missing.append(f"INC-{room.incident_id}: {error}")
        except Exception as error:  # a bug: its traceback, and the others still go on
            log.exception("history backfill of INC-%s failed", room.incident_id)
            filled.missing.append(f"INC-{room.incident_id}: {type(error).__name__}")
        span = (
            f" said {filled.first:%H:%M:%S} to {filled.last:%H:%M:%S} UTC" if filled.first else ""
        )
        log.info(
            "history backfill: INC-%s (%s) %d messages filled%s%s",
            room.incident_id,
            room.channel_id,
            filled.messages,
            span,
            f" (stopped: {filled.missing[-1]})" if filled.missing else "",
        )
        return filled

    async def fill_room(self, room: HeardUpTo, ours: frozenset[str], filled: Filled) -> None:
        """The room's messages after the last one heard, and its threads' new replies.
        History is read from the declaration: a message said before the gap may have
        been answered in a new thread during it, and only its parent's `latest_reply` says so."""
        oldest = room.last_message_ts or slack_ts(room.declared_at)
        said = SaidIn(
            "history", room.incident_id, room.channel_id, self.people.workspace(), ours, True
        )
        threads = dict.fromkeys(room.threads)  # threads heard before may have new replies
        async for page in self.gateway.history(room.channel_id, slack_ts(room.declared_at)):
            await self._store(said, [m for m in page if float(m["ts"]) > float(oldest)], filled)
            threads |= dict.fromkeys(
                m["ts"] for m in page if float(m.get("latest_reply", 0)) > float(oldest)
            )
        for thread_ts in threads:
            try:
                async for page in self.gateway.replies(room.channel_id, thread_ts, oldest):
                    await self._store(said, page, filled)
            except SlackCallFailed as failure:
                if failure.error != "thread_not_found":  # its parent deleted: nothing to read
                    raise

    async def _store(self, said: SaidIn, messages: list[dict], filled: Filled) -> None:
        changes = [change for message in messages for change in history_changes(said, message)]
        for start in range(0, len(changes), COMMIT_GROUP):
            group = changes[start : start + COMMIT_GROUP]
            stored = await asyncio.gather(*map(self.timeline.record, group))
            filled.count(group, stored)
