"""Who people are in Slack: names, time zones, bots, and the workspace's URL, cached.

`users.info` per person and `users.list` (Tier 2, ~20 a minute) for a typed `@name` would
cost a Web API call per command. So a person is kept for an hour, the whole directory for a
few minutes, a miss refreshes the directory at most once a minute, and `user_change`
events keep entries current in between. The workspace URL is learnt once, at startup (if
Slack could not say then, it is asked again in the background, never on the event path).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.background import BackgroundTasks
from bot.incidents import IncidentError
from bot.incidents.permissions import Candidate, check_can_hold
from bot.slack.gateway import SlackCallFailed, SlackGateway
from bot.slack.text import escape, plain_text

PERSON_SECONDS = 3600.0  # names and time zones rarely change; user_change events say when
DIRECTORY_SECONDS = 300.0  # how long a full listing answers `@name` without asking again
MISS_REFRESH_SECONDS = 60.0  # an unknown `@name` lists the workspace again at most this often
WORKSPACE_RETRY_SECONDS = 60.0  # while startup could not learn the workspace URL
SLACKBOT = "USLACKBOT"  # Slack's own system user: users.info says it is no bot


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    tz: str | None
    is_bot: bool  # a bot user or an app's user (workflows, integrations)
    deleted: bool
    handles: frozenset[str]  # lower-cased names someone may type after @

    @classmethod
    def from_slack(cls, member: dict) -> Person:
        profile = member.get("profile", {})
        handles = (member.get("name"), profile.get("display_name"), profile.get("real_name"))
        return cls(
            id=member["id"],
            name=profile.get("display_name") or member.get("name") or member["id"],
            tz=member.get("tz"),
            is_bot=bool(member.get("is_bot") or member.get("is_app_user")),
            deleted=bool(member.get("deleted")),
            handles=frozenset(h.lower() for h in handles if h),
        )


class People:
    def __init__(
        self,
        gateway: SlackGateway,
        tasks: BackgroundTasks,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.gateway = gateway
        self.tasks = tasks
        self.clock = clock
        self.workspace_url: str | None = None  # set at startup; None: no permalinks
        self._workspace_asked_at = clock()  # startup asks
        self._people: dict[str, tuple[float, Person]] = {}
        self._listed_at: float | None = None
        self._listing = asyncio.Lock()

    def workspace(self) -> str | None:
        """The workspace URL for permalinks, without a Web API call. While it is unknown it
        is asked in the background, at most once a minute."""
        waited = self.clock() - self._workspace_asked_at
        if self.workspace_url is None and waited >= WORKSPACE_RETRY_SECONDS:
            self._workspace_asked_at = self.clock()
            self.tasks.spawn(self._learn_workspace(), name="learn the workspace URL")
        return self.workspace_url

    async def _learn_workspace(self) -> None:
        self.workspace_url = await self.gateway.workspace_url()

    def learn(self, member: dict) -> Person:
        """Remember Slack's user object (from a listing, a lookup or a `user_change` event)."""
        person = Person.from_slack(member)
        self._people[person.id] = (self.clock(), person)
        return person

    async def get(self, user_id: str) -> Person | None:
        """The person, from the cache while fresh; None when Slack knows no such user."""
        cached = self._people.get(user_id)
        if cached and self.clock() - cached[0] < PERSON_SECONDS:
            return cached[1]
        member = await self.gateway.user_info(user_id)
        return None if member is None else self.learn(member)

    async def name(self, user_id: str) -> str:
        try:
            person = await self.get(user_id)
        except SlackCallFailed:
            person = None
        return person.name if person else user_id

    async def names(self, user_ids: Iterable[str]) -> dict[str, str]:
        """Display names of the people (U…/W… IDs) among `user_ids`."""
        people = [p for p in set(user_ids) if p[:1] in ("U", "W")]
        return dict(zip(people, await asyncio.gather(*map(self.name, people)), strict=True))

    def read_plainly(self, said: str) -> str:
        """Said text as plain text, people by the names already known (however old), for
        renderings that cannot wait on Slack, such as the status page; others are IDs."""
        return plain_text(said, {key: person.name for key, (_, person) in self._people.items()})

    async def zone(self, user_id: str) -> tzinfo:
        try:
            person = await self.get(user_id)
            return ZoneInfo(person.tz or "UTC") if person else UTC
        except (SlackCallFailed, ZoneInfoNotFoundError, ValueError):
            return UTC  # still useful in UTC; the page says which zone it shows

    async def find(self, handle: str) -> str | None:
        """A user ID by handle, display name or real name (an `@name` typed as plain text)."""
        wanted = handle.lower()
        found = self._named(wanted)
        if found is None and self._listing_may_refresh():
            async with self._listing:
                if self._listing_may_refresh():  # unless a concurrent command just listed
                    await self._list_everyone()
            found = self._named(wanted)
        return found

    async def resolve(self, user_id: str | None, user_name: str | None) -> str:
        """The user a command names, as an ID; refused when there is no such person."""
        if user_id:
            person = await self.get(user_id)
            if person is None or person.deleted:
                raise IncidentError(f"I can't find the user {user_id} in this workspace.")
            return user_id
        found = await self.find(user_name or "")
        if found is None:
            raise IncidentError(
                f"I can't find anyone called @{escape(user_name or '')}. Pick them from Slack's @ menu."
            )
        return found

    async def candidate(self, user_id: str) -> Candidate:
        """Someone a role is to be handed to, with what the domain judges them by."""
        person = await self.get(user_id)
        if person is None:
            raise IncidentError(f"I can't find the user {user_id} in this workspace.")
        identity = self.gateway.identity
        own = identity is not None and user_id == identity.bot_user_id
        return Candidate(
            user_id,
            bot=person.is_bot or own,
            deactivated=person.deleted,
            system=user_id == SLACKBOT,
        )

    async def first_able_to_hold_a_role(self, users: Iterable[str]) -> str | None:
        """The first of `users` who may hold a role (a person, active): a rota or a team
        list may still name someone who has left."""
        for user_id in users:
            try:
                check_can_hold(await self.candidate(user_id))
            except IncidentError:
                continue
            return user_id
        return None

    def _named(self, wanted: str) -> str | None:
        if self._listed_at is None or self.clock() - self._listed_at >= DIRECTORY_SECONDS:
            return None  # a stale directory may name someone who has since changed handle
        for _, person in self._people.values():
            if wanted in person.handles and not person.deleted:
                return person.id
        return None

    def _listing_may_refresh(self) -> bool:
        return self._listed_at is None or self.clock() - self._listed_at >= MISS_REFRESH_SECONDS

    async def _list_everyone(self) -> None:
        members = await self.gateway.list_users()
        for member in members:
            self.learn(member)
        self._listed_at = self.clock()
