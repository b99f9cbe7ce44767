"""The Home tab: published when someone opens it, and refreshed after a change for the
people it concerns.

A change refreshes the Home tabs of the changed incident's role holders and of the people
who opened their Home tab on this process recently, never every viewer; changes close
together share one refresh per viewer, done in the background after a short delay.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field

from bot.background import BackgroundTasks
from bot.incidents import IncidentService, IncidentSnapshot
from bot.incidents.updates import UpdateDesk
from bot.slack.blocks import home
from bot.slack.gateway import SlackCallFailed, SlackGateway
from bot.slack.viewers import Viewers
from bot.store.probe import DATABASE_ERRORS

log = logging.getLogger(__name__)

REFRESH_DELAY = 0.5  # seconds: the changes made within it share one refresh per viewer
RECENT_VIEWER = 15 * 60  # seconds after opening Home in which a viewer sees every change
CONCURRENT_PUBLISHES = 10  # views.publish is Tier 4 (100+ a minute): no need to stampede


@dataclass
class HomeTabs:
    service: IncidentService
    desk: UpdateDesk
    gateway: SlackGateway
    tasks: BackgroundTasks
    viewers: Viewers
    delay: float = REFRESH_DELAY
    _opened: dict[str, float] = field(default_factory=dict, init=False, repr=False)
    _pending: set[str] = field(default_factory=set, init=False, repr=False)
    _timer: asyncio.TimerHandle | None = field(default=None, init=False, repr=False)
    _stopped: bool = field(default=False, init=False, repr=False)
    _locks: defaultdict[str, asyncio.Lock] = field(
        default_factory=lambda: defaultdict(asyncio.Lock), init=False, repr=False
    )
    _publishing: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(CONCURRENT_PUBLISHES), init=False, repr=False
    )

    async def opened(self, user: str) -> None:
        """`user` opened the Home tab: show it, and keep it current for a while."""
        self._opened[user] = time.monotonic()
        await self._publish_or_log(user)

    async def publish(self, user: str) -> None:
        # One publish at a time per person, each from a fresh read: the last one shown is
        # the latest, even when a refresh and an opening overlap.
        async with self._locks[user], self._publishing:
            incidents, waiting = await asyncio.gather(
                self.service.list_open(), self.desk.waiting_for(user)
            )
            viewer = await self.viewers.of(user, incidents)
            await self.gateway.publish_home(user, home.home_view(viewer, incidents, waiting))

    def changed(self, snapshot: IncidentSnapshot, *also: str | None) -> None:
        """After a change to `snapshot`'s incident: refresh its role holders' Home tabs (and
        `also`'s, e.g. whoever just handed a role over) and those of recent viewers."""
        if self._stopped:
            return
        self._pending |= {u for u in (*snapshot.roles.values(), *also) if u}
        self._pending |= self._recent_viewers()
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.delay, self._refresh_pending)

    @property
    def refresh_scheduled(self) -> bool:
        return self._timer is not None

    def stop(self) -> None:
        """At shutdown: send the refreshes still waiting now (the caller drains the
        background tasks); later changes show when people next open Home."""
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._refresh_pending()

    def _refresh_pending(self) -> None:
        users, self._pending, self._timer = self._pending, set(), None
        if users:
            self.tasks.spawn(self._publish_all(sorted(users)), name="refresh Home tabs")

    async def _publish_all(self, users: list[str]) -> None:
        await asyncio.gather(*map(self._publish_or_log, users))

    async def _publish_or_log(self, user: str) -> None:
        try:
            await self.publish(user)
        except (SlackCallFailed, *DATABASE_ERRORS) as error:
            # Not lost for good: the next change or opening publishes it again.
            log.warning("could not show the Home tab of %s: %s", user, error)

    def _recent_viewers(self) -> set[str]:
        cutoff = time.monotonic() - RECENT_VIEWER
        for user in [u for u, at in self._opened.items() if at < cutoff]:
            del self._opened[user]
        return set(self._opened)
