"""The states of an incident and of a stakeholder update, and the moves between them.

Both are `StrEnum`s whose values are what the database has always stored, so rows written
before the enums existed read back as the same statuses.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from bot.incidents.errors import InvalidRequest

if TYPE_CHECKING:
    from bot.store.models import Incident


class IncidentStatus(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"


class UpdateStatus(StrEnum):
    """A stakeholder update: draft → sending → sent, or skipped, or superseded (a newer
    draft, or a reopening, replaced it), or withdrawn (its incident closed or became minor:
    nothing goes to the executives any more)."""

    DRAFT = "draft"
    SENDING = "sending"
    SENT = "sent"
    SKIPPED = "skipped"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


ACTIVE_STATUSES = (
    IncidentStatus.INVESTIGATING,
    IncidentStatus.IDENTIFIED,
    IncidentStatus.MONITORING,
)
# What `/incident status` accepts; closing is its own command, after the review.
SETTABLE_STATUSES = (*ACTIVE_STATUSES, IncidentStatus.RESOLVED)

_NEXT: dict[IncidentStatus, tuple[IncidentStatus, ...]] = {
    IncidentStatus.INVESTIGATING: (
        IncidentStatus.IDENTIFIED,
        IncidentStatus.MONITORING,
        IncidentStatus.RESOLVED,
    ),
    IncidentStatus.IDENTIFIED: (
        IncidentStatus.INVESTIGATING,
        IncidentStatus.MONITORING,
        IncidentStatus.RESOLVED,
    ),
    IncidentStatus.MONITORING: (
        IncidentStatus.INVESTIGATING,
        IncidentStatus.IDENTIFIED,
        IncidentStatus.RESOLVED,
    ),
    # a resolved incident can reopen
    IncidentStatus.RESOLVED: (*ACTIVE_STATUSES, IncidentStatus.CLOSED),
    IncidentStatus.CLOSED: (),
}


def allowed_next(status: str) -> tuple[IncidentStatus, ...]:
    return _NEXT[IncidentStatus(status)]


def can_move(current: str, new: str) -> bool:
    return new in allowed_next(current)


def refuse_if_closed(incident: Incident) -> None:
    """Closed is final: whatever is asked of a closed incident gets this one refusal."""
    if incident.status == IncidentStatus.CLOSED:
        raise InvalidRequest(
            f"{incident.reference} is closed, and closed is final: nothing about it changes "
            "any more and it cannot be reopened. If the problem is back, declare a new incident."
        )
