"""APScheduler drives the stakeholder-update cadence and drills; the database says what is due.

(It also forgets, hourly, the event IDs kept to recognise Slack's retries.)

Every second each replica asks the database for due drafts, undecided drafts past their
escalation time, drafts whose poster died, drill injects now due, resolved drills to score
and (through `also_each_tick`) declarations whose worker died; each is claimed with a conditional UPDATE, so it fires on exactly one replica, once,
and anything overdue after a restart fires at the first tick.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.incidents.timeline import Timeline
from bot.incidents.updates import Draft, UpdateDesk
from bot.logs import bind_incident
from bot.slack.flows.drills import Drills
from bot.slack.flows.outcome import Outcome
from bot.slack.flows.updates import Updates
from bot.slack.gateway import SlackCallFailed
from bot.store.probe import DATABASE_ERRORS, describe_database_error

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0
CONCURRENT_POSTS = 50
CLAIM_CHUNK = 100


class FinishingExecutor(AsyncIOExecutor):
    """APScheduler's asyncio executor, plus a wait for the jobs it started: its own shutdown
    can only cancel them, and a job cut short mid-query (the numbers' refresh at startup)
    logs a traceback and leaves its database connection to a closed event loop."""

    async def finish(self, timeout: float) -> None:
        running = [job for job in self._pending_futures if not job.done()]
        if running:
            await asyncio.wait(running, timeout=timeout)


class UpdateScheduler:
    def __init__(
        self,
        desk: UpdateDesk,
        timeline: Timeline,
        updates: Updates,
        drills: Drills,
        interval: float = TICK_SECONDS,
        also_each_tick: list[Callable[[], Awaitable[None]]] = (),
        observe_lag: Callable[[float], None] | None = None,
        periodic: list[tuple[Callable[[], Awaitable[None]], timedelta]] = (),
    ):
        self.desk = desk
        # Other work claimed from the database on the same tick (paging escalations).
        self.also_each_tick = list(also_each_tick)
        # Work of this replica alone on a cadence of its own, first at startup (the numbers
        # for /status.json and /metrics).
        self.periodic = list(periodic)
        self.timeline = timeline
        self.updates = updates
        self.drills = drills
        self.observe_lag = observe_lag
        self.interval = interval
        self._scheduler: AsyncIOScheduler | None = None
        self._posting = asyncio.Semaphore(CONCURRENT_POSTS)
        self._ticking: asyncio.Task | None = None
        self._jobs = FinishingExecutor()

    def start(self) -> None:
        # APScheduler logs every run of every job at INFO ("Running job", "executed
        # successfully"): two lines a second that say nothing. Its warnings (missed runs) and
        # errors (a job that raised) still show.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        self._scheduler = AsyncIOScheduler(timezone=UTC, executors={"default": self._jobs})
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.interval,
            next_run_time=datetime.now(UTC),  # overdue work fires at once after a restart
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self._scheduler.add_job(
            self.timeline.forget_old_events, "interval", hours=1, max_instances=1
        )
        for work, every in self.periodic:
            self._scheduler.add_job(
                work,
                "interval",
                seconds=every.total_seconds(),
                next_run_time=datetime.now(UTC),
                max_instances=1,
                coalesce=True,
            )
        if self.observe_lag is not None:
            self._scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        self._scheduler.start()

    def _submitted(self, event: JobSubmissionEvent) -> None:
        """How late a job started against its schedule (an event loop kept busy shows here)."""
        late = datetime.now(UTC) - max(event.scheduled_run_times)
        self.observe_lag(max(0.0, late.total_seconds()))

    async def shutdown(self) -> None:
        """Stop ticking and let a tick in progress finish, before the database closes."""
        if self._scheduler is None or not self._scheduler.running:
            return
        # Pause first: shutting down cancels running jobs, which would cut a tick short
        # (its claims are leased, so nothing is lost, but the drafts would go out late).
        self._scheduler.pause()
        await self._jobs.finish(timeout=10)  # the periodic jobs too, not only the tick
        if self._ticking is not None:
            await asyncio.wait([self._ticking], timeout=10)
        self._scheduler.shutdown(wait=False)

    async def tick(self) -> None:
        if self._ticking is not None:
            return  # the tick in progress keeps claiming until nothing is due
        self._ticking = asyncio.current_task()
        try:
            # Claim in chunks and post each chunk while the next is drafted.
            posting: list[asyncio.Task] = []
            while True:
                drafts = await self.desk.claim_due(limit=CLAIM_CHUNK)
                posting += [asyncio.create_task(self._post(draft)) for draft in drafts]
                if len(drafts) < CLAIM_CHUNK:
                    break
            posting += [
                asyncio.create_task(self._post(d)) for d in await self.desk.claim_unposted()
            ]
            posted = await asyncio.gather(*posting)
            await self._after_posting([pair for pair in posted if pair is not None])
            for draft in await self.desk.claim_escalations():
                await self.updates.nudge(draft)
            await self.drills.post_due_injects()
            await self.drills.post_scorecards()
            for work in self.also_each_tick:
                await work()
            await self._wake_for_next_due()
        except DATABASE_ERRORS as error:
            # Nothing claimed is lost (claims are leased); the next tick tries again.
            log.warning(
                "tick skipped: the database did not answer: %s", describe_database_error(error)
            )
        finally:
            self._ticking = None

    async def _wake_for_next_due(self) -> None:
        """Polling finds work within a tick; a due time before the next tick gets its own
        wake-up, so drafts go out on time rather than up to a tick late."""
        due = await self.desk.next_due()
        if due is None or self._scheduler is None or not self._scheduler.running:
            return
        if due.tzinfo is None:  # SQLite's MIN() comes back as a plain value
            due = due.replace(tzinfo=UTC)
        if due - datetime.now(UTC) < timedelta(seconds=self.interval):
            self._scheduler.add_job(
                self.tick,
                "date",
                run_date=max(due, datetime.now(UTC)),
                id="due-soon",
                replace_existing=True,
                misfire_grace_time=None,
            )

    async def _after_posting(self, posted: list[tuple[int, str]]) -> None:
        """Drafts retired while being posted (their incident resolved, reopened or closed)
        lose their buttons; a failed edit is logged, as nobody asked for this post."""
        outcome = Outcome()
        await self.updates.after_posting(posted, outcome)
        if outcome.not_done:
            log.warning("after posting drafts: %s", outcome.sentence())

    async def _post(self, draft: Draft) -> tuple[int, str] | None:
        bind_incident(draft.snapshot.incident.reference)  # this task's log lines
        async with self._posting:
            try:
                return draft.id, await self.updates.post_draft_message(draft)
            except SlackCallFailed:
                # Not lost: the draft keeps no message, its lease runs out, and a later tick
                # (here or on another replica) posts it again.
                log.exception("could not post update draft %s; will retry", draft.id)
                return None
