"""Who is looking, for the privacy rule (bot.incidents.privacy): a person and the private
war rooms Slack says they are in.

Slack gives a bot no list of a person's channels, so it is checked the other way round:
the members of each private war room in question (conversations.members, which the bot
may call as a member of every war room), kept briefly per room, so one list, Home tab or
search costs a call per private room at most every MEMBERS_SECONDS, whoever asks.
Only rooms the domain cannot decide on are read (not for the declarer or a role holder).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from bot.incidents import IncidentSnapshot
from bot.incidents.privacy import Viewer, require_shown, room_to_ask
from bot.slack.gateway import SlackCallFailed, SlackGateway
from bot.store.models import Incident

MEMBERS_SECONDS = 30.0  # someone invited or removed sees the change within this


class Viewers:
    def __init__(
        self,
        gateway: SlackGateway,
        clock: Callable[[], float] = time.monotonic,
        ttl: float = MEMBERS_SECONDS,
    ):
        self.gateway = gateway
        self.clock = clock
        self.ttl = ttl
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._reading: dict[str, asyncio.Future[frozenset[str]]] = {}

    async def of(self, user: str, shown: Iterable[IncidentSnapshot | Incident]) -> Viewer:
        """`user`, with the private war rooms among `shown`'s that they are in."""
        rooms = {room for s in shown if (room := room_to_ask(s, user))}
        rooms_list = sorted(rooms)
        members = await asyncio.gather(*map(self.members, rooms_list))
        inside = {room for room, people in zip(rooms_list, members, strict=True) if user in people}
        return Viewer(user, frozenset(inside))

    async def require(self, user: str, subject: IncidentSnapshot | Incident) -> None:
        """privacy.Hidden unless `user` may see the incident: for buttons and forms that
        carry an incident's id, which the person may not (or no longer) be let into."""
        require_shown(subject, await self.of(user, [subject]))

    async def members(self, room: str) -> frozenset[str]:
        """A war room's members, from a recent read if there is one; Home tabs refreshed
        together share one read of a room."""
        cached = self._members.get(room)
        if cached is not None and self.clock() - cached[0] < self.ttl:
            return cached[1]
        reading = self._reading.get(room)
        if reading is None or reading.done():
            reading = self._reading[room] = asyncio.ensure_future(self._read(room))
        return await asyncio.shield(reading)

    async def _read(self, room: str) -> frozenset[str]:
        try:
            people = frozenset(await self.gateway.members(room))
        except SlackCallFailed:
            return frozenset()  # cannot tell: keep it private (and ask again next time)
        self._members[room] = (self.clock(), people)
        return people
