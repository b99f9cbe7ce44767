"""The numbers, checked one by one against a history told through the domain with a clock.

Worked out by hand (times UTC; the query runs on 2026-11-22 at 12:00):

INC-1 default SEV1, 2026-10-13 12:00 (in 90 days, not in 30): identified +30m, resolved
      +3h, no update sent: silent 3h against a 30m cadence.
INC-2 default SEV1, 11-10 10:00: identified +10m, update +20m (on time), monitoring +30m,
      update +60m (40m after the first: late), resolved +75m. Silences 20m, 40m, 15m.
INC-3 default SEV2, 11-12 09:00, raised to SEV1 at +5m (under-escalated; cadence now 30m):
      identified +20m, updates +25m and +50m (both on time), monitoring +60m, resolved
      +95m. Silences 25m, 25m, 45m.
INC-4 default SEV1, 11-15 14:00: identified +20m, downgraded to SEV3 at +30m
      (over-escalated; minor, no updates: not reckoned), resolved +60m.
INC-5 security-breach SEV1 (private), 11-18 08:00: identified +30m, an update skipped at
      +40m (the silence goes on), update +2h (late), monitoring +2h30m, resolved +3h.
      Silences 2h, 1h.
INC-6 default SEV3, 11-21 16:00: still investigating.
INC-7 a drill (default SEV3), 11-20 10:00: identified +5m, still open: in no number.

Action items (overdue from the day after their due date):
INC-1: due 10-20, open (overdue). INC-2: due 11-20, open (overdue); due 11-30, open.
INC-3: due 11-01, done. INC-5: no due date, open; due 11-21, open (overdue from 11-22
00:00); due 11-22, open (not yet). INC-7, the drill: due 11-01, open.

30 days (INC-2..6): 5 incidents; SEV1 3 (INC-2, 3, 5), SEV3 2 (INC-4, 6); default 4,
(private) 1. Identify [10, 20, 20, 30]m: median 20m, p90 30m. Mitigate [30, 60,
150]m: median 1h, p90 2h30m. Resolve [60, 75, 95, 180]m: median 85m, p90 3h. Updates 5
sent, 3 on time; longest silence 2h, in the private INC-5 (not named). First update [20,
25, 120]m: median 25m, p90 2h. 1 downgraded (INC-4), 1 raised (INC-3). Action items: 5
open (INC-2 two, INC-5 three), 2 overdue (INC-2's due 11-20, INC-5's due 11-21).
90 days add INC-1: 6 incidents, SEV1 4, default 5. Identify [10, 20, 20, 30, 30]m: median
20m, p90 30m. Resolve [60, 75, 95, 180, 180]m: median 95m, p90 3h. Longest silence 3h in
INC-1. Action items: 6 open, 3 overdue.
"""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.incidents import IncidentService, InvalidRequest
from bot.incidents.actions import ActionItems
from bot.incidents.drills import DrillSetup
from bot.incidents.stats import Spread, gather_numbers, parse_window
from bot.incidents.updates import UpdateDesk
from bot.playbooks import load_playbooks
from bot.render.stats import numbers_json, numbers_text
from bot.store import Database
from tests.incidents.test_updates import Clock

ALICE = "UALICE0001"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


class History:
    def __init__(self, service: IncidentService, desk: UpdateDesk, clock: Clock):
        self.service, self.desk, self.clock = service, desk, clock
        self.items = ActionItems(service)

    async def declare(
        self, at: datetime, severity: str, playbook: str = "default", drill: bool = False
    ) -> int:
        self.clock.now = at
        snapshot = await self.service.declare(
            title="Something broke",
            declared_by=ALICE,
            severity=severity,
            playbook=playbook,
            drill=DrillSetup(None) if drill else None,
        )
        self.declared = at
        return snapshot.id

    async def action(self, incident: int, due: date | None, done: bool = False) -> None:
        item = await self.items.add(incident, "Follow up", ALICE, owner=ALICE, due=due)
        if done:
            await self.items.mark_done(item.id, ALICE)

    def at(self, after: int) -> None:
        self.clock.now = self.declared + minutes(after)

    async def status(self, incident: int, after: int, status: str) -> None:
        self.at(after)
        await self.service.set_status(incident, status, by=ALICE)

    async def severity(self, incident: int, after: int, severity: str) -> None:
        self.at(after)
        await self.service.set_severity(incident, severity, by=ALICE)

    async def update(self, incident: int, after: int, skip: bool = False) -> None:
        self.at(after)
        draft, _ = await self.desk.draft_now(incident)
        if skip:
            await self.desk.skip(draft.id, ALICE, "nothing new")
            return
        await self.desk.start_sending(draft.id, ALICE)
        await self.desk.sent(draft.id, None)


