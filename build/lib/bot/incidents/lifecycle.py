"""Incident states and the moves between them."""

from __future__ import annotations

INVESTIGATING, IDENTIFIED, MONITORING, RESOLVED, CLOSED = (
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "closed",
)
ACTIVE_STATUSES = (INVESTIGATING, IDENTIFIED, MONITORING)
STATUSES = (*ACTIVE_STATUSES, RESOLVED, CLOSED)
# What `/incident status` accepts; closing is its own command, after the review.
SETTABLE_STATUSES = (*ACTIVE_STATUSES, RESOLVED)

_NEXT: dict[str, tuple[str, ...]] = {
    INVESTIGATING: (IDENTIFIED, MONITORING, RESOLVED),
    IDENTIFIED: (INVESTIGATING, MONITORING, RESOLVED),
    MONITORING: (INVESTIGATING, IDENTIFIED, RESOLVED),
    RESOLVED: (*ACTIVE_STATUSES, CLOSED),  # a resolved incident can reopen
    CLOSED: (),
}


def allowed_next(status: str) -> tuple[str, ...]:
    return _NEXT[status]


def can_move(current: str, new: str) -> bool:
    return new in _NEXT[current]
