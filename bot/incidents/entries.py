"""Timeline entries: what kinds there are, the typed payload of each, and one constructor.

A row keeps its payload as JSON (`TimelineEntry.data`) under the keys it has always had, so
rows written before these types existed read back as the same payloads. Code reads a
payload with `payload(entry)` and matches on its type instead of reading `data` keys.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Self

from bot.store.models import TimelineEntry


class EntryKind(StrEnum):
    DECLARED = "declared"
    STATUS = "status"
    SEVERITY = "severity"
    ROLE = "role"
    NOTE = "note"
    MESSAGE = "message"
    UPDATE = "update"
    UPDATE_SKIPPED = "update_skipped"
    ALERT = "alert"
    PAGED = "paged"
    PAGE_ACKNOWLEDGED = "page_acknowledged"
    INJECT = "inject"  # a drill's scripted event, as posted in its war room


@dataclass(frozen=True)
class Payload:
    """What an entry of one kind records beyond who, when and its text."""

    kind: ClassVar[EntryKind]
    # Stored JSON keys that are Python keywords, by field name.
    _stored_as: ClassVar[dict[str, str]] = {"previous": "from"}

    def to_data(self) -> dict:
        return {self._stored_as.get(name, name): value for name, value in asdict(self).items()}

    @classmethod
    def from_data(cls, data: dict) -> Self:
        """Keys missing from older rows take the field's default."""
        stored = {f.name: cls._stored_as.get(f.name, f.name) for f in fields(cls)}
        return cls(**{name: data[key] for name, key in stored.items() if key in data})


@dataclass(frozen=True)
class Declared(Payload):
    kind = EntryKind.DECLARED
    severity: str
    playbook: str
    impact: str = ""


@dataclass(frozen=True)
class StatusChanged(Payload):
    kind = EntryKind.STATUS
    previous: str
    to: str
    note: str = ""
    reopened: bool = False


@dataclass(frozen=True)
class SeverityChanged(Payload):
    kind = EntryKind.SEVERITY
    previous: str
    to: str


@dataclass(frozen=True)
class RoleHandedOver(Payload):
    kind = EntryKind.ROLE
    role: str
    previous: str | None  # who held it before, if anyone
    to: str


@dataclass(frozen=True)
class Noted(Payload):
    kind = EntryKind.NOTE


@dataclass(frozen=True)
class Said(Payload):
    """A message in the war room; `key_by` is who marks it key (pins, reactions);
    `from_history`: recovered after downtime from the channel's history, not heard live."""

    kind = EntryKind.MESSAGE
    key_by: list[str] = field(default_factory=list)
    from_history: bool = False

    def to_data(self) -> dict:
        # Most messages are unmarked and heard live: they store {}.
        return {k: v for k, v in super().to_data().items() if v}


@dataclass(frozen=True)
class UpdateSent(Payload):
    kind = EntryKind.UPDATE
    update: int
    final: bool = False


@dataclass(frozen=True)
class UpdateSkipped(Payload):
    kind = EntryKind.UPDATE_SKIPPED
    update: int
    reason: str


@dataclass(frozen=True)
class AlertChanged(Payload):
    """An alert of the incident's alert group fired, resolved or fired again."""

    kind = EntryKind.ALERT
    group: int
    fingerprint: str
    status: str  # firing, resolved
    name: str


@dataclass(frozen=True)
class Paged(Payload):
    """The duty manager (or the next on the rota) was paged; `unanswered` did not answer."""

    kind = EntryKind.PAGED
    user: str
    attempt: int
    unanswered: str | None = None


@dataclass(frozen=True)
class PageAcknowledged(Payload):
    kind = EntryKind.PAGE_ACKNOWLEDGED
    user: str
    attempt: int
    seconds: int  # from the first page to this acknowledgement


@dataclass(frozen=True)
class Injected(Payload):
    kind = EntryKind.INJECT
    position: int  # its place in the drill's scenario
    inject: str  # message, question or offline
    role: str | None = None  # offline: whose holder dropped out


AnyPayload = (
    Declared
    | StatusChanged
    | SeverityChanged
    | RoleHandedOver
    | Noted
    | Said
    | UpdateSent
    | UpdateSkipped
    | AlertChanged
    | Paged
    | PageAcknowledged
    | Injected
)
PAYLOADS: dict[EntryKind, type[Payload]] = {p.kind: p for p in AnyPayload.__args__}


def payload(entry: TimelineEntry) -> AnyPayload:
    """The entry's typed payload, read from its stored JSON."""
    return PAYLOADS[EntryKind(entry.kind)].from_data(entry.data)


def recovered(entry: TimelineEntry) -> bool:
    """Said while the bot was down, and filled in later from the channel's history."""
    said = payload(entry)
    return isinstance(said, Said) and said.from_history


def entry_row(
    incident_id: int,
    at: datetime,
    what: AnyPayload,
    *,
    actor: str | None,
    text: str,
    key: bool = False,
    message_ts: str | None = None,
    thread_ts: str | None = None,
    permalink: str | None = None,
    files: list[str] | None = None,
    edits: list[dict] | None = None,
) -> dict:
    """Every column of a new timeline row: the one way entries are made (see `new_entry`)."""
    return {
        "incident_id": incident_id,
        "at": at,
        "kind": what.kind.value,
        "actor": actor,
        "text": text,
        "data": what.to_data(),
        "key": key,
        "message_ts": message_ts,
        "thread_ts": thread_ts,
        "permalink": permalink,
        "files": files or [],
        "edits": edits or [],
        "deleted": False,
    }


def new_entry(incident_id: int, at: datetime, what: AnyPayload, **columns) -> TimelineEntry:
    """A timeline entry to add to a session; `columns` as for `entry_row`."""
    return TimelineEntry(**entry_row(incident_id, at, what, **columns))