@pytest.fixture
async def service(database_url):
    clock = Clock()
    db = Database(database_url)
    service = await seed_history(db, clock)
    yield service
    await db.dispose()


async def seed_history(db: Database, clock: Clock) -> IncidentService:
    """The history above in `db`; the clock left at NOW."""
    await db.upgrade_schema()
    service = IncidentService(db, load_playbooks(Path("playbooks")), clock)
    await tell_history(History(service, UpdateDesk(db, service, clock), clock))
    clock.now = NOW
    return service


async def tell_history(h: History) -> None:
    inc1 = await h.declare(datetime(2026, 10, 13, 12, 0, tzinfo=UTC), "SEV1")
    await h.status(inc1, 30, "identified")
    await h.status(inc1, 180, "resolved")
    inc2 = await h.declare(datetime(2026, 11, 10, 10, 0, tzinfo=UTC), "SEV1")
    await h.status(inc2, 10, "identified")
    await h.update(inc2, 20)
    await h.status(inc2, 30, "monitoring")
    await h.update(inc2, 60)
    await h.status(inc2, 75, "resolved")
    inc3 = await h.declare(datetime(2026, 11, 12, 9, 0, tzinfo=UTC), "SEV2")
    await h.severity(inc3, 5, "SEV1")
    await h.status(inc3, 20, "identified")
    await h.update(inc3, 25)
    await h.update(inc3, 50)
    await h.status(inc3, 60, "monitoring")
    await h.status(inc3, 95, "resolved")
    inc4 = await h.declare(datetime(2026, 11, 15, 14, 0, tzinfo=UTC), "SEV1")
    await h.status(inc4, 20, "identified")
    await h.severity(inc4, 30, "SEV3")
    await h.status(inc4, 60, "resolved")
    inc5 = await h.declare(datetime(2026, 11, 18, 8, 0, tzinfo=UTC), "SEV1", "security-breach")
    await h.status(inc5, 30, "identified")
    await h.update(inc5, 40, skip=True)
    await h.update(inc5, 120)
    await h.status(inc5, 150, "monitoring")
    await h.status(inc5, 180, "resolved")
    await h.declare(datetime(2026, 11, 21, 16, 0, tzinfo=UTC), "SEV3")
    drill = await h.declare(datetime(2026, 11, 20, 10, 0, tzinfo=UTC), "SEV3", drill=True)
    await h.status(drill, 5, "identified")
    await tell_action_items(h, inc1, inc2, inc3, inc5, drill)


async def tell_action_items(h: History, inc1, inc2, inc3, inc5, drill) -> None:
    await h.action(inc1, date(2026, 10, 20))
    await h.action(inc2, date(2026, 11, 20))
    await h.action(inc2, date(2026, 11, 30))
    await h.action(inc3, date(2026, 11, 1), done=True)
    await h.action(inc5, None)
    await h.action(inc5, date(2026, 11, 21))
    await h.action(inc5, date(2026, 11, 22))
    await h.action(drill, date(2026, 11, 1))


async def test_every_number_of_the_last_30_days(service):
    numbers = await gather_numbers(service, "30d")

    assert (numbers.since, numbers.until) == (NOW - timedelta(days=30), NOW)
    assert numbers.incidents == 5
    assert numbers.by_severity == {"SEV1": 3, "SEV3": 2}
    assert numbers.by_playbook == {"default": 4, "(private)": 1}
    assert numbers.to_identify == Spread(4, minutes(20), minutes(30))
    assert numbers.to_mitigate == Spread(3, minutes(60), minutes(150))
    assert numbers.to_resolve == Spread(4, minutes(85), minutes(180))
    assert (numbers.updates_sent, numbers.updates_on_time) == (5, 3)
    assert numbers.on_time_share == 0.6
    assert numbers.longest_silence == minutes(120)
    assert numbers.longest_silence_in is None  # INC-5 is private
    assert numbers.to_first_update == Spread(3, minutes(25), minutes(120))
    assert (numbers.downgraded, numbers.raised) == (1, 1)
    assert (numbers.action_items_open, numbers.action_items_overdue) == (5, 2)


