"""APScheduler drives the stakeholder-update cadence and drills; the database says what is due.

(It also forgets, hourly, the event IDs kept to recognise Slack's retries.)

Every second each replica asks the database for due drafts, undecided drafts past their
escalation time, drafts whose poster died, approved updates whose broadcaster died, drill
injects now due, resolved drills to score and (through `claims_each_tick`) declarations
whose worker died, pages to send or escalate, owners to remind and alert groups to act on (and, through `also_each_tick`,
posts a change owed whose poster died);
each is claimed with a conditional UPDATE, so it fires on exactly one replica, once, and
anything overdue after a restart fires at the first tick. What is claimed goes out in its
incident's (or owner's, or group's) own lane, which the tick starts and does not wait for:
a war room or a direct message whose Slack calls hang or are rate-limited delays only itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from datetime import UTC, datetime, timedelta
from functools import partial

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.incidents.service import IncidentSnapshot
from bot.incidents.timeline import Timeline
from bot.incidents.updates import WITHIN_LEASE, Draft, UpdateDesk
from bot.lanes import Share
from bot.logs import bind_incident
from bot.slack.flows.drills import Drills
from bot.slack.flows.outcome import Outcome, PartlyDone
from bot.slack.flows.updates import Updates
from bot.slack.gateway import SlackCallFailed
from bot.store.probe import DATABASE_ERRORS, describe_database_error

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0
CONCURRENT_POSTS = 50
CLAIM_CHUNK = 100
Work = Callable[[], Awaitable[None]]
Claims = Callable[[], Awaitable[list[Share]]]


class Lanes:
    """Work the tick starts and does not wait for, in one lane per key (an incident, an owner, a job).

    A key's work runs after that key's earlier work, never beside it; at most `limit` lanes
    run at once; a lane gives up `deadline` seconds after it got its slot (shorter than the
    leases its claims hold, so nothing lands after someone else took over; counted from the
    slot, so fifty hanging rooms do not use up a healthy room's time while it waits). A
    failure is logged in one line and touches nothing else: what it claimed is leased and
    comes back.
    """

    def __init__(self, limit: int, deadline: float):
        self.deadline = deadline
        self._slots = asyncio.Semaphore(limit)
        self._queued: dict[Hashable, list[Work]] = {}
        self._running: dict[Hashable, asyncio.Task] = {}

    def busy(self) -> frozenset:
        return frozenset(self._running)

    def add(self, key: Hashable, work: Work, label: str) -> None:
        self._queued.setdefault(key, []).append(work)
        if key not in self._running:
            self._running[key] = asyncio.create_task(self._run(key, label), name=label)

    async def _run(self, key: Hashable, label: str) -> None:
        try:
            async with self._slots, asyncio.timeout(self.deadline):
                while self._queued[key]:
                    await self._queued[key].pop(0)()
        except TimeoutError:
            log.warning("%s: given up after %.0f s (Slack too slow)", label, self.deadline)
        except SlackCallFailed as failure:
            log.warning("%s: could not %s", label, failure)
        except PartlyDone as partly:
            log.warning("%s: %s", label, partly)
        except DATABASE_ERRORS as error:
            log.warning(
                "%s: the database did not answer: %s", label, describe_database_error(error)
            )
        except Exception:
            log.exception("%s failed", label)  # a bug: its traceback, and the others go on
        finally:
            self._queued.pop(key, None)
            self._running.pop(key, None)

    async def stop(self, timeout: float) -> None:
        """Let running lanes finish for up to `timeout` seconds, then cancel the rest."""
        running = list(self._running.values())
        if not running:
            return
        _, late = await asyncio.wait(running, timeout=timeout)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)


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
        claims_each_tick: list[Claims] = (),
        observe_lag: Callable[[float], None] | None = None,
        periodic: list[tuple[Callable[[], Awaitable[None]], timedelta]] = (),
    ):
        self.desk = desk
        # Other work claimed from the database on the same tick, handed back as shares that
        # each run in their own lane (paging escalations, owners' reminders, declarations,
        # alert groups), and other work of each tick, run as it is.
        self.also_each_tick = [partial(self.hand_out, claims) for claims in claims_each_tick]
        self.also_each_tick += also_each_tick
        # Work of this replica alone on a cadence of its own, first at startup (the numbers
        # for /status.json and /metrics).
        self.periodic = list(periodic)
        self.timeline = timeline
        self.updates = updates
        self.drills = drills
        self.observe_lag = observe_lag
        self.interval = interval
        self._scheduler: AsyncIOScheduler | None = None
        self._ticking: asyncio.Task | None = None
        self.rooms = Lanes(CONCURRENT_POSTS, deadline=WITHIN_LEASE.total_seconds())
        self._unrecorded: list[tuple[int, str]] = []  # drafts posted, not yet recorded
        self._recording: asyncio.Task | None = None
        # The other work of each tick (the claims above among it): one lane per job.
        self.jobs = Lanes(max(1, len(self.also_each_tick)), deadline=WITHIN_LEASE.total_seconds())
        self._executor = FinishingExecutor()

    def start(self) -> None:
        # APScheduler logs every run of every job at INFO ("Running job", "executed
        # successfully"): two lines a second that say nothing. Its warnings (missed runs) and
        # errors (a job that raised) still show.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        self._scheduler = AsyncIOScheduler(timezone=UTC, executors={"default": self._executor})
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
        await self._executor.finish(timeout=10)  # the periodic jobs too, not only the tick
        if self._ticking is not None:
            await asyncio.wait([self._ticking], timeout=10)
        await asyncio.gather(self.rooms.stop(timeout=10), self.jobs.stop(timeout=10))
        self._scheduler.shutdown(wait=False)

    async def tick(self) -> None:
        if self._ticking is not None:
            return  # the tick in progress is still claiming
        self._ticking = asyncio.current_task()
        try:
            # Shares' keys are tuples; the incidents' ids are what the claims skip.
            busy = frozenset(key for key in self.rooms.busy() if isinstance(key, int))
            await self._claim_for_rooms(busy)
            for n, work in enumerate(self.also_each_tick):
                if ("job", n) not in self.jobs.busy():
                    self.jobs.add(("job", n), work, _name_of(work))
            await self._wake_for_next_due()
        except DATABASE_ERRORS as error:
            # Nothing claimed is lost (claims are leased); the next tick tries again.
            log.warning(
                "tick skipped: the database did not answer: %s", describe_database_error(error)
            )
        finally:
            self._ticking = None

    async def _claim_for_rooms(self, busy: frozenset) -> None:
        """Claim what is due and start each incident's share in its lane; incidents still
        `busy` from an earlier tick are left out (their work waits in the database)."""
        while True:  # in chunks, each going out while the next is drafted
            drafts = await self.desk.claim_due(limit=CLAIM_CHUNK, skip=busy)
            for draft in drafts:
                self._add(draft.snapshot, self._post_draft, draft, False)
            if len(drafts) < CLAIM_CHUNK:
                break
        for draft in await self.desk.claim_unposted(skip=busy):
            self._add(draft.snapshot, self._post_draft, draft, True)
        for draft in await self.desk.claim_unsent(skip=busy):
            self._add(draft.snapshot, self.updates.finish_sending, draft)
        for draft in await self.desk.claim_escalations(skip=busy):
            self._add(draft.snapshot, self.updates.nudge, draft)
        for due in await self.drills.claim_injects(skip=busy):
            self._add(due.snapshot, self.drills.deliver, due)
        for scored in await self.drills.claim_scorecards(skip=busy):
            self._add(scored.snapshot, self.drills.post_scorecard, scored)

    async def hand_out(self, claims: Claims) -> None:
        """Claim with `claims` and start each share in its key's lane, beside the rooms'."""
        for share in await claims():
            self.rooms.add(share.key, share.work, share.label)

    def _add(self, snapshot: IncidentSnapshot, step: Callable[..., Awaitable], *args) -> None:
        reference = snapshot.incident.reference

        async def in_its_lane() -> None:
            bind_incident(reference)  # this lane's log lines
            await step(*args)

        self.rooms.add(snapshot.id, in_its_lane, reference)

    async def _post_draft(self, draft: Draft, look_first: bool) -> None:
        """Post a claimed draft and record where; `look_first` when an earlier attempt may
        have posted it already (its answer lost, or its poster gone before recording)."""
        ts = await self.updates.post_draft_message(draft, look_first=look_first)
        self._unrecorded.append((draft.id, ts))
        if self._recording is None or self._recording.done():
            self._recording = asyncio.create_task(self._record_posted())
        await asyncio.shield(self._recording)  # one lane giving up does not stop the others'

    async def _record_posted(self) -> None:
        """Drafts posted at about the same time are recorded together, in one transaction:
        a thousand rooms falling due at once are not a thousand writes."""
        while self._unrecorded:
            posted, self._unrecorded = self._unrecorded, []
            await self._after_posting(posted)

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


def _name_of(work: Callable) -> str:
    """A job's name for its log lines: its own, or that of the claims a `hand_out` runs."""
    if isinstance(work, partial):
        return _name_of(work.args[0])
    return getattr(work, "__qualname__", "job")
