"""Long documents (the timeline export, the review draft), written by a worker process.

A busy incident's timeline can hold a million entries: read and rendered in the bot it
held the event loop (and, rendered in a thread, the interpreter) for over a minute, and the
memory was never given back. Here each document is written by a process of its own: it
opens its own database connection, streams the log in pages (`log_rows`), writes the
Markdown to a temporary file line by line and exits; the bot only waits, then uploads the
file and deletes it. Spawned, not forked: a fork would copy the bot's heap, event loop and
open connections; one fresh process per document gives back everything it used.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from multiprocessing import get_context
from pathlib import Path

from sqlalchemy.orm import Session

from bot.incidents import IncidentSnapshot
from bot.incidents.review import ReviewRecord
from bot.incidents.timeline import log_rows, people_in
from bot.render.export import timeline_lines, write_lines
from bot.render.readers import Readers
from bot.render.review import review_lines
from bot.store import DEFAULT_TIMEOUT, Database

PAGE_SIZE = 2000  # entries read per query: a page costs a few MB at most
WORKER_NICENESS = 10


class Documents:
    """Worker processes writing documents of one database's incidents."""

    def __init__(
        self,
        database_url: str,
        timeout: float = DEFAULT_TIMEOUT,
        page_size: int = PAGE_SIZE,
        directory: str | None = None,  # where documents are written; None: the system's
    ):
        self.database_url = database_url
        self.timeout = timeout
        self.page_size = page_size
        self.directory = directory

    @asynccontextmanager
    async def worker(self) -> AsyncIterator[DocumentWorker]:
        """A fresh worker process for one document's jobs; it exits when the block ends."""
        # At a lower priority: on a busy machine the bot's requests come before a document.
        pool = ProcessPoolExecutor(
            1, mp_context=get_context("spawn"), initializer=os.nice, initargs=(WORKER_NICENESS,)
        )
        try:
            yield DocumentWorker(self, pool)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)  # the process exits by itself


@dataclass(frozen=True)
class DocumentWorker:
    documents: Documents
    pool: ProcessPoolExecutor

    async def people(self, incident_id: int, mentioned: Callable[[str], set[str]]) -> set[str]:
        """Everyone an incident's timeline names: authors, people roles went to and from,
        and the people `mentioned` finds in what was said (the chat's own syntax)."""
        return await self._run(partial(_people_named, incident_id, mentioned))

    async def timeline(self, snapshot: IncidentSnapshot, readers: Readers) -> Path:
        """The timeline export in a temporary file; the caller deletes it."""
        return await self._written(partial(_timeline_file, snapshot, readers))

    async def review(self, record: ReviewRecord, readers: Readers, drafted_at: datetime) -> Path:
        """The post-incident review draft in a temporary file; the caller deletes it."""
        return await self._written(partial(_review_file, record, readers, drafted_at))

    async def _written(self, write: Callable) -> Path:
        """A file made here and filled by the worker. If this is cancelled or fails, the
        file is removed at once; a worker still writing then writes to a file no longer
        in any directory (it opens without creating), so nothing is left behind."""
        handle, name = tempfile.mkstemp(
            prefix="warroom-", suffix=".md", dir=self.documents.directory
        )
        os.close(handle)
        document = Path(name)
        try:
            await self._run(partial(write, document))
        except BaseException:
            document.unlink(missing_ok=True)
            raise
        return document

    async def _run(self, work: Callable):
        settings = self.documents
        job = partial(_in_worker, settings.database_url, settings.timeout, work, settings.page_size)
        return await asyncio.get_running_loop().run_in_executor(self.pool, job)


# -- in the worker process ----------------------------------------------------------------


def _in_worker(database_url: str, timeout: float, work: Callable, page_size: int):
    """Run `work(session, page_size)` with a synchronous session on a connection of its own."""

    async def run():
        db = Database(database_url, timeout)
        try:
            async with db.snapshot_read() as session:
                return await session.run_sync(partial(work, page_size=page_size))
        finally:
            await db.dispose()

    return asyncio.run(run())


def _people_named(
    incident_id: int, mentioned: Callable[[str], set[str]], session: Session, page_size: int
) -> set[str]:
    found: set[str] = set()
    for row in log_rows(session, incident_id, page_size=page_size):
        found |= people_in([row]) | mentioned(row.text)
    return found


def _timeline_file(
    snapshot: IncidentSnapshot, readers: Readers, document: Path, session: Session, page_size: int
) -> None:
    rows = partial(log_rows, session, snapshot.id, page_size=page_size)
    _write(document, timeline_lines(snapshot, rows(key_only=True), rows(), readers))


def _review_file(
    record: ReviewRecord,
    readers: Readers,
    drafted_at: datetime,
    document: Path,
    session: Session,
    page_size: int,
) -> None:
    rows = partial(log_rows, session, record.snapshot.id, page_size=page_size)
    _write(document, review_lines(record, rows(key_only=True), rows(), readers, drafted_at))


def _write(document: Path, lines: Iterable[str]) -> None:
    # "r+": the bot made the file; if it has removed it since (cancelled), do not make it again.
    with open(document, "r+", encoding="utf-8", newline="") as out:
        write_lines(out, lines)