async def test_every_number_of_the_last_90_days(service):
    numbers = await gather_numbers(service, "90d")

    assert numbers.incidents == 6
    assert numbers.by_severity == {"SEV1": 4, "SEV3": 2}
    assert numbers.by_playbook == {"default": 5, "(private)": 1}
    assert numbers.to_identify == Spread(5, minutes(20), minutes(30))
    assert numbers.to_mitigate == Spread(3, minutes(60), minutes(150))
    assert numbers.to_resolve == Spread(5, minutes(95), minutes(180))
    assert (numbers.updates_sent, numbers.updates_on_time) == (5, 3)
    assert (numbers.longest_silence, numbers.longest_silence_in) == (minutes(180), "INC-1")
    assert numbers.to_first_update == Spread(3, minutes(25), minutes(120))
    assert (numbers.downgraded, numbers.raised) == (1, 1)
    assert (numbers.action_items_open, numbers.action_items_overdue) == (6, 3)


async def test_the_numbers_read_as_text_without_naming_private_incidents(service):
    text = numbers_text(await gather_numbers(service, "30d"))

    assert "5 incidents declared in the last 30 days (since 2026-10-23)" in text
    assert "By severity: SEV1 3 · SEV3 2" in text
    assert "By playbook: (private) 1 · default 4" in text
    assert "Time to identify: median 20m, 90th percentile 30m (4 incidents)" in text
    assert "Time to mitigate: median 1h, 90th percentile 2h30m (3 incidents)" in text
    assert "Time to resolve: median 1h25m, 90th percentile 3h (4 incidents)" in text
    assert "Stakeholder updates on time: 3 of 5 (60%)" in text
    assert "Longest silence: 2h (a private incident)" in text
    assert "First update: median 25m, 90th percentile 2h after declaring (3 incidents)" in text
    assert "Re-rated after declaring: 1 downgraded (over-escalated), 1 raised" in text
    assert "Action items still open: 5, 2 of them overdue." in text
    assert "INC-5" not in text


async def test_the_numbers_for_machines(service):
    shown = numbers_json({"30d": await gather_numbers(service, "30d")})["30d"]

    assert shown == EXPECTED_30D_JSON


# The 30 days above as /status.json carries them (durations in seconds).
EXPECTED_30D_JSON = {
    "since": "2026-10-23T12:00:00+00:00",
    "until": "2026-11-22T12:00:00+00:00",
    "incidents": 5,
    "by_severity": {"SEV1": 3, "SEV3": 2},
    "by_playbook": {"default": 4, "(private)": 1},
    "time_to_identify": {"incidents": 4, "median_seconds": 1200.0, "p90_seconds": 1800.0},
    "time_to_mitigate": {"incidents": 3, "median_seconds": 3600.0, "p90_seconds": 9000.0},
    "time_to_resolve": {"incidents": 4, "median_seconds": 5100.0, "p90_seconds": 10800.0},
    "time_to_first_update": {"incidents": 3, "median_seconds": 1500.0, "p90_seconds": 7200.0},
    "updates_sent": 5,
    "updates_on_time": 3,
    "longest_silence_seconds": 7200.0,
    "longest_silence_in": None,
    "downgraded": 1,
    "raised": 1,
    "action_items_open": 5,
    "action_items_overdue": 2,
}


async def test_an_empty_window_and_a_bad_one(service):
    service.clock.now = NOW + timedelta(days=400)
    numbers = await gather_numbers(service, "365d")
    assert numbers.incidents == 0 and numbers.to_resolve == Spread(0, None, None)
    assert numbers.on_time_share is None and numbers.longest_silence is None
    assert (numbers.action_items_open, numbers.action_items_overdue) == (0, 0)
    assert "No incidents declared in the last 365 days" in numbers_text(numbers)
    assert parse_window(None) == "30d" and parse_window("90D") == "90d"
    with pytest.raises(InvalidRequest, match="30d, 90d, 365d"):
        parse_window("7d")
