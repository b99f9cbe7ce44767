"""Documents written by a worker process from the streamed log: the same bytes as the
whole-list rendering (tests/data/golden, made before streaming), in pages of any size."""

import asyncio
import multiprocessing
from datetime import UTC
from functools import partial
from pathlib import Path

import pytest

from bot.documents import Documents
from bot.incidents import IncidentService
from bot.incidents.permissions import IncidentPermissions
from bot.incidents.review import gather_review
from bot.incidents.timeline import PageTurn, Timeline, TimelinePage
from bot.incidents.updates import UpdateDesk
from bot.playbooks import load_playbooks
from bot.render.readers import Readers
from bot.simulator import wait_for
from bot.slack.text import mentioned, plain_text
from bot.store import Database
from tests.incidents.test_updates import Clock
from tests.story import ALICE, BOB, CAROL, DAVE, NAMES, tell_story

GOLDEN = Path(__file__).parent / "data" / "golden"
READERS = Readers(UTC, NAMES, partial(plain_text, names=NAMES))


@pytest.fixture
async def story(database_url):
    clock = Clock()  # 09:00 UTC
    db = Database(database_url)
    await db.upgrade_schema()
    # Carol, the MIM duty manager, steers before she takes command: an incident admin.
    admins = IncidentPermissions(frozenset({CAROL}))
    service = IncidentService(db, load_playbooks(Path("playbooks")), clock, permissions=admins)
    timeline = Timeline(db, clock)
    incident = await tell_story(service, UpdateDesk(db, service, clock), timeline, clock)
    yield service, timeline, incident, clock
    await db.dispose()


@pytest.mark.parametrize("page_size", [7, 40, 2000])  # pages split runs of equal times
async def test_export_and_review_stream_into_the_whole_list_rendering(story, page_size):
    service, _, incident, clock = story
    async with Documents(service.db.url, page_size=page_size).worker() as worker:
        exported = await worker.timeline(await service.get(incident), READERS)
        record = await gather_review(service, incident)
        reviewed = await worker.review(record, READERS, clock.now)
    try:
        assert exported.read_bytes() == (GOLDEN / "timeline.md").read_bytes()
        assert reviewed.read_bytes() == (GOLDEN / "review.md").read_bytes()
    finally:
        exported.unlink()
        reviewed.unlink()


async def test_people_named_in_the_timeline_are_found_across_pages(story):
    service, _, incident, _ = story
    async with Documents(service.db.url, page_size=7).worker() as worker:
        people = await worker.people(incident, mentioned)
    assert people == {ALICE, BOB, CAROL, DAVE}


async def test_a_deep_page_starts_where_the_one_before_ended(story):
    _, timeline, incident, _ = story
    everything = await timeline.entries(incident)
    assert len(everything) == 40
    pages = [await timeline.page(incident, number, 7) for number in range(1, 7)]
    assert [(p.has_earlier, p.has_later) for p in pages] == [(n > 0, n < 5) for n in range(6)]
    assert [e.id for p in pages for e in p.entries] == [e.id for e in everything]
    fourth = await timeline.page(incident, 4, 7)  # found from the far end: past the middle
    assert [e.id for e in fourth.entries] == [e.id for e in everything[21:28]]
    assert (await timeline.page(incident, 99, 7)).entries == pages[-1].entries


def later(page: TimelinePage) -> PageTurn:
    return PageTurn(page.number + 1, page.entries[-1].at, page.entries[-1].id, later=True)


def earlier(page: TimelinePage) -> PageTurn:
    return PageTurn(page.number - 1, page.entries[0].at, page.entries[0].id, later=False)


async def test_turning_pages_seeks_from_the_page_in_hand_both_ways(story):
    """Runs of equal times split across pages: (at, id) places each entry exactly."""
    _, timeline, incident, _ = story
    everything = [e.id for e in await timeline.entries(incident)]
    forward = [await timeline.page(incident, 1, 7)]
    while forward[-1].has_later:
        forward.append(await timeline.turn(incident, later(forward[-1]), 7))
    assert [p.number for p in forward] == [1, 2, 3, 4, 5, 6]
    assert [e.id for p in forward for e in p.entries] == everything
    assert forward[-1].entries[-1].id == everything[-1] and forward[-1].has_earlier

    back = [forward[-1]]
    while back[-1].has_earlier:
        back.append(await timeline.turn(incident, earlier(back[-1]), 7))
    assert [p.number for p in back] == [6, 5, 4, 3, 2, 1]
    # Turning back from the short last page: full pages of 7 ending where it began.
    assert [e.id for e in back[1].entries] == everything[28:35]
    assert back[-1] == forward[0]  # back at the start: page 1 as read from the start


async def test_turning_where_entries_have_gone_lands_on_a_page_that_exists(story):
    _, timeline, incident, _ = story
    everything = await timeline.entries(incident)
    beyond = PageTurn(9, everything[-1].at, everything[-1].id, later=True)
    last = await timeline.turn(incident, beyond, 7)  # nothing after: the last page instead
    assert [e.id for e in last.entries] == [e.id for e in everything[-7:]]
    assert (last.has_earlier, last.has_later) == (True, False)
    before = PageTurn(3, everything[3].at, everything[3].id, later=False)
    first = await timeline.turn(incident, before, 7)  # fewer than a page before: page 1
    assert (first.number, first.has_earlier) == (1, False)
    assert [e.id for e in first.entries] == [e.id for e in everything[:7]]


async def test_a_cancelled_document_leaves_no_file_behind(story, tmp_path):
    """Cancelled while the worker writes (a shutdown, a timeout): the file goes at once,
    and the worker, still running, cannot make it again."""
    written = tmp_path / "documents"
    written.mkdir()
    service, _, incident, _ = story
    documents = Documents(service.db.url, directory=str(written))
    snapshot = await service.get(incident)

    async def export() -> Path:
        async with documents.worker() as worker:
            return await worker.timeline(snapshot, READERS)

    job = asyncio.create_task(export())
    await wait_for(lambda: list(written.iterdir()), what="the document's file")
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert list(written.iterdir()) == []
    # The worker process goes on to the end of its job, then exits: still nothing there.
    await wait_for(lambda: not multiprocessing.active_children(), timeout=60, what="exit")
    assert list(written.iterdir()) == []

    finished = await export()  # the next document is written as ever
    assert finished.parent == written
    assert finished.read_bytes() == (GOLDEN / "timeline.md").read_bytes()
    finished.unlink()
