"""A small incident with every kind of timeline entry, told through the domain with a clock.

Used to check that the streamed export and review render exactly what the whole-list
rendering did (tests/data/golden/ holds that rendering, made before streaming existed).
"""

from __future__ import annotations

from bot.incidents import IncidentService
from bot.incidents.timeline import (
    KeyMarked,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    Timeline,
)
from bot.incidents.updates import UpdateDesk

ALICE, BOB, CAROL, DAVE = "UALICE0001", "UBOB000001", "UCAROL0001", "UDAVE00001"
NAMES = {ALICE: "alice", BOB: "bob", CAROL: "carol", DAVE: "dave"}


def message_ts(n: int) -> str:
    return f"1795338{n:03d}.000100"


async def tell_story(service: IncidentService, desk: UpdateDesk, timeline: Timeline, clock):
    """Declare, talk (threads, files, edits, a delete, pins, mentions), hand over, re-rate,
    update, reopen and resolve. Carol changes the status before she takes command: the
    service must count her among its incident admins. Returns the incident's ID; 40 visible entries, several with
    the same second (ordered by ID), so pages of 7 split inside runs of equal times."""
    incident = (await service.declare(title="Checkout down", declared_by=ALICE, severity="SEV2")).id
    await service.attach_channel(incident, "C0001", "inc-checkout")
    await service.assign(incident, "comms", BOB, by=ALICE)
    for n in range(30):
        if n % 4 == 0:
            clock.advance(minutes=1)
        said = f"step {n}: looking at <@{BOB}|bob>'s graph" if n % 5 == 0 else f"step {n}"
        await timeline.record(
            MessagePosted(
                f"Ev{n}",
                incident,
                message_ts(n),
                clock.now,
                CAROL if n % 2 else DAVE,
                said + ("\nsecond line" if n % 7 == 0 else ""),
                thread_ts=message_ts(n - 1) if n % 6 == 5 else None,
                files=["graph.png"] if n % 9 == 4 else [],
                permalink=f"https://example.slack.com/archives/C0001/p{n}" if n % 3 else None,
            )
        )
    await timeline.record(
        MessageEdited("EvE", incident, message_ts(3), clock.now, "step 3, edited", clock.now)
    )
    await timeline.record(MessageDeleted("EvD", incident, message_ts(8)))
    await timeline.record(KeyMarked("EvK1", incident, message_ts(10), CAROL, added=True))
    await timeline.add_note(incident, ALICE, "Rolling back | cart 4.2")
    clock.advance(minutes=3)
    await service.set_severity(incident, "SEV1", by=ALICE)
    await service.set_status(incident, "identified", by=CAROL, note="Bad deploy")
    await desk.ask(incident, DAVE, "Is payments affected?")
    clock.advance(minutes=20)
    draft, _ = await desk.draft_now(incident)
    await desk.start_sending(draft.id, BOB)
    await desk.sent(draft.id, "1795339200.000100")
    clock.advance(minutes=5)
    await service.assign(incident, "commander", CAROL, by=ALICE)
    await service.set_status(incident, "monitoring", by=CAROL, note="Rolled back")
    clock.advance(minutes=40)
    await service.resolve(incident, by=CAROL, summary="Rolled back to 4.1")
    clock.advance(minutes=5)
    await service.set_status(incident, "identified", by=CAROL)  # reopened
    clock.advance(minutes=10)
    await service.resolve(incident, by=CAROL, summary="Rolled back to 4.1 for good")
    return incident
