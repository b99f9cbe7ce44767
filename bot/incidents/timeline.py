"""The timeline: everything said and done in the war room, exactly once.

Slack delivers events at least once. Each change is recognised so that a retried
delivery changes nothing: messages by channel+ts, edits by their edit time, deletes by the
deleted flag, pins and reactions by their event ID. Writes are grouped: events arriving
together share one transaction (group commit), and each caller returns only when its
change is committed, so an event answered 200 is already durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import Row, bindparam, delete, false, func, insert, true, tuple_, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.incidents.entries import EntryKind, Noted, RoleHandedOver, Said, entry_row, new_entry
from bot.incidents.entries import payload as payload_of
from bot.incidents.errors import InvalidRequest, NotFound
from bot.incidents.lifecycle import IncidentStatus, refuse_if_closed
from bot.store import Database, insert_ignoring_duplicates
from bot.store.models import Incident, ProcessedEvent, TimelineEntry
from bot.store.types import utcnow

log = logging.getLogger(__name__)
MAX_BATCH = 500
# What the database (or the driver binding values) raises for one change it cannot store;
# a database that is down or slow raises other errors, and those fail the whole batch.
_BAD_CHANGE = (IntegrityError, DataError, TypeError, ValueError)
EVENT_MEMORY = timedelta(days=1)  # Slack stops retrying an event after about 5 minutes
# What an edit, a delete or a key mark may change in an entry.
_CHANGEABLE = ("text", "edits", "deleted", "data", "key")


class _ClosedMeanwhile(Exception):
    """Some changes in a batch are for incidents found closed: the batch is rolled back."""

    def __init__(self, incident_ids: set[int]):
        super().__init__(incident_ids)
        self.incident_ids = incident_ids


@dataclass(frozen=True)
class MessagePosted:
    """A message said in a war room; `ts` identifies it in its channel, `at` is when."""

    event_id: str
    incident_id: int
    ts: str
    at: datetime
    user: str
    text: str
    thread_ts: str | None = None
    files: list[str] = field(default_factory=list)
    permalink: str | None = None
    from_history: bool = False  # said while the bot was not listening, read back later


@dataclass(frozen=True)
class MessageEdited:
    """`at` is when the message was first said, `edited_at` when it was changed."""

    event_id: str
    incident_id: int
    ts: str
    at: datetime
    text: str
    edited_at: datetime
    user: str | None = None
    permalink: str | None = None
    # Kept when the edit is of a message never seen: the event says where it was said.
    thread_ts: str | None = None
    files: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MessageDeleted:
    event_id: str
    incident_id: int
    ts: str


@dataclass(frozen=True)
class KeyMarked:
    """Someone (`source`: who or what, e.g. a pin) marking a message key, or unmarking it."""

    event_id: str
    incident_id: int
    ts: str
    source: str
    added: bool


Change = MessagePosted | MessageEdited | MessageDeleted | KeyMarked


@dataclass(frozen=True)
class HeardUpTo:
    """An open war room and where what was heard in it ends: after downtime, what was said
    since then (and in the threads it knows) may be missing."""

    incident_id: int
    channel_id: str
    declared_at: datetime
    last_message_ts: str | None  # None: nothing heard yet
    threads: list[str]  # the ts of threads with replies heard, oldest first


@dataclass(frozen=True)
class Highlights:
    """What a late joiner needs first: the latest key events and the latest status change."""

    key_events: list[TimelineEntry]  # the latest few, oldest first
    latest_status: TimelineEntry | None


@dataclass(frozen=True)
class TimelinePage:
    """One page of the full log, oldest first."""

    number: int  # 1-based, as the reader counts pages
    entries: list[TimelineEntry]
    has_earlier: bool
    has_later: bool


@dataclass(frozen=True)
class PageTurn:
    """Turning from a page the reader has: the entries after its last one (`later`) or
    before its first one, that entry given by its place in the log, (at, id)."""

    number: int  # the new page's
    at: datetime
    entry_id: int
    later: bool


class Timeline:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow):
        self.db = db
        self.clock = clock
        self._war_rooms: dict[str, int] = {}  # channel ID -> incident ID; never changes once set
        self._pending: list[tuple[Change, asyncio.Future]] = []
        # Incidents known to be closed: closed is final, so nothing more is recorded for
        # them, and the set never needs forgetting.
        self._closed: set[int] = set()
        self._flusher: asyncio.Task | None = None
        self.recorded = 0  # changes stored by this process (for monitoring)

    # -- which channel is which incident ----------------------------------------------------

    async def incident_for_channel(self, channel_id: str) -> int | None:
        if channel_id in self._war_rooms:
            return self._war_rooms[channel_id]
        async with self.db.snapshot_read() as session:
            incident_id = (
                await session.exec(select(Incident.id).where(Incident.channel_id == channel_id))
            ).first()
        if incident_id is not None:
            self._war_rooms[channel_id] = incident_id
        return incident_id

    def known_incident(self, channel_id: str) -> int | None:
        """The channel's incident if this process has met the war room, without a query."""
        return self._war_rooms.get(channel_id)

    async def heard_up_to(self) -> list[HeardUpTo]:
        """Every war room not yet closed, with its last message heard and its threads."""
        entry = TimelineEntry
        async with self.db.snapshot_read() as session:
            rooms = await session.exec(
                select(Incident.id, Incident.channel_id, Incident.declared_at)
                .add_columns(func.max(entry.message_ts))
                .outerjoin(entry, col(entry.incident_id) == Incident.id)
                .where(
                    Incident.status != IncidentStatus.CLOSED, col(Incident.channel_id).is_not(None)
                )
                .group_by(Incident.id, Incident.channel_id, Incident.declared_at)
                .order_by(Incident.id)
            )
            rooms = rooms.all()
            threads = await session.exec(
                select(entry.incident_id, entry.thread_ts)
                .distinct()
                .where(
                    col(entry.incident_id).in_([room[0] for room in rooms]),
                    col(entry.thread_ts).is_not(None),
                )
                .order_by(entry.thread_ts)
            )
            by_room: dict[int, list[str]] = {}
            for incident_id, thread_ts in threads.all():
                by_room.setdefault(incident_id, []).append(thread_ts)
        return [HeardUpTo(*room, by_room.get(room[0], [])) for room in rooms]

    # -- recording ---------------------------------------------------------------------------

    async def record(self, change: Change) -> bool:
        """Apply one change; returns False if this event (or message) was already recorded."""
        future = asyncio.get_running_loop().create_future()
        self._pending.append((change, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        stored = await future
        self.recorded += stored
        return stored

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[Change, asyncio.Future]]) -> None:
        batch = self._without_closed(batch)
        if not batch:
            return
        try:
            async with self.db.write_transaction() as session:
                results = await self._apply(session, [change for change, _ in batch])
                await self._refuse_closed(session, {change.incident_id for change, _ in batch})
        except _ClosedMeanwhile as closed:
            self._closed |= closed.incident_ids  # rolled back: again, without those
            await self._commit(batch)
            return
        except Exception as error:
            if len(batch) > 1 and isinstance(error, _BAD_CHANGE):
                # One change the database refused (a value it cannot store) must not fail
                # the others committed with it: each gets its own transaction, so only it fails.
                log.warning(
                    "a grouped commit failed (%s); committing its changes one by one", error
                )
                for single in batch:
                    await self._commit([single])
                return
            # The database itself failed: every caller in the batch must hear it.
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    def _without_closed(
        self, batch: list[tuple[Change, asyncio.Future]]
    ) -> list[tuple[Change, asyncio.Future]]:
        """Changes for closed incidents are not recorded (their callers hear "not new")."""
        kept = []
        for change, future in batch:
            if change.incident_id not in self._closed:
                kept.append((change, future))
            elif not future.done():
                future.set_result(False)
        return kept

    @staticmethod
    async def _refuse_closed(session: AsyncSession, incident_ids: set[int]) -> None:
        """Checked after the writes, inside their transaction (on SQLite the write lock is
        held by then). On PostgreSQL the share lock waits for a close being committed and
        holds a close back until this commits: a change lands before the close or not at all."""
        statuses = await session.exec(
            select(Incident.id, Incident.status)  # every row locked, closed or not
            .where(col(Incident.id).in_(incident_ids))
            .order_by(Incident.id)
            .with_for_update(read=True, key_share=True)
        )
        if closed := {i for i, status in statuses.all() if status == IncidentStatus.CLOSED}:
            raise _ClosedMeanwhile(closed)

    async def _apply(self, session: AsyncSession, changes: list[Change]) -> list[bool]:
        # Messages, edits and deletes carry their own identity and order: a message is
        # recognised by its channel+ts (a retry carries the same ts), an edit by its edit
        # time (a retry, or an older edit arriving late, is not newer than what is stored),
        # a delete by the deleted flag. Pins and reactions are toggles with no order of
        # their own: those are recognised by event ID, marked processed here.
        if all(isinstance(c, MessagePosted) for c in changes):
            return await self._insert_messages(session, changes)
        marks = [c for c in changes if isinstance(c, KeyMarked)]
        new_marks: set[str] = set()
        if marks:
            processed = await session.exec(
                insert_ignoring_duplicates(self.db, ProcessedEvent.__table__, ["event_id"]),
                params=[
                    {"event_id": event_id, "received_at": self.clock()}
                    for event_id in dict.fromkeys(c.event_id for c in marks)
                ],
            )
            new_marks = set(processed.scalars().all())
        fresh: list[Change] = []
        results: list[bool] = []
        for change in changes:
            is_new = True  # decided against the stored entry in _apply_in_order
            if isinstance(change, KeyMarked):
                is_new = change.event_id in new_marks
                new_marks.discard(change.event_id)  # a second copy in a batch is a duplicate
            results.append(is_new)
            if is_new:
                fresh.append(change)
        outcome = iter(await self._apply_in_order(session, fresh))
        return [next(outcome) if is_new else False for is_new in results]

    async def _insert_messages(
        self, session: AsyncSession, posted: list[MessagePosted]
    ) -> list[bool]:
        """The common case, new messages only: one statement, no ORM objects."""
        if not posted:
            return []
        rows = [vars(_posted_row(c)) for c in posted]
        statement = insert_ignoring_duplicates(
            self.db, TimelineEntry.__table__, ["incident_id", "message_ts"]
        )
        inserted = {tuple(row) for row in (await session.exec(statement, params=rows)).all()}
        results = []
        for change in posted:
            key = (change.incident_id, change.ts)
            results.append(key in inserted)
            inserted.discard(key)  # the same message twice in one batch counts once
        return results

    async def _apply_in_order(self, session: AsyncSession, changes: list[Change]) -> list[bool]:
        """Edits, deletes and key marks (with any messages in the same batch), in order.

        Plain rows rather than ORM objects: this runs for every commit that holds an edit,
        a delete or a key mark, and the ORM's bookkeeping cost more than the database.
        """
        table = TimelineEntry.__table__
        # Locked (in one order, so two replicas cannot deadlock): another replica marking or
        # editing the same message at the same moment must build on this change, not
        # overwrite it. On SQLite the write lock already does this.
        stored = await session.exec(
            select(table.c.id, table.c.incident_id, table.c.message_ts)
            .add_columns(*(table.c[name] for name in _CHANGEABLE))
            .where(
                table.c.incident_id.in_({c.incident_id for c in changes}),
                table.c.message_ts.in_({c.ts for c in changes}),
            )
            .order_by(table.c.id)
            .with_for_update()
        )
        before = {row.id: row._mapping for row in stored}
        entries: dict[tuple[int, str], SimpleNamespace] = {
            (row["incident_id"], row["message_ts"]): SimpleNamespace(**row)
            for row in before.values()
        }
        new_entries: list[SimpleNamespace] = []
        results = [self._apply_one(change, entries, new_entries) for change in changes]

        def was_changed(entry: SimpleNamespace) -> bool:
            row = before.get(getattr(entry, "id", None))  # new entries have no id yet
            return row is not None and any(getattr(entry, c) != row[c] for c in _CHANGEABLE)

        changed = [
            {"row_id": e.id, **{c: getattr(e, c) for c in _CHANGEABLE}}
            for e in entries.values()
            if was_changed(e)
        ]
        if changed:
            await session.exec(
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values({c: bindparam(c) for c in _CHANGEABLE}),
                params=changed,
            )
        if new_entries:
            await session.exec(insert(table), params=[vars(e) for e in new_entries])
        return results

    def _apply_one(
        self,
        change: Change,
        entries: dict[tuple[int, str], TimelineEntry | SimpleNamespace],
        new_entries: list[SimpleNamespace],
    ) -> bool:
        key = (change.incident_id, change.ts)
        entry = entries.get(key)
        if isinstance(change, MessagePosted):
            if entry is not None:
                return False  # the same message under another event ID
            entries[key] = _posted_row(change)
            new_entries.append(entries[key])
            return True
        if isinstance(change, MessageEdited):
            if entry is None:  # edited before we saw it: keep it as it is now
                entries[key] = _unseen_edit_row(change)
                new_entries.append(entries[key])
                return True
            if entry.edits and datetime.fromisoformat(entry.edits[-1]["at"]) >= change.edited_at:
                return False  # this edit or a later one is already in: a retry, or late
            if entry.text == change.text:
                return False  # e.g. an unfurl added to the message: no new words
            entry.edits = [
                *entry.edits,
                {"at": change.edited_at.isoformat(), "previous": entry.text},
            ]
            entry.text = change.text
            return True
        if isinstance(change, MessageDeleted):
            if entry is None or entry.deleted:
                return False
            entry.deleted = True
            return True
        # KeyMarked
        if entry is None:
            return False
        said = Said.from_data(entry.data)  # only messages carry a ts, so this is one
        sources = set(said.key_by)
        sources = sources | {change.source} if change.added else sources - {change.source}
        entry.data = replace(said, key_by=sorted(sources)).to_data()
        changed = entry.key != bool(sources)
        entry.key = bool(sources)
        return changed

    async def forget_old_events(self, older_than: timedelta = EVENT_MEMORY) -> int:
        """Drop event IDs older than Slack's retry window (with a wide margin); the messages
        themselves stay deduplicated by channel+ts."""
        async with self.db.transaction() as session:
            result = await session.exec(
                delete(ProcessedEvent).where(
                    col(ProcessedEvent.received_at) < self.clock() - older_than
                )
            )
            return result.rowcount

    async def add_note(self, incident_id: int, user: str, text: str) -> TimelineEntry:
        text = text.strip()
        if not text:
            raise InvalidRequest("Write the note after the command: `/incident note <text>`.")
        async with self.db.transaction() as session:
            incident = await session.get(Incident, incident_id)
            if incident is None:
                raise NotFound(f"There is no incident {incident_id}.")
            refuse_if_closed(incident)
            entry = new_entry(incident_id, self.clock(), Noted(), actor=user, text=text, key=True)
            session.add(entry)
        return entry

    # -- reading -----------------------------------------------------------------------------
    # Views read only what they show: a busy room's timeline has tens of thousands of
    # entries, and loading them all costs the event loop about a second.

    async def page(self, incident_id: int, number: int, size: int) -> TimelinePage:
        """A page by number (`/incident timeline 40`). Page 1 is read from the start; a
        jump deeper counts the log and finds the page's first entry in the `timeline_log`
        index (from whichever end is nearer). Turning pages does neither: see `turn`."""
        if number <= 1:
            return await self._from_start(incident_id, size)
        visible = _visible(incident_id)
        async with self.db.snapshot_read() as session:
            total = (
                await session.exec(select(func.count()).select_from(TimelineEntry).where(*visible))
            ).one()
            pages = max(1, -(-total // size))
            number = min(number, pages)
            start = (
                await session.exec(_nth_entry(incident_id, (number - 1) * size, total))
            ).first()
            if start is None:
                return TimelinePage(number, [], number > 1, False)
            entries = await session.exec(
                log_query(incident_id).where(_place() >= tuple(start)).limit(size)
            )
            return TimelinePage(number, list(entries.all()), number > 1, number < pages)

    async def turn(self, incident_id: int, turn: PageTurn, size: int) -> TimelinePage:
        """The page after or before one the reader has: one index seek from that page's
        edge, never a count or an OFFSET, however deep. One entry more than a page is read
        to know whether there is another page beyond."""
        edge = (turn.at, turn.entry_id)
        async with self.db.snapshot_read() as session:
            if turn.later:
                query = log_query(incident_id).where(_place() > edge).limit(size + 1)
                after = list((await session.exec(query)).all())
                if after:
                    return TimelinePage(turn.number, after[:size], True, len(after) > size)
                query = _newest_first(incident_id).limit(size + 1)  # gone since: the last page
            else:
                query = _newest_first(incident_id).where(_place() < edge).limit(size + 1)
            before = list((await session.exec(query)).all())
        if len(before) <= size:  # back at the start: page 1, full
            return await self._from_start(incident_id, size)
        return TimelinePage(max(turn.number, 2), before[:size][::-1], True, not turn.later)

    async def _from_start(self, incident_id: int, size: int) -> TimelinePage:
        async with self.db.snapshot_read() as session:
            first = list((await session.exec(log_query(incident_id).limit(size + 1))).all())
        return TimelinePage(1, first[:size], False, len(first) > size)

    async def highlights(self, incident_id: int, key_events: int = 10) -> Highlights:
        visible = _visible(incident_id)
        newest_first = (col(TimelineEntry.at).desc(), col(TimelineEntry.id).desc())
        async with self.db.snapshot_read() as session:
            key = await session.exec(
                select(TimelineEntry)
                .where(*visible, col(TimelineEntry.key) == true())
                .order_by(*newest_first)
                .limit(key_events)
            )
            status = await session.exec(
                of_kinds([EntryKind.STATUS.value], TimelineEntry.incident_id == incident_id)
                .order_by(None)
                .order_by(*newest_first)
                .limit(1)
            )
            return Highlights(list(reversed(key.all())), status.first())

    async def entries(self, incident_id: int) -> list[TimelineEntry]:
        """The whole log (deleted entries left out): for small timelines and tests only;
        documents stream it with `log_rows`."""
        async with self.db.snapshot_read() as session:
            return list((await session.exec(log_query(incident_id))).all())


def log_query(incident_id: int):
    """An incident's timeline as people see it: deleted entries left out, oldest first."""
    return (
        select(TimelineEntry)
        .where(*_visible(incident_id))
        .order_by(col(TimelineEntry.at), col(TimelineEntry.id))
    )


def of_kinds(kinds: list[str], *where):
    """Visible entries of some kinds (status changes, pages...), oldest first, read through
    the `timeline_by_kind` index whoever wrote the log. `IS NOT true` rather than
    `= false`: SQLite, without statistics, takes the index with more equality columns,
    and (incident_id, deleted) of `timeline_log` would tie with (incident_id, kind) and
    win, reading every entry of a million-entry incident to find a few."""
    return (
        select(TimelineEntry)
        .where(*where, col(TimelineEntry.kind).in_(kinds), col(TimelineEntry.deleted).is_not(True))
        .order_by(col(TimelineEntry.at), col(TimelineEntry.id))
    )


def _newest_first(incident_id: int):
    return (
        select(TimelineEntry)
        .where(*_visible(incident_id))
        .order_by(col(TimelineEntry.at).desc(), col(TimelineEntry.id).desc())
    )


def _place():
    """An entry's place in the log: (at, id), the order of the `timeline_log` index."""
    return tuple_(col(TimelineEntry.at), col(TimelineEntry.id))


def log_rows(
    session: Session, incident_id: int, *, key_only: bool = False, page_size: int = 2000
) -> Iterator[Row]:
    """The log as `log_query` orders it, streamed in pages of plain rows (read like entries).

    Each page is an index seek after the last (at, id) seen, so memory stays at one page
    however long the timeline. Synchronous: run it in `AsyncSession.run_sync`, off the loop.
    """
    table = TimelineEntry.__table__
    where = [*_visible(incident_id)] + ([table.c.key == true()] if key_only else [])
    after: tuple | None = None
    while True:
        query = select(table).where(*where).order_by(table.c.at, table.c.id).limit(page_size)
        if after is not None:
            query = query.where(tuple_(table.c.at, table.c.id) > after)
        rows = session.execute(query).all()
        yield from rows
        if len(rows) < page_size:
            return
        after = (rows[-1].at, rows[-1].id)


def _nth_entry(incident_id: int, n: int, total: int):
    """(at, id) of the n-th visible entry (0-based), read from the index alone."""
    at, entry_id = col(TimelineEntry.at), col(TimelineEntry.id)
    found = select(at, entry_id).where(*_visible(incident_id))
    if n <= total // 2:
        return found.order_by(at, entry_id).offset(n).limit(1)
    return found.order_by(at.desc(), entry_id.desc()).offset(max(total - 1 - n, 0)).limit(1)


def _visible(incident_id: int) -> tuple:
    # `= false`, not `IS false`: PostgreSQL uses an index only for the former.
    return (TimelineEntry.incident_id == incident_id, col(TimelineEntry.deleted) == false())


def _posted_row(change: MessagePosted) -> SimpleNamespace:
    thread_ts = change.thread_ts if change.thread_ts != change.ts else None
    return _message_row(
        change,
        change.user,
        thread_ts=thread_ts,
        files=list(change.files),
        permalink=change.permalink,
        from_history=change.from_history,
    )


def _unseen_edit_row(change: MessageEdited) -> SimpleNamespace:
    return _message_row(
        change,
        change.user,
        thread_ts=change.thread_ts if change.thread_ts != change.ts else None,
        files=list(change.files),
        permalink=change.permalink,
        edits=[{"at": change.edited_at.isoformat(), "previous": None}],
    )


def _message_row(
    change: MessagePosted | MessageEdited, user: str | None, **columns
) -> SimpleNamespace:
    """A timeline row for a bulk insert; changes later in the same batch still apply to it."""
    row = entry_row(
        change.incident_id,
        change.at,
        Said(),
        actor=user,
        text=change.text,
        message_ts=change.ts,
        **columns,
    )
    return SimpleNamespace(**row)


def people_in(entries: list[TimelineEntry]) -> set[str]:
    """Who these entries name as facts: their authors and the people roles went to and from.

    (People mentioned in what was said are in its text, in the chat's own syntax: the
    layer that knows that syntax finds them.)
    """
    found = {e.actor for e in entries if e.actor}
    for entry in entries:
        if entry.kind == EntryKind.ROLE:
            handover: RoleHandedOver = payload_of(entry)
            found |= {handover.to} | ({handover.previous} if handover.previous else set())
    return found
