"""A drill's scorecard: how the team ran the process, each measure against the playbook's
`drill_targets`. Made from the post-incident review's facts (`ReviewRecord`), so the
scorecard and the review never disagree about what happened.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import timedelta

from bot.incidents.entries import Injected, payload
from bot.incidents.review import ReviewRecord
from bot.playbooks import format_duration

# Whether the incident's review has been filled in by the team; None while warroom cannot
# tell (the review fill-in of issue 12 plugs in here).
ReviewFilled = Callable[[int], Awaitable[bool | None]]


async def review_not_measured(_: int) -> bool | None:
    return None


@dataclass(frozen=True)
class Measure:
    """One line of the scorecard; `met` is None when there is nothing to judge."""

    key: str
    label: str
    result: str
    target: str
    met: bool | None

    def to_data(self) -> dict:
        return asdict(self)

    @classmethod
    def from_data(cls, data: dict) -> Measure:
        return cls(**data)


def score(record: ReviewRecord, review_filled: bool | None) -> list[Measure]:
    """Every measure the record allows, in the order the team met them."""
    measures = [
        _handover(record, "comms", record.snapshot.playbook.drill_targets.comms_handover),
        _handover(record, "tech", record.snapshot.playbook.drill_targets.tech_handover),
        *_updates(record),
        *_replacements(record),
        _questions(record),
        _review(review_filled),
    ]
    return [m for m in measures if m is not None]


def _took(duration: timedelta) -> str:
    return format_duration(timedelta(seconds=int(duration.total_seconds())))


def _handover(record: ReviewRecord, role: str, target: timedelta) -> Measure | None:
    """How long the commander carried a role alone before handing it to someone."""
    playbook = record.snapshot.playbook
    if role not in playbook.roles:
        return None
    label, within = f"{playbook.roles[role].title} named", f"within {_took(target)}"
    holdings = record.holdings_of(role)
    if not holdings:
        return Measure(f"{role}_handover", label, "never", within, False)
    took = holdings[0].assigned_at - record.snapshot.incident.declared_at
    return Measure(f"{role}_handover", label, f"after {_took(took)}", within, took <= target)


def _updates(record: ReviewRecord) -> list[Measure]:
    """The first stakeholder update, every stretch between updates against the cadence, and
    how long each approved draft waited for its decision."""
    kept = record.updates_kept()
    if kept.cadence is None:
        return []  # a minor severity: no stakeholder updates are expected
    targets = record.snapshot.playbook.drill_targets
    within = f"within {_took(targets.first_update)}"
    if kept.first_after is None:
        first = Measure("first_update", "First stakeholder update sent", "never", within, False)
    else:
        first = Measure(
            "first_update",
            "First stakeholder update sent",
            f"after {_took(kept.first_after)}",
            within,
            kept.first_after <= targets.first_update,
        )
    cadence = Measure(
        "cadence",
        "Updates on cadence",
        f"{kept.on_time} of {kept.sent_while_open} on time; longest silence "
        f"{_took(kept.longest_silence)}",
        f"every {_took(kept.cadence)}",
        not kept.over_cadence,
    )
    waits = [u.decided_at - u.created_at for u in kept.sent]
    approval = Measure(
        "approval",
        "Approval (drafted → sent)",
        f"longest {_took(max(waits))} ({', '.join(_took(w) for w in waits)})"
        if waits
        else "nothing approved",
        f"within {_took(targets.approval)}",
        max(waits) <= targets.approval if waits else None,
    )
    return [first, cadence, approval]


def _replacements(record: ReviewRecord) -> list[Measure]:
    """For each responder an inject took offline: how long until their role was handed on."""
    playbook, target = record.snapshot.playbook, record.snapshot.playbook.drill_targets
    within = f"within {_took(target.replace_offline)}"
    measures = []
    for entry in record.changes:
        dropped = payload(entry)
        if not isinstance(dropped, Injected) or not dropped.role:
            continue
        key = playbook.role_key(dropped.role)
        if key is None:
            continue
        label = f"{playbook.roles[key].title} replaced after going offline"
        later = [h for h in record.holdings_of(key) if h.assigned_at >= entry.at]
        if not later:
            measures.append(Measure(f"{key}_replaced", label, "never", within, False))
            continue
        took = later[0].assigned_at - entry.at
        measures.append(
            Measure(
                f"{key}_replaced",
                label,
                f"after {_took(took)}",
                within,
                took <= target.replace_offline,
            )
        )
    return measures


def _questions(record: ReviewRecord) -> Measure:
    asked = len(record.questions)
    answered = sum(1 for q in record.questions if q.answered_in is not None)
    return Measure(
        "questions",
        "Stakeholder questions answered in an update",
        f"{answered} of {asked}" if asked else "none asked",
        "all",
        answered == asked if asked else None,
    )


def _review(filled: bool | None) -> Measure:
    result = {True: "yes", False: "not yet", None: "not measured"}[filled]
    return Measure("review", "Review filled in", result, "filled in", filled)
