"""Who may do what to an incident. One named person steers (MIM): changing an incident is
for its current role holders and the configured incident admins, and a playbook's
`permissions` choose which roles (or which people and user groups) may take each action.
Taking a role no one holds, notes, questions and messages stay open to everyone.

No Slack here: the chat layer says who is acting (their user ID and the user groups they
belong to), and renders a refusal from the facts it carries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.incidents.errors import IncidentError
from bot.playbooks import ANY_ROLE

if TYPE_CHECKING:
    from bot.incidents.service import IncidentSnapshot


class Action(StrEnum):
    """The guarded actions; each is a key of a playbook's `permissions`."""

    ASSIGN = "assign"  # hand over a role someone holds, or fill one for someone else
    STATUS = "status"
    SEVERITY = "severity"
    RESOLVE = "resolve"
    CLOSE = "close"
    UPDATES = "updates"  # approve, edit or skip a stakeholder update
    REVIEW = "review"  # fill in the post-incident review
    ACTION_ITEMS = "action_items"  # mark an action item done, reassign it
    PROBLEM = "problem"  # record the problem-management case


# How a refusal ends: "Only … can <verb> INC-12."
VERBS = {
    Action.ASSIGN: "hand over roles in",
    Action.STATUS: "change the status of",
    Action.SEVERITY: "change the severity of",
    Action.RESOLVE: "resolve",
    Action.CLOSE: "close",
    Action.UPDATES: "approve, edit or skip the stakeholder updates of",
    Action.REVIEW: "fill in the review of",
    Action.ACTION_ITEMS: "mark done or reassign the action items of",
    Action.PROBLEM: "record the problem record of",
}


@dataclass(frozen=True)
class Actor:
    """Someone acting on an incident: their user ID and the user groups (S…) they are in,
    among those the config and playbooks name (the chat layer looks them up)."""

    user: str
    groups: frozenset[str] = frozenset()

    def is_among(self, ids: Iterable[str]) -> bool:
        ids = set(ids)
        return self.user in ids or bool(self.groups & ids)


def as_actor(by: Actor | str) -> Actor:
    """A bare user ID acts with no user groups (callers that know none, e.g. tests)."""
    return by if isinstance(by, Actor) else Actor(by)


@dataclass(frozen=True)
class Allowed:
    """Who may take an action on one incident now, for a refusal to name."""

    holders: tuple[tuple[str, str], ...]  # (role title, user ID) of the roles that may
    others: tuple[tuple[str, str], ...] = ()  # (label, user ID) allowed in this case only
    named: tuple[str, ...] = ()  # user and user-group IDs the playbook names
    admins: bool = False  # incident admins are configured


Render = Callable[[str], str]


class Refused(IncidentError):
    """A refusal about people. The chat layer renders its sentence: `name` for user and
    user-group IDs (as mentions), `say` for words from config such as role titles
    (escaped); str() is the sentence with IDs as they are."""

    def sentence(self, name: Render = str, say: Render = str) -> str:
        raise NotImplementedError


class NotAllowed(Refused):
    """The actor may not take this action on this incident; says who may."""

    def __init__(self, action: Action, reference: str, allowed: Allowed):
        self.action, self.reference, self.allowed = action, reference, allowed
        super().__init__(self.sentence())

    def sentence(self, name: Render = str, say: Render = str) -> str:
        """ "Only the Incident Commander U1, the Comms Lead U2 or an incident admin can close
        INC-12." """
        allowed, doing = self.allowed, f"{VERBS[self.action]} {self.reference}"
        who = [f"the {say(title)} {name(user)}" for title, user in allowed.holders]
        who += [f"{say(label)} {name(user)}" for label, user in allowed.others]
        who += [name(entry) for entry in allowed.named]
        who += ["an incident admin"] if allowed.admins else []
        if not who:
            return f"No one can {doing} now: the roles that may are not held. Take one first."
        listed = ", ".join(who[:-1]) + " or " + who[-1] if len(who) > 1 else who[0]
        return f"Only {listed} can {doing}."


class CannotHoldRole(Refused):
    """Roles are for people: not bots, apps, Slackbot or deactivated accounts."""

    def __init__(self, user: str, reason: str):
        self.user, self.reason = user, reason
        super().__init__(self.sentence())

    def sentence(self, name: Render = str, say: Render = str) -> str:
        return f"{name(self.user)} {self.reason}; only active people can hold incident roles."


@dataclass(frozen=True)
class Candidate:
    """Someone a role is to be handed to, as the chat knows them."""

    user: str
    bot: bool = False  # a bot or an app user (warroom itself included)
    deactivated: bool = False
    system: bool = False  # the chat's own system user (Slackbot)


def check_can_hold(candidate: Candidate) -> None:
    if candidate.system:
        raise CannotHoldRole(candidate.user, "is a system account, not a person")
    if candidate.bot:
        raise CannotHoldRole(candidate.user, "is a bot or an app, not a person")
    if candidate.deactivated:
        raise CannotHoldRole(candidate.user, "is deactivated")


@dataclass(frozen=True)
class IncidentPermissions:
    """The rules, with the config's incident admins (user IDs and user-group IDs)."""

    admins: frozenset[str] = field(default_factory=frozenset)

    def require(
        self,
        snapshot: IncidentSnapshot,
        action: Action,
        by: Actor | str,
        also: Iterable[tuple[str, str]] = (),
    ) -> Actor:
        """The actor, if they may; else NotAllowed. `also`: (label, user ID) of people who
        may in this case only (an action item's owner marking it done)."""
        actor, also = as_actor(by), tuple((label, user) for label, user in also if user)
        if not self.may(snapshot, action, actor, also):
            raise NotAllowed(
                action, snapshot.incident.reference, self.allowed(snapshot, action, also)
            )
        return actor

    def may(
        self,
        snapshot: IncidentSnapshot,
        action: Action,
        actor: Actor,
        also: Iterable[tuple[str, str]] = (),
    ) -> bool:
        entries = snapshot.playbook.permissions.who(action)
        return (
            actor.is_among(self.admins)
            or actor.is_among(entries)
            or actor.user in {user for _, user in also}
            or actor.user in {holder for _, holder in self._holders(snapshot, entries)}
        )

    def allowed(
        self, snapshot: IncidentSnapshot, action: Action, also: Iterable[tuple[str, str]] = ()
    ) -> Allowed:
        entries = snapshot.playbook.permissions.who(action)
        return Allowed(
            holders=tuple(self._holders(snapshot, entries)),
            others=tuple(also),
            named=tuple(e for e in entries if e != ANY_ROLE and e not in snapshot.roles),
            admins=bool(self.admins),
        )

    @staticmethod
    def _holders(snapshot: IncidentSnapshot, entries: list[str]) -> list[tuple[str, str]]:
        """(title, user) of the current holders of the roles `entries` name, in playbook order."""
        roles = snapshot.playbook.roles
        return [
            (roles[key].title, user)
            for key, user in snapshot.roles.items()
            if user and (ANY_ROLE in entries or key in entries)
        ]
