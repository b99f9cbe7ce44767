"""Backfill after downtime: open war rooms × messages said while the bot was down, read
back from Slack's history at startup, with Slack answering each call in 100 ms and holding
conversations.history/replies to Tier 3 (50 calls a minute each).

Reports the time from startup until every timeline is complete, the history calls made
(and refused with 429), and the ack latency of live events sent meanwhile (one every
50 ms, to the rooms in turn). The fake Slack, the bot and the load share one process and
event loop, so the latencies are an upper bound.

    python bench/backfill.py [--rooms 50] [--messages 500] [--latency 0.1] [--tier3 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

from sqlalchemy import func
from sqlmodel import select

from bot.config import load_settings
from bot.server import start_on_loopback
from bot.simulator import FakeSlack, SlackClient, message_event
from bot.store.models import TimelineEntry

SECRET = "bench-secret"
PEOPLE = [f"UBENCH{n:04d}" for n in range(5)]


async def main(args: argparse.Namespace) -> None:
    fake = FakeSlack(latency=args.latency)
    for person in PEOPLE:
        fake.add_user(person, person.lower())
    await fake.start()
    with tempfile.TemporaryDirectory() as workdir:
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": fake.api_url,
                "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/incidents.db",
            }
        )
        rooms = await open_war_rooms(settings, fake, args.rooms)
        for n in range(args.messages):  # said while the bot is down
            for room in rooms:
                ts = fake.workspace.next_ts()
                said = message_event(room, PEOPLE[n % 5], f"Update {n}: p99 &gt; 2s", ts)
                fake.workspace.add_message(room, said)
        fake.rate_limits.per_minute.update(
            {"conversations.history": args.tier3, "conversations.replies": args.tier3}
        )
        await measure(settings, fake, rooms, args.rooms * args.messages)
    await fake.stop()


async def open_war_rooms(settings, fake: FakeSlack, count: int) -> list[str]:
    runner, runtime, _ = await start_on_loopback(settings)
    rooms = []
    for n in range(count):
        snapshot = await runtime.service.declare(
            title=f"Incident {n}", declared_by=PEOPLE[0], severity="SEV2"
        )
        room = fake.add_channel(f"inc-{n}", PEOPLE)
        await runtime.service.attach_channel(snapshot.id, room, f"inc-{n}")
        rooms.append(room)
    await runner.cleanup()
    return rooms


async def measure(settings, fake: FakeSlack, rooms: list[str], missed: int) -> None:
    started = time.perf_counter()
    runner, runtime, url = await start_on_loopback(settings)
    latencies: list[float] = []
    async with SlackClient(fake, url, SECRET) as slack:
        sent = 0
        while await stored(runtime) < missed + sent:
            room = rooms[sent % len(rooms)]
            event = message_event(room, PEOPLE[1], f"live {sent}", fake.workspace.next_ts())
            before = time.perf_counter()
            response = await slack.event(event)
            latencies.append(time.perf_counter() - before)
            assert response.status == 200
            sent += 1
            await asyncio.sleep(0.05)
    complete = time.perf_counter() - started
    calls = fake.calls_to("conversations.history") + fake.calls_to("conversations.replies")
    refused = fake.rate_limits.refused
    await runner.cleanup()
    latencies.sort()
    print(f"{len(rooms)} rooms × {missed // len(rooms)} messages missed")
    print(f"every timeline complete after {complete:.1f} s")
    print(f"history calls: {len(calls)} ({refused} answered 429 and retried)")
    print(
        f"live events meanwhile: {len(latencies)}, ack p50 "
        f"{statistics.median(latencies) * 1000:.1f} ms, p99 "
        f"{latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )


async def stored(runtime) -> int:
    async with runtime.db.snapshot_read() as session:
        query = select(func.count()).where(TimelineEntry.kind == "message")
        return (await session.exec(query)).one()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--tier3", type=int, default=50, help="calls a minute per method")
    asyncio.run(main(parser.parse_args()))
