"""Who is acting, as the domain's permission checks take it: the user and the user groups
they are in, among the groups the config (`incident_admins`) and the playbooks
(`permissions`) name. Other groups never matter, so they are never asked about.

Each group's members come from `usergroups.users.list`, kept for GROUP_SECONDS: a
change in a group counts within minutes, and a burst of clicks costs one call per group.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

from bot.incidents.permissions import Actor
from bot.playbooks import PlaybookLibrary
from bot.slack.gateway import SlackCallFailed, SlackGateway

log = logging.getLogger(__name__)

GROUP_SECONDS = 300.0


def named_groups(admins: Iterable[str], playbooks: PlaybookLibrary) -> frozenset[str]:
    """The user groups (S…) that can grant a permission."""
    entries = list(admins)
    for playbook in playbooks:
        for action in type(playbook.permissions).model_fields:
            entries += playbook.permissions.who(action)
    return frozenset(entry for entry in entries if entry.startswith("S"))


class Actors:
    def __init__(
        self,
        gateway: SlackGateway,
        groups: Iterable[str],
        clock: Callable[[], float] = time.monotonic,
    ):
        self.gateway = gateway
        self.groups = frozenset(groups)
        self.clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    async def of(self, user: str) -> Actor:
        """`user` with the named groups they belong to."""
        if not self.groups:
            return Actor(user)
        groups = sorted(self.groups)
        members = await asyncio.gather(*map(self.members, groups))
        return Actor(user, frozenset(g for g, m in zip(groups, members, strict=True) if user in m))

    async def members(self, group: str) -> frozenset[str]:
        cached = self._members.get(group)
        if cached and self.clock() - cached[0] < GROUP_SECONDS:
            return cached[1]
        try:
            members = frozenset(await self.gateway.usergroup_members(group))
        except SlackCallFailed as failure:
            # Not fatal: role holders still act; group members are refused until it answers.
            log.warning("could not list user group %s (%s)", group, failure)
            return cached[1] if cached else frozenset()
        self._members[group] = (self.clock(), members)
        return members
