"""Private stays private: the one rule for who may see what a private incident is about.

Everyone else sees only that a private incident exists, with its reference ("INC-5 — a
private incident"): no title, severity, people, channel or words from inside. Every surface
that shows an incident to someone outside its war room asks `shown_to` first.

Who counts as a member: its declarer and its current role holders (the domain knows them),
and the people in its war room, which only the chat knows: the chat layer reads them and
passes them in as the war rooms the `Viewer` is in. The war room itself is a `Viewer` too
(`in_room`), so what is posted there is shown whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlmodel import col

from bot.incidents.errors import IncidentError
from bot.store.models import Incident

if TYPE_CHECKING:  # the service indexes incidents for search, which asks this module
    from bot.incidents.service import IncidentSnapshot

PRIVATE = "a private incident"


class HasPrivacy(Protocol):
    """An incident, or a row of its columns: whether it is private is all the public needs."""

    private: bool


@dataclass(frozen=True)
class Viewer:
    """Who is reading: one person (`user`) with the war rooms they are known to be in, or no
    one in particular (`EVERYONE`: the status page, the executives' channel, statistics)."""

    user: str | None = None
    rooms: frozenset[str] = frozenset()

    @classmethod
    def in_room(cls, channel_id: str | None) -> Viewer:
        """Whoever reads the war room's own channel."""
        return cls(None, frozenset({channel_id} if channel_id else ()))


EVERYONE = Viewer()


def members(snapshot: IncidentSnapshot) -> set[str]:
    """The members the domain knows: the declarer and the current role holders."""
    holders = {user for user in snapshot.roles.values() if user}
    return {snapshot.incident.declared_by, *holders}


def shown_to(subject: IncidentSnapshot | Incident | HasPrivacy, viewer: Viewer) -> bool:
    """Whether `viewer` may see what the incident is about. From an incident without its
    role holders (no snapshot), only the declarer and the war room's people count."""
    incident = _incident(subject)
    if not incident.private:
        return True
    if viewer.rooms and incident.channel_id in viewer.rooms:
        return True
    if viewer.user is None:
        return False
    if incident is subject:
        return viewer.user == incident.declared_by
    return viewer.user in members(subject)


class Hidden(IncidentError):
    """Someone who may not see a private incident named it (a stale or replayed button, a
    form's metadata): they learn nothing more and change nothing in it, not even an empty
    role (taking one is open to all, in the incidents they may see)."""

    def __init__(self, reference: str):
        super().__init__(f"{private_label(reference)}: only its members can see it or act on it.")


def require_shown(subject: IncidentSnapshot | Incident, viewer: Viewer) -> None:
    """Hidden unless `viewer` may see the incident: every request naming an incident by
    its id, from outside its war room, passes here before reading or changing it."""
    if not shown_to(subject, viewer):
        raise Hidden(_incident(subject).reference)


def room_to_ask(subject: IncidentSnapshot | Incident, user: str) -> str | None:
    """The war room whose members decide whether `user` sees the incident, when the domain
    cannot tell on its own (a private incident they neither declared nor hold a role in)."""
    if shown_to(subject, Viewer(user)):
        return None
    return _incident(subject).channel_id


def _incident(subject) -> Incident:
    """The incident of a snapshot, or the incident (or row) itself."""
    return getattr(subject, "incident", subject)


def private_label(reference: str) -> str:
    """A private incident as outsiders see it."""
    return f"{reference} — {PRIVATE}"


def public_only():
    """The SQL form of `shown_to(incident, EVERYONE)`: change both together."""
    return col(Incident.private).is_(False)
